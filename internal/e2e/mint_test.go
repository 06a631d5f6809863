package e2e

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// leafSpec describes the server certificate of one case.
type leafSpec struct {
	CN  string
	DNS []string
	IPs []string
	// Key is "ec" (P-256, the default), "rsa1024" or "rsa2048".
	Key string
	// KU replaces the default keyUsage (digitalSignature, plus
	// keyEncipherment for RSA) when KUSet.
	KU    x509.KeyUsage
	KUSet bool
	// EKU replaces serverAuth when set; NoEKU leaves the extension out.
	EKU   []x509.ExtKeyUsage
	NoEKU bool
	// Days of validity from NotBefore (default 30); Start is the offset of
	// NotBefore from now (default -1h).
	Start time.Duration
	Days  int
	SHA1  bool
}

// chainKind says how the leaf is issued and what the server sends.
type chainKind int

const (
	byRoot          chainKind = iota // leaf signed by the root; sends leaf only
	byInter                          // leaf signed by the intermediate; sends leaf + intermediate
	interMissing                     // signed by the intermediate; sends the leaf only, no AIA
	interAIA                         // signed by the intermediate; sends the leaf only; AIA caIssuers answers
	interDeadAIA                     // as interAIA, but the URL refuses connections
	selfSigned                       // the leaf signs itself
	interClientAuth                  // the intermediate's EKU is clientAuth only; sent
	interAnyEKU                      // the intermediate's EKU is anyExtendedKeyUsage only; sent
)

// pki is the test's root and intermediates.
type pki struct {
	root, inter, interClient, interAny   *x509.Certificate
	rootKey, interKey, clientKey, anyKey crypto.Signer
	aiaURL, deadURL                      string
}

var serial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(time.Now().UnixNano()/1000 + serial.Add(1)) }

func mustKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kind {
	case "rsa1024":
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatalf("generate %s key: %v", kind, err)
	}
	return k
}

func mustCreate(t testing.TB, tmpl, parent *x509.Certificate, pub any, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatalf("create certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	return c
}

// newPKI makes a root and three intermediates (serverAuth, clientAuth
// only, anyExtendedKeyUsage only). aiaURL and deadURL go into the leaves
// of the AIA cases.
func newPKI(t testing.TB, name string) *pki {
	p := &pki{rootKey: mustKey(t, "ec"), interKey: mustKey(t, "ec"), clientKey: mustKey(t, "ec"), anyKey: mustKey(t, "ec")}
	now := time.Now()
	rootT := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name + " root", Organization: []string{"certsleuth e2e"}},
		NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	p.root = mustCreate(t, rootT, rootT, p.rootKey.Public(), p.rootKey)
	inter := func(cn string, key crypto.Signer, eku []x509.ExtKeyUsage) *x509.Certificate {
		tm := &x509.Certificate{
			SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name + " " + cn, Organization: []string{"certsleuth e2e"}},
			NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(300 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtKeyUsage: eku,
		}
		return mustCreate(t, tm, p.root, key.Public(), p.rootKey)
	}
	p.inter = inter("issuing CA", p.interKey, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth})
	p.interClient = inter("client-auth CA", p.clientKey, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	p.interAny = inter("any-EKU CA", p.anyKey, []x509.ExtKeyUsage{x509.ExtKeyUsageAny})
	return p
}

// mint makes the chain a case's server sends, and its key.
func (p *pki) mint(t testing.TB, s leafSpec, kind chainKind) tls.Certificate {
	t.Helper()
	key := mustKey(t, s.Key)
	start := s.Start
	if start == 0 {
		start = -time.Hour
	}
	days := s.Days
	if days == 0 {
		days = 30
	}
	nb := time.Now().Add(start)
	tm := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: s.CN},
		NotBefore: nb, NotAfter: nb.Add(time.Duration(days) * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		tm.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if s.KUSet {
		tm.KeyUsage = s.KU
	}
	tm.DNSNames = s.DNS
	for _, ip := range s.IPs {
		tm.IPAddresses = append(tm.IPAddresses, net.ParseIP(ip))
	}
	if !s.NoEKU {
		tm.ExtKeyUsage = s.EKU
		if tm.ExtKeyUsage == nil {
			tm.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
	}
	parent, signer, send := p.root, p.rootKey, []*x509.Certificate{}
	switch kind {
	case byInter:
		parent, signer, send = p.inter, p.interKey, []*x509.Certificate{p.inter}
	case interMissing:
		parent, signer = p.inter, p.interKey
	case interAIA:
		parent, signer = p.inter, p.interKey
		tm.IssuingCertificateURL = []string{p.aiaURL}
	case interDeadAIA:
		parent, signer = p.inter, p.interKey
		tm.IssuingCertificateURL = []string{p.deadURL}
	case interClientAuth:
		parent, signer, send = p.interClient, p.clientKey, []*x509.Certificate{p.interClient}
	case interAnyEKU:
		parent, signer, send = p.interAny, p.anyKey, []*x509.Certificate{p.interAny}
	case selfSigned:
		tm.Issuer = tm.Subject
		parent, signer = tm, key
	}
	if s.SHA1 {
		tm.SignatureAlgorithm = x509.ECDSAWithSHA1
		if _, ok := signer.(*rsa.PrivateKey); ok {
			tm.SignatureAlgorithm = x509.SHA1WithRSA
		}
	}
	leaf := mustCreate(t, tm, parent, key.Public(), signer)
	out := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
	for _, c := range send {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out
}
