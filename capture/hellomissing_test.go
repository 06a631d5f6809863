package capture

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/certsleuth/certsleuth/record"
)

// TestServerHalfOnly: a capture that holds only the server's packets (a
// tap or SPAN port seeing one direction, asymmetric routing) shows the
// certificate, but not the client's hello: the observation must not say
// the client sent no SNI (NoSNI stays false) and its note says the hello
// is missing, so analysis leaves the name unjudged.
func TestServerHalfOnly(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	f := newCapFile(t)
	f.tcp(cliPort(83), mailIP+":443", 0, conv, segOpts{})
	var srv []gpkt
	for _, pk := range f.pkts {
		if pk.ip[12] == 192 && pk.ip[15] == 25 { // from 192.0.2.25 (mailIP)
			srv = append(srv, pk)
		}
	}
	f.pkts = srv
	o := readOneFrom(t, encapFile(t, f, layers.LinkTypeRaw, func(ip []byte, v6 bool) []byte { return ip }), "server-half.pcap")
	if o.Kind != record.KindTLS || o.Visibility != record.VisVisible || len(o.Chain) == 0 || o.SNI != "" || o.NoSNI {
		t.Fatalf("%s %s chain %d sni %q no-sni %v; want the certificate, no SNI and no claim that none was sent", o.Kind, o.Visibility, len(o.Chain), o.SNI, o.NoSNI)
	}
	if !strings.Contains(o.Note, "the client's hello is not in the capture") {
		t.Fatalf("note %q; want the missing hello said", o.Note)
	}
}
