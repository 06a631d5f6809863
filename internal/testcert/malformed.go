package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The malformed certificates Malformed makes, each one defect crypto/x509
// refuses (see certs.ParseLenient). The leaf covers mail.contoso.com in
// every case, so a client that reads past the defect accepts the name.
const (
	// MalformedNone is a well-formed control leaf.
	MalformedNone = "none"
	// MalformedNegativeSerial has serial number -133 (Go 1.23+: "x509:
	// negative serial number").
	MalformedNegativeSerial = "negative-serial"
	// MalformedNonASCIISAN has a dNSName SAN in UTF-8 ("bücher.contoso.com")
	// beside mail.contoso.com; RFC 5280 §4.2.1.6 wants IA5String A-labels.
	MalformedNonASCIISAN = "non-ascii-san"
	// MalformedSANIP has an iPAddress SAN of 5 bytes beside mail.contoso.com.
	MalformedSANIP = "malformed-san"
	// MalformedDuplicateExt carries the subjectAltName extension twice
	// (RFC 5280 §4.2: "MUST NOT include more than one instance").
	MalformedDuplicateExt = "duplicate-extension"
	// MalformedPrintable has an organizationalUnit "IT@contoso" encoded as
	// PrintableString, which has no '@' (X.680 §41.4).
	MalformedPrintable = "bad-printablestring"
	// MalformedFlippedOID is a signed leaf with one byte flipped afterwards:
	// the signature algorithm inside the TBS says SHA-384, the outer one
	// SHA-256, and the signature no longer verifies.
	MalformedFlippedOID = "flipped-byte-sigalg"
	// MalformedFlippedLength is a signed leaf with one byte of the
	// outermost length flipped: no DER parser can read it.
	MalformedFlippedLength = "flipped-byte-length"
)

// MalformedKinds lists every kind Malformed makes, the control first.
var MalformedKinds = []string{MalformedNone, MalformedNegativeSerial, MalformedNonASCIISAN, MalformedSANIP,
	MalformedDuplicateExt, MalformedPrintable, MalformedFlippedOID, MalformedFlippedLength}

// MalformedName is the name every Malformed leaf is meant to cover.
const MalformedName = "mail.contoso.com"

var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

// Malformed signs a leaf for mail.contoso.com with ca and gives it the
// defect kind names; the tls.Certificate carries the leaf and the CA.
func (ca *CA) Malformed(t T, kind string) tls.Certificate {
	t.Helper()
	der, key, err := ca.malformed(kind)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}
}

func (ca *CA) malformed(kind string) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := Spec{CN: MalformedName, DNS: []string{MalformedName}}.template()
	san := func(extra ...[]byte) pkix.Extension {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(MalformedName)) })
			for _, e := range extra {
				b.AddBytes(e)
			}
		})
		return pkix.Extension{Id: oidSAN, Value: b.BytesOrPanic()}
	}
	tbsEdit := func([][]byte) {}
	switch kind {
	case MalformedNone, MalformedFlippedOID, MalformedFlippedLength:
	case MalformedNegativeSerial:
		tbsEdit = func(f [][]byte) { f[1] = []byte{0x02, 0x02, 0xff, 0x7b} } // INTEGER -133
	case MalformedNonASCIISAN:
		tmpl.DNSNames = nil
		tmpl.ExtraExtensions = []pkix.Extension{san(append([]byte{0x82, byte(len("bücher.contoso.com"))}, "bücher.contoso.com"...))}
	case MalformedSANIP:
		tmpl.DNSNames = nil
		tmpl.ExtraExtensions = []pkix.Extension{san([]byte{0x87, 5, 10, 0, 0, 5, 1})}
	case MalformedDuplicateExt:
		tmpl.DNSNames = nil
		tmpl.ExtraExtensions = []pkix.Extension{san(), san()}
	case MalformedPrintable:
		tmpl.Subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: "IT-contoso"}}
		tbsEdit = func(f [][]byte) {
			// asn1 writes "IT-contoso" as PrintableString; make it "IT@contoso" (same length).
			i := indexOf(f[5], []byte("IT-contoso"))
			f[5][i+2] = '@'
		}
	default:
		return nil, nil, fmt.Errorf("testcert: unknown malformed kind %q", kind)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("testcert: %s: %w", kind, err)
	}
	tbs, sigAlg, err := splitCert(der)
	if err != nil {
		return nil, nil, err
	}
	fields, err := tbsFields(tbs)
	if err != nil {
		return nil, nil, err
	}
	tbsEdit(fields)
	der, err = ca.resign(fields, sigAlg)
	if err != nil {
		return nil, nil, err
	}
	switch kind {
	case MalformedFlippedOID:
		// ecdsa-with-SHA256 1.2.840.10045.4.3.2 -> .3 (SHA-384), in the TBS only.
		i := indexOf(der[10:], []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02})
		der[10+i+7] ^= 0x01
	case MalformedFlippedLength:
		der[2] ^= 0x40 // the Certificate SEQUENCE's length (30 82 LL LL)
	}
	return der, key, nil
}

func indexOf(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	panic("testcert: pattern not found")
}

// splitCert returns the TBSCertificate and signatureAlgorithm elements.
func splitCert(der []byte) (tbs, sigAlg []byte, err error) {
	s := cryptobyte.String(der)
	var c, t, a cryptobyte.String
	if !s.ReadASN1(&c, cbasn1.SEQUENCE) || !c.ReadASN1Element(&t, cbasn1.SEQUENCE) || !c.ReadASN1Element(&a, cbasn1.SEQUENCE) {
		return nil, nil, fmt.Errorf("testcert: cannot split certificate")
	}
	return t, a, nil
}

// tbsFields returns the TBSCertificate's elements, each with its header:
// version, serial, signature, issuer, validity, subject, spki, extensions.
func tbsFields(tbs []byte) ([][]byte, error) {
	s := cryptobyte.String(tbs)
	var body cryptobyte.String
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("testcert: bad TBS")
	}
	var out [][]byte
	for !body.Empty() {
		var e cryptobyte.String
		if !body.ReadAnyASN1Element(&e, nil) {
			return nil, fmt.Errorf("testcert: bad TBS element")
		}
		out = append(out, append([]byte(nil), e...))
	}
	return out, nil
}

// resign assembles a TBS from fields and signs it with the CA key
// (ECDSA with SHA-256, the signature algorithm the fields name).
func (ca *CA) resign(fields [][]byte, sigAlg []byte) ([]byte, error) {
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, f := range fields {
			b.AddBytes(f)
		}
	})
	tbs := tb.BytesOrPanic()
	h := sha256.Sum256(tbs)
	sig, err := ecdsa.SignASN1(rand.Reader, ca.Key, h[:])
	if err != nil {
		return nil, err
	}
	var cb cryptobyte.Builder
	cb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(sigAlg)
		b.AddASN1BitString(sig)
	})
	return cb.Bytes()
}
