package capture

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// encap is one way to carry an IP packet in a frame, as the RFC or the
// link type's definition gives it.
type encap struct {
	name string
	link layers.LinkType
	wrap func(ip []byte, v6 bool) []byte
}

var (
	macs     = []byte{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01}
	outer4   = []byte{10, 99, 0, 1}
	outer4b  = []byte{10, 99, 0, 2}
	ipEther  = func(v6 bool) uint16 { return map[bool]uint16{false: etherIPv4, true: etherIPv6}[v6] }
	pppProto = func(v6 bool) uint16 { return map[bool]uint16{false: 0x0021, true: 0x0057}[v6] }
)

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// ether is an Ethernet header with ethertype et.
func ether(et uint16) []byte { return cat(macs, be16(et)) }

// pppoe is a PPPoE session header (RFC 2516 §6.3) for a PPP frame of n bytes.
func pppoe(n int) []byte { return cat([]byte{0x11, 0, 0x12, 0x34}, be16(uint16(n))) }

// outerIPv4 wraps payload in an IPv4 header with protocol proto (made by
// gopacket, checksum and lengths filled in).
func outerIPv4(t *testing.T, proto layers.IPProtocol, payload []byte) []byte {
	buf := gopacket.NewSerializeBuffer()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: outer4, DstIP: outer4b}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// outerUDP wraps payload in IPv4 and UDP to port dport.
func outerUDP(t *testing.T, dport uint16, payload []byte) []byte {
	buf := gopacket.NewSerializeBuffer()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: outer4, DstIP: outer4b}
	udp := &layers.UDP{SrcPort: 49152, DstPort: layers.UDPPort(dport)}
	udp.SetNetworkLayerForChecksum(ip)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// encaps are the encapsulations the reader unwraps.
func encaps(t *testing.T) []encap {
	eth := func(ip []byte, v6 bool) []byte { return cat(ether(ipEther(v6)), ip) }
	return []encap{
		{"pppoe", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherPPPoESession), pppoe(2+len(ip)), be16(pppProto(v6)), ip)
		}},
		// RFC 1661 §6.5: the protocol field compressed to one byte.
		{"pppoe-pfc", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherPPPoESession), pppoe(1+len(ip)), []byte{byte(pppProto(v6))}, ip)
		}},
		// Padded to more than the PPPoE length says.
		{"vlan-pppoe-padded", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherVLAN), []byte{0, 7}, be16(etherPPPoESession), pppoe(2+len(ip)), be16(pppProto(v6)), ip, make([]byte, 20))
		}},
		{"sll-pppoe", layers.LinkTypeLinuxSLL, func(ip []byte, v6 bool) []byte {
			return cat([]byte{0, 0, 0, 1, 0, 6}, macs[:6], []byte{0, 0}, be16(etherPPPoESession), pppoe(2+len(ip)), be16(pppProto(v6)), ip)
		}},
		{"ppp-ethernet-linktype", layers.LinkTypePPPEthernet, func(ip []byte, v6 bool) []byte {
			return cat(pppoe(2+len(ip)), be16(pppProto(v6)), ip)
		}},
		{"ppp-hdlc", layers.LinkTypePPP, func(ip []byte, v6 bool) []byte {
			return cat([]byte{0xff, 0x03}, be16(pppProto(v6)), ip)
		}},
		// RFC 3032: two labels, the second with the bottom-of-stack bit.
		{"mpls", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherMPLS), []byte{0x00, 0x01, 0x40, 0x40, 0x00, 0x02, 0x01, 0x40}, ip)
		}},
		// RFC 4448: an Ethernet pseudowire behind a control word.
		{"mpls-pw-ethernet", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherMPLS), []byte{0x00, 0x01, 0x01, 0x40}, []byte{0, 0, 0, 0}, eth(ip, v6))
		}},
		{"gre-ip", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerIPv4(t, layers.IPProtocolGRE, cat([]byte{0, 0}, be16(ipEther(v6)), ip)))
		}},
		// RFC 2890: key and sequence number; transparent Ethernet bridging.
		{"gre-key-seq-ethernet", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerIPv4(t, layers.IPProtocolGRE, cat([]byte{0x30, 0}, be16(0x6558), []byte{0, 0, 0, 9, 0, 0, 0, 1}, eth(ip, v6))))
		}},
		// RFC 4023: an MPLS label in GRE.
		{"gre-mpls", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerIPv4(t, layers.IPProtocolGRE, cat([]byte{0, 0}, be16(etherMPLS), []byte{0x00, 0x01, 0x01, 0x40}, ip)))
		}},
		// ERSPAN type II: GRE with a sequence number, an 8-byte header (version 1).
		{"erspan2", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerIPv4(t, layers.IPProtocolGRE, cat([]byte{0x10, 0}, be16(0x88be), []byte{0, 0, 0, 5}, []byte{0x10, 0x01, 0, 0, 0, 0, 0, 3}, eth(ip, v6))))
		}},
		// ERSPAN type III: a 12-byte header (version 2) and, with O, an 8-byte subheader.
		{"erspan3", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerIPv4(t, layers.IPProtocolGRE, cat([]byte{0x10, 0}, be16(0x22eb), []byte{0, 0, 0, 5},
				[]byte{0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, make([]byte, 8), eth(ip, v6))))
		}},
		{"vxlan", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerUDP(t, vxlanPort, cat([]byte{0x08, 0, 0, 0, 0, 0, 0x2a, 0}, eth(ip, v6))))
		}},
		// RFC 8926 §3.4: Geneve with one 8-byte option (length 2), then Ethernet.
		{"geneve", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerUDP(t, genevePort, cat([]byte{0x02, 0}, be16(0x6558), []byte{0, 0, 0x2a, 0},
				[]byte{0x01, 0x02, 0x03, 0x01, 0, 0, 0, 7}, eth(ip, v6))))
		}},
		// Geneve carrying an IP packet directly, its ethertype as protocol.
		{"geneve-ip", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerUDP(t, genevePort, cat([]byte{0, 0}, be16(ipEther(v6)), []byte{0, 0, 0x2a, 0}, ip)))
		}},
		// RFC 5415 §4.3: CAPWAP data (UDP 5247) carrying an 802.3 frame
		// (T clear; HLEN 2, no optional fields).
		{"capwap-8023", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerUDP(t, capwapDataPort, cat([]byte{0, 2 << 3, 1 << 1, 0, 0, 0, 0, 0}, eth(ip, v6))))
		}},
		// CAPWAP carrying an 802.11 data frame (T set, WBID 1, RFC 5416
		// §3), with 8 bytes of wireless specific information (W; HLEN
		// 4): To DS, three addresses, LLC/SNAP.
		{"capwap-80211", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerUDP(t, capwapDataPort, cat(capwap80211Hdr, []byte{0x08, 0x01}, dot11Rest, llcSNAP(v6), ip)))
		}},
		// The same with the frame control field's bytes swapped (Cisco
		// access points) and a QoS data frame (subtype 8: QoS control).
		{"capwap-80211-swapped-qos", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerUDP(t, capwapDataPort, cat(capwap80211Hdr, []byte{0x01, 0x88}, dot11Rest, []byte{0, 0}, llcSNAP(v6), ip)))
		}},
		// RFC 2003 (IPv4 in IPv4, protocol 4), RFC 4213 §3.5 (IPv6 in IPv4, 41).
		{"ip-in-ipv4", layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte {
			return cat(ether(etherIPv4), outerIPv4(t, map[bool]layers.IPProtocol{false: layers.IPProtocolIPv4, true: layers.IPProtocolIPv6}[v6], ip))
		}},
		// RFC 2473: IPv4 or IPv6 in IPv6 (next header 4 or 41).
		{"ip-in-ipv6", layers.LinkTypeRaw, func(ip []byte, v6 bool) []byte {
			buf := gopacket.NewSerializeBuffer()
			o := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: map[bool]layers.IPProtocol{false: layers.IPProtocolIPv4, true: layers.IPProtocolIPv6}[v6], SrcIP: make([]byte, 16), DstIP: append(make([]byte, 15), 1)}
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, o, gopacket.Payload(ip)); err != nil {
				t.Fatal(err)
			}
			return append([]byte(nil), buf.Bytes()...)
		}},
		{"ipv6-gre", layers.LinkTypeRaw, func(ip []byte, v6 bool) []byte {
			buf := gopacket.NewSerializeBuffer()
			o := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolGRE, SrcIP: make([]byte, 16), DstIP: append(make([]byte, 15), 1)}
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, o, gopacket.Payload(cat([]byte{0, 0}, be16(ipEther(v6)), ip))); err != nil {
				t.Fatal(err)
			}
			return append([]byte(nil), buf.Bytes()...)
		}},
	}
}

// capwap80211Hdr is a CAPWAP header (RFC 5415 §4.3) for an 802.11 frame
// with wireless specific information (4 bytes, padded); dot11Rest is an
// 802.11 header after its frame control (duration, three addresses,
// sequence control); llcSNAP the RFC 1042 header for an IP packet.
var (
	capwap80211Hdr = []byte{0, 4 << 3, 1<<1 | 1, 0x20, 0, 0, 0, 0, 4, 0xc2, 0x25, 0, 0, 0, 0, 0}
	dot11Rest      = cat([]byte{0x2c, 0}, macs, macs[:6], []byte{0x60, 0x50})
	llcSNAP        = func(v6 bool) []byte { return cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0}, be16(ipEther(v6))) }
)

// encapFile writes f's packets with one encapsulation.
func encapFile(t *testing.T, f *capFile, link layers.LinkType, wrap func([]byte, bool) []byte) []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(262144, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range f.pkts {
		data := wrap(p.ip, p.v6)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.at, Length: len(data), CaptureLength: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestEncapsulations reads a real TLS connection (Go's crypto/tls on
// 127.0.0.1), over IPv4 and IPv6, carried in each encapsulation: the
// inner connection, its SNI and certificate, and nothing skipped.
func TestEncapsulations(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12))
	for _, e := range encaps(t) {
		for _, ep := range [][2]string{{cliPort(70), mailIP + ":443"}, {"[2001:db8::10]:50070", "[2001:db8::25]:443"}} {
			t.Run(e.name+"/"+ep[1], func(t *testing.T) {
				f := newCapFile(t)
				f.tcp(ep[0], ep[1], 0, conv, segOpts{})
				res, err := Read(bytes.NewReader(encapFile(t, f, e.link, e.wrap)), e.name+".pcap", Options{})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Observations) != 1 || res.Stats.Undecoded != 0 || len(res.Problems) != 0 {
					t.Fatalf("%d observations, %d undecoded, problems %q; want 1, 0, none", len(res.Observations), res.Stats.Undecoded, res.Problems)
				}
				o := res.Observations[0]
				if o.Kind != record.KindTLS || o.Client != ep[0] || o.Server != ep[1] || o.SNI != "autodiscover.contoso.test" || o.Visibility != record.VisVisible || len(o.Chain) == 0 {
					t.Fatalf("%s %s -> %s sni %q %s chain %d; want the inner connection, visible", o.Kind, o.Client, o.Server, o.SNI, o.Visibility, len(o.Chain))
				}
			})
		}
	}
}

// TestSkippedFrames: frames the reader cannot decode are counted by kind
// in Problems, except ordinary noise (ARP, LLDP, spanning tree, ICMP);
// one that holds a TLS handshake makes a TLS observation that is not
// judged (not-captured), so the capture cannot pass as clean, and those
// frames are counted (Stats.UndecodedTLS, for the report's headline).
func TestSkippedFrames(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	noise := lanNoise(t)

	t.Run("noise", func(t *testing.T) {
		f := newCapFile(t)
		f.tcp(cliPort(71), mailIP+":443", 0, conv, segOpts{})
		data := encapFile(t, f, layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte { return cat(ether(etherIPv4), ip) })
		data = appendFrames(t, data, noise...)
		res, err := Read(bytes.NewReader(data), "noise.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) != 1 || res.Observations[0].Visibility != record.VisVisible || res.Stats.Undecoded != 4 || len(res.Problems) != 0 {
			t.Fatalf("%d observations, %d undecoded, problems %q; want 1 visible, 4, none", len(res.Observations), res.Stats.Undecoded, res.Problems)
		}
	})
	t.Run("unknown ethertype with TLS", func(t *testing.T) {
		// The connection's packets behind an ethertype certsleuth does
		// not know (0x88b5, IEEE 802 local experimental).
		f := newCapFile(t)
		f.tcp(cliPort(72), mailIP+":443", 0, conv, segOpts{})
		data := encapFile(t, f, layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte { return cat(ether(0x88b5), ip) })
		res, err := Read(bytes.NewReader(appendFrames(t, data, noise...)), "odd.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) != 1 {
			t.Fatalf("%d observations, want 1 (the frames' TLS, not judged)", len(res.Observations))
		}
		o := res.Observations[0]
		if o.Kind != record.KindTLS || o.Visibility != record.VisMissing || !strings.Contains(o.Note, "(ethertype 0x88b5, not decoded) holds a TLS ClientHello") {
			t.Errorf("%s %s note %q; want a TLS observation not-captured naming the ethertype", o.Kind, o.Visibility, o.Note)
		}
		// The ClientHello and the server's ServerHello and Certificate
		// (one segment) hold a TLS handshake record.
		n := len(f.pkts)
		if res.Stats.UndecodedTLS != 2 {
			t.Errorf("Stats.UndecodedTLS %d; want the 2 frames holding a TLS handshake", res.Stats.UndecodedTLS)
		}
		if len(res.Problems) != 1 || res.Problems[0] != strconv.Itoa(n)+" frames skipped: ethertype 0x88b5 not decoded (the first: odd.pcap packet 1); 2 hold a TLS handshake, so the capture is not judged" {
			t.Errorf("problems %q; want the %d frames of ethertype 0x88b5, 2 with TLS, and not the noise", res.Problems, n)
		}
	})
	t.Run("noise behind IPv6 options and tunnels", func(t *testing.T) {
		// An MLDv2 report (ICMPv6 behind a hop-by-hop header with a router
		// alert, RFC 3810 section 5), the same in 6in4 (IPv4 protocol 41),
		// and ICMP in IP in IP: noise, however it is wrapped; a
		// hop-by-hop header before a protocol certsleuth does not decode
		// (OSPF is noise, 200 is not) is counted by that protocol.
		v6 := func(next uint8, payload []byte) []byte {
			return cat([]byte{0x60, 0, 0, 0}, be16(uint16(len(payload))), []byte{next, 1}, make([]byte, 32), payload)
		}
		hbh := func(next uint8) []byte { return []byte{next, 0, 5, 2, 0, 0, 1, 0} } // router alert
		mld := v6(0, cat(hbh(58), []byte{143, 0, 0, 0, 0, 0, 0, 0}))
		frames := [][]byte{
			cat(ether(etherIPv6), mld),
			cat(ether(etherIPv4), outerIPv4(t, layers.IPProtocolIPv6, mld)),
			cat(ether(etherIPv4), outerIPv4(t, layers.IPProtocolIPv4, outerIPv4(t, layers.IPProtocolICMPv4, []byte{8, 0, 0xf7, 0xff, 0, 0, 0, 0}))),
			cat(ether(etherIPv6), v6(0, cat(hbh(200), []byte("not a protocol certsleuth reads")))),
		}
		res, err := Read(bytes.NewReader(appendFrames(t, encapFile(t, newCapFile(t), layers.LinkTypeEthernet, nil), frames...)), "mld.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.Undecoded != 4 || len(res.Problems) != 1 || res.Problems[0] != "1 frame skipped: IPv6 next header 200 not decoded (the first: mld.pcap packet 4)" {
			t.Errorf("%d undecoded, problems %q; want 4, and only the frame of protocol 200 counted", res.Stats.Undecoded, res.Problems)
		}
	})
	t.Run("unknown ethertype without TLS", func(t *testing.T) {
		res, err := Read(bytes.NewReader(appendFrames(t, encapFile(t, newCapFile(t), layers.LinkTypeEthernet, nil), cat(ether(0x88b5), []byte("hello")), cat(ether(0x88b5), []byte("world")))), "odd.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) != 0 || len(res.Problems) != 1 || res.Problems[0] != "2 frames skipped: ethertype 0x88b5 not decoded (the first: odd.pcap packet 1)" {
			t.Errorf("%d observations, problems %q", len(res.Observations), res.Problems)
		}
	})
}

// appendFrames adds Ethernet frames to the end of a pcap file's bytes.
func appendFrames(t *testing.T, file []byte, frames ...[]byte) []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	for _, fr := range frames {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: genBase.Add(time.Second), Length: len(fr), CaptureLength: len(fr)}, fr); err != nil {
			t.Fatal(err)
		}
	}
	return append(append([]byte(nil), file...), buf.Bytes()...)
}

var regenEncap = flag.Bool("regen-encap", false, "remake testdata/encap-pppoe.pcap, testdata/skipped-tls.pcap and testdata/encap-ca.pem from a real TLS connection on 127.0.0.1")

// TestEncapFiles checks the committed captures the CLI tests read
// (cmd/certsleuth/testdata/script/pcap_encap.txtar), made with
// -regen-encap from one real TLS 1.2 connection (Go's crypto/tls on
// 127.0.0.1, SNI mail.contoso.test, a certificate for it from
// encap-ca.pem) and the noise of a LAN (ARP, LLDP, spanning tree, ICMP):
// encap-pppoe.pcap carries it in PPPoE session frames, skipped-tls.pcap
// behind ethertype 0x88b5, which certsleuth does not decode.
func TestEncapFiles(t *testing.T) {
	pppoePath, skipPath := filepath.Join("testdata", "encap-pppoe.pcap"), filepath.Join("testdata", "skipped-tls.pcap")
	if *regenEncap {
		p := newGenPKI(t)
		conv := tlsConv(t, srvCfg(p.right, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
		f := newCapFile(t)
		f.tcp(cliPort(73), mailIP+":443", 0, conv, segOpts{})
		noise := lanNoise(t)
		os.WriteFile(pppoePath, appendFrames(t, encapFile(t, f, layers.LinkTypeEthernet, encaps(t)[0].wrap), noise...), 0o644)
		os.WriteFile(skipPath, appendFrames(t, encapFile(t, f, layers.LinkTypeEthernet, func(ip []byte, v6 bool) []byte { return cat(ether(0x88b5), ip) }), noise...), 0o644)
		testcert.WritePEM(t, filepath.Join("testdata", "encap-ca.pem"), p.ca.Cert.Raw)
	}
	for _, c := range []struct {
		path string
		vis  record.Visibility
		sni  string
		prob string
	}{
		{pppoePath, record.VisVisible, "mail.contoso.test", ""},
		{skipPath, record.VisMissing, "", "frames skipped: ethertype 0x88b5 not decoded"},
	} {
		in, err := os.Open(c.path)
		if err != nil {
			t.Fatalf("%v (make it with go test ./capture -run TestEncapFiles -regen-encap)", err)
		}
		res, err := Read(in, c.path, Options{})
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) != 1 || res.Observations[0].Visibility != c.vis || res.Observations[0].SNI != c.sni {
			t.Fatalf("%s: %d observations %+v; want one, %s, SNI %q", c.path, len(res.Observations), res.Observations, c.vis, c.sni)
		}
		if got := strings.Join(res.Problems, "; "); c.prob == "" && got != "" || !strings.Contains(got, c.prob) {
			t.Errorf("%s: problems %q; want %q", c.path, got, c.prob)
		}
	}
}

// encapReadme is the line of testdata/README.md for these files.
const encapReadme = "- `encap-pppoe.pcap`, `skipped-tls.pcap` (+ `encap-ca.pem`, their own CA): made by `go test ./capture -run TestEncapFiles -regen-encap` (encap_test.go), not by -regen: one real TLS 1.2 connection (Go's crypto/tls on 127.0.0.1, SNI mail.contoso.test, the right certificate) and a LAN's noise (ARP, LLDP, spanning tree, ICMP); in `encap-pppoe.pcap` the connection's packets are in PPPoE session frames (RFC 2516), in `skipped-tls.pcap` behind ethertype 0x88b5 (IEEE 802 local experimental), which certsleuth does not decode.\n"

// lanNoise is ARP, LLDP, spanning tree and ICMP frames.
func lanNoise(t *testing.T) [][]byte {
	return [][]byte{
		cat(ether(0x0806), []byte{0, 1, 8, 0, 6, 4, 0, 1}, make([]byte, 20)),
		cat([]byte{0x01, 0x80, 0xc2, 0, 0, 0x0e}, macs[6:], be16(0x88cc), []byte{2, 7, 4, 0, 0, 0, 0, 0, 1, 0, 0}),
		cat([]byte{0x01, 0x80, 0xc2, 0, 0, 0}, macs[6:], be16(38), []byte{0x42, 0x42, 0x03}, make([]byte, 35)),
		cat(ether(etherIPv4), outerIPv4(t, layers.IPProtocolICMPv4, []byte{8, 0, 0xf7, 0xff, 0, 0, 0, 0})),
	}
}

// TestDecodeNoAlloc: unwrapping an encapsulation allocates nothing (the
// decoder runs for every packet of a capture).
func TestDecodeNoAlloc(t *testing.T) {
	f := newCapFile(t)
	f.tcp(cliPort(74), mailIP+":443", 0, []chunk{{true, []byte("\x16\x03\x01\x00\x01\x01")}}, segOpts{})
	for _, e := range encaps(t) {
		frame := e.wrap(f.pkts[3].ip, false)
		var p packet
		if n := testing.AllocsPerRun(100, func() { decodeFast(linkType(e.link), frame, &p) }); n != 0 || !p.tcp {
			t.Errorf("%s: %v allocations a frame (tcp %v), want 0", e.name, n, p.tcp)
		}
	}
}

// TestSkippedNoAlloc: counting a frame that is not decoded (ARP, ICMP, an
// unknown ethertype) allocates nothing once its kind is known.
func TestSkippedNoAlloc(t *testing.T) {
	r := newReader(Options{}, func(*record.Observation) error { return nil })
	for _, fr := range append(lanNoise(t), cat(ether(0x88b5), []byte("hello, not TLS"))) {
		r.skipped(linkTypeEthernet, fr, 0, "x.pcap", 1)
		if n := testing.AllocsPerRun(100, func() { r.skipped(linkTypeEthernet, fr, 0, "x.pcap", 2) }); n != 0 {
			t.Errorf("%x: %v allocations a frame, want 0", fr[12:14], n)
		}
	}
}
