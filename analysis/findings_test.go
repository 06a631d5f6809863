package analysis

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzHasProfile holds hasProfile to the test MergeFindings made before
// it: strings.Contains(", "+list+", ", ", "+p+", ").
func FuzzHasProfile(f *testing.F) {
	for _, s := range [][2]string{{"windows", "windows"}, {"windows, apple", "apple"}, {"windows, apple", "app"}, {"a,b", "b"},
		{"", ""}, {"a, , b", ""}, {"a, b, c", "a, b"}, {"a, b", "b, c"}, {", ", ""}, {"windows", "windows, "}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, list, p string) {
		if got, want := hasProfile(list, p), strings.Contains(", "+list+", ", ", "+p+", "); got != want {
			t.Errorf("hasProfile(%q, %q) = %v, want %v", list, p, got, want)
		}
	})
}

// mergeFindingsJoined is MergeFindings as it was before it joined each
// ID's profiles once (b3464c9 and before): the reference the test holds
// it to.
func mergeFindingsJoined(fs []Finding, min Severity) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Severity.rank() < min.rank() {
			continue
		}
		i := slices.IndexFunc(out, func(o Finding) bool { return o.ID == f.ID })
		if i >= 0 {
			if out[i].Profile != AllProfiles && f.Profile != AllProfiles && !strings.Contains(", "+out[i].Profile+", ", ", "+f.Profile+", ") {
				out[i].Profile += ", " + f.Profile
			}
			continue
		}
		out = append(out, f)
	}
	return out
}

// FuzzMergeFindings holds MergeFindings to mergeFindingsJoined: the same
// findings, in the same order, with the same profile lists, for lists of
// findings drawn from a few IDs, severities and profiles (lists of
// profiles, "all" and empty ones among them); and its slice full.
func FuzzMergeFindings(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(0))
	f.Add([]byte{0x11, 0x21, 0x31, 0x41, 0x51, 0x61, 0x71, 0x81, 0x91, 0xa1, 0xb1}, uint8(1))
	f.Add([]byte{0x12, 0x22, 0x32, 0x13, 0x23, 0x37, 0x47, 0x57, 0x67, 0x77}, uint8(2))
	ids := []string{"name.mismatch", "chain.intermediate-missing", "cert.encrypted", "tls.no-sni"}
	sevs := []Severity{SeverityError, SeverityWarning, SeverityInfo, "odd"}
	profiles := []string{"windows", "apple", "chromium", "openssl", "go", AllProfiles, "", "windows, apple", "apple, go", "win", ", ", "rfc9525", "android", "curl", "python", "chromium, windows"}
	f.Fuzz(func(t *testing.T, code []byte, min uint8) {
		if len(code) > 64 {
			code = code[:64]
		}
		var fs []Finding
		for i, c := range code {
			fs = append(fs, Finding{ID: ids[c&3], Severity: sevs[(c>>2)&3], Profile: profiles[c>>4], Summary: fmt.Sprint(i)})
		}
		m := sevs[min&3]
		got, want := MergeFindings(fs, m), mergeFindingsJoined(fs, m)
		if !slices.EqualFunc(got, want, func(a, b Finding) bool { return a.Equal(&b) }) || (got == nil) != (want == nil) || cap(got) != len(got) {
			t.Fatalf("MergeFindings(%v, %s) =\n%v, want\n%v", fs, m, got, want)
		}
	})
}
