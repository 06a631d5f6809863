package lab

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Lab is a running lab: the listeners of the machines its Config names,
// the certificates they present, and the Resolver that reaches them.
// Close stops it.
type Lab struct {
	CA       *CA
	Resolver *Resolver

	cfg      *Config
	exchange *tls.Certificate
	def      *tls.Certificate // IIS default (non-SNI) binding
	website  *tls.Certificate
	labels   map[string]string // leaf SHA-256 -> CertSpec.Label
	refuser  string            // a loopback address nothing listens on

	mu      sync.Mutex
	servers []*http.Server
	closed  bool
}

// Start brings up the lab for cfg on 127.0.0.1, on ephemeral ports. ca is
// the lab CA to issue from; nil generates one. The Client Access server
// always runs; the web site and the redirect responder run when a
// HostRecord has their role.
func Start(cfg Config, ca *CA) (*Lab, error) {
	if ca == nil {
		var err error
		if ca, err = NewCA(); err != nil {
			return nil, err
		}
	}
	c := cfg.Clone()
	l := &Lab{CA: ca, cfg: &c, labels: map[string]string{}}
	l.Resolver = &Resolver{cfg: l.cfg, https: map[Role]string{}, http: map[Role]string{}}
	var err error
	if l.exchange, err = l.issue(c.ExchangeCert); err != nil {
		return nil, err
	}
	l.def = l.exchange
	if c.DefaultCert != nil {
		if l.def, err = l.issue(*c.DefaultCert); err != nil {
			return nil, err
		}
	}
	if l.refuser, err = closedPort(); err != nil {
		return nil, err
	}
	roles := map[Role]bool{RoleCAS: true}
	for _, h := range c.Hosts {
		roles[h.Role] = true
	}
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()
	// The Client Access server: HTTPS with SNI bindings and a default binding, and HTTP.
	if l.Resolver.https[RoleCAS], err = l.serveTLS(&tls.Config{GetCertificate: l.casCertificate, MinVersion: tls.VersionTLS10}, l.casHandler()); err != nil {
		return nil, err
	}
	if l.Resolver.http[RoleCAS], err = l.serve(casHTTPHandler()); err != nil {
		return nil, err
	}
	if roles[RoleWebsite] {
		if c.WebsiteCert == nil {
			return nil, errors.New("lab: a host record points at the web site, but the config has no WebsiteCert")
		}
		if l.website, err = l.issue(*c.WebsiteCert); err != nil {
			return nil, err
		}
		if l.Resolver.https[RoleWebsite], err = l.serveTLS(&tls.Config{Certificates: []tls.Certificate{*l.website}}, websiteHandler()); err != nil {
			return nil, err
		}
		if l.Resolver.http[RoleWebsite], err = l.serve(websiteHandler()); err != nil {
			return nil, err
		}
	}
	if roles[RoleRedirect] {
		// An HTTP-only host: port 443 refuses connections.
		if l.Resolver.http[RoleRedirect], err = l.serve(l.redirectHandler()); err != nil {
			return nil, err
		}
	}
	ok = true
	return l, nil
}

// Config returns a copy of the configuration the lab runs.
func (l *Lab) Config() Config { return l.cfg.Clone() }

func (l *Lab) config() *Config { return l.cfg }

func (l *Lab) issue(spec CertSpec) (*tls.Certificate, error) {
	c, err := l.CA.Issue(spec)
	if err != nil {
		return nil, err
	}
	l.labels[fingerprint(c.Leaf.Raw)] = spec.Label
	return c, nil
}

// CertLabel says which of the lab's certificates leaf is ("" if none).
func (l *Lab) CertLabel(leaf *x509.Certificate) string {
	if leaf == nil {
		return ""
	}
	return l.labels[fingerprint(leaf.Raw)]
}

// casCertificate picks the Client Access server's certificate like IIS:
// an SNI binding for the names on the Exchange certificate, else the
// default binding, which is also what clients without SNI get.
func (l *Lab) casCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello.ServerName == "" || l.def == l.exchange {
		return l.def, nil
	}
	sni := strings.ToLower(hello.ServerName)
	for _, n := range l.cfg.ExchangeCert.DNSNames {
		n = strings.ToLower(n)
		if n == sni || strings.HasPrefix(n, "*.") && strings.HasSuffix(sni, n[1:]) && !strings.Contains(sni[:len(sni)-len(n)+1], ".") {
			return l.exchange, nil
		}
	}
	return l.def, nil
}

// Addrs lists the lab's listeners, for people ("cas https" -> address).
func (l *Lab) Addrs() map[string]string {
	out := map[string]string{}
	for r, a := range l.Resolver.https {
		out[string(r)+" https"] = a
	}
	for r, a := range l.Resolver.http {
		out[string(r)+" http"] = a
	}
	return out
}

var quiet = log.New(io.Discard, "", 0)

func (l *Lab) serveTLS(cfg *tls.Config, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("lab: listen: %w", err)
	}
	cfg.NextProtos = []string{"http/1.1"}
	return l.start(tls.NewListener(ln, cfg), h), nil
}

func (l *Lab) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("lab: listen: %w", err)
	}
	return l.start(ln, h), nil
}

func (l *Lab) start(ln net.Listener, h http.Handler) string {
	srv := &http.Server{Handler: h, ErrorLog: quiet, ReadHeaderTimeout: 10 * time.Second}
	l.mu.Lock()
	l.servers = append(l.servers, srv)
	l.mu.Unlock()
	go srv.Serve(ln)
	return ln.Addr().String()
}

// Close stops every listener of the lab.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	for _, s := range l.servers {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HostsEntries returns hosts-file lines mapping the lab's names to ip,
// for a lab PC that reaches the lab through the proxy.
func (l *Lab) HostsEntries(ip string) string {
	var b bytes.Buffer
	for _, n := range l.Resolver.Names() {
		fmt.Fprintf(&b, "%s\t%s\n", ip, n)
	}
	return b.String()
}

// closedPort returns a loopback address nothing listens on, for the names
// whose machine does not listen on a port: connecting to it is refused.
func closedPort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("lab: listen: %w", err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a, nil
}
