package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// oidSignedData is PKCS #7 signedData (RFC 2315 §9.1).
var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// ParseIssuers reads what an AIA caIssuers URL answered (RFC 5280
// §4.2.2.1): one DER certificate, PEM certificates, or a certs-only
// PKCS #7 SignedData (".p7c", DER or PEM). It returns the certificates'
// DER, or an error saying what the body was.
func ParseIssuers(body []byte) ([][]byte, error) {
	if len(body) == 0 {
		return nil, errors.New("the answer is empty")
	}
	if bytes.Contains(body, []byte("-----BEGIN ")) {
		var out [][]byte
		rest := body
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			switch b.Type {
			case "CERTIFICATE":
				if _, err := x509.ParseCertificate(b.Bytes); err != nil {
					return nil, fmt.Errorf("a PEM certificate in the answer does not parse: %w", err)
				}
				out = append(out, b.Bytes)
			case "PKCS7", "CMS":
				cs, err := parsePKCS7Certs(b.Bytes)
				if err != nil {
					return nil, err
				}
				out = append(out, cs...)
			}
		}
		if len(out) == 0 {
			return nil, errors.New("the answer is PEM without a certificate")
		}
		return out, nil
	}
	if c, err := x509.ParseCertificate(body); err == nil {
		return [][]byte{c.Raw}, nil
	}
	cs, err := parsePKCS7Certs(body)
	if err != nil {
		return nil, fmt.Errorf("the answer (%d bytes) is not a DER or PEM certificate nor a PKCS #7 bundle", len(body))
	}
	return cs, nil
}

// parsePKCS7Certs reads the certificates of a PKCS #7 SignedData:
// ContentInfo { contentType, [0] EXPLICIT SignedData { version,
// digestAlgorithms, encapContentInfo, [0] IMPLICIT certificates, ... } }.
func parsePKCS7Certs(der []byte) ([][]byte, error) {
	in := cryptobyte.String(der)
	var ci, content, sd, certsSet cryptobyte.String
	var oid asn1.ObjectIdentifier
	var version int
	var skip cryptobyte.String
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("not a PKCS #7 ContentInfo")
	}
	if !oid.Equal(oidSignedData) {
		return nil, fmt.Errorf("PKCS #7 content type %s is not signedData", oid)
	}
	if !ci.ReadASN1(&content, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!content.ReadASN1(&sd, cbasn1.SEQUENCE) ||
		!sd.ReadASN1Integer(&version) ||
		!sd.ReadASN1(&skip, cbasn1.SET) || // digestAlgorithms
		!sd.ReadASN1(&skip, cbasn1.SEQUENCE) { // encapContentInfo
		return nil, errors.New("malformed PKCS #7 SignedData")
	}
	var present bool
	if !sd.ReadOptionalASN1(&certsSet, &present, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, errors.New("malformed PKCS #7 certificates")
	}
	if !present {
		return nil, errors.New("the PKCS #7 bundle holds no certificates")
	}
	var out [][]byte
	for !certsSet.Empty() {
		var raw cryptobyte.String
		var tag cbasn1.Tag
		if !certsSet.ReadAnyASN1Element(&raw, &tag) {
			return nil, errors.New("malformed PKCS #7 certificate list")
		}
		if tag != cbasn1.SEQUENCE {
			continue // an attribute certificate or other choice
		}
		if _, err := x509.ParseCertificate(raw); err != nil {
			return nil, fmt.Errorf("a certificate in the PKCS #7 bundle does not parse: %w", err)
		}
		out = append(out, []byte(raw))
	}
	if len(out) == 0 {
		return nil, errors.New("the PKCS #7 bundle holds no certificates")
	}
	return out, nil
}
