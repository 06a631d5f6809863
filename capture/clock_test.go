package capture

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/certsleuth/certsleuth/record"
)

// TestClockOutlier: one packet whose time stamp is 48 years ahead of the
// others (the SYN-ACK of mercury's imap2.pcap is dated 2063 in a 2015
// capture) must not move the idle clock: the connection is still read
// whole, and the outlier is said in Problems. Two packets far ahead in a
// row are a real pause: the clock follows, connections idle across it
// are closed, and data that comes for them later is counted, not dropped
// silently.
func TestClockOutlier(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12))
	raw := func(ip []byte, v6 bool) []byte { return ip }
	t.Run("lone outlier", func(t *testing.T) {
		f := newCapFile(t)
		f.tcp(cliPort(80), mailIP+":443", 0, conv, segOpts{mss: 200})
		f.pkts[1].at = f.pkts[1].at.AddDate(48, 0, 0) // the SYN-ACK
		for i := 2; i < len(f.pkts); i++ {
			f.pkts[i].at = f.pkts[i].at.Add(time.Duration(i) * 10 * time.Second) // sweeps happen
		}
		res, err := Read(bytes.NewReader(encapFile(t, f, layers.LinkTypeRaw, raw)), "outlier.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) != 1 || res.Observations[0].Visibility != record.VisVisible || len(res.Observations[0].Chain) == 0 {
			t.Fatalf("%d observations (%+v); want the connection read whole", len(res.Observations), res.Observations)
		}
		if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "1 packet carries a time stamp far ahead") || !strings.Contains(res.Problems[0], "packet 2") {
			t.Fatalf("problems %q; want the outlier (packet 2) said", res.Problems)
		}
	})
	t.Run("real pause", func(t *testing.T) {
		f := newCapFile(t)
		f.tcp(cliPort(81), mailIP+":443", 0, conv, segOpts{mss: 200})
		// The client's last data segment, sent again after a two-hour
		// pause during which another connection came and went.
		var last gpkt
		for _, pk := range f.pkts {
			if pk.ip[12] == f.pkts[0].ip[12] && pk.ip[15] == f.pkts[0].ip[15] && int(pk.ip[2])<<8|int(pk.ip[3]) > 20+int(pk.ip[32]>>4)*4 {
				last = pk
			}
		}
		f.pkts = f.pkts[:len(f.pkts)-3] // no FIN: the connection stays open, idle
		f.pause(2 * time.Hour)
		f.tcp(cliPort(82), mailIP+":443", 0, conv, segOpts{mss: 200})
		last.at = f.tick()
		f.pkts = append(f.pkts, last)
		res, err := Read(bytes.NewReader(encapFile(t, f, layers.LinkTypeRaw, raw)), "pause.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) != 2 || res.Observations[0].Visibility != record.VisVisible {
			for _, o := range res.Observations {
				t.Logf("%s %s %s %s %s", o.Kind, o.Client, o.Server, o.Visibility, o.Note)
			}
			t.Fatalf("%d observations; want both connections", len(res.Observations))
		}
		var late string
		for _, pr := range res.Problems {
			if strings.Contains(pr, "far ahead") {
				t.Fatalf("problems %q: a confirmed pause is not an outlier", res.Problems)
			}
			if strings.Contains(pr, "closed as idle") {
				late = pr
			}
		}
		if !strings.HasPrefix(late, "1 packet with data came after its connection had been closed as idle") {
			t.Fatalf("problems %q; want the client's late data counted", res.Problems)
		}
	})
}
