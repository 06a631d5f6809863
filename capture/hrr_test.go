package capture

import (
	"crypto/tls"
	"strings"
	"testing"
)

// TestHelloRetryOnly: the server answers with a HelloRetryRequest and the
// capture ends before the client's second hello. The version is the one
// the HelloRetryRequest selected (RFC 8446 section 4.1.4), as tshark says,
// and a note says no ServerHello followed.
func TestHelloRetryOnly(t *testing.T) {
	p := newGenPKI(t)
	s := srvCfg(p.mailOnly, tls.VersionTLS13)
	s.CurvePreferences = []tls.CurveID{tls.CurveP256} // the client's first key shares are X25519MLKEM768 and X25519
	conv := tlsConv(t, s, cliCfg("autodiscover.contoso.test", tls.VersionTLS13))
	// Keep the client's first hello and the server's answer to it.
	var cut []chunk
	clients := 0
	for _, c := range conv {
		if c.fromClient {
			clients++
			if clients == 2 {
				break
			}
		}
		cut = append(cut, c)
	}
	f := newCapFile(t)
	f.tcp(cliPort(85), mailIP+":443", 0, cut, segOpts{})
	o := readOne(t, f, "hrr.pcap")
	if o.TLSVersion != "TLS 1.3" || o.SNI != "autodiscover.contoso.test" {
		t.Errorf("version %q, SNI %q; want TLS 1.3 and autodiscover.contoso.test", o.TLSVersion, o.SNI)
	}
	if !strings.Contains(o.Note, "HelloRetryRequest") {
		t.Errorf("note %q does not name the HelloRetryRequest", o.Note)
	}
}
