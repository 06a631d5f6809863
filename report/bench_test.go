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

// benchTrace is the trace the benchmarks analyse and the options for it:
// $CERTSLEUTH_BENCH_TRACE when set, else the first scenario repeated 300
// times.
func benchTrace(b *testing.B) ([]*record.Observation, analysis.Options) {
	if p := os.Getenv("CERTSLEUTH_BENCH_TRACE"); p != "" {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		obs, _, err := record.ReadAll(f, p)
		if err != nil {
			b.Fatal(err)
		}
		return obs, analysis.Options{}
	}
	sc := scen.List(b)[0]
	return scen.Repeat(sc.Obs, 300), analysis.Options{Roots: scen.Certs(b).Roots, Now: scen.Day}
}

// BenchmarkReplayMemory analyses and renders a big trace in each format and
// reports the live heap after Analyze (live-MB) besides time and
// allocations. The trace is $CERTSLEUTH_BENCH_TRACE when set (see
// docs/analysis-memory.md), else the first scenario repeated 300 times.
func BenchmarkReplayMemory(b *testing.B) {
	obs, opts := benchTrace(b)
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

// BenchmarkJSONLines writes the JSON line of every item of a trace, as
// JSONWriter does, with its lineCache ("cached") and without ("encoded"),
// in turns (-count): $CERTSLEUTH_BENCH_TRACE when set, else the first
// scenario repeated 300 times. B/op is per line.
func BenchmarkJSONLines(b *testing.B) {
	obs, opts := benchTrace(b)
	r := analysis.Analyze(obs, opts)
	for _, cached := range []bool{true, false} {
		name := "encoded"
		if cached {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n, size := 0, 0
			for b.Loop() {
				var c *lineCache
				if cached {
					c = newLineCache()
				}
				var line []byte
				for _, it := range r.Items {
					j := JSONOf(it, r.Profiles)
					var err error
					if line, err = appendItemLine(line[:0], &j, c); err != nil {
						b.Fatal(err)
					}
					size += len(line)
				}
				n += len(r.Items)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/line")
			b.ReportMetric(float64(size)/float64(n), "bytes/line")
		})
	}
}
