package capture

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// Options control Read.
type Options struct {
	// KeyLog holds TLS 1.3 secrets to decrypt server certificates; nil
	// leaves TLS 1.3 certificates encrypted (Visibility "encrypted")
	// unless a pcapng file embeds its key log (dsb.go), which is used too.
	KeyLog *KeyLog
	// ConnPrefix is put before every connection ID ("tcp#12"), so that the
	// IDs of captures read separately into one trace stay distinct.
	// StreamFiles with several files also puts the name of the file that
	// holds a connection's first packet ("cap1.pcap:tcp#12").
	ConnPrefix string
	// Live makes Stream hand each observation over as soon as nothing
	// that started earlier is still open, for a capture being written as
	// it is read (tcpdump -w -). By default Stream waits until packets 2 s
	// younger have been read, so that timestamps that step back (merged
	// interfaces) do not change the order.
	Live bool
}

// Stats counts what was read.
type Stats struct {
	Packets     int64 // packets in the file
	Bytes       int64 // captured bytes of those packets
	Undecoded   int64 // packets without IPv4/IPv6 TCP or UDP (ARP, ICMP, other link types)
	Truncated   int64 // packets cut short by the snap length
	Connections int   // TCP connections
	TLS         int   // TLS connections reported
	HTTP        int   // HTTP exchanges reported
	DNS         int   // DNS answers (and unanswered queries) reported

	// UndecodedTLS counts, among the packets skipped as not decoded
	// (Problems says which kinds), those whose bytes hold a TLS
	// handshake record (a ClientHello, ServerHello or Certificate):
	// connections certsleuth could not read.
	UndecodedTLS int64
}

// Result is what a capture file holds.
type Result struct {
	Format       string // "pcap", "pcapng", with " (gzip)" when compressed
	Observations []*record.Observation
	Stats        Stats
	// Problems are things the reader could not use, in words (an
	// unsupported link type, a key log that did not match).
	Problems []string
}

// CorruptError says where a capture file stopped making sense. The
// observations read before that point are still returned.
type CorruptError struct {
	Name   string // the file name as given
	Packet int64  // 1-based number of the packet that could not be read
	Offset int64  // byte offset of that packet's record (in the decompressed data for gzip)
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s: packet %d at byte offset %d: %v", e.Name, e.Packet, e.Offset, e.Err)
}
func (e *CorruptError) Unwrap() error { return e.Err }

// ErrNotCapture is wrapped by Read's error when the input is not a pcap
// or pcapng file at all.
var ErrNotCapture = errors.New("not a capture file")

// Read reads a pcap or pcapng capture (gzip-compressed or not) and returns
// one observation per TLS connection, HTTP exchange and DNS answer, in the
// order they started. name is used in messages. On a file that is cut
// short or corrupt it returns what was read before the damage together
// with a *CorruptError. Read keeps every observation; Stream hands them
// over one at a time, in the same order, and keeps memory bounded.
func Read(in io.Reader, name string, opts Options) (*Result, error) {
	var obs []*record.Observation
	res, err := Stream(in, name, opts, func(o *record.Observation) error {
		obs = append(obs, o)
		return nil
	})
	if res != nil {
		res.Observations = obs
	}
	return res, err
}

// Stream reads a capture like Read, but passes each observation to emit
// as soon as it is complete and every observation that started before it
// has been passed, instead of keeping them all: its memory does not grow
// with the number of connections in the file. The order is Read's (by
// start time, then packet number), also when timestamps step back by up
// to a few seconds (merged interfaces). The Result's Observations is nil.
// An error returned by emit stops the reading and is returned as is.
func Stream(in io.Reader, name string, opts Options, emit func(*record.Observation) error) (*Result, error) {
	return StreamFiles([]Input{{R: in, Name: name}}, opts, emit)
}

// Input is one capture file for StreamFiles.
type Input struct {
	R    io.Reader
	Name string // used in messages
}

// StreamFiles reads several captures as one, like Stream: their packets
// are merged by timestamp (as Wireshark's mergecap does), so that a
// capture split into several files (tcpdump -C or -G ring buffers, one
// file per interface) is followed across them: a connection that spans
// two files is one connection, and DNS answers in one file name the
// connections in the next. A packet seen in two files (two capture
// points) counts once, as a retransmission would.
//
// A file that is not a capture stops everything before any packet is
// read (the error wraps ErrNotCapture). A file corrupt partway ends there
// while the others go on; the error then holds one *CorruptError per such
// file (errors.As finds the first).
func StreamFiles(inputs []Input, opts Options, emit func(*record.Observation) error) (*Result, error) {
	r := newReader(opts, emit)
	m := &merger{}
	defer m.close()
	var formats []string
	for _, in := range inputs {
		src, err := openSource(in.R)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", in.Name, ErrNotCapture, err)
		}
		ms := &mergeSrc{src: src, name: in.Name, base: filepath.Base(in.Name) + ":", index: len(m.all)}
		m.all = append(m.all, ms)
		if !slices.Contains(formats, src.format) {
			formats = append(formats, src.format)
		}
		src.attach(r, in.Name) // TLS key logs embedded in the file (dsb.go)
	}
	r.res.Format = strings.Join(formats, ", ")
	var corrupt []error
	for _, ms := range m.all {
		if err := m.advance(ms); err != nil {
			corrupt = append(corrupt, err)
		}
	}
	var p packet
	for r.outErr == nil {
		ms := m.first()
		if ms == nil {
			break
		}
		rp := &ms.rp
		if len(m.all) > 1 {
			r.file = ms.base
		}
		r.packetNo++
		r.stats.Packets++
		r.stats.Bytes += int64(len(rp.data))
		if len(rp.data) < rp.origLen {
			r.stats.Truncated++
		}
		if r.dec.decode(rp.link, rp.data, &p, rp.ts) {
			r.packet(&p, rp.ts, len(rp.data))
			if r.ready {
				r.release(false)
			}
		} else if p.frag == nil { // (a fragment waits for the rest of its datagram)
			r.stats.Undecoded++
			r.skipped(rp.link, rp.data, rp.ts, ms.name, ms.packetNo)
			if !linkSupported(rp.link) && !r.linkWarned[rp.link] {
				r.linkWarned[rp.link] = true
				r.res.Problems = append(r.res.Problems, fmt.Sprintf("%s: packet %d: link type %d (%s) is not supported; its packets were skipped", ms.name, ms.packetNo, int(rp.link), rp.link))
			}
		}
		if err := m.advance(ms); err != nil {
			corrupt = append(corrupt, err)
		}
	}
	if r.outErr != nil {
		return r.res, r.outErr
	}
	r.finish()
	r.skipProblems()
	r.clockProblems()
	if r.outErr != nil {
		return r.res, r.outErr
	}
	if len(corrupt) == 1 {
		return r.res, corrupt[0]
	}
	return r.res, errors.Join(corrupt...)
}

// merger yields the packets of several sources in timestamp order (file
// order for equal times). With one source it is a plain loop.
type merger struct {
	all  []*mergeSrc
	live []*mergeSrc // a heap by (ts, index) of the sources with a packet
}

// mergeSrc is one file being merged, with its next packet.
type mergeSrc struct {
	src      *source
	name     string
	base     string // the file name without directories, and ":"
	index    int
	rp       rawPacket
	packetNo int64 // rp's number in its own file
}

func (m *merger) less(a, b *mergeSrc) bool {
	if a.rp.ts != b.rp.ts {
		return a.rp.ts < b.rp.ts
	}
	return a.index < b.index
}

// first is the source whose packet comes next, or nil at the end.
func (m *merger) first() *mergeSrc {
	if len(m.live) == 0 {
		return nil
	}
	return m.live[0]
}

// advance reads ms's next packet and puts ms where it belongs (ms is the
// heap's top, or not in it yet). At the end of ms it leaves the heap; a
// read error other than the end comes back as a *CorruptError.
func (m *merger) advance(ms *mergeSrc) error {
	inHeap := len(m.live) > 0 && m.live[0] == ms
	err := ms.src.next(&ms.rp)
	if err != nil {
		if inHeap {
			last := len(m.live) - 1
			m.live[0], m.live[last] = m.live[last], nil
			m.live = m.live[:last]
			m.down(0)
		}
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return &CorruptError{Name: ms.name, Packet: ms.packetNo + 1, Offset: ms.rp.offset, Err: ms.src.describe(err)}
	}
	ms.packetNo++
	if inHeap {
		m.down(0)
		return nil
	}
	m.live = append(m.live, ms)
	for i := len(m.live) - 1; i > 0; { // up
		parent := (i - 1) / 2
		if !m.less(m.live[i], m.live[parent]) {
			break
		}
		m.live[i], m.live[parent] = m.live[parent], m.live[i]
		i = parent
	}
	return nil
}

func (m *merger) down(i int) {
	for {
		l, small := 2*i+1, i
		if l < len(m.live) && m.less(m.live[l], m.live[small]) {
			small = l
		}
		if r := l + 1; r < len(m.live) && m.less(m.live[r], m.live[small]) {
			small = r
		}
		if small == i {
			return
		}
		m.live[i], m.live[small] = m.live[small], m.live[i]
		i = small
	}
}

func (m *merger) close() {
	for _, ms := range m.all {
		ms.src.close()
	}
}

func describeReadErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the file ends in the middle of a packet (cut short while it was written or copied): %w", err)
	}
	return err
}

// flowKey identifies a TCP connection regardless of direction: a is the
// lower of the two endpoints.
type flowKey struct {
	a, b   [16]byte
	pa, pb uint16
	v6     bool
}

// flow is one TCP connection.
type flow struct {
	id      int
	packet  int64 // number of its first packet
	key     flowKey
	start   int64 // Unix nanoseconds
	last    int64
	h       [2]half // h[0] carries the bytes sent by endpoint a, h[1] those sent by b
	synFrom int     // the endpoint (0 a, 1 b) that sent the SYN; -1 unknown
	file    string  // with several files, the one of its first packet and ":"
	// reported is set once the connection's observations are out: the
	// rest of its packets are only counted until it closes.
	reported bool
	wait     *blocker // holds back later observations until this one is reported
	// rstBy is 1 + the endpoint that reset the connection while the
	// other was in the middle of a TLS handshake (0: none); afterRST
	// counts the packets read after it, dataAfterRST says the other
	// endpoint's bytes were read after it.
	rstBy        int
	afterRST     int
	dataAfterRST bool
	// afterFIN counts the packets read after both endpoints sent FIN
	// while a direction still had a hole before its FIN, finAt is when
	// the second FIN came (see reader.finClose).
	afterFIN int
	finAt    int64
}

// maxAfterRST bounds the packets of a connection read after one endpoint
// reset it (see reader.packet); maxAfterFIN and finWait the packets and
// the capture time after both FINs while a hole before a FIN waits to be
// filled (see reader.finClose). finWait is RFC 6298 §2.5's smallest
// allowed maximum retransmission timeout: a sender still retransmitting
// the missing bytes does so within it.
const (
	maxAfterRST = 64
	maxAfterFIN = 64
	finWait     = 60 * time.Second
)

type reader struct {
	opts         Options
	ts           int64 // time of the packet whose bytes are being parsed (Unix ns)
	dec          *decoder
	res          *Result
	stats        *Stats
	packetNo     int64
	flows        map[flowKey]*flow
	lastFlow     *flow           // the flow of the last TCP packet, while it is in flows (a run of packets of one connection looks it up once)
	closed       map[uint64]tomb // by keyHash of the connection's flowKey
	nextID       int
	dnsPending   map[dnsKey]*dnsQuery
	spareQueries []*dnsQuery                  // answered queries, for newQuery to reuse (at most maxSpares)
	resolved     map[string][]resolution      // by address: the latest answers, any client
	resolvedBy   map[resolvedKey][]resolution // by address and client IP: its latest answers
	ders         map[uint64][]byte            // by maphash of the DER
	derBytes     int                          // the size of ders' certificates
	chains       map[uint64]sharedChain       // by the maphashes of the chain's certificates (internChain)
	chainBuf     [][]byte                     // internChain's scratch
	certBuf      [][]byte                     // parseCertificate's scratch
	order                                     // observations waiting for earlier ones, and what they wait for
	linkWarned   map[linkType]bool
	skips        map[skipKey]*skipCount // frames not decoded, by kind (skipped.go)
	pool         bufPool
	dns          dnsMsg // reused by dnsMessage
	now          int64  // latest packet time, Unix nanoseconds (see tick)
	jump         int64  // a time stamp far ahead of now, not yet confirmed (see tick)
	outliers     int64  // packets whose time stamp jumped ahead alone
	outlierAt    int64  // the first of them (packet number)
	late         int64  // packets with data dropped after their connection was closed as idle
	lateAt       int64  // the first of them (packet number)
	file         string // with several files, the current packet's file name and ":"
	lastSweep    int64
	spare        spares // flows and TLS halves of finished connections, for new ones
	strs         interner
}

// spares keeps the flows of closed connections and the TLS halves of
// reported ones for the connections that come next (hs.pcap allocated
// 16.5 MB of flows, about 650 bytes each, and 15 MB of tlsHalfs, 300
// each), at most maxSpares of each: what is open at once, not all.
// A flow is given back when it is closed (it is out of r.flows, and its
// blocker, if any, is done: no one reads it again) and taken again for
// a new connection only, after the closing code is done with it; a
// tlsHalf when its connection is reported (report drops its halves; the
// observation keeps what it pointed to, not the tlsHalf), zeroed.
type spares struct {
	flows []*flow
	tls   []*tlsHalf
}

// maxSpares bounds each list of spares; a variable for the tests.
var maxSpares = 256

// newTLSHalf returns a zero tlsHalf.
func (r *reader) newTLSHalf() *tlsHalf {
	if n := len(r.spare.tls); n > 0 {
		t := r.spare.tls[n-1]
		r.spare.tls = r.spare.tls[:n-1]
		return t
	}
	return &tlsHalf{}
}

func newReader(opts Options, out func(*record.Observation) error) *reader {
	r := &reader{
		opts: opts, dec: newDecoder(), res: &Result{},
		flows: map[flowKey]*flow{}, closed: map[uint64]tomb{},
		dnsPending: map[dnsKey]*dnsQuery{}, resolved: map[string][]resolution{}, resolvedBy: map[resolvedKey][]resolution{},
		ders: map[uint64][]byte{}, chains: map[uint64]sharedChain{}, linkWarned: map[linkType]bool{},
	}
	r.order.out = out
	r.stats = &r.res.Stats
	return r
}

// Connections idle this long (in capture time) are closed; closed
// connections are remembered this long so late retransmissions and ACKs
// do not look like new connections.
const (
	idleTimeout = 5 * time.Minute
	tombstone   = 2 * time.Minute
	sweepEvery  = 30 * time.Second
	// maxCertBytes bounds the certificates kept to share between
	// observations (a few thousand).
	maxCertBytes = 4 << 20
	// clockJump is the largest step forward the clock takes on one
	// packet's word alone (see tick).
	clockJump = idleTimeout
)

// tomb remembers a closed connection: when, and whether it was closed as
// idle (rather than by FIN or RST). Tombs are kept by a 64-bit hash of the
// connection's addresses and ports (keyHash), not the 40-byte key: a
// capture of many short connections holds every one of the last
// tombstone's (hs.pcap: about 18,000, 2.4 MB with the keys, 0.7 MB
// without). Two connections share a hash with probability 2^-64; a
// packet of one would then be taken for a straggler of the other.
type tomb struct {
	at   int64
	idle bool
}

// tick moves the reader's clock, which closes idle connections, to ts.
// The clock never goes back, and a step forward of more than clockJump
// is taken only when the next packet confirms it (is itself beyond the
// old clock by more than clockJump): a lone packet with a wild time
// stamp (a SYN-ACK dated 2063 in a 2015 capture, as in mercury's
// imap2.pcap; a NIC's hardware stamp or a merge gone wrong) would
// otherwise close every open connection as idle and make each later
// packet a straggler. Such packets are counted in Problems. Wireshark
// does not use time stamps to end TCP streams at all; tcpdump and the
// kernel never see the stamp.
func (r *reader) tick(ts int64) {
	switch {
	case ts <= r.now:
		r.jump = 0
	case r.now == 0 || ts-r.now <= int64(clockJump):
		r.now, r.jump = ts, 0
	case r.jump != 0:
		// Two packets in a row far ahead: the capture really moved on
		// (a pause, a second file). The first of them was counted as an
		// outlier; it was not one.
		r.now, r.jump = ts, 0
		r.outliers--
	default:
		r.jump = ts
		if r.outliers == 0 {
			r.outlierAt = r.packetNo
		}
		r.outliers++
	}
}

// endpoint is "ip:port" ("[ip]:port" for IPv6), as net.JoinHostPort
// writes it, in one allocation (three with JoinHostPort: a fifth of the
// reader's allocations).
func endpoint(addr [16]byte, v6 bool, port uint16) string {
	var buf [64]byte
	b := buf[:0]
	if v6 {
		b = append(b, '[')
		b = netip.AddrFrom16(addr).AppendTo(b)
		b = append(b, ']')
	} else {
		b = netip.AddrFrom4([4]byte(addr[:4])).AppendTo(b)
	}
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(port), 10)
	return string(b)
}

func less(a [16]byte, pa uint16, b [16]byte, pb uint16) bool {
	if a != b {
		for i := range a {
			if a[i] != b[i] {
				return a[i] < b[i]
			}
		}
	}
	return pa < pb
}

func (r *reader) packet(p *packet, ts int64, caplen int) {
	r.tick(ts)
	if r.now-r.lastSweep > int64(sweepEvery) {
		r.sweep()
	}
	if !p.tcp {
		if p.sport == 53 || p.dport == 53 {
			if len(p.payload) < p.fullLen {
				return // cut by the snap length
			}
			r.dnsMessage(p.payload, endpoint(p.src, p.v6, p.sport), endpoint(p.dst, p.v6, p.dport), false, time.Unix(0, ts))
		}
		return
	}
	var k flowKey
	dir := 0
	if less(p.src, p.sport, p.dst, p.dport) {
		k = flowKey{a: p.src, b: p.dst, pa: p.sport, pb: p.dport, v6: p.v6}
	} else {
		k = flowKey{a: p.dst, b: p.src, pa: p.dport, pb: p.sport, v6: p.v6}
		dir = 1
	}
	f := r.lastFlow
	if f == nil || f.key != k {
		f = r.flows[k]
	}
	if f == nil {
		if t, ok := r.closed[keyHash(k)]; ok {
			if !p.syn || p.ack {
				if t.idle && p.fullLen > 0 {
					// Data on a connection closed as idle: not
					// read, so said (Problems).
					if r.late == 0 {
						r.lateAt = r.packetNo
					}
					r.late++
				}
				return // a straggler of a closed connection
			}
			delete(r.closed, keyHash(k))
		}
		if p.fullLen == 0 && !p.syn {
			return // a bare ACK or FIN of a connection that began before the capture
		}
		r.nextID++
		r.stats.Connections++
		if n := len(r.spare.flows); n > 0 {
			f = r.spare.flows[n-1]
			r.spare.flows = r.spare.flows[:n-1]
			*f = flow{id: r.nextID, packet: r.packetNo, key: k, start: ts, synFrom: -1, file: r.file}
		} else {
			f = &flow{id: r.nextID, packet: r.packetNo, key: k, start: ts, synFrom: -1, file: r.file}
		}
		f.h[0].pool, f.h[1].pool = &r.pool, &r.pool
		r.flows[k] = f
		if k.pa != 53 && k.pb != 53 { // DNS over TCP: its answers wait on their queries
			f.wait = r.hold(ts, r.packetNo, f, nil)
		}
	}
	r.lastFlow = f
	f.last = ts
	if f.afterFIN > 0 && f.finExpired(r.now) {
		r.close(f) // the hole before a FIN was not filled in time
		return
	}
	if f.reported {
		if p.rst || p.fin && f.h[1-dir].fin {
			r.close(f)
		} else if p.fin {
			f.h[dir].fin = true
		}
		return
	}
	h := &f.h[dir]
	if p.fullLen > 0 {
		h.lastData = r.packetNo
	}
	seq := p.seq
	if p.syn {
		if !p.ack {
			f.synFrom = dir
		}
		h.syn, h.started, h.next = true, true, p.seq+1
		seq++
	}
	if f.rstBy != 0 {
		// After a RST: the reset endpoint's packets (more RSTs,
		// retransmissions) are not read; the other's are, a bounded
		// number, until its handshake is.
		if f.afterRST++; dir == f.rstBy-1 || f.afterRST > maxAfterRST {
			if f.afterRST > maxAfterRST {
				r.close(f)
			}
			return
		}
		if p.fullLen > 0 && !h.done {
			f.dataAfterRST = true
		}
	}
	if p.rst {
		// A client that sends its ClientHello then FIN and RST at once
		// (a scanner, a client that gave up) does not stop the server's
		// answer, already on its way, from reaching the capture: the
		// tap sees what the wire carried. Wireshark keeps dissecting
		// such a server's records after the RST; so do we while the
		// server's TLS handshake is not read.
		if o := &f.h[1-dir]; f.rstBy == 0 && dir == f.clientDir() && !o.done && (o.proto == protoTLS || h.proto == protoTLS) {
			f.rstBy = dir + 1
			return
		}
		r.close(f)
		return
	}
	if p.fullLen > 0 && !h.done {
		if h.segment(seq, p.payload, p.fullLen, caplen, p.paddingLike()) {
			r.parse(f, dir, ts)
			if h.gap != gapNone {
				h.stop(gapNone)
			}
			h.keep()
			if h.done && f.h[1-dir].done {
				r.report(f) // nothing more to learn from this connection
			} else if f.rstBy != 0 && h.done {
				r.close(f) // the handshake after a RST is read
				return
			}
		}
	}
	if p.fin {
		h.fin, h.finSeq = true, seq+uint32(p.fullLen)
	}
	if f.h[0].fin && f.h[1].fin {
		r.finClose(f)
	}
}

// finClose closes a connection both of whose endpoints sent FIN, unless
// a direction still has a hole before its FIN: bytes the sender sent
// (its FIN's sequence number counts them, RFC 9293 §3.4 and §3.10.7.4)
// that the capture has not shown yet. A retransmission that fills the
// hole may come after the FINs (nfstream's skype.pcap: a server's only
// ServerHello is captured 4 s after its FIN, which said "previous
// segment not captured"); Wireshark reassembles it wherever it comes, and
// so does the receiver, which does not process the FIN before the bytes
// before it. The wait is bounded: maxAfterFIN packets of the connection,
// and the idle timeout.
func (r *reader) finClose(f *flow) {
	if f.afterFIN == 0 {
		f.finAt = r.now
	}
	if (f.h[0].holeBeforeFIN() || f.h[1].holeBeforeFIN()) && !f.finExpired(r.now) {
		f.afterFIN++
		return
	}
	r.close(f)
}

// finExpired reports whether a connection waiting after both FINs for a
// hole to fill (see reader.finClose) has used its budget.
func (f *flow) finExpired(now int64) bool {
	return f.afterFIN >= maxAfterFIN || now-f.finAt > int64(finWait)
}

type proto uint8

const (
	protoUnknown proto = iota
	protoTLS
	protoHTTP
	protoDNS
	protoMail  // plain text before STARTTLS (starttls.go)
	protoSOCKS // a SOCKS 4/5 negotiation before a tunnel (socks.go)
	// protoUpgrade: a binary protocol that turns to TLS (MySQL, LDAP,
	// ADB), or bytes no rule recognises, scanned for a TLS hello
	// (upgrade.go).
	protoUpgrade
	protoOther
)

// parse hands direction d's new bytes to its parser, choosing the parser
// from the first bytes.
func (r *reader) parse(f *flow, d int, ts int64) {
	r.ts = ts
	h := &f.h[d]
	if h.proto == protoUnknown && !h.proxyChecked {
		// A PROXY protocol header before the client's bytes
		// (proxyproto.go): noted and skipped.
		n, from, wait := proxyHeader(h.buf)
		if wait && h.gap == gapNone {
			return
		}
		h.proxyChecked = true
		if n > 0 {
			h.consume(n)
			h.proxyHdr = "a PROXY protocol header (from a load balancer) says the original connection is "
			if from == "" {
				h.proxyHdr = "a PROXY protocol header (from a load balancer) names no original connection"
			} else {
				h.proxyHdr += strings.ToValidUTF8(from, "?")
			}
			if len(h.buf) == 0 {
				return
			}
		}
	}
	if h.proto == protoUnknown {
		h.proto = r.classify(f, d, h.buf)
		switch h.proto {
		case protoUnknown:
			if h.gap == gapNone && len(h.buf) < 16 {
				return // wait for more bytes
			}
			if _, more := looksUpgrade(h.buf); more && h.gap == gapNone && len(h.buf) < 24 {
				return // an ADB header is 24 bytes
			}
			fallthrough
		case protoOther:
			// No rule knows these bytes: TLS may still begin after them
			// (a protocol's own upgrade): scanned for a hello, bounded.
			h.proto = protoUpgrade
			h.up = &upHalf{scan: true, openvpn: looksOpenVPN(h.buf)}
			r.unblock(f, d)
		case protoUpgrade:
			h.up = &upHalf{}
			h.up.proto, _ = looksUpgrade(h.buf)
			r.unblock(f, d)
		case protoTLS:
			h.tls = r.newTLSHalf()
		case protoHTTP:
			_, resp, _ := looksHTTP(h.buf)
			h.http = &httpHalf{response: resp}
		case protoDNS:
			h.dns = &dnsTCPHalf{}
		case protoMail:
			h.mail = &mailHalf{}
		case protoSOCKS:
			if p := f.h[1-d].socks; p != nil && p.client {
				h.socks = &socksHalf{ver: p.ver, method: -1, reply: -1}
			} else {
				h.socks = &socksHalf{client: true, ver: h.buf[0], method: -1, reply: -1}
			}
		}
	}
	switch h.proto {
	case protoTLS:
		r.parseTLS(f, d)
	case protoHTTP:
		if h.http.peer == nil {
			h.http.peer = f.h[1-d].http
		}
		n, done := h.http.parse(h.buf, time.Unix(0, ts), false)
		h.consume(n)
		if h.http.tunnel {
			// CONNECT: the rest of this direction is the tunnel. TLS to
			// the target is read as on any connection (parseTLS stops
			// at bytes that are not TLS).
			h.proto = protoTLS
			h.tls = r.newTLSHalf()
			if len(h.buf) > 0 {
				r.parseTLS(f, d)
			}
			return
		}
		if done {
			h.stop(gapNone)
		}
	case protoDNS:
		src, dst := f.endpoints(d)
		r.parseDNSTCP(h, src, dst, time.Unix(0, ts))
	case protoMail:
		r.parseMail(f, d)
	case protoSOCKS:
		r.parseSOCKS(f, d)
	case protoUpgrade:
		r.parseUpgrade(f, d)
	}
}

// unblock lets the observations after flow f go, when direction d is
// read as a binary upgrade protocol or scanned for a hello (upgrade.go)
// and the other direction is nothing else yet: most such connections
// never turn to TLS (a MySQL connection pool without TLS, an SSH
// session), and would hold everything after them back until they close.
// One that does turn to TLS is handed over when its TLS is read, after
// later ones.
func (r *reader) unblock(f *flow, d int) {
	if p := &f.h[1-d]; f.wait != nil && (p.proto == protoUnknown || p.proto == protoOther || p.proto == protoUpgrade) {
		f.wait.done, f.wait, r.ready = true, nil, true
	}
}

func (r *reader) classify(f *flow, d int, b []byte) proto {
	if len(b) == 0 {
		return protoUnknown
	}
	if f.key.pa == 53 || f.key.pb == 53 {
		return protoDNS
	}
	if f.h[d].socks == nil { // not yet in a tunnel
		if p := f.h[1-d].socks; p != nil && p.client {
			if looksSOCKSServer(b, p.ver) {
				return protoSOCKS
			}
		} else if f.h[1-d].proto == protoUnknown || f.h[1-d].proto == protoOther {
			// Only the side that speaks first can be a SOCKS client.
			yes, more := looksSOCKSClient(b)
			if yes {
				return protoSOCKS
			}
			if more && len(b) < 16 {
				return protoUnknown
			}
		}
	}
	if looksSSL2(b) {
		return protoTLS
	}
	if len(b) >= 3 && b[1] == 3 && b[2] <= 4 {
		switch b[0] {
		case recHandshake, recChangeCipherSpec, recAlert, recApplicationData:
			return protoTLS
		}
	}
	req, resp, more := looksHTTP(b)
	if req || resp {
		return protoHTTP
	}
	// A binary upgrade protocol's first message (upgrade.go) before the
	// mail protocols: an ADB header begins with "STLS" or "AUTH" too.
	up, upMore := looksUpgrade(b)
	if up != "" {
		return protoUpgrade
	} else if upMore && !textStart(b) {
		return protoUnknown
	}
	mail, _, mailMore := looksMail(b)
	if p := &f.h[1-d]; !mail && p.proto == protoMail && p.mail != nil && !p.mail.xml && textStart(b) {
		// The other side speaks a STARTTLS line protocol (a POP3
		// server's +OK greeting, say): this side's text lines are that
		// conversation's, whatever the first command (POP3 AUTH, RFC
		// 5034; SMTP NOOP), so its TLS after STLS is read too.
		mail = true
	}
	switch {
	case mail:
		return protoMail
	case more || mailMore || upMore || len(b) < 3:
		return protoUnknown
	}
	return protoOther
}

// endpoints returns the sender and receiver of direction d.
func (f *flow) endpoints(d int) (src, dst string) {
	a := endpoint(f.key.a, f.key.v6, f.key.pa)
	b := endpoint(f.key.b, f.key.v6, f.key.pb)
	if d == 0 {
		return a, b
	}
	return b, a
}

// sweep closes idle connections and forgets old closed ones.
func (r *reader) sweep() {
	r.lastSweep = r.now
	for _, f := range r.flows {
		if r.now-f.last > int64(idleTimeout) {
			r.close(f)
			r.closed[keyHash(f.key)] = tomb{at: r.now, idle: true}
		} else if f.afterFIN > 0 && f.finExpired(r.now) {
			r.close(f) // a hole before a FIN not filled in time
		}
	}
	for k, t := range r.closed {
		if r.now-t.at > int64(tombstone) {
			delete(r.closed, k)
		}
	}
	r.flushDNS(r.now - dnsWait)
}

func (r *reader) close(f *flow) {
	delete(r.flows, f.key)
	if r.lastFlow == f {
		r.lastFlow = nil
	}
	r.closed[keyHash(f.key)] = tomb{at: r.now}
	if !f.reported {
		r.report(f)
	}
	if len(r.spare.flows) < maxSpares {
		r.spare.flows = append(r.spare.flows, f)
	}
}

// clockProblems says which packets tick set aside and which were dropped
// after an idle close, in Result.Problems.
func (r *reader) clockProblems() {
	if r.outliers > 0 {
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("%d %s a time stamp far ahead of the packets around %s (the first: packet %d); the clock that closes idle connections ignored %s",
			r.outliers, plural(r.outliers, "packet carries", "packets carry"), plural(r.outliers, "it", "them"), r.outlierAt, plural(r.outliers, "it", "them")))
	}
	if r.late > 0 {
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("%d %s data came after %s connection had been closed as idle (the first: packet %d) and %s not read",
			r.late, plural(r.late, "packet with", "packets with"), plural(r.late, "its", "their"), r.lateAt, plural(r.late, "was", "were")))
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// finish closes every connection still open and hands over every
// observation still waiting.
func (r *reader) finish() {
	fs := make([]*flow, 0, len(r.flows))
	for _, f := range r.flows {
		if !f.reported {
			fs = append(fs, f)
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].id < fs[j].id })
	for _, f := range fs {
		r.report(f)
	}
	clear(r.flows)
	r.lastFlow = nil
	r.flushDNS(math.MaxInt64)
	r.release(true)
}

// clientDir decides which endpoint is the client: the one that sent the
// ClientHello, else the SYN, else HTTP requests, else the higher port.
func (f *flow) clientDir() int {
	for d := 0; d < 2; d++ {
		if t := f.h[d].tls; t != nil && t.ch != nil {
			return d
		}
		if t := f.h[d].tls; t != nil && t.sh != nil {
			return 1 - d
		}
	}
	if f.synFrom >= 0 {
		return f.synFrom
	}
	for d := 0; d < 2; d++ {
		if hh := f.h[d].http; hh != nil {
			if hh.response {
				return 1 - d
			}
			return d
		}
	}
	if f.key.pa > f.key.pb {
		return 0
	}
	return 1
}

// report turns a finished connection into observations.
func (r *reader) report(f *flow) {
	f.reported = true
	if f.wait != nil {
		f.wait.done = true
		f.wait = nil
		r.ready = true
	}
	for d := range f.h {
		f.h[d].finish()
	}
	cd := f.clientDir()
	client, server := f.endpoints(cd)
	conn := r.opts.ConnPrefix + f.file + "tcp#" + strconv.Itoa(f.id)
	ch, sh := &f.h[cd], &f.h[1-cd]
	switch {
	case ch.proto == protoTLS || sh.proto == protoTLS:
		r.reportTLS(f, conn, client, server, ch, sh)
	case ch.proto == protoHTTP || sh.proto == protoHTTP:
		r.reportHTTP(f, conn, client, server, ch, sh)
	}
	for d := range f.h {
		f.h[d].stop(gapNone)
		if t := f.h[d].tls; t != nil && len(r.spare.tls) < maxSpares {
			*t = tlsHalf{}
			r.spare.tls = append(r.spare.tls, t)
		}
	}
	f.h[0], f.h[1] = half{fin: f.h[0].fin}, half{fin: f.h[1].fin}
}

// noTLS stands for the TLS of a direction that had none, in reportTLS,
// which only reads it.
var noTLS tlsHalf

func (r *reader) reportTLS(f *flow, conn, client, server string, chh, shh *half) {
	o := &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: time.Unix(0, f.start).UTC(), Conn: conn, Client: client, Server: server}
	ct, st := chh.tls, shh.tls
	if ct == nil {
		ct = &noTLS
	}
	if st == nil {
		st = &noTLS
	}
	var notes []string
	if o.StartTLS = startTLSProto(chh, shh); o.StartTLS != "" {
		if m := shh.mail; m != nil && m.greeting != "" {
			g := m.greeting
			if len(g) > 120 {
				g = g[:120] + "..."
			}
			notes = append(notes, "the server greeted: "+strings.ToValidUTF8(g, "?"))
		}
		if m := chh.mail; m != nil && m.streamTo != "" {
			// RFC 6120 §13.7.2: an XMPP client checks the certificate
			// against the domain its stream is addressed to.
			notes = append(notes, "the client's XMPP stream is to "+strings.ToValidUTF8(m.streamTo, "?")+", the domain it checks the certificate against")
		}
	}
	upProto, upNotes := upgradeReport(chh, shh)
	if openVPN(chh, shh) {
		o.Carrier = record.CarrierOpenVPN
	}
	if o.StartTLS == "" {
		o.StartTLS = upProto
	}
	notes = append(notes, upNotes...)
	if chh.proxyHdr != "" {
		notes = append(notes, chh.proxyHdr)
	}
	if c := chh.socks; c != nil && c.target != "" {
		// TLS inside a SOCKS tunnel (socks.go): as for CONNECT below,
		// when the proxy granted the request (or its answer is not in
		// the capture).
		if shh.socks.granted() || shh.bytes == 0 {
			o.Connect, o.Proxy = c.target, server
		}
		notes = append(notes, socksNote(c, shh.socks, shh.bytes > 0))
	} else if target := chh.http.connectTarget(); target != "" {
		// TLS inside an HTTP CONNECT tunnel: the server end of the
		// connection is the proxy, the target is what the client asked it for.
		o.Connect, o.Proxy = target, server
		if shh.http == nil || !shh.http.tunnel {
			notes = append(notes, "the proxy's answer to CONNECT is not in the capture")
		}
	}
	if ch := ct.ch; ch != nil {
		o.SNI = ch.ServerName
		o.NoSNI = !ch.HasServerName
		o.ALPN = ch.ALPN
		o.ECH = ch.ECH
		if ch.SSL2 {
			o.HelloFormat = record.HelloSSL2
			notes = append(notes, "the client sent its ClientHello in the SSL 2.0 format, offering "+VersionName(ch.Version)+" at most, with no extensions (so no SNI)")
		}
	}
	if f.rstBy == f.clientDir()+1 && f.dataAfterRST {
		notes = append(notes, "the client reset the connection (RST) before the server's handshake was read: the client had gone, and the server's records that follow the RST in the capture were read")
	}
	if ct.ch == nil && (st.sh != nil || len(st.chain) > 0) {
		notes = append(notes, "the client's hello is not in the capture (only the server's half of the handshake is): the name the client asked for is not known")
	}
	o.ClientCertRequested = st.certRequest
	if ct.clientCertSent {
		o.ClientCert = ct.clientCert
		if o.ClientCert == "" {
			o.ClientCert = record.ClientCertNone
		}
	}
	if s := st.sh; s != nil {
		o.TLSVersion = VersionName(s.Version)
		o.Protocol = s.ALPN
		if o.Protocol == "" {
			o.Protocol = st.alpn13
		}
	} else if st.hrr && st.hrrVer != 0 {
		// A HelloRetryRequest carries the version the server selected in
		// its supported_versions (RFC 8446 section 4.1.4), as tshark reads
		// it; no ServerHello followed in the capture.
		o.TLSVersion = VersionName(st.hrrVer)
		notes = append(notes, "the server answered with a HelloRetryRequest and the capture holds no ServerHello after it")
	}
	is13 := st.sh != nil && isTLS13(st.sh.Version)
	switch {
	case len(st.chain) > 0:
		o.Visibility = record.VisVisible
		o.Chain, o.ChainID = st.chain, st.chainID
		if is13 {
			notes = append(notes, "TLS 1.3 handshake decrypted with the key log")
		}
		if st.certPartial > 0 {
			notes = append(notes, fmt.Sprintf("the server's Certificate message of %d bytes is in the capture only up to byte %d; its first %d certificates (the leaf first) were read", st.certLen, st.certPartial, len(st.chain)))
			notes = append(notes, certSizeNote(st.certLen)...)
		}
	case st.certPartial > 0:
		// The start of a Certificate message without one whole
		// certificate: the client most often refused its length.
		o.Visibility = record.VisMissing
		if ct.alert != "" && ct.fatal {
			o.Visibility = record.VisFailed
			o.Error = "the client ended the handshake with the TLS alert \"" + ct.alert + "\" while the server's certificate arrived"
		}
		notes = append(notes, fmt.Sprintf("the server's Certificate message of %d bytes is in the capture only up to byte %d, which holds no whole certificate", st.certLen, st.certPartial))
		notes = append(notes, certSizeNote(st.certLen)...)
	case st.tooLong > 0:
		o.Visibility = record.VisFailed
		o.Error = fmt.Sprintf("the server sent a handshake message of %d bytes, longer than any client accepts (OpenSSL, BoringSSL: 100 KiB certificate list; Go: 256 KiB)", st.tooLong)
	case is13 && st.sh.PSK, st.resumed:
		o.Visibility = record.VisResumed
	case is13 && st.alert == "":
		o.Visibility = record.VisEncrypted
		if st.decErr != "" {
			notes = append(notes, "not decrypted: "+st.decErr)
		}
		if ct.ch != nil && ct.ch.ECH && r.opts.KeyLog != nil && strings.Contains(st.decErr, "no SERVER_HANDSHAKE_TRAFFIC_SECRET") {
			notes = append(notes, "the ClientHello carries encrypted_client_hello: a client whose ECH the server accepted logs its secrets under the inner ClientHello's random, which the capture does not show")
		}
	case shh.gap == gapTruncated || chh.gap == gapTruncated && ct.ch == nil:
		o.Visibility = record.VisTruncated
		o.Snaplen = shh.snap
		if shh.gap != gapTruncated {
			o.Snaplen = chh.snap
		}
	case st.alert != "" && ct.ch == nil && chh.bytes == 0 && !st.fatal && (st.alert == alertNames[alertCloseNotify] || st.alert == alertNames[alertUserCanceled]):
		// A closure alert (RFC 8446 section 6.1, RFC 5246 section
		// 7.2.1) to a client that sent nothing: no handshake took place,
		// so nothing failed and nothing was judged.
		o.Visibility = record.VisMissing
		notes = append(notes, "the client closed the connection before any TLS handshake (no ClientHello); the server answered with the closure alert \""+st.alert+"\"")
	case st.alert != "":
		o.Visibility = record.VisFailed
		o.Error = "the server sent the TLS alert \"" + st.alert + "\""
	case st.noCert:
		o.Visibility = record.VisFailed
		o.Error = "the server sent no certificate (anonymous or PSK cipher suite)"
	default:
		o.Visibility = record.VisMissing
		switch {
		case ct.ch == nil && st.sh == nil:
			notes = append(notes, "the capture holds only the middle of this connection")
		case shh.gap == gapLost:
			notes = append(notes, "packets of the server's handshake are missing from the capture")
		case shh.gap == gapOverflow:
			notes = append(notes, "the server's handshake was larger than certsleuth buffers ("+st.err+")")
		case st.err != "":
			notes = append(notes, "the server's handshake could not be read: "+st.err)
		case st.sh == nil && shh.bytes == 0:
			notes = append(notes, "the server did not answer in the capture")
		default:
			notes = append(notes, "the server's certificate is not in the capture")
		}
	}
	if ct.alert != "" && ct.fatal {
		o.ClientAlert = ct.alert
	}
	if ct.echRequired {
		o.ECHRequired = true
		notes = append(notes, "the client ended the connection with the alert ech_required: the server did not accept its Encrypted Client Hello, the certificate was valid for the public name it checked, and the client retries with the server's new ECH configuration")
	}
	if len(st.warnings) > 0 {
		o.ServerWarnings = st.warnings
		for _, w := range st.warnings {
			n := "the server sent a warning alert \"" + w + "\" and went on"
			if w == "unrecognized name" {
				n += " (it has no certificate for the name the client asked for, so what it presented is its default)"
			}
			notes = append(notes, n)
		}
	}
	if ct.err != "" && ct.ch == nil {
		notes = append(notes, "the ClientHello could not be read: "+ct.err)
	}
	o.Note = strings.Join(notes, "; ")
	r.stats.TLS++
	r.emit(o, f.packet, 0)
}

// certSizeNote says which clients refuse a Certificate message of n
// bytes: OpenSSL and BoringSSL (curl, Python, Chromium, Android) accept
// at most 100 KiB by default (SSL_CTX_set_max_cert_list(3)), Go 256 KiB
// (crypto/tls maxHandshakeCertificateMsg).
func certSizeNote(n int) []string {
	switch {
	case n > goMaxCertificateMsg:
		return []string{fmt.Sprintf("the server's Certificate message is %d bytes: OpenSSL- and BoringSSL-based clients (curl, Python, Chrome, Android) refuse more than 100 KiB and Go more than 256 KiB, so they end the handshake before judging the name", n)}
	case n > opensslMaxCertList:
		return []string{fmt.Sprintf("the server's Certificate message is %d bytes: OpenSSL- and BoringSSL-based clients (curl, Python, Chrome, Android) refuse more than 100 KiB, so they end the handshake before judging the name", n)}
	}
	return nil
}

func (r *reader) reportHTTP(f *flow, conn, client, server string, chh, shh *half) {
	var reqs, resps []httpMsg
	if chh.http != nil {
		reqs = chh.http.msgs
	}
	if shh.http != nil {
		resps = shh.http.msgs
	}
	n := max(len(reqs), len(resps))
	for i := 0; i < n; i++ {
		o := &record.Observation{Kind: record.KindHTTP, Source: record.SourcePcap, Conn: conn, Client: client, Server: server, Visibility: record.VisNone}
		if i < len(reqs) {
			q := &reqs[i]
			o.Time = q.at.UTC()
			o.Method, o.Host, o.URL = q.method, q.host, record.RedactURL(q.requestURL())
		}
		if i < len(resps) {
			s := &resps[i]
			if o.Time.IsZero() {
				o.Time = s.at.UTC()
			}
			o.Status, o.Location = s.status, record.RedactURL(s.location)
			if len(s.body) > 0 && strings.Contains(strings.ToLower(o.URL), "autodiscover") {
				o.Body = record.KeptBody(s.ctype, s.body, s.bodyTrunc)
			}
		} else if i < len(reqs) {
			o.Note = "no response in the capture"
		}
		r.stats.HTTP++
		r.emit(o, f.packet, i)
	}
}

// fullKey is a client IP and the name (or server address) it connected
// to. lastFull keeps its keyHash, not the strings (they would hold each
// observation's client and name strings for as long as the entry); two
// keys share a hash with probability 2^-64, and a resumed session would
// then name the other's connection.
type fullKey struct{ client, name string }

// keySeed seeds keyHash.
var keySeed = maphash.MakeSeed()

// keyHash is the 64-bit hash the reader's bounded tables (closed,
// lastFull) keep in place of a key.
func keyHash[K comparable](k K) uint64 { return maphash.Comparable(keySeed, k) }

// Bounds on what attribution remembers.
const (
	maxFullHandshakes = 1 << 14 // client and name pairs
	maxResolvedIPs    = 1 << 14 // addresses with DNS answers
	maxResolvedBy     = 1 << 16 // address and client pairs with DNS answers
	maxPerIP          = 8       // answers kept per address, and per address and client
)

// attribute fills DNSName for a TLS connection without SNI from the DNS
// answers before it in the capture, and ResumedFrom for a resumed session
// (the latest full handshake from the same client to the same name or
// address). Observations come here in order, so every earlier answer and
// handshake has been seen.
func (r *reader) attribute(o *record.Observation) {
	clientIP := record.HostOnly(o.Client)
	if o.SNI == "" {
		o.DNSName = r.resolvedName(record.HostOnly(o.Server), clientIP, o.Time)
	}
	name, _ := o.AskedName()
	if name == "" {
		name = o.Server
	}
	switch o.Visibility {
	case record.VisResumed:
		if conn, ok := r.lastFull.get(keyHash(fullKey{clientIP, name})); ok {
			o.ResumedFrom = conn
		} else if conn, ok := r.lastFull.get(keyHash(fullKey{clientIP, o.Server})); ok {
			o.ResumedFrom = conn
		}
	case record.VisVisible, record.VisEncrypted:
		at := o.Time.UnixNano()
		if r.lastFull.n >= maxFullHandshakes {
			r.lastFull.forgetOlder()
		}
		r.lastFull.set(keyHash(fullKey{clientIP, name}), o.Conn, at)
		r.lastFull.set(keyHash(fullKey{clientIP, o.Server}), o.Conn, at)
	}
}

// forgetOlder deletes the older half of m's entries, by the time at
// gives, and returns m (the DNS tables, the IP fragments). It used to
// copy the newer half into a new map; deleted in place, the entries
// leave deleted slots that make the insertions after them probe
// further (the resumption table, hs.pcap: as much CPU as the copy, and
// 5.2 MB a read less allocated; it is a fullTable now).
func forgetOlder[K comparable, V any](m map[K]V, at func(V) int64) map[K]V {
	ts := make([]int64, 0, len(m))
	for _, v := range m {
		ts = append(ts, at(v))
	}
	slices.Sort(ts)
	cut := ts[len(ts)/2]
	for k, v := range m {
		if at(v) <= cut {
			delete(m, k)
		}
	}
	return m
}

// resolvedName is the name the client most recently resolved to ip before
// at (any client's answer when this client's is not in the capture).
func (r *reader) resolvedName(ip, client string, at time.Time) string {
	if res := latestBefore(r.resolvedBy[resolvedKey{ip, client}], at); res != nil {
		return res.name
	}
	if res := latestBefore(r.resolved[ip], at); res != nil {
		return res.name
	}
	return ""
}

// latestBefore is the last of rs (oldest first) not after at.
func latestBefore(rs []resolution, at time.Time) *resolution {
	for i := len(rs) - 1; i >= 0; i-- {
		if !rs[i].at.After(at) {
			return &rs[i]
		}
	}
	return nil
}
