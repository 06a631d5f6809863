package proxy

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
	"github.com/elazarl/goproxy"
)

// Mode is how the proxy treats CONNECT tunnels.
type Mode string

// The modes; see the package documentation.
const (
	ModeMirror      Mode = "mirror"
	ModeClean       Mode = "clean"
	ModePassthrough Mode = "passthrough"
)

// ParseMode accepts "mirror", "clean" or "passthrough" ("" is mirror).
func ParseMode(s string) (Mode, error) {
	switch Mode(strings.ToLower(s)) {
	case "", ModeMirror:
		return ModeMirror, nil
	case ModeClean:
		return ModeClean, nil
	case ModePassthrough:
		return ModePassthrough, nil
	}
	return "", fmt.Errorf("unknown mode %q (use mirror, clean or passthrough)", s)
}

// HelperHost is the name under which the proxy serves its helper page (the
// CA certificate for devices), like mitm.it.
const HelperHost = "certsleuth.local"

// Config configures a Server. The zero value of every field but CA is usable.
type Config struct {
	Mode Mode
	// CA signs the leaves shown to clients; required except in passthrough.
	CA *certs.CA
	// ExtraRoots are CA certificates the clients trust besides the system
	// roots (an AD CS root, a lab CA). In mirror mode a chain that ends in
	// neither is shown to the client through the untrusted CA. Without
	// ExtraRoots only self-signed upstream certificates are shown as
	// untrusted: the proxy cannot know the clients' private roots.
	ExtraRoots []*x509.Certificate
	// Only lists glob patterns (path.Match, case-insensitive) of CONNECT
	// host names to intercept; other tunnels are passed through untouched
	// and unrecorded. Empty means every host.
	Only []string
	// Resolve maps a host name (or host:port) to the address to dial
	// instead ("10.0.0.5" or "10.0.0.5:443"), like curl --resolve.
	Resolve map[string]string
	// LegacyTLS accepts TLS 1.0 and 1.1 and legacy cipher suites on both sides.
	LegacyTLS bool
	// Allow lists the client networks allowed besides loopback. A client
	// outside them is disconnected at once.
	Allow []*net.IPNet
	// AllowTarget lists networks that clients on other machines may reach
	// through the proxy although they are the proxy host's loopback,
	// link-local or listening addresses (see reach.go). Empty: none.
	AllowTarget []*net.IPNet
	// Observers receive every event, synchronously, from the tunnel's
	// goroutine; they must be quick and safe for concurrent use. nil: none.
	Observers []func(Event)
	// DialTimeout bounds connecting upstream, HandshakeTimeout each TLS
	// handshake, IdleTimeout a client that sends nothing (0: 10s, 15s, 5m).
	// RequestTimeout bounds a request once it has begun: the CONNECT
	// request, the first bytes in a new tunnel, and a header block inside
	// one (0: 30s).
	DialTimeout, HandshakeTimeout, IdleTimeout, RequestTimeout time.Duration
	// Web serves the live page (NewWeb) at http://certsleuth.local/live
	// through the proxy and at /live on the proxy's own address; nil: none.
	Web http.Handler
	// Logf logs proxy problems that are not observations; nil discards them.
	Logf func(format string, args ...any)
}

// Server is a running proxy.
type Server struct {
	cfg       Config
	minter    *certs.Minter // our CA
	untrusted *certs.Minter // the throw-away CA nobody trusts (mirror mode)
	roots     *x509.CertPool
	strict    bool // ExtraRoots were given: unverifiable chains are untrusted
	trustMu   sync.Mutex
	trust     map[string]trustVerdict
	transport *http.Transport // plain-HTTP requests of clients on this machine
	remoteTr  *http.Transport // plain-HTTP requests of clients on other machines: the reach rule applies
	host      hostAddrs

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	lns    []net.Listener
	closed bool
	nextID atomic.Uint64
	open   atomic.Int64 // open CONNECT tunnels
	peak   atomic.Int64 // the most open since memory was last trimmed
	trim   sync.Once
	srv    *http.Server
	gp     *goproxy.ProxyHttpServer // the listener's HTTP: plain proxy requests, helper pages, CONNECT
}

// New checks cfg and prepares a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModeMirror
	}
	if _, err := ParseMode(string(cfg.Mode)); err != nil {
		return nil, err
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 15 * time.Second
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	for _, g := range cfg.Only {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("--only %q: %w", g, err)
		}
	}
	s := &Server{cfg: cfg, conns: map[net.Conn]struct{}{}, trust: map[string]trustVerdict{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.Mode != ModePassthrough || cfg.CA != nil {
		if cfg.CA == nil {
			return nil, errors.New("proxy: no CA to sign leaves with (run 'certsleuth ca init')")
		}
		var err error
		if s.minter, err = certs.NewMinter(cfg.CA, 0); err != nil {
			return nil, err
		}
		_, isRSA := cfg.CA.Key.Public().(*rsa.PublicKey)
		unt, err := certs.NewCA(certs.CAOptions{CommonName: "certsleuth untrusted mirror CA (never install)", Organization: "certsleuth: reproduces an untrusted upstream", RSA: isRSA, Validity: 30 * 24 * time.Hour})
		if err != nil {
			return nil, err
		}
		if s.untrusted, err = certs.NewMinter(unt, 0); err != nil {
			return nil, err
		}
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, c := range cfg.ExtraRoots {
		pool.AddCert(c)
	}
	s.roots, s.strict = pool, len(cfg.ExtraRoots) > 0
	newTransport := func(local bool) *http.Transport {
		return &http.Transport{
			Proxy: nil, // never chain to HTTP(S)_PROXY behind the user's back
			DialContext: func(ctx context.Context, _, target string) (net.Conn, error) {
				c, _, err := s.dialFor(ctx, local, target)
				return c, err
			},
			DisableCompression:     true,
			MaxResponseHeaderBytes: MaxHeaderBytes,
			MaxIdleConnsPerHost:    16,
			IdleConnTimeout:        30 * time.Second,
			ResponseHeaderTimeout:  60 * time.Second,
		}
	}
	// Two pools, so that a connection dialled for a local client is never
	// reused for a remote one.
	s.transport, s.remoteTr = newTransport(true), newTransport(false)
	s.gp = s.newGoproxy()
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveWatched), ReadHeaderTimeout: cfg.RequestTimeout, MaxHeaderBytes: MaxHeaderBytes, IdleTimeout: cfg.IdleTimeout,
		ConnState: s.connState, ConnContext: connContext, ErrorLog: log.New(logWriter{s}, "", 0)}
	return s, nil
}

// CACert is the certificate clients must trust ("" CA in passthrough without one).
func (s *Server) CACert() *x509.Certificate {
	if s.minter == nil {
		return nil
	}
	return s.minter.CA().Cert
}

// Serve accepts clients on ln until Close. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	s.trim.Do(func() { go s.trimLoop() })
	err := s.srv.Serve(&allowListener{Listener: ln, s: s})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops accepting, closes every tunnel and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	err := s.srv.Close()
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
	s.transport.CloseIdleConnections()
	s.remoteTr.CloseIdleConnections()
	return err
}

// track registers a hijacked or upstream conn so Close can close it; it
// returns false when the server is closing.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// begin counts a handler or tunnel goroutine that Close must wait for; it
// returns false when the server is closing.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) emit(ev Event) {
	for _, o := range s.cfg.Observers {
		o(ev)
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// allowListener drops clients that are neither loopback nor allowed.
type allowListener struct {
	net.Listener
	s *Server
}

func (l *allowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.allowed(c.RemoteAddr()) {
			return newWatchConn(c), nil // see unfinished.go
		}
		l.s.logf("refused client %s: not loopback and not in --allow", c.RemoteAddr())
		c.Close()
	}
}

func (s *Server) allowed(a net.Addr) bool { return allowedAddr(a, s.cfg.Allow) }

// allowedAddr reports whether a is loopback or in allow.
func allowedAddr(a net.Addr, allow []*net.IPNet) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return true // not TCP (a test pipe)
	}
	if ta.IP.IsLoopback() {
		return true
	}
	for _, n := range allow {
		if n.Contains(ta.IP) {
			return true
		}
	}
	return false
}

// IsLoopbackListen reports whether addr ("host:port") listens on loopback only.
func IsLoopbackListen(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// dialAddr applies Resolve to a "host:port" target.
func (s *Server) dialAddr(target string) string {
	a, _ := s.resolveTarget(target)
	return a
}

// resolveTarget applies Resolve to a "host:port" target; mapped says
// whether Resolve had it.
func (s *Server) resolveTarget(target string) (addr string, mapped bool) {
	if a, ok := s.cfg.Resolve[strings.ToLower(target)]; ok {
		return a, true
	}
	h, p, err := net.SplitHostPort(target)
	if err != nil {
		return target, false
	}
	if a, ok := s.cfg.Resolve[strings.ToLower(h)]; ok {
		if _, _, err := net.SplitHostPort(a); err == nil {
			return a, true
		}
		return net.JoinHostPort(a, p), true
	}
	return target, false
}

// intercept reports whether host (from CONNECT) matches --only.
func (s *Server) intercept(host string) bool {
	if len(s.cfg.Only) == 0 {
		return true
	}
	host = strings.ToLower(host)
	for _, g := range s.cfg.Only {
		if ok, _ := path.Match(strings.ToLower(g), host); ok {
			return true
		}
	}
	return false
}

func (s *Server) upstreamTLS(sni string) *tls.Config {
	c := &tls.Config{
		ServerName:         sni,
		InsecureSkipVerify: true, // certsleuth judges the chain itself (trust below, names per client profile)
		NextProtos:         []string{"http/1.1"},
		CurvePreferences:   fastCurves,
	}
	if s.cfg.LegacyTLS {
		c.MinVersion = tls.VersionTLS10
		c.CipherSuites = legacySuites()
	}
	return c
}

func (s *Server) clientTLSBase() *tls.Config {
	c := &tls.Config{NextProtos: []string{"http/1.1"}, CurvePreferences: fastCurves}
	if s.cfg.LegacyTLS {
		c.MinVersion = tls.VersionTLS10
		c.CipherSuites = legacySuites()
	}
	return c
}

// fastCurves are the key exchange groups the proxy offers and prefers on
// both legs. X25519MLKEM768 (Go's default first choice) is left out: it
// costs a post-quantum key generation and encapsulation per handshake,
// roughly halving new tunnels per second, and the key exchange has no
// bearing on which certificate a client sees or how it judges it.
var fastCurves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}

// legacySuites is every suite Go implements, the insecure ones included,
// for Exchange 2010 and Windows 7 era peers.
func legacySuites() []uint16 {
	var ids []uint16
	for _, c := range tls.CipherSuites() {
		ids = append(ids, c.ID)
	}
	for _, c := range tls.InsecureCipherSuites() {
		ids = append(ids, c.ID)
	}
	return ids
}

// ServeHTTP handles CONNECT, absolute-URI (plain HTTP) proxy requests and
// the helper page, through the goproxy front end (see the package doc).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.gp.ServeHTTP(w, r) }

// newGoproxy builds the goproxy front end. goproxy parses the listener's
// HTTP, relays plain-HTTP proxy requests through s.transport (recorded by
// roundTripPlain), answers the helper pages, and hands every CONNECT's raw
// client connection to handleConnect; its own MITM (and its built-in CA)
// is never used.
func (s *Server) newGoproxy() *goproxy.ProxyHttpServer {
	gp := goproxy.NewProxyHttpServer()
	gp.Logger = logWriter{s}
	gp.Verbose = false
	gp.Tr = s.transport
	gp.ConnectDial = nil // NewProxyHttpServer reads HTTPS_PROXY; never chain behind the user's back
	gp.ConnectDialWithReq = nil
	gp.KeepAcceptEncoding = true // relay what the client asked for; s.transport adds no gzip of its own
	gp.NonproxyHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "certsleuth proxy: send absolute http:// URLs or CONNECT; see http://"+HelperHost+"/", http.StatusBadRequest)
			return
		}
		s.serveHelper(w, r)
	})
	gp.OnRequest(goproxy.ReqConditionFunc(func(r *http.Request, _ *goproxy.ProxyCtx) bool {
		return r.Method != http.MethodConnect && strings.EqualFold(record.HostOnly(r.URL.Host), HelperHost)
	})).DoFunc(func(r *http.Request, _ *goproxy.ProxyCtx) (*http.Request, *http.Response) {
		return r, s.helperResponse(r)
	})
	gp.OnRequest().DoFunc(func(r *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
		pr := &plainReq{s: s, winAuth: isWindowsAuth(r.Header.Get("Authorization"))}
		prepareOutgoing(r.Header)
		ctx.RoundTripper = pr
		return r, nil
	})
	gp.OnResponse().DoFunc(func(resp *http.Response, ctx *goproxy.ProxyCtx) *http.Response {
		if r := refused(ctx.Error); resp == nil && r != nil {
			return goproxy.NewResponse(ctx.Req, goproxy.ContentTypeText, http.StatusForbidden, "certsleuth proxy: "+r.Error()+"\n")
		}
		if resp == nil && ctx.Error != nil { // goproxy would answer 500; a dead upstream is a 502
			return goproxy.NewResponse(ctx.Req, goproxy.ContentTypeText, http.StatusBadGateway,
				fmt.Sprintf("certsleuth proxy: %s: %v\n", ctx.Req.URL.Host, unwrapNet(ctx.Error)))
		}
		return resp
	})
	gp.OnRequest().HijackConnect(func(r *http.Request, client net.Conn, _ *goproxy.ProxyCtx) {
		s.handleConnect(r, client)
	})
	return gp
}

// logWriter sends goproxy's and net/http's log lines to Config.Logf.
type logWriter struct{ s *Server }

func (l logWriter) Printf(format string, args ...any) { l.s.logf(format, args...) }
func (l logWriter) Write(p []byte) (int, error) {
	l.s.logf("%s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// withPort adds :443 to a CONNECT authority without a port.
func withPort(hostport string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), "443")
}

func (s *Server) newConnID() string {
	return "p" + strconv.FormatUint(s.nextID.Add(1), 10)
}

// pipe copies both ways until either side ends, then closes both.
func pipe(a, b net.Conn, ar, br io.Reader) {
	done := make(chan struct{}, 2)
	cp := func(dst net.Conn, src io.Reader) {
		io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go cp(b, ar)
	go cp(a, br)
	<-done
	a.Close()
	b.Close()
	<-done
}
