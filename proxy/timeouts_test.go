package proxy

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
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

// TestUnfinishedRequest: a client of the proxy's listener whose request
// never reaches the handler is recorded with what it sent, the client's
// address and why it ended (net/http alone closes it without a word),
// and a client that connects and leaves without a byte (a browser's
// unused pre-connection) or between requests is not recorded. A raw TCP
// client plays each case; RequestTimeout is lowered to 300 ms.
func TestUnfinishedRequest(t *testing.T) {
	l := newLab(t)
	const helperGet = "GET http://" + HelperHost + "/ HTTP/1.1\r\nHost: " + HelperHost + "\r\n\r\n"
	for _, c := range []struct {
		name  string
		send  string // "" sends nothing
		then  string // sent once the proxy has answered send
		close bool   // the client hangs up after send; otherwise it waits for the proxy
		want  string // in the recorded Error; "" wants nothing recorded
		check func(t *testing.T, o *record.Observation)
	}{
		{name: "nothing then silent", want: "the client sent no complete request in 300ms (it connected and sent nothing)"},
		{name: "nothing then gone", close: true},
		{name: "half a CONNECT then silent", send: "CONNECT mail.contoso.test:443 HTTP/1.1\r\nUser-Agent: Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0)\r\nHost: mail.con",
			want: "the client sent no complete request in 300ms (it sent 131 bytes: CONNECT mail.contoso.test:443, and no end of its header block)",
			check: func(t *testing.T, o *record.Observation) {
				if o.Connect != "mail.contoso.test:443" || o.Kind != record.KindTLS || ClientName(o.UserAgent) != "Outlook" {
					t.Errorf("connect %q, kind %q, user agent %q: want the CONNECT target and Outlook", o.Connect, o.Kind, o.UserAgent)
				}
			}},
		{name: "half a CONNECT then gone", send: "CONNECT autodiscover.contoso.test HTTP/1.1\r\n", close: true,
			want: "the client closed the connection after sending an incomplete request (44 bytes: CONNECT autodiscover.contoso.test:443, and no end of its header block)"},
		{name: "half a request line then silent", send: "CONNECT mail.cont",
			want: "the client sent no complete request in 300ms (it sent 17 bytes: not even a complete request line)"},
		{name: "a plain request with a secret, then gone", send: "GET http://mail.contoso.test/owa/?password=hunter2secret&view=x HTTP/1.1\r\nHost: mail.contoso.test\r\n", close: true,
			want: "the client closed the connection after sending an incomplete request (99 bytes: GET http://mail.contoso.test/owa/?password=REDACTED&view=REDACTED, and no end of its header block)",
			check: func(t *testing.T, o *record.Observation) {
				if o.Method != "GET" || !strings.HasPrefix(o.URL, "http://mail.contoso.test/owa/?password=REDACTED") || o.Visibility != record.VisNone {
					t.Errorf("method %q, URL %q, visibility %q", o.Method, o.URL, o.Visibility)
				}
			}},
		{name: "a served request, then half of the next", send: helperGet, then: "GET http://mail.contoso.test/ HTTP/1.1\r\n",
			want: "the client sent no complete request in 300ms (it sent 40 bytes: GET http://mail.contoso.test/, and no end of its header block)"},
		{name: "a served request and half of the next, pipelined", send: helperGet + "GET http://mail.contoso.test/ HTTP/1.1\r\n",
			want: "the client sent no complete request in 300ms (the start of it came with the request before, pipelined)"},
		{name: "a served request, then gone", send: helperGet, close: true},
		{name: "TLS to the proxy port", send: string(clientHello(t, "mail.contoso.test")),
			want: "a TLS handshake: the client takes the proxy for an HTTPS proxy"},
		{name: "a CONNECT to a host --only leaves alone", send: "CONNECT www.example.test:443 HTTP/1.1\r\n", close: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startProxy(t, Config{CA: l.proxyCA, RequestTimeout: 300 * time.Millisecond, Only: []string{"*.contoso.test"}})
			conn, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(c.send)); err != nil {
				t.Fatal(err)
			}
			if c.then != "" {
				conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil {
					t.Fatal(err)
				} else {
					io.Copy(io.Discard, resp.Body)
				}
				conn.Write([]byte(c.then))
			}
			if c.close {
				time.Sleep(50 * time.Millisecond) // the proxy reads what was sent
				conn.Close()
			} else {
				conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				io.Copy(io.Discard, conn) // until the proxy closes the connection
			}
			if c.want != "" {
				p.waitObs(t, 1)
			} else {
				time.Sleep(100 * time.Millisecond)
			}
			obs := p.trace(t)
			if c.want == "" {
				if len(obs) != 0 {
					t.Errorf("recorded %+v, want nothing", obs[0])
				}
				return
			}
			if len(obs) != 1 {
				t.Fatalf("%d observations, want 1: %+v", len(obs), obs)
			}
			o := obs[0]
			if !strings.Contains(o.Error, c.want) {
				t.Errorf("recorded %q\nwant %q", o.Error, c.want)
			}
			if o.Client != conn.LocalAddr().String() || o.Conn == "" || o.Time.IsZero() {
				t.Errorf("client %q (want %s), conn %q, time %v", o.Client, conn.LocalAddr(), o.Conn, o.Time)
			}
			if strings.Contains(o.Error+o.URL, "hunter2") {
				t.Errorf("a secret reached the trace: %q %q", o.Error, o.URL)
			}
			if c.check != nil {
				c.check(t, o)
			}
		})
	}
}
