package capture

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// echConfigList builds an ECHConfigList (draft-ietf-tls-esni-25 §4: one
// ECHConfig, version 0xfe0d, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and
// AES-128-GCM) for publicName, and the ECHConfig alone for the server.
func echConfigList(t *testing.T, publicName string) (list, config []byte, key *ecdh.PrivateKey) {
	t.Helper()
	key, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddUint16(extECH)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(7) // config_id
		b.AddUint16(0x0020)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(key.PublicKey().Bytes()) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x0001); b.AddUint16(0x0001) })
		b.AddUint8(32) // maximum_name_length
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(publicName)) })
		b.AddUint16(0) // extensions
	})
	config = b.BytesOrPanic()
	l := cryptobyte.NewBuilder(nil)
	l.AddUint16LengthPrefixed(func(l *cryptobyte.Builder) { l.AddBytes(config) })
	return l.BytesOrPanic(), config, key
}

// TestECH runs Go's real ECH client (crypto/tls, EncryptedClientHelloConfigList)
// for mail.contoso.test with public name public.contoso.test, with the
// key log, against a Go server that accepts ECH and against ones that
// know no ECH (draft-ietf-tls-esni-25 §6.1.7: the client then checks the
// certificate against the public name, the outer SNI). What certsleuth
// reads is what the client checked: an accepted ECH handshake stays
// encrypted (its secrets are logged under the inner ClientHello's random,
// which the capture does not show) and is never judged against the cover
// name; a rejected one shows the certificate, judged against the outer
// SNI, as the client judged it.
func TestECH(t *testing.T) {
	p := newGenPKI(t)
	nb, na := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	public := p.ca.Leaf(t, testcert.Spec{CN: "public.contoso.test", DNS: []string{"public.contoso.test"}, NotBefore: nb, NotAfter: na})
	list, config, key := echConfigList(t, "public.contoso.test")
	client := func(kl *bytes.Buffer) *tls.Config {
		return &tls.Config{ServerName: "mail.contoso.test", RootCAs: p.roots(), MinVersion: tls.VersionTLS13,
			EncryptedClientHelloConfigList: list, KeyLogWriter: kl}
	}
	for _, c := range []struct {
		name     string
		srv      *tls.Config
		rejected bool // the client ends the handshake
		vis      record.Visibility
		leafCN   string
		alert    string
		warns    bool // the analysis says a client warns: name mismatch against the public name
		echSays  string
	}{
		{"accepted", &tls.Config{Certificates: []tls.Certificate{p.mailOnly}, MinVersion: tls.VersionTLS13,
			EncryptedClientHelloKeys: []tls.EncryptedClientHelloKey{{Config: config, PrivateKey: key.Bytes(), SendAsRetry: true}}},
			false, record.VisEncrypted, "", "", false, "the certificate is not in clear"},
		// A server that knows no ECH (split-horizon DNS sent the client
		// the public ECH configuration, the internal server answered):
		// its certificate for mail.contoso.test is checked against
		// public.contoso.test (Chrome: ERR_ECH_FALLBACK_CERTIFICATE_INVALID).
		{"rejected-cert-for-inner-name", &tls.Config{Certificates: []tls.Certificate{p.mailOnly}, MinVersion: tls.VersionTLS13},
			true, record.VisVisible, "mail.contoso.test", "bad certificate", true, "ERR_ECH_FALLBACK_CERTIFICATE_INVALID"},
		// The certificate is valid for the public name: the client
		// authenticated the rejection and ends with ech_required to
		// retry (§6.1.6), an alert after its Finished that the key
		// log's CLIENT_TRAFFIC_SECRET_0 decrypts: ECHRequired, no
		// client alert (it refused no certificate), no name warning.
		{"rejected-cert-for-public-name", &tls.Config{Certificates: []tls.Certificate{public}, MinVersion: tls.VersionTLS13},
			true, record.VisVisible, "public.contoso.test", "", false, "ended the connection with the alert ech_required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var kl bytes.Buffer
			var conv []chunk
			if c.rejected {
				conv = tlsConvRejected(t, c.srv, client(&kl))
			} else {
				conv = tlsConv(t, c.srv, client(&kl))
			}
			res := readConvs(t, &kl, func(f *capFile) { f.tcp(cliPort(65), mailIP+":443", 0, conv, segOpts{}) })
			if len(res.Observations) != 1 {
				t.Fatalf("%d observations, want 1", len(res.Observations))
			}
			o := res.Observations[0]
			if !o.ECH || o.SNI != "public.contoso.test" || o.Visibility != c.vis || o.TLSVersion != "TLS 1.3" {
				t.Fatalf("ech %v sni %q %s %s; want ECH, the outer SNI public.contoso.test, %s, TLS 1.3 (note %q)", o.ECH, o.SNI, o.Visibility, o.TLSVersion, c.vis, o.Note)
			}
			if c.leafCN != "" {
				leaf, err := x509.ParseCertificate(o.Chain[0])
				if err != nil || leaf.Subject.CommonName != c.leafCN {
					t.Fatalf("leaf %v, %v; want %s", leaf, err, c.leafCN)
				}
			}
			if o.ClientAlert != c.alert {
				t.Errorf("client alert %q, want %q", o.ClientAlert, c.alert)
			}
			if o.ECHRequired != (c.name == "rejected-cert-for-public-name") {
				t.Errorf("ech_required %v", o.ECHRequired)
			}
			if !c.rejected && !strings.Contains(o.Note, "inner ClientHello") {
				t.Errorf("note %q does not say why the accepted ECH handshake stays encrypted", o.Note)
			}
			rep := analysis.Analyze(res.Observations, analysis.Options{Roots: p.roots(), Cache: &certs.Cache{}})
			it := rep.Items[0]
			var mismatch bool
			echSays := ""
			for _, f := range it.Findings {
				mismatch = mismatch || f.ID == "name.mismatch"
				if f.ID == "tls.ech" {
					echSays = f.Summary
				}
			}
			if !strings.Contains(echSays, c.echSays) {
				t.Errorf("tls.ech finding %q, want it to say %q", echSays, c.echSays)
			}
			if mismatch != c.warns {
				t.Errorf("name.mismatch %v, want %v (the client checked the public name)", mismatch, c.warns)
			}
		})
	}
}
