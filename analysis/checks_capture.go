package analysis

import (
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/record"
)

// Checks of handshake facts that captures show: old protocol versions,
// warning alerts, Encrypted Client Hello, client certificates and
// certificate lists too long for common clients.

// Certificate list sizes clients refuse: OpenSSL and BoringSSL above
// 100 KiB by default (SSL_CTX_set_max_cert_list(3)), Go above 256 KiB
// (crypto/tls maxHandshakeCertificateMsg).
const (
	opensslMaxCertList  = 100 << 10
	goMaxCertificateMsg = 256 << 10
)

// certificateMsgLen is the length of the TLS 1.0-1.2 Certificate message
// body that carries chain (RFC 5246 §7.4.2: a 3-byte list length, and a
// 3-byte length before each certificate).
func certificateMsgLen(chain [][]byte) int {
	n := 3
	for _, c := range chain {
		n += 3 + len(c)
	}
	return n
}

func init() {
	mustRegister(
		&Check{
			ID: "tls.old-version", Title: "The connection used SSL 2.0 or SSL 3.0", Severity: SeverityError,
			Citation: "RFC 6176 (SSL 2.0 prohibited); RFC 7568 (SSL 3.0 deprecated)",
			Remedy:   "Enable TLS 1.2 (and 1.3) on the server and the client; every current client refuses SSL 2.0 and 3.0 before it looks at the certificate's name.",
			Run: func(s *Subject) *Finding {
				switch s.Obs.TLSVersion {
				case "SSL 2.0", "SSL 3.0":
					return &Finding{Summary: "the server chose " + s.Obs.TLSVersion + ", which every current client (Windows since 2015, browsers, OpenSSL 1.1+, Go, Apple) refuses"}
				}
				if s.Obs.HelloFormat == record.HelloSSL2 && s.Obs.TLSVersion == "" {
					return &Finding{Summary: "the client sent an SSL 2.0-format ClientHello (no extensions, no SNI) and the capture holds no answer from the server"}
				}
				return nil
			},
		},
		&Check{
			ID: "tls.sslv2-hello", Title: "The client sent an SSL 2.0-format ClientHello", Severity: SeverityInfo,
			Citation: "RFC 5246 §E.2 (version 2 compatible ClientHello)",
			Remedy:   "Update the client (Java 6, Windows XP-era and other old stacks send it); such a hello carries no extensions, so no SNI: the server presents its default certificate.",
			Run: func(s *Subject) *Finding {
				if s.Obs.HelloFormat != record.HelloSSL2 || s.Obs.TLSVersion == "" || s.Obs.TLSVersion == "SSL 2.0" {
					return nil
				}
				return &Finding{Summary: "the client's ClientHello came in the SSL 2.0 format, which has no extensions and so no SNI; the server answered with " + s.Obs.TLSVersion + " and its default certificate"}
			},
		},
		&Check{
			ID: "tls.server-warning", Title: "The server sent a warning alert before its certificate", Severity: SeverityWarning,
			Citation: "RFC 6066 §3 (unrecognized_name); RFC 5246 §7.2",
			Remedy:   "Give the server a certificate (an SNI binding) for the name the client asked for, or point the client at a name the default certificate covers.",
			Run: func(s *Subject) *Finding {
				if len(s.Obs.ServerWarnings) == 0 {
					return nil
				}
				f := &Finding{Summary: "the server sent the warning alert \"" + strings.Join(s.Obs.ServerWarnings, "\", \"") + "\" and went on with the handshake"}
				for _, w := range s.Obs.ServerWarnings {
					if w == "unrecognized name" {
						f.Summary = fmt.Sprintf("the server sent the warning alert \"unrecognized name\": it has no certificate for %s, so the certificate it presented is its default one", nameOr(s.Obs))
					}
				}
				return f
			},
		},
		&Check{
			ID: "tls.ech", Title: "The ClientHello carries Encrypted Client Hello", Severity: SeverityInfo,
			Citation: "draft-ietf-tls-esni-25 §6.1.6, §6.1.7 (a client whose ECH the server did not accept checks the certificate against the public name, the outer SNI), §6.2 (GREASE); Chromium net_error_list.h ECH_FALLBACK_CERTIFICATE_INVALID (-184)",
			Remedy:   "Chrome's GREASE ECH: nothing to do. Real ECH that the server did not accept (Chrome: ERR_ECH_FALLBACK_CERTIFICATE_INVALID): the client got an ECH configuration from DNS (an HTTPS record with ech=) for a name that a server without ECH answers, most often an internal server behind split-horizon DNS; give the internal clients no HTTPS record (or one without ech) for that name. To see the name a client wants when the server accepted ECH, run it through `certsleuth proxy`.",
			Run: func(s *Subject) *Finding {
				o := s.Obs
				switch {
				case !o.ECH:
					return nil
				case o.ECHRequired:
					return &Finding{Summary: fmt.Sprintf("the server did not accept the client's Encrypted Client Hello: the client checked the certificate against the public name %q (the SNI), then ended the connection with the alert ech_required to retry with the server's new ECH configuration (draft-ietf-tls-esni-25 §6.1.6); this connection carried no request", o.SNI)}
				case o.Visibility == record.VisVisible:
					return &Finding{Summary: fmt.Sprintf("the ClientHello carries encrypted_client_hello; the certificate is judged against the SNI %q, which the client checked either way: Chrome's GREASE placeholder (sent without an ECH configuration) puts the real name there, and a client that really used ECH, which this server did not accept, checks the certificate against the SNI, its ECH configuration's public name (§6.1.7; a mismatch then is Chrome's ERR_ECH_FALLBACK_CERTIFICATE_INVALID, not ERR_CERT_COMMON_NAME_INVALID)", o.SNI)}
				}
				return &Finding{Summary: fmt.Sprintf("the ClientHello carries encrypted_client_hello: the SNI %q is the real name if this is Chrome's GREASE placeholder, or the public name of the server's ECH configuration if the client used ECH (the name it wants is then encrypted); the certificate is not in clear, so nothing is judged against that SNI", o.SNI)}
			},
		},
		&Check{
			ID: "tls.client-cert", Title: "The server asked for a client certificate", Severity: SeverityInfo,
			Citation: "RFC 5246 §7.4.4; RFC 8446 §4.3.2 (CertificateRequest)",
			Remedy:   "Certificate authentication (Exchange, ADFS, IIS): a client without a suitable certificate is refused after the server's certificate was accepted; that is not a name warning.",
			Run: func(s *Subject) *Finding {
				if !s.Obs.ClientCertRequested && s.Obs.ClientCert == "" {
					return nil
				}
				switch s.Obs.ClientCert {
				case "":
					return &Finding{Summary: "the server asked the client for a certificate (CertificateRequest); the capture does not show the client's answer"}
				case record.ClientCertNone:
					return &Finding{Summary: "the server asked the client for a certificate and the client sent none"}
				}
				return &Finding{Summary: "the server asked the client for a certificate and the client sent " + s.Obs.ClientCert}
			},
		},
		&Check{
			ID: "cert.list-too-long", Title: "The certificate list is longer than this client accepts", Severity: SeverityError,
			Citation: "OpenSSL SSL_CTX_set_max_cert_list(3) (100 KiB default; curl 7.88/OpenSSL 3.0 refused 116 KiB in capture/testdata/real/big-certificate.pcap); Go crypto/tls maxHandshakeCertificateMsg (256 KiB)", PerProfile: true,
			Remedy: "Send only the leaf and its intermediates: remove the extra certificates (often a whole CA bundle) from the server's chain.",
			Run: func(s *Subject) *Finding {
				n := certificateMsgLen(s.Obs.Chain)
				if len(s.Obs.Chain) == 0 || n <= opensslMaxCertList || s.Profile.Name == "rfc9525" {
					return nil
				}
				limit := 0 // this client's limit, where one is known
				switch s.Profile.Name {
				case "openssl", "curl", "python":
					limit = opensslMaxCertList
				case "go":
					limit = goMaxCertificateMsg
				}
				if limit > 0 && n > limit {
					return &Finding{Summary: fmt.Sprintf("the server's certificate list is %d bytes (%d certificates): %s refuses more than %d KiB, before it judges the name", n, len(s.Obs.Chain), firstNonEmpty(s.Profile.Word, s.Profile.Name), limit>>10)}
				}
				if limit > 0 {
					return nil // within this client's limit
				}
				// Not measured for this client: a warning, never a verdict.
				return &Finding{Severity: SeverityWarning, Summary: fmt.Sprintf("the server's certificate list is %d bytes (%d certificates): OpenSSL-based clients (curl, Python) refuse more than 100 KiB; whether %s accepts it was not measured", n, len(s.Obs.Chain), firstNonEmpty(s.Profile.Word, s.Profile.Name))}
			},
		},
	)
}
