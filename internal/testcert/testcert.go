// Package testcert mints certificates for tests: a CA and leaves with the
// names, dates and extensions a test needs. Keys are ECDSA P-256 and made
// at run time; nothing here is for production use.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// T is the part of testing.TB the minting functions use.
type T interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// CA is a certificate authority for tests.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// Spec describes a leaf certificate. Zero dates mean "valid from an hour
// ago for 30 days".
type Spec struct {
	CN        string
	DNS       []string
	IPs       []string
	NotBefore time.Time
	NotAfter  time.Time
	NoEKU     bool
	EKU       []x509.ExtKeyUsage // default serverAuth
}

// serial numbers the certificates; parallel tests mint at the same time.
var serial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(1000 + serial.Add(1)) }

// NewCA makes a self-signed CA named cn, valid from two days ago for a year.
func NewCA(t T, cn string) *CA {
	t.Helper()
	return NewCAValid(t, cn, time.Now().Add(-48*time.Hour), time.Now().Add(365*24*time.Hour))
}

// NewCAValid makes a self-signed CA named cn valid from notBefore to notAfter.
func NewCAValid(t T, cn string, notBefore, notAfter time.Time) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: cn, Organization: []string{"certsleuth tests"}},
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: c, Key: key}
}

func (s Spec) template() *x509.Certificate {
	nb, na := s.NotBefore, s.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = nb.Add(30 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: s.CN}, DNSNames: s.DNS,
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	for _, ip := range s.IPs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	if !s.NoEKU {
		tmpl.ExtKeyUsage = s.EKU
		if tmpl.ExtKeyUsage == nil {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
	}
	return tmpl
}

// Leaf signs a leaf for s; the returned tls.Certificate carries leaf and CA.
func (ca *CA) Leaf(t T, s Spec) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, s.template(), ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}
}

// SelfSigned makes a self-signed leaf for s.
func SelfSigned(t T, s Spec) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := s.template()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// PEM encodes DER certificates as PEM.
func PEM(ders ...[]byte) []byte {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return out
}

// WritePEM writes the certificates to path as PEM.
func WritePEM(t T, path string, ders ...[]byte) {
	t.Helper()
	if err := os.WriteFile(path, PEM(ders...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Serve starts a TLS server on 127.0.0.1 that presents cert (or, by SNI,
// one of bySNI) and answers HTTP/1.1 requests with 200 "ok". It returns
// the address; the server stops when the test ends.
func Serve(t T, cert tls.Certificate, bySNI map[string]tls.Certificate) string {
	t.Helper()
	return ServeConfig(t, &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if c, ok := bySNI[h.ServerName]; ok {
			return &c, nil
		}
		return &cert, nil
	}})
}

// ServeConfig is Serve with the caller's TLS configuration (a maximum
// version, say). Nothing parses the certificates: a malformed one is
// served as it is.
func ServeConfig(t T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				if _, err := c.Read(buf); err != nil {
					return
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
			}(c)
		}
	}()
	return ln.Addr().String()
}
