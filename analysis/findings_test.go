package analysis

import (
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
