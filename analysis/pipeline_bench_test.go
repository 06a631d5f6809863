package analysis

import (
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// BenchmarkPipeline streams a trace through a Pipeline whose sink drops
// every item, as `certsleuth replay` streams it to the JSON renderer, and
// reports the largest live heap seen (peak-live-MB: runtime.GC and
// HeapAlloc every 10,000 observations and at the end) besides time and
// allocations. The trace is $CERTSLEUTH_BENCH_TRACE when set (see
// docs/analysis-memory.md), read as it is analysed, else the first
// scenario repeated 3,000 times (30,000 observations).
func BenchmarkPipeline(b *testing.B) {
	next := func(b *testing.B) (func() (*record.Observation, error), Options) {
		if p := os.Getenv("CERTSLEUTH_BENCH_TRACE"); p != "" {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { f.Close() })
			rd := record.NewReader(f, p)
			return rd.Next, Options{}
		}
		sc := scenarioList(b)[0]
		obs := repeatedTrace(sc, 3000)
		i := 0
		return func() (*record.Observation, error) {
			if i == len(obs) {
				return nil, io.EOF
			}
			i++
			return obs[i-1], nil
		}, Options{Roots: scenarioCerts(b).roots, Now: scenarioDay}
	}
	b.ReportAllocs()
	var peak uint64
	var st memoStats
	for b.Loop() {
		b.StopTimer()
		read, opts := next(b)
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		b.StartTimer()
		p := NewPipeline(opts, Discard)
		n := 0
		for {
			o, err := read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			p.Add(o)
			if n++; n%10000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc-base)
			}
		}
		r, _ := p.Close()
		st = p.stats
		for _, c := range r.Causes() {
			_ = r.Explain(c).Verdict // one at a time, as the JSON summary does
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc-base)
		runtime.KeepAlive(r)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-MB")
	reportMemoStats(b, st)
}

// reportMemoStats reports how often the judge's memos hit (the last
// run's).
func reportMemoStats(b *testing.B, st memoStats) {
	hit := func(h, m int) float64 { return 100 * float64(h) / float64(max(h+m, 1)) }
	b.ReportMetric(hit(st.trustHit, st.trustMiss), "trust-hit-%")
	b.ReportMetric(hit(st.memoHit, st.memoMiss), "judged-hit-%")
	b.ReportMetric(hit(st.runsHit, st.runsMiss), "chain-runs-hit-%")
	b.ReportMetric(hit(st.sumHit, st.sumMiss), "summaries-hit-%")
	b.ReportMetric(hit(st.verHit, st.verMiss), "verdicts-hit-%")
}
