package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Who can reach what through the proxy (docs/proxy.md, "Who can reach
// what through the proxy").
//
// A client on the proxy's own machine may reach anything, as it could
// without the proxy: a lab serves its test sites on 127.0.0.1. A client on
// another machine (allowed with --allow) must not use the proxy as a relay
// into the proxy host itself: its loopback (127.0.0.0/8, ::1), the
// unspecified address (0.0.0.0 and :: connect to the host itself), its
// link-local addresses (169.254.0.0/16, fe80::/10: cloud metadata
// services live there) and the proxy's own listening addresses (a request
// to itself would loop). The check runs on the address actually
// connected to, after name resolution (net.Dialer.ControlContext), so a
// name that resolves to 127.0.0.1 (localtest.me, a rebinding DNS server)
// is refused too. It is the rule Squid's shipped squid.conf "strongly
// recommends" ("http_access deny to_localhost", to protect "web
// applications running on the proxy server who think the only one who can
// access services on localhost is a local user"), extended to link-local
// addresses and to the proxy's own address (a request to itself loops).
//
// Exceptions: a target the operator mapped with --resolve (Config.Resolve)
// is dialled as mapped, and Config.AllowTarget (--allow-target CIDR) lists
// networks remote clients may reach all the same.

// TargetRefusedError is the error of a dial that the reach rule refused.
type TargetRefusedError struct {
	Addr netip.AddrPort // the address that would have been connected to
	Why  string         // what it is: "the proxy host's loopback", ...
}

func (e *TargetRefusedError) Error() string {
	bits := 32
	if e.Addr.Addr().Is6() {
		bits = 128
	}
	return fmt.Sprintf("refused to connect to %s: it is %s, which clients on other machines may not reach through the proxy (to allow it: --allow-target %s/%d, or map a name there with --resolve NAME=%s)",
		e.Addr, e.Why, e.Addr.Addr().WithZone(""), bits, e.Addr)
}

// hostAddrs caches the proxy host's interface addresses.
type hostAddrs struct {
	mu    sync.Mutex
	addrs map[netip.Addr]bool
	at    time.Time
}

// has reports whether ip is one of this host's addresses (refreshed at most
// every 10 s: DHCP may change them while the proxy runs).
func (h *hostAddrs) has(ip netip.Addr) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.addrs == nil || time.Since(h.at) > 10*time.Second {
		h.addrs, h.at = map[netip.Addr]bool{}, time.Now()
		if as, err := net.InterfaceAddrs(); err == nil {
			for _, a := range as {
				if n, ok := a.(*net.IPNet); ok {
					if ip, ok := netip.AddrFromSlice(n.IP); ok {
						h.addrs[ip.Unmap()] = true
					}
				}
			}
		}
	}
	return h.addrs[ip.WithZone("").Unmap()]
}

// addrPort converts a net.Addr (TCP) to a netip.AddrPort.
func addrPort(a net.Addr) (netip.AddrPort, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// localClient reports whether a client at remote (that reached the proxy
// at local) runs on the proxy's own machine. A connection that is not TCP
// (a test pipe) counts as local; a nil remote does not.
func (s *Server) localClient(remote, local net.Addr) bool {
	if remote == nil { // an address that did not parse: not known to be local
		return false
	}
	r, ok := addrPort(remote)
	if !ok {
		return true
	}
	ip := r.Addr()
	if ip.IsLoopback() {
		return true
	}
	if l, ok := addrPort(local); ok && l.Addr() == ip {
		return true
	}
	return s.host.has(ip)
}

// refuseReason says why a remote client may not connect to ap ("" when it
// may).
func (s *Server) refuseReason(ap netip.AddrPort) string {
	ip := ap.Addr().Unmap()
	for _, n := range s.cfg.AllowTarget {
		if n.Contains(ip.AsSlice()) {
			return ""
		}
	}
	switch {
	case ip.IsLoopback():
		return "the proxy host's loopback"
	case ip.IsUnspecified():
		return "the unspecified address, which reaches the proxy host itself"
	case ip.IsLinkLocalUnicast():
		return "a link-local address (169.254.0.0/16 or fe80::/10)"
	}
	s.mu.Lock()
	lns := append([]net.Listener(nil), s.lns...)
	s.mu.Unlock()
	for _, ln := range lns {
		l, ok := addrPort(ln.Addr())
		if !ok || l.Port() != ap.Port() {
			continue
		}
		if l.Addr() == ip || (l.Addr().IsUnspecified() && s.host.has(ip)) {
			return "the proxy's own listening address"
		}
	}
	return ""
}

// guard is the net.Dialer ControlContext for dials made for clients on
// other machines: it runs on every address actually connected to.
func (s *Server) guard(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address and port", address)
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if why := s.refuseReason(ap); why != "" {
		return &TargetRefusedError{Addr: ap, Why: why}
	}
	return nil
}

// dialFor dials target ("host:port", after --resolve) for a client that
// is on the proxy's machine (local) or not; for the latter the reach rule
// applies unless --resolve mapped the target.
func (s *Server) dialFor(ctx context.Context, local bool, target string) (net.Conn, string, error) {
	addr, mapped := s.resolveTarget(target)
	d := net.Dialer{Timeout: s.cfg.DialTimeout}
	if !local && !mapped {
		d.ControlContext = s.guard
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	return c, addr, err
}

// refused returns the reach rule's refusal inside err, if it is one.
func refused(err error) *TargetRefusedError {
	var r *TargetRefusedError
	if errors.As(err, &r) {
		return r
	}
	return nil
}

// remoteAddr parses an http.Request's RemoteAddr ("ip:port").
func remoteAddr(s string) net.Addr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// localAddr is the proxy's address the request came in on.
func localAddr(r *http.Request) net.Addr {
	a, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return a
}
