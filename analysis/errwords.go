package analysis

import (
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// trustWords says in a sentence why a chain does not lead to a trusted
// root, from crypto/x509's verification error (whose own text is for
// programmers: a report never shows it; JSON keeps it as evidence).
func trustWords(err error, leaf *x509.Certificate, chainLen int) string {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var ia x509.InsecureAlgorithmError
	var ch x509.HostnameError
	switch {
	case errors.As(err, &ia), strings.Contains(err.Error(), "insecure algorithm"):
		return "a signature in the chain uses an insecure algorithm (SHA-1 or MD5) that current clients refuse: reissue the certificate (and its intermediates) with SHA-256"
	case errors.As(err, &ua):
		w := fmt.Sprintf("no trusted root or sent intermediate issued %q", leaf.Issuer.CommonName)
		if chainLen == 1 {
			w += "; the server sent no intermediate certificates"
		}
		return w
	case errors.As(err, &ch):
		return "the chain names a host the certificate does not cover"
	case errors.As(err, &ci):
		// crypto/x509 verify.go, InvalidReason.
		switch ci.Reason {
		case x509.Expired:
			return "no moment exists at which every certificate of the chain is within its dates (an intermediate or root expired, or was not yet valid, while the leaf was valid)"
		case x509.NotAuthorizedToSign:
			return "a certificate that is not a CA (no basicConstraints CA:TRUE) signed another in the chain"
		case x509.CANotAuthorizedForThisName, x509.NameConstraintsWithoutSANs, x509.UnconstrainedName:
			return "a CA's name constraints do not permit the names on the certificate"
		case x509.TooManyIntermediates:
			return "the chain is longer than a CA's path length constraint allows"
		case x509.IncompatibleUsage, x509.CANotAuthorizedForExtKeyUsage:
			return "a certificate's extendedKeyUsage does not allow TLS servers (serverAuth)"
		case x509.TooManyConstraints:
			return "the chain has more name constraints than clients check"
		}
		return "a certificate in the chain is not valid for this use"
	}
	return "the chain could not be verified to a trusted root"
}

// rawGoError finds where, in an error text certsleuth recorded (a prefix
// in words, then what Go's net, crypto/tls or crypto/x509 said), the part
// for programmers begins.
var rawGoError = regexp.MustCompile(`(dial tcp|dial udp|read tcp|write tcp|lookup \S+|remote error: |tls: |x509: |unexpected EOF|EOF$|i/o timeout|context deadline exceeded|context canceled|net/http: |http: |read: |write: |connect: )`)

// errorSentences map what Go's error says to a sentence, most specific
// first.
var errorSentences = []struct{ has, words string }{
	{"connection refused", "nothing accepts connections on that address and port (connection refused)"},
	{"no such host", "the name does not resolve in DNS"},
	{"i/o timeout", "no answer in time"},
	{"deadline exceeded", "no answer in time"},
	{"timeout", "no answer in time"},
	{"connection reset", "the other side reset the connection"},
	{"broken pipe", "the other side closed the connection while it was being written to"},
	{"network is unreachable", "that network cannot be reached from here"},
	{"no route to host", "that host cannot be reached from here"},
	{"first record does not look like a tls handshake", "the server does not speak TLS on that port"},
	{"unsupported versions", "client and server share no TLS version"},
	{"protocol version not supported", "client and server share no TLS version"},
	{"no cipher suite supported", "client and server share no cipher suite"},
	{"handshake failure", "the TLS handshake failed: client and server share no version, cipher suite or signature algorithm"},
	{"certificate has expired or is not yet valid", "a certificate is outside its validity dates"},
	{"signed by unknown authority", "no trusted root issued the chain"},
	{"certificate is valid for", "the certificate does not cover the name"},
	{"certificate is not valid for any names", "the certificate carries no names"},
	{"x509: malformed", "a certificate is malformed (not valid DER)"},
	{"x509: ", "a certificate could not be verified"},
	{"unexpected eof", "the other side closed the connection in the middle"},
	{"eof", "the other side closed the connection"},
	{"context canceled", "certsleuth was stopped first"},
}

// remoteAlert matches Go's words for a TLS alert the other side sent.
var remoteAlert = regexp.MustCompile(`remote error: tls: ([a-z ]+)`)

// ErrorWords rewrites an error text certsleuth recorded (Observation.Error)
// for a report: the part in words stays, the part Go's libraries wrote for
// programmers ("dial tcp 10.0.0.5:443: connect: connection refused",
// "remote error: tls: bad certificate") becomes a sentence. The raw text
// stays in the trace and in the JSON report.
func ErrorWords(raw string) string {
	loc := rawGoError.FindStringIndex(raw)
	if loc == nil {
		return raw
	}
	prefix := strings.TrimRight(raw[:loc[0]], ": ")
	tail := strings.ToLower(raw[loc[0]:])
	words := "it failed (the JSON report has the details)"
	if m := remoteAlert.FindStringSubmatch(tail); m != nil {
		words = fmt.Sprintf("the other side ended the handshake with the TLS alert %q", strings.TrimSpace(m[1]))
	} else {
		for _, s := range errorSentences {
			if strings.Contains(tail, s.has) {
				words = s.words
				break
			}
		}
	}
	// What came after the Go part in words (" (an old client: ...)") stays.
	if i := strings.LastIndex(raw, " ("); i > loc[0] && strings.HasSuffix(raw, ")") && !rawGoError.MatchString(raw[i:]) {
		words += raw[i:]
	}
	if prefix == "" {
		return words
	}
	return prefix + ": " + words
}
