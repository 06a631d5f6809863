package capture

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

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
	payload  []byte // the captured payload bytes
	fullLen  int    // the payload length on the wire (more than len(payload) when the snap length cut it)
	fragment bool
}

// decoder decodes link, IP and transport headers with gopacket's
// DecodingLayerParser: no allocation per packet.
type decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	lo      layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	pl      gopacket.Payload
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newDecoder() *decoder {
	return &decoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}, decoded: make([]gopacket.LayerType, 0, 12)}
}

func (d *decoder) parser(first gopacket.LayerType) *gopacket.DecodingLayerParser {
	p := d.parsers[first]
	if p == nil {
		p = gopacket.NewDecodingLayerParser(first, &d.eth, &d.dot1q, &d.sll, &d.sll2, &d.lo, &d.ip4, &d.ip6, &d.tcp, &d.udp, &d.pl)
		p.IgnoreUnsupported = true
		d.parsers[first] = p
	}
	return p
}

// firstLayer maps a link type to the layer its frames start with; ok is
// false for link types certsleuth does not read.
func firstLayer(link layers.LinkType, data []byte) (gopacket.LayerType, bool) {
	switch link {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, true
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4, true
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6, true
	case layers.LinkTypeRaw, 12, 14: // raw IP; DLT_RAW is 12 or 14 on some BSDs
		if len(data) > 0 && data[0]>>4 == 6 {
			return layers.LayerTypeIPv6, true
		}
		return layers.LayerTypeIPv4, true
	}
	return 0, false
}

// decode fills p from one frame. It reports false for frames that carry no
// IPv4/IPv6 TCP or UDP (ARP, ICMP, unknown link types, malformed headers).
//
// Ethernet and raw IP frames, nearly every packet of a large capture, take
// a hand-written path (decodeFast) that reads only the header fields
// certsleuth uses; the other link types go through gopacket's
// DecodingLayerParser. FuzzDecodeFast checks that both agree.
func (d *decoder) decode(link layers.LinkType, data []byte, p *packet) bool {
	switch link {
	case layers.LinkTypeEthernet, layers.LinkTypeRaw, 12, 14, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return decodeFast(link, data, p)
	}
	return d.decodeLayers(link, data, p)
}

// decodeLayers is decode by gopacket's DecodingLayerParser.
func (d *decoder) decodeLayers(link layers.LinkType, data []byte, p *packet) bool {
	first, ok := firstLayer(link, data)
	if !ok {
		return false
	}
	d.decoded = d.decoded[:0]
	// Errors are malformed or truncated headers: whatever decoded is used.
	_ = d.parser(first).DecodeLayers(data, &d.decoded)
	var ipPayload int = -1
	haveIP := false
	*p = packet{}
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			haveIP = true
			p.v6 = false
			copy(p.src[:], d.ip4.SrcIP.To4())
			copy(p.dst[:], d.ip4.DstIP.To4())
			ipPayload = int(d.ip4.Length) - int(d.ip4.IHL)*4
			p.fragment = d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0
		case layers.LayerTypeIPv6:
			haveIP = true
			p.v6 = true
			copy(p.src[:], d.ip6.SrcIP.To16())
			copy(p.dst[:], d.ip6.DstIP.To16())
			ipPayload = int(d.ip6.Length)
			if d.ip6.NextHeader != layers.IPProtocolTCP && d.ip6.NextHeader != layers.IPProtocolUDP {
				// Extension headers are not followed.
				return false
			}
		case layers.LayerTypeTCP:
			if !haveIP || p.fragment {
				return false
			}
			t := &d.tcp
			p.tcp = true
			p.sport, p.dport = uint16(t.SrcPort), uint16(t.DstPort)
			p.seq = t.Seq
			p.syn, p.ack, p.fin, p.rst = t.SYN, t.ACK, t.FIN, t.RST
			p.payload = t.Payload
			p.fullLen = ipPayload - int(t.DataOffset)*4
			if p.fullLen < len(p.payload) {
				// TSO frames (IP length 0) and odd writers: trust the bytes.
				p.fullLen = len(p.payload)
			}
			return true
		case layers.LayerTypeUDP:
			if !haveIP || p.fragment {
				return false
			}
			u := &d.udp
			p.sport, p.dport = uint16(u.SrcPort), uint16(u.DstPort)
			p.payload = u.Payload
			p.fullLen = int(u.Length) - 8
			if p.fullLen < len(p.payload) {
				p.fullLen = len(p.payload)
			}
			return true
		}
	}
	return false
}

// decodeFast decodes Ethernet (with any number of 802.1Q/802.1ad tags) and
// raw IPv4/IPv6 frames.
func decodeFast(link layers.LinkType, data []byte, p *packet) bool {
	*p = packet{}
	if link == layers.LinkTypeEthernet {
		if len(data) < 14 {
			return false
		}
		et := uint16(data[12])<<8 | uint16(data[13])
		off := 14
		for et == 0x8100 || et == 0x88a8 || et == 0x9100 { // 802.1Q, 802.1ad (QinQ), old QinQ
			if len(data) < off+4 {
				return false
			}
			et = uint16(data[off+2])<<8 | uint16(data[off+3])
			off += 4
		}
		data = data[off:]
		switch et {
		case 0x0800:
			return decodeIPv4(data, p)
		case 0x86dd:
			return decodeIPv6(data, p)
		}
		return false
	}
	if len(data) == 0 {
		return false
	}
	switch data[0] >> 4 {
	case 4:
		return link != layers.LinkTypeIPv6 && decodeIPv4(data, p)
	case 6:
		return link != layers.LinkTypeIPv4 && decodeIPv6(data, p)
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
	if (uint16(b[6])<<8|uint16(b[7]))&0x3fff != 0 { // MF flag or fragment offset
		return false
	}
	copy(p.src[:4], b[12:16])
	copy(p.dst[:4], b[16:20])
	end := min(total, len(b))
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
	return decodeTransport(next, b[40:end], plen, p)
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
		p.fin, p.syn, p.rst, p.ack = fl&0x01 != 0, fl&0x02 != 0, fl&0x04 != 0, fl&0x10 != 0
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
		return true
	}
	return false
}
