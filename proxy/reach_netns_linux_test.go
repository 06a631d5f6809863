package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// netnsClient is a network namespace joined to this one by a veth pair:
// a client there is on "another machine" as far as the proxy can tell.
type netnsClient struct {
	ns       string
	hostIP   string // this side of the veth pair
	clientIP string // the namespace's side
}

// newNetns creates the namespace and the veth pair, or says exactly why it
// cannot. Under CI=true, not being able to is a failure: the rule must be
// tested with a real remote client somewhere.
func newNetns(t *testing.T) *netnsClient {
	t.Helper()
	why := ""
	switch {
	case os.Geteuid() != 0:
		why = "creating a network namespace needs root (CAP_NET_ADMIN)"
	default:
		if _, err := exec.LookPath("ip"); err != nil {
			why = "the ip command (iproute2) is not installed"
		} else if _, err := exec.LookPath("curl"); err != nil {
			why = "curl (the client run inside the namespace) is not installed"
		}
	}
	if why == "" {
		n := &netnsClient{ns: fmt.Sprintf("csl16-%d", os.Getpid())}
		sub := 16 + os.Getpid()%200
		n.hostIP, n.clientIP = fmt.Sprintf("10.216.%d.1", sub), fmt.Sprintf("10.216.%d.2", sub)
		hv, cv := fmt.Sprintf("cs16h%d", os.Getpid()%100000), fmt.Sprintf("cs16c%d", os.Getpid()%100000)
		steps := [][]string{
			{"netns", "add", n.ns},
			{"link", "add", hv, "type", "veth", "peer", "name", cv},
			{"link", "set", cv, "netns", n.ns},
			{"addr", "add", n.hostIP + "/24", "dev", hv},
			{"link", "set", hv, "up"},
			{"netns", "exec", n.ns, "ip", "addr", "add", n.clientIP + "/24", "dev", cv},
			{"netns", "exec", n.ns, "ip", "link", "set", cv, "up"},
			{"netns", "exec", n.ns, "ip", "link", "set", "lo", "up"},
		}
		t.Cleanup(func() {
			exec.Command("ip", "netns", "del", n.ns).Run() // removes cv, and with it hv
			exec.Command("ip", "link", "del", hv).Run()
		})
		for _, s := range steps {
			if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
				why = fmt.Sprintf("ip %s: %v: %s", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
				break
			}
		}
		if why == "" {
			return n
		}
	}
	msg := "cannot test with a client in a network namespace: " + why + "; TestReachRemote tests the same rule with a simulated remote address"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return nil
}

// curl runs curl in the namespace and returns "CONNECT-code HTTP-code".
func (n *netnsClient) curl(t *testing.T, args ...string) string {
	t.Helper()
	a := append([]string{"netns", "exec", n.ns, "curl", "-s", "-k", "-o", "/dev/null", "--max-time", "20", "-w", "%{http_connect} %{http_code}"}, args...)
	out, _ := exec.Command("ip", a...).Output() // a refused CONNECT is exit 56; the codes say what happened
	return strings.TrimSpace(string(out))
}

// TestReachNetns is TestReachRemote with a real client on another
// "machine": curl in a network namespace, through a veth pair. It cannot
// reach the proxy host's loopback, link-local or listening addresses
// through the proxy (plain HTTP, CONNECT in mirror and passthrough mode);
// it can reach the host's other addresses, names --resolve maps, and
// --allow-target networks; curl on this host still reaches loopback.
func TestReachNetns(t *testing.T) {
	n := newNetns(t)
	l := newLab(t)
	tlsOrigin := l.origins["right"]
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "loopback only") }))
	defer local.Close()
	lan, err := net.Listen("tcp", n.hostIP+":0") // a service on the host's veth address: not forbidden
	if err != nil {
		t.Fatal(err)
	}
	lanSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "lan") })}
	go lanSrv.Serve(lan)
	defer lanSrv.Close()
	_, clients, _ := net.ParseCIDR(n.clientIP + "/24") // the namespace, and this host on its side of the pair
	_, lo, _ := net.ParseCIDR("127.0.0.1/32")
	start := func(cfg Config) *running {
		ln, err := net.Listen("tcp", n.hostIP+":0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.CA, cfg.Allow = l.proxyCA, []*net.IPNet{clients}
		return startProxyOn(t, cfg, ln)
	}
	mirror := start(Config{Resolve: map[string]string{"intranet.contoso.test": local.Listener.Addr().String()}})
	pass := start(Config{Mode: ModePassthrough})
	allowT := start(Config{AllowTarget: []*net.IPNet{lo}})
	localURL := "http://" + local.Listener.Addr().String() + "/"
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"plain HTTP to loopback", []string{"-x", "http://" + mirror.addr, localURL}, "000 403"},
		{"plain HTTP to localhost", []string{"-x", "http://" + mirror.addr, "http://localhost:" + portOf(local.Listener.Addr().String()) + "/"}, "000 403"},
		{"CONNECT to loopback (mirror)", []string{"-x", "http://" + mirror.addr, "https://127.0.0.1:" + portOf(tlsOrigin) + "/"}, "403 000"},
		{"CONNECT to loopback (passthrough)", []string{"-p", "-x", "http://" + pass.addr, localURL}, "403 000"},
		{"CONNECT to link-local", []string{"-p", "-x", "http://" + mirror.addr, "http://169.254.169.254/"}, "403 000"},
		{"plain HTTP to the proxy itself", []string{"-x", "http://" + mirror.addr, "http://" + mirror.addr + "/"}, "000 403"},
		{"CONNECT to the proxy itself", []string{"-p", "-x", "http://" + pass.addr, "http://" + pass.addr + "/"}, "403 000"},
		{"plain HTTP to the host's veth address", []string{"-x", "http://" + mirror.addr, "http://" + lan.Addr().String() + "/"}, "000 200"},
		{"CONNECT to the host's veth address", []string{"-p", "-x", "http://" + pass.addr, "http://" + lan.Addr().String() + "/"}, "200 200"},
		{"a name --resolve maps to loopback", []string{"-x", "http://" + mirror.addr, "http://intranet.contoso.test/"}, "000 200"},
		{"--allow-target 127.0.0.1/32 (plain)", []string{"-x", "http://" + allowT.addr, localURL}, "000 200"},
		{"--allow-target 127.0.0.1/32 (CONNECT)", []string{"-p", "-x", "http://" + allowT.addr, localURL}, "200 200"},
		{"no proxy: the namespace has its own loopback", []string{"--noproxy", "*", localURL}, "000 000"},
	} {
		if got := n.curl(t, c.args...); got != c.want {
			t.Errorf("%s: curl says %q (CONNECT code, HTTP code), want %q", c.name, got, c.want)
		}
	}
	// On this host (not in the namespace) curl still reaches loopback through
	// the same proxy: a lab serves its test sites on 127.0.0.1.
	out, err := exec.Command("curl", "-s", "-o", "/dev/null", "--max-time", "20", "-w", "%{http_code}", "-x", "http://"+mirror.addr, localURL).Output()
	if string(out) != "200" {
		t.Errorf("curl on the proxy's host through the proxy to loopback: %q %v, want 200", out, err)
	}
}
