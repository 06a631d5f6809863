package capture

import (
	"fmt"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// Observations are handed over in the order their connections, exchanges
// or queries started, as soon as nothing can come before them any more.
// What can still come before them is what a blocker stands for: a
// connection whose observation is not out yet, or a DNS query still
// waiting for its answer. An observation waits while a blocker starts
// before it; so memory holds only the observations of the last moments,
// not of the whole file.

// Bounds on waiting.
const (
	// maxWaiting observations may wait for an earlier connection; past
	// that, the earliest connection still open is reported as it stands
	// (a connection seen in one direction only, say, would otherwise hold
	// back everything behind it until it is closed or idle for
	// idleTimeout).
	maxWaiting = 8192
	// timeSlack is how far timestamps may step back (packets of merged
	// interfaces) without changing the order.
	timeSlack = int64(2 * time.Second)
	// dnsWait is how long a query waits for its answer before it is
	// reported as unanswered.
	dnsWait = int64(30 * time.Second)
)

// waitLimit is maxWaiting, and released (nil outside tests) is told how
// many observations are still waiting after each one is handed over;
// tests change both.
var (
	waitLimit = maxWaiting
	released  func(waiting int)
)

// blocker is something that may still produce an observation starting at
// (at, packet).
type blocker struct {
	at, packet int64
	done       bool
	f          *flow     // a connection not reported yet, or
	q          *dnsQuery // a query without its answer
}

// waiting is an observation with its sort key; seq keeps the order in
// which equal keys were produced.
type waiting struct {
	at, packet int64
	sub        int
	seq        int64
	o          *record.Observation
}

func (a *waiting) less(b *waiting) bool {
	switch {
	case a.at != b.at:
		return a.at < b.at
	case a.packet != b.packet:
		return a.packet < b.packet
	case a.sub != b.sub:
		return a.sub < b.sub
	}
	return a.seq < b.seq
}

// waitHeap is a heap of waiting observations, the earliest first. push
// and pop are container/heap's Push and Pop written for it (no
// interface values: a waiting in an interface is an allocation each
// way; no dynamic calls); as the order is total (seq breaks ties), which
// observation comes out first does not depend on the heap's layout.
type waitHeap []waiting

func (h *waitHeap) push(w waiting) {
	*h = append(*h, w)
	h.up(len(*h) - 1)
}

func (h *waitHeap) pop() waiting {
	old := *h
	w, last := old[0], len(old)-1
	old[0], old[last] = old[last], waiting{}
	*h = old[:last]
	if last > 0 {
		h.down(0, last)
	}
	return w
}

// up and down are container/heap's.
func (h waitHeap) up(j int) {
	for {
		i := (j - 1) / 2 // parent
		if i == j || !h[j].less(&h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		j = i
	}
}

func (h waitHeap) down(i, n int) {
	for {
		j1 := 2*i + 1
		if j1 >= n || j1 < 0 { // j1 < 0 after int overflow
			break
		}
		j := j1 // left child
		if j2 := j1 + 1; j2 < n && h[j2].less(&h[j1]) {
			j = j2 // right child
		}
		if !h[j].less(&h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// blockHeap is a heap of blockers, the earliest (at, packet) first: two
// blockers of one packet (DNS queries over TCP) tie, and which comes out
// first is the heap's layout, container/heap's (push and pop are its Push
// and Pop written for it).
type blockHeap []*blocker

func blockLess(a, b *blocker) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.packet < b.packet
}

func (h *blockHeap) push(b *blocker) {
	*h = append(*h, b)
	s := *h
	for j := len(s) - 1; ; {
		i := (j - 1) / 2 // parent
		if i == j || !blockLess(s[j], s[i]) {
			break
		}
		s[i], s[j] = s[j], s[i]
		j = i
	}
}

func (h *blockHeap) pop() {
	s := *h
	n := len(s) - 1
	s[0], s[n] = s[n], s[0]
	for i := 0; ; {
		j1 := 2*i + 1
		if j1 >= n || j1 < 0 {
			break
		}
		j := j1
		if j2 := j1 + 1; j2 < n && blockLess(s[j2], s[j1]) {
			j = j2
		}
		if !blockLess(s[j], s[i]) {
			break
		}
		s[i], s[j] = s[j], s[i]
		i = j
	}
	s[n] = nil
	*h = s[:n]
}

// order is the reader's part that puts observations in order.
type order struct {
	out    func(*record.Observation) error
	outErr error // the first error out returned; reading stops
	wait   waitHeap
	blocks blockHeap
	// spareBlocks are blockers done and out of blocks, for hold to
	// reuse (at most maxSpares): nothing points to a blocker once it is
	// done (report, unblock, unanswered and the DNS answer drop the
	// flow's or query's pointer when they set done) and out of the heap.
	spareBlocks []*blocker
	seq         int64
	ready       bool      // something was produced or unblocked since the last release
	forcing     bool      // observations being emitted are forced out (see force)
	lastFull    fullTable // by keyHash of a fullKey
}

// hold registers something that may still produce an observation
// starting at (at, packet).
func (r *reader) hold(at, packet int64, f *flow, q *dnsQuery) *blocker {
	var b *blocker
	if n := len(r.spareBlocks); n > 0 {
		b = r.spareBlocks[n-1]
		r.spareBlocks = r.spareBlocks[:n-1]
		*b = blocker{at: at, packet: packet, f: f, q: q}
	} else {
		b = &blocker{at: at, packet: packet, f: f, q: q}
	}
	r.blocks.push(b)
	return b
}

// emit queues an observation; packet and sub order observations with the
// same start time.
func (r *reader) emit(o *record.Observation, packet int64, sub int) {
	if r.forcing {
		o.Note = strings.TrimPrefix(o.Note+"; "+fmt.Sprintf(forcedNote, waitLimit), "; ")
	}
	r.seq++
	r.wait.push(waiting{at: o.Time.UnixNano(), packet: packet, sub: sub, seq: r.seq, o: o})
	r.ready = true
}

// firstBlocker is the earliest blocker still in force, or nil.
func (r *reader) firstBlocker() *blocker {
	for len(r.blocks) > 0 {
		b := r.blocks[0]
		if !b.done {
			return b
		}
		r.blocks.pop()
		if len(r.spareBlocks) < maxSpares {
			*b = blocker{}
			r.spareBlocks = append(r.spareBlocks, b)
		}
	}
	return nil
}

// release hands over the observations nothing can come before any more;
// with all, every one still waiting.
func (r *reader) release(all bool) {
	r.ready = false
	for len(r.wait) > 0 && r.outErr == nil {
		top := &r.wait[0]
		if !all {
			full := len(r.wait) > waitLimit
			if b := r.firstBlocker(); b != nil && (b.at < top.at || b.at == top.at && b.packet <= top.packet) {
				if !full {
					return
				}
				r.force(b)
				continue
			}
			if !r.opts.Live && top.at > r.now-timeSlack && !full {
				return
			}
		}
		w := r.wait.pop()
		if w.o.Kind == record.KindTLS {
			r.attribute(w.o)
		}
		if err := r.out(w.o); err != nil {
			r.outErr = err
		}
		if released != nil {
			released(len(r.wait))
		}
	}
}

// force ends a blocker early because too many observations wait on it.
func (r *reader) force(b *blocker) {
	r.forcing = true
	switch {
	case b.f != nil:
		r.report(b.f)
	case b.q != nil:
		r.unanswered(b.q)
	}
	r.forcing = false
	b.done = true
}

// forcedNote is added to the observations force reports.
const forcedNote = "reported before the connection ended: %d later observations were waiting on it, so certsleuth stopped following it"
