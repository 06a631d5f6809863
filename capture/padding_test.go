package capture

import (
	"crypto/tls"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/certsleuth/certsleuth/record"
)

// TestPaddingACKs: before each of its data segments, each side sends a
// bare ACK whose IP length counts 2 to 6 zero bytes of Ethernet padding
// as payload, at the sequence number of the data that follows (as in
// nDPI's heuristic_tcp_ack_payload.pcap, ntop/nDPI#1946). The zeros are
// no data: the connection is read whole.
func TestPaddingACKs(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	segs := segments(conv, segOpts{})
	f := newCapFile(t)
	f.tcp(cliPort(87), mailIP+":443", 0, conv, segOpts{})
	all := f.pkts
	f.pkts = nil
	cli, srv := netip.MustParseAddr(cli1), netip.MustParseAddr(mailIP)
	for i, pk := range all {
		if sg := segs[i]; len(sg.payload) > 0 {
			src, dst, sport, dport, n := cli, srv, layers.TCPPort(50087), layers.TCPPort(443), 2
			if !sg.fromClient {
				src, dst, sport, dport, n = srv, cli, 443, 50087, 6
			}
			f.add(src, dst, 0, &layers.TCP{SrcPort: sport, DstPort: dport, Seq: sg.seq, Ack: sg.ack, ACK: true, Window: 65535}, make([]byte, n))
		}
		pk.at = f.tick()
		f.pkts = append(f.pkts, pk)
	}
	o := readOne(t, f, "padding.pcap")
	if o.Visibility != record.VisVisible || o.SNI != "mail.contoso.test" || o.TLSVersion != "TLS 1.2" || len(o.Chain) == 0 {
		t.Fatalf("%s, SNI %q, %s, chain %d, note %q; want the certificate read", o.Visibility, o.SNI, o.TLSVersion, len(o.Chain), o.Note)
	}
}
