package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"
)

// TestVerifyTrust: chains are verified for serverAuth; an EKU that rules
// TLS servers out is an *EKUError naming the certificate (Go
// checkChainForKeyUsage, OpenSSL check_purpose_ssl_server, Chromium all
// refuse such a path), and anyExtendedKeyUsage passes here (per-client
// rules about it are the analysis' business).
func TestVerifyTrust(t *testing.T) {
	now := time.Now()
	serial := int64(100)
	mk := func(cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, ca bool, eku []x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
		t.Helper()
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		serial++
		tm := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			IsCA: ca, BasicConstraintsValid: ca, ExtKeyUsage: eku, DNSNames: []string{"mail.contoso.test"}}
		if ca {
			tm.KeyUsage = x509.KeyUsageCertSign
			tm.DNSNames = nil
		}
		if parent == nil {
			parent, parentKey = tm, k
		}
		der, err := x509.CreateCertificate(rand.Reader, tm, parent, &k.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, k
	}
	root, rootKey := mk("root", nil, nil, true, nil)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	chain := func(interEKU, leafEKU []x509.ExtKeyUsage) []*x509.Certificate {
		inter, ik := mk("issuing CA", root, rootKey, true, interEKU)
		leaf, _ := mk("leaf", inter, ik, false, leafEKU)
		return []*x509.Certificate{leaf, inter}
	}
	tests := []struct {
		name     string
		chain    []*x509.Certificate
		ekuIndex int // -1: no EKUError
		trusted  bool
	}{
		{"serverAuth throughout", chain(server, server), -1, true},
		{"no EKU anywhere", chain(nil, nil), -1, true},
		{"anyExtendedKeyUsage intermediate", chain([]x509.ExtKeyUsage{x509.ExtKeyUsageAny}, server), -1, true},
		{"clientAuth-only intermediate", chain([]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, server), 1, false},
		{"clientAuth-only leaf", chain(server, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}), 0, false},
		{"intermediate not sent", chain(server, server)[:1], -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyTrust(tt.chain, roots)
			if (err == nil) != tt.trusted {
				t.Fatalf("VerifyTrust = %v, want trusted %v", err, tt.trusted)
			}
			var ekuErr *EKUError
			if got := errors.As(err, &ekuErr); got != (tt.ekuIndex >= 0) {
				t.Fatalf("error %v: EKUError %v, want %v", err, got, tt.ekuIndex >= 0)
			}
			if ekuErr != nil && (ekuErr.Index != tt.ekuIndex || ekuErr.Cert != tt.chain[tt.ekuIndex]) {
				t.Errorf("EKUError names certificate %d (%s), want %d", ekuErr.Index, ekuErr.Cert.Subject.CommonName, tt.ekuIndex)
			}
		})
	}
}
