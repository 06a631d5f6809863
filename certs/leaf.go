package certs

import (
	"container/list"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultLeafValidity is how long a leaf minted for a name (clean mode) is
// valid: far under Apple's 825-day limit for private roots.
const DefaultLeafValidity = 180 * 24 * time.Hour

// LeafSpec says what a minted leaf carries.
type LeafSpec struct {
	CommonName  string
	DNSNames    []string
	IPAddresses []net.IP
	// NotBefore and NotAfter are copied as given when set (mirror mode keeps
	// an expired upstream expired); zero means now-1h and now+DefaultLeafValidity.
	NotBefore, NotAfter time.Time
	// ExtKeyUsage is the EKU list; nil means serverAuth. NoEKU leaves the
	// extension out, as some upstream certificates do.
	ExtKeyUsage []x509.ExtKeyUsage
	NoEKU       bool
}

// SpecFor is the spec of a leaf for the name a client asked for (SNI, or
// the CONNECT host): the name as a DNS SAN and CN, or as an IP SAN.
func SpecFor(name string) LeafSpec {
	name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"), ".")
	if ip := net.ParseIP(name); ip != nil {
		return LeafSpec{IPAddresses: []net.IP{ip}}
	}
	return LeafSpec{CommonName: name, DNSNames: []string{name}}
}

// MirrorSpec is the spec of a leaf that carries exactly what the client
// checks on up: its subject CN, DNS and IP SANs, validity dates and EKU.
func MirrorSpec(up *x509.Certificate) LeafSpec {
	s := LeafSpec{
		CommonName:  up.Subject.CommonName,
		DNSNames:    slices.Clone(up.DNSNames),
		IPAddresses: slices.Clone(up.IPAddresses),
		NotBefore:   up.NotBefore,
		NotAfter:    up.NotAfter,
		ExtKeyUsage: slices.Clone(up.ExtKeyUsage),
		NoEKU:       len(up.ExtKeyUsage) == 0 && len(up.UnknownExtKeyUsage) == 0,
	}
	return s
}

func (s *LeafSpec) cacheKey() string {
	var b strings.Builder
	b.WriteString(s.CommonName)
	b.WriteByte(0)
	for _, d := range s.DNSNames {
		b.WriteString(d)
		b.WriteByte(1)
	}
	b.WriteByte(0)
	for _, ip := range s.IPAddresses {
		b.WriteString(ip.String())
		b.WriteByte(1)
	}
	fmt.Fprintf(&b, "\x00%d\x00%d\x00%v\x00%v", s.NotBefore.Unix(), s.NotAfter.Unix(), s.ExtKeyUsage, s.NoEKU)
	return b.String()
}

// Minter signs leaves with a CA and caches them per spec. All leaves of a
// Minter share one key, made once (ECDSA P-256, or RSA-2048 under an RSA
// CA), so minting costs one signature. It is safe for concurrent use.
type Minter struct {
	ca  *CA
	key crypto.Signer
	max int

	mu    sync.Mutex
	cache map[string]*list.Element
	lru   *list.List
	now   func() time.Time
}

type cached struct {
	key  string
	cert *tls.Certificate
}

// NewMinter makes a Minter for ca that keeps at most max leaves (0 means 4096).
func NewMinter(ca *CA, max int) (*Minter, error) {
	if max <= 0 {
		max = 4096
	}
	var key crypto.Signer
	var err error
	if _, isRSA := ca.Cert.PublicKey.(*rsa.PublicKey); isRSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("leaf key: %w", err)
	}
	return &Minter{ca: ca, key: key, max: max, cache: map[string]*list.Element{}, lru: list.New(), now: time.Now}, nil
}

// CA is the CA this Minter signs with.
func (m *Minter) CA() *CA { return m.ca }

// Leaf returns a certificate for spec, minting it on first use. The chain
// is the leaf followed by the CA certificate.
func (m *Minter) Leaf(spec LeafSpec) (*tls.Certificate, error) {
	k := spec.cacheKey()
	m.mu.Lock()
	if e, ok := m.cache[k]; ok {
		m.lru.MoveToFront(e)
		c := e.Value.(*cached).cert
		m.mu.Unlock()
		return c, nil
	}
	m.mu.Unlock()
	c, err := m.mint(spec)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.cache[k]; ok { // another goroutine minted it meanwhile
		return e.Value.(*cached).cert, nil
	}
	m.cache[k] = m.lru.PushFront(&cached{key: k, cert: c})
	for m.lru.Len() > m.max {
		old := m.lru.Remove(m.lru.Back()).(*cached)
		delete(m.cache, old.key)
	}
	return c, nil
}

// Len is the number of cached leaves.
func (m *Minter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

func (m *Minter) mint(spec LeafSpec) (*tls.Certificate, error) {
	now := m.now()
	nb, na := spec.NotBefore, spec.NotAfter
	if nb.IsZero() {
		nb = now.Add(-time.Hour)
	}
	if na.IsZero() {
		na = now.Add(DefaultLeafValidity)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: spec.CommonName, Organization: []string{"certsleuth proxy"}},
		DNSNames:     spec.DNSNames,
		IPAddresses:  spec.IPAddresses,
		NotBefore:    nb,
		NotAfter:     na,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if _, isRSA := m.key.(*rsa.PrivateKey); isRSA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment // RSA key exchange, for TLS 1.0 clients
	}
	switch {
	case spec.NoEKU:
	case spec.ExtKeyUsage != nil:
		tmpl.ExtKeyUsage = spec.ExtKeyUsage
	default:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} // Apple: serverAuth EKU required
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, m.ca.Cert, m.key.Public(), m.ca.Key)
	if err != nil {
		return nil, fmt.Errorf("mint leaf for %q %v: %w", spec.CommonName, spec.DNSNames, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("mint leaf: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, m.ca.Cert.Raw}, PrivateKey: m.key, Leaf: leaf}, nil
}

// Permits reports whether the CA's name constraints allow name (always
// true for an unconstrained CA). A client would refuse any leaf for a name
// that is not permitted, so the proxy does not intercept it.
func (ca *CA) Permits(name string) bool {
	c := ca.Cert
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if ip := net.ParseIP(strings.Trim(name, "[]")); ip != nil {
		for _, n := range c.ExcludedIPRanges {
			if n.Contains(ip) {
				return false
			}
		}
		if len(c.PermittedIPRanges) == 0 {
			return true
		}
		for _, n := range c.PermittedIPRanges {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	for _, d := range c.ExcludedDNSDomains {
		if domainWithin(name, d) {
			return false
		}
	}
	if len(c.PermittedDNSDomains) == 0 {
		return true
	}
	for _, d := range c.PermittedDNSDomains {
		if domainWithin(name, d) {
			return true
		}
	}
	return false
}

// domainWithin: RFC 5280 §4.2.1.10, a DNS constraint matches the domain
// and every name below it; a leading dot means below only.
func domainWithin(name, constraint string) bool {
	constraint = strings.ToLower(constraint)
	if strings.HasPrefix(constraint, ".") {
		return strings.HasSuffix(name, constraint)
	}
	return name == constraint || strings.HasSuffix(name, "."+constraint)
}

// Constrain removes from spec the DNS and IP SANs ca's name constraints
// do not permit, and returns what it removed. A client checks every SAN
// of a leaf against its issuer's constraints and refuses the whole leaf
// for one name outside them, so a mirrored leaf keeps only the names the
// CA may sign. A name the client asks for that a removed SAN covered was
// itself outside the constraints (and that tunnel is not intercepted), so
// the client's verdict on the name it asked for does not change.
func (ca *CA) Constrain(spec LeafSpec) (LeafSpec, []string) {
	if len(ca.Cert.PermittedDNSDomains) == 0 && len(ca.Cert.ExcludedDNSDomains) == 0 && len(ca.Cert.ExcludedIPRanges) == 0 && len(ca.Cert.PermittedIPRanges) == 0 {
		return spec, nil
	}
	var dropped []string
	var dns []string
	for _, d := range spec.DNSNames {
		if ca.Permits(strings.TrimPrefix(d, "*.")) {
			dns = append(dns, d)
		} else {
			dropped = append(dropped, d)
		}
	}
	var ips []net.IP
	for _, ip := range spec.IPAddresses {
		if ca.Permits(ip.String()) {
			ips = append(ips, ip)
		} else {
			dropped = append(dropped, ip.String())
		}
	}
	spec.DNSNames, spec.IPAddresses = dns, ips
	return spec, dropped
}
