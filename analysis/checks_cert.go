package analysis

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/memo"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// trustResult is the outcome of building a chain to a trusted root,
// judged once per chain.
type trustResult struct {
	ok         bool
	selfSigned bool
	err        error
	// path is the verified path (leaf first, root last) when one leads to
	// a root, even when an EKU on it rules out TLS servers.
	path []*x509.Certificate
	// eku is set when the path exists but a certificate's EKU lacks
	// serverAuth: checks eku.server-auth and chain.intermediate-eku tell.
	eku *certs.EKUError
	// aia is judgeAIA's result for this chain without AIA fetches, once
	// aiaKept (the judge keeps it with the chain's trust).
	aia     *aiaTrust
	aiaKept bool
}

// verifyTrust builds chain[0] to a root in roots (nil: the system's) for
// a TLS server, at a moment when every certificate in the chain is within
// its dates, so that dates are judged separately (at the observation's
// time).
func verifyTrust(chain []*x509.Certificate, roots *x509.CertPool) *trustResult {
	leaf := chain[0]
	path, err := certs.VerifyChain(chain, nil, roots)
	r := &trustResult{ok: err == nil, err: err, path: path}
	if errors.As(err, &r.eku) {
		return r
	}
	if err != nil {
		r.selfSigned = certs.IsSelfSigned(leaf)
	}
	return r
}

// aiaTrust is what a client that fetches the leaf's AIA caIssuers URLs
// (Chromium, Windows, Apple) gets when the server left out an issuer.
type aiaTrust struct {
	urls     []string
	fetched  bool     // the producer fetched them (check does; a capture does not)
	ok       bool     // with what they answered, the chain leads to a root
	answered []string // URLs that gave a certificate
	failed   []string // "URL (why)"
	err      error    // the trust error with the fetched certificates, when !ok
}

// judgeAIA returns nil unless the chain fails only for want of an issuer
// and the leaf names caIssuers URLs.
func judgeAIA(s *Subject, roots *x509.CertPool) *aiaTrust {
	leaf := s.Leaf()
	if leaf == nil || s.trust == nil || s.trust.ok || s.trust.selfSigned || s.trust.eku != nil || len(leaf.IssuingCertificateURL) == 0 {
		return nil
	}
	var ua x509.UnknownAuthorityError
	if !errors.As(s.trust.err, &ua) {
		return nil
	}
	a := &aiaTrust{urls: leaf.IssuingCertificateURL, fetched: len(s.Obs.AIA) > 0}
	var extra []*x509.Certificate
	for _, f := range s.Obs.AIA {
		n := 0
		for _, der := range f.Certs {
			if c, err := x509.ParseCertificate(der); err == nil {
				extra = append(extra, c)
				n++
			}
		}
		switch {
		case n > 0:
			a.answered = append(a.answered, f.URL)
		case f.Error != "":
			a.failed = append(a.failed, fmt.Sprintf("%s (%s)", f.URL, f.Error))
		default:
			a.failed = append(a.failed, f.URL+" (no certificate)")
		}
	}
	if len(extra) > 0 {
		_, a.err = certs.VerifyChain(s.Chain, extra, roots)
		a.ok = a.err == nil
	}
	return a
}

// certLabel names certificate i of a chain, c, in a finding: its role and
// its subject CN, or its first DNS SAN (certView.label).
func certLabel(i int, c *x509.Certificate) string {
	cv := certView{cn: c.Subject.CommonName}
	if len(c.DNSNames) > 0 {
		cv.dns0 = c.DNSNames[0]
	}
	return cv.label(i)
}

var (
	appleRulesFrom = time.Date(2019, 7, 1, 0, 0, 0, 0, time.UTC)
)

func init() {
	mustRegister(
		&Check{
			ID: "date.expired", Title: "A certificate in the chain had expired", Severity: SeverityError,
			Citation: "RFC 5280 §4.1.2.5; Outlook security alert (\"has expired or is not yet valid\"); WinINet 0x80072F05",
			Remedy:   "Renew the certificate and bind the new one on every server and load balancer that answers for this name.",
			Run: func(s *Subject) *Finding {
				v := s.view()
				if v == nil {
					return nil
				}
				for i := range v.certs {
					c := &v.certs[i]
					if s.At.After(c.notAfter) {
						return &Finding{
							Summary:  fmt.Sprintf("%s expired on %s, before the request at %s", c.label(i), c.notAfter.UTC().Format(time.DateOnly), s.At.UTC().Format(time.RFC3339)),
							Evidence: []Evidence{{Label: "not after", Value: c.notAfter.UTC().Format(time.RFC3339), From: c.label(i)}},
						}
					}
				}
				return nil
			},
		},
		&Check{
			ID: "date.not-yet-valid", Title: "A certificate in the chain was not yet valid", Severity: SeverityError,
			Citation: "RFC 5280 §4.1.2.5; WinINet 0x80072F05",
			Remedy:   "Check the client's and the server's clocks; a certificate dated in the future is usually a wrong clock or a just-issued certificate.",
			Run: func(s *Subject) *Finding {
				v := s.view()
				if v == nil {
					return nil
				}
				for i := range v.certs {
					c := &v.certs[i]
					if s.At.Before(c.notBefore) {
						return &Finding{
							Summary:  fmt.Sprintf("%s is valid only from %s, after the request at %s", c.label(i), c.notBefore.UTC().Format(time.RFC3339), s.At.UTC().Format(time.RFC3339)),
							Evidence: []Evidence{{Label: "not before", Value: c.notBefore.UTC().Format(time.RFC3339), From: c.label(i)}},
						}
					}
				}
				return nil
			},
		},
		&Check{
			ID: "chain.self-signed", Title: "The server presented a self-signed certificate", Severity: SeverityError, ChainOnly: true,
			Citation: "RFC 5280 §6.1; Outlook security alert (\"issued by a company you have not chosen to trust\"); WinINet 0x80072F0D",
			Remedy:   "Replace Exchange's self-signed certificate with one from a CA the clients trust (public, or your enterprise CA deployed by Group Policy); or pass --ca-file if this certificate is deliberately trusted.",
			Run: func(s *Subject) *Finding {
				if s.trust == nil || s.trust.ok || !s.trust.selfSigned {
					return nil
				}
				what := "the certificate, which carries no names,"
				if n := leafNames(s); len(n) > 0 {
					what = "the certificate for " + strings.Join(n, ", ")
				}
				return &Finding{Summary: what + " is self-signed and not in the trusted roots",
					Evidence: []Evidence{{Label: "issuer", Value: s.leafIssuer(), From: "leaf"}}}
			},
		},
		&Check{
			ID: "chain.untrusted", Title: "The chain does not lead to a trusted root", Severity: SeverityError, ChainOnly: true,
			Citation: "RFC 5280 §6.1; WinINet ERROR_INTERNET_INVALID_CA 0x80072F0D",
			Remedy:   "Install the issuing CA on the clients (enterprise CA) or use a public CA, and make the server send its intermediate certificates; pass --ca-file for a lab or enterprise CA.",
			Run: func(s *Subject) *Finding {
				if s.trust == nil || s.trust.ok || s.trust.selfSigned || s.trust.eku != nil {
					return nil // an EKU that rules out TLS servers is told by eku.server-auth and chain.intermediate-eku
				}
				if s.aia != nil && (s.aia.ok || !s.aia.fetched) {
					return nil // clients differ: chain.intermediate-missing tells, per client
				}
				leaf := s.Leaf()
				why := trustWords(s.trust.err, leaf, len(s.Chain))
				var ua x509.UnknownAuthorityError
				if errors.As(s.trust.err, &ua) && s.aia != nil {
					switch {
					case len(s.aia.failed) > 0 && len(s.aia.answered) == 0:
						why += fmt.Sprintf("; the certificate's AIA URL %s did not give it either, so clients that fetch missing issuers (Chromium, Windows, Apple) warn too", strings.Join(s.aia.failed, ", "))
					default:
						why += fmt.Sprintf("; what the AIA URL %s gave does not lead to a trusted root either", strings.Join(s.aia.answered, ", "))
					}
				}
				return &Finding{Summary: "the chain is not trusted: " + why,
					Evidence: []Evidence{{Label: "issuer", Value: s.leafIssuer(), From: "leaf"}, {Label: "chain length", Value: fmt.Sprint(len(s.Chain)), From: "as sent"},
						{Label: "verification error", Value: s.trust.err.Error(), From: "Go crypto/x509"}}}
			},
		},
		&Check{
			ID: "chain.intermediate-missing", Title: "The server does not send its intermediate CA; only clients that fetch it from the AIA URL accept", Severity: SeverityError, ChainOnly: true,
			Citation: "RFC 5280 §4.2.2.1; chromium cert_issuer_source_aia.cc; OpenSSL x509_vfy.c build_chain (no fetching)", PerProfile: true,
			Remedy: "Bind the certificate with its intermediate CA certificate (install the intermediate in the server's Intermediate Certification Authorities store, or append it to the chain file), so that every client gets the whole chain.",
			Run: func(s *Subject) *Finding {
				a := s.aia
				if a == nil || (a.fetched && !a.ok) {
					return nil // chain.untrusted tells: no client gets the issuer
				}
				if s.once == nil || s.once.aiaMissing == nil {
					return intermediateMissing(s, a)
				}
				return s.once.aiaMissing.get(s, a, intermediateMissing)
			},
		},
		&Check{
			ID: "eku.server-auth", Title: "The certificate is not for TLS servers (no serverAuth EKU)", Severity: SeverityError, ChainOnly: true,
			Citation: "RFC 5280 §4.2.1.12; support.apple.com/103769; OpenSSL crypto/x509/v3_purp.c check_purpose_ssl_server; Go crypto/x509 verify.go checkChainForKeyUsage", PerProfile: true,
			Remedy: "Reissue the certificate from a Web Server (serverAuth) template.",
			Run: func(s *Subject) *Finding {
				leaf := s.Leaf()
				if leaf == nil {
					return nil
				}
				appleDated := !leaf.NotBefore.Before(appleRulesFrom)
				if len(leaf.ExtKeyUsage) == 0 && len(leaf.UnknownExtKeyUsage) == 0 {
					if s.Profile.EKURequired() && appleDated {
						return &Finding{Summary: fmt.Sprintf("%s requires an extendedKeyUsage with serverAuth on certificates issued after 2019-07-01; this one has no EKU extension", s.Profile.Title)}
					}
					return nil
				}
				hasAny := false
				for _, u := range leaf.ExtKeyUsage {
					switch u {
					case x509.ExtKeyUsageServerAuth:
						return nil
					case x509.ExtKeyUsageAny:
						hasAny = true
					}
				}
				ev := []Evidence{{Label: "extendedKeyUsage", Value: certs.EKUNames(leaf), From: "leaf"}}
				if hasAny {
					// OpenSSL v3_purp.c xku_reject: anyExtendedKeyUsage is not serverAuth;
					// Apple 103769: the EKU must contain serverAuth. Chromium and Go accept it.
					if s.Profile.EKUAnyRefused() && (!s.Profile.AppleRules() || appleDated) {
						return &Finding{Summary: fmt.Sprintf("the certificate's extendedKeyUsage is anyExtendedKeyUsage without serverAuth, which %s does not take for serverAuth", s.Profile.Title), Evidence: ev}
					}
					return nil
				}
				return &Finding{Summary: "the certificate's extendedKeyUsage (" + certs.EKUNames(leaf) + ") does not include serverAuth", Evidence: ev}
			},
		},
		&Check{
			ID: "chain.intermediate-eku", Title: "An issuing CA's extendedKeyUsage does not allow TLS servers", Severity: SeverityError, ChainOnly: true,
			Citation: "RFC 5280 §4.2.1.12; Go crypto/x509 verify.go checkChainForKeyUsage; OpenSSL crypto/x509/v3_purp.c check_purpose_ssl_server", PerProfile: true,
			Remedy: "Issue the server certificate from a CA whose certificate allows serverAuth (or has no extendedKeyUsage), and send that CA's certificate in the chain.",
			Run: func(s *Subject) *Finding {
				if s.trust == nil || len(s.trust.path) < 3 {
					return nil
				}
				// The trust anchor's own EKU is not checked (OpenSSL check_purpose: a trusted certificate passes).
				for i, c := range s.trust.path[1 : len(s.trust.path)-1] {
					if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
						continue
					}
					if s.trust.eku != nil && s.trust.eku.Cert == c {
						return &Finding{Summary: "the issuing CA " + certLabel(i+1, c) + " may only issue certificates for " + certs.EKUNames(c) + ", not for TLS servers",
							Evidence: []Evidence{{Label: "extendedKeyUsage", Value: certs.EKUNames(c), From: certLabel(i+1, c)}}}
					}
					if s.Profile.EKUAnyRefused() && !s.Profile.AppleRules() && !hasEKU(c, x509.ExtKeyUsageServerAuth) && hasEKU(c, x509.ExtKeyUsageAny) {
						return &Finding{Summary: fmt.Sprintf("the issuing CA %s has anyExtendedKeyUsage without serverAuth, which %s does not take for serverAuth", certLabel(i+1, c), s.Profile.Title),
							Evidence: []Evidence{{Label: "extendedKeyUsage", Value: certs.EKUNames(c), From: certLabel(i+1, c)}}}
					}
				}
				return nil
			},
		},
		&Check{
			ID: "key.usage-incompatible", Title: "The certificate's keyUsage does not allow this client's TLS handshake", Severity: SeverityError, ChainOnly: true,
			Citation: "BoringSSL ssl/ssl_cert.cc ssl_cert_check_key_usage (ERR_SSL_KEY_USAGE_INCOMPATIBLE); OpenSSL crypto/x509/v3_purp.c check_purpose_ssl_server; RFC 8446 §4.4.2.2", PerProfile: true,
			Remedy: "Reissue the certificate with keyUsage digitalSignature (and keyEncipherment for RSA), as the Web Server template does.",
			Run: func(s *Subject) *Finding {
				leaf := s.Leaf()
				if leaf == nil || leaf.KeyUsage == 0 {
					return nil // no keyUsage extension: any use is allowed
				}
				ku := leaf.KeyUsage
				// The evidence is made only when the check fires (it ran
				// for every profile of every chain).
				ev := func() []Evidence { return []Evidence{{Label: "keyUsage", Value: keyUsageNames(ku), From: "leaf"}} }
				switch s.Profile.KeyUsage() {
				case match.KeyUsageSignature:
					if ku&x509.KeyUsageDigitalSignature == 0 {
						return &Finding{Summary: fmt.Sprintf("the certificate's keyUsage (%s) lacks digitalSignature, and every handshake %s offers (ECDHE, TLS 1.3) is signed with the certificate's key", keyUsageNames(ku), s.Profile.Title), Evidence: ev()}
					}
				case match.KeyUsageServer:
					if ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) == 0 {
						return &Finding{Summary: fmt.Sprintf("the certificate's keyUsage (%s) has none of digitalSignature, keyEncipherment and keyAgreement, which %s requires of a TLS server", keyUsageNames(ku), s.Profile.Title), Evidence: ev()}
					}
				}
				return nil
			},
		},
		&Check{
			ID: "key.rsa-too-small", Title: "An RSA key in the chain is smaller than this client accepts", Severity: SeverityError, ChainOnly: true,
			Citation: "OpenSSL crypto/x509/x509_vfy.c check_key_level (security level 2: 2048 bits); KB 2661254; Go crypto/rsa (1024 bits); chromium cert_verify_proc.cc", PerProfile: true,
			Remedy: "Reissue the certificate (or the CA) with an RSA key of 2048 bits or more, or ECDSA P-256.",
			Run: func(s *Subject) *Finding {
				if s.Profile.MinRSA() == 0 || s.Profile.AppleRules() {
					return nil // Apple's rule is apple.weak-key
				}
				for i, c := range s.Chain {
					if i > 0 && certs.IsSelfSigned(c) {
						continue // a sent root is not checked as part of the chain
					}
					if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < s.Profile.MinRSA() {
						return &Finding{Summary: fmt.Sprintf("%s has an RSA %d-bit key; %s refuses RSA keys under %d bits", certLabel(i, c), k.N.BitLen(), s.Profile.Title, s.Profile.MinRSA()),
							Evidence: []Evidence{{Label: "public key", Value: fmt.Sprintf("RSA %d bits", k.N.BitLen()), From: certLabel(i, c)}}}
					}
				}
				return nil
			},
		},
		&Check{
			ID: "apple.validity-825", Title: "Apple refuses certificates valid for more than 825 days", Severity: SeverityError, ChainOnly: true,
			Citation: "support.apple.com/103769", PerProfile: true,
			Remedy: "Reissue the certificate with a validity of at most 825 days (398 for public CAs).",
			Run: func(s *Subject) *Finding {
				leaf := s.Leaf()
				if leaf == nil || !s.Profile.AppleRules() || leaf.NotBefore.Before(appleRulesFrom) {
					return nil
				}
				days := int(leaf.NotAfter.Sub(leaf.NotBefore).Hours() / 24)
				if days <= 825 {
					return nil
				}
				return &Finding{Summary: fmt.Sprintf("the certificate is valid for %d days (from %s); iOS 13+ and macOS 10.15+ refuse more than 825", days, leaf.NotBefore.UTC().Format(time.DateOnly))}
			},
		},
		&Check{
			ID: "apple.weak-key", Title: "Apple refuses RSA keys under 2048 bits", Severity: SeverityError, ChainOnly: true,
			Citation: "support.apple.com/103769", PerProfile: true,
			Remedy: "Reissue with RSA 2048 or larger, or ECDSA.",
			Run: func(s *Subject) *Finding {
				if !s.Profile.AppleRules() {
					return nil
				}
				for i, c := range s.Chain {
					if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
						return &Finding{Summary: fmt.Sprintf("%s has an RSA %d key", certLabel(i, c), k.N.BitLen())}
					}
				}
				return nil
			},
		},
		&Check{
			ID: "apple.sha1", Title: "Apple refuses SHA-1 signatures", Severity: SeverityError, ChainOnly: true,
			Citation: "support.apple.com/103769", PerProfile: true,
			Remedy: "Reissue the certificate (and intermediates) with SHA-256 signatures.",
			Run: func(s *Subject) *Finding {
				if !s.Profile.AppleRules() {
					return nil
				}
				for i, c := range s.Chain {
					if certs.IsSelfSigned(c) && i > 0 {
						continue // a root's own signature does not matter
					}
					switch c.SignatureAlgorithm {
					case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
						return &Finding{Summary: fmt.Sprintf("%s is signed with %s", certLabel(i, c), c.SignatureAlgorithm)}
					}
				}
				return nil
			},
		},
		&Check{
			ID: "cert.unparseable", Title: "A certificate the server sent could not be parsed", Severity: SeverityWarning,
			Citation: "RFC 5280 §4.1",
			Remedy:   "Look at the raw chain (certsleuth keeps the DER in the trace; openssl x509 -inform der -text reads it): a certificate whose DER structure is broken is refused by every client tested (docs/malformed-certs.md).",
			Run: func(s *Subject) *Finding {
				if s.ChainErr == nil {
					return nil
				}
				return &Finding{Summary: "the server's certificate was seen but could not be read, not even leniently, so it was not judged",
					Evidence: []Evidence{{Label: "parse error", Value: s.ChainErr.Error(), From: "Go crypto/x509"}}}
			},
		},
		visibilityCheck("cert.encrypted", "The certificate is encrypted (TLS 1.3)", SeverityInfo, record.VisEncrypted,
			"RFC 8446 §4.4.2 (Certificate is sent encrypted)",
			"Give the key log (--keylog, from SSLKEYLOGFILE), run the client through `certsleuth proxy`, or fetch the chain with `certsleuth check NAME`.",
			func(o *record.Observation) string {
				return "TLS 1.3 encrypts the server's certificate and no key log was given; the certificate for " + nameOr(o) + " is not in the capture"
			}),
		visibilityCheck("cert.truncated", "The capture cut the certificate off", SeverityWarning, record.VisTruncated,
			"pcap snap length (tcpdump -s)",
			"Capture with a larger snap length (tcpdump -s 0, pktmon --pkt-size 0).",
			func(o *record.Observation) string {
				return fmt.Sprintf("certificate not captured: packets cut at %d bytes; capture with a larger snap length", o.Snaplen)
			}),
		visibilityCheck("cert.not-captured", "The handshake is not in the capture", SeverityWarning, record.VisMissing,
			"RFC 8446 §4 / RFC 5246 §7.3 (the certificate is sent once, in the handshake)",
			"Start the capture before the client connects (restart the client, or clear its connection cache), and check for dropped packets.",
			func(o *record.Observation) string {
				if o.Carrier == record.CarrierOpenVPN {
					// The handshake is there, in pieces behind
					// OpenVPN headers (capture's looksOpenVPN).
					return "the TLS handshake of this connection is inside OpenVPN's control channel (P_CONTROL packets), which certsleuth does not reassemble, so its certificate was not read"
				}
				return "the TLS handshake of this connection is not in the capture, so its certificate was not seen"
			}),
		visibilityCheck("cert.resumed", "A resumed session: the server sent no certificate", SeverityInfo, record.VisResumed,
			"RFC 8446 §2.2; RFC 5077",
			"The certificate is the one of the first, full handshake: look at that connection, or capture from before the client's first connection.",
			func(o *record.Observation) string {
				if o.ResumedFrom != "" {
					return "the client resumed an earlier session; the certificate was sent in the full handshake of connection " + o.ResumedFrom
				}
				return "the client resumed an earlier session whose full handshake is not in the capture"
			}),
		visibilityCheck("cert.probed", "The chain was fetched by a side connection", SeverityInfo, record.VisProbed,
			"RFC 8446 §4.4.2",
			"Nothing to do: certsleuth connected with the client's SNI and ALPN to read the chain the client could not show.",
			func(o *record.Observation) string {
				return "the chain was read by a separate connection with the same SNI (" + nameOr(o) + "), not from the client's own handshake"
			}),
		&Check{
			ID: "conn.failed", Title: "The connection failed", Severity: SeverityWarning,
			Citation: "certsleuth",
			Remedy:   "Check that the server is up and reachable from the client; a dead or refusing server is a different problem from a certificate warning.",
			Run: func(s *Subject) *Finding {
				if s.Obs.Error == "" || s.Obs.ClientAlert != "" {
					return nil
				}
				return &Finding{Summary: "the request failed: " + ErrorWords(s.Obs.Error),
					Evidence: []Evidence{{Label: "error", Value: s.Obs.Error, From: "as recorded"}}}
			},
		},
		&Check{
			ID: "conn.client-alert", Title: "The client rejected the certificate it was shown", Severity: SeverityWarning,
			Citation: "RFC 8446 §6.2 (alerts)",
			Remedy:   "This is the client's own verdict: read the name and trust findings for this connection to see which rule it applied.",
			Run: func(s *Subject) *Finding {
				switch s.Obs.ClientAlert {
				case "":
					return nil
				case record.AlertEncrypted:
					return &Finding{Summary: "the client ended the TLS 1.3 handshake with an alert instead of its Finished (an encrypted record of an alert's size; the key log would show which): it most likely refused the certificate"}
				case record.AlertEncryptedAfter:
					return &Finding{Summary: "the client finished the TLS handshake, then at once sent an encrypted alert and no request: it most likely refused the certificate after the handshake, as clients that check the name late (curl) do"}
				}
				return &Finding{Summary: "the client aborted the handshake with the TLS alert \"" + s.Obs.ClientAlert + "\": it refused the certificate"}
			},
		},
	)
}

// intermediateMissing is chain.intermediate-missing's finding for s, whose
// AIA judgement a is: it reads only the leaf's issuer and AIA URLs, a and
// the profile (aiaMissingMemo keeps it by them).
func intermediateMissing(s *Subject, a *aiaTrust) *Finding {
	leaf := s.Leaf()
	urls := strings.Join(a.urls, ", ")
	ev := []Evidence{{Label: "issuer", Value: s.leafIssuer(), From: "leaf"}, {Label: "AIA caIssuers", Value: urls, From: "leaf"}}
	switch {
	case !s.Profile.FetchesAIA():
		return &Finding{Summary: fmt.Sprintf("the server did not send the intermediate CA %q, and %s does not fetch it from the AIA URL %s (Chromium, Windows and Apple do)", leaf.Issuer.CommonName, s.Profile.Title, urls), Evidence: ev}
	case a.ok:
		return &Finding{Severity: SeverityInfo, Summary: fmt.Sprintf("the server did not send the intermediate CA %q; %s fetches it from %s, which answered when certsleuth fetched it, so it does not warn", leaf.Issuer.CommonName, s.Profile.Title, strings.Join(a.answered, ", ")), Evidence: ev}
	}
	return &Finding{Severity: SeverityWarning, Summary: fmt.Sprintf("the server did not send the intermediate CA %q; %s would fetch it from %s, and this trace does not say whether that URL answers (run `certsleuth check` from the clients' network to find out)", leaf.Issuer.CommonName, s.Profile.Title, urls), Evidence: ev}
}

// aiaMissingMemo keeps chain.intermediate-missing's findings by what they
// read (intermediateMissing): the leaf's issuer (its DER: Issuer and
// Issuer.String() are read from it), its AIA URLs, the AIA judgement's
// outcome and the profile. Leaves of one CA whose intermediate the servers
// leave out get the same finding for each profile; made for each chain,
// its texts were a tenth of what the judge allocated on hs.pcap (1,817
// chains of 3 issuers). A judger keeps one; the findings it returns are
// shared: not to be written to.
type aiaMissingMemo struct {
	m *memo.Gen[uint64, []aiaMissingEntry]
}

type aiaMissingEntry struct {
	issuer         []byte
	urls, answered []string
	ok, fetched    bool
	profile        *match.Profile
	f              *Finding
}

// maxAIAMissing bounds aiaMissingMemo (memo.Gen generations): distinct
// issuers and AIA URLs x profiles, few in any capture.
const maxAIAMissing = 256

func newAIAMissingMemo() *aiaMissingMemo {
	return &aiaMissingMemo{m: memo.New[uint64, []aiaMissingEntry](maxAIAMissing)}
}

// get returns build(s, a), or the finding kept for the same leaf issuer,
// URLs, AIA outcome and profile.
func (am *aiaMissingMemo) get(s *Subject, a *aiaTrust, build func(*Subject, *aiaTrust) *Finding) *Finding {
	leaf := s.Leaf()
	var h maphash.Hash
	h.SetSeed(aiaMissingSeed)
	h.Write(leaf.RawIssuer)
	for _, u := range a.urls {
		h.WriteByte(0)
		h.WriteString(u)
	}
	for _, u := range a.answered {
		h.WriteByte(1)
		h.WriteString(u)
	}
	maphash.WriteComparable(&h, s.Profile)
	k := h.Sum64()
	kept, _ := am.m.Get(k)
	for _, e := range kept {
		if e.profile == s.Profile && e.ok == a.ok && e.fetched == a.fetched && bytes.Equal(e.issuer, leaf.RawIssuer) &&
			slices.Equal(e.urls, a.urls) && slices.Equal(e.answered, a.answered) {
			return e.f
		}
	}
	f := build(s, a)
	am.m.Put(k, append(kept, aiaMissingEntry{issuer: bytes.Clone(leaf.RawIssuer), urls: slices.Clone(a.urls), answered: slices.Clone(a.answered),
		ok: a.ok, fetched: a.fetched, profile: s.Profile, f: f}))
	return f
}

var aiaMissingSeed = maphash.MakeSeed()

func hasEKU(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	for _, x := range c.ExtKeyUsage {
		if x == u {
			return true
		}
	}
	return false
}

// keyUsageNames lists the bits of a keyUsage in RFC 5280 §4.2.1.3 words.
func keyUsageNames(ku x509.KeyUsage) string {
	names := []string{"digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}
	var out []string
	for i, n := range names {
		if ku&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func nameOr(o *record.Observation) string {
	if n, _ := o.AskedName(); n != "" {
		return n
	}
	if o.Server != "" {
		return o.Server
	}
	return "this server"
}

func visibilityCheck(id, title string, sev Severity, vis record.Visibility, citation, remedy string, summary func(*record.Observation) string) *Check {
	return &Check{
		ID: id, Title: title, Severity: sev, Citation: citation, Remedy: remedy,
		Run: func(s *Subject) *Finding {
			if s.Obs.Visibility != vis || s.WhatIf {
				return nil
			}
			return &Finding{Summary: summary(s.Obs)}
		},
	}
}

// leafIssuer is the leaf's Issuer.String(), made once per observation
// when the subject says so (s.once): the chain checks name the issuer for
// every profile.
func (s *Subject) leafIssuer() string {
	leaf := s.Leaf()
	if o := s.once; o != nil {
		if o.issuerOf != leaf {
			o.issuer, o.issuerOf = leaf.Issuer.String(), leaf
		}
		return o.issuer
	}
	return leaf.Issuer.String()
}
