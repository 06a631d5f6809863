package capture

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// closeAfterHandshakeConv is a real TLS connection on 127.0.0.1 whose
// client finishes the handshake and closes at once (a close_notify alert,
// no request), as curl does when the name does not match.
func closeAfterHandshakeConv(t *testing.T, srv, cli *tls.Config) []chunk {
	t.Helper()
	rec := &recorder{}
	_, rc, done := serveOnce(t, rec, func(c net.Conn, w io.Writer) error {
		tc := tls.Server(w.(net.Conn), srv)
		if err := tc.Handshake(); err != nil {
			return err
		}
		io.ReadAll(tc)
		return nil
	})
	tc := tls.Client(rc, cli)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	tc.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return rec.chunks
}

// TestEncryptedClientAlert: without a key log, a TLS 1.3 client that ends
// the handshake with an alert instead of its Finished, or finishes and
// sends an alert before any request, is told apart by the size of its
// encrypted records from one that sends a request; a TLS 1.2 client's
// alert after its Finished shows by its record type. An alert seconds
// later is an idle connection closed, not a refusal.
func TestEncryptedClientAlert(t *testing.T) {
	read := func(name string) []*record.Observation {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		res, err := Read(f, name, Options{}) // no key log, even where one exists
		if err != nil {
			t.Fatal(err)
		}
		return res.Observations
	}
	// A Go client that refuses the certificate: an alert instead of Finished.
	if o := read("tls13-client-rejects.pcapng"); len(o) != 1 || o[0].ClientAlert != record.AlertEncrypted {
		t.Errorf("tls13-client-rejects.pcapng: %+v, want client alert %q", o, record.AlertEncrypted)
	}
	// Go clients that accept and send a request: no alert.
	for _, name := range []string{"tls13-encrypted.pcap", "tls13-keylog-aes128.pcapng", "tls13-keylog-chacha20.pcapng", "tls13-hrr.pcapng"} {
		for _, o := range read(name) {
			if o.ClientAlert != "" {
				t.Errorf("%s: client alert %q for a client that sent a request", name, o.ClientAlert)
			}
		}
	}
	p := newGenPKI(t)
	closing := closeAfterHandshakeConv(t, srvCfg(p.mailOnly, tls.VersionTLS13), cliCfg("autodiscover.contoso.test", tls.VersionTLS13))
	closing12 := closeAfterHandshakeConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12))
	// With the key log the Finished is decrypted, and the record after
	// it too (CLIENT_TRAFFIC_SECRET_0): a fatal alert names itself
	// (TestECH: ech_required), but this one is close_notify, which curl
	// sends when it refuses a name after the handshake as a client
	// closing does: still judged by its timing.
	var kl bytes.Buffer
	cli := cliCfg("autodiscover.contoso.test", tls.VersionTLS13)
	cli.KeyLogWriter = &kl
	conv := closeAfterHandshakeConv(t, srvCfg(p.mailOnly, tls.VersionTLS13), cli)
	res := readConvs(t, &kl, func(f *capFile) { f.tcp(cliPort(61), mailIP+":443", 0, conv, segOpts{}) })
	if o := res.Observations; len(o) != 1 || o[0].ClientAlert != record.AlertEncryptedAfter || o[0].Visibility != record.VisVisible {
		t.Errorf("with the key log: %+v, want the certificate and client alert %q", o, record.AlertEncryptedAfter)
	}
	for _, c := range []struct {
		name string
		conv []chunk
		idle time.Duration
		want string
	}{
		{"close after the handshake", closing, 0, record.AlertEncryptedAfter},
		{"closed idle 10 s later (an unused preconnect)", closing, 10 * time.Second, ""},
		{"request", tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS13), cliCfg("autodiscover.contoso.test", tls.VersionTLS13)), 0, ""},
		{"TLS 1.2 close after the handshake", closing12, 0, record.AlertEncryptedAfter},
		{"TLS 1.2 closed idle 10 s later", closing12, 10 * time.Second, ""},
		{"TLS 1.2 request", tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), 0, ""},
	} {
		for _, mss := range []int{0, 3} {
			if c.idle > 0 && mss != 0 {
				continue // the pause must come before the whole alert, not inside it
			}
			res := readConvs(t, nil, func(f *capFile) {
				f.tcp(cliPort(60), mailIP+":443", 0, c.conv, segOpts{mss: mss, idleLast: c.idle})
			})
			if len(res.Observations) != 1 || res.Observations[0].ClientAlert != c.want {
				t.Errorf("%s (mss %d): %+v, want client alert %q", c.name, mss, res.Observations, c.want)
			}
		}
	}
}
