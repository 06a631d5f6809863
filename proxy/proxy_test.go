package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// lab is a set of origins on 127.0.0.1 with the certificates the issue
// names, the CA their good certificates chain to, and the client pool
// (origin CA + proxy CA) a lab PC would have.
type lab struct {
	originCA *testcert.CA
	proxyCA  *certs.CA
	origins  map[string]string // case name -> 127.0.0.1:port
}

// originCase is one origin certificate and the name the client asks for.
type originCase struct {
	name    string
	ask     string
	spec    testcert.Spec
	self    bool
	finding string // the check the replay must report; "" means no warning
}

var originCases = []originCase{
	{name: "right", ask: "mail.contoso.test", spec: testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test", "autodiscover.contoso.test"}}},
	{name: "wrong-host", ask: "exch01.contoso.test", spec: testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test", "autodiscover.contoso.test"}}, finding: "name.mismatch"},
	{name: "cn-only", ask: "mail.contoso.test", spec: testcert.Spec{CN: "mail.contoso.test"}, finding: "name.cn-only"},
	{name: "expired", ask: "mail.contoso.test", spec: testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)}, finding: "date.expired"},
	{name: "self-signed", ask: "mail.contoso.test", spec: testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}}, self: true, finding: "chain.self-signed"},
}

const secretAuth, secretCookie, secretSetCookie = "Basic c2VjcmV0LWF1dGg=", "session=secret-cookie-value", "sid=secret-set-cookie"

// originHandler answers like a tiny Exchange front end: 1 KiB on most
// paths, an Autodiscover XML body, a 401 for Windows authentication on
// /ews, and a Set-Cookie that must never reach a trace.
func originHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Set-Cookie", secretSetCookie)
	switch {
	case strings.HasPrefix(strings.ToLower(r.URL.Path), "/autodiscover/"):
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<?xml version="1.0"?><Autodiscover><Response><Protocol><EwsUrl>https://exch01.contoso.test/EWS/Exchange.asmx</EwsUrl></Protocol></Response></Autodiscover>`)
	case r.URL.Path == "/ews" && isWindowsAuth(r.Header.Get("Authorization")):
		w.WriteHeader(http.StatusUnauthorized)
	case r.URL.Path == "/redirect":
		http.Redirect(w, r, "https://exch01.contoso.test/EWS/Exchange.asmx?token=abc", http.StatusFound)
	default:
		w.Write(bytes.Repeat([]byte("x"), 1024))
	}
}

func newOrigin(t testing.TB, cert tls.Certificate, maxVersion uint16) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(originHandler))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: maxVersion}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func newLab(t testing.TB) *lab {
	t.Helper()
	l := &lab{originCA: testcert.NewCA(t, "Contoso Test Root"), origins: map[string]string{}}
	for _, c := range originCases {
		var cert tls.Certificate
		if c.self {
			cert = testcert.SelfSigned(t, c.spec)
		} else {
			cert = l.originCA.Leaf(t, c.spec)
		}
		l.origins[c.name] = newOrigin(t, cert, 0)
	}
	ca, err := certs.NewCA(certs.CAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.proxyCA = ca
	return l
}

// clientRoots is what the lab PC trusts: the origin CA and certsleuth's CA.
func (l *lab) clientRoots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(l.originCA.Cert)
	p.AddCert(l.proxyCA.Cert)
	return p
}

// running is a proxy on 127.0.0.1 recording into a buffer.
type running struct {
	srv   *Server
	addr  string
	mu    sync.Mutex
	buf   bytes.Buffer
	w     *record.Writer
	done  chan error
	evMu  sync.Mutex
	types map[EventType]int
}

func (r *running) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func startProxy(t testing.TB, cfg Config) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startProxyOn(t, cfg, ln)
}

// startProxyOn is startProxy on a listener of the caller's.
func startProxyOn(t testing.TB, cfg Config, ln net.Listener) *running {
	t.Helper()
	r := &running{done: make(chan error, 1), types: map[EventType]int{}}
	w, err := record.NewWriter(r, "certsleuth proxy test")
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	cfg.Observers = append(cfg.Observers, Recorder(w, func(err error) { t.Errorf("recorder: %v", err) }), func(ev Event) {
		r.evMu.Lock()
		r.types[ev.Type]++
		r.evMu.Unlock()
	})
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.srv, r.addr = srv, ln.Addr().String()
	go func() { r.done <- srv.Serve(ln) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop closes the proxy (once) and flushes the trace.
func (r *running) stop(t testing.TB) {
	if r.srv == nil {
		return
	}
	if err := r.srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-r.done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	r.srv = nil
	if err := r.w.Flush(); err != nil {
		t.Errorf("flush: %v", err)
	}
}

func (r *running) trace(t testing.TB) []*record.Observation {
	t.Helper()
	r.stop(t)
	r.mu.Lock()
	defer r.mu.Unlock()
	obs, rd, err := record.ReadAll(bytes.NewReader(r.buf.Bytes()), "trace")
	if err != nil || len(rd.Errors) > 0 || rd.Truncated {
		t.Fatalf("trace does not read back: %v %v truncated=%v", err, rd.Errors, rd.Truncated)
	}
	return obs
}

func (r *running) raw() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// resolveTo dials every name to 127.0.0.1, keeping the port.
func resolveAll(names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = "127.0.0.1"
	}
	return m
}

// viaProxy is a client that goes through the proxy at addr.
func viaProxy(proxyAddr string, roots *x509.CertPool) *http.Client {
	pu := &url.URL{Scheme: "http", Host: proxyAddr}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:           http.ProxyURL(pu),
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}}
}

// direct is a client that dials every name to origin.
func direct(origin string, roots *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, origin)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}}
}

// errClass is the client's verification result in the words a user sees.
func errClass(err error) string {
	var he x509.HostnameError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &he):
		return "name"
	case errors.As(err, &ua):
		return "unknown authority"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return "expired"
	}
	return "other: " + err.Error()
}

func get(c *http.Client, u string, hdr ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// findItem is the report item for the request to origin port in mode.
func itemsFor(rep *analysis.Report, server string) []*analysis.Item {
	var out []*analysis.Item
	for _, it := range rep.Items {
		if it.Obs.Server == server {
			out = append(out, it)
		}
	}
	return out
}

func hasFinding(it *analysis.Item, id string) bool {
	for _, f := range it.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

// TestModes is the key promise: through the proxy, in every mode, a Go
// client reaches origins with a right, a wrong-host, a CN-only, an expired
// and a self-signed certificate; in mirror mode (and passthrough) its own
// verification result equals what it gets directly, in clean mode it
// gets no error; and the trace replays to the right verdict every time.
func TestModes(t *testing.T) {
	l := newLab(t)
	roots := l.clientRoots()
	analysisRoots := x509.NewCertPool()
	analysisRoots.AddCert(l.originCA.Cert)
	for _, mode := range []Mode{ModeMirror, ModeClean, ModePassthrough} {
		t.Run(string(mode), func(t *testing.T) {
			p := startProxy(t, Config{Mode: mode, CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test", "exch01.contoso.test")})
			for _, c := range originCases {
				origin := l.origins[c.name]
				u := "https://" + net.JoinHostPort(c.ask, portOf(origin)) + "/"
				_, _, derr := get(direct(origin, roots), u)
				dc := errClass(derr)
				resp, body, perr := get(viaProxy(p.addr, roots), u)
				pc := errClass(perr)
				want := dc
				if mode == ModeClean {
					want = "ok"
				}
				if pc != want {
					t.Errorf("%s: through the proxy the client got %q (%v), want %q (direct: %q)", c.name, pc, perr, want, dc)
				}
				if perr == nil && (resp.StatusCode != 200 || len(body) != 1024) {
					t.Errorf("%s: status %d, %d bytes, want 200 and 1024", c.name, resp.StatusCode, len(body))
				}
				if c.name == "right" && dc != "ok" || c.name != "right" && dc == "ok" {
					t.Fatalf("%s: the direct result %q is not what the case is for", c.name, dc)
				}
			}
			p.waitObs(t, len(originCases))
			obs := p.trace(t)
			rep := analysis.Analyze(obs, analysis.Options{Roots: analysisRoots})
			for _, c := range originCases {
				its := itemsFor(rep, l.origins[c.name])
				if len(its) == 0 {
					t.Errorf("%s: nothing recorded for %s", c.name, l.origins[c.name])
					continue
				}
				for _, it := range its {
					if len(it.Obs.Chain) == 0 {
						t.Errorf("%s: observation without the upstream chain: %+v", c.name, it.Obs)
						continue
					}
					if it.Name != c.ask {
						t.Errorf("%s: replay judged name %q, want %q", c.name, it.Name, c.ask)
					}
					if c.finding == "" {
						if ps := it.WarningProfiles(rep.Profiles); len(ps) > 0 {
							t.Errorf("%s: replay warns for %v: %+v", c.name, ps, it.Findings)
						}
					} else if !hasFinding(it, c.finding) {
						t.Errorf("%s: replay findings %v, want %s", c.name, findingIDs(it), c.finding)
					}
					if mode == ModePassthrough && it.Obs.Visibility != record.VisProbed {
						t.Errorf("%s: passthrough over TLS 1.3: visibility %q, want probed", c.name, it.Obs.Visibility)
					}
					if mode == ModeMirror && c.finding != "" && it.Obs.ClientAlert == "" {
						t.Errorf("%s: mirror mode: the client's alert was not recorded: %+v", c.name, it.Obs)
					}
				}
			}
		})
	}
}

func findingIDs(it *analysis.Item) []string {
	var ids []string
	for _, f := range it.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// TestMirrorLeaf: the leaf shown carries the upstream's names and dates;
// an untrusted upstream is re-signed by the untrusted CA.
func TestMirrorLeaf(t *testing.T) {
	l := newLab(t)
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test", "exch01.contoso.test")})
	for _, c := range originCases {
		conn := dialTunnel(t, p.addr, net.JoinHostPort(c.ask, portOf(l.origins[c.name])))
		tc := tls.Client(conn, &tls.Config{ServerName: c.ask, InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		leaf := tc.ConnectionState().PeerCertificates[0]
		tc.Close()
		if leaf.Subject.CommonName != c.spec.CN || strings.Join(leaf.DNSNames, ",") != strings.Join(c.spec.DNS, ",") {
			t.Errorf("%s: leaf CN %q SANs %v, want %q %v", c.name, leaf.Subject.CommonName, leaf.DNSNames, c.spec.CN, c.spec.DNS)
		}
		if !c.spec.NotAfter.IsZero() && !leaf.NotAfter.Equal(c.spec.NotAfter) {
			t.Errorf("%s: leaf NotAfter %v, want the upstream's %v", c.name, leaf.NotAfter, c.spec.NotAfter)
		}
		signedByUs := leaf.CheckSignatureFrom(l.proxyCA.Cert) == nil
		if signedByUs == c.self {
			t.Errorf("%s: signed by our CA = %v, want %v", c.name, signedByUs, !c.self)
		}
	}
}

// dialTunnel opens a CONNECT tunnel to target and returns the raw conn.
func dialTunnel(t testing.TB, proxyAddr, target string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxyAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("CONNECT %s: %s", target, resp.Status)
	}
	if br.Buffered() > 0 {
		t.Fatal("bytes after the CONNECT answer")
	}
	c.SetDeadline(time.Time{})
	return c
}

// TestPassthroughVersions: TLS 1.2 certificates are read from the stream,
// TLS 1.3 ones fetched by a side connection and marked probed.
func TestPassthroughVersions(t *testing.T) {
	ca := testcert.NewCA(t, "Contoso Test Root")
	leaf := ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, tc := range []struct {
		max     uint16
		version string
		vis     record.Visibility
	}{
		{tls.VersionTLS12, "TLS 1.2", record.VisVisible},
		{tls.VersionTLS13, "TLS 1.3", record.VisProbed},
	} {
		t.Run(tc.version, func(t *testing.T) {
			origin := newOrigin(t, leaf, tc.max)
			p := startProxy(t, Config{Mode: ModePassthrough, Resolve: resolveAll("mail.contoso.test")})
			if _, _, err := get(viaProxy(p.addr, roots), "https://mail.contoso.test:"+portOf(origin)+"/"); err != nil {
				t.Fatal(err)
			}
			obs := p.trace(t)
			if len(obs) != 1 {
				t.Fatalf("%d observations, want 1", len(obs))
			}
			o := obs[0]
			if o.TLSVersion != tc.version || o.Visibility != tc.vis || len(o.Chain) == 0 || o.SNI != "mail.contoso.test" {
				t.Errorf("got version %q visibility %q chain %d SNI %q; want %q %q", o.TLSVersion, o.Visibility, len(o.Chain), o.SNI, tc.version, tc.vis)
			}
			if len(o.Chain) > 0 && !bytes.Equal(o.Chain[0], leaf.Certificate[0]) {
				t.Error("recorded chain is not the origin's")
			}
		})
	}
}

// TestUpstreamDown: CONNECT and plain HTTP to a dead upstream give 502,
// are recorded as failed, and the proxy keeps working.
func TestUpstreamDown(t *testing.T) {
	l := newLab(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test"), DialTimeout: 2 * time.Second})
	c := viaProxy(p.addr, l.clientRoots())
	_, _, err := get(c, "https://mail.contoso.test:"+portOf(dead)+"/")
	if err == nil || !strings.Contains(err.Error(), "Bad Gateway") {
		t.Errorf("CONNECT to a dead upstream: %v, want a 502 Bad Gateway", err)
	}
	resp, _, err := get(c, "http://mail.contoso.test:"+portOf(dead)+"/")
	if err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("plain HTTP to a dead upstream: %v %v, want 502", resp, err)
	}
	if _, _, err := get(c, "https://mail.contoso.test:"+portOf(l.origins["right"])+"/"); err != nil {
		t.Errorf("the proxy stopped working after a dead upstream: %v", err)
	}
	obs := p.trace(t)
	failed := 0
	for _, o := range obs {
		if strings.Contains(o.URL+o.Connect, portOf(dead)) {
			if o.Error == "" {
				t.Errorf("dead upstream recorded without an error: %+v", o)
			}
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d dead-upstream observations, want 2 (CONNECT, plain HTTP)", failed)
	}
}

// TestClientHangsUp: a client that goes away mid-handshake is recorded
// and leaves no goroutine behind.
func TestClientHangsUp(t *testing.T) {
	l := newLab(t)
	base := runtime.NumGoroutine()
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test")})
	target := "mail.contoso.test:" + portOf(l.origins["right"])

	// Half a ClientHello, then gone.
	hello := clientHello(t, "mail.contoso.test")
	c := dialTunnel(t, p.addr, target)
	c.Write(hello[:len(hello)/2])
	c.Close()

	// A whole ClientHello, then gone before the client's Finished.
	c = dialTunnel(t, p.addr, target)
	second := c.LocalAddr().String()
	c.Write(hello)
	br := bufio.NewReader(c)
	br.Peek(1) // the proxy answered with its certificate
	c.Close()

	p.waitObs(t, 2)
	obs := p.trace(t)
	if len(obs) != 2 {
		t.Fatalf("%d observations, want 2: %+v", len(obs), obs)
	}
	for _, o := range obs {
		if o.Error == "" || !strings.Contains(o.Error, "hung up") && !strings.Contains(o.Error, "client") {
			t.Errorf("hang-up not recorded as such: %q", o.Error)
		}
	}
	// The trace is in the order the tunnels ended, which a loaded machine
	// may swap: the second hang-up is the observation of its client.
	o := obs[1]
	if obs[0].Client == second {
		o = obs[0]
	}
	if o.Client != second || len(o.Chain) == 0 || o.SNI != "mail.contoso.test" {
		t.Errorf("second hang-up (client %s) lost the upstream chain or SNI: %+v", second, o)
	}
	waitGoroutines(t, base)
}

// clientHello is the first flight of a Go TLS client asking for sni.
func clientHello(t testing.TB, sni string) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer b.Close()
	go func() {
		tls.Client(a, &tls.Config{ServerName: sni}).Handshake()
		a.Close()
	}()
	b.SetDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

// waitObs waits until n observations were emitted.
func (r *running) waitObs(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.evMu.Lock()
		got := r.types[EventExchange] + r.types[EventConnection]
		r.evMu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d observations after 5s, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines, started with %d:\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var concurrentTunnels = 200

// TestConcurrentTunnels: 200 tunnels at once, each its own client
// connection; after Close no goroutine is left.
func TestConcurrentTunnels(t *testing.T) {
	l := newLab(t)
	roots := l.clientRoots()
	base := runtime.NumGoroutine()
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test"), HandshakeTimeout: time.Minute})
	u := "https://mail.contoso.test:" + portOf(l.origins["right"]) + "/"
	var wg sync.WaitGroup
	errs := make(chan error, concurrentTunnels)
	var clients []*http.Client
	for range concurrentTunnels {
		c := viaProxy(p.addr, roots)
		c.Timeout = time.Minute // 800 handshakes on a small machine under -race take a while
		clients = append(clients, c)
	}
	start := make(chan struct{})
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, b, err := get(c, u); err != nil || len(b) != 1024 {
				errs <- fmt.Errorf("%d bytes, %v", len(b), err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The tunnels are still open (keep-alive): Close must end them all.
	obs := p.trace(t)
	if len(obs) != concurrentTunnels {
		t.Errorf("%d observations, want %d", len(obs), concurrentTunnels)
	}
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	waitGoroutines(t, base)
}

// TestSecretsAndBodies: Authorization, Cookie and Set-Cookie never reach
// the trace; Autodiscover bodies do, other bodies do not.
func TestSecretsAndBodies(t *testing.T) {
	l := newLab(t)
	plain := httptest.NewServer(http.HandlerFunc(originHandler))
	defer plain.Close()
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test", "autodiscover.contoso.test")})
	c := viaProxy(p.addr, l.clientRoots())
	port := portOf(l.origins["right"])
	for _, u := range []string{
		"https://autodiscover.contoso.test:" + port + "/autodiscover/autodiscover.xml",
		"https://mail.contoso.test:" + port + "/owa/?password=hunter2",
		"http://autodiscover.contoso.test:" + portOf(plain.Listener.Addr().String()) + "/Autodiscover/Autodiscover.xml",
		"http://mail.contoso.test:" + portOf(plain.Listener.Addr().String()) + "/plain",
	} {
		resp, _, err := get(c, u, "Authorization", secretAuth, "Cookie", secretCookie)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", u, resp, err)
		}
	}
	raw := p.raw()
	obs := p.trace(t)
	raw = p.raw()
	for _, s := range []string{"c2VjcmV0LWF1dGg", "secret-cookie", "secret-set-cookie", "hunter2"} {
		if strings.Contains(raw, s) {
			t.Errorf("the trace holds the secret %q:\n%s", s, raw)
		}
	}
	if len(obs) != 4 {
		t.Fatalf("%d observations, want 4", len(obs))
	}
	for _, o := range obs {
		isAD := strings.Contains(strings.ToLower(o.URL), "/autodiscover/")
		switch {
		case isAD && (o.Body == nil || !strings.Contains(o.Body.Text, "<EwsUrl>")):
			t.Errorf("%s: Autodiscover body not kept: %+v", o.URL, o.Body)
		case !isAD && o.Body != nil:
			t.Errorf("%s: body kept: %+v", o.URL, o.Body)
		}
		if o.Status != 200 || o.Method != "GET" {
			t.Errorf("%s: status %d method %q", o.URL, o.Status, o.Method)
		}
	}
}

// TestRecordedFields: CONNECT target, SNI, Host, URL, method, status,
// Location, TLS version and the Extended Protection note.
func TestRecordedFields(t *testing.T) {
	l := newLab(t)
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test")})
	c := viaProxy(p.addr, l.clientRoots())
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	port := portOf(l.origins["right"])
	if resp, _, err := get(c, "https://mail.contoso.test:"+port+"/redirect"); err != nil || resp.StatusCode != 302 {
		t.Fatalf("%v %v", resp, err)
	}
	if resp, _, err := get(c, "https://mail.contoso.test:"+port+"/ews", "Authorization", "NTLM TlRMTVNTUAABAAAA"); err != nil || resp.StatusCode != 401 {
		t.Fatalf("%v %v", resp, err)
	}
	obs := p.trace(t)
	if len(obs) != 2 {
		t.Fatalf("%d observations", len(obs))
	}
	o := obs[0]
	want := record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Connect: "mail.contoso.test:" + port, SNI: "mail.contoso.test",
		Host: "mail.contoso.test:" + port, URL: "https://mail.contoso.test:" + port + "/redirect", Method: "GET", Status: 302,
		Location: "https://exch01.contoso.test/EWS/Exchange.asmx?token=REDACTED", TLSVersion: "TLS 1.3", Visibility: record.VisVisible,
		Server: l.origins["right"]}
	got := record.Observation{Kind: o.Kind, Source: o.Source, Connect: o.Connect, SNI: o.SNI, Host: o.Host, URL: o.URL, Method: o.Method,
		Status: o.Status, Location: o.Location, TLSVersion: o.TLSVersion, Visibility: o.Visibility, Server: o.Server}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("recorded\n%+v\nwant\n%+v", got, want)
	}
	if o.Protocol != "http/1.1" {
		t.Errorf("negotiated protocol %q, want http/1.1", o.Protocol)
	}
	if o.Conn == "" || o.Conn != obs[1].Conn {
		t.Errorf("two requests on one tunnel have conns %q and %q, want one and the same", o.Conn, obs[1].Conn)
	}
	if !strings.Contains(obs[1].Note, "Extended Protection") {
		t.Errorf("NTLM 401 through the proxy: note %q does not mention Extended Protection", obs[1].Note)
	}
}

// TestHelperPages: the CA through the proxy at http://certsleuth.local/
// and on the proxy's own address.
func TestHelperPages(t *testing.T) {
	l := newLab(t)
	p := startProxy(t, Config{CA: l.proxyCA})
	c := viaProxy(p.addr, nil)
	resp, b, err := get(c, "http://"+HelperHost+"/certsleuth-ca.pem")
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(b, l.proxyCA.PEM()) {
		t.Fatalf("PEM through the proxy: %v %v %q", resp, err, b)
	}
	resp, b, err = get(c, "http://"+HelperHost+"/certsleuth-ca.der")
	if err != nil || !bytes.Equal(b, l.proxyCA.Cert.Raw) {
		t.Fatalf("DER: %v %v", resp, err)
	}
	resp, b, err = get(c, "http://"+HelperHost+"/certsleuth-ca.mobileconfig")
	if err != nil || resp.Header.Get("Content-Type") != "application/x-apple-aspen-config" || !bytes.Contains(b, []byte("com.apple.security.root")) {
		t.Fatalf("mobileconfig: %v %v", resp, err)
	}
	resp, b, err = get(http.DefaultClient, "http://"+p.addr+"/")
	if err != nil || resp.StatusCode != 200 || !bytes.Contains(b, []byte(l.proxyCA.Cert.Subject.CommonName)) {
		t.Fatalf("helper page on the proxy's address: %v %v", resp, err)
	}
	resp, _, err = get(c, "http://"+HelperHost+"/nothing")
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("unknown helper path: %v %v", resp, err)
	}
	if _, _, err = get(c, "https://"+HelperHost+"/"); err == nil || !strings.Contains(err.Error(), "Bad Gateway") {
		t.Errorf("https://%s/: %v, want a 502 that points at http://", HelperHost, err)
	}
	if obs := p.trace(t); len(obs) != 0 {
		t.Errorf("helper requests were recorded: %+v", obs)
	}
}

// TestOnlyAndConstraints: --only leaves other hosts blind and unrecorded;
// a name-constrained CA never intercepts names outside its domains.
func TestOnlyAndConstraints(t *testing.T) {
	l := newLab(t)
	roots := l.clientRoots()
	port := portOf(l.origins["right"])

	p := startProxy(t, Config{CA: l.proxyCA, Only: []string{"autodiscover.*"}, Resolve: resolveAll("mail.contoso.test", "autodiscover.contoso.test")})
	resp, _, err := get(viaProxy(p.addr, roots), "https://mail.contoso.test:"+port+"/")
	if err != nil || resp.TLS.PeerCertificates[0].CheckSignatureFrom(l.originCA.Cert) != nil {
		t.Fatalf("a host outside --only was intercepted or failed: %v", err)
	}
	if _, _, err := get(viaProxy(p.addr, roots), "https://autodiscover.contoso.test:"+port+"/"); err != nil {
		t.Fatal(err)
	}
	obs := p.trace(t)
	if len(obs) != 1 || obs[0].SNI != "autodiscover.contoso.test" {
		t.Errorf("--only: recorded %d observations, want only the autodiscover one", len(obs))
	}

	nc, err := certs.NewCA(certs.CAOptions{NameConstraints: []string{"example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	p = startProxy(t, Config{CA: nc, Resolve: resolveAll("mail.contoso.test")})
	resp, _, err = get(viaProxy(p.addr, roots), "https://mail.contoso.test:"+port+"/")
	if err != nil || resp.TLS.PeerCertificates[0].CheckSignatureFrom(l.originCA.Cert) != nil {
		t.Fatalf("a name outside the CA's constraints was intercepted or failed: %v", err)
	}
	obs = p.trace(t)
	if len(obs) != 1 || !strings.Contains(obs[0].Note, "name constraints") || len(obs[0].Chain) == 0 {
		t.Errorf("constrained CA: %+v", obs)
	}

	// A CONNECT to an address with an SNI inside the constraints is
	// intercepted: the client checks the SNI, not the address.
	nc, err = certs.NewCA(certs.CAOptions{NameConstraints: []string{"contoso.test"}})
	if err != nil {
		t.Fatal(err)
	}
	p = startProxy(t, Config{CA: nc})
	conn := dialTunnel(t, p.addr, l.origins["right"])
	tc := tls.Client(conn, &tls.Config{ServerName: "mail.contoso.test", InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if tc.ConnectionState().PeerCertificates[0].CheckSignatureFrom(nc.Cert) != nil {
		t.Error("CONNECT to an address with an SNI inside the constraints was not intercepted")
	}
	tc.Close()
}

func TestAllowed(t *testing.T) {
	_, n, _ := net.ParseCIDR("192.168.1.0/24")
	s := &Server{cfg: Config{Allow: []*net.IPNet{n}}}
	for _, tc := range []struct {
		ip   string
		want bool
	}{{"127.0.0.1", true}, {"::1", true}, {"192.168.1.20", true}, {"192.168.2.20", false}, {"10.0.0.1", false}} {
		if got := s.allowed(&net.TCPAddr{IP: net.ParseIP(tc.ip)}); got != tc.want {
			t.Errorf("allowed(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:1": true, "0.0.0.0:8080": false, ":8080": false, "192.168.1.5:8080": false} {
		if got := IsLoopbackListen(addr); got != want {
			t.Errorf("IsLoopbackListen(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestCurl runs the real curl through the proxy when it is installed.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	l := newLab(t)
	dir := t.TempDir()
	testcert.WritePEM(t, dir+"/roots.pem", l.originCA.Cert.Raw, l.proxyCA.Cert.Raw)
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test", "exch01.contoso.test")})
	for _, c := range originCases {
		origin := l.origins[c.name]
		u := "https://" + c.ask + ":" + portOf(origin) + "/"
		run := func(args ...string) int {
			cmd := exec.Command(curl, append([]string{"-s", "-o", "/dev/null", "--max-time", "10", "--cacert", dir + "/roots.pem"}, args...)...)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			err := cmd.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			if err != nil {
				t.Fatal(err)
			}
			return 0
		}
		d := run("--resolve", c.ask+":"+portOf(origin)+":127.0.0.1", u)
		v := run("--proxy", "http://"+p.addr, u)
		if d != v {
			t.Errorf("%s: curl exit %d directly, %d through the proxy", c.name, d, v)
		}
	}
}

// TestLegacyTLS: with LegacyTLS a TLS 1.0 client reaches a TLS 1.0-only
// origin through the proxy; without it the proxy refuses TLS 1.0 (Go's
// default minimum is TLS 1.2) and records why.
func TestLegacyTLS(t *testing.T) {
	ca := testcert.NewCA(t, "Legacy Root")
	origin := newOrigin(t, ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}}), tls.VersionTLS10)
	origins := newLab(t)
	roots := origins.clientRoots()
	roots.AddCert(ca.Cert)
	u := "https://mail.contoso.test:" + portOf(origin) + "/"
	for _, legacy := range []bool{true, false} {
		p := startProxy(t, Config{CA: origins.proxyCA, ExtraRoots: []*x509.Certificate{ca.Cert}, LegacyTLS: legacy, Resolve: resolveAll("mail.contoso.test")})
		c := viaProxy(p.addr, roots)
		c.Transport.(*http.Transport).TLSClientConfig.MinVersion = tls.VersionTLS10
		c.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS10
		_, _, err := get(c, u)
		if (err == nil) != legacy {
			t.Errorf("legacy=%v: TLS 1.0 through the proxy: %v", legacy, err)
		}
		p.waitObs(t, 1)
		obs := p.trace(t)
		if len(obs) != 1 {
			t.Fatalf("legacy=%v: %d observations", legacy, len(obs))
		}
		if legacy && obs[0].TLSVersion != "TLS 1.0" {
			t.Errorf("upstream version %q, want TLS 1.0", obs[0].TLSVersion)
		}
		if !legacy && !strings.Contains(obs[0].Error, "--legacy-tls") {
			t.Errorf("refused TLS 1.0 recorded without an error: %+v", obs[0])
		}
	}
}

// TestDialsConnectTarget: the upstream is the CONNECT target, whatever the
// Host header inside the tunnel says (goproxy 1.9.1+ would re-target).
func TestDialsConnectTarget(t *testing.T) {
	l := newLab(t)
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test")})
	target := "mail.contoso.test:" + portOf(l.origins["right"])
	conn := dialTunnel(t, p.addr, target)
	tc := tls.Client(conn, &tls.Config{ServerName: "mail.contoso.test", RootCAs: l.clientRoots()})
	defer tc.Close()
	fmt.Fprintf(tc, "GET /owa/ HTTP/1.1\r\nHost: elsewhere.invalid\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	p.waitObs(t, 1)
	obs := p.trace(t)
	if len(obs) != 1 || obs[0].Connect != target || obs[0].Host != "elsewhere.invalid" || obs[0].Server != l.origins["right"] {
		t.Errorf("recorded %+v, want CONNECT %s, Host elsewhere.invalid, server %s", obs, target, l.origins["right"])
	}
}

// TestMirrorConstrained: with a name-constrained CA, an upstream leaf that
// also names hosts outside the constraints is mirrored without them, so
// the client's verdict still equals the direct one.
func TestMirrorConstrained(t *testing.T) {
	ca := testcert.NewCA(t, "Contoso Test Root")
	origin := newOrigin(t, ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test", "www.example.org"}}), 0)
	nc, err := certs.NewCA(certs.CAOptions{NameConstraints: []string{"contoso.test"}})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	roots.AddCert(nc.Cert)
	p := startProxy(t, Config{CA: nc, ExtraRoots: []*x509.Certificate{ca.Cert}, Resolve: resolveAll("mail.contoso.test", "exch01.contoso.test")})
	for _, name := range []string{"mail.contoso.test", "exch01.contoso.test"} {
		u := "https://" + name + ":" + portOf(origin) + "/"
		_, _, derr := get(direct(origin, roots), u)
		_, _, perr := get(viaProxy(p.addr, roots), u)
		if errClass(derr) != errClass(perr) {
			t.Errorf("%s: direct %q, through a constrained CA %q (%v)", name, errClass(derr), errClass(perr), perr)
		}
	}
	p.waitObs(t, 2)
	obs := p.trace(t)
	if len(obs) != 2 || !strings.Contains(obs[0].Note, "leaves out www.example.org") {
		t.Errorf("the dropped name is not noted: %+v", obs)
	}
}
