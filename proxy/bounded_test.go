package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
)

// sendBigHeader writes a request whose X-Big header is up to size bytes on
// c and returns the status the proxy answered and how much was written
// before the proxy stopped reading.
func sendBigHeader(t *testing.T, c net.Conn, br *bufio.Reader, target string, size int) (int, int) {
	t.Helper()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	sent := make(chan int, 1)
	go func() {
		n, _ := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: mail.contoso.test\r\nX-Big: ", target)
		chunk := []byte(strings.Repeat("a", 64<<10))
		for n < size {
			m, err := c.Write(chunk)
			n += m
			if err != nil {
				break
			}
		}
		c.Write([]byte("\r\n\r\n"))
		sent <- n
	}()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a %d-byte header: %v", size, err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		if _, err := br.ReadByte(); err == nil {
			t.Errorf("the connection stayed open after %s", resp.Status)
		}
		c.Close()
	}
	return resp.StatusCode, <-sent
}

// TestHeaderTooLarge: a request header block over 1 MiB is answered 431
// and the tunnel closed, whether the request comes inside a TLS tunnel,
// as plain HTTP inside a tunnel, or on the plain proxy path; the proxy
// stops reading it long before the client stops sending (it never holds
// the whole header), records it, and keeps serving; just under the limit
// passes.
func TestHeaderTooLarge(t *testing.T) {
	l := newLab(t)
	plain := httptest.NewServer(http.HandlerFunc(originHandler))
	defer plain.Close()
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test")})
	const huge = 256 << 20
	tlsTunnel := func() (net.Conn, *bufio.Reader) {
		c := dialTunnel(t, p.addr, "mail.contoso.test:"+portOf(l.origins["right"]))
		tc := tls.Client(c, &tls.Config{ServerName: "mail.contoso.test", RootCAs: l.clientRoots()})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		return tc, bufio.NewReader(tc)
	}
	plainTunnel := func() (net.Conn, *bufio.Reader) {
		c := dialTunnel(t, p.addr, "mail.contoso.test:"+portOf(plain.Listener.Addr().String()))
		return c, bufio.NewReader(c)
	}
	proxyConn := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		return c, bufio.NewReader(c)
	}
	for _, c := range []struct {
		name   string
		dial   func() (net.Conn, *bufio.Reader)
		target string
		size   int
		want   int
	}{
		{"TLS tunnel", tlsTunnel, "/", huge, 431},
		{"plain HTTP in a tunnel", plainTunnel, "/", huge, 431},
		{"plain proxy path", proxyConn, "http://mail.contoso.test:" + portOf(plain.Listener.Addr().String()) + "/", huge, 431},
		{"TLS tunnel, just under 1 MiB", tlsTunnel, "/", 1<<20 - 1024, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, br := c.dial()
			defer conn.Close()
			code, sent := sendBigHeader(t, conn, br, c.target, c.size)
			if code != c.want {
				t.Fatalf("answered %d, want %d", code, c.want)
			}
			if c.want == 431 && sent >= huge {
				t.Errorf("the client could send all %d MiB: the proxy read the whole header", huge>>20)
			}
			if _, _, err := get(viaProxy(p.addr, l.clientRoots()), "https://mail.contoso.test:"+portOf(l.origins["right"])+"/"); err != nil {
				t.Errorf("the proxy stopped serving: %v", err)
			}
		})
	}
	n431 := 0
	for _, o := range p.trace(t) {
		if o.Status == 431 && strings.Contains(o.Error, "request header larger than 1 MiB") {
			n431++
		}
	}
	if n431 != 2 {
		t.Errorf("%d tunnel requests recorded as 431, want 2", n431)
	}
}

// TestResponseHeaderTooLarge: a server whose response header block is over
// 1 MiB gets the client a 502 that says so, and the trace records it.
func TestResponseHeaderTooLarge(t *testing.T) {
	l := newLab(t)
	big := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("b", 2<<20))
	}))
	big.TLS = &tls.Config{Certificates: []tls.Certificate{l.originCA.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})}}
	big.StartTLS()
	defer big.Close()
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test")})
	resp, body, err := get(viaProxy(p.addr, l.clientRoots()), "https://mail.contoso.test:"+portOf(big.Listener.Addr().String())+"/")
	if err != nil || resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "larger than 1 MiB") {
		t.Fatalf("got %v %q %v, want a 502 saying the header is too large", resp, body, err)
	}
	obs := p.trace(t)
	if len(obs) != 1 || obs[0].Status != 502 || !strings.Contains(obs[0].Error, "response header larger than 1 MiB") {
		t.Errorf("trace: %+v", obs)
	}
}

// TestBodiesStream: large request and response bodies pass through a tunnel
// intact (streamed through the relay's buffers).
func TestBodiesStream(t *testing.T) {
	l := newLab(t)
	const size = 24 << 20
	origin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Received", fmt.Sprint(n))
		io.Copy(w, io.LimitReader(zeros{}, size))
	}))
	origin.TLS = &tls.Config{Certificates: []tls.Certificate{l.originCA.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})}}
	origin.StartTLS()
	defer origin.Close()
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test")})
	c := viaProxy(p.addr, l.clientRoots())
	c.Timeout = 120 * time.Second
	resp, err := c.Post("https://mail.contoso.test:"+portOf(origin.Listener.Addr().String())+"/upload", "application/octet-stream", io.LimitReader(zeros{}, size))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Header.Get("X-Received") != fmt.Sprint(size) || n != size {
		t.Errorf("the origin received %s bytes and the client %d, want %d both ways", resp.Header.Get("X-Received"), n, size)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestIdleTunnelsHoldNoBuffers: once their requests are answered, open
// keep-alive tunnels (TLS and plain HTTP inside) give every relay buffer
// back to the pool: an idle tunnel holds none of the 16 KiB buffers.
func TestIdleTunnelsHoldNoBuffers(t *testing.T) {
	l := newLab(t)
	plain := httptest.NewServer(http.HandlerFunc(originHandler))
	defer plain.Close()
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test")})
	before := lent.Load()
	var clients []*http.Client
	var urls []string
	for i := range 20 {
		c := viaProxy(p.addr, l.clientRoots())
		u := "https://mail.contoso.test:" + portOf(l.origins["right"]) + "/"
		if i%2 == 1 { // plain HTTP inside a CONNECT tunnel
			c.Transport.(*http.Transport).Proxy = nil
			c.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, addr string) (net.Conn, error) {
				return dialTunnel(t, p.addr, addr), nil
			}
			u = "http://mail.contoso.test:" + portOf(plain.Listener.Addr().String()) + "/"
		}
		clients, urls = append(clients, c), append(urls, u)
		for range 3 {
			if _, _, err := get(c, u); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; lent.Load() != before; i++ {
		if i > 1000 {
			t.Fatalf("%d relay buffers held by 20 idle tunnels, want 0", lent.Load()-before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, c := range clients { // the same tunnels still work
		if _, _, err := get(c, urls[i]); err != nil {
			t.Fatal(err)
		}
	}
}
