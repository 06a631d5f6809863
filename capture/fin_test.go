package capture

import (
	"crypto/tls"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/certsleuth/certsleuth/record"
)

// TestHoleBeforeFIN: the server's handshake flight is captured only as a
// retransmission after both endpoints sent FIN (the server's FIN says
// those bytes were sent: "previous segment not captured"). It is read when
// it comes within the wait after the FINs (maxAfterFIN packets, finWait of
// capture time), and not after.
func TestHoleBeforeFIN(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	hello := conv[:2] // the ClientHello and the server's first flight
	segs := segments(hello, segOpts{mss: 300})
	cli, srv := netip.MustParseAddr(cli1), netip.MustParseAddr(mailIP)
	tests := []struct {
		name    string
		between int           // the client's duplicate ACKs between the FINs and the retransmission
		pause   time.Duration // capture time between the FINs and the retransmission
		want    record.Visibility
	}{
		{"filled after the FINs", 0, 4 * time.Second, record.VisVisible},
		{"filled after 64 more packets", maxAfterFIN + 2, 0, record.VisMissing},
		{"filled after finWait", 0, finWait + 10*time.Second, record.VisMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newCapFile(t)
			f.tcp(cliPort(86), mailIP+":443", 0, hello, segOpts{mss: 300})
			all := f.pkts
			// The server's data segments leave their place and come
			// again after the FINs and the last ACK.
			var server []gpkt
			f.pkts = nil
			for i, pk := range all {
				if !segs[i].fromClient && len(segs[i].payload) > 0 {
					server = append(server, pk)
					continue
				}
				f.pkts = append(f.pkts, pk)
			}
			if len(server) < 2 {
				t.Fatalf("%d server segments; want several", len(server))
			}
			last := segs[len(segs)-1]
			for range tc.between {
				f.add(cli, srv, 0, &layers.TCP{SrcPort: 50086, DstPort: 443, Seq: last.seq, Ack: last.ack, ACK: true, Window: 65535}, nil)
			}
			f.pause(tc.pause)
			for _, pk := range server {
				pk.at = f.tick()
				f.pkts = append(f.pkts, pk)
			}
			o := readOne(t, f, "finhole.pcap")
			if o.Visibility != tc.want || o.SNI != "mail.contoso.test" {
				t.Fatalf("%s, SNI %q, chain %d, note %q; want %s", o.Visibility, o.SNI, len(o.Chain), o.Note, tc.want)
			}
			if tc.want == record.VisVisible && (o.TLSVersion != "TLS 1.2" || len(o.Chain) == 0) {
				t.Fatalf("version %q, chain %d; want TLS 1.2 and the server's certificate", o.TLSVersion, len(o.Chain))
			}
		})
	}
}
