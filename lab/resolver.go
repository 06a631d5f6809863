package lab

import (
	"context"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"syscall"
)

// Resolver answers the lab's DNS questions from its Config and maps the
// lab's names to loopback listeners: no /etc/hosts edits, no real DNS.
// Port 443 of a name reaches the HTTPS listener of the machine the name's
// A record points at, port 80 its HTTP listener.
type Resolver struct {
	cfg   *Config
	https map[Role]string // role -> 127.0.0.1:port
	http  map[Role]string
}

// LookupHost returns the role behind name, or a *net.DNSError with
// IsNotFound set when the lab has no A record for it.
func (r *Resolver) LookupHost(name string) (Role, error) {
	if role := r.cfg.role(name); role != "" {
		return role, nil
	}
	return "", &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// LookupSRV answers _service._proto.name from the Config's SRV records,
// sorted by priority (lowest first), then weight (highest first) (RFC 2782).
func (r *Resolver) LookupSRV(service, proto, name string) ([]*net.SRV, error) {
	q := fmt.Sprintf("_%s._%s.%s", service, proto, name)
	if service != "autodiscover" || proto != "tcp" || !strings.EqualFold(name, r.cfg.Domain) || len(r.cfg.SRV) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: q, IsNotFound: true}
	}
	var out []*net.SRV
	for _, s := range r.cfg.SRV {
		out = append(out, &net.SRV{Target: s.Target, Port: uint16(s.Port), Priority: uint16(s.Priority), Weight: uint16(s.Weight)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Priority != out[j].Priority {
			return out[i].Priority < out[j].Priority
		}
		return out[i].Weight > out[j].Weight
	})
	return out, nil
}

// Addr returns the loopback address that serves host:port in the lab.
// Names without an A record give a *net.DNSError; a port the machine does
// not listen on gives connection refused.
func (r *Resolver) Addr(hostport string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", fmt.Errorf("lab: address %q: %w", hostport, err)
	}
	role, err := r.LookupHost(host)
	if err != nil {
		return "", err
	}
	var a string
	switch port {
	case "443", "https":
		a = r.https[role]
	case "80", "http":
		a = r.http[role]
	}
	if a == "" {
		return "", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return a, nil
}

// DialContext dials a lab name as if the lab's DNS and ports were real:
// "mail.contoso.com:443" reaches the Client Access server's HTTPS
// listener. It has the signature of net.Dialer.DialContext, for use as an
// http.Transport's or a proxy's upstream dialer.
func (r *Resolver) DialContext(ctx context.Context, network, hostport string) (net.Conn, error) {
	a, err := r.Addr(hostport)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, a)
}

// Names lists the lab's host names, sorted.
func (r *Resolver) Names() []string {
	var out []string
	for _, h := range r.cfg.Hosts {
		out = append(out, h.Name)
	}
	sort.Strings(out)
	return out
}
