package lab

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/proxy"
	"github.com/certsleuth/certsleuth/record"
)

// Proxy is the certsleuth proxy, in mirror mode, in front of a lab: it
// reaches the lab's names through the lab's Resolver (ProxyResolve) and
// keeps every observation it records, in order, for the act's trace.
type Proxy struct {
	// Server is the running certsleuth proxy.
	Server *proxy.Server
	// Addr is where it listens (127.0.0.1:port unless ProxyOptions.Listen).
	Addr string
	// CA is the proxy's CA: clients of the proxy must trust it.
	CA *certs.CA

	ln   net.Listener
	done chan error
	mu   sync.Mutex
	cond *sync.Cond
	obs  []*record.Observation
}

// ProxyOptions control StartProxy.
type ProxyOptions struct {
	// CA signs the mirrored leaves; nil generates one (ECDSA, in memory).
	CA *certs.CA
	// Listen is the address to listen on; "" is 127.0.0.1 on an ephemeral port.
	Listen string
	// Allow lists client networks allowed besides loopback (a lab PC).
	Allow []*net.IPNet
	// Observers receive the proxy's events besides the Proxy itself
	// (proxy.Recorder, proxy.Live). nil: none.
	Observers []func(proxy.Event)
	// Web is the live page served through the proxy (proxy.Config.Web).
	Web http.Handler
}

// StartProxy starts the certsleuth proxy in mirror mode for l: it trusts
// the lab CA as the clients' private root (so the lab's chains are
// mirrored through the proxy's CA, and any other chain through the
// untrusted one) and dials the lab's names with ProxyResolve.
func StartProxy(l *Lab, o ProxyOptions) (*Proxy, error) {
	ca := o.CA
	if ca == nil {
		var err error
		ca, err = certs.NewCA(certs.CAOptions{CommonName: "certsleuth demo proxy CA", Organization: "certsleuth demo (in memory, never saved)", Validity: 7 * 24 * time.Hour})
		if err != nil {
			return nil, fmt.Errorf("demo proxy: %w", err)
		}
	}
	p := &Proxy{CA: ca, done: make(chan error, 1)}
	p.cond = sync.NewCond(&p.mu)
	// p.observe goes last: an observation is handed to the client only
	// once every other observer (a recorder sets its ChainID) is done.
	obs := append(append([]func(proxy.Event){}, o.Observers...), p.observe)
	srv, err := proxy.New(proxy.Config{
		Mode:       proxy.ModeMirror,
		CA:         ca,
		ExtraRoots: []*x509.Certificate{l.CA.Cert},
		Resolve:    l.ProxyResolve(),
		Allow:      o.Allow,
		Observers:  obs,
		Web:        o.Web,
		// The lab answers at once; a slow answer is a bug, not a network.
		DialTimeout: 5 * time.Second, HandshakeTimeout: 5 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("demo proxy: %w", err)
	}
	listen := o.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("demo proxy: listen on %s: %w", listen, err)
	}
	p.Server, p.ln, p.Addr = srv, ln, ln.Addr().String()
	go func() { p.done <- srv.Serve(ln) }()
	return p, nil
}

// observe keeps the observations the proxy records (what proxy.Recorder
// would write to a trace).
func (p *Proxy) observe(ev proxy.Event) {
	if ev.Obs == nil {
		return
	}
	p.mu.Lock()
	p.obs = append(p.obs, ev.Obs)
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Observations returns a copy of what the proxy has recorded so far, in
// the order it recorded it.
func (p *Proxy) Observations() []*record.Observation {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*record.Observation(nil), p.obs...)
}

// waitFor blocks until the proxy has recorded n observations, or timeout.
func (p *Proxy) waitFor(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer t.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.obs) < n && time.Now().Before(deadline) {
		p.cond.Wait()
	}
	return len(p.obs) >= n
}

// Close stops the proxy and waits for its tunnels to end.
func (p *Proxy) Close() error {
	err := p.Server.Close()
	p.ln.Close()
	if serr := <-p.done; serr != nil && err == nil && !errors.Is(serr, net.ErrClosed) {
		err = serr
	}
	return err
}

// Via returns a Via that carries the scripted client's connections
// through the proxy, as a client configured with this proxy would.
func (p *Proxy) Via() *ProxyVia { return &ProxyVia{Addr: p.Addr, proxy: p} }

// ProxyVia carries the scripted client's connections through an HTTP
// proxy at Addr: HTTPS as CONNECT tunnels, plain HTTP as absolute-URI
// requests (how WinINet and iOS use a configured proxy).
type ProxyVia struct {
	Addr  string
	proxy *Proxy // nil: a proxy we do not observe

	mu    sync.Mutex
	dials int
	seen  int
}

// userAgentKey carries the scripted client's User-Agent to its CONNECTs.
type userAgentKey struct{}

// Dial opens a CONNECT tunnel to hostport.
func (v *ProxyVia) Dial(ctx context.Context, hostport string) (net.Conn, string, error) {
	conn, err := v.dialProxy(ctx)
	if err != nil {
		return nil, "", err
	}
	v.count()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	// The client's own User-Agent, as WinINet and phones send it in CONNECT.
	ua := "certsleuth-demo"
	if v, ok := ctx.Value(userAgentKey{}).(string); ok && v != "" {
		ua = v
	}
	req := "CONNECT " + hostport + " HTTP/1.1\r\nHost: " + hostport + "\r\nUser-Agent: " + ua + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, hostport, fmt.Errorf("proxy %s: send CONNECT %s: %w", v.Addr, hostport, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		conn.Close()
		return nil, hostport, fmt.Errorf("proxy %s: CONNECT %s: %w", v.Addr, hostport, err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		conn.Close()
		msg := strings.TrimSpace(string(body))
		if strings.Contains(msg, "refused") {
			return nil, hostport, fmt.Errorf("proxy: CONNECT %s: %s: %w", hostport, resp.Status, errRefused)
		}
		return nil, hostport, fmt.Errorf("proxy: CONNECT %s: %s: %s", hostport, resp.Status, msg)
	}
	conn.SetDeadline(time.Time{})
	if br.Buffered() > 0 {
		return &readerConn{Conn: conn, r: br}, hostport, nil
	}
	return conn, hostport, nil
}

// DialHTTP connects to the proxy for a plain-HTTP request in absolute form.
func (v *ProxyVia) DialHTTP(ctx context.Context, hostport string) (net.Conn, bool, error) {
	conn, err := v.dialProxy(ctx)
	if err != nil {
		return nil, false, err
	}
	v.count()
	return conn, true, nil
}

func (v *ProxyVia) dialProxy(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", v.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to the proxy at %s: %w", v.Addr, err)
	}
	return conn, nil
}

func (v *ProxyVia) count() {
	v.mu.Lock()
	v.dials++
	v.mu.Unlock()
}

// settle waits until the proxy has recorded the connections opened so far
// (one observation each: the client makes one request per connection) and
// returns the observations recorded since the last call.
func (v *ProxyVia) settle() []*record.Observation {
	if v.proxy == nil {
		return nil
	}
	v.mu.Lock()
	n, from := v.dials, v.seen
	v.mu.Unlock()
	v.proxy.waitFor(n, 5*time.Second)
	all := v.proxy.Observations()
	if from > len(all) {
		from = len(all)
	}
	v.mu.Lock()
	v.seen = len(all)
	v.mu.Unlock()
	return all[from:]
}

// readerConn reads through a bufio.Reader that may already hold bytes.
type readerConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ProxyResolve maps "name:443" and "name:80" of every lab name to the
// listener that serves it, for proxy.Config.Resolve; a port the lab's
// machine does not listen on maps to an address that refuses connections.
func (l *Lab) ProxyResolve() map[string]string {
	out := map[string]string{}
	for _, h := range l.cfg.Hosts {
		for _, port := range []string{"443", "80"} {
			hp := net.JoinHostPort(strings.ToLower(h.Name), port)
			a, err := l.Resolver.Addr(hp)
			if err != nil {
				a = l.refuser
			}
			out[hp] = a
		}
	}
	return out
}
