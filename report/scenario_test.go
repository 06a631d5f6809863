package report

import (
	"strings"
	"testing"

	scen "github.com/certsleuth/certsleuth/internal/scenario"
)

// TestScenarioReports: each scenario's text report says what it must (the
// fix commands, the origin) and nothing it must not.
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
		})
	}
}
