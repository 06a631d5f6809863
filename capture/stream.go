package capture

// Per-direction TCP reassembly that keeps only what the parsers still need.
//
// Each direction ("half") of a connection delivers its bytes in sequence
// order to a parser. Retransmitted bytes are dropped, segments that arrive
// early wait (bounded) for the gap to fill, a capture that starts after the
// SYN starts the stream at the first segment seen, and once the parser has
// what it wants (or the buffered bytes pass maxBuffered) the direction
// stops buffering for good, so memory does not grow with the connection.

// Bounds on what one direction may hold.
const (
	maxBuffered    = 256 << 10 // unparsed in-order bytes
	maxPending     = 64        // out-of-order segments waiting for a gap
	maxPendingSize = 256 << 10 // their bytes
)

// gap says why a direction's byte stream has a hole.
type gap uint8

const (
	gapNone      gap = iota
	gapTruncated     // a packet was cut by the snap length
	gapLost          // bytes never arrived (lost, or too far out of order)
	gapOverflow      // more bytes than the parser may buffer
)

type pendSeg struct {
	seq     uint32
	data    []byte
	fullLen int
	snap    int
}

// half is one direction of a TCP connection.
type half struct {
	started  bool   // next is known
	syn      bool   // the SYN was seen
	next     uint32 // sequence number of the next byte expected
	buf      []byte // in-order bytes the parser has not consumed
	borrowed bool   // buf points into the packet being processed, not into own
	own      []byte // buf's storage when it is not borrowed
	need     int    // bytes the parser needs in buf to make progress (a size hint)
	pool     *bufPool
	pend     []pendSeg
	pendSize int
	pad      *pendSeg // a segment that may be Ethernet padding, held at next (see segment)
	done     bool     // the parser wants no more bytes
	gap      gap
	snap     int    // capture length of the packet cut short (gapTruncated)
	fin      bool   // FIN seen
	finSeq   uint32 // the FIN's sequence number (the bytes sent before it end there)
	bytes    int    // payload bytes delivered in order
	lastData int64  // number of the last packet with payload, also once done
	proto    proto
	tls      *tlsHalf
	http     *httpHalf
	dns      *dnsTCPHalf
	mail     *mailHalf  // plain text before STARTTLS; kept once TLS begins
	socks    *socksHalf // a SOCKS negotiation; kept once the tunnel begins
	up       *upHalf    // a binary upgrade (MySQL, LDAP, ADB) or unknown bytes before TLS; kept once TLS begins (upgrade.go)
	// proxyChecked: the start of the stream was checked for a PROXY
	// protocol header; proxyHdr says what one said (proxyproto.go).
	proxyChecked bool
	proxyHdr     string
}

// segment delivers one TCP segment's payload. data are the captured bytes,
// fullLen the length on the wire, caplen the frame's capture length;
// padLike says the segment may be Ethernet padding counted as payload
// (see packet.paddingLike): such bytes are held back until the sender's
// next segment shows whether they were data.
// It returns true when new in-order bytes reached h.buf.
func (h *half) segment(seq uint32, data []byte, fullLen, caplen int, padLike bool) bool {
	if h.done || fullLen == 0 {
		return false
	}
	if !h.started {
		h.started, h.next = true, seq
	}
	delivered := false
	if pad := h.pad; pad != nil {
		switch {
		case seq == pad.seq && padLike:
			return false // held already
		case seq == pad.seq:
			// The sender's data at the same sequence numbers, other
			// bytes: what was held was no data (a sender retransmits
			// the bytes it sent, RFC 9293 §3.10.7.4 trims them as the
			// same), it is dropped.
			h.pad = nil
		default:
			// The sender went on past them: they were data.
			h.pad = nil
			delivered = h.appendAt(int32(pad.seq-h.next), pad.data, pad.fullLen, pad.snap)
			h.drain()
		}
	}
	rel := int32(seq - h.next)
	if padLike && rel >= 0 {
		if rel == 0 {
			h.pad = &pendSeg{seq: seq, data: append([]byte(nil), data...), fullLen: fullLen, snap: caplen}
		}
		// Out of order: dropped (if it was data, the hole says so).
		return delivered
	}
	if rel > 0 {
		if len(h.pend) >= maxPending || h.pendSize+len(data) > maxPendingSize {
			h.stop(gapLost)
			return false
		}
		for _, p := range h.pend {
			if p.seq == seq && p.fullLen >= fullLen {
				return false // a retransmission of a waiting segment
			}
		}
		h.pend = append(h.pend, pendSeg{seq: seq, data: append([]byte(nil), data...), fullLen: fullLen, snap: caplen})
		h.pendSize += len(data)
		return delivered
	}
	if !h.appendAt(rel, data, fullLen, caplen) {
		return delivered
	}
	h.drain()
	return true
}

// appendAt appends a segment that starts -rel bytes before h.next.
func (h *half) appendAt(rel int32, data []byte, fullLen, caplen int) bool {
	if rel < 0 {
		skip := int(-int64(rel)) // int64: -MinInt32 does not fit in an int32
		if skip >= fullLen {
			return false // all old bytes: a retransmission
		}
		fullLen -= skip
		if skip >= len(data) {
			data = nil
		} else {
			data = data[skip:]
		}
	}
	switch {
	case len(h.buf) == 0 && !h.borrowed && len(data) > 0:
		// Nothing is waiting: let the parser read the packet in place;
		// keep() copies what it leaves.
		h.buf, h.borrowed = data, true
	default:
		h.keep()
		if n := len(h.buf) + len(data); n > cap(h.buf) {
			old := h.own
			h.own = append(h.pool.get(max(n, min(h.need, maxBuffered))), h.buf...)
			h.buf = h.own
			h.pool.put(old)
		}
		h.buf = append(h.buf, data...)
	}
	h.next += uint32(fullLen)
	h.bytes += fullLen
	if len(data) < fullLen && h.gap == gapNone {
		h.gap, h.snap = gapTruncated, caplen
	}
	if len(h.buf) > maxBuffered {
		h.stop(gapOverflow)
	}
	return true
}

// drain appends the waiting segments that the stream has reached.
func (h *half) drain() {
	for progress := true; progress && len(h.pend) > 0 && !h.done && h.gap == gapNone; {
		progress = false
		for i := 0; i < len(h.pend); i++ {
			p := h.pend[i]
			rel := int32(p.seq - h.next)
			if rel > 0 {
				continue
			}
			h.pend[i] = h.pend[len(h.pend)-1]
			h.pend = h.pend[:len(h.pend)-1]
			h.pendSize -= len(p.data)
			h.appendAt(rel, p.data, p.fullLen, p.snap)
			progress = true
			break
		}
	}
}

// keep makes buf independent of the current packet's bytes: called
// after the parser has seen them and before the next packet is read.
func (h *half) keep() {
	if !h.borrowed {
		return
	}
	h.borrowed = false
	if h.done {
		h.buf = nil
		return
	}
	if len(h.buf) > cap(h.own) {
		h.pool.put(h.own)
		h.own = h.pool.get(max(len(h.buf), min(h.need, maxBuffered)))
	}
	h.own = append(h.own[:0], h.buf...)
	h.buf = h.own
}

// consume drops n parsed bytes from the front of the buffer.
func (h *half) consume(n int) {
	if n <= 0 {
		return
	}
	if h.borrowed {
		h.buf = h.buf[min(n, len(h.buf)):]
		return
	}
	if n >= len(h.buf) {
		h.buf = h.buf[:0]
		return
	}
	h.buf = h.buf[:copy(h.buf, h.buf[n:])]
}

// prepend puts b in front of the unparsed bytes.
func (h *half) prepend(b []byte) {
	nb := h.pool.get(len(b) + len(h.buf))
	nb = append(append(nb, b...), h.buf...)
	if !h.borrowed {
		h.pool.put(h.own)
	}
	h.own, h.buf, h.borrowed = nb, nb, false
}

// stop ends buffering for this direction; g records why, if it is a gap.
func (h *half) stop(g gap) {
	if g != gapNone && h.gap == gapNone {
		h.gap = g
	}
	h.done = true
	if h.tls != nil {
		h.tls.salvage()
		h.pool.put(h.tls.hs)
		h.tls.hs = nil
	}
	h.pool.put(h.own)
	h.buf, h.own, h.borrowed = nil, nil, false
	h.pend = nil
	h.pendSize = 0
}

// holeBeforeFIN reports whether bytes the sender sent before its FIN
// have not all reached the stream: segments wait for a gap to fill, or
// the FIN's sequence number is beyond the next byte expected (the
// segments before it not captured, or not yet). A direction whose parser
// is done, or whose start is unknown, has none that matters.
func (h *half) holeBeforeFIN() bool {
	if !h.fin || h.done || !h.started {
		return false
	}
	return len(h.pend) > 0 || int32(h.finSeq-h.next) > 0
}

// finish is called when the connection ends: waiting segments that never
// joined the stream mean bytes were lost.
func (h *half) finish() {
	if len(h.pend) > 0 && !h.done && h.gap == gapNone {
		h.gap = gapLost
	}
	if h.tls != nil && !h.done {
		h.tls.salvage() // a Certificate message the connection ended in
	}
}

// bufPool recycles the buffers of directions whose parsing is done, so
// that a capture of many short connections does not churn the heap.
type bufPool struct{ free [][]byte }

const (
	poolMinBuf = 8 << 10
	poolMaxBuf = 64 << 10
	poolMax    = 64
)

// get returns an empty buffer with room for n bytes.
func (p *bufPool) get(n int) []byte {
	if p != nil {
		for i := len(p.free) - 1; i >= 0 && i >= len(p.free)-4; i-- {
			if b := p.free[i]; cap(b) >= n {
				p.free[i] = p.free[len(p.free)-1]
				p.free = p.free[:len(p.free)-1]
				return b
			}
		}
	}
	return make([]byte, 0, max(n, poolMinBuf))
}

// put gives a buffer back.
func (p *bufPool) put(b []byte) {
	if p == nil || cap(b) < poolMinBuf || cap(b) > poolMaxBuf || len(p.free) >= poolMax {
		return
	}
	p.free = append(p.free, b[:0])
}
