//go:build !linux

package browser

// CPU is the CPU time its processes used so far: not read on this system
// (ok is false).
func (b *Browser) CPU() (seconds float64, ok bool) { return 0, false }

// group is not read on this system: Settle waits its least time.
func (b *Browser) group() (secs float64, runnable bool) { return 0, false }
