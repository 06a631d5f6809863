package analysis

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

	// Extra checks that only some clients make.
	appleRules  bool // iOS 13 / macOS 10.15 rules: EKU, 825 days, key size, SHA-2
	needsSAN    bool // fails fast when there is no SAN at all (Chromium)
	ekuRequired bool // a missing EKU extension is an error (Apple, NotBefore >= 2019-07-01)
}

// profiles is the table of client profiles. One row per client family;
// a new client is a new row.
var profiles = []*Profile{
	{ // KB 258858 (wildcards), RFC 2818 §3.1 (CN fallback); CryptoAPI/SChannel.
		Name: "windows", Aliases: []string{"outlook", "wininet", "winhttp", "schannel"},
		Title:   "Windows CryptoAPI / SChannel",
		Clients: "Outlook, WinINet/WinHTTP, Windows Mail and EAS, .NET SslStream on Windows",
		Source:  "KB 258858 (accepted wildcards); RFC 2818 §3.1",
		Hedged:  "CN use when DNS SANs exist, trailing dots and partial wildcards matching zero characters are undocumented",
		cn:      cnWhenNoDNSSAN, partial: partialPrefix, suffix: suffixTwoLabels,
		hostDot: dotStrip, sanDot: dotStrip, idn: true,
	},
	{ // support.apple.com/103769 (iOS 13, macOS 10.15): SAN only, serverAuth EKU, <= 825 days.
		Name: "apple", Aliases: []string{"ios", "macos", "safari"},
		Title:   "Apple iOS 13+ / macOS 10.15+",
		Clients: "iOS and macOS Mail (EAS), Safari, Outlook for iOS and Mac",
		Source:  "support.apple.com/103769; RFC 6125 §6.4.3",
		Hedged:  "wildcard and public-suffix rules are not documented by Apple; modelled like Chromium",
		cn:      cnNever, partial: partialNone, suffix: suffixRegistry, numericNoWC: true,
		hostDot: dotStrip, sanDot: dotStrip, idn: true,
		appleRules: true, ekuRequired: true,
	},
	{ // chromium net/cert/x509_certificate.cc VerifyHostname; CN ignored since Chrome 58.
		Name: "chromium", Aliases: []string{"chrome", "edge", "android", "webview"},
		Title:   "Chromium / BoringSSL",
		Clients: "Chrome, Edge, Android Chrome and WebView, most Android mail apps",
		Source:  "chromium x509_certificate.cc VerifyHostname; chromestatus 4981025180483584",
		Hedged:  "Android apps with their own verifier (OkHttp) are assumed to match Chromium",
		cn:      cnNever, partial: partialNone, suffix: suffixRegistry, numericNoWC: true,
		hostDot: dotStrip, sanDot: dotStrip, idn: true, needsSAN: true,
	},
	{ // OpenSSL X509_check_host default flags (crypto/x509/v3_utl.c valid_star, wildcard_match).
		Name: "openssl", Aliases: []string{"curl", "python", "libssl"},
		Title:   "OpenSSL X509_check_host (default flags)",
		Clients: "curl, Python, PHP, Ruby and most Linux software built on OpenSSL",
		Source:  "OpenSSL doc/man3/X509_check_host.pod; crypto/x509/v3_utl.c",
		cn:      cnWhenNoDNSSAN, partial: partialPrefixSuffix, partialZero: true, suffix: suffixTwoLabels,
		hostDot: dotLiteral, sanDot: dotLiteral, idn: true,
	},
	{ // Go crypto/x509 (*Certificate).VerifyHostname, Go 1.15+.
		Name: "go", Aliases: []string{"golang"},
		Title:   "Go crypto/x509 VerifyHostname",
		Clients: "programs written in Go",
		Source:  "Go crypto/x509 verify.go VerifyHostname",
		cn:      cnNever, partial: partialNone, suffix: suffixAny,
		hostDot: dotStrip, sanDot: dotLiteral, idn: false, invalidExact: true,
	},
	{ // RFC 9525 §6.3-6.4: no CN-ID, wildcard only as the whole left-most label.
		Name: "rfc9525", Aliases: []string{"strict", "rfc"},
		Title:   "RFC 9525 (strict reference)",
		Clients: "the standard; no single client",
		Source:  "RFC 9525 §6.3, §6.4; RFC 5280 §4.2.1.6",
		cn:      cnNever, partial: partialNone, suffix: suffixTwoLabels,
		hostDot: dotStrip, sanDot: dotLiteral, idn: true, needsSAN: true,
	},
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
