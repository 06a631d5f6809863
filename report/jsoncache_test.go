package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/analysis"
)

// A finding's JSON comes from the cache only for the same strings and
// evidence at the same addresses: strings cut from one buffer (same
// address, other lengths) and equal texts elsewhere are each written as
// encoding/json writes them, however many times they come.
func TestLineCacheIdentity(t *testing.T) {
	text := strings.Repeat("the certificate <is> for mail.contoso.com & owa ", 4)
	ev := []analysis.Evidence{{Label: "SAN", Value: text[:20]}}
	var fs []analysis.Finding
	for n := 1; n < len(text); n += 17 {
		fs = append(fs, analysis.Finding{ID: "name.mismatch", Severity: analysis.SeverityError, Profile: "windows", Summary: text[:n], Evidence: ev[:1]},
			analysis.Finding{ID: "name.mismatch", Severity: analysis.SeverityError, Profile: "windows", Summary: strings.Clone(text[:n]), Evidence: ev[:0]},
			analysis.Finding{ID: "name.mismatch", Severity: analysis.SeverityError, Profile: "windows", Summary: text[:n], Why: text[n:]})
	}
	c := newLineCache()
	for pass := range 3 {
		for i := range fs {
			want, err := json.Marshal(&fs[i])
			if err != nil {
				t.Fatal(err)
			}
			if got := c.appendFinding(nil, &fs[i]); string(got) != string(want) {
				t.Errorf("pass %d, finding %d:\n got: %s\nwant: %s", pass, i, got, want)
			}
		}
	}
}

// encCache keeps at most two generations of n keys, gives a key's JSON
// only for that key (not another of the same hash), and keeps a key the
// second time it is seen (first: the first time).
func TestEncCache(t *testing.T) {
	c := encCache[int]{n: 4}
	if enc, keep := c.get(1, 10); enc != nil || keep {
		t.Fatalf("first sight: %q, keep %v; want nothing, not kept", enc, keep)
	}
	if enc, keep := c.get(1, 10); enc != nil || !keep {
		t.Fatalf("second sight: %q, keep %v; want nothing, keep", enc, keep)
	}
	c.put(1, 10, []byte("ten"))
	if enc, _ := c.get(1, 10); string(enc) != "ten" {
		t.Errorf("kept: %q, want ten", enc)
	}
	if enc, keep := c.get(1, 11); enc != nil || keep {
		t.Errorf("another key of the same hash: %q, keep %v; want nothing", enc, keep)
	}
	f := encCache[int]{n: 4, first: true}
	for i := range 100 {
		if _, keep := f.get(uint64(i), i); !keep {
			t.Fatalf("first: key %d not to be kept", i)
		}
		f.put(uint64(i), i, []byte("x"))
		if n := len(f.kept) + len(f.keptOld); n > 8 {
			t.Fatalf("%d entries after %d keys; want at most 8", n, i+1)
		}
	}
	for i := 96; i < 100; i++ {
		if enc, _ := f.get(uint64(i), i); string(enc) != "x" {
			t.Errorf("recent key %d: %q", i, enc)
		}
	}
}
