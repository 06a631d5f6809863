package analysis

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkJudge is the pipeline's judge stage alone: every observation
// of a trace, read into memory first, judged in order by one judger as
// Pipeline.judgeStage judges them (a new certificate cache each run), the
// items dropped. An op is the whole trace; B/op is what judging it
// allocated; cpu-s/op the CPU time of the process meanwhile (every
// thread: the collector's too; 0 where not measured). caches-live-MB is what the judger holds at the end of the
// trace (runtime.GC and HeapAlloc with the judger, then without it): its memos, sharing tables and
// certificate cache. The trace is $CERTSLEUTH_BENCH_TRACE when set (its
// observations name their chains by ID, as `certsleuth pcap`'s do since
// f51a5c6; CERTSLEUTH_BENCH_NOCHAINID=1 clears them, as a proxy's live
// observations carry none), else the first scenario repeated 3,000 times:
//
//	CERTSLEUTH_BENCH_TRACE=hs.trace.jsonl go test ./analysis -run '^$' -bench BenchmarkJudge -benchtime 5x
func BenchmarkJudge(b *testing.B) {
	obs, opts := benchObservations(b)
	b.ReportAllocs()
	var st memoStats
	var live uint64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		var ms runtime.MemStats
		b.StartTimer()
		c0 := processCPU()
		j := newJudger(opts.withDefaults())
		j.sh.light = true // as a streaming Pipeline's
		for i, o := range obs {
			_ = j.item(i+1, o)
		}
		cpu += processCPU() - c0
		b.StopTimer()
		st = j.stats
		st.sumHit, st.sumMiss = j.sh.summaryHit, j.sh.summaryMiss
		st.verHit, st.verMiss = j.sh.verdictHit, j.sh.verdictMiss
		runtime.GC()
		runtime.ReadMemStats(&ms)
		held := ms.HeapAlloc
		runtime.KeepAlive(j)
		j = nil
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if held > ms.HeapAlloc {
			live = held - ms.HeapAlloc
		}
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(live)/(1<<20), "caches-live-MB")
	reportMemoStats(b, st)
}
