package capture

import (
	"crypto/tls"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/certsleuth/certsleuth/record"
)

// TestServerAfterClientRST: the client sends its ClientHello, then FIN
// and RST at once; the server's flight, already on its way, follows the
// RST in the capture. Its certificate is read (as Wireshark does) and the
// note says the client had gone. The client's packets after its RST are
// not read.
func TestServerAfterClientRST(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	f := newCapFile(t)
	f.tcp(cliPort(84), mailIP+":443", 0, conv, segOpts{})
	all := f.pkts
	fromClient := func(pk gpkt) bool { return pk.ip[15] == 10 && pk.ip[12] == 192 } // 192.0.2.10 (cli1)
	// SYN, SYN-ACK, ACK, ClientHello (one segment), then the RST.
	f.pkts = append([]gpkt(nil), all[:4]...)
	hello := all[3].ip
	seq := uint32(hello[24])<<24 | uint32(hello[25])<<16 | uint32(hello[26])<<8 | uint32(hello[27])
	n := int(hello[2])<<8 | int(hello[3]) - 20 - int(hello[32]>>4)*4
	f.add(netip.MustParseAddr(cli1), netip.MustParseAddr(mailIP), 0, &layers.TCP{SrcPort: 50084, DstPort: 443, Seq: seq + uint32(n), RST: true, ACK: true, Ack: 1, Window: 0}, nil)
	for _, pk := range all[4:] {
		if !fromClient(pk) {
			f.pkts = append(f.pkts, pk)
		}
	}
	o := readOneFrom(t, encapFile(t, f, layers.LinkTypeRaw, func(ip []byte, v6 bool) []byte { return ip }), "rst.pcap")
	if o.Visibility != record.VisVisible || len(o.Chain) == 0 || o.SNI != "mail.contoso.test" {
		t.Fatalf("%s chain %d sni %q note %q; want the server's certificate read after the client's RST", o.Visibility, len(o.Chain), o.SNI, o.Note)
	}
	if !strings.Contains(o.Note, "the client reset the connection") {
		t.Fatalf("note %q; want the client's RST said", o.Note)
	}
}
