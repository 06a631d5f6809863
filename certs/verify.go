package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// VerifyTrust reports whether chain (leaf first, as a server sent it)
// leads to one of roots (nil: the system roots) for a TLS server, judging
// trust alone: the chain is verified at the first moment every
// certificate in it is valid, so an expired or not-yet-valid certificate
// is left to the date checks. It returns nil when the chain is trusted,
// an *EKUError when it leads to a root but a certificate's
// extendedKeyUsage does not allow serverAuth, or crypto/x509's error.
func VerifyTrust(chain []*x509.Certificate, roots *x509.CertPool) error {
	_, err := VerifyChain(chain, nil, roots)
	return err
}

// EKUError is VerifyTrust's error when the chain leads to a trusted root
// but a certificate on the path has an extendedKeyUsage without serverAuth
// (and without anyExtendedKeyUsage): crypto/x509 checkChainForKeyUsage,
// OpenSSL check_purpose_ssl_server and Chromium all refuse such a path.
type EKUError struct {
	Index int               // position on the verified path: 0 is the leaf
	Cert  *x509.Certificate // the certificate whose EKU is too narrow
}

func (e *EKUError) Error() string {
	role := "the server certificate"
	if e.Index > 0 {
		role = fmt.Sprintf("the issuing CA %q", e.Cert.Subject.CommonName)
	}
	return fmt.Sprintf("%s is limited by its extendedKeyUsage to %s, not TLS servers (serverAuth)", role, EKUNames(e.Cert))
}

// EKUNames lists a certificate's extended key usages in words.
func EKUNames(c *x509.Certificate) string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		out = append(out, ekuName(u))
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

func ekuName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "anyExtendedKeyUsage"
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	}
	return fmt.Sprintf("EKU %d", u)
}

// VerifyChain is VerifyTrust with extra intermediates (fetched from the
// leaf's AIA caIssuers URL, say) and the verified path, leaf first and
// root last. The path is returned whenever one leads to a root, also with
// an *EKUError.
func VerifyChain(chain, extra []*x509.Certificate, roots *x509.CertPool) ([]*x509.Certificate, error) {
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	for _, c := range extra {
		inter.AddCert(c)
	}
	at := leaf.NotBefore
	for _, c := range chain {
		if c.NotBefore.After(at) {
			at = c.NotBefore
		}
	}
	opts := x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: at.Add(time.Second),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	paths, err := leaf.Verify(opts)
	if err == nil {
		return paths[0], nil
	}
	var inv x509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != x509.IncompatibleUsage {
		return nil, err
	}
	// A path exists for some purpose: find the certificate whose EKU rules
	// out TLS servers (crypto/x509 does not say which).
	opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	paths, anyErr := leaf.Verify(opts)
	if anyErr != nil {
		return nil, err
	}
	for _, p := range paths {
		for i, c := range p {
			if !allowsServerAuth(c) {
				return p, &EKUError{Index: i, Cert: c}
			}
		}
	}
	return paths[0], err
}

// allowsServerAuth: no EKU extension, or one listing serverAuth or
// anyExtendedKeyUsage (RFC 5280 §4.2.1.12; crypto/x509 also takes the
// Netscape and Microsoft SGC purposes for serverAuth).
func allowsServerAuth(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageAny, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageNetscapeServerGatedCrypto, x509.ExtKeyUsageMicrosoftServerGatedCrypto:
			return true
		}
	}
	return false
}
