package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"testing"

	"github.com/certsleuth/certsleuth/analysis"
	scen "github.com/certsleuth/certsleuth/internal/scenario"
)

// TestJSONSummaryStreamed holds writeJSONSummary equal to encoding
// JSONSummary whole, for every scenario and for a report with problems.
func TestJSONSummaryStreamed(t *testing.T) {
	for _, sc := range scen.List(t) {
		for _, problems := range [][]string{nil, {"trace.jsonl:3: bad JSON <&>"}} {
			t.Run(fmt.Sprintf("%s/%d", sc.Name, len(problems)), func(t *testing.T) {
				r := analyzeScenario(t, sc)
				r.Problems = problems
				cs := r.Culprits()
				sum := JSONSummary{Type: "summary", Observations: len(r.Items), Warnings: 3, Culprits: []int{}, Profiles: []string{"windows", "apple"}, Problems: problems, Explain: []JSONCulprit{}}
				for _, c := range cs {
					sum.Culprits = append(sum.Culprits, c.First.Index)
					sum.Explain = append(sum.Explain, JSONCulpritOf(c))
				}
				if len(cs) > 0 {
					sum.CertPlan = r.CertPlan()
				}
				if problems != nil { // the optional fields of a damaged, partly judged input
					sum.NotJudged = &analysis.Unjudged{Unseen: 2, Unreadable: 1, Unknown: 1, Refused: 1}
					sum.Skipped, sum.SkippedObservations = 1002, 1
				}
				if r.Origins != nil {
					sum.ExchangeVersion = r.Origins.Version
				}
				var want, got bytes.Buffer
				if err := json.NewEncoder(&want).Encode(sum); err != nil {
					t.Fatal(err)
				}
				same := func(c *analysis.Culprit) *analysis.Culprit { return c }
				if err := writeJSONSummary(&got, &sum, cs, same, nil); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("streamed summary differs\n got: %s\nwant: %s", got.String(), want.String())
				}
				// Explained while written, as renderJSON does.
				got.Reset()
				var plans iter.Seq[analysis.ServerPlan] // made while written, as JSONWriter.Finish does
				if len(cs) > 0 {
					plans = r.EachCertPlan()
				}
				if err := writeJSONSummary(&got, &sum, r.Causes(), r.Explain, plans); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("summary explained while written differs\n got: %s\nwant: %s", got.String(), want.String())
				}
				// Explained without loading the examples, as JSONWriter.Finish does.
				got.Reset()
				if len(cs) > 0 {
					plans = r.EachCertPlan()
				}
				if err := writeJSONSummary(&got, &sum, r.Causes(), r.ExplainBrief, plans); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("summary explained briefly differs\n got: %s\nwant: %s", got.String(), want.String())
				}
			})
		}
	}
}
