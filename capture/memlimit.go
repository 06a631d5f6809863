package capture

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// MemoryFloor is the soft memory limit LimitMemory sets while the live
// heap is small.
const MemoryFloor = 52 << 20

// LimitMemory sets a soft memory limit for the process while captures are
// read (and, in certsleuth pcap and replay, analysed), and returns the
// function that puts the previous limit back (safe to call more than
// once). Stream's own memory is bounded; what grows is what the caller
// keeps (Read keeps every observation: about 1 KB per connection, HTTP
// exchange or DNS answer; the analysis about 2 KB more). Left alone, the
// garbage collector lets the heap grow to twice that. The limit is
// MemoryFloor, or 1.5 times the live heap once that outgrows it: a fixed
// limit below the live heap would make the collector run back to back.
// When the user has set GOMEMLIMIT, nothing is changed.
func LimitMemory() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(MemoryFloor)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			live := int64(sample[0].Value.Uint64())
			debug.SetMemoryLimit(max(MemoryFloor, live*3/2))
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			debug.SetMemoryLimit(prev)
		})
	}
}
