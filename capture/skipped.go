package capture

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// Frames the reader cannot decode are counted by what they carry (link
// type, ethertype, IP protocol), and said in Result.Problems, except
// ordinary network noise (ARP, LLDP, spanning tree, ICMP, ...). A skipped
// frame whose bytes hold a TLS handshake record that starts a ClientHello,
// ServerHello or Certificate (tlsSignature) means a TLS connection
// certsleuth cannot read: it becomes a TLS observation of its own,
// visibility not-captured, so the capture is not judged (never "no
// request would make a client warn" about a certificate not looked at).

// maxSkipKinds bounds the kinds of skipped frames counted apart.
const maxSkipKinds = 32

// skipKey is a kind of skipped frame; it names itself with String only
// when said (no formatting per frame).
type skipKey struct {
	class uint8 // skipLink, skipLinkFrames, skipShort, skipLLC, skipEther, skipPPPoE, skipIPv4, skipIPv6, skipBadIP, skipOther
	link  linkType
	num   uint16 // the ethertype, PPP protocol or IP protocol
}

const (
	skipLink       uint8 = iota // a link type certsleuth does not read
	skipLinkFrames              // frames of a link type it reads that did not decode
	skipShort
	skipLLC
	skipEther
	skipPPPoE
	skipIPv4
	skipIPv6
	skipBadIP
	skipOther
)

func (k skipKey) String() string {
	switch k.class {
	case skipLink:
		return fmt.Sprintf("link type %d (%s)", int(k.link), k.link)
	case skipLinkFrames:
		return fmt.Sprintf("link type %d (%s) frames", int(k.link), k.link)
	case skipShort:
		return "frames too short for their link type"
	case skipLLC:
		return "802.3 frames (LLC: spanning tree, CDP, ...)"
	case skipEther:
		return fmt.Sprintf("ethertype 0x%04x", k.num)
	case skipPPPoE:
		return fmt.Sprintf("PPPoE session frames with PPP protocol 0x%04x", k.num)
	case skipIPv4:
		return fmt.Sprintf("IPv4 protocol %d", k.num)
	case skipIPv6:
		return fmt.Sprintf("IPv6 next header %d", k.num)
	case skipBadIP:
		return "malformed IP packets"
	}
	return "other frames"
}

// skipCount is what was skipped of one kind.
type skipCount struct {
	n      int64
	first  int64 // packet number of the first
	noise  bool  // ordinary non-IP or control traffic: not a problem
	tlsObs bool  // a frame of this kind held a TLS handshake record (observation made)
	tls    int64 // frames of this kind that hold a TLS handshake record
	file   string
}

// skipped counts one frame the decoder did not decode.
func (r *reader) skipped(link linkType, data []byte, ts int64, name string, packetNo int64) {
	kind, noise := skipKind(link, data)
	if r.skips == nil {
		r.skips = map[skipKey]*skipCount{}
	}
	c := r.skips[kind]
	if c == nil {
		if len(r.skips) >= maxSkipKinds {
			kind = skipKey{class: skipOther}
			c = r.skips[kind]
		}
		if c == nil {
			c = &skipCount{first: packetNo, noise: noise, file: name}
			r.skips[kind] = c
		}
	}
	c.n++
	what := tlsSignature(data)
	if what == "" {
		return
	}
	r.stats.UndecodedTLS++
	c.tls++
	if c.tlsObs {
		return
	}
	c.tlsObs = true
	o := &record.Observation{
		Kind: record.KindTLS, Source: record.SourcePcap, Time: time.Unix(0, ts).UTC(),
		Conn:       r.opts.ConnPrefix + r.file + "frame#" + strconv.FormatInt(r.packetNo, 10),
		Visibility: record.VisMissing,
		Note: fmt.Sprintf("%s: packet %d (%s, not decoded) holds a TLS %s: certsleuth cannot read the connection it belongs to, so its certificate was not judged",
			name, packetNo, kind, what),
	}
	r.stats.TLS++
	r.emit(o, r.packetNo, 0)
}

// skipProblems says what was skipped, in Result.Problems.
func (r *reader) skipProblems() {
	kinds := make([]skipKey, 0, len(r.skips))
	for k, c := range r.skips {
		if !c.noise || c.tlsObs {
			kinds = append(kinds, k)
		}
	}
	sort.Slice(kinds, func(i, j int) bool {
		a, b := r.skips[kinds[i]], r.skips[kinds[j]]
		if a.n != b.n {
			return a.n > b.n
		}
		return a.first < b.first
	})
	for _, k := range kinds {
		c := r.skips[k]
		frames := "frames"
		if c.n == 1 {
			frames = "frame"
		}
		p := fmt.Sprintf("%d %s skipped: %s not decoded (the first: %s packet %d)", c.n, frames, k, c.file, c.first)
		switch {
		case c.tls == 1:
			p += "; one holds a TLS handshake, so the capture is not judged"
		case c.tls > 1:
			p += fmt.Sprintf("; %d hold a TLS handshake, so the capture is not judged", c.tls)
		}
		r.res.Problems = append(r.res.Problems, p)
	}
}

// Ethertypes and IP protocols of ordinary traffic that carries no TLS:
// skipped without a word.
var (
	noiseEtherTypes = map[uint16]bool{
		0x0806: true, // ARP
		0x8035: true, // RARP
		0x88cc: true, // LLDP
		0x888e: true, // EAPOL (802.1X)
		0x8863: true, // PPPoE discovery
		0x8809: true, // slow protocols (LACP)
		0x88f7: true, // PTP
		0x9000: true, // loopback (configuration testing)
		0x8808: true, // Ethernet flow control
		0x893a: true, // IEEE 1905.1
		0x88e1: true, // HomePlug AV
		0x8899: true, // Realtek RRCP
	}
	noiseIPProtos = map[uint8]bool{1: true, 2: true, 58: true, 59: true, 88: true, 89: true, 103: true, 112: true} // ICMP, IGMP, ICMPv6, no next header, EIGRP, OSPF, PIM, VRRP
)

// skipKind tells what an undecoded frame carries, and whether that is
// ordinary noise.
func skipKind(link linkType, data []byte) (skipKey, bool) {
	et, ok := uint16(0), false
	switch link {
	case linkTypeEthernet:
		if len(data) >= 14 {
			et, data, ok = uint16(data[12])<<8|uint16(data[13]), data[14:], true
		}
	case linkTypeLinuxSLL:
		if len(data) >= 16 {
			et, data, ok = uint16(data[14])<<8|uint16(data[15]), data[16:], true
		}
	case linkTypeLinuxSLL2:
		if len(data) >= 20 {
			et, data, ok = uint16(data[0])<<8|uint16(data[1]), data[20:], true
		}
	case linkTypeRaw, linkTypeRaw12, linkTypeRaw14, linkTypeIPv4, linkTypeIPv6:
		return ipKind(data)
	default:
		if !linkSupported(link) {
			// Said already ("link type N is not supported").
			return skipKey{class: skipLink, link: link}, true
		}
		return skipKey{class: skipLinkFrames, link: link}, false
	}
	if !ok {
		return skipKey{class: skipShort}, true
	}
	for (et == etherVLAN || et == etherQinQ || et == etherQinQOld) && len(data) >= 4 {
		et, data = uint16(data[2])<<8|uint16(data[3]), data[4:]
	}
	switch {
	case et < 0x0600:
		return skipKey{class: skipLLC}, true
	case et == etherIPv4 || et == etherIPv6:
		return ipKind(data)
	case et == etherPPPoESession && len(data) >= 8:
		pp := uint16(data[6])<<8 | uint16(data[7])
		// LCP, PAP, CHAP, IPCP, IPv6CP: a PPP session's control.
		noise := pp == 0xc021 || pp == 0xc023 || pp == 0xc223 || pp == 0x8021 || pp == 0x8057
		return skipKey{class: skipPPPoE, num: pp}, noise
	}
	return skipKey{class: skipEther, num: et}, noiseEtherTypes[et]
}

// ipKind tells what an undecoded IP packet carries: the protocol of its
// innermost packet, past IPv6 extension headers (RFC 8200 section 4: an
// MLD report is ICMPv6 behind a hop-by-hop header) and IP in IP (protocol
// 4 or 41, RFC 2003 and RFC 4213), so that a tunnel's or an option's noise
// is not counted as a protocol certsleuth does not decode.
func ipKind(b []byte) (skipKey, bool) {
	for range 4 {
		switch {
		case len(b) >= 20 && b[0]>>4 == 4:
			proto, hl := b[9], int(b[0]&0x0f)*4
			if (proto == 4 || proto == 41) && hl >= 20 && len(b) > hl {
				b = b[hl:]
				continue
			}
			return skipKey{class: skipIPv4, num: uint16(proto)}, noiseIPProtos[proto]
		case len(b) >= 40 && b[0]>>4 == 6:
			next, rest := ipv6Upper(b[6], b[40:])
			if (next == 4 || next == 41) && len(rest) > 0 {
				b = rest
				continue
			}
			return skipKey{class: skipIPv6, num: uint16(next)}, noiseIPProtos[next]
		}
		break
	}
	return skipKey{class: skipBadIP}, false
}

// ipv6Upper skips the IPv6 extension headers at the start of b, whose
// first is next, and returns the upper-layer protocol and its bytes (a
// fragment header, 44, ends the walk: what follows may not be a header).
func ipv6Upper(next uint8, b []byte) (uint8, []byte) {
	for range 8 {
		n := ipv6ExtLen(next, b)
		if n == 0 {
			return next, b
		}
		next, b = b[0], b[n:]
	}
	return next, b
}

// tlsSignature names the TLS handshake message a record in b starts
// ("" for none): a ClientHello or ServerHello (helloAt), or a
// Certificate whose certificate list's length is the message's less 3
// (RFC 5246 §7.4.2) and fits in the record.
func tlsSignature(b []byte) string {
	for off := 0; ; off++ {
		i := bytes.IndexByte(b[off:], recHandshake)
		if i < 0 {
			return ""
		}
		off += i
		rest := b[off:]
		if yes, _ := helloAt(rest); yes {
			if rest[5] == hsClientHello {
				return "ClientHello"
			}
			return "ServerHello"
		}
		if len(rest) >= 12 && rest[1] == 3 && rest[2] <= 4 && rest[5] == hsCertificate {
			rl := int(rest[3])<<8 | int(rest[4])
			hl := int(rest[6])<<16 | int(rest[7])<<8 | int(rest[8])
			ll := int(rest[9])<<16 | int(rest[10])<<8 | int(rest[11])
			if hl >= 3+3+100 && ll+3 == hl && rl >= 4+6 && rl <= maxRecord {
				return "Certificate message"
			}
		}
	}
}
