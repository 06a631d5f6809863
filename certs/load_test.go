package certs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/internal/testcert"
)

func TestParseCertificates(t *testing.T) {
	ca := testcert.NewCA(t, "Test CA")
	leaf := ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: []string{"mail.contoso.com"}})
	leafDER, caDER := leaf.Certificate[0], ca.Cert.Raw
	keyBlock := []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")
	tests := []struct {
		name    string
		in      []byte
		wantN   int
		wantCN  string
		wantErr string
	}{
		{"PEM leaf and CA", testcert.PEM(leafDER, caDER), 2, "mail.contoso.com", ""},
		{"PEM with key block first", append(append([]byte{}, keyBlock...), testcert.PEM(leafDER)...), 1, "mail.contoso.com", ""},
		{"DER single", leafDER, 1, "mail.contoso.com", ""},
		{"DER concatenated", append(append([]byte{}, leafDER...), caDER...), 2, "mail.contoso.com", ""},
		{"empty", nil, 0, "", "empty"},
		{"whitespace", []byte("  \n"), 0, "", "empty"},
		{"garbage", []byte("hello world"), 0, "", "not PEM, and not DER"},
		{"PEM without certificates", keyBlock, 0, "", "no CERTIFICATE block"},
		{"PEM corrupt second block", append(testcert.PEM(leafDER), []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")...), 1, "", "PEM block 2"},
		{"truncated DER", leafDER[:len(leafDER)/2], 0, "", "not PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCertificates(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantN {
				t.Fatalf("got %d certificates, want %d", len(got), tt.wantN)
			}
			if tt.wantCN != "" && got[0].Subject.CommonName != tt.wantCN {
				t.Errorf("leaf CN = %q, want %q", got[0].Subject.CommonName, tt.wantCN)
			}
		})
	}
}

func TestLoadCertificatesNamesFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.pem")
	os.WriteFile(p, []byte("garbage"), 0o644)
	_, err := LoadCertificates(p)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want the path in it", err)
	}
	if _, err := LoadCertificates(filepath.Join(dir, "missing.pem")); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("missing file err = %v", err)
	}
}

func TestDescribeAndCache(t *testing.T) {
	ca := testcert.NewCA(t, "Test CA")
	leaf := ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: []string{"mail.contoso.com"}, IPs: []string{"10.0.0.5"}})
	s := Describe(leaf.Leaf)
	if s.SubjectCN != "mail.contoso.com" || s.IssuerCN != "Test CA" || s.IPAddresses[0] != "10.0.0.5" || s.Key != "ECDSA P-256" || len(s.SHA256) != 64 || s.SelfSigned {
		t.Errorf("Describe = %+v", s)
	}
	if !Describe(ca.Cert).SelfSigned {
		t.Errorf("CA not described as self-signed")
	}
	var c Cache
	a, err := c.Parse(leaf.Certificate[0])
	b, _ := c.Parse(bytes.Clone(leaf.Certificate[0]))
	if err != nil || a != b {
		t.Errorf("cache returned different parses for the same DER")
	}
	other := ca.Leaf(t, testcert.Spec{CN: "exch01.contoso.local", DNS: []string{"exch01.contoso.local"}})
	if o, err := c.Parse(other.Certificate[0]); err != nil || o == a || o.Subject.CommonName != "exch01.contoso.local" {
		t.Errorf("another DER gave %v, %v (the first parse: %v)", o.Subject, err, a == o)
	}
	if _, err := c.Parse([]byte("junk")); err == nil {
		t.Error("junk parsed")
	}
	if _, err := c.Parse([]byte("junk")); err == nil {
		t.Error("junk parsed the second time (from the cache)")
	}
	chain, err := c.ParseChain([][]byte{leaf.Certificate[0], []byte("junk")})
	if err == nil || len(chain) != 1 || !strings.Contains(err.Error(), "certificate 1") {
		t.Errorf("ParseChain with junk = %d, %v", len(chain), err)
	}
}

func FuzzParseCertificates(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseCertificates(data)
		if err == nil && len(cs) == 0 {
			t.Fatal("no error and no certificates")
		}
		for _, c := range cs {
			_ = Describe(c)
		}
	})
}
