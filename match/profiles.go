package match

import (
	"fmt"
	"sort"
	"strings"
)

// cnRule says when a client looks at the Subject common name.
type cnRule int

const (
	cnNever        cnRule = iota // the CN is ignored
	cnWhenNoDNSSAN               // the CN is used only when the certificate has no dNSName SAN
	cnWhenNoSAN                  // the CN is used only when the certificate has neither a dNSName nor an iPAddress SAN
)

// KeyUsageRule says what a client requires of the leaf's keyUsage extension
// (when the extension is present; without it any use is allowed).
type KeyUsageRule int

// The keyUsage rules of the profiles table.
const (
	KeyUsageIgnored   KeyUsageRule = iota // key usage is not looked at (Go crypto/tls)
	KeyUsageServer                        // one of digitalSignature, keyEncipherment, keyAgreement (OpenSSL check_purpose_ssl_server)
	KeyUsageSignature                     // digitalSignature, because every handshake the client offers is signed (BoringSSL, Chromium)
)

// partialRule says which partial-label wildcards (w*.contoso.com) a client accepts.
type partialRule int

const (
	partialNone         partialRule = iota // only a whole left-most "*" label
	partialPrefix                          // also "w*" (prefix then star)
	partialPrefixSuffix                    // also "*w" and "w*" (but never "w*w")
)

// suffixRule says which wildcards over short or public domains a client refuses.
type suffixRule int

const (
	suffixAny       suffixRule = iota // no check: "*.com" is accepted
	suffixTwoLabels                   // the wildcard must be followed by at least two labels ("*.com" refused)
	suffixRegistry                    // refused when the rest is an ICANN public suffix or an unknown TLD
)

// dotRule says what a client does with a trailing dot.
type dotRule int

const (
	dotStrip   dotRule = iota // removed before comparing
	dotLiteral                // kept: "mail.contoso.com." differs from "mail.contoso.com"
)

// Profile is the way one family of clients decides whether a certificate
// covers the host name it asked for. Profiles are data: each is one row in
// the profiles table built from the small options below.
type Profile struct {
	Name    string   // stable identifier, e.g. "windows"
	Aliases []string // other names accepted on the command line
	Title   string   // what it models, for people
	Clients string   // which programs behave like this
	Word    string   // the clients in a sentence: "Chromium", "a strict RFC 9525 client"
	Source  string   // where the rules come from
	Hedged  string   // what is modelled without a primary source, if anything

	cn          cnRule
	partial     partialRule
	partialZero bool // a partial wildcard may match zero characters (w*.x matches w.x)
	suffix      suffixRule
	numericNoWC bool // no wildcard for purely numeric host names
	hostDot     dotRule
	sanDot      dotRule
	idn         bool // convert the host to A-labels (IDNA 2008 Lookup) before comparing
	// invalidExact compares invalid names (not LDH, empty labels) exactly
	// instead of refusing them, as crypto/x509 does.
	invalidExact bool

	// ipCN compares an IP address asked for with the subject CN, as a
	// string, when the CN is used at all (curl).
	ipCN bool

	// Extra checks that only some clients make.
	appleRules  bool // iOS 13 / macOS 10.15 rules: EKU, 825 days, key size, SHA-2
	needsSAN    bool // fails fast when there is no SAN at all (Chromium)
	ekuRequired bool // a missing EKU extension is an error (Apple, NotBefore >= 2019-07-01)
	// ekuAnyRefused: anyExtendedKeyUsage does not stand for serverAuth; a
	// certificate whose EKU lists it without serverAuth is refused.
	ekuAnyRefused bool
	ku            KeyUsageRule
	// minRSA is the smallest RSA key (bits) accepted anywhere in the chain;
	// 0 means no rule here (Apple's is apple.weak-key).
	minRSA int
	// aia: the client fetches a missing intermediate from the leaf's
	// Authority Information Access caIssuers URL.
	aia bool
	// cites says where each rule of the row comes from: rule name (see
	// ruleNames) -> the client's source file and function, or its
	// documentation.
	cites map[string]string
}

// ruleNames are the rules every profile row cites a source for.
var ruleNames = []string{"cn", "wildcard", "suffix", "dot", "idn", "ip", "eku", "ku", "rsa", "aia"}

// Rules returns, for each rule of the profile, "rule: source", in
// ruleNames order: where the row's behaviour comes from.
func (p *Profile) Rules() []string {
	out := make([]string, 0, len(ruleNames))
	for _, r := range ruleNames {
		out = append(out, r+": "+p.cites[r])
	}
	return out
}

// RuleNames returns the rules every profile row cites a source for, in
// the order Rules uses.
func RuleNames() []string { return append([]string(nil), ruleNames...) }

// Cite returns where the profile's behaviour for rule (one of RuleNames)
// comes from: the client's source file and function, or its documentation;
// "" when the row cites nothing for it.
func (p *Profile) Cite(rule string) string { return p.cites[rule] }

// AppleRules reports whether the client applies Apple's iOS 13 / macOS
// 10.15 certificate rules (EKU, 825 days, key size, SHA-2).
func (p *Profile) AppleRules() bool { return p.appleRules }

// EKURequired reports whether a leaf without an extendedKeyUsage extension
// is an error for the client (Apple, for certificates issued from 2019-07-01).
func (p *Profile) EKURequired() bool { return p.ekuRequired }

// EKUAnyRefused reports whether anyExtendedKeyUsage does not stand for
// serverAuth for the client: an EKU that lists it without serverAuth is refused.
func (p *Profile) EKUAnyRefused() bool { return p.ekuAnyRefused }

// KeyUsage returns what the client requires of the leaf's keyUsage extension.
func (p *Profile) KeyUsage() KeyUsageRule { return p.ku }

// MinRSA returns the smallest RSA key (bits) the client accepts anywhere in
// the chain; 0 means the table models no such rule for it.
func (p *Profile) MinRSA() int { return p.minRSA }

// FetchesAIA reports whether the client fetches a missing intermediate from
// the leaf's Authority Information Access caIssuers URL.
func (p *Profile) FetchesAIA() bool { return p.aia }

// profiles is the table of client profiles. One row per client family;
// a new client is a new row. cites holds, per rule, the client's source
// file and function or its documentation; TestProfileRules checks each
// rule of each row against a certificate made for it.
var profiles = []*Profile{
	{ // KB 258858 (wildcards), RFC 2818 §3.1 (CN fallback); CryptoAPI/SChannel.
		Name: "windows", Aliases: []string{"outlook", "wininet", "winhttp", "schannel"},
		Word:    "Windows",
		Title:   "Windows CryptoAPI / SChannel",
		Clients: "Outlook, WinINet/WinHTTP, Windows Mail and EAS, .NET SslStream on Windows",
		Source:  "KB 258858 (accepted wildcards); RFC 2818 §3.1; KB 2661254 (RSA < 1024 blocked); CryptoAPI AIA retrieval",
		Hedged:  "CN use when DNS SANs exist, trailing dots, partial wildcards matching zero characters and key usage are undocumented",
		cn:      cnWhenNoDNSSAN, partial: partialPrefix, suffix: suffixTwoLabels,
		hostDot: dotStrip, sanDot: dotStrip, idn: true,
		ku: KeyUsageIgnored, minRSA: 1024, aia: true,
		cites: map[string]string{
			"cn":       "RFC 2818 §3.1 (the CN only without a dNSName SAN), which CryptoAPI's SSL policy follows",
			"wildcard": "KB 258858: a wildcard in the left-most label, also as a prefix (w*.contoso.com)",
			"suffix":   "KB 258858: *.com is not accepted",
			"dot":      "hedged: undocumented; modelled as ignored",
			"idn":      "CertVerifyCertificateChainPolicy CERT_CHAIN_POLICY_SSL compares A-labels (hedged)",
			"ip":       "RFC 6125 Appendix B.2 (hedged: an IP address against iPAddress SANs)",
			"eku":      "CERT_CHAIN_PARA RequestedUsage szOID_PKIX_KP_SERVER_AUTH: every certificate's EKU must allow serverAuth (anyExtendedKeyUsage counts, as in RFC 5280 §4.2.1.12; hedged)",
			"ku":       "hedged: SChannel's key-usage checks are undocumented; not modelled",
			"rsa":      "KB 2661254: RSA keys under 1024 bits are blocked",
			"aia":      "Microsoft: CryptoAPI retrieves missing issuers from the AIA caIssuers URL (CertGetCertificateChain, \"Certificate chain building\")",
		},
	},
	{ // support.apple.com/103769 (iOS 13, macOS 10.15): SAN only, serverAuth EKU, <= 825 days.
		Name: "apple", Aliases: []string{"ios", "macos", "safari"},
		Word:    "Apple",
		Title:   "Apple iOS 13+ / macOS 10.15+",
		Clients: "iOS and macOS Mail (EAS), Safari, Outlook for iOS and Mac",
		Source:  "support.apple.com/103769; RFC 6125 §6.4.3",
		Hedged:  "wildcard and public-suffix rules are not documented by Apple; modelled like Chromium; key usage is not modelled",
		cn:      cnNever, partial: partialNone, suffix: suffixRegistry, numericNoWC: true,
		hostDot: dotStrip, sanDot: dotStrip, idn: true,
		appleRules: true, ekuRequired: true, ekuAnyRefused: true, ku: KeyUsageIgnored, aia: true,
		cites: map[string]string{
			"cn":       "support.apple.com/103769: DNS names in the CommonName are no longer trusted",
			"wildcard": "hedged: undocumented; modelled like Chromium (whole left-most label only)",
			"suffix":   "hedged: undocumented; modelled like Chromium",
			"dot":      "hedged: undocumented; modelled like Chromium",
			"idn":      "hedged: modelled like Chromium (A-labels)",
			"ip":       "hedged: RFC 6125 Appendix B.2",
			"eku":      "support.apple.com/103769: the EKU must contain id-kp-serverAuth (NotBefore >= 2019-07-01)",
			"ku":       "hedged: undocumented; not modelled",
			"rsa":      "support.apple.com/103769: RSA keys of 2048 bits or more (check apple.weak-key)",
			"aia":      "Apple Platform Security, certificate trust evaluation: missing intermediates are fetched from the AIA URL (hedged)",
		},
	},
	{ // chromium net/cert/x509_certificate.cc VerifyHostname; CN ignored since Chrome 58.
		Name: "chromium", Aliases: []string{"chrome", "edge", "android", "webview"},
		Word:    "Chromium",
		Title:   "Chromium / BoringSSL",
		Clients: "Chrome, Edge, Android Chrome and WebView, most Android mail apps",
		Source:  "chromium x509_certificate.cc VerifyHostname; chromestatus 4981025180483584; BoringSSL key-usage check; cert_issuer_source_aia.cc",
		Hedged:  "Android apps with their own verifier (OkHttp) are assumed to match Chromium",
		cn:      cnNever, partial: partialNone, suffix: suffixRegistry, numericNoWC: true,
		hostDot: dotStrip, sanDot: dotStrip, idn: true, needsSAN: true,
		ku: KeyUsageSignature, minRSA: 1024, aia: true,
		cites: map[string]string{
			"cn":       "chromium net/cert/x509_certificate.cc X509Certificate::VerifyHostname; chromestatus 4981025180483584 (CN ignored since Chrome 58)",
			"wildcard": "chromium net/cert/x509_certificate.cc VerifyHostname: only a whole left-most \"*\" label",
			"suffix":   "chromium net/cert/x509_certificate.cc VerifyHostname: no wildcard over a registry-controlled domain or unknown TLD, none for numeric hosts",
			"dot":      "chromium net/cert/x509_certificate.cc VerifyHostname: a trailing dot is removed from host and SAN",
			"idn":      "chromium url canonicalisation: hosts are compared as A-labels",
			"ip":       "chromium net/cert/x509_certificate.cc VerifyHostname: an IP host matches iPAddress SANs only",
			"eku":      "BoringSSL pki/verify_certificate_chain.cc VerifyExtendedKeyUsage: anyExtendedKeyUsage is accepted for serverAuth",
			"ku":       "BoringSSL ssl/ssl_cert.cc ssl_cert_check_key_usage (ERR_SSL_KEY_USAGE_INCOMPATIBLE): a signed handshake (ECDHE, TLS 1.3) needs digitalSignature",
			"rsa":      "chromium net/cert/cert_verify_proc.cc ExaminePublicKeys: RSA under 1024 bits is a weak key",
			"aia":      "chromium net/cert/internal/cert_issuer_source_aia.cc CertIssuerSourceAia: fetches a missing issuer from caIssuers",
		},
	},
	{ // OpenSSL X509_check_host default flags (crypto/x509/v3_utl.c valid_star, wildcard_match).
		Name: "openssl", Aliases: []string{"libssl", "s_client"},
		Word:    "OpenSSL",
		Title:   "OpenSSL X509_check_host (default flags)",
		Clients: "openssl s_client, PHP, Ruby and most Linux software built on OpenSSL with its default host flags",
		Source:  "OpenSSL doc/man3/X509_check_host.pod; crypto/x509/v3_utl.c; crypto/x509/v3_purp.c; Debian SECLEVEL=2",
		cn:      cnWhenNoDNSSAN, partial: partialPrefixSuffix, partialZero: true, suffix: suffixTwoLabels,
		hostDot: dotLiteral, sanDot: dotLiteral, idn: true,
		ekuAnyRefused: true, ku: KeyUsageServer, minRSA: 2048,
		cites: opensslCites(map[string]string{
			"wildcard": "OpenSSL crypto/x509/v3_utl.c valid_star, wildcard_match: partial wildcards (w*, *w) allowed by default, one \"*\" in the left-most label, none in xn-- labels",
		}),
	},
	{ // curl's own host check (lib/vtls/hostcheck.c, lib/vtls/openssl.c verifyhost) over OpenSSL's chain verification.
		Name: "curl", Aliases: []string{"libcurl"},
		Word:    "curl",
		Title:   "curl (libcurl with OpenSSL)",
		Clients: "curl, libcurl, git over https, PHP curl and other programs built on libcurl",
		Source:  "curl lib/vtls/hostcheck.c hostmatch; lib/vtls/openssl.c verifyhost; OpenSSL's chain checks",
		cn:      cnWhenNoSAN, partial: partialNone, suffix: suffixTwoLabels,
		hostDot: dotStrip, sanDot: dotStrip, idn: true, ipCN: true,
		ekuAnyRefused: true, ku: KeyUsageServer, minRSA: 2048,
		cites: opensslCites(map[string]string{
			"cn":       "curl lib/vtls/openssl.c verifyhost: the CN is read only when the certificate has neither a dNSName nor an iPAddress SAN",
			"wildcard": "curl lib/vtls/hostcheck.c hostmatch: only \"*.\" as the whole left-most label; w*.x and *w.x are compared literally",
			"suffix":   "curl lib/vtls/hostcheck.c hostmatch: at least two dots in the pattern (*.test is compared literally)",
			"dot":      "curl lib/vtls/hostcheck.c hostmatch: trailing dots of host and pattern are ignored",
			"idn":      "curl lib/idn.c: the URL host is converted to A-labels (libidn2) before the check",
			"ip":       "curl lib/vtls/openssl.c verifyhost: an IP host matches iPAddress SANs, or the CN as a string when there is no SAN",
		}),
	},
	{ // CPython Modules/_ssl.c: OpenSSL's X509_check_host with X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS.
		Name: "python", Aliases: []string{"cpython", "requests", "urllib3"},
		Word:    "Python",
		Title:   "Python ssl (OpenSSL, no partial wildcards)",
		Clients: "Python's ssl, urllib, requests and urllib3 with the default context",
		Source:  "CPython Modules/_ssl.c (hostflags); OpenSSL crypto/x509/v3_utl.c, v3_purp.c",
		cn:      cnWhenNoDNSSAN, partial: partialNone, suffix: suffixTwoLabels,
		hostDot: dotLiteral, sanDot: dotLiteral, idn: true,
		ekuAnyRefused: true, ku: KeyUsageServer, minRSA: 2048,
		cites: opensslCites(map[string]string{
			"cn":       "CPython Modules/_ssl.c: hostname_checks_common_name is on by default, so OpenSSL's rule holds (the CN only without a dNSName SAN)",
			"wildcard": "CPython Modules/_ssl.c _ssl__SSLContext_impl: hostflags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS",
			"idn":      "CPython Lib/ssl.py: server_hostname is encoded to A-labels with the idna codec",
			"ip":       "CPython Modules/_ssl.c _ssl_configure_hostname: an IP address goes to X509_VERIFY_PARAM_set1_ip (iPAddress SANs only)",
		}),
	},
	{ // Go crypto/x509 (*Certificate).VerifyHostname, Go 1.15+.
		Name: "go", Aliases: []string{"golang"},
		Word:    "Go",
		Title:   "Go crypto/x509 VerifyHostname",
		Clients: "programs written in Go",
		Source:  "Go crypto/x509 verify.go VerifyHostname; crypto/rsa (1024-bit minimum)",
		cn:      cnNever, partial: partialNone, suffix: suffixAny,
		hostDot: dotStrip, sanDot: dotLiteral, idn: false, invalidExact: true,
		ku: KeyUsageIgnored, minRSA: 1024,
		cites: map[string]string{
			"cn":       "Go crypto/x509 verify.go VerifyHostname: the CN is ignored since Go 1.15",
			"wildcard": "Go crypto/x509 verify.go matchHostnames: only a whole left-most \"*\" label",
			"suffix":   "Go crypto/x509 verify.go matchHostnames: no public-suffix rule (*.com matches)",
			"dot":      "Go crypto/x509 verify.go VerifyHostname: the host's trailing dot is removed, the SAN's is not",
			"idn":      "Go crypto/x509 verify.go VerifyHostname: no IDNA conversion, the caller converts",
			"ip":       "Go crypto/x509 verify.go VerifyHostname: an IP host matches IPAddresses only",
			"eku":      "Go crypto/x509 verify.go checkChainForKeyUsage: ExtKeyUsageAny is accepted for serverAuth",
			"ku":       "Go crypto/tls handshake_client.go: the leaf's keyUsage is not checked",
			"rsa":      "Go crypto/rsa checkKeySize (Go 1.24+, GODEBUG rsa1024min): RSA under 1024 bits is refused",
			"aia":      "Go crypto/x509 verify.go: chains are built from the sent certificates and the roots only; no AIA fetching",
		},
	},
	{ // RFC 9525 §6.3-6.4: no CN-ID, wildcard only as the whole left-most label.
		Name: "rfc9525", Aliases: []string{"strict", "rfc"},
		Word:    "a strict RFC 9525 client",
		Title:   "RFC 9525 (strict reference)",
		Clients: "the standard; no single client",
		Source:  "RFC 9525 §6.3, §6.4; RFC 5280 §4.2.1.6",
		cn:      cnNever, partial: partialNone, suffix: suffixTwoLabels,
		hostDot: dotStrip, sanDot: dotLiteral, idn: true, needsSAN: true,
		ku: KeyUsageSignature,
		cites: map[string]string{
			"cn":       "RFC 9525 §6.3: no CN-ID",
			"wildcard": "RFC 9525 §6.3: the wildcard is the whole left-most label",
			"suffix":   "CA/B Forum BR §3.2.2.6: no wildcard directly over a public suffix",
			"dot":      "RFC 5280 §4.2.1.6: a dNSName has no trailing dot",
			"idn":      "RFC 9525 §6.3: A-labels are compared",
			"ip":       "RFC 9525 §6.2: iPAddress SANs only",
			"eku":      "RFC 5280 §4.2.1.12: anyExtendedKeyUsage allows any purpose",
			"ku":       "RFC 8446 §4.4.2.2: digitalSignature must be set when keyUsage is present",
			"rsa":      "no size rule in the RFCs",
			"aia":      "RFC 5280 §4.2.2.1: fetching is allowed, not required; not modelled",
		},
	},
}

// opensslCites is the citation set shared by clients that use OpenSSL's
// chain verification (libssl with X509_verify_cert), with over replacing
// the host-check rules a client does itself.
func opensslCites(over map[string]string) map[string]string {
	m := map[string]string{
		"cn":     "OpenSSL doc/man3/X509_check_host.pod; crypto/x509/v3_utl.c do_x509_check: the CN only when there is no dNSName SAN",
		"suffix": "OpenSSL crypto/x509/v3_utl.c valid_star: at least two labels after the wildcard",
		"dot":    "OpenSSL crypto/x509/v3_utl.c equal_nocase: names are compared as given, a trailing dot included",
		"idn":    "OpenSSL doc/man3/X509_check_host.pod: the caller passes A-labels",
		"ip":     "OpenSSL crypto/x509/v3_utl.c X509_check_ip: iPAddress SANs only",
		"eku":    "OpenSSL crypto/x509/v3_purp.c check_purpose_ssl_server, xku_reject: an EKU without serverAuth is refused; anyExtendedKeyUsage does not count",
		"ku":     "OpenSSL crypto/x509/v3_purp.c check_purpose_ssl_server, ku_reject: keyUsage needs digitalSignature, keyEncipherment or keyAgreement",
		"rsa":    "OpenSSL crypto/x509/x509_vfy.c check_key_level at security level 2: RSA under 2048 bits is refused (Debian builds OpenSSL with security level 2 as its default)",
		"aia":    "OpenSSL crypto/x509/x509_vfy.c build_chain: issuers come from the peer's chain and the trust store only; no AIA fetching",
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

// Profiles returns every client profile, in the table's order.
func Profiles() []*Profile { return append([]*Profile(nil), profiles...) }

// ProfileNames returns the profiles' names, in the table's order.
func ProfileNames() []string {
	out := make([]string, len(profiles))
	for i, p := range profiles {
		out[i] = p.Name
	}
	return out
}

// LookupProfile finds a profile by name or alias, ignoring case.
func LookupProfile(name string) (*Profile, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, p := range profiles {
		if p.Name == n {
			return p, nil
		}
		for _, a := range p.Aliases {
			if a == n {
				return p, nil
			}
		}
	}
	var all []string
	for _, p := range profiles {
		all = append(all, p.Name)
		all = append(all, p.Aliases...)
	}
	sort.Strings(all)
	return nil, fmt.Errorf("unknown client profile %q (known: %s)", name, strings.Join(all, ", "))
}

// SelectProfiles resolves names to profiles, dropping duplicates; no names
// means every profile.
func SelectProfiles(names []string) ([]*Profile, error) {
	if len(names) == 0 {
		return Profiles(), nil
	}
	var out []*Profile
	seen := map[*Profile]bool{}
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			p, err := LookupProfile(part)
			if err != nil {
				return nil, err
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return Profiles(), nil
	}
	return out, nil
}
