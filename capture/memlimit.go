package capture

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// MemoryFloor is the soft memory limit LimitMemory sets while the live
// heap is small: the memory the runtime may hold for a capture's analysis
// when the process is to stay under 64 MiB of resident memory. Besides
// what the runtime holds, the process's resident set has the binary's own
// pages: 11.7-11.9 MiB of its code and read-only data (file-backed, from
// /proc/PID/statm; nearly the whole of .text, .rodata and .gopclntab; a
// cgo build 1.6 MiB more, of the C library). 64 - 12 leaves 52 MiB, and 2
// to 4 MiB of what the runtime holds is never touched (reserved for spans
// and metadata): with 54, certsleuth pcap --format json hs.pcap peaks at
// 57.6-59.7 MiB (CGO_ENABLED=0; a cgo build 60.7 at most), against
// 55.0-57.3 with 50, for 17 collections instead of 19 and 1-12% less
// CPU (docs/bench-pcap.md, "Session of 2026-12-08"). The floor was 46
// MiB while gopacket's tables took 5 MiB more, then 50 while the live
// heap reached 36 MiB (30 now).
const MemoryFloor = 54 << 20

// LimitMemory sets a soft memory limit for the process while captures are
// read (and, in certsleuth pcap and replay, analysed), and returns the
// function that puts the previous limit back (safe to call more than
// once). Stream's own memory is bounded; what grows is what the caller
// keeps (Read keeps every observation: about 1 KB per connection, HTTP
// exchange or DNS answer; the analysis about 2 KB more). Left alone, the
// garbage collector lets the heap grow to twice that. The limit is
// MemoryFloor while it leaves the live heap room to grow by a quarter;
// past that, the live heap and room to grow (a quarter of it while that
// keeps the process near 64 MiB, more for a bigger heap: memoryLimit)
// plus what the runtime holds besides live objects and free pages (the
// free slots of partly used spans, stacks, metadata): a fixed limit below
// the live heap, or
// one that left the heap no room to grow, would make the collector run
// back to back. Never less than the most the runtime has held so far: a
// peak already reached costs nothing more (memoryLimit).
// When the user has set GOMEMLIMIT, nothing is changed.
func LimitMemory() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(MemoryFloor)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		// The limit counts all the memory the runtime holds, not only the
		// live heap: the free slots of partly used spans (heap/unused: 25
		// MiB of certsleuth pcap's 60 once the causes were explained),
		// goroutine stacks, the collector's metadata. A limit of 1.5 times
		// the live heap alone left the heap no room to grow, and the
		// collector ran back to back (hs.pcap --format json: 98-110
		// collections, 60 of them while the summary was written, about
		// half the CPU time; with what the runtime holds besides the live
		// heap and its free pages added, 39; docs/bench-pcap.md).
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"},
			{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"},
			{Name: "/memory/classes/heap/released:bytes"}}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var held int64 // the most the runtime has held, less what it gave back
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			var v [5]int64
			for i := range sample {
				if sample[i].Value.Kind() != metrics.KindUint64 {
					return
				}
				v[i] = int64(sample[i].Value.Uint64())
			}
			held = max(held, v[1]-v[4])
			debug.SetMemoryLimit(memoryLimit(v[0], v[1], v[2], v[3], v[4], held))
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

// memoryLimit is the limit LimitMemory sets for a live heap of live bytes
// when the runtime holds total bytes, of which objects in heap objects
// (live or not yet swept), free in free pages and released in pages given
// back to the system, and has held at most held bytes (total less
// released) so far. What the limit counts besides objects and pages the
// runtime can give back (total - objects - free - released: free slots,
// stacks, metadata) is overhead.
//
// While the live heap, a quarter of it as room to grow and the overhead
// fit in tightLimit, the limit is that (never less than MemoryFloor): the
// room that keeps the process near 64 MiB. Half the live heap as room
// made the limit jump past 64 MiB as soon as hs.pcap's live heap passed
// 28 MiB (36 live and 12 of overhead: 66 MiB, a peak of 70-73 MiB RSS);
// a quarter holds it at 57 (61-64 MiB RSS) for 0.05-0.1 CPU-s more of
// collections in 2.4 (docs/analysis-memory.md, "Session of 2026-12-07
// night"). A heap too big for that gets more room (heapRoom): it cannot
// stay near 64 MiB anyway, and a quarter cost huge.pcap's text report 35%
// more CPU for 25 MiB less (159 against 184 MiB).
//
// Never less than held: the process's peak resident set is already that
// high, and holding the heap under it saves none of it, only costs
// collections and pages given back and taken again (hs.pcap's summary,
// written with half the live heap of the peak: 37 -> 32 collections, 0.14
// -> 0.02 CPU-s returning pages, the same peak).
func memoryLimit(live, total, objects, free, released, held int64) int64 {
	overhead := max(total-objects-free-released, 0)
	if tight := live + live/4 + overhead; tight <= tightLimit {
		return max(MemoryFloor, tight, held)
	}
	return max(MemoryFloor, live+heapRoom(live)+overhead, held)
}

// tightLimit is the most memoryLimit gives a live heap with a quarter of
// room: the runtime holding 60 MiB, with the binary's 13-14 MiB of pages,
// is about what keeps certsleuth's resident set at 64 MiB (some of what
// the runtime holds is never touched).
const tightLimit = 60 << 20

// heapRoom is how much a heap too big for tightLimit may grow past live
// bytes before the collector runs: half the live heap, but no more than
// bigHeapRoom until a quarter of it is more (huge.pcap's 150-170 MB:
// 48 MB of room instead of 75-85; docs/analysis-memory.md).
func heapRoom(live int64) int64 {
	return max(live/4, min(live/2, bigHeapRoom))
}

// bigHeapRoom is the most room heapRoom gives a heap of 96 to 192 MiB.
const bigHeapRoom = 48 << 20
