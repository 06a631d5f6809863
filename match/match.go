package match

import (
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Kind is the machine-readable result of matching one name against one
// certificate. Kinds are stable strings: new ones are added, none renamed.
type Kind string

// Kinds that mean the certificate covers the name.
const (
	KindExact           Kind = "exact"            // a dNSName SAN equals the name
	KindWildcard        Kind = "wildcard"         // a "*.domain" SAN covers the name
	KindPartialWildcard Kind = "partial-wildcard" // a "w*.domain" SAN covers the name (Windows, OpenSSL)
	KindCNFallback      Kind = "cn-fallback"      // no dNSName SAN; the subject CN matched (Windows, OpenSSL)
	KindIP              Kind = "ip"               // an iPAddress SAN equals the IP address asked for
)

// Kinds that mean it does not.
const (
	KindMismatch           Kind = "mismatch"                  // no name on the certificate is close
	KindCNOnly             Kind = "cn-only"                   // the name is only in the subject CN, which this client ignores
	KindWildcardTooDeep    Kind = "wildcard-too-deep"         // "*.contoso.com" asked for "a.b.contoso.com"
	KindWildcardBare       Kind = "wildcard-bare-domain"      // "*.contoso.com" asked for "contoso.com"
	KindPartialRejected    Kind = "partial-wildcard-rejected" // "w*.contoso.com": this client refuses partial wildcards
	KindWildcardSuffix     Kind = "wildcard-public-suffix"    // "*.co.uk", "*.com", "*.local": too broad for this client
	KindWildcardNumeric    Kind = "wildcard-numeric-host"     // wildcards never match numeric host names (Chromium)
	KindIPNeedsIPSAN       Kind = "ip-needs-ip-san"           // an IP address appears only as a DNS name or CN
	KindTrailingDot        Kind = "trailing-dot"              // only a trailing dot differs, and this client compares literally
	KindNoSAN              Kind = "no-san"                    // the certificate has no SAN and no usable CN
	KindEmptyName          Kind = "empty-name"                // the client asked for no name
	KindInvalidName        Kind = "invalid-name"              // the name is not a valid host name
	KindInvalidWildcardSAN Kind = "invalid-wildcard"          // a SAN has a wildcard this client never accepts ("*", "a.*.com")
)

// Matched reports whether the kind means the certificate covers the name.
func (k Kind) Matched() bool {
	switch k {
	case KindExact, KindWildcard, KindPartialWildcard, KindCNFallback, KindIP:
		return true
	}
	return false
}

// failure precedence: when several certificate names come close, the
// verdict reports the most telling reason.
var failRank = map[Kind]int{
	KindMismatch:           0,
	KindNoSAN:              1,
	KindInvalidWildcardSAN: 2,
	KindWildcardBare:       3,
	KindWildcardTooDeep:    4,
	KindTrailingDot:        5,
	KindWildcardNumeric:    6,
	KindWildcardSuffix:     7,
	KindPartialRejected:    8,
	KindIPNeedsIPSAN:       9,
	KindCNOnly:             10,
}

// Verdict is the answer to "does this certificate cover this name for this
// client?", with the reason.
type Verdict struct {
	Profile string `json:"profile"`
	Name    string `json:"name"`           // the name as asked
	Host    string `json:"host,omitempty"` // the reference identifier compared (lower case, A-labels)
	Match   bool   `json:"match"`
	Kind    Kind   `json:"kind"`
	// By is the certificate name that matched, or that came closest.
	By     string `json:"by,omitempty"`
	Reason string `json:"reason"`

	// The names the certificate offered.
	DNSNames []string `json:"dns_names"`
	IPs      []string `json:"ip_addresses,omitempty"`
	CN       string   `json:"subject_cn,omitempty"`
}

// CertNames renders the names a certificate is valid for, for messages.
func (v *Verdict) CertNames() string {
	if len(v.DNSNames)+len(v.IPs) == 0 {
		if v.CN != "" {
			return "CN " + v.CN + " (no SAN)"
		}
		return "no names"
	}
	return joinNames(v.DNSNames, v.IPs)
}

// joinNames is strings.Join of a and b, one after the other, with ", ",
// made in one allocation (a verdict's reason names every SAN, for every
// profile of every name that fails).
func joinNames(a, b []string) string {
	n := 2 * (len(a) + len(b) - 1)
	for _, s := range a {
		n += len(s)
	}
	for _, s := range b {
		n += len(s)
	}
	var sb strings.Builder
	sb.Grow(n)
	for i, s := range a {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(s)
	}
	for i, s := range b {
		if i > 0 || len(a) > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(s)
	}
	return sb.String()
}

// Match decides whether cert covers name for clients of profile p. name is
// what the client asked for: a DNS name (U-labels are accepted), an IPv4
// address, or an IPv6 address with or without brackets.
func Match(cert *x509.Certificate, name string, p *Profile) Verdict {
	n := NamesOf(cert)
	return match(&n, name, p, nil)
}

// Names are what the matcher reads of a certificate: its DNS and IP
// address SANs and its subject CN. A program that keeps them without the
// parsed certificate (a judge that sees one chain thousands of times)
// matches with MatchNames and MatchAllNames: the same verdicts.
type Names struct {
	DNSNames    []string
	IPAddresses []net.IP
	CommonName  string // the subject CN
}

// NamesOf returns cert's names (its own slices, not copies).
func NamesOf(cert *x509.Certificate) Names {
	return Names{DNSNames: cert.DNSNames, IPAddresses: cert.IPAddresses, CommonName: cert.Subject.CommonName}
}

// MatchNames is Match of a certificate whose names are n.
func MatchNames(n *Names, name string, p *Profile) Verdict {
	return match(n, name, p, nil)
}

// MatchAll sets dst[i] to Match(cert, name, ps[i]) for every profile (dst
// is as long as ps). The verdicts share what the profiles agree on: the
// certificate's address list, and the reasons that do not name the
// profile, made once (a name that fails is judged for every profile).
func MatchAll(cert *x509.Certificate, name string, ps []*Profile, dst []Verdict) {
	n := NamesOf(cert)
	MatchAllNames(&n, name, ps, dst)
}

// MatchAllNames is MatchAll of a certificate whose names are n.
func MatchAllNames(cert *Names, name string, ps []*Profile, dst []Verdict) {
	var tc texts
	for i, p := range ps {
		dst[i] = match(cert, name, p, &tc)
	}
}

// texts holds, for one certificate and name, what MatchAll's verdicts
// share: a text is kept with what it was made from, and used again when
// a later profile would make it from the same.
type texts struct {
	ips      []string
	ipsKept  bool
	names    string   // CertNames
	lower    []string // lowerASCII of each DNS SAN
	kept     string   // the last reason kept...
	kind     Kind     // ...for this kind,
	by, host string   // certificate name and host
	// cands has the bit of each DNS SAN worth comparing with the name,
	// once candsKept (candidates).
	cands     [maxCandidates / 64]uint64
	candsKept bool
	// base is an ASCII name lower case, without its trailing dot, and
	// valid whether it is a valid host name: the same for every profile
	// (once baseKept); lowerCN is the subject CN lower case (once cnKept).
	base            string
	valid, baseKept bool
	lowerCN         string
	cnKept          bool
}

// lowerCommonName is lowerASCII(cn), made once for every profile.
func (tc *texts) lowerCommonName(cn string) string {
	if tc == nil {
		return lowerASCII(cn)
	}
	if !tc.cnKept {
		tc.lowerCN, tc.cnKept = lowerASCII(cn), true
	}
	return tc.lowerCN
}

// candidates sets in tc.cands the bits of cert's DNS SANs that can come to
// anything but a plain mismatch with host base, asked as name, for any
// profile, and reports whether it did (false: compare every SAN). base
// is the name lower case, without its trailing dot, and valid; when the
// name is ASCII it is the same for every profile. A SAN without a
// wildcard is then an exact match or a trailing-dot difference only if
// it is base once its trailing dots are gone, and an invalid one is
// compared exactly (invalidExact) with the name lower case; any other SAN
// is a mismatch for every profile (matchName), which changes no verdict.
// A name is compared with every SAN for every profile: on certificates
// of 50 SANs, most of the matcher's time (FuzzGoProfile holds MatchAll to
// Match).
func (tc *texts) candidates(cert *Names, name, base string) bool {
	if tc == nil || len(cert.DNSNames) <= candidatesFrom || len(cert.DNSNames) > maxCandidates || !isASCII(name) {
		return false
	}
	if !tc.candsKept {
		tc.candsKept = true
		lowerName := lowerASCII(name)
		for i := range cert.DNSNames {
			l := tc.lowerSAN(cert, i)
			t := l
			for len(t) > 0 && t[len(t)-1] == '.' {
				t = t[:len(t)-1]
			}
			if t == base || l == lowerName || strings.IndexByte(l, '*') >= 0 {
				tc.cands[i/64] |= 1 << (i % 64)
			}
		}
	}
	return true
}

// candidatesFrom and maxCandidates are how many DNS SANs a certificate
// has, more than and at most, for candidates to pick some: fewer are
// compared at once, more are rare.
const (
	candidatesFrom = 4
	maxCandidates  = 128
)

// lowerSAN is lowerASCII(cert.DNSNames[i]), made once for every profile.
func (tc *texts) lowerSAN(cert *Names, i int) string {
	if tc == nil {
		return lowerASCII(cert.DNSNames[i])
	}
	if tc.lower == nil {
		// Mostly the SANs are lower case already: then they are their
		// own list, and only one that is not makes a copy.
		tc.lower = cert.DNSNames
		for j, d := range cert.DNSNames {
			if l := lowerASCII(d); l != d {
				if &tc.lower[0] == &cert.DNSNames[0] {
					tc.lower = slices.Clone(cert.DNSNames)
				}
				tc.lower[j] = l
			}
		}
	}
	return tc.lower[i]
}

// reason returns make(), or the reason kept for (k, by, host).
func (tc *texts) reason(k Kind, by, host string, make func() string) string {
	if tc == nil {
		return make()
	}
	if tc.kept == "" || tc.kind != k || tc.by != by || tc.host != host {
		tc.kept, tc.kind, tc.by, tc.host = make(), k, by, host
	}
	return tc.kept
}

func match(cert *Names, name string, p *Profile, tc *texts) Verdict {
	v := Verdict{Profile: p.Name, Name: name, DNSNames: cert.DNSNames, CN: cert.CommonName}
	if v.DNSNames == nil {
		v.DNSNames = []string{}
	}
	switch {
	case tc != nil && tc.ipsKept:
		v.IPs = tc.ips
	default:
		for _, ip := range cert.IPAddresses {
			v.IPs = append(v.IPs, ip.String())
		}
		if tc != nil {
			tc.ips, tc.ipsKept = v.IPs[:len(v.IPs):len(v.IPs)], true
		}
	}
	if name == "" {
		v.Kind = KindEmptyName
		v.Reason = "the client named no host (no SNI, no URL), so there is nothing to compare; it gets the server's default certificate"
		return v
	}
	cand := name
	if len(cand) >= 3 && cand[0] == '[' && cand[len(cand)-1] == ']' {
		cand = cand[1 : len(cand)-1]
	}
	if mayBeIP(cand) {
		if ip := net.ParseIP(cand); ip != nil {
			matchIP(cert, ip, cand, p, &v)
			return v
		}
	}
	matchDNS(cert, name, p, &v, tc)
	return v
}

// mayBeIP reports whether net.ParseIP could read s as an address: an
// IPv6 address has a colon, an IPv4 one only digits and dots. A host name
// is not asked (ParseIP's error for it is an allocation, for every
// profile of every name judged).
func mayBeIP(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// matchIP: RFC 9525 §6.2 / RFC 6125 App. B.2: an IP is matched against iPAddress SANs only.
func matchIP(cert *Names, ip net.IP, raw string, p *Profile, v *Verdict) {
	v.Host = ip.String()
	for _, c := range cert.IPAddresses {
		if ip.Equal(c) {
			v.Match, v.Kind, v.By = true, KindIP, c.String()
			v.Reason = fmt.Sprintf("%s is an iPAddress SAN", v.Host)
			return
		}
	}
	for _, d := range cert.DNSNames {
		if dip := net.ParseIP(d); dip != nil && dip.Equal(ip) {
			v.Kind, v.By = KindIPNeedsIPSAN, d
			v.Reason = fmt.Sprintf("%s is on the certificate only as a DNS name; %s matches IP addresses against iPAddress SANs only", v.Host, p.Title)
			return
		}
	}
	// curl lib/vtls/openssl.c verifyhost: without any SAN, the CN is compared
	// with the host as a string (Curl_cert_hostcheck), IP addresses too.
	if p.ipCN && cnConsulted(cert, p) && cert.CommonName != "" && strings.EqualFold(cert.CommonName, raw) {
		v.Match, v.Kind, v.By = true, KindCNFallback, cert.CommonName
		v.Reason = fmt.Sprintf("the certificate has no subjectAltName; %s compares %s with the subject CN %s", p.Title, raw, cert.CommonName)
		return
	}
	if cip := net.ParseIP(cert.CommonName); cip != nil && cip.Equal(ip) {
		v.Kind, v.By = KindIPNeedsIPSAN, cert.CommonName
		v.Reason = fmt.Sprintf("%s is on the certificate only as the subject CN; %s matches IP addresses against iPAddress SANs only", v.Host, p.Title)
		return
	}
	v.Kind = KindMismatch
	v.Reason = fmt.Sprintf("certificate is valid for %s, not %s", v.CertNames(), v.Host)
}

// cnConsulted reports whether p reads cert's subject CN at all.
func cnConsulted(cert *Names, p *Profile) bool {
	switch p.cn {
	case cnWhenNoDNSSAN:
		return len(cert.DNSNames) == 0
	case cnWhenNoSAN:
		return len(cert.DNSNames) == 0 && len(cert.IPAddresses) == 0
	}
	return false
}

// outcome of comparing one certificate name with the host.
type outcome struct {
	kind Kind
	by   string
	why  string // extra words for failures
}

func matchDNS(cert *Names, name string, p *Profile, v *Verdict, tc *texts) {
	dot := strings.HasSuffix(name, ".")
	var base string
	var valid bool
	if tc != nil && tc.baseKept {
		base, valid = tc.base, tc.valid
	} else {
		base = strings.TrimSuffix(name, ".")
		if p.idn && !isASCII(base) {
			a, err := idna.Lookup.ToASCII(base)
			if err != nil { // idna's own words are for programmers
				v.Kind, v.Host = KindInvalidName, name
				v.Reason = fmt.Sprintf("%q is not a valid internationalised host name (a label breaks the IDNA rules of RFC 5891)", name)
				return
			}
			base = a
		}
		base = lowerASCII(base)
		valid = validHostname(base, false)
		if tc != nil && isASCII(name) {
			// Not made into A-labels by any profile: the same for all.
			tc.base, tc.valid, tc.baseKept = base, valid, true
		}
	}
	host := base
	if dot && p.hostDot == dotLiteral {
		host += "."
	}
	v.Host = host

	if p.invalidExact && !valid {
		// crypto/x509: invalid host names are only ever compared exactly.
		raw := lowerASCII(name)
		for _, d := range cert.DNSNames {
			if matchExactly(d, raw) {
				v.Match, v.Kind, v.By = true, KindExact, d
				v.Reason = fmt.Sprintf("%s is in the certificate's SAN (compared exactly: not a valid host name)", d)
				return
			}
		}
		v.Kind = KindInvalidName
		v.Reason = fmt.Sprintf("%q is not a valid host name and no SAN equals it exactly; certificate is valid for %s", name, v.CertNames())
		return
	}
	if !valid {
		v.Kind = KindInvalidName
		v.Reason = fmt.Sprintf("%q is not a valid host name (letters, digits, hyphens and dots only)", name)
		return
	}

	best := outcome{kind: KindMismatch}
	consider := func(o outcome) {
		if o.kind != KindMismatch && failRank[o.kind] > failRank[best.kind] { // a mismatch, rank 0, is the most frequent
			best = o
		}
	}
	some := tc.candidates(cert, name, base)
	for i, d := range cert.DNSNames {
		if some && tc.cands[i/64]&(1<<(i%64)) == 0 {
			continue // a mismatch for every profile
		}
		o := matchName(d, tc.lowerSAN(cert, i), host, name, p)
		if o.kind.Matched() {
			v.Match, v.Kind, v.By = true, o.kind, d
			switch o.kind {
			case KindExact, KindWildcard: // the same words for every profile
				v.Reason = tc.reason(o.kind, d, host, func() string { return matchReason(o.kind, d, host, p) })
			default:
				v.Reason = matchReason(o.kind, d, host, p)
			}
			return
		}
		consider(o)
	}
	cn := cert.CommonName
	cnUsed := cnConsulted(cert, p)
	if cn != "" {
		o := matchName(cn, tc.lowerCommonName(cn), host, name, p)
		switch {
		case o.kind.Matched() && cnUsed:
			v.Match, v.Kind, v.By = true, KindCNFallback, cn
			what := "DNS SAN"
			if p.cn == cnWhenNoSAN {
				what = "subjectAltName"
			}
			v.Reason = fmt.Sprintf("the certificate has no %s; %s falls back to the subject CN %s (%s)", what, p.Title, cn, o.kind)
			return
		case o.kind.Matched():
			why := "ignores the subject CN"
			switch p.cn {
			case cnWhenNoDNSSAN:
				why = "uses the subject CN only when there is no DNS SAN, and this certificate has DNS SANs"
			case cnWhenNoSAN:
				why = "uses the subject CN only when the certificate has no subjectAltName at all, and this one has SANs"
			}
			consider(outcome{kind: KindCNOnly, by: cn, why: why})
		case cnUsed:
			consider(o)
		}
	}
	if best.kind == KindMismatch && len(cert.DNSNames) == 0 && len(cert.IPAddresses) == 0 && (cn == "" || !cnUsed) {
		best.kind = KindNoSAN
	}
	v.Kind, v.By = best.kind, best.by
	if best.kind == KindMismatch && best.why == "" { // the same words for every profile
		v.Reason = tc.reason(best.kind, "", host, func() string { return failReason(best, host, p, v, tc) })
	} else {
		v.Reason = failReason(best, host, p, v, tc)
	}
}

// matchName compares one certificate name (SAN or CN) with host under p.
// lower is lowerASCII(pattern); host is lower case, A-labels, and
// trailing-dot-stripped if p strips.
func matchName(pattern, lower, host, raw string, p *Profile) outcome {
	pat := lower
	if p.sanDot == dotStrip {
		pat = strings.TrimSuffix(pat, ".")
	}
	if pat == "" || pat == "." {
		return outcome{kind: KindMismatch}
	}
	if p.invalidExact && !validHostname(pat, true) {
		if matchExactly(pattern, lowerASCII(raw)) {
			return outcome{kind: KindExact, by: pattern}
		}
		return outcome{kind: KindMismatch}
	}
	if !strings.Contains(pat, "*") {
		if pat == host {
			return outcome{kind: KindExact, by: pattern}
		}
		if strings.TrimSuffix(pat, ".") == strings.TrimSuffix(host, ".") {
			return outcome{kind: KindTrailingDot, by: pattern}
		}
		return outcome{kind: KindMismatch}
	}
	// Wildcards: the host is compared without a trailing dot from here on,
	// unless the client keeps dots, in which case they must agree.
	if p.sanDot == dotLiteral || p.hostDot == dotLiteral {
		if strings.HasSuffix(pat, ".") != strings.HasSuffix(host, ".") {
			return outcome{kind: KindTrailingDot, by: pattern}
		}
	}
	pat, h := strings.TrimSuffix(pat, "."), strings.TrimSuffix(host, ".")
	first, rest, ok := strings.Cut(pat, ".")
	// RFC 6125 §6.4.3: one wildcard, in the left-most label only.
	if !ok || rest == "" || strings.Contains(rest, "*") || strings.Count(first, "*") != 1 {
		return outcome{kind: KindInvalidWildcardSAN, by: pattern, why: "a wildcard is only accepted as (part of) the left-most label, with a domain after it"}
	}
	hfirst, hrest, hok := strings.Cut(h, ".")
	if !hok || hrest != rest {
		switch {
		case h == rest:
			return outcome{kind: KindWildcardBare, by: pattern}
		case strings.HasSuffix(h, "."+rest):
			return outcome{kind: KindWildcardTooDeep, by: pattern}
		}
		return outcome{kind: KindMismatch}
	}
	// The domain part agrees; does the first label?
	full := first == "*"
	if !full {
		prefix, suffix, _ := strings.Cut(first, "*")
		if prefix != "" && suffix != "" {
			return outcome{kind: KindInvalidWildcardSAN, by: pattern, why: "a wildcard in the middle of a label (w*w) is never accepted"}
		}
		if !partialLabelMatch(prefix, suffix, hfirst, p.partialZero) {
			return outcome{kind: KindMismatch}
		}
		// OpenSSL/BoringSSL: no partial wildcard in, or against, an IDNA label.
		if strings.HasPrefix(first, "xn--") || strings.HasPrefix(hfirst, "xn--") {
			return outcome{kind: KindPartialRejected, by: pattern, why: "partial wildcards never match internationalised (xn--) labels"}
		}
		switch p.partial {
		case partialNone:
			return outcome{kind: KindPartialRejected, by: pattern}
		case partialPrefix:
			if prefix == "" {
				return outcome{kind: KindPartialRejected, by: pattern, why: "only the prefix form (w*.domain) is accepted, not *w"}
			}
		}
	}
	if bad, why := suffixRefused(rest, p); bad {
		return outcome{kind: KindWildcardSuffix, by: pattern, why: why}
	}
	if p.numericNoWC && strings.Trim(h, "0123456789.") == "" {
		return outcome{kind: KindWildcardNumeric, by: pattern}
	}
	if full {
		return outcome{kind: KindWildcard, by: pattern}
	}
	return outcome{kind: KindPartialWildcard, by: pattern}
}

func partialLabelMatch(prefix, suffix, label string, zeroOK bool) bool {
	if len(label) < len(prefix)+len(suffix) || !strings.HasPrefix(label, prefix) || !strings.HasSuffix(label, suffix) {
		return false
	}
	mid := label[len(prefix) : len(label)-len(suffix)]
	return mid != "" || zeroOK
}

// suffixRefused applies the client's rule about wildcards over broad domains.
func suffixRefused(rest string, p *Profile) (bool, string) {
	switch p.suffix {
	case suffixTwoLabels:
		if !strings.Contains(rest, ".") {
			return true, fmt.Sprintf("a wildcard needs at least two labels after it; *.%s is refused", rest)
		}
	case suffixRegistry:
		// chromium x509_certificate.cc: no wildcard over an ICANN registry-controlled domain or an unknown TLD.
		if registryControlled(rest) {
			return true, fmt.Sprintf("%s is a public suffix (or an unknown top-level domain); a wildcard directly over it is refused", rest)
		}
	}
	return false, ""
}

// registryControlled reports whether domain is itself an ICANN public
// suffix, or an unknown single-label TLD; private-registry suffixes
// (appspot.com) do not count, as in Chromium.
func registryControlled(domain string) bool {
	d := domain
	for {
		ps, icann := publicsuffix.PublicSuffix(d)
		if icann || !strings.Contains(ps, ".") {
			return ps == domain
		}
		// A private rule matched: look for the ICANN suffix beneath it.
		_, parent, ok := strings.Cut(ps, ".")
		if !ok {
			return false
		}
		d = parent
	}
}

func matchReason(k Kind, by, host string, p *Profile) string {
	switch k {
	case KindExact: // concatenated: the most frequent reasons
		return by + " is in the certificate's SAN"
	case KindWildcard:
		return "the wildcard SAN " + by + " covers " + host
	case KindPartialWildcard:
		return fmt.Sprintf("the partial wildcard SAN %s covers %s (%s accepts partial wildcards; most other clients do not)", by, host, p.Title)
	}
	return string(k)
}

func failReason(o outcome, host string, p *Profile, v *Verdict, tc *texts) string {
	var names string
	switch {
	case tc == nil:
		names = v.CertNames()
	case tc.names == "":
		tc.names = v.CertNames() // the same certificate for every profile
		names = tc.names
	default:
		names = tc.names
	}
	suffix := ""
	if o.why != "" {
		suffix = ": " + o.why
	}
	switch o.kind {
	case KindCNOnly:
		return fmt.Sprintf("%s is only in the subject CN (%s); %s %s; the SANs are: %s", host, o.by, p.Title, o.why, sanList(v))
	case KindWildcardTooDeep:
		return fmt.Sprintf("the wildcard %s covers exactly one label, not %s; certificate is valid for %s", o.by, host, names)
	case KindWildcardBare:
		return fmt.Sprintf("the wildcard %s does not cover the bare domain %s; certificate is valid for %s", o.by, host, names)
	case KindPartialRejected:
		why := o.why
		if why == "" {
			why = "it does not accept partial-label wildcards"
		}
		return fmt.Sprintf("the partial wildcard %s would cover %s, but %s: %s", o.by, host, p.Title, why)
	case KindWildcardSuffix:
		return fmt.Sprintf("the wildcard %s is refused by %s%s", o.by, p.Title, suffix)
	case KindWildcardNumeric:
		return fmt.Sprintf("%s is numeric; %s never matches a wildcard (%s) against it", host, p.Title, o.by)
	case KindTrailingDot:
		return fmt.Sprintf("%s and %s differ only in a trailing dot, and %s compares them literally", o.by, host, p.Title)
	case KindInvalidWildcardSAN:
		return fmt.Sprintf("the SAN %s is not a wildcard %s accepts%s; certificate is valid for %s, not %s", o.by, p.Title, suffix, names, host)
	case KindNoSAN:
		if v.CN != "" {
			return fmt.Sprintf("the certificate has no subjectAltName and %s ignores the subject CN (%s); it is valid for no name, not %s", p.Title, v.CN, host)
		}
		return fmt.Sprintf("the certificate has no subjectAltName and no subject CN; it is valid for no name, not %s", host)
	}
	return "certificate is valid for " + names + ", not " + host
}

func sanList(v *Verdict) string {
	names := append(append([]string(nil), v.DNSNames...), v.IPs...)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// validHostname is crypto/x509's validHostname: LDH labels (plus "_"),
// no empty label, and for patterns a whole "*" as the first label.
func validHostname(host string, isPattern bool) bool {
	if host == "" || host == "*" {
		return false
	}
	// The labels one by one (strings.Split would allocate their list).
	for i, rest, more := 0, host, true; more; i++ {
		var part string
		part, rest, more = strings.Cut(rest, ".")
		if part == "" {
			return false
		}
		if isPattern && i == 0 && part == "*" {
			continue
		}
		for j := 0; j < len(part); j++ {
			c := part[j]
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', 'A' <= c && c <= 'Z', c == '_':
			case c == '-' && j != 0:
			default:
				return false
			}
		}
	}
	return true
}

// matchExactly is crypto/x509's matchExactly.
func matchExactly(a, b string) bool {
	if a == "" || a == "." || b == "" || b == "." {
		return false
	}
	return lowerASCII(a) == lowerASCII(b)
}

// lowerASCII lower-cases ASCII letters only (RFC 6125 §6.4.1).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
