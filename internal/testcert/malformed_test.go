package testcert

import (
	"crypto/x509"
	"strings"
	"testing"
)

// TestMalformedGoRefuses checks that each malformed kind is refused by
// crypto/x509 for the reason it is named after, and the control is not.
func TestMalformedGoRefuses(t *testing.T) {
	ca := NewCA(t, "certsleuth malformed test CA")
	want := map[string]string{
		MalformedNone:           "",
		MalformedNegativeSerial: "negative serial",
		MalformedNonASCIISAN:    "SAN dNSName is malformed",
		MalformedSANIP:          "cannot parse IP address of length 5",
		MalformedDuplicateExt:   "duplicate extension",
		MalformedPrintable:      "PrintableString",
		MalformedFlippedOID:     "signature algorithm identifiers don't match",
		MalformedFlippedLength:  "malformed certificate",
	}
	for _, kind := range MalformedKinds {
		t.Run(kind, func(t *testing.T) {
			c := ca.Malformed(t, kind)
			_, err := x509.ParseCertificate(c.Certificate[0])
			w := want[kind]
			switch {
			case w == "" && err != nil:
				t.Fatalf("control leaf refused: %v", err)
			case w != "" && (err == nil || !strings.Contains(err.Error(), w)):
				t.Fatalf("crypto/x509 error = %v, want one containing %q", err, w)
			}
		})
	}
}
