//go:build prof

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// A build with the "prof" tag (go build -tags prof ./cmd/certsleuth)
// writes a CPU profile of the whole command to $CERTSLEUTH_CPUPROFILE and
// a heap profile at its end to $CERTSLEUTH_MEMPROFILE, for the
// measurements of docs/bench-pcap.md and docs/analysis-memory.md. Release
// builds leave this file out.
func init() {
	var stops []func()
	if p := os.Getenv("CERTSLEUTH_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "certsleuth: CPU profile: %v\n", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "certsleuth: CPU profile: %v\n", err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
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
