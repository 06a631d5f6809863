package certs

import (
	"crypto/x509"
	"time"
)

// VerifyTrust reports whether chain (leaf first, as a server sent it)
// leads to one of roots (nil: the system roots), judging trust alone: the
// chain is verified at the first moment every certificate in it is valid,
// so an expired or not-yet-valid certificate is left to the date checks,
// and any extended key usage is accepted, so a missing serverAuth is left
// to the EKU check. It returns nil when the chain is trusted.
func VerifyTrust(chain []*x509.Certificate, roots *x509.CertPool) error {
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	at := leaf.NotBefore
	for _, c := range chain {
		if c.NotBefore.After(at) {
			at = c.NotBefore
		}
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: at.Add(time.Second),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err
}
