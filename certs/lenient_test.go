package certs

import (
	"crypto/x509"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
)

// TestParseLenient reads each malformed kind testcert makes: crypto/x509
// refuses them all, ParseLenient reads names, dates and issuer of all but
// the one whose DER structure is broken, and names the defect.
func TestParseLenient(t *testing.T) {
	ca := testcert.NewCA(t, "certsleuth lenient CA")
	tests := []struct {
		kind    string
		defect  DefectKind // "" for the control
		fails   bool       // not even the lenient reader can read it
		sigOK   bool       // the CA's signature still verifies
		dnsWant []string
	}{
		{testcert.MalformedNone, "", false, true, []string{"mail.contoso.com"}},
		{testcert.MalformedNegativeSerial, DefectNegativeSerial, false, true, []string{"mail.contoso.com"}},
		{testcert.MalformedNonASCIISAN, DefectNonASCIISAN, false, true, []string{"mail.contoso.com", "bücher.contoso.com"}},
		{testcert.MalformedSANIP, DefectMalformedSAN, false, true, []string{"mail.contoso.com"}},
		{testcert.MalformedDuplicateExt, DefectDuplicateExtension, false, true, []string{"mail.contoso.com"}},
		{testcert.MalformedPrintable, DefectBadString, false, true, []string{"mail.contoso.com"}},
		{testcert.MalformedFlippedOID, DefectSignatureMismatch, false, false, []string{"mail.contoso.com"}},
		{testcert.MalformedFlippedLength, "", true, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			der := ca.Malformed(t, tt.kind).Certificate[0]
			c, m, err := ParseLenient(der)
			if tt.fails {
				if err == nil {
					t.Fatalf("ParseLenient read a certificate with a broken structure: %v", c.DNSNames)
				}
				var goErr x509.CertificateInvalidError
				_ = errors.As(err, &goErr)
				return
			}
			if err != nil {
				t.Fatalf("ParseLenient: %v", err)
			}
			if (m == nil) != (tt.defect == "") {
				t.Fatalf("Malformed = %+v, want defect %q", m, tt.defect)
			}
			if m != nil {
				if !slices.Contains(m.Kinds(), tt.defect) {
					t.Errorf("defects %+v, want %q", m.Defects, tt.defect)
				}
				if MalformedInfo(c) != m {
					t.Errorf("MalformedInfo does not find the certificate's defects")
				}
			}
			if !slices.Equal(c.DNSNames, tt.dnsWant) {
				t.Errorf("DNSNames = %q, want %q", c.DNSNames, tt.dnsWant)
			}
			if c.Subject.CommonName != testcert.MalformedName || c.Issuer.CommonName != "certsleuth lenient CA" {
				t.Errorf("subject %q issuer %q", c.Subject.CommonName, c.Issuer.CommonName)
			}
			if d := c.NotAfter.Sub(c.NotBefore); d != 30*24*time.Hour {
				t.Errorf("validity %v, want 30 days (%v - %v)", d, c.NotBefore, c.NotAfter)
			}
			if c.PublicKey == nil || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("key %T EKU %v", c.PublicKey, c.ExtKeyUsage)
			}
			if err := c.CheckSignatureFrom(ca.Cert); (err == nil) != tt.sigOK {
				t.Errorf("CheckSignatureFrom = %v, want ok=%v", err, tt.sigOK)
			}
		})
	}
}

// TestParseLenientAgreesWithGo: on a certificate crypto/x509 accepts, the
// lenient reader finds the same fields and no defect.
func TestParseLenientAgreesWithGo(t *testing.T) {
	ca := testcert.NewCA(t, "certsleuth lenient CA")
	leaf := ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: []string{"mail.contoso.com", "autodiscover.contoso.com"}, IPs: []string{"10.0.0.5", "2001:db8::1"}})
	for _, der := range [][]byte{leaf.Certificate[0], ca.Cert.Raw} {
		want, _ := x509.ParseCertificate(der)
		got, defects, err := readLenient(der)
		if err != nil || len(defects) > 0 {
			t.Fatalf("readLenient: %v %v", err, defects)
		}
		switch {
		case got.Subject.String() != want.Subject.String(), got.Issuer.String() != want.Issuer.String(),
			!got.NotBefore.Equal(want.NotBefore), !got.NotAfter.Equal(want.NotAfter),
			!slices.Equal(got.DNSNames, want.DNSNames), len(got.IPAddresses) != len(want.IPAddresses),
			got.SerialNumber.Cmp(want.SerialNumber) != 0, got.IsCA != want.IsCA, got.KeyUsage != want.KeyUsage,
			got.SignatureAlgorithm != want.SignatureAlgorithm, !slices.Equal(got.ExtKeyUsage, want.ExtKeyUsage),
			string(got.SubjectKeyId) != string(want.SubjectKeyId), string(got.AuthorityKeyId) != string(want.AuthorityKeyId):
			t.Errorf("lenient read differs from crypto/x509:\n got %+v\nwant %+v", got, want)
		}
		for i := range got.IPAddresses {
			if !got.IPAddresses[i].Equal(want.IPAddresses[i]) {
				t.Errorf("IP %d: %v, want %v", i, got.IPAddresses[i], want.IPAddresses[i])
			}
		}
	}
}

// FuzzParseLenient: the lenient reader never panics, and what it reads
// from a certificate crypto/x509 accepts agrees on the names.
func FuzzParseLenient(f *testing.F) {
	ca := testcert.NewCA(f, "certsleuth fuzz CA")
	for _, kind := range testcert.MalformedKinds {
		f.Add(ca.Malformed(f, kind).Certificate[0])
	}
	f.Add(ca.Cert.Raw)
	f.Fuzz(func(t *testing.T, der []byte) {
		c, m, err := ParseLenient(der)
		if err != nil {
			return
		}
		if m == nil {
			return // crypto/x509 parsed it
		}
		if len(m.Defects) == 0 || m.Err == nil {
			t.Fatalf("a refused certificate without defects or error: %+v", m)
		}
		_ = Describe(c)
	})
}
