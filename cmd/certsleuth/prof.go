//go:build prof

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"time"
)

// A build with the "prof" tag (go build -tags prof ./cmd/certsleuth)
// writes a CPU profile of the whole command to $CERTSLEUTH_CPUPROFILE and
// a heap profile at its end to $CERTSLEUTH_MEMPROFILE, for the
// measurements of docs/bench-pcap.md and docs/analysis-memory.md. Release
// builds leave this file out.
//
// $CERTSLEUTH_MEMTRACE names a file that gets a line every 20 ms: the time,
// the process's resident set (Linux), the live heap at the last
// collection and what the runtime holds, from runtime/metrics; and
// $CERTSLEUTH_PEAKPROFILE a heap profile written each time the live heap
// reaches a new high (by 1 MiB or more), so that it describes the peak (a
// heap profile's in-use figures are those of the last collection), with
// a sample every 4 KiB allocated instead of 512 KiB.
func init() {
	var stops []func()
	if trace, peak := os.Getenv("CERTSLEUTH_MEMTRACE"), os.Getenv("CERTSLEUTH_PEAKPROFILE"); trace != "" || peak != "" {
		if peak != "" {
			runtime.MemProfileRate = 4096 // a sample every 4 KiB: small tables show
		}
		stops = append(stops, memSampler(trace, peak))
	}
	stops = streamTo(stops, "CERTSLEUTH_CPUPROFILE", "CPU profile", pprof.StartCPUProfile, pprof.StopCPUProfile)
	stops = streamTo(stops, "CERTSLEUTH_EXECTRACE", "execution trace", trace.Start, trace.Stop)
	if p := os.Getenv("CERTSLEUTH_MEMPROFILE"); p != "" {
		stops = append(stops, func() {
			f, err := os.Create(p)
			if err != nil {
				fmt.Fprintf(os.Stderr, "certsleuth: heap profile: %v\n", err)
				return
			}
			runtime.GC()
			if err := pprof.WriteHeapProfile(f); err != nil {
				fmt.Fprintf(os.Stderr, "certsleuth: heap profile: %v\n", err)
			}
			f.Close()
		})
	}
	stopProfile = func() {
		for _, s := range stops {
			s()
		}
	}
}

// streamTo starts, when $env names a file, what start writes to it until
// stop (a CPU profile, an execution trace), and appends to stops what ends
// it; what goes wrong is said on standard error as what's.
func streamTo(stops []func(), env, what string, start func(io.Writer) error, stop func()) []func() {
	p := os.Getenv(env)
	if p == "" {
		return stops
	}
	f, err := os.Create(p)
	if err == nil {
		if err = start(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "certsleuth: %s: %v\n", what, err)
		return stops
	}
	return append(stops, func() { stop(); f.Close() })
}

// memSampler starts the sampling of CERTSLEUTH_MEMTRACE and
// CERTSLEUTH_PEAKPROFILE (either may be ""); the function it returns stops
// it and writes the last line.
func memSampler(trace, peak string) (stop func()) {
	var tf *os.File
	if trace != "" {
		var err error
		if tf, err = os.Create(trace); err != nil {
			fmt.Fprintf(os.Stderr, "certsleuth: memory trace: %v\n", err)
		} else {
			fmt.Fprintln(tf, "ms rss-KiB file-KiB live-KiB objects-KiB unused-KiB free-KiB released-KiB total-KiB limit-KiB gcs")
		}
	}
	names := []string{"/gc/heap/live:bytes", "/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes",
		"/memory/classes/heap/free:bytes", "/memory/classes/heap/released:bytes", "/memory/classes/total:bytes",
		"/gc/gomemlimit:bytes", "/gc/cycles/total:gc-cycles"}
	sample := make([]metrics.Sample, len(names))
	for i, n := range names {
		sample[i].Name = n
	}
	start := time.Now()
	var maxLive uint64
	line := func() {
		metrics.Read(sample)
		var v [8]uint64
		for i := range sample {
			if sample[i].Value.Kind() == metrics.KindUint64 {
				v[i] = sample[i].Value.Uint64()
			}
		}
		if peak != "" && v[0] >= maxLive+1<<20 {
			maxLive = v[0]
			if f, err := os.Create(peak); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		if tf != nil {
			rss, file := rssKiB()
			fmt.Fprintf(tf, "%d %d %d", time.Since(start).Milliseconds(), rss, file)
			for i, x := range v {
				if i == len(v)-1 {
					fmt.Fprintf(tf, " %d", x)
				} else {
					fmt.Fprintf(tf, " %d", x>>10)
				}
			}
			fmt.Fprintln(tf)
		}
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				line()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		line()
		if tf != nil {
			tf.Close()
		}
	}
}

// rssKiB is the process's resident set in KiB, and the part of it that
// maps files (the binary), from /proc/self/statm (Linux; 0 elsewhere).
func rssKiB() (rss, file int64) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0, 0
	}
	pages, _ := strconv.ParseInt(string(f[1]), 10, 64)
	shared, _ := strconv.ParseInt(string(f[2]), 10, 64)
	kib := int64(os.Getpagesize()) >> 10
	return pages * kib, shared * kib
}
