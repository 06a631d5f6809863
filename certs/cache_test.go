package certs

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// TestCacheBounded: the cache parses a DER once while it is in use, keeps
// at most two generations of certificates, and parses again (a new
// certificate) one dropped with its generation.
func TestCacheBounded(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ders := make([][]byte, 2*CacheGeneration+10)
	for i := range ders {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "cache.test"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
		ders[i], err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
	}
	var ca Cache
	first, err := ca.Parse(ders[0])
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := ca.Parse(ders[1])
	for i, d := range ders[2:] {
		if c, err := ca.Parse(d); err != nil || c.SerialNumber.Int64() != int64(i+3) {
			t.Fatalf("certificate %d: %v", i+3, err)
		}
		if i%100 == 0 {
			if again, _ := ca.Parse(ders[1]); again != kept {
				t.Fatalf("after %d more, certificate 2 in use was parsed again", i)
			}
		}
		if n := ca.n + len(ca.old); n > 2*CacheGeneration {
			t.Fatalf("the cache holds %d certificates, want at most %d", n, 2*CacheGeneration)
		}
	}
	if again, _ := ca.Parse(ders[0]); again == first || again.SerialNumber.Int64() != 1 {
		t.Errorf("certificate 1, unused for two generations: same pointer %v, serial %v", again == first, again.SerialNumber)
	}
	if again, _ := ca.Parse(ders[len(ders)-1]); again.SerialNumber.Int64() != int64(len(ders)) {
		t.Errorf("last certificate: serial %v", again.SerialNumber)
	}
}
