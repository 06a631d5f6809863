package report

import (
	"strings"
	"testing"

	scen "github.com/certsleuth/certsleuth/internal/scenario"
)

// TestScenarioReports: each scenario's text report says what it must (the
// fix commands, the origin) and nothing it must not; with every
// observation, it says that and what the list adds.
func TestScenarioReports(t *testing.T) {
	for _, sc := range scen.List(t) {
		t.Run(sc.Name, func(t *testing.T) {
			r := analyzeScenario(t, sc)
			var b strings.Builder
			if err := Render(&b, r, "text", RenderOptions{Title: sc.Name}); err != nil {
				t.Fatal(err)
			}
			flat := strings.Join(strings.Fields(b.String()), " ")
			for _, w := range sc.Want {
				if !strings.Contains(flat, w) {
					t.Errorf("text report lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range sc.Absent {
				if strings.Contains(flat, w) {
					t.Errorf("text report says %q:\n%s", w, b.String())
				}
			}
			b.Reset()
			if err := Render(&b, r, "text", RenderOptions{Title: sc.Name, All: true}); err != nil {
				t.Fatal(err)
			}
			all := strings.Join(strings.Fields(b.String()), " ")
			for _, w := range append(sc.Want, sc.WantAll...) {
				if !strings.Contains(all, w) {
					t.Errorf("text report with All lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}
