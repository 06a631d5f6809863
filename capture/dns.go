package capture

import (
	"net"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// dnsKey pairs a DNS answer with its query.
type dnsKey struct {
	client, server string
	id             uint16
	tcp            bool
}

type dnsQuery struct {
	key    dnsKey
	at     time.Time
	packet int64
	query  string
	qtype  string
	wait   *blocker
}

// dnsTCPHalf splits DNS over TCP into messages (RFC 1035 §4.2.2: each
// message is preceded by a two-byte length).
type dnsTCPHalf struct{ msgs int }

// dnsMsg is a DNS message (RFC 1035 §4.1) as certsleuth reads it: the
// header's ID, QR flag and response code, the questions and the answer
// records. Its slices point into the message and into buf, valid until
// the message is parsed again (the reader keeps one and reuses it).
type dnsMsg struct {
	id        uint16
	qr        bool
	rcode     uint8
	questions []dnsQuestion
	answers   []dnsRR
	buf       []byte // the names, each as ".label.label"
}

type dnsQuestion struct {
	name  []byte
	qtype uint16
}

// dnsRR is a resource record; rdata is read only for the types certsleuth
// uses: A and AAAA (ip), CNAME (target), SRV (target and the numbers).
type dnsRR struct {
	name               []byte
	rtype              uint16
	ttl                uint32
	ip                 []byte // nil for an A or AAAA record without data
	target             []byte
	port, prio, weight uint16
}

// DNS record types and response codes certsleuth names.
const (
	dnsTypeA     = 1
	dnsTypeCNAME = 5
	dnsTypeAAAA  = 28
	dnsTypeSRV   = 33
	dnsTypeOPT   = 41
)

// parse reads the DNS message b; false when it is malformed or has no
// question.
//
// It accepts every message gopacket's layers.DNS accepted (certsleuth read
// DNS with it until 2026-12) and reads the same values from it
// (FuzzDNS compares the two): names follow compression pointers as
// layers.DNS does (up to 254 of them, each name at most 255 bytes, counted
// as it counts them), a name's labels are taken as they are (no escaping),
// the root is "", an A or AAAA record must have 4 or 16 bytes of data
// (or none), CNAME and SRV data must hold their name, and an OPT record
// among the additional records (RFC 6891 §6.1.3) adds its extended RCODE's
// low four bits as bits 4-7 of the response code. The data of the other
// record types layers.DNS decoded is checked as it checked it (rdataOK):
// a message it refused is refused (the query is then unanswered).
func (m *dnsMsg) parse(b []byte) bool {
	m.buf = m.buf[:0]
	m.questions = m.questions[:0]
	m.answers = m.answers[:0]
	if len(b) < 12 {
		return false
	}
	m.id = uint16(b[0])<<8 | uint16(b[1])
	m.qr = b[2]&0x80 != 0
	m.rcode = b[3] & 0x0f
	counts := [4]int{}
	for i := range counts {
		counts[i] = int(b[4+2*i])<<8 | int(b[5+2*i])
	}
	off := 12
	for range counts[0] {
		name, end, ok := m.name(b, off)
		if !ok || len(b) < end+4 {
			return false
		}
		m.questions = append(m.questions, dnsQuestion{name: name, qtype: uint16(b[end])<<8 | uint16(b[end+1])})
		off = end + 4
	}
	for sect := 1; sect < 4; sect++ {
		for range counts[sect] {
			var rr dnsRR
			var ok bool
			if off, ok = m.rr(b, off, &rr); !ok {
				return false
			}
			switch {
			case sect == 1:
				m.answers = append(m.answers, rr)
			case sect == 3 && rr.rtype == dnsTypeOPT:
				m.rcode |= uint8(rr.ttl >> 20 & 0xf0)
			}
		}
	}
	return len(m.questions) > 0
}

// rr reads the resource record at off and returns the offset after it.
func (m *dnsMsg) rr(b []byte, off int, rr *dnsRR) (int, bool) {
	name, end, ok := m.name(b, off)
	if !ok || len(b) < end+10 {
		return 0, false
	}
	rr.name = name
	rr.rtype = uint16(b[end])<<8 | uint16(b[end+1])
	rr.ttl = uint32(b[end+4])<<24 | uint32(b[end+5])<<16 | uint32(b[end+6])<<8 | uint32(b[end+7])
	dlen := int(b[end+8])<<8 | int(b[end+9])
	start, stop := end+10, end+10+dlen
	if stop > len(b) {
		return 0, false
	}
	if dlen == 0 {
		return stop, true
	}
	// Names in the data end within it (pointers may lead back into the
	// message before it). The data of the types layers.DNS decoded must
	// be as it wanted them, or the message is refused as it refused it.
	msg, data := b[:stop], b[start:stop]
	switch rr.rtype {
	case dnsTypeA:
		if dlen != 4 {
			return 0, false
		}
		rr.ip = data
	case dnsTypeAAAA:
		if dlen != 16 {
			return 0, false
		}
		rr.ip = data
	case dnsTypeCNAME:
		if rr.target, _, ok = m.name(msg, start); !ok {
			return 0, false
		}
	case dnsTypeSRV:
		// RFC 2782: priority, weight, port, target.
		if len(msg) < start+6 {
			return 0, false
		}
		rr.prio = uint16(data[0])<<8 | uint16(data[1])
		rr.weight = uint16(data[2])<<8 | uint16(data[3])
		rr.port = uint16(data[4])<<8 | uint16(data[5])
		if rr.target, _, ok = m.name(msg, start+6); !ok {
			return 0, false
		}
	default:
		if !m.rdataOK(rr.rtype, msg, start) {
			return 0, false
		}
	}
	return stop, true
}

// rdataOK checks the data (msg[start:], not empty) of a record of a type
// certsleuth does not read as layers.DNS did when it decoded it: names
// (NS, PTR, SOA, MX, NAPTR, RRSIG, SVCB, HTTPS) must be readable, and
// fixed fields, character strings (TXT, HINFO, NAPTR), options (OPT) and
// service parameters (SVCB, HTTPS) must fit.
func (m *dnsMsg) rdataOK(rtype uint16, msg []byte, start int) bool {
	stop := len(msg)
	name := func(off int) (int, bool) {
		_, end, ok := m.name(msg, off)
		return end, ok
	}
	// lengths walks items of a 1- or 2-byte length and that many bytes
	// (after skip more bytes of header) from off to stop exactly.
	lengths := func(off, hdr int) bool {
		for off < stop {
			if off+hdr > stop {
				return false
			}
			l := int(msg[off])
			if hdr == 4 {
				l = int(msg[off+2])<<8 | int(msg[off+3])
			}
			if off += hdr + l; off > stop {
				return false
			}
		}
		return true
	}
	switch rtype {
	case 2, 12: // NS, PTR
		_, ok := name(start)
		return ok
	case 6: // SOA: two names, then five 32-bit numbers
		end, ok := name(start)
		if ok {
			end, ok = name(end)
		}
		return ok && stop >= end+20
	case 15: // MX: preference, name
		_, ok := name(start + 2)
		return ok && stop >= start+2
	case 13, 16: // HINFO, TXT: character strings
		return lengths(start, 1)
	case 256: // URI: priority, weight, target
		return stop-start >= 4
	case 35: // NAPTR: order, preference, three character strings, a name
		off := start + 4
		for range 3 {
			if stop < off+1 || stop < off+1+int(msg[off]) {
				return false
			}
			off += 1 + int(msg[off])
		}
		_, ok := name(off)
		return ok && stop >= start+4
	case dnsTypeOPT: // options: code, length, data
		return start+4 <= stop && lengths(start, 4)
	case 46: // RRSIG: 18 bytes of fields, the signer's name, the signature
		if stop < start+18 {
			return false
		}
		_, ok := name(start + 18)
		return ok
	case 48: // DNSKEY: flags, protocol, algorithm, the key
		return stop >= start+4
	case 64, 65: // SVCB, HTTPS: priority, target name, parameters
		if start+3 > stop {
			return false
		}
		end, ok := name(start + 2)
		return ok && lengths(end, 4)
	}
	return true
}

// dnsMaxPointers bounds the compression pointers one name may follow:
// layers.DNS followed 254 (each one a level of recursion, up to 255).
const dnsMaxPointers = 254

// name reads the (possibly compressed, RFC 1035 §4.1.4) name at off in
// msg, appending it to m.buf, and returns it without its leading dot and
// the offset after it where it started (after its first pointer, or its
// zero byte). Each stretch of labels read from one place may take at most
// 255 bytes with their length bytes, and a name that followed a pointer
// at most 254 bytes once put together, as layers.DNS counted.
func (m *dnsMsg) name(msg []byte, off int) (name []byte, end int, ok bool) {
	start := len(m.buf)
	end = -1
	pointers := 0
	for at := off; ; {
		if at >= len(msg) {
			return nil, 0, false
		}
		i, jump := at, -1
	labels:
		for msg[i] != 0 {
			switch msg[i] & 0xc0 {
			case 0:
				next := i + int(msg[i]) + 1
				if next-at > 255 || next > len(msg) {
					return nil, 0, false
				}
				m.buf = append(m.buf, '.')
				m.buf = append(m.buf, msg[i+1:next]...)
				if i = next; i >= len(msg) {
					return nil, 0, false
				}
			case 0xc0:
				if i+2 > len(msg) {
					return nil, 0, false
				}
				jump = int(msg[i]&0x3f)<<8 | int(msg[i+1])
				if jump > len(msg) || pointers == dnsMaxPointers {
					return nil, 0, false
				}
				pointers++
				break labels
			default: // 0x40 and 0x80: reserved (RFC 6891 §5)
				return nil, 0, false
			}
		}
		if end < 0 {
			end = i + 1
			if jump >= 0 {
				end = i + 2
			}
		}
		if jump < 0 {
			break
		}
		at = jump
	}
	if pointers > 0 && len(m.buf)-start+1 > 255 {
		return nil, 0, false
	}
	if len(m.buf) == start {
		return m.buf[start:], end, true
	}
	return m.buf[start+1:], end, true
}

// dnsTypeName names a record type as certsleuth always has (the names of
// gopacket's layers.DNSType, upper case).
func dnsTypeName(t uint16) string {
	switch t {
	case 1:
		return "A"
	case 2:
		return "NS"
	case 3:
		return "MD"
	case 4:
		return "MF"
	case 5:
		return "CNAME"
	case 6:
		return "SOA"
	case 7:
		return "MB"
	case 8:
		return "MG"
	case 9:
		return "MR"
	case 10:
		return "NULL"
	case 11:
		return "WKS"
	case 12:
		return "PTR"
	case 13:
		return "HINFO"
	case 14:
		return "MINFO"
	case 15:
		return "MX"
	case 16:
		return "TXT"
	case 28:
		return "AAAA"
	case 33:
		return "SRV"
	case 35:
		return "NAPTR"
	case 41:
		return "OPT"
	case 46:
		return "RRSIG"
	case 48:
		return "DNSKEY"
	case 64:
		return "SVCB"
	case 65:
		return "HTTPS"
	case 256:
		return "URI"
	}
	return "UNKNOWN"
}

// dnsRcodeName names a response code as certsleuth always has: the
// mnemonic for the common ones, else gopacket's description in upper case.
func dnsRcodeName(c uint8) string {
	switch c {
	case 0:
		return "NOERROR"
	case 1:
		return "FORMERR"
	case 2:
		return "SERVFAIL"
	case 3:
		return "NXDOMAIN"
	case 4:
		return "NOT IMPLEMENTED"
	case 5:
		return "REFUSED"
	case 6:
		return "NAME EXISTS WHEN IT SHOULD NOT"
	case 7:
		return "RR SET EXISTS WHEN IT SHOULD NOT"
	case 8:
		return "RR SET THAT SHOULD EXIST DOES NOT"
	case 9:
		return "SERVER NOT AUTHORITATIVE FOR ZONE"
	case 10:
		return "NAME NOT CONTAINED IN ZONE"
	case 16:
		return "BAD OPT VERSION"
	case 17:
		return "KEY NOT RECOGNIZED"
	case 18:
		return "SIGNATURE OUT OF TIME WINDOW"
	case 19:
		return "BAD TKEY MODE"
	case 20:
		return "DUPLICATE KEY NAME"
	case 21:
		return "ALGORITHM NOT SUPPORTED"
	case 22:
		return "BAD TRUNCATION"
	case 23:
		return "BAD COOKIE"
	}
	return "UNKNOWN"
}

// dnsAnswers converts the A, AAAA, CNAME and SRV records of an answer
// section, whose query name is query: an owner name that is the query's
// or the previous record's target (a CNAME chain) shares its string.
func dnsAnswers(d *dnsMsg, query string) []record.DNSAnswer {
	n := 0
	for _, a := range d.answers {
		switch a.rtype {
		case dnsTypeA, dnsTypeAAAA:
			if a.ip != nil {
				n++
			}
		case dnsTypeCNAME, dnsTypeSRV:
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]record.DNSAnswer, 0, n)
	prev := query
	for _, a := range d.answers {
		ans := record.DNSAnswer{Type: dnsTypeName(a.rtype), Name: sameString(a.name, query, prev), TTL: a.ttl}
		switch a.rtype {
		case dnsTypeA, dnsTypeAAAA:
			if a.ip == nil {
				continue
			}
			ans.Value = net.IP(a.ip).String()
		case dnsTypeCNAME:
			ans.Value = string(a.target)
			prev = ans.Value
		case dnsTypeSRV:
			ans.Value = string(a.target)
			ans.Port, ans.Prio, ans.Weight = int(a.port), int(a.prio), int(a.weight)
		default:
			continue
		}
		out = append(out, ans)
	}
	return out
}

// sameString returns b as a string: one of have when it holds b's bytes
// (no allocation), else a new one.
func sameString(b []byte, have ...string) string {
	for _, s := range have {
		if s == string(b) {
			return s
		}
	}
	return string(b)
}

// dnsMessage handles one DNS message seen from src to dst.
func (r *reader) dnsMessage(b []byte, src, dst string, tcp bool, at time.Time) {
	d := &r.dns
	if !d.parse(b) {
		return
	}
	q := d.questions[0]
	if !d.qr {
		k := dnsKey{client: src, server: dst, id: d.id, tcp: tcp}
		if _, dup := r.dnsPending[k]; !dup {
			dq := r.newQuery()
			*dq = dnsQuery{key: k, at: at, packet: r.packetNo, query: string(q.name), qtype: dnsTypeName(q.qtype)}
			dq.wait = r.hold(at.UnixNano(), r.packetNo, nil, dq)
			r.dnsPending[k] = dq
		}
		return
	}
	k := dnsKey{client: dst, server: src, id: d.id, tcp: tcp}
	at0, pk := at, r.packetNo
	var asked string // the query's name as its query had it
	if p, ok := r.dnsPending[k]; ok {
		at0, pk, asked = p.at, p.packet, p.query
		r.answered(p)
	}
	query := sameString(q.name, asked)
	o := &record.Observation{
		Kind: record.KindDNS, Source: record.SourcePcap, Time: at0.UTC(),
		Client: dst, Server: src,
		DNS: &record.DNS{Query: query, Type: dnsTypeName(q.qtype), Rcode: dnsRcodeName(d.rcode), Answers: dnsAnswers(d, query)},
	}
	if tcp {
		o.Note = "DNS over TCP"
	}
	r.stats.DNS++
	r.emit(o, pk, 0)
	clientIP := record.HostOnly(dst)
	for _, a := range o.DNS.Answers {
		if a.Type == "A" || a.Type == "AAAA" {
			r.resolve(a.Value, resolution{name: o.DNS.Query, at: at, client: clientIP})
		}
	}
}

// flushDNS reports the queries asked before the given time (Unix
// nanoseconds) that got no answer in the capture.
func (r *reader) flushDNS(before int64) {
	for _, q := range r.dnsPending {
		if q.at.UnixNano() < before {
			r.unanswered(q)
		}
	}
}

// unanswered reports a query that got no answer.
func (r *reader) unanswered(q *dnsQuery) {
	o := &record.Observation{
		Kind: record.KindDNS, Source: record.SourcePcap, Time: q.at.UTC(), Client: q.key.client, Server: q.key.server,
		DNS:  &record.DNS{Query: q.query, Type: q.qtype},
		Note: "no answer in the capture",
	}
	r.stats.DNS++
	r.emit(o, q.packet, 0)
	r.answered(q)
}

// answered ends a pending query: out of dnsPending, its blocker done,
// and the query kept for newQuery to reuse (nothing reads a done
// blocker's query).
func (r *reader) answered(q *dnsQuery) {
	delete(r.dnsPending, q.key)
	q.wait.done = true
	if len(r.spareQueries) < maxSpares {
		*q = dnsQuery{}
		r.spareQueries = append(r.spareQueries, q)
	}
}

// newQuery returns a dnsQuery to fill: one answered before, or a new one.
func (r *reader) newQuery() *dnsQuery {
	if n := len(r.spareQueries); n > 0 {
		q := r.spareQueries[n-1]
		r.spareQueries = r.spareQueries[:n-1]
		return q
	}
	return &dnsQuery{}
}

// resolve remembers that a client resolved a name to ip: the latest
// answers for each address, and for each address and client (so that a
// client's own answer is found even after many other clients resolved
// the same address), within bounds.
func (r *reader) resolve(ip string, res resolution) {
	r.resolved[ip] = appendBounded(r.resolved[ip], res)
	if len(r.resolved) > maxResolvedIPs {
		r.resolved = forgetOlder(r.resolved, func(v []resolution) int64 { return v[len(v)-1].at.UnixNano() })
	}
	k := resolvedKey{ip, res.client}
	r.resolvedBy[k] = appendBounded(r.resolvedBy[k], res)
	if len(r.resolvedBy) > maxResolvedBy {
		r.resolvedBy = forgetOlder(r.resolvedBy, func(v []resolution) int64 { return v[len(v)-1].at.UnixNano() })
	}
}

// appendBounded appends res, dropping the oldest beyond maxPerIP.
func appendBounded(rs []resolution, res resolution) []resolution {
	if len(rs) >= maxPerIP {
		rs = append(rs[:0], rs[1:]...)
	}
	return append(rs, res)
}

// resolvedKey is an address and the client IP that resolved a name to it.
type resolvedKey struct{ ip, client string }

// resolution is one name a client resolved to an address.
type resolution struct {
	name   string
	at     time.Time
	client string
}

// parseDNSTCP consumes length-prefixed DNS messages from one direction.
func (r *reader) parseDNSTCP(h *half, src, dst string, at time.Time) {
	b := h.buf
	n := 0
	for len(b)-n >= 2 {
		l := int(b[n])<<8 | int(b[n+1])
		if len(b)-n < 2+l {
			break
		}
		r.dnsMessage(b[n+2:n+2+l], src, dst, true, at)
		n += 2 + l
		h.dns.msgs++
		if h.dns.msgs >= maxHTTPMessages {
			h.stop(gapNone)
			return
		}
	}
	h.consume(n)
}
