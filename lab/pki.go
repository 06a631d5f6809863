package lab

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/certsleuth/certsleuth/certs"
)

// labValidity is how long the lab's CA and certificates are valid.
const labValidity = 24 * time.Hour

// CA is the lab's certificate authority: a certs.CA generated when the lab
// starts, whose key is never written anywhere, and a certs.Minter for the
// server certificates.
type CA struct {
	Cert *x509.Certificate
	ca   *certs.CA
	m    *certs.Minter
}

// NewCA generates a lab CA (ECDSA P-256, valid for a day).
func NewCA() (*CA, error) {
	ca, err := certs.NewCA(certs.CAOptions{CommonName: "certsleuth demo lab CA", Organization: "Contoso (certsleuth lab)", Validity: labValidity})
	if err != nil {
		return nil, fmt.Errorf("lab CA: %w", err)
	}
	m, err := certs.NewMinter(ca, 0)
	if err != nil {
		return nil, fmt.Errorf("lab CA: %w", err)
	}
	return &CA{Cert: ca.Cert, ca: ca, m: m}, nil
}

// Pool returns a pool holding only the lab CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// PEM returns the CA certificate in PEM form (what a lab PC must trust).
func (ca *CA) PEM() []byte { return ca.ca.PEM() }

// CertSpec describes a server certificate a scenario binds.
type CertSpec struct {
	// Label says what the certificate is, for people ("Exchange certificate
	// from the public CA", "the web host's certificate").
	Label string
	// CN is the subject common name; "" uses the first DNS name.
	CN string
	// DNSNames are the subjectAltName dNSName entries (IP addresses
	// become IP SANs).
	DNSNames []string
}

// Issue returns a leaf for spec, chained to the lab CA: serverAuth EKU,
// valid for a day (Apple-compliant). The same spec gives the same leaf.
func (ca *CA) Issue(spec CertSpec) (*tls.Certificate, error) {
	ls := certs.LeafSpec{CommonName: spec.CN, NotAfter: time.Now().Add(labValidity).Truncate(time.Hour)}
	if ls.CommonName == "" && len(spec.DNSNames) > 0 {
		ls.CommonName = spec.DNSNames[0]
	}
	for _, n := range spec.DNSNames {
		if ip := net.ParseIP(n); ip != nil {
			ls.IPAddresses = append(ls.IPAddresses, ip)
		} else {
			ls.DNSNames = append(ls.DNSNames, n)
		}
	}
	c, err := ca.m.Leaf(ls)
	if err != nil {
		return nil, fmt.Errorf("lab certificate %q: %w", spec.Label, err)
	}
	return c, nil
}
