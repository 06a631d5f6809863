package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// Summary is what people need to know about a certificate, in the form
// reports print and encode (the JSON keys are part of certsleuth's output
// formats).
type Summary struct {
	SubjectCN   string    `json:"subject_cn"`
	DNSNames    []string  `json:"dns_names"`
	IPAddresses []string  `json:"ip_addresses"`
	IssuerCN    string    `json:"issuer_cn"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	SHA256      string    `json:"sha256"` // of the DER, lower-case hex
	SelfSigned  bool      `json:"self_signed,omitempty"`
	IsCA        bool      `json:"is_ca,omitempty"`
	Key         string    `json:"key,omitempty"`       // e.g. "ECDSA P-256", "RSA 2048"
	Signature   string    `json:"signature,omitempty"` // e.g. "SHA256-RSA"
	// ParseError is crypto/x509's reason for refusing a certificate that
	// was read leniently (see ParseLenient); Defects are the rules it
	// breaks. Both are empty for a well-formed certificate.
	ParseError string       `json:"parse_error,omitempty"`
	Defects    []DefectKind `json:"defects,omitempty"`
}

// Describe summarises c.
func Describe(c *x509.Certificate) Summary {
	s := Summary{
		SubjectCN:   c.Subject.CommonName,
		DNSNames:    append([]string{}, c.DNSNames...),
		IPAddresses: []string{},
		IssuerCN:    c.Issuer.CommonName,
		NotBefore:   c.NotBefore.UTC(),
		NotAfter:    c.NotAfter.UTC(),
		SHA256:      Fingerprint(c.Raw),
		SelfSigned:  IsSelfSigned(c),
		IsCA:        c.IsCA,
		Key:         KeyDescription(c),
		Signature:   c.SignatureAlgorithm.String(),
	}
	for _, ip := range c.IPAddresses {
		s.IPAddresses = append(s.IPAddresses, ip.String())
	}
	if m := MalformedInfo(c); m != nil {
		s.ParseError, s.Defects = m.Err.Error(), m.Kinds()
	}
	return s
}

// Fingerprint is the lower-case hex SHA-256 of der.
func Fingerprint(der []byte) string {
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:])
}

// IsSelfSigned reports whether c names itself as issuer and its signature
// verifies with its own key.
// Results are remembered per certificate (a bounded cache), because a
// report asks about the same parsed certificates once per observation and
// the signature check is an RSA or ECDSA verification.
func IsSelfSigned(c *x509.Certificate) bool {
	if string(c.RawIssuer) != string(c.RawSubject) {
		return false
	}
	selfSigned.mu.Lock()
	v, ok := selfSigned.m[c]
	selfSigned.mu.Unlock()
	if ok {
		return v
	}
	v = c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
	selfSigned.mu.Lock()
	if len(selfSigned.m) >= 4096 {
		clear(selfSigned.m)
	}
	selfSigned.m[c] = v
	selfSigned.mu.Unlock()
	return v
}

var selfSigned = struct {
	mu sync.Mutex
	m  map[*x509.Certificate]bool
}{m: map[*x509.Certificate]bool{}}

// KeyDescription names c's public key type and size.
func KeyDescription(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

// Cache parses DER certificates once each, so a trace or capture that
// repeats a certificate pays for parsing once. Certificates are found by a
// fast hash of their DER and compared byte for byte (no cryptographic hash
// per lookup: analysis looks each observation's chain up more than once).
// The zero Cache is ready to use; it is safe for concurrent use.
//
// It holds the certificates of the last 2 x CacheGeneration distinct DERs
// looked up: past CacheGeneration new ones, the older generation is
// dropped, and a certificate of it looked up again moves to the newer one
// (the same *x509.Certificate, so memos keyed by it keep working). A
// capture of 500,000 connections has tens of thousands of certificates.
type Cache struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[uint64][]cacheEntry
	old  map[uint64][]cacheEntry
	n    int // entries in m
}

// CacheGeneration is how many certificates a Cache generation holds.
const CacheGeneration = 2048

type cacheEntry struct {
	der []byte
	c   *x509.Certificate
	err error
}

// Parse returns the parsed certificate for der. A certificate
// crypto/x509 refuses is read with ParseLenient (MalformedInfo says why it
// was refused); the error is set only when not even that can read it.
func (ca *Cache) Parse(der []byte) (*x509.Certificate, error) {
	ca.mu.Lock()
	if ca.m == nil {
		ca.seed, ca.m = maphash.MakeSeed(), map[uint64][]cacheEntry{}
	}
	h := maphash.Bytes(ca.seed, der)
	for _, e := range ca.m[h] {
		if bytes.Equal(e.der, der) {
			ca.mu.Unlock()
			return e.c, e.err
		}
	}
	for _, e := range ca.old[h] {
		if bytes.Equal(e.der, der) {
			e = ca.add(h, e)
			ca.mu.Unlock()
			return e.c, e.err
		}
	}
	ca.mu.Unlock()
	c, _, err := ParseLenient(der)
	ca.mu.Lock()
	e := ca.add(h, cacheEntry{der, c, err})
	ca.mu.Unlock()
	return e.c, e.err
}

// add puts e in the newer generation (under mu), starting a new one past
// CacheGeneration entries, and returns the entry kept: e, or the one
// another goroutine that parsed the same DER at the same time put first.
func (ca *Cache) add(h uint64, e cacheEntry) cacheEntry {
	for _, x := range ca.m[h] {
		if bytes.Equal(x.der, e.der) {
			return x
		}
	}
	if ca.n >= CacheGeneration {
		ca.old, ca.m, ca.n = ca.m, map[uint64][]cacheEntry{}, 0
	}
	ca.m[h] = append(ca.m[h], e)
	ca.n++
	return e
}

// ParseChainOwnLeaf is ParseChain, but the leaf is parsed without the
// cache (neither looked up nor kept): for a caller that keeps what it
// needs of each chain itself, whose leaves are mostly each of one chain
// and issuers of many (the cache then holds the issuers, not thousands of
// leaves no one looks up again).
func (ca *Cache) ParseChainOwnLeaf(der [][]byte) ([]*x509.Certificate, error) {
	if len(der) == 0 {
		return []*x509.Certificate{}, nil
	}
	c, _, err := ParseLenient(der[0])
	if err != nil {
		return []*x509.Certificate{}, fmt.Errorf("certificate 0 of the chain: %w", err)
	}
	return ca.parseChain(der, 1, append(make([]*x509.Certificate, 0, len(der)), c))
}

// ParseChain parses every certificate of a chain, leaf first. It stops at
// the first certificate that does not parse and returns those before it.
func (ca *Cache) ParseChain(der [][]byte) ([]*x509.Certificate, error) {
	return ca.parseChain(der, 0, make([]*x509.Certificate, 0, len(der)))
}

// parseChain appends to out the certificates of der from the one at
// from, parsed with the cache.
func (ca *Cache) parseChain(der [][]byte, from int, out []*x509.Certificate) ([]*x509.Certificate, error) {
	for i := from; i < len(der); i++ {
		c, err := ca.Parse(der[i])
		if err != nil {
			return out, fmt.Errorf("certificate %d of the chain: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}
