package capture

import (
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/record"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
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

// decodeDNS parses one DNS message with gopacket's layers.DNS, reusing d
// (its slices point into b until the next call).
func decodeDNS(d *layers.DNS, b []byte) (*layers.DNS, bool) {
	if err := d.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return nil, false
	}
	if len(d.Questions) == 0 {
		return nil, false
	}
	return d, true
}

func dnsTypeName(t layers.DNSType) string {
	switch t {
	case layers.DNSTypeA:
		return "A"
	case layers.DNSTypeAAAA:
		return "AAAA"
	case layers.DNSTypeCNAME:
		return "CNAME"
	case layers.DNSTypeSRV:
		return "SRV"
	}
	return strings.ToUpper(t.String())
}

func dnsRcodeName(c layers.DNSResponseCode) string {
	switch c {
	case layers.DNSResponseCodeNoErr:
		return "NOERROR"
	case layers.DNSResponseCodeNXDomain:
		return "NXDOMAIN"
	case layers.DNSResponseCodeServFail:
		return "SERVFAIL"
	case layers.DNSResponseCodeRefused:
		return "REFUSED"
	case layers.DNSResponseCodeFormErr:
		return "FORMERR"
	}
	return strings.ToUpper(c.String())
}

// dnsAnswers converts the A, AAAA, CNAME and SRV records of an answer section.
func dnsAnswers(d *layers.DNS) []record.DNSAnswer {
	var out []record.DNSAnswer
	for _, a := range d.Answers {
		ans := record.DNSAnswer{Type: dnsTypeName(a.Type), Name: string(a.Name), TTL: a.TTL}
		switch a.Type {
		case layers.DNSTypeA, layers.DNSTypeAAAA:
			if a.IP == nil {
				continue
			}
			ans.Value = a.IP.String()
		case layers.DNSTypeCNAME:
			ans.Value = string(a.CNAME)
		case layers.DNSTypeSRV:
			ans.Value = string(a.SRV.Name)
			ans.Port, ans.Prio, ans.Weight = int(a.SRV.Port), int(a.SRV.Priority), int(a.SRV.Weight)
		default:
			continue
		}
		out = append(out, ans)
	}
	return out
}

// dnsMessage handles one DNS message seen from src to dst.
func (r *reader) dnsMessage(b []byte, src, dst string, tcp bool, at time.Time) {
	d, ok := decodeDNS(&r.dns, b)
	if !ok {
		return
	}
	q := d.Questions[0]
	if !d.QR {
		k := dnsKey{client: src, server: dst, id: d.ID, tcp: tcp}
		if _, dup := r.dnsPending[k]; !dup {
			dq := &dnsQuery{key: k, at: at, packet: r.packetNo, query: string(q.Name), qtype: dnsTypeName(q.Type)}
			dq.wait = r.hold(at.UnixNano(), r.packetNo, nil, dq)
			r.dnsPending[k] = dq
		}
		return
	}
	k := dnsKey{client: dst, server: src, id: d.ID, tcp: tcp}
	at0, pk := at, r.packetNo
	if p, ok := r.dnsPending[k]; ok {
		at0, pk = p.at, p.packet
		delete(r.dnsPending, k)
		p.wait.done = true
	}
	o := &record.Observation{
		Kind: record.KindDNS, Source: record.SourcePcap, Time: at0.UTC(),
		Client: dst, Server: src,
		DNS: &record.DNS{Query: string(q.Name), Type: dnsTypeName(q.Type), Rcode: dnsRcodeName(d.ResponseCode), Answers: dnsAnswers(d)},
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
	delete(r.dnsPending, q.key)
	q.wait.done = true
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
