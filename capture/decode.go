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
func (d *decoder) decode(link layers.LinkType, data []byte, p *packet) bool {
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
