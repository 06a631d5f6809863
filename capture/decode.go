package capture

import "slices"

// packet is one decoded IP packet carrying TCP or UDP. Its slices point
// into the reader's buffer and are valid until the next packet is read.
type packet struct {
	v6       bool
	src, dst [16]byte
	sport    uint16
	dport    uint16
	tcp      bool
	seq      uint32
	syn      bool
	ack      bool
	fin      bool
	rst      bool
	psh      bool
	payload  []byte    // the captured payload bytes
	fullLen  int       // the payload length on the wire (more than len(payload) when the snap length cut it)
	frag     *fragment // set (instead of the transport fields) for a fragment of an IP datagram
	gtp      bool      // taken out of a GTP-U tunnel (not taken apart again)
	tun      bool      // taken out of a GRE, VXLAN or MPLS Ethernet tunnel (not taken apart again)
}

// paddingLike reports whether a TCP segment's payload may be Ethernet
// padding that the IP header counts as payload: a bare ACK (no PSH, SYN,
// FIN or RST) carrying 1 to 6 zero bytes, what an Ethernet frame's
// padding adds to a 54-byte IPv4 TCP frame to reach the 60-byte minimum
// (IEEE 802.3). Some networks rewrite IP lengths so; nDPI calls such
// packets "anomalous ACKs with zero padding" and its
// tcp_ack_payload_heuristic ignores them (ntop/nDPI#1946, #1948; the
// capture of that issue is nDPI's heuristic_tcp_ack_payload.pcap, where
// the sender's next segment carries its real data at the same sequence
// numbers). The stream holds such bytes until the sender's next segment
// says whether they were data (half.segment).
func (p *packet) paddingLike() bool {
	if !p.ack || p.psh || p.syn || p.fin || p.rst || p.fullLen > 6 || len(p.payload) != p.fullLen {
		return false
	}
	for _, b := range p.payload {
		if b != 0 {
			return false
		}
	}
	return true
}

// decoder decodes link, IP and transport headers (by hand: no allocation
// per packet) and reassembles IP fragments.
type decoder struct {
	frags defrag
}

func newDecoder() *decoder {
	return &decoder{frags: defrag{m: map[fragKey]*datagram{}}}
}

// linkSupported reports whether certsleuth decodes frames of the link type.
func linkSupported(link linkType) bool {
	switch link {
	case linkTypeEthernet, linkTypeNull, linkTypeLoop, linkTypeLinuxSLL, linkTypeLinuxSLL2,
		linkTypeIPv4, linkTypeIPv6, linkTypePPP, linkTypePPPHDLC, linkTypePPPEthernet,
		linkTypeRaw, linkTypeRaw12, linkTypeRaw14:
		return true
	}
	return false
}

// decode fills p from one frame. It reports false for frames that carry no
// IPv4/IPv6 TCP or UDP (ARP, ICMP, unknown link types, malformed headers).
// Every header is read by hand (decodeFast), only the fields certsleuth
// uses; FuzzDecodeFast checks the results against gopacket's decoders.
//
// Fragments of IP datagrams are kept (bounded) until the datagram is
// whole; the packet that completes it is decoded as the whole datagram.
// at is the packet's time (Unix nanoseconds), for expiring fragments.
func (d *decoder) decode(link linkType, data []byte, p *packet, at int64) bool {
	ok := decodeFast(link, data, p)
	if !ok && p.frag != nil {
		return d.frags.add(p, at)
	}
	return ok
}

// decodeLoopback decodes a BSD loopback frame (LINKTYPE_NULL, LINKTYPE_LOOP,
// https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html): a 4-byte address
// family, in the byte order of the host that wrote the file for NULL and
// in network byte order for LOOP (OpenBSD), then the IP packet. The family
// is below 256, so its order shows in the bytes: big-endian when the first
// two are zero (gopacket's layers.Loopback reads it so too, whatever the
// link type says). AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD,
// OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly), 30 (macOS) or 10 (Linux).
func decodeLoopback(data []byte, p *packet) bool {
	if len(data) < 4 {
		return false
	}
	var family uint32
	if data[0] == 0 && data[1] == 0 {
		family = uint32(data[2])<<8 | uint32(data[3])
	} else {
		family = uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
	}
	switch family {
	case 2:
		return decodeIPv4(data[4:], p)
	case 10, 24, 28, 30:
		return decodeIPv6(data[4:], p)
	}
	return false
}

// decodeFast decodes Ethernet (with any number of 802.1Q/802.1ad tags,
// PPPoE sessions and MPLS labels), BSD loopback, Linux cooked (SLL,
// SLL2), PPP and raw IPv4/IPv6 frames.
func decodeFast(link linkType, data []byte, p *packet) bool {
	*p = packet{}
	switch link {
	case linkTypeEthernet:
		return decodeEthernet(data, p)
	case linkTypeNull, linkTypeLoop:
		return decodeLoopback(data, p)
	case linkTypeLinuxSLL:
		// tcpdump's cooked header (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html):
		// 16 bytes, the protocol (an ethertype) in the last two.
		if len(data) < 16 {
			return false
		}
		return decodeEtherType(uint16(data[14])<<8|uint16(data[15]), data[16:], p)
	case linkTypeLinuxSLL2:
		// LINKTYPE_LINUX_SLL2: 20 bytes, the protocol in the first two.
		if len(data) < 20 {
			return false
		}
		return decodeEtherType(uint16(data[0])<<8|uint16(data[1]), data[20:], p)
	case linkTypePPP, linkTypePPPHDLC:
		// RFC 1662 §3.1: optional address 0xff and control 0x03, then
		// the protocol (RFC 1661 §2).
		if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
			data = data[2:]
		}
		return decodePPP(data, p)
	case linkTypePPPEthernet:
		return decodePPPoE(data, p)
	case linkTypeRaw, linkTypeRaw12, linkTypeRaw14, linkTypeIPv4, linkTypeIPv6:
	default:
		return false
	}
	if len(data) == 0 {
		return false
	}
	switch data[0] >> 4 {
	case 4:
		return link != linkTypeIPv6 && decodeIPv4(data, p)
	case 6:
		return link != linkTypeIPv4 && decodeIPv6(data, p)
	}
	return false
}

// decodeEthernet decodes an Ethernet frame.
func decodeEthernet(data []byte, p *packet) bool {
	if len(data) < 14 {
		return false
	}
	return decodeEtherType(uint16(data[12])<<8|uint16(data[13]), data[14:], p)
}

// Ethertypes decodeEtherType follows.
const (
	etherIPv4         = 0x0800
	etherIPv6         = 0x86dd
	etherVLAN         = 0x8100 // 802.1Q
	etherQinQ         = 0x88a8 // 802.1ad
	etherQinQOld      = 0x9100
	etherPPPoESession = 0x8864 // RFC 2516
	etherMPLS         = 0x8847 // RFC 3032
	etherMPLSMcast    = 0x8848
)

// decodeEtherType decodes data, the payload of a frame whose ethertype
// (or SLL protocol) is et: 802.1Q/802.1ad tags are skipped, PPPoE
// sessions and MPLS label stacks unwrapped.
func decodeEtherType(et uint16, data []byte, p *packet) bool {
	for et == etherVLAN || et == etherQinQ || et == etherQinQOld {
		if len(data) < 4 {
			return false
		}
		et = uint16(data[2])<<8 | uint16(data[3])
		data = data[4:]
	}
	switch et {
	case etherIPv4:
		return decodeIPv4(data, p)
	case etherIPv6:
		return decodeIPv6(data, p)
	case etherPPPoESession:
		return decodePPPoE(data, p)
	case etherMPLS, etherMPLSMcast:
		return decodeMPLS(data, p)
	}
	return false
}

// decodePPPoE decodes a PPPoE session frame's payload (RFC 2516 §6.3:
// version 1 and type 1 in one byte 0x11, code 0x00, session ID, length
// of the PPP frame), as DSL links carry IP.
func decodePPPoE(data []byte, p *packet) bool {
	if len(data) < 6 || data[0] != 0x11 || data[1] != 0 {
		return false
	}
	n := int(data[4])<<8 | int(data[5])
	data = data[6:]
	if n < len(data) {
		data = data[:n] // Ethernet padding
	}
	return decodePPP(data, p)
}

// decodePPP decodes a PPP frame from its protocol field (RFC 1661 §2):
// 0x0021 IPv4, 0x0057 IPv6, 0x0281/0x0283 MPLS; a one-byte (compressed,
// RFC 1661 §6.5) field is odd.
func decodePPP(data []byte, p *packet) bool {
	if len(data) == 0 {
		return false
	}
	proto, n := uint16(data[0]), 1
	if data[0]&1 == 0 {
		if len(data) < 2 {
			return false
		}
		proto, n = uint16(data[0])<<8|uint16(data[1]), 2
	}
	data = data[n:]
	switch proto {
	case 0x21:
		return decodeIPv4(data, p)
	case 0x57:
		return decodeIPv6(data, p)
	case 0x0281, 0x0283:
		return decodeMPLS(data, p)
	}
	return false
}

// decodeMPLS skips an MPLS label stack (RFC 3032 §2.1: 4 bytes a label,
// the last with the bottom-of-stack bit) and decodes what it carries: IP,
// told by its version nibble (RFC 3032 §2.2), or an Ethernet pseudowire
// behind a control word whose first nibble is 0 (RFC 4385 §3, RFC 4448).
func decodeMPLS(data []byte, p *packet) bool {
	for i := 0; ; i++ {
		if len(data) < 4 || i == 16 {
			return false
		}
		bottom := data[2]&1 != 0
		data = data[4:]
		if bottom {
			break
		}
	}
	if len(data) == 0 {
		return false
	}
	switch data[0] >> 4 {
	case 4:
		return decodeIPv4(data, p)
	case 6:
		return decodeIPv6(data, p)
	case 0:
		if len(data) >= 4+14 && !p.tun {
			p.tun = true
			return decodeEthernet(data[4:], p)
		}
	}
	return false
}

func decodeIPv4(b []byte, p *packet) bool {
	if len(b) < 20 || b[0]>>4 != 4 {
		return false
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(b[2])<<8 | int(b[3])
	if total == 0 { // TSO: the length is not filled in
		total = len(b)
	}
	if ihl < 20 || total < ihl || len(b) < ihl {
		return false
	}
	copy(p.src[:4], b[12:16])
	copy(p.dst[:4], b[16:20])
	end := min(total, len(b))
	if fl := uint16(b[6])<<8 | uint16(b[7]); fl&0x3fff != 0 { // MF flag or fragment offset
		p.frag = &fragment{
			key:    fragKey{src: p.src, dst: p.dst, id: uint32(b[4])<<8 | uint32(b[5]), proto: b[9]},
			offset: int(fl&0x1fff) * 8, more: fl&0x2000 != 0,
			data: b[ihl:end], cut: end < total,
		}
		return false
	}
	return decodeTransport(b[9], b[ihl:end], total-ihl, p)
}

func decodeIPv6(b []byte, p *packet) bool {
	if len(b) < 40 || b[0]>>4 != 6 {
		return false
	}
	plen := int(b[4])<<8 | int(b[5])
	p.v6 = true
	copy(p.src[:], b[8:24])
	copy(p.dst[:], b[24:40])
	next := b[6]
	if plen == 0 { // jumbogram or TSO
		plen = len(b) - 40
	}
	end := min(40+plen, len(b))
	return decodeExt(next, b[40:end], plen, p)
}

// decodeExt decodes what follows an IPv6 header whose next header is
// next: extension headers (RFC 8200 §4), then TCP or UDP. full is the
// length on the wire (the captured b may be shorter).
func decodeExt(next uint8, b []byte, full int, p *packet) bool {
	for range 8 {
		switch next {
		case 0, 43, 60, 135, 139, 140, 51:
			n := ipv6ExtLen(next, b)
			if n == 0 {
				return false
			}
			next, b, full = b[0], b[n:], full-n
		case 44: // fragment
			if len(b) < 8 {
				return false
			}
			off := int(b[2])<<8 | int(b[3])
			if off&^7 == 0 && off&1 == 0 { // an atomic fragment: the whole datagram
				next, b, full = b[0], b[8:], full-8
				continue
			}
			p.frag = &fragment{
				key:    fragKey{src: p.src, dst: p.dst, id: uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7]), proto: b[0], v6: true},
				offset: off &^ 7, more: off&1 != 0,
				data: b[8:], cut: len(b) < full,
			}
			return false
		default:
			return decodeTransport(next, b, full, p)
		}
	}
	return false
}

// ipv6ExtLen is the length of the IPv6 extension header of type next at
// the start of b (RFC 8200 section 4: hop-by-hop, routing, destination
// options, mobility, HIP, shim6 in 8-byte units; the authentication
// header, RFC 4302, in 4-byte units less 2), or 0 when next is no such
// header or b is shorter than it.
func ipv6ExtLen(next uint8, b []byte) int {
	if len(b) < 8 {
		return 0
	}
	var n int
	switch next {
	case 0, 43, 60, 135, 139, 140:
		n = (int(b[1]) + 1) * 8
	case 51:
		n = (int(b[1]) + 2) * 4
	default:
		return 0
	}
	if len(b) < n {
		return 0
	}
	return n
}

// decodeTransport decodes TCP (6) or UDP (17); full is the transport
// length on the wire, seg the captured bytes.
func decodeTransport(proto uint8, seg []byte, full int, p *packet) bool {
	switch proto {
	case 6:
		if len(seg) < 20 {
			return false
		}
		doff := int(seg[12]>>4) * 4
		if doff < 20 || doff > len(seg) {
			return false
		}
		p.tcp = true
		p.sport = uint16(seg[0])<<8 | uint16(seg[1])
		p.dport = uint16(seg[2])<<8 | uint16(seg[3])
		p.seq = uint32(seg[4])<<24 | uint32(seg[5])<<16 | uint32(seg[6])<<8 | uint32(seg[7])
		fl := seg[13]
		p.fin, p.syn, p.rst, p.psh, p.ack = fl&0x01 != 0, fl&0x02 != 0, fl&0x04 != 0, fl&0x08 != 0, fl&0x10 != 0
		p.payload = seg[doff:]
		p.fullLen = max(full-doff, len(p.payload))
		return true
	case 17:
		if len(seg) < 8 {
			return false
		}
		ulen := int(seg[4])<<8 | int(seg[5])
		switch {
		case ulen == 0: // jumbogram: the rest of the packet
			ulen = len(seg)
		case ulen < 8:
			return false
		}
		p.sport = uint16(seg[0])<<8 | uint16(seg[1])
		p.dport = uint16(seg[2])<<8 | uint16(seg[3])
		p.payload = seg[8:min(ulen, len(seg))]
		p.fullLen = max(ulen-8, len(p.payload))
		if p.dport == vxlanPort && !p.tun && !p.gtp && len(p.payload) >= 8+14 && p.payload[0]&0x08 != 0 {
			// VXLAN (RFC 7348 §5): flags with the I bit, 3 reserved
			// bytes, the VNI, 1 reserved byte, then an Ethernet frame.
			q := packet{tun: true}
			if decodeEthernet(p.payload[8:], &q) || q.frag != nil {
				*p = q
				return q.frag == nil
			}
		}
		if p.dport == genevePort && !p.tun && !p.gtp && len(p.payload) >= 8 && p.payload[0]>>6 == 0 {
			// Geneve (RFC 8926 §3.4): version 0 and the options'
			// length in 4-byte units, flags, the protocol type, the
			// VNI and a reserved byte, the options, then the frame:
			// Ethernet (0x6558, transparent Ethernet bridging) or, by
			// its ethertype, an IP packet.
			q := packet{tun: true}
			hl := 8 + int(p.payload[0]&0x3f)*4
			if len(p.payload) >= hl {
				inner, et := p.payload[hl:], uint16(p.payload[2])<<8|uint16(p.payload[3])
				var ok bool
				if et == 0x6558 {
					ok = decodeEthernet(inner, &q)
				} else {
					ok = decodeEtherType(et, inner, &q)
				}
				if ok || q.frag != nil {
					*p = q
					return ok
				}
			}
		}
		if (p.sport == capwapDataPort || p.dport == capwapDataPort) && !p.tun && !p.gtp {
			if inner, dot11, ok := capwapInner(p.payload); ok {
				q := packet{tun: true}
				if dot11 {
					ok = decode80211(inner, &q)
				} else {
					ok = decodeEthernet(inner, &q)
				}
				if ok || q.frag != nil {
					*p = q
					return ok
				}
			}
		}
		if (p.sport == gtpuPort || p.dport == gtpuPort) && !p.gtp {
			if inner, ok := gtpuInner(p.payload); ok {
				q := packet{gtp: true}
				var ok bool
				switch inner[0] >> 4 {
				case 4:
					ok = decodeIPv4(inner, &q)
				case 6:
					ok = decodeIPv6(inner, &q)
				}
				if ok || q.frag != nil {
					*p = q
					return ok
				}
			}
		}
		return true
	case 47:
		return decodeGRE(seg, p)
	case 4, 41:
		// IP in IP: IPv4 (protocol 4, RFC 2003 §3) or IPv6 (41, RFC 4213
		// §3.5 in IPv4, RFC 2473 §3 in IPv6) carried whole in an IPv4 or
		// IPv6 packet; one level is taken apart, as with the other
		// tunnels.
		if p.tun || p.gtp || len(seg) == 0 {
			return false
		}
		q := packet{tun: true}
		var ok bool
		switch {
		case proto == 4 && seg[0]>>4 == 4:
			ok = decodeIPv4(seg, &q)
		case proto == 41 && seg[0]>>4 == 6:
			ok = decodeIPv6(seg, &q)
		default:
			return false
		}
		if ok || q.frag != nil {
			*p = q
		}
		return ok
	}
	return false
}

// vxlanPort is VXLAN's UDP port (RFC 7348 §5); genevePort is Geneve's
// (RFC 8926 §3.3); capwapDataPort is CAPWAP's data channel (RFC 5415
// §3.1), between a wireless access point and its controller.
const (
	vxlanPort      = 4789
	genevePort     = 6081
	capwapDataPort = 5247
)

// capwapInner returns the frame a CAPWAP data packet carries (RFC 5415
// §4.3): a preamble of version 0 and type 0 (type 1 is a DTLS-encrypted
// packet, not readable), then HLEN (the header's length in 4-byte
// words, the optional radio MAC address and wireless information
// included), RID, WBID, and the flags T (the frame is in the wireless
// binding's native format: with WBID 1, IEEE 802.11, RFC 5416 §3; else
// an IEEE 802.3 frame), F (a fragment: not reassembled) and K (a
// keep-alive, no frame). dot11 says the frame is 802.11.
func capwapInner(b []byte) (frame []byte, dot11, ok bool) {
	if len(b) < 8 || b[0] != 0 {
		return nil, false, false
	}
	hlen := int(b[1]>>3) * 4
	wbid := (b[2] >> 1) & 0x1f
	native, frag, keepAlive := b[2]&0x01 != 0, b[3]&0x80 != 0, b[3]&0x08 != 0
	if hlen < 8 || hlen > len(b) || frag || keepAlive {
		return nil, false, false
	}
	if native && wbid != 1 {
		return nil, false, false // a binding other than 802.11
	}
	return b[hlen:], native, true
}

// decode80211 decodes an IEEE 802.11 data frame (IEEE 802.11-2020
// §9.2.4.1, §9.3.2.1): frame control, duration, three addresses and
// sequence control (24 bytes), a fourth address when both To DS and From
// DS are set, QoS control in a QoS data subtype and HT control after it
// when the +HTC/Order flag is set; then an LLC/SNAP header (AA AA 03 and
// an OUI of 00 00 00 or 00 00 F8, RFC 1042 and 802.1H) and the ethertype.
// Null-data and protected (encrypted) frames carry nothing to read. Some
// access points (Cisco's) send the frame control field with its two
// bytes swapped inside CAPWAP (Wireshark's capwap.swap_frame_control,
// on by default): a frame whose first byte is no data frame type but
// whose second is, is read so.
func decode80211(b []byte, p *packet) bool {
	if len(b) < 24 {
		return false
	}
	fc, flags := b[0], b[1]
	if fc&0x0f != 0x08 && flags&0x0f == 0x08 {
		fc, flags = flags, fc // swapped
	}
	if fc&0x0f != 0x08 { // version 0, type 2 (data)
		return false
	}
	subtype := fc >> 4
	if subtype&0x04 != 0 || flags&0x40 != 0 { // no data; protected
		return false
	}
	hl := 24
	if flags&0x03 == 0x03 {
		hl += 6
	}
	if subtype&0x08 != 0 {
		hl += 2
		if flags&0x80 != 0 {
			hl += 4
		}
	}
	if len(b) < hl+8 {
		return false
	}
	llc := b[hl:]
	if llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 || llc[3] != 0 || llc[4] != 0 || (llc[5] != 0 && llc[5] != 0xf8) {
		return false
	}
	return decodeEtherType(uint16(llc[6])<<8|uint16(llc[7]), llc[8:], p)
}

// decodeGRE decodes what a GRE packet carries (RFC 2784 §2, RFC 2890
// §2: flags C 0x80, K 0x20, S 0x10, version 0, the protocol type, then a
// checksum and reserved word with C, a key with K, a sequence number
// with S): IPv4 (0x0800), IPv6 (0x86dd), an Ethernet frame (0x6558,
// transparent Ethernet bridging), MPLS (0x8847, RFC 4023), ERSPAN (0x88be: type I with no
// sequence number, the frame at once; type II with one, behind an 8-byte
// header; 0x22eb: type III, behind 12 bytes and an 8-byte platform
// subheader when its O flag is set), as switches mirror traffic. One
// tunnel is taken apart, not a tunnel in a tunnel.
func decodeGRE(b []byte, p *packet) bool {
	if p.tun || p.gtp || len(b) < 4 || b[0]&0x4f != 0 || b[1]&0x07 != 0 {
		return false // routing present (RFC 1701), or version 1 (PPTP)
	}
	off := 4
	for _, bit := range []byte{0x80, 0x20, 0x10} {
		if b[0]&bit != 0 {
			off += 4
		}
	}
	if len(b) < off {
		return false
	}
	et := uint16(b[2])<<8 | uint16(b[3])
	inner := b[off:]
	q := packet{tun: true}
	var ok bool
	switch et {
	case etherIPv4:
		ok = decodeIPv4(inner, &q)
	case etherIPv6:
		ok = decodeIPv6(inner, &q)
	case 0x6558:
		ok = decodeEthernet(inner, &q)
	case etherMPLS, etherMPLSMcast: // MPLS over GRE (RFC 4023)
		ok = decodeMPLS(inner, &q)
	case 0x88be:
		if b[0]&0x10 != 0 { // type II: an 8-byte header, version 1
			if len(inner) < 8 || inner[0]>>4 != 1 {
				return false
			}
			inner = inner[8:]
		}
		ok = decodeEthernet(inner, &q)
	case 0x22eb: // type III: 12 bytes, version 2; O flag: 8 more
		if len(inner) < 12 || inner[0]>>4 != 2 {
			return false
		}
		n := 12
		if inner[11]&1 != 0 {
			n += 8
		}
		if len(inner) < n {
			return false
		}
		ok = decodeEthernet(inner[n:], &q)
	default:
		return false
	}
	if ok || q.frag != nil {
		*p = q
	}
	return ok
}

// GTP-U: a mobile network's core (the path between base stations and the
// packet gateway, where operators capture) carries each phone's IP packets
// in UDP to port 2152 behind a GTP-U header (3GPP TS 29.281 §5.1): flags
// (version 1, protocol type 1, and E, S, PN), message type 255 (G-PDU,
// user data), length, TEID; with any of E, S or PN set, 4 more bytes
// (sequence number, N-PDU number, next extension header type), then
// extension headers while E is set and the next type is not 0, each a
// length byte in 4-byte units, its content and the next type. The inner
// IP packet is read as if captured on its own (a G-PDU cut by the snap
// length is not: its length field cannot be checked).
const gtpuPort = 2152

// gtpuInner returns the IP packet inside a GTP-U G-PDU, or false.
func gtpuInner(b []byte) ([]byte, bool) {
	if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 || b[1] != 0xff {
		return nil, false
	}
	// The length counts the bytes after the first 8 (§5.1); a packet
	// the snap length cut inside them is not taken apart.
	l := 8 + (int(b[2])<<8 | int(b[3]))
	if len(b) < l {
		return nil, false
	}
	b = b[:l]
	off := 8
	if b[0]&0x07 != 0 {
		if len(b) < 12 {
			return nil, false
		}
		next := b[11]
		off = 12
		for b[0]&0x04 != 0 && next != 0 {
			if len(b) <= off || b[off] == 0 || len(b) < off+int(b[off])*4 {
				return nil, false
			}
			n := int(b[off]) * 4
			next = b[off+n-1]
			off += n
		}
	}
	if len(b) <= off || b[off]>>4 != 4 && b[off]>>4 != 6 {
		return nil, false
	}
	return b[off:], true
}

// ---- IP fragments

// Bounds on fragment reassembly.
const (
	maxDatagrams    = 256         // incomplete datagrams kept
	maxDatagramSize = 64 << 10    // bytes of one datagram
	fragTimeout     = int64(30e9) // capture nanoseconds a datagram may take
	fragMaxParts    = 64          // fragments of one datagram
)

// fragKey identifies the fragments of one datagram (RFC 791 §3.2, RFC 8200 §4.5).
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8 // IPv4: the protocol; IPv6: the fragment header's next header
	v6       bool
}

// fragment is one fragment as decoded; data points into the frame.
type fragment struct {
	key    fragKey
	offset int
	more   bool
	data   []byte
	cut    bool // the snap length cut it
}

type fragPart struct {
	offset int
	data   []byte
}

// datagram collects the fragments of one datagram.
type datagram struct {
	first int64 // time of its first fragment
	parts []fragPart
	total int // the datagram's length once its last fragment is seen; -1 before
	bad   bool
}

// defrag reassembles IP datagrams from their fragments.
type defrag struct {
	m   map[fragKey]*datagram
	buf []byte // the last datagram reassembled; valid until the next one
}

// add takes the fragment in p.frag. When it completes its datagram, p is
// decoded from the whole datagram and add reports true.
func (d *defrag) add(p *packet, at int64) bool {
	f := p.frag
	g := d.m[f.key]
	if g == nil {
		if len(d.m) >= maxDatagrams {
			d.expire(at)
		}
		if len(d.m) >= maxDatagrams {
			return false
		}
		g = &datagram{first: at, total: -1}
		d.m[f.key] = g
	}
	end := f.offset + len(f.data)
	if f.cut || end > maxDatagramSize || len(g.parts) >= fragMaxParts {
		g.bad = true // cannot be whole: dropped with the rest at expiry
	}
	if g.bad {
		return false
	}
	if !f.more {
		g.total = end
	}
	g.parts = append(g.parts, fragPart{f.offset, append([]byte(nil), f.data...)})
	if g.total < 0 {
		return false
	}
	// Whole when the parts cover [0, total).
	slices.SortFunc(g.parts, func(a, b fragPart) int { return a.offset - b.offset })
	covered := 0
	for _, fp := range g.parts {
		if fp.offset > covered {
			return false
		}
		covered = max(covered, fp.offset+len(fp.data))
	}
	if covered < g.total {
		return false
	}
	delete(d.m, f.key)
	d.buf = slices.Grow(d.buf[:0], g.total)[:g.total]
	for _, fp := range g.parts {
		copy(d.buf[fp.offset:], fp.data)
	}
	key := f.key
	p.frag = nil
	if key.v6 {
		// The fragmentable part may start with more extension headers:
		// decode it as the payload of an IPv6 header with key.proto as
		// its next header.
		return decodeExt(key.proto, d.buf, len(d.buf), p)
	}
	return decodeTransport(key.proto, d.buf, len(d.buf), p)
}

// expire drops datagrams older than fragTimeout, or the oldest half.
func (d *defrag) expire(at int64) {
	for k, g := range d.m {
		if at-g.first > fragTimeout {
			delete(d.m, k)
		}
	}
	if len(d.m) >= maxDatagrams {
		d.m = forgetOlder(d.m, func(g *datagram) int64 { return g.first })
	}
}
