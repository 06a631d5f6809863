package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// remoteListener makes every client look as if it came from ip, another
// machine, so the reach rule can be tested on 127.0.0.1 everywhere (the
// network-namespace test, TestReachNetns, does it with a real remote
// client where it can).
type remoteListener struct {
	net.Listener
	ip net.IP
}

func (l remoteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return remoteConn{c, &net.TCPAddr{IP: l.ip, Port: 40000}}, nil
}

type remoteConn struct {
	net.Conn
	remote net.Addr
}

func (c remoteConn) RemoteAddr() net.Addr { return c.remote }

// connectStatus sends CONNECT target to the proxy and returns the status
// code of its answer.
func connectStatus(t *testing.T, proxyAddr, target string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxyAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("CONNECT %s: %v", target, err)
	}
	return resp.StatusCode
}

// plainStatus sends GET u (absolute) to the proxy and returns the status.
func plainStatus(t *testing.T, proxyAddr, u string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxyAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", u)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReachRemote: a client on another machine may not reach the proxy
// host's loopback, unspecified, link-local or listening addresses through
// CONNECT (mirror, passthrough, or a host outside --only) or plain HTTP,
// whether named by address or by a name that resolves there; --resolve
// and --allow-target make exceptions; a client on this machine keeps
// reaching everything.
func TestReachRemote(t *testing.T) {
	l := newLab(t)
	tlsOrigin := l.origins["right"]
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret local service") }))
	defer plain.Close()
	tlsPort, plainPort := portOf(tlsOrigin), portOf(plain.Listener.Addr().String())
	_, testNet, _ := net.ParseCIDR("192.0.2.0/24") // TEST-NET-1 (RFC 5737): surely not this host
	_, lo32, _ := net.ParseCIDR("127.0.0.1/32")
	remote := func(t *testing.T, cfg Config) *running {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.CA, cfg.Allow, cfg.DialTimeout = l.proxyCA, []*net.IPNet{testNet}, 3*time.Second
		return startProxyOn(t, cfg, remoteListener{ln, net.ParseIP("192.0.2.7")})
	}
	refusedTargets := []string{
		"127.0.0.1:" + tlsPort, "localhost:" + tlsPort, "127.1.2.3:" + tlsPort, "[::1]:" + tlsPort,
		"[::ffff:127.0.0.1]:" + tlsPort, "0.0.0.0:" + tlsPort, "[::]:" + tlsPort,
		"169.254.169.254:80", "[fe80::1]:80",
	}
	for _, mode := range []struct {
		name string
		cfg  Config
	}{
		{"mirror", Config{}},
		{"passthrough", Config{Mode: ModePassthrough}},
		{"outside --only", Config{Only: []string{"*.contoso.test"}}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			p := remote(t, mode.cfg)
			for _, target := range append(refusedTargets, p.addr) {
				if code := connectStatus(t, p.addr, target); code != http.StatusForbidden {
					t.Errorf("CONNECT %s from another machine: %d, want 403", target, code)
				}
			}
			for _, u := range []string{"http://127.0.0.1:" + plainPort + "/", "http://localhost:" + plainPort + "/", "http://[::1]:" + plainPort + "/", "http://169.254.169.254/latest/meta-data/", "http://" + p.addr + "/"} {
				code, body := plainStatus(t, p.addr, u)
				if code != http.StatusForbidden || strings.Contains(body, "secret") {
					t.Errorf("GET %s from another machine: %d %q, want 403", u, code, body)
				} else if !strings.Contains(body, "--allow-target") {
					t.Errorf("GET %s: the refusal does not say how to allow it: %q", u, body)
				}
			}
			if mode.name == "outside --only" {
				return // not recorded, by design
			}
			refusedObs := 0
			for _, o := range p.trace(t) {
				if strings.Contains(o.Error, "refused to connect") && strings.Contains(o.Error, "may not reach") {
					refusedObs++
				}
			}
			if want := len(refusedTargets) + 1 + 5; refusedObs != want {
				t.Errorf("%d refusals in the trace, want %d", refusedObs, want)
			}
		})
	}
	t.Run("exceptions", func(t *testing.T) {
		p := remote(t, Config{Resolve: map[string]string{"mail.contoso.test": "127.0.0.1", "intranet.contoso.test": "127.0.0.1:" + plainPort}})
		if code := connectStatus(t, p.addr, "mail.contoso.test:"+tlsPort); code != http.StatusOK {
			t.Errorf("CONNECT to a name --resolve maps to loopback: %d, want 200", code)
		}
		if code, body := plainStatus(t, p.addr, "http://intranet.contoso.test/"); code != http.StatusOK {
			t.Errorf("GET a name --resolve maps to loopback: %d %q, want 200", code, body)
		}
		if code := connectStatus(t, p.addr, "127.0.0.1:"+tlsPort); code != http.StatusForbidden {
			t.Errorf("CONNECT 127.0.0.1 beside --resolve: %d, want 403", code)
		}
		a := remote(t, Config{AllowTarget: []*net.IPNet{lo32}})
		if code := connectStatus(t, a.addr, "127.0.0.1:"+tlsPort); code != http.StatusOK {
			t.Errorf("CONNECT 127.0.0.1 with --allow-target 127.0.0.1/32: %d, want 200", code)
		}
		if code, _ := plainStatus(t, a.addr, "http://127.0.0.1:"+plainPort+"/"); code != http.StatusOK {
			t.Errorf("GET 127.0.0.1 with --allow-target 127.0.0.1/32: %d, want 200", code)
		}
		if code := connectStatus(t, a.addr, "127.0.0.2:"+tlsPort); code != http.StatusForbidden {
			t.Errorf("CONNECT 127.0.0.2 with --allow-target 127.0.0.1/32: %d, want 403", code)
		}
	})
	t.Run("local client", func(t *testing.T) {
		p := startProxy(t, Config{CA: l.proxyCA, Mode: ModePassthrough})
		if code := connectStatus(t, p.addr, "127.0.0.1:"+tlsPort); code != http.StatusOK {
			t.Errorf("CONNECT 127.0.0.1 from this machine: %d, want 200 (a lab serves on loopback)", code)
		}
		if code, body := plainStatus(t, p.addr, "http://localhost:"+plainPort+"/"); code != http.StatusOK || body != "secret local service" {
			t.Errorf("GET localhost from this machine: %d %q, want 200", code, body)
		}
	})
}

// fakeListener only has an address, for refuseReason.
type fakeListener struct {
	net.Listener
	addr net.Addr
}

func (f fakeListener) Addr() net.Addr { return f.addr }

// TestRefuseReason: the rule itself, for every kind of address, including
// the proxy's own listening address on a specific and an unspecified IP.
func TestRefuseReason(t *testing.T) {
	hostIP := "" // one of this host's non-loopback addresses, if any
	if as, err := net.InterfaceAddrs(); err == nil {
		for _, a := range as {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				hostIP = n.IP.String()
				break
			}
		}
	}
	_, allowed, _ := net.ParseCIDR("10.9.0.0/16")
	s := &Server{cfg: Config{AllowTarget: []*net.IPNet{allowed}}}
	s.lns = []net.Listener{
		fakeListener{addr: &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 8080}},
		fakeListener{addr: &net.TCPAddr{IP: net.IPv4zero, Port: 3128}},
		fakeListener{addr: &net.TCPAddr{IP: net.ParseIP("10.9.1.1"), Port: 8080}},
	}
	cases := []struct {
		addr, want string
	}{
		{"127.0.0.1:22", "loopback"},
		{"127.255.0.1:22", "loopback"},
		{"[::1]:22", "loopback"},
		{"[::ffff:127.0.0.1]:22", "loopback"},
		{"0.0.0.0:22", "unspecified"},
		{"[::]:22", "unspecified"},
		{"169.254.169.254:80", "link-local"},
		{"[fe80::1%eth0]:80", "link-local"},
		{"10.1.2.3:8080", "listening"},
		{"10.1.2.3:8081", ""},
		{"10.9.1.1:8080", ""}, // --allow-target wins
		{"192.0.2.1:443", ""},
		{"[2001:db8::1]:443", ""},
		{"224.0.0.1:80", ""},
	}
	if hostIP != "" {
		cases = append(cases, struct{ addr, want string }{net.JoinHostPort(hostIP, "3128"), "listening"},
			struct{ addr, want string }{net.JoinHostPort(hostIP, "3129"), ""})
	}
	for _, c := range cases {
		ap := netip.MustParseAddrPort(c.addr)
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		got := s.refuseReason(ap)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("refuseReason(%s) = %q, want %q", c.addr, got, c.want)
		}
		err := s.guard(nil, "tcp", c.addr, nil)
		if (err == nil) != (c.want == "") || (err != nil && refused(err) == nil) {
			t.Errorf("guard(%s) = %v", c.addr, err)
		}
	}
	if err := s.guard(nil, "tcp", "not-an-address", nil); err == nil {
		t.Error("guard accepted an address that does not parse")
	}
}

// TestLocalClient: loopback, the address the client came in on, and this
// host's own addresses are local; other addresses are not.
func TestLocalClient(t *testing.T) {
	s := &Server{}
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 1} }
	for _, c := range []struct {
		remote, local net.Addr
		want          bool
	}{
		{tcp("127.0.0.1"), tcp("127.0.0.1"), true},
		{tcp("::1"), tcp("::1"), true},
		{tcp("::ffff:127.0.0.1"), nil, true},
		{tcp("192.168.7.9"), tcp("192.168.7.9"), true}, // a client on this host using its LAN address
		{tcp("192.0.2.7"), tcp("192.0.2.1"), false},
		{nil, tcp("127.0.0.1"), false},
		{&net.UnixAddr{Name: "pipe"}, nil, true},
	} {
		if got := s.localClient(c.remote, c.local); got != c.want {
			t.Errorf("localClient(%v, %v) = %v, want %v", c.remote, c.local, got, c.want)
		}
	}
}
