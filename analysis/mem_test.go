package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// TestJSONSummaryStreamed holds writeJSONSummary equal to encoding
// JSONSummary whole, for every scenario and for a report with problems.
func TestJSONSummaryStreamed(t *testing.T) {
	for _, sc := range scenarioList(t) {
		for _, problems := range [][]string{nil, {"trace.jsonl:3: bad JSON <&>"}} {
			t.Run(fmt.Sprintf("%s/%d", sc.name, len(problems)), func(t *testing.T) {
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
					sum.NotJudged = &Unjudged{Unseen: 2, Unreadable: 1, Unknown: 1, Refused: 1}
					sum.Skipped, sum.SkippedObservations = 1002, 1
				}
				if r.Origins != nil {
					sum.ExchangeVersion = r.Origins.Version
				}
				var want, got bytes.Buffer
				if err := json.NewEncoder(&want).Encode(sum); err != nil {
					t.Fatal(err)
				}
				if err := writeJSONSummary(&got, &sum, cs, nil); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("streamed summary differs\n got: %s\nwant: %s", got.String(), want.String())
				}
				// Explained while written, as renderJSON does.
				got.Reset()
				if err := writeJSONSummary(&got, &sum, r.culpritGroups(), r); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("summary explained while written differs\n got: %s\nwant: %s", got.String(), want.String())
				}
			})
		}
	}
}

// repeatedTrace is sc's observations n times over, each copy an hour
// later: a big trace in which most connections repeat earlier ones.
func repeatedTrace(sc scenario, n int) []*record.Observation {
	var out []*record.Observation
	for k := 0; k < n; k++ {
		for _, o := range sc.obs {
			c := *o
			c.Time = o.Time.Add(time.Duration(k) * time.Hour)
			out = append(out, &c)
		}
	}
	return out
}

// TestAnalyzeSharesRepeats checks that items with the same chain, name
// and findings share one copy of each, and that the shared slices are
// full, so an append to one item's findings never shows in another's.
func TestAnalyzeSharesRepeats(t *testing.T) {
	sc := scenarioList(t)[0]
	obs := repeatedTrace(sc, 2)
	ps, err := match.SelectProfiles(sc.profiles)
	if err != nil {
		t.Fatal(err)
	}
	r := Analyze(obs, Options{Profiles: ps, Roots: scenarioCerts(t).roots, Now: scenarioDay})
	n := len(sc.obs)
	shared := 0
	for i := 0; i < n; i++ {
		a, b := r.Items[i], r.Items[i+n]
		if len(a.Chain) > 0 && &a.Chain[0] != &b.Chain[0] {
			t.Errorf("#%d and #%d: the same chain described twice", a.Index, b.Index)
		}
		if len(a.Verdicts) > 0 && &a.Verdicts[0] != &b.Verdicts[0] {
			t.Errorf("#%d and #%d: the same leaf and name matched twice", a.Index, b.Index)
		}
		if len(a.Findings) > 0 && len(a.Findings) == len(b.Findings) && &a.Findings[0] == &b.Findings[0] {
			shared++
			if cap(a.Findings) != len(a.Findings) {
				t.Errorf("#%d: shared findings have room to append (cap %d, len %d)", a.Index, cap(a.Findings), len(a.Findings))
			}
			_ = append(a.Findings, Finding{ID: "test.appended"})
			for _, f := range b.Findings[:cap(b.Findings)] {
				if f.ID == "test.appended" {
					t.Errorf("#%d: an append to #%d's findings showed in it", b.Index, a.Index)
				}
			}
		}
	}
	if shared == 0 {
		t.Errorf("no findings shared between the two copies of %s", sc.name)
	}
}

// BenchmarkReplayMemory analyses and renders a big trace in each format and
// reports the live heap after Analyze (live-MB) besides time and
// allocations. The trace is $CERTSLEUTH_BENCH_TRACE when set (see
// docs/analysis-memory.md), else the first scenario repeated 300 times.
func BenchmarkReplayMemory(b *testing.B) {
	var obs []*record.Observation
	opts := Options{}
	if p := os.Getenv("CERTSLEUTH_BENCH_TRACE"); p != "" {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		obs, _, err = record.ReadAll(f, p)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	} else {
		sc := scenarioList(b)[0]
		obs = repeatedTrace(sc, 300)
		opts = Options{Roots: scenarioCerts(b).roots, Now: scenarioDay}
	}
	for _, f := range goldenFormats {
		b.Run(f.format, func(b *testing.B) {
			b.ReportAllocs()
			var live uint64
			for b.Loop() {
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				base := ms.HeapAlloc
				r := Analyze(obs, opts)
				runtime.GC()
				runtime.ReadMemStats(&ms)
				live = ms.HeapAlloc - base
				if err := Render(io.Discard, r, f.format, RenderOptions{Title: "bench"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(live)/(1<<20), "live-MB")
		})
	}
}
