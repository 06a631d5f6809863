package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzTunnelRequest feeds arbitrary client bytes to a tunnel's HTTP relay
// (serveHTTP) with an upstream that answers every request it gets. The
// relay must end without a panic, never forward more than it was sent,
// and record only redacted URLs.
func FuzzTunnelRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a?password=x HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET http://x/?SAMLResponse=y HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
		"GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n",
		"\x16\x03\x01garbage", "", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	s := &Server{cfg: Config{IdleTimeout: 2 * time.Second}}
	f.Fuzz(func(t *testing.T, in []byte) {
		var mu sync.Mutex
		var urls []string
		s.cfg.Observers = []func(Event){func(ev Event) {
			if ev.Obs != nil {
				mu.Lock()
				urls = append(urls, ev.Obs.URL)
				mu.Unlock()
			}
		}}
		cli := &scriptConn{r: bytes.NewReader(in)}
		up, upEnd := net.Pipe()
		var forwarded int64
		upDone := make(chan struct{})
		go func() { // the upstream: answer each request, count what came
			defer close(upDone)
			defer upEnd.Close()
			br := bufio.NewReader(upEnd)
			for {
				upEnd.SetDeadline(time.Now().Add(5 * time.Second))
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				n, _ := io.Copy(io.Discard, req.Body)
				forwarded += n
				io.WriteString(upEnd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
		}()
		tn := &tunnel{s: s, id: "p1", connect: "a:443", client: cli, upRaw: up, start: time.Now()}
		done := make(chan struct{})
		go func() {
			defer close(done)
			tn.serveHTTP(cli, up, "https", nil)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("the relay did not end on %q", in)
		}
		up.Close()
		<-upDone
		if forwarded > int64(len(in)) {
			t.Fatalf("forwarded %d body bytes from %d bytes of input", forwarded, len(in))
		}
		mu.Lock()
		defer mu.Unlock()
		for _, u := range urls {
			_, q, _ := strings.Cut(u, "?")
			if i := strings.Index(strings.ToLower(q), "password="); i >= 0 {
				v, _, _ := strings.Cut(q[i+len("password="):], "&")
				if v != "" && v != "REDACTED" {
					t.Fatalf("unredacted URL recorded: %q", u)
				}
			}
		}
	})
}

// scriptConn is a client connection that sends r, then EOF, and swallows
// what it is sent.
type scriptConn struct {
	net.Conn
	r *bytes.Reader
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }

// FuzzParseHead feeds arbitrary first bytes of a request to parseHead, as
// a client that never completes its request leaves them: it must not
// panic, keep only a token method and a visible-ASCII target, and say
// what came without a line break or a secret query value.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"CONNECT mail.contoso.test:443 HTTP/1.1\r\nUser-Agent: Outlook\r\nHost: m",
		"GET http://a.test/?password=hunter2 HTTP/1.1\r\n", "CONNECT mail.cont", "\x16\x03\x01\x02\x00",
		"GET  /x\r\n", "\r\n", "G\x00T /\n", "POST http://u:p@a.test/ HTTP/1.1\nuser-agent:\tcurl/8\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > watchKeep {
			b = b[:watchKeep]
		}
		h := parseHead(b)
		if h.method != "" && (!isToken([]byte(h.method)) || !isVisible([]byte(h.target))) {
			t.Fatalf("method %q target %q from %q", h.method, h.target, b)
		}
		d := h.describe()
		if strings.ContainsAny(d, "\r\n") || strings.ContainsAny(h.ua, "\r\n") {
			t.Fatalf("a line break in %q or %q", d, h.ua)
		}
		if bytes.Contains(b, []byte("password=hunter2")) && strings.Contains(d, "hunter2") {
			t.Fatalf("a password in %q", d)
		}
	})
}
