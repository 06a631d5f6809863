package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ParseCertificates reads one or more certificates from PEM (every
// "CERTIFICATE" block, in order; other blocks such as keys are skipped) or
// from DER (one certificate, or several concatenated). The first
// certificate is taken to be the leaf.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("no certificate: the input is empty")
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		var out []*x509.Certificate
		rest := data
		for n := 1; ; n++ {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" && b.Type != "TRUSTED CERTIFICATE" && b.Type != "X509 CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return out, fmt.Errorf("PEM block %d: %w", n, err)
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil, errors.New("no CERTIFICATE block in the PEM input")
		}
		return out, nil
	}
	certs, err := x509.ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("not PEM, and not DER either: %w", err)
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate in the DER input")
	}
	return certs, nil
}

// LoadCertificates reads a PEM or DER file with ParseCertificates; errors
// name the file.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	certs, err := ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("read certificate %s: %w", path, err)
	}
	return certs, nil
}

// LoadPool reads CA certificates from PEM or DER files into a pool.
func LoadPool(paths ...string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, p := range paths {
		cs, err := LoadCertificates(p)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			pool.AddCert(c)
		}
	}
	return pool, nil
}
