package capture

import "testing"

// TestMemoryLimit: the limit leaves the live heap room to grow whatever
// else the runtime holds (the free slots of partly used spans, stacks,
// metadata): a quarter while that fits in tightLimit, half (at most
// bigHeapRoom until a quarter is more) past it; never under MemoryFloor
// nor under what the runtime has held.
func TestMemoryLimit(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name                                       string
		live, total, objects, free, released, held int64
		want                                       int64
	}{
		{"small heap: the floor", 10 * mb, 40 * mb, 20 * mb, 5 * mb, 5 * mb, 0, MemoryFloor},
		// After a peak of 80 MiB held, a heap that has shrunk keeps the
		// room the peak already took.
		{"small heap after a bigger peak", 10 * mb, 40 * mb, 20 * mb, 5 * mb, 5 * mb, 80 * mb, 80 * mb},
		// 28 live, 10 of overhead: 28 + 7 + 10 = 45, under the floor.
		{"a quarter of room fits under the floor", 28 * mb, 46 * mb, 36 * mb, 0, 0, 0, MemoryFloor},
		// hs.pcap near its end: 36 live, 12 of overhead: 57 with a quarter.
		{"a quarter past the floor, under tightLimit", 36 * mb, 56 * mb, 44 * mb, 0, 0, 0, 36*mb + 9*mb + 12*mb},
		// 40 live, 12 of overhead: 62 with a quarter; half: 40 + 20 + 12.
		{"past tightLimit: half", 40 * mb, 60 * mb, 48 * mb, 0, 0, 0, 72 * mb},
		{"big heap past the peak held", 100 * mb, 160 * mb, 150 * mb, 10 * mb, 0, 120 * mb, 100*mb + bigHeapRoom},
		{"big heap, nothing besides it", 100 * mb, 160 * mb, 150 * mb, 10 * mb, 0, 0, 100*mb + bigHeapRoom},
		{"half a heap under the cap", 80 * mb, 130 * mb, 120 * mb, 10 * mb, 0, 0, 120 * mb},
		// hs.pcap's summary: 36 MiB live in 144 MiB mapped, 71 released,
		// 26 in the free slots of partly used spans, 9 of stacks and
		// metadata: 35 of overhead, past tightLimit.
		{"fragmented heap", 36 * mb, 144 * mb, 36 * mb, 2 * mb, 71 * mb, 0, 54*mb + 35*mb},
		{"metrics out of step", 60 * mb, 50 * mb, 60 * mb, 0, 0, 0, 90 * mb},
		{"room capped", 150 * mb, 200 * mb, 180 * mb, 20 * mb, 0, 0, 150*mb + bigHeapRoom},
		{"a quarter of a big heap", 400 * mb, 420 * mb, 410 * mb, 10 * mb, 0, 0, 500 * mb},
	}
	for _, tt := range tests {
		if got := memoryLimit(tt.live, tt.total, tt.objects, tt.free, tt.released, tt.held); got != tt.want {
			t.Errorf("%s: limit %d MiB, want %d MiB", tt.name, got/mb, tt.want/mb)
		}
	}
}
