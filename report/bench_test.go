package report

import (
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/certsleuth/certsleuth/analysis"
	scen "github.com/certsleuth/certsleuth/internal/scenario"
	"github.com/certsleuth/certsleuth/record"
)

// BenchmarkExplainScenario analyses the KB 940726 trace (origins, culprits,
// remedies) and renders it in each format.
func BenchmarkExplainScenario(b *testing.B) {
	sc := scen.List(b)[0]
	for _, f := range goldenFormats {
		b.Run(f.format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := analyzeScenario(b, sc)
				if err := Render(io.Discard, r, f.format, RenderOptions{Title: sc.Name}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReplayMemory analyses and renders a big trace in each format and
// reports the live heap after Analyze (live-MB) besides time and
// allocations. The trace is $CERTSLEUTH_BENCH_TRACE when set (see
// docs/analysis-memory.md), else the first scenario repeated 300 times.
func BenchmarkReplayMemory(b *testing.B) {
	var obs []*record.Observation
	opts := analysis.Options{}
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
		sc := scen.List(b)[0]
		obs = scen.Repeat(sc.Obs, 300)
		opts = analysis.Options{Roots: scen.Certs(b).Roots, Now: scen.Day}
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
				r := analysis.Analyze(obs, opts)
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
