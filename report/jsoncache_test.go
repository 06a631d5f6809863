package report

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"strings"
	"testing"
	"unsafe"

	"github.com/certsleuth/certsleuth/analysis"
)

// A finding's JSON comes from the cache only for an equal finding:
// strings cut from one buffer (same address, other lengths), equal texts
// elsewhere, nil and empty evidence, are each written as encoding/json
// writes them, however many times they come.
func TestLineCacheFindings(t *testing.T) {
	text := strings.Repeat("the certificate <is> for mail.contoso.com & owa ", 4)
	ev := []analysis.Evidence{{Label: "SAN", Value: text[:20]}}
	var fs []analysis.Finding
	for n := 1; n < len(text); n += 17 {
		fs = append(fs, analysis.Finding{ID: "name.mismatch", Severity: analysis.SeverityError, Profile: "windows", Summary: text[:n], Evidence: ev[:1]},
			analysis.Finding{ID: "name.mismatch", Severity: analysis.SeverityError, Profile: "windows", Summary: strings.Clone(text[:n]), Evidence: ev[:0]},
			analysis.Finding{ID: "name.mismatch", Severity: analysis.SeverityError, Profile: "windows", Summary: text[:n]},
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

// encCache keeps a finding the second time it is seen, as its own copy
// (not the caller's strings), gives its JSON only for an equal finding
// (not another of the same hash), and keeps at most two generations of n.
func TestEncCache(t *testing.T) {
	c := newEncCache(4, maphash.MakeSeed())
	f := analysis.Finding{ID: "a", Summary: strings.Repeat("s", 40), Evidence: []analysis.Evidence{{Label: "l"}}}
	if enc, keep := c.get(1, &f); enc != nil || keep {
		t.Fatalf("first sight: %q, keep %v; want nothing, not kept", enc, keep)
	}
	if enc, keep := c.get(1, &f); enc != nil || !keep {
		t.Fatalf("second sight: %q, keep %v; want nothing, keep", enc, keep)
	}
	c.put(1, &f, []byte("one"))
	if enc, _ := c.get(1, &f); string(enc) != "one" {
		t.Errorf("kept: %q, want one", enc)
	}
	if e, _ := c.kept.Get(1); unsafe.StringData(e.f.Summary) == unsafe.StringData(f.Summary) || &e.f.Evidence[0] == &f.Evidence[0] {
		t.Errorf("the cache keeps the caller's strings or evidence")
	}
	for _, g := range []analysis.Finding{{ID: "a", Summary: f.Summary}, {ID: "a", Summary: f.Summary, Evidence: []analysis.Evidence{}}, {ID: "b", Summary: f.Summary, Evidence: f.Evidence}} {
		if enc, _ := c.get(1, &g); enc != nil {
			t.Errorf("%+v, another finding of the same hash: %q; want nothing", g, enc)
		}
	}
	for i := range 100 {
		g := analysis.Finding{ID: fmt.Sprint(i)}
		c.get(uint64(i+10), &g)
		c.put(uint64(i+10), &g, []byte("x"))
		if n := c.kept.Len(); n > 8 {
			t.Fatalf("%d entries after %d findings; want at most 8", n, i+1)
		}
	}
}

// strMemo writes each string as appendJSONString does, whether written
// before (copied), cut from the same bytes at another length, or evicted
// among more than its 8 entries.
func TestStrMemo(t *testing.T) {
	text := "mail.contoso.com <&> is in the certificate's \"SAN\" \u2028 and more words"
	var ss []string
	for n := 8; n <= len(text); n += 5 {
		ss = append(ss, text[:n], text[len(text)-n:])
	}
	ss = append(ss, "short", "", text, strings.Clone(text))
	var m strMemo
	var got, want []byte
	for pass := range 3 {
		for i, s := range ss {
			got = m.appendField(got, `,"k":`, s)
			want = appendJSONString(append(want, `,"k":`...), s)
			if string(got) != string(want) {
				t.Fatalf("pass %d, string %d (%q): the line differs\n got: %s\nwant: %s", pass, i, s, got, want)
			}
		}
	}
}
