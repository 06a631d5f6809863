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

// TestParseChainOwnLeaf: the same certificates as ParseChain, the issuers
// from the cache, the leaf parsed apart and not kept; the same errors.
func TestParseChainOwnLeaf(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := make([][]byte, 3)
	for i := range der {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "own-leaf.test"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
		if der[i], err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key); err != nil {
			t.Fatal(err)
		}
	}
	var ca Cache
	own, err := ca.ParseChainOwnLeaf(der)
	if err != nil || len(own) != 3 {
		t.Fatalf("ParseChainOwnLeaf: %d certificates, %v", len(own), err)
	}
	if ca.n != 2 {
		t.Errorf("the cache holds %d certificates, want the 2 issuers", ca.n)
	}
	all, _ := ca.ParseChain(der)
	if own[0] == all[0] || own[1] != all[1] || own[2] != all[2] || !own[0].Equal(all[0]) {
		t.Errorf("the leaf must be parsed apart (%v) and equal (%v), the issuers the cache's (%v, %v)", own[0] != all[0], own[0].Equal(all[0]), own[1] == all[1], own[2] == all[2])
	}
	for _, bad := range [][][]byte{{[]byte("x"), der[1]}, {der[0], []byte("x")}} {
		got, gotErr := ca.ParseChainOwnLeaf(bad)
		want, wantErr := ca.ParseChain(bad)
		if gotErr == nil || wantErr == nil || gotErr.Error() != wantErr.Error() || len(got) != len(want) {
			t.Errorf("a broken chain: %d certificates, %v; ParseChain: %d, %v", len(got), gotErr, len(want), wantErr)
		}
	}
	if got, err := ca.ParseChainOwnLeaf(nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("no chain: %v, %v", got, err)
	}
}
