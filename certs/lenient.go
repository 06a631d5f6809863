package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"weak"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DefectKind names one way a certificate breaks a rule crypto/x509
// enforces when parsing. The values are stable: reports and the client
// table in analysis key on them.
type DefectKind string

// The defects ParseLenient recognises. docs/malformed-certs.md says what
// real clients do with each.
const (
	// DefectNegativeSerial: RFC 5280 §4.1.2.2, the serial number MUST be positive.
	DefectNegativeSerial DefectKind = "negative-serial"
	// DefectSerial: the serial number is empty or not minimally encoded (X.690 §8.3.2).
	DefectSerial DefectKind = "bad-serial"
	// DefectNonASCIISAN: a dNSName (or rfc822Name, URI) SAN that is not
	// IA5String ASCII (RFC 5280 §4.2.1.6).
	DefectNonASCIISAN DefectKind = "non-ascii-san"
	// DefectMalformedSAN: a SAN entry that cannot be what its tag says (an
	// iPAddress that is not 4 or 16 bytes, RFC 5280 §4.2.1.6).
	DefectMalformedSAN DefectKind = "malformed-san"
	// DefectDuplicateExtension: RFC 5280 §4.2, "MUST NOT include more than
	// one instance of a particular extension".
	DefectDuplicateExtension DefectKind = "duplicate-extension"
	// DefectBadString: a name attribute whose bytes are not valid for its
	// ASN.1 string type ('@' or '_' in a PrintableString, X.680 §41.4).
	DefectBadString DefectKind = "bad-string"
	// DefectSignatureMismatch: the signature algorithm inside the TBS
	// differs from the outer one (RFC 5280 §4.1.1.2).
	DefectSignatureMismatch DefectKind = "signature-mismatch"
	// DefectTrailingData: bytes after the certificate's DER.
	DefectTrailingData DefectKind = "trailing-data"
	// DefectTime: a validity time that is not in the DER form RFC 5280
	// §4.1.2.5 requires (no seconds, a time zone offset).
	DefectTime DefectKind = "bad-time"
	// DefectPublicKey: the subject public key does not parse.
	DefectPublicKey DefectKind = "bad-public-key"
	// DefectOther: crypto/x509 refuses the certificate for a reason the
	// lenient reader did not identify.
	DefectOther DefectKind = "other"
)

// Defect is one rule a certificate breaks, and where.
type Defect struct {
	Kind   DefectKind `json:"kind"`
	Detail string     `json:"detail"` // e.g. `dNSName "bücher.contoso.com" is not ASCII`
}

// Malformed says why crypto/x509 refuses a certificate that ParseLenient
// could still read.
type Malformed struct {
	Err     error    // crypto/x509.ParseCertificate's error
	Defects []Defect // what ParseLenient found wrong, in the order found; never empty
}

// Kinds lists the defect kinds, without repeats, in the order found.
func (m *Malformed) Kinds() []DefectKind {
	var out []DefectKind
	for _, d := range m.Defects {
		dup := false
		for _, k := range out {
			dup = dup || k == d.Kind
		}
		if !dup {
			out = append(out, d.Kind)
		}
	}
	return out
}

// malformed remembers, for each certificate ParseLenient built, why
// crypto/x509 refused it; an entry goes away with its certificate. n is
// len(m), read without the lock: most programs read no malformed
// certificate, and the judge asks for each certificate of each new chain
// and each client profile.
var malformed = struct {
	mu sync.Mutex
	m  map[weak.Pointer[x509.Certificate]]*Malformed
	n  atomic.Int64
}{m: map[weak.Pointer[x509.Certificate]]*Malformed{}}

// MalformedInfo returns why crypto/x509 refuses c, when c was read by
// ParseLenient; nil for a certificate crypto/x509 parsed.
func MalformedInfo(c *x509.Certificate) *Malformed {
	// With none remembered, c was not read by ParseLenient: whoever
	// holds c got it after remember stored its entry (and n).
	if c == nil || malformed.n.Load() == 0 {
		return nil
	}
	malformed.mu.Lock()
	defer malformed.mu.Unlock()
	return malformed.m[weak.Make(c)]
}

func remember(c *x509.Certificate, m *Malformed) {
	k := weak.Make(c)
	malformed.mu.Lock()
	malformed.m[k] = m
	malformed.n.Store(int64(len(malformed.m)))
	malformed.mu.Unlock()
	runtime.AddCleanup(c, func(k weak.Pointer[x509.Certificate]) {
		malformed.mu.Lock()
		delete(malformed.m, k)
		malformed.n.Store(int64(len(malformed.m)))
		malformed.mu.Unlock()
	}, k)
}

// ParseLenient parses der with crypto/x509 and, when that refuses it,
// reads what clients judge (names, dates, issuer, key, extensions) with a
// lenient DER reader, so that a certificate Go refuses but Windows or
// OpenSSL accept is still judged by its names. It returns the certificate
// and, for one crypto/x509 refused, why (see MalformedInfo); an error only
// when not even the lenient reader can find the names and dates, wrapping
// crypto/x509's error.
//
// The fields set on a leniently read certificate are Raw,
// RawTBSCertificate, RawSubject, RawIssuer, RawSubjectPublicKeyInfo,
// Version, SerialNumber, Subject, Issuer, NotBefore, NotAfter, PublicKey
// (when it parses), PublicKeyAlgorithm, SignatureAlgorithm, Signature,
// Extensions, DNSNames, EmailAddresses, IPAddresses, BasicConstraintsValid, IsCA, MaxPathLen, KeyUsage, ExtKeyUsage,
// UnknownExtKeyUsage, SubjectKeyId, AuthorityKeyId, OCSPServer,
// IssuingCertificateURL and UnhandledCriticalExtensions.
func ParseLenient(der []byte) (*x509.Certificate, *Malformed, error) {
	c, goErr := x509.ParseCertificate(der)
	if goErr == nil {
		return c, nil, nil
	}
	c, defects, err := readLenient(der)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (read leniently: %v)", goErr, err)
	}
	if len(defects) == 0 {
		defects = []Defect{{Kind: DefectOther, Detail: goErr.Error()}}
	}
	m := &Malformed{Err: goErr, Defects: defects}
	remember(c, m)
	return c, m, nil
}

// lenientReader collects defects while reading.
type lenientReader struct {
	defects []Defect
}

func (r *lenientReader) defect(k DefectKind, format string, args ...any) {
	r.defects = append(r.defects, Defect{Kind: k, Detail: fmt.Sprintf(format, args...)})
}

// readLenient reads a Certificate (RFC 5280 §4.1) with cryptobyte,
// tolerating the defects listed above. DER lengths must still be right:
// a certificate whose structure is broken has no names to read.
func readLenient(der []byte) (*x509.Certificate, []Defect, error) {
	r := &lenientReader{}
	c := &x509.Certificate{Raw: der}
	in := cryptobyte.String(der)
	var cert, tbsElem, outerAlg cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("not a DER SEQUENCE")
	}
	if !in.Empty() {
		r.defect(DefectTrailingData, "%d bytes after the certificate", len(in))
	}
	if !cert.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("no TBSCertificate")
	}
	c.RawTBSCertificate = tbsElem
	if !cert.ReadASN1Element(&outerAlg, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("no signatureAlgorithm")
	}
	c.SignatureAlgorithm = signatureAlgorithm(outerAlg)
	var sig cryptobyte.String
	if cert.ReadASN1(&sig, cbasn1.BIT_STRING) && len(sig) > 0 {
		c.Signature = sig[1:]
	}

	tbs := tbsElem
	var body cryptobyte.String
	tbs.ReadASN1(&body, cbasn1.SEQUENCE)
	var version cryptobyte.String
	var hasVersion bool
	if !body.ReadOptionalASN1(&version, &hasVersion, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, nil, errors.New("malformed version")
	}
	c.Version = 1
	if hasVersion {
		var v int
		if !version.ReadASN1Integer(&v) {
			return nil, nil, errors.New("malformed version")
		}
		c.Version = v + 1
	}
	var serial cryptobyte.String
	if !body.ReadASN1(&serial, cbasn1.INTEGER) {
		return nil, nil, errors.New("no serial number")
	}
	c.SerialNumber = r.serial(serial)
	var innerAlg cryptobyte.String
	if !body.ReadASN1Element(&innerAlg, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("no TBS signature algorithm")
	}
	if !bytes.Equal(innerAlg, outerAlg) {
		r.defect(DefectSignatureMismatch, "the TBS says %s, the certificate %s", algName(innerAlg), algName(outerAlg))
	}
	var issuer, validity, subject, spki cryptobyte.String
	if !body.ReadASN1Element(&issuer, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("no issuer")
	}
	c.RawIssuer = issuer
	if err := r.name(issuer, &c.Issuer, "issuer"); err != nil {
		return nil, nil, err
	}
	if !body.ReadASN1(&validity, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("no validity")
	}
	var err error
	if c.NotBefore, err = r.time(&validity, "notBefore"); err != nil {
		return nil, nil, err
	}
	if c.NotAfter, err = r.time(&validity, "notAfter"); err != nil {
		return nil, nil, err
	}
	if !body.ReadASN1Element(&subject, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("no subject")
	}
	c.RawSubject = subject
	if err := r.name(subject, &c.Subject, "subject"); err != nil {
		return nil, nil, err
	}
	if !body.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("no subjectPublicKeyInfo")
	}
	c.RawSubjectPublicKeyInfo = spki
	if k, err := x509.ParsePKIXPublicKey(spki); err == nil {
		c.PublicKey = k
		switch k.(type) {
		case *rsa.PublicKey:
			c.PublicKeyAlgorithm = x509.RSA
		case *ecdsa.PublicKey:
			c.PublicKeyAlgorithm = x509.ECDSA
		case ed25519.PublicKey:
			c.PublicKeyAlgorithm = x509.Ed25519
		}
	} else {
		r.defect(DefectPublicKey, "%v", err)
	}
	// issuerUniqueID [1], subjectUniqueID [2]: skipped.
	body.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific())
	body.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific())
	var exts cryptobyte.String
	var hasExts bool
	if !body.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return nil, nil, errors.New("malformed extensions")
	}
	if hasExts {
		if err := r.extensions(exts, c); err != nil {
			return nil, nil, err
		}
	}
	return c, r.defects, nil
}

// serial reads an INTEGER's content as two's complement, noting a
// negative, empty or padded one.
func (r *lenientReader) serial(b []byte) *big.Int {
	switch {
	case len(b) == 0:
		r.defect(DefectSerial, "the serial number is empty")
		return new(big.Int)
	case len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0):
		r.defect(DefectSerial, "the serial number is not minimally encoded")
	}
	n := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		r.defect(DefectNegativeSerial, "serial number %s", n)
	}
	return n
}

// name reads an RDNSequence (RFC 5280 §4.1.2.4) into n, decoding every
// string type and noting strings invalid for their type.
func (r *lenientReader) name(raw []byte, n *pkix.Name, which string) error {
	s := cryptobyte.String(raw)
	var seq cryptobyte.String
	s.ReadASN1(&seq, cbasn1.SEQUENCE)
	var rdns pkix.RDNSequence
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) {
			return fmt.Errorf("malformed %s", which)
		}
		var rdn pkix.RelativeDistinguishedNameSET
		for !set.Empty() {
			var atv cryptobyte.String
			var oid asn1.ObjectIdentifier
			var tag cbasn1.Tag
			var val cryptobyte.String
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) || !atv.ReadAnyASN1(&val, &tag) {
				return fmt.Errorf("malformed attribute in %s", which)
			}
			str, ok := decodeString(tag, val)
			if !ok {
				r.defect(DefectBadString, "%s %s %q is not a valid %s", which, oid, str, stringTypeName(tag))
			}
			rdn = append(rdn, pkix.AttributeTypeAndValue{Type: oid, Value: str})
		}
		rdns = append(rdns, rdn)
	}
	n.FillFromRDNSequence(&rdns)
	return nil
}

func stringTypeName(tag cbasn1.Tag) string {
	switch tag {
	case cbasn1.PrintableString:
		return "PrintableString"
	case cbasn1.IA5String:
		return "IA5String"
	case cbasn1.UTF8String:
		return "UTF8String"
	case cbasn1.Tag(30):
		return "BMPString"
	case cbasn1.Tag(18):
		return "NumericString"
	}
	return fmt.Sprintf("string (tag %d)", tag)
}

// decodeString decodes an ASN.1 string as clients display it and reports
// whether its bytes are valid for the type (X.680 §41).
func decodeString(tag cbasn1.Tag, b []byte) (string, bool) {
	switch tag {
	case cbasn1.PrintableString:
		ok := true
		for _, ch := range b {
			ok = ok && isPrintable(ch)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), ok
	case cbasn1.IA5String, cbasn1.Tag(18): // NumericString is a subset of IA5
		return strings.ToValidUTF8(string(b), "\uFFFD"), isASCII(b)
	case cbasn1.UTF8String:
		return strings.ToValidUTF8(string(b), "\uFFFD"), utf8.Valid(b)
	case cbasn1.T61String:
		rs := make([]rune, len(b)) // read as ISO 8859-1, as OpenSSL prints it
		for i, ch := range b {
			rs[i] = rune(ch)
		}
		return string(rs), true
	case cbasn1.Tag(30): // BMPString: UTF-16BE (UCS-2)
		if len(b)%2 != 0 {
			return strings.ToValidUTF8(string(b), "\uFFFD"), false
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		return string(utf16.Decode(u)), true
	case cbasn1.Tag(28): // UniversalString: UTF-32BE
		if len(b)%4 != 0 {
			return strings.ToValidUTF8(string(b), "\uFFFD"), false
		}
		rs := make([]rune, len(b)/4)
		for i := range rs {
			rs[i] = rune(uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3]))
		}
		return string(rs), true
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), false
}

// isPrintable: X.680 §41.4 PrintableString characters.
func isPrintable(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		strings.IndexByte(" '()+,-./:=?", b) >= 0
}

func isASCII(b []byte) bool {
	for _, ch := range b {
		if ch >= 0x80 {
			return false
		}
	}
	return true
}

// time reads a UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5), accepting
// the non-DER forms old encoders wrote (no seconds, an offset) as a defect.
func (r *lenientReader) time(s *cryptobyte.String, which string) (time.Time, error) {
	var tag cbasn1.Tag
	var v cryptobyte.String
	if !s.ReadAnyASN1(&v, &tag) {
		return time.Time{}, fmt.Errorf("no %s", which)
	}
	var strict, loose []string
	switch tag {
	case cbasn1.UTCTime:
		strict, loose = []string{"060102150405Z0700"}, []string{"0601021504Z0700", "060102150405-0700", "0601021504-0700"}
	case cbasn1.GeneralizedTime:
		strict, loose = []string{"20060102150405Z0700"}, []string{"20060102150405.999999999Z0700", "200601021504Z0700", "20060102150405-0700"}
	default:
		return time.Time{}, fmt.Errorf("%s is not a time (tag %d)", which, tag)
	}
	str := string(v)
	for _, f := range strict {
		if t, err := time.Parse(f, str); err == nil && strings.HasSuffix(str, "Z") {
			return fixCentury(t, tag), nil
		}
	}
	for _, f := range append(strict, loose...) {
		if t, err := time.Parse(f, str); err == nil {
			r.defect(DefectTime, "%s %q is not in DER form", which, str)
			return fixCentury(t, tag), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not a time", which, str)
}

// fixCentury: RFC 5280 §4.1.2.5.1, a UTCTime year below 50 is 20YY.
func fixCentury(t time.Time, tag cbasn1.Tag) time.Time {
	t = t.UTC()
	if tag == cbasn1.UTCTime && t.Year() >= 2050 {
		t = t.AddDate(-100, 0, 0)
	}
	return t
}

var (
	oidExtSAN       = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtBasic     = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtEKU       = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidExtSKI       = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidExtAKI       = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidExtAIA       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidExtPolicies  = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidExtCRLDP     = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidAIAOCSP      = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1}
	oidAIACAIssuers = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 2}
)

// ekuOIDs: RFC 5280 §4.2.1.12 and the x509.ExtKeyUsage values Go names.
var ekuOIDs = []struct {
	oid asn1.ObjectIdentifier
	eku x509.ExtKeyUsage
}{
	{asn1.ObjectIdentifier{2, 5, 29, 37, 0}, x509.ExtKeyUsageAny},
	{asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}, x509.ExtKeyUsageServerAuth},
	{asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}, x509.ExtKeyUsageClientAuth},
	{asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 3}, x509.ExtKeyUsageCodeSigning},
	{asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 4}, x509.ExtKeyUsageEmailProtection},
	{asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}, x509.ExtKeyUsageTimeStamping},
	{asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 9}, x509.ExtKeyUsageOCSPSigning},
	{asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3, 3}, x509.ExtKeyUsageMicrosoftServerGatedCrypto},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 113730, 4, 1}, x509.ExtKeyUsageNetscapeServerGatedCrypto},
}

// extensions reads the Extensions (RFC 5280 §4.2) into c.
func (r *lenientReader) extensions(raw cryptobyte.String, c *x509.Certificate) error {
	var seq cryptobyte.String
	if !raw.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("malformed extensions")
	}
	seen := map[string]bool{}
	for !seq.Empty() {
		var ext, val cryptobyte.String
		var e pkix.Extension
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&e.Id) ||
			!readBool(&ext, &e.Critical) || !ext.ReadASN1(&val, cbasn1.OCTET_STRING) {
			return errors.New("malformed extension")
		}
		e.Value = val
		c.Extensions = append(c.Extensions, e)
		key := e.Id.String()
		if seen[key] {
			r.defect(DefectDuplicateExtension, "extension %s appears more than once; the first is used", key)
			continue
		}
		seen[key] = true
		v := cryptobyte.String(val)
		ok := true
		switch {
		case e.Id.Equal(oidExtSAN):
			if err := r.san(v, c); err != nil {
				return err
			}
		case e.Id.Equal(oidExtBasic):
			var bc cryptobyte.String
			ok = v.ReadASN1(&bc, cbasn1.SEQUENCE) && readBool(&bc, &c.IsCA)
			c.BasicConstraintsValid, c.MaxPathLen = true, -1
			if ok && bc.PeekASN1Tag(cbasn1.INTEGER) {
				ok = bc.ReadASN1Integer(&c.MaxPathLen)
			}
		case e.Id.Equal(oidExtKeyUsage):
			var bits asn1.BitString
			if ok = v.ReadASN1BitString(&bits); ok {
				for i := 0; i < 9; i++ {
					if bits.At(i) != 0 {
						c.KeyUsage |= 1 << uint(i)
					}
				}
			}
		case e.Id.Equal(oidExtEKU):
			var ekus cryptobyte.String
			ok = v.ReadASN1(&ekus, cbasn1.SEQUENCE)
			for ok && !ekus.Empty() {
				var oid asn1.ObjectIdentifier
				if ok = ekus.ReadASN1ObjectIdentifier(&oid); !ok {
					break
				}
				known := false
				for _, k := range ekuOIDs {
					if k.oid.Equal(oid) {
						c.ExtKeyUsage, known = append(c.ExtKeyUsage, k.eku), true
					}
				}
				if !known {
					c.UnknownExtKeyUsage = append(c.UnknownExtKeyUsage, oid)
				}
			}
		case e.Id.Equal(oidExtSKI):
			var id cryptobyte.String
			ok = v.ReadASN1(&id, cbasn1.OCTET_STRING)
			c.SubjectKeyId = id
		case e.Id.Equal(oidExtAKI):
			var aki, id cryptobyte.String
			ok = v.ReadASN1(&aki, cbasn1.SEQUENCE)
			if ok && aki.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()) {
				ok = aki.ReadASN1(&id, cbasn1.Tag(0).ContextSpecific())
				c.AuthorityKeyId = id
			}
		case e.Id.Equal(oidExtAIA):
			var aia cryptobyte.String
			ok = v.ReadASN1(&aia, cbasn1.SEQUENCE)
			for ok && !aia.Empty() {
				var ad, uri cryptobyte.String
				var method asn1.ObjectIdentifier
				if ok = aia.ReadASN1(&ad, cbasn1.SEQUENCE) && ad.ReadASN1ObjectIdentifier(&method); !ok {
					break
				}
				if ad.ReadASN1(&uri, cbasn1.Tag(6).ContextSpecific()) {
					switch {
					case method.Equal(oidAIAOCSP):
						c.OCSPServer = append(c.OCSPServer, string(uri))
					case method.Equal(oidAIACAIssuers):
						c.IssuingCertificateURL = append(c.IssuingCertificateURL, string(uri))
					}
				}
			}
		case e.Id.Equal(oidExtPolicies), e.Id.Equal(oidExtCRLDP):
			// Not needed to judge the name or the chain's trust.
		default:
			if e.Critical {
				c.UnhandledCriticalExtensions = append(c.UnhandledCriticalExtensions, e.Id)
			}
		}
		if !ok {
			return fmt.Errorf("malformed extension %s", key)
		}
	}
	return nil
}

// san reads a subjectAltName (RFC 5280 §4.2.1.6). A name with the wrong
// characters is kept as read (clients compare it byte for byte and it
// matches nothing); an entry that cannot be what its tag says is dropped.
func (r *lenientReader) san(v cryptobyte.String, c *x509.Certificate) error {
	var names cryptobyte.String
	if !v.ReadASN1(&names, cbasn1.SEQUENCE) {
		return errors.New("malformed subjectAltName")
	}
	for !names.Empty() {
		var tag cbasn1.Tag
		var n cryptobyte.String
		if !names.ReadAnyASN1(&n, &tag) {
			return errors.New("malformed subjectAltName entry")
		}
		switch tag {
		case cbasn1.Tag(1).ContextSpecific(): // rfc822Name
			if !isASCII(n) {
				r.defect(DefectNonASCIISAN, "rfc822Name %q is not ASCII", strings.ToValidUTF8(string(n), "\uFFFD"))
			}
			c.EmailAddresses = append(c.EmailAddresses, strings.ToValidUTF8(string(n), "\uFFFD"))
		case cbasn1.Tag(2).ContextSpecific(): // dNSName
			if !isASCII(n) {
				r.defect(DefectNonASCIISAN, "dNSName %q is not ASCII", strings.ToValidUTF8(string(n), "\uFFFD"))
			}
			c.DNSNames = append(c.DNSNames, strings.ToValidUTF8(string(n), "\uFFFD"))
		case cbasn1.Tag(7).ContextSpecific(): // iPAddress
			if len(n) != net.IPv4len && len(n) != net.IPv6len {
				r.defect(DefectMalformedSAN, "an iPAddress of %d bytes (4 or 16 expected)", len(n))
				continue
			}
			c.IPAddresses = append(c.IPAddresses, net.IP(append([]byte(nil), n...)))
		}
	}
	return nil
}

// signatureAlgorithm maps an AlgorithmIdentifier to crypto/x509's value
// (RFC 3279, RFC 4055, RFC 5758, RFC 8410); 0 when unknown.
func signatureAlgorithm(alg []byte) x509.SignatureAlgorithm {
	s := cryptobyte.String(alg)
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&oid) {
		return x509.UnknownSignatureAlgorithm
	}
	switch oid.String() {
	case "1.2.840.113549.1.1.4":
		return x509.MD5WithRSA
	case "1.2.840.113549.1.1.5":
		return x509.SHA1WithRSA
	case "1.2.840.113549.1.1.11":
		return x509.SHA256WithRSA
	case "1.2.840.113549.1.1.12":
		return x509.SHA384WithRSA
	case "1.2.840.113549.1.1.13":
		return x509.SHA512WithRSA
	case "1.2.840.10045.4.1":
		return x509.ECDSAWithSHA1
	case "1.2.840.10045.4.3.2":
		return x509.ECDSAWithSHA256
	case "1.2.840.10045.4.3.3":
		return x509.ECDSAWithSHA384
	case "1.2.840.10045.4.3.4":
		return x509.ECDSAWithSHA512
	case "1.3.101.112":
		return x509.PureEd25519
	case "1.2.840.10040.4.3":
		return x509.DSAWithSHA1
	case "2.16.840.1.101.3.4.3.2":
		return x509.DSAWithSHA256
	case "1.2.840.113549.1.1.10": // RSASSA-PSS: the hash is in the parameters
		switch {
		case bytes.Contains(seq, []byte{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01}):
			return x509.SHA256WithRSAPSS
		case bytes.Contains(seq, []byte{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02}):
			return x509.SHA384WithRSAPSS
		case bytes.Contains(seq, []byte{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03}):
			return x509.SHA512WithRSAPSS
		}
	}
	return x509.UnknownSignatureAlgorithm
}

func algName(alg []byte) string {
	if a := signatureAlgorithm(alg); a != x509.UnknownSignatureAlgorithm {
		return a.String()
	}
	s := cryptobyte.String(alg)
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if s.ReadASN1(&seq, cbasn1.SEQUENCE) && seq.ReadASN1ObjectIdentifier(&oid) {
		return oid.String()
	}
	return "an unreadable algorithm"
}

// readBool reads an optional BOOLEAN (DEFAULT FALSE), taking any non-zero
// octet as true (X.690 §8.2.2; DER wants 0xff).
func readBool(s *cryptobyte.String, out *bool) bool {
	*out = false
	if !s.PeekASN1Tag(cbasn1.BOOLEAN) {
		return true
	}
	var v cryptobyte.String
	if !s.ReadASN1(&v, cbasn1.BOOLEAN) || len(v) != 1 {
		return false
	}
	*out = v[0] != 0
	return true
}
