package capture

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
)

// The local OpenSSL (3.0, Debian) is built without SSL 2.0 and 3.0, and
// Go never spoke them, so these handshakes are built by hand from the
// specifications: SSL 3.0 records and messages (RFC 6101 §5.2, §5.6),
// the SSL 2.0 CLIENT-HELLO and SERVER-HELLO (draft-hickman-netscape-ssl-00
// §2.5-2.6, and the "version 2 compatible" hello of RFC 5246 §E.2). The
// SSL 2.0 server side is also checked on Zeek's ssl-v2.pcap (a real
// capture, TestPublicCaptures).

// record30 wraps a handshake message in an SSL 3.0 record.
func record30(typ uint8, body []byte) []byte {
	msg := append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{recHandshake, 3, 0, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// buildSSL2ClientHello is an SSL 2.0 CLIENT-HELLO record offering version v.
func buildSSL2ClientHello(v uint16) []byte {
	specs := []byte{0x01, 0x00, 0x80, 0x00, 0x00, 0x2f} // SSL_CK_RC4_128_WITH_MD5, TLS_RSA_WITH_AES_128_CBC_SHA
	challenge := bytes.Repeat([]byte{0xab}, 16)
	msg := []byte{ssl2ClientHello, byte(v >> 8), byte(v)}
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(specs)))
	msg = binary.BigEndian.AppendUint16(msg, 0)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(challenge)))
	msg = append(append(msg, specs...), challenge...)
	return append([]byte{0x80 | byte(len(msg)>>8), byte(len(msg))}, msg...)
}

// buildSSL2ServerHello is an SSL 2.0 SERVER-HELLO record with cert.
func buildSSL2ServerHello(cert []byte) []byte {
	specs := []byte{0x01, 0x00, 0x80}
	connID := bytes.Repeat([]byte{0xcd}, 16)
	msg := []byte{ssl2ServerHello, 0, 1, 0, 2}
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(cert)))
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(specs)))
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(connID)))
	msg = append(append(append(msg, cert...), specs...), connID...)
	return append([]byte{0x80 | byte(len(msg)>>8), byte(len(msg))}, msg...)
}

// TestOldHellos: an SSL 3.0 handshake, an SSL 2.0-format ClientHello
// answered in TLS 1.0, and an SSL 2.0 server are each reported with their
// version and certificate, and the report says what is wrong with them,
// never "0 observations" or "fine".
func TestOldHellos(t *testing.T) {
	p := newGenPKI(t)
	leaf := p.mailOnly.Certificate[0]
	chain := func(v uint16) []byte {
		body := []byte{0, 0, 0, byte(len(leaf) >> 16), byte(len(leaf) >> 8), byte(len(leaf))}
		body = append(body, leaf...)
		n := len(body) - 3
		body[0], body[1], body[2] = byte(n>>16), byte(n>>8), byte(n)
		return body
	}
	hello := func(v uint16, random byte) []byte {
		b := binary.BigEndian.AppendUint16(nil, v)
		b = append(b, bytes.Repeat([]byte{random}, 32)...)
		return b
	}
	clientHello30 := append(append(hello(0x0300, 1), 0), 0, 2, 0, 0x2f, 1, 0) // no session ID; one suite; null compression; no extensions
	serverHello := func(v uint16) []byte { return append(append(hello(v, 2), 0), 0, 0x2f, 0) }
	tls10 := func(typ uint8, body []byte) []byte {
		r := record30(typ, body)
		r[2] = 1
		return r
	}
	f := newCapFile(t)
	f.tcp(cliPort(40), mailIP+":443", 0, []chunk{
		{true, record30(hsClientHello, clientHello30)},
		{false, append(append(record30(hsServerHello, serverHello(0x0300)), record30(hsCertificate, chain(0x0300))...), record30(hsServerHelloDone, nil)...)},
	}, segOpts{})
	f.tcp(cliPort(41), mailIP+":443", 0, []chunk{
		{true, buildSSL2ClientHello(0x0301)},
		{false, append(append(tls10(hsServerHello, serverHello(0x0301)), tls10(hsCertificate, chain(0x0301))...), tls10(hsServerHelloDone, nil)...)},
	}, segOpts{})
	f.tcp(cliPort(42), mailIP+":443", 0, []chunk{
		{true, buildSSL2ClientHello(0x0002)},
		{false, buildSSL2ServerHello(leaf)},
	}, segOpts{})
	f.tcp(cliPort(43), mailIP+":443", 0, []chunk{{true, buildSSL2ClientHello(0x0002)}}, segOpts{})
	res, err := Read(bytes.NewReader(f.encode(ethOnly)), "old.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		version string
		vis     record.Visibility
		format  string
		finding string
	}{
		{"SSL 3.0", record.VisVisible, "", "tls.old-version"},
		{"TLS 1.0", record.VisVisible, record.HelloSSL2, "tls.sslv2-hello"},
		{"SSL 2.0", record.VisVisible, record.HelloSSL2, "tls.old-version"},
		{"", record.VisMissing, record.HelloSSL2, "tls.old-version"},
	}
	if len(res.Observations) != len(want) {
		t.Fatalf("%d observations, want %d", len(res.Observations), len(want))
	}
	rep := analysis.Analyze(res.Observations, analysis.Options{Roots: p.roots(), Cache: &certs.Cache{}})
	for i, w := range want {
		o := res.Observations[i]
		if o.TLSVersion != w.version || o.Visibility != w.vis || o.HelloFormat != w.format || !o.NoSNI {
			t.Errorf("connection %d: %q %q hello %q no_sni %v, want %q %q %q true", i, o.TLSVersion, o.Visibility, o.HelloFormat, o.NoSNI, w.version, w.vis, w.format)
		}
		if w.vis == record.VisVisible && (len(o.Chain) != 1 || !bytes.Equal(o.Chain[0], leaf)) {
			t.Errorf("connection %d: chain of %d, want the leaf", i, len(o.Chain))
		}
		found := false
		for _, fd := range rep.Items[i].Findings {
			found = found || fd.ID == w.finding
		}
		if !found {
			t.Errorf("connection %d: no %s finding", i, w.finding)
		}
	}
}

// FuzzSSL2 feeds arbitrary SSL 2.0 messages to their parsers: no panic,
// and a parsed CLIENT-HELLO says it came in the SSL 2.0 format.
func FuzzSSL2(f *testing.F) {
	f.Add(buildSSL2ClientHello(0x0301)[2:])
	f.Add(buildSSL2ClientHello(0x0002)[2:])
	f.Add(buildSSL2ServerHello([]byte{0x30, 0x03, 0x02, 0x01, 0x00})[2:])
	f.Fuzz(func(t *testing.T, msg []byte) {
		if ch, err := ParseSSL2ClientHello(msg); err == nil && !ch.SSL2 {
			t.Fatal("parsed without SSL2 set")
		}
		if _, cert, err := ParseSSL2ServerHello(msg); err == nil && cert != nil && len(cert) == 0 {
			t.Fatal("empty certificate returned")
		}
		looksSSL2(msg)
	})
}

// TestServerHello0304 reads a ServerHello with 0x0304 in its version
// field: in the TLS 1.3 draft format (no session ID or compression) as
// NSS sent it at draft 14 (Suricata-verify's tls13-draft14 capture, to
// tls13.crypto.mozilla.org, has one), and in the final format, which a
// non-conforming server might send (RFC 8446 §4.1.3 says 0x0303).
func TestServerHello0304(t *testing.T) {
	random := bytes.Repeat([]byte{0x23}, 32)
	ext := []byte{0x00, 0x06, 0x00, 0x28, 0x00, 0x02, 0x00, 0x17} // extensions: key_share (draft code 40), 2 bytes
	draft := append(append(append([]byte{3, 4}, random...), 0xc0, 0x2b), ext...)
	final := append(append(append([]byte{3, 4}, random...), 0, 0x13, 0x01, 0), ext...)
	for _, c := range []struct {
		name  string
		body  []byte
		suite uint16
	}{
		{"draft-format", draft, 0xc02b},
		{"final-format", final, 0x1301},
	} {
		sh, err := ParseServerHello(c.body)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if sh.Version != 0x0304 || sh.CipherSuite != c.suite || VersionName(sh.Version) != "TLS 1.3" {
			t.Errorf("%s: version %#x suite %#x (%s); want 0x0304 %#x TLS 1.3", c.name, sh.Version, sh.CipherSuite, VersionName(sh.Version), c.suite)
		}
	}
	if _, err := ParseServerHello(append([]byte{3, 4}, random[:20]...)); err == nil {
		t.Error("a ServerHello cut short was read")
	}
}
