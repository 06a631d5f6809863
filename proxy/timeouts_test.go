package proxy

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// TestSilentTunnel: a client that opens a tunnel and sends nothing is
// recorded as sending no complete request within RequestTimeout, not as
// having closed the tunnel; one that does close says so.
func TestSilentTunnel(t *testing.T) {
	l := newLab(t)
	for _, mode := range []Mode{ModeMirror, ModePassthrough} {
		t.Run(string(mode), func(t *testing.T) {
			p := startProxy(t, Config{CA: l.proxyCA, Mode: mode, RequestTimeout: 300 * time.Millisecond, Resolve: resolveAll("mail.contoso.test")})
			silent := dialTunnel(t, p.addr, "mail.contoso.test:"+portOf(l.origins["right"]))
			defer silent.Close()
			closed := dialTunnel(t, p.addr, "mail.contoso.test:"+portOf(l.origins["right"]))
			closed.Close()
			p.waitObs(t, 2)
			var got []string
			for _, o := range p.trace(t) {
				got = append(got, o.Error)
			}
			joined := strings.Join(got, "\n")
			if !strings.Contains(joined, "the client sent no complete request in 300ms") || !strings.Contains(joined, "the client closed the tunnel before sending anything") {
				t.Errorf("errors recorded:\n%s\nwant one silent client and one that closed", joined)
			}
		})
	}
}

// TestUpstreamSilentTLS: an upstream that accepts TCP and never answers the
// TLS handshake gets the client a TLS alert within the handshake timeout
// (not a dropped connection), and the trace says what happened.
func TestUpstreamSilentTLS(t *testing.T) {
	l := newLab(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	p := startProxy(t, Config{CA: l.proxyCA, HandshakeTimeout: time.Second, Resolve: resolveAll("mail.contoso.test")})
	c := dialTunnel(t, p.addr, "mail.contoso.test:"+portOf(ln.Addr().String()))
	defer c.Close()
	tc := tls.Client(c, &tls.Config{ServerName: "mail.contoso.test", RootCAs: l.clientRoots()})
	err = tc.Handshake()
	if err == nil || !strings.Contains(err.Error(), "remote error: tls: internal error") {
		t.Fatalf("client handshake: %v, want the TLS alert internal error", err)
	}
	p.waitObs(t, 1)
	obs := p.trace(t)
	if len(obs) != 1 || !strings.Contains(obs[0].Error, "accepted the connection but did not complete the TLS handshake in 800ms: the client was sent a TLS alert") {
		t.Errorf("trace: %+v", obs)
	}
}
