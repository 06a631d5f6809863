package analysis

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// BenchmarkCauses groups the judged items of a trace into causes as a
// streaming pipeline does (the causes' requests in the detail store's
// file from the first) and explains every cause as the JSON summary does
// (ExplainAhead, without examples). It reports the CPU time of it
// (cpu-s/op: every thread, the collector's too), the bytes the store
// wrote (file-MB) and what the items and the causes allocated. The trace
// is $CERTSLEUTH_BENCH_TRACE when set, else the first scenario repeated
// 3,000 times:
//
//	CERTSLEUTH_BENCH_TRACE=hs.trace.jsonl go test ./analysis -run '^$' -bench BenchmarkCauses -benchtime 10x
func BenchmarkCauses(b *testing.B) {
	obs, opts := benchObservations(b)
	r := Analyze(obs, opts)
	b.ReportAllocs()
	var cpu time.Duration
	var size int64
	n := 0
	for b.Loop() {
		c0 := processCPU()
		a := newAggregate(r.Profiles, false)
		a.g.store.limit = 0
		for _, it := range r.Items {
			a.add(it)
		}
		rr := &Report{Profiles: r.Profiles, Origins: r.Origins, agg: a}
		cs := rr.Causes()
		explain, stop := rr.ExplainAhead(cs, false)
		for _, c := range cs {
			if x := explain(c); x.Verdict == "" {
				b.Fatalf("cause #%d without a verdict", c.Index)
			}
		}
		stop()
		cpu += processCPU() - c0
		size, n = a.g.store.size, len(cs)
		if err := rr.Close(); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("no causes")
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(size)/1e6, "file-MB")
	b.ReportMetric(float64(n), "causes")
}

// benchObservations is the trace the judge's and the causes' benchmarks
// read into memory first, and the options for it: $CERTSLEUTH_BENCH_TRACE
// when set (CERTSLEUTH_BENCH_NOCHAINID=1 clears its chain IDs, as a
// proxy's live observations carry none), else the first scenario repeated
// 3,000 times.
func benchObservations(b *testing.B) ([]*record.Observation, Options) {
	p := os.Getenv("CERTSLEUTH_BENCH_TRACE")
	if p == "" {
		sc := scenarioList(b)[0]
		return repeatedTrace(sc, 3000), Options{Roots: scenarioCerts(b).roots, Now: scenarioDay}
	}
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var obs []*record.Observation
	rd := record.NewReader(f, p)
	for {
		o, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if os.Getenv("CERTSLEUTH_BENCH_NOCHAINID") != "" {
			o.ChainID = ""
		}
		obs = append(obs, o)
	}
	return obs, Options{}
}
