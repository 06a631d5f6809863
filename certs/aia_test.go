package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func aiaTestCert(t testing.TB, cn string) []byte {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tm := &x509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tm, tm, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// pkcs7 builds a certs-only SignedData, as `openssl crl2pkcs7 -nocrl` writes it.
func pkcs7(certs ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(*cryptobyte.Builder) {})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier([]int{1, 2, 840, 113549, 1, 7, 1}) })
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					for _, c := range certs {
						b.AddBytes(c)
					}
				})
				b.AddASN1(cbasn1.SET, func(*cryptobyte.Builder) {}) // signerInfos
			})
		})
	})
	return b.BytesOrPanic()
}

func TestParseIssuers(t *testing.T) {
	a, b := aiaTestCert(t, "issuing CA"), aiaTestCert(t, "other CA")
	pemOf := func(typ string, der ...[]byte) []byte {
		var out []byte
		for _, d := range der {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
		}
		return out
	}
	tests := []struct {
		name string
		body []byte
		want [][]byte
		err  string
	}{
		{"DER certificate", a, [][]byte{a}, ""},
		{"PEM certificates", pemOf("CERTIFICATE", a, b), [][]byte{a, b}, ""},
		{"PKCS #7 DER", pkcs7(a, b), [][]byte{a, b}, ""},
		{"PKCS #7 PEM", pemOf("PKCS7", pkcs7(a)), [][]byte{a}, ""},
		{"empty", nil, nil, "empty"},
		{"HTML error page", []byte("<html>404 Not Found</html>"), nil, "not a DER or PEM certificate"},
		{"PEM key only", pemOf("PRIVATE KEY", []byte{1, 2, 3}), nil, "PEM without a certificate"},
		{"PKCS #7 without certificates", pkcs7(), nil, "not a DER or PEM"},
		{"truncated DER", a[:len(a)/2], nil, "not a DER or PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIssuers(tt.body)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseIssuers error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d certificates, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("certificate %d differs", i)
				}
			}
		})
	}
}

func FuzzParseIssuers(f *testing.F) {
	a := aiaTestCert(f, "fuzz CA")
	f.Add(a)
	f.Add(pkcs7(a))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a}))
	f.Add([]byte("-----BEGIN PKCS7-----\n-----END PKCS7-----\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		certs, err := ParseIssuers(body)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
		for _, c := range certs {
			if _, perr := x509.ParseCertificate(c); perr != nil {
				t.Fatalf("returned a certificate that does not parse: %v", perr)
			}
		}
	})
}
