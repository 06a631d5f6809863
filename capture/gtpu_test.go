package capture

import (
	"bytes"
	"crypto/tls"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/certsleuth/certsleuth/record"
)

// gtpuWrap puts every packet of f inside GTP-U (3GPP TS 29.281 §5.1)
// between two core-network nodes: UDP port 2152, a G-PDU header with the
// E flag and one PDU Session Container extension header (type 0x85, as
// 5G user planes send), as in a capture taken in a mobile core.
func gtpuWrap(t *testing.T, f *capFile) {
	for i, p := range f.pkts {
		gtp := []byte{0x34, 0xff, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0x85, 1, 0x00, 0x09, 0}
		n := len(gtp) - 8 + len(p.ip)
		gtp[2], gtp[3] = byte(n>>8), byte(n)
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: []byte{10, 20, 0, 1}, DstIP: []byte{10, 20, 0, 2}}
		udp := &layers.UDP{SrcPort: gtpuPort, DstPort: gtpuPort}
		udp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload(append(gtp, p.ip...))); err != nil {
			t.Fatal(err)
		}
		f.pkts[i].ip, f.pkts[i].v6 = append([]byte(nil), buf.Bytes()...), false
	}
}

// TestGTPU reads a TLS connection captured inside GTP-U, whole and cut
// into 5-byte segments: the phone's connection, with its own addresses.
func TestGTPU(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12))
	for _, mss := range []int{0, 5} {
		f := newCapFile(t)
		f.tcp(cliPort(66), mailIP+":443", 0, conv, segOpts{mss: mss})
		gtpuWrap(t, f)
		res, err := Read(bytes.NewReader(f.encode(ethOnly)), "gtpu.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) != 1 {
			t.Fatalf("mss %d: %d observations, want 1", mss, len(res.Observations))
		}
		o := res.Observations[0]
		if o.Kind != record.KindTLS || o.Client != cliPort(66) || o.Server != mailIP+":443" || o.SNI != "autodiscover.contoso.test" || o.Visibility != record.VisVisible {
			t.Fatalf("mss %d: %s %s -> %s sni %q %s; want the inner TLS connection, visible", mss, o.Kind, o.Client, o.Server, o.SNI, o.Visibility)
		}
	}
}

// TestGTPUInner is the table of GTP-U headers (3GPP TS 29.281 §5.1, §5.2).
func TestGTPUInner(t *testing.T) {
	ip := []byte{0x45, 0, 0, 20}
	for _, c := range []struct {
		name string
		hdr  []byte
		ok   bool
	}{
		{"plain", []byte{0x30, 0xff, 0, 4, 1, 2, 3, 4}, true},
		{"sequence number", []byte{0x32, 0xff, 0, 8, 1, 2, 3, 4, 0, 7, 0, 0}, true},
		{"extension headers", []byte{0x34, 0xff, 0, 16, 1, 2, 3, 4, 0, 0, 0, 0x85, 1, 0, 9, 0xc0, 1, 0, 0, 0}, true},
		{"extension length 0", []byte{0x34, 0xff, 0, 16, 1, 2, 3, 4, 0, 0, 0, 0x85, 0, 0, 9, 0}, false},
		{"extension cut short", []byte{0x34, 0xff, 0, 16, 1, 2, 3, 4, 0, 0, 0, 0x85, 3, 0, 9}, false},
		{"echo request", []byte{0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0}, false},
		{"GTP'", []byte{0x20, 0xff, 0, 4, 1, 2, 3, 4}, false},
		{"version 2", []byte{0x50, 0xff, 0, 4, 1, 2, 3, 4}, false},
		{"short", []byte{0x30, 0xff, 0}, false},
	} {
		inner, ok := gtpuInner(append(append([]byte(nil), c.hdr...), ip...))
		if ok != c.ok || ok && !bytes.Equal(inner, ip) {
			t.Errorf("%s: %x, %v; want %v", c.name, inner, ok, c.ok)
		}
	}
}
