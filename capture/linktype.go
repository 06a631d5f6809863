package capture

// linkType is the link-layer header type of a capture's frames: the
// LINKTYPE_ numbers of https://www.tcpdump.org/linktypes.html, 16 bits
// as the pcap file header's lower half and the pcapng Interface
// Description Block carry them.
type linkType uint16

// The link types certsleuth decodes (decode.go), and those it names when
// it skips their frames.
const (
	linkTypeNull        linkType = 0   // BSD loopback, the address family in host byte order
	linkTypeEthernet    linkType = 1   // IEEE 802.3 Ethernet
	linkTypePPP         linkType = 9   // PPP (RFC 1661), optionally with HDLC-like framing
	linkTypeFDDI        linkType = 10  // FDDI
	linkTypePPPHDLC     linkType = 50  // PPP in HDLC-like framing (RFC 1662)
	linkTypePPPEthernet linkType = 51  // PPPoE (RFC 2516)
	linkTypeRaw         linkType = 101 // raw IPv4 or IPv6
	linkTypeIEEE80211   linkType = 105 // IEEE 802.11 wireless
	linkTypeLoop        linkType = 108 // OpenBSD loopback, the address family in network byte order
	linkTypeLinuxSLL    linkType = 113 // Linux cooked capture (tcpdump -i any)
	linkTypePFLog       linkType = 117 // OpenBSD pflog
	linkTypePrism       linkType = 119 // Prism monitor mode
	linkTypeRadiotap    linkType = 127 // 802.11 with radiotap
	linkTypeLinuxUSB    linkType = 220 // Linux USB
	linkTypeIPv4        linkType = 228 // raw IPv4
	linkTypeIPv6        linkType = 229 // raw IPv6
	linkTypeLinuxSLL2   linkType = 276 // Linux cooked capture v2
	// DLT_RAW is 12 on most systems and 14 on OpenBSD; files written
	// there carry those numbers (linktypes.html, "LINKTYPE_RAW").
	linkTypeRaw12 linkType = 12
	linkTypeRaw14 linkType = 14
)

// String names the link type as certsleuth's messages always have
// ("link type 127 (RadioTap) is not supported"): the names gopacket's
// layers.LinkType gave, which TestLinkTypeNames checks.
func (t linkType) String() string {
	switch t {
	case linkTypeNull:
		return "Null"
	case linkTypeEthernet:
		return "Ethernet"
	case linkTypePPP:
		return "PPP"
	case linkTypeFDDI:
		return "FDDI"
	case linkTypeRaw, linkTypeRaw12, linkTypeRaw14:
		return "Raw"
	case linkTypeIEEE80211:
		return "802.11"
	case linkTypeLoop:
		return "Loop"
	case linkTypeLinuxSLL:
		return "Linux SLL"
	case linkTypePFLog:
		return "PFLog"
	case linkTypePrism:
		return "Prism"
	case linkTypeRadiotap:
		return "RadioTap"
	case linkTypeLinuxUSB:
		return "USB"
	case linkTypeLinuxSLL2:
		return "Linux SLL2"
	}
	return "UnknownLinkType"
}
