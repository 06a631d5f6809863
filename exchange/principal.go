package exchange

import (
	"crypto/x509"
	"fmt"
	"strings"
)

// PrincipalKind is the outcome of Outlook's msstd: principal check.
type PrincipalKind string

// The outcomes of CheckPrincipal.
const (
	PrincipalOK       PrincipalKind = "ok"        // equals the subject CN: every Outlook accepts it
	PrincipalSANOnly  PrincipalKind = "san-only"  // equals a SAN but not the CN: Windows XP-era Outlook refuses it
	PrincipalMismatch PrincipalKind = "mismatch"  // on neither
	PrincipalWildcard PrincipalKind = "wildcard"  // a wildcard covers the server, but the principal is not the literal wildcard
	PrincipalNone     PrincipalKind = "none"      // CertPrincipalName "none": Windows checks on its own
	PrincipalNotMSSTD PrincipalKind = "not-msstd" // a principal without the msstd: prefix
)

// PrincipalVerdict is the answer to "will Outlook Anywhere accept this
// certificate for this server?".
type PrincipalVerdict struct {
	Kind      PrincipalKind
	Principal string // the effective principal, e.g. "msstd:mail.contoso.com"
	Server    string
	Default   bool   // no CertPrincipalName was sent: msstd:<Server> was assumed
	Suggest   string // the name to put after msstd: so it passes ("" when OK)
	Reason    string
}

// CheckPrincipal checks an Outlook Anywhere principal against the server's
// certificate the way Outlook does: the part after "msstd:" must equal,
// literally and ignoring case, the subject CN (Windows XP) or the CN or
// any dNSName SAN (Vista and later). No wildcard expansion: a *.contoso.com
// certificate needs msstd:*.contoso.com (Microsoft Learn "CertPrincipalName
// (POX)"; MS blog "Outlook 2007, Exchange with Wildcard Certificate").
func CheckPrincipal(p ADPrincipal, leaf *x509.Certificate) PrincipalVerdict {
	v := PrincipalVerdict{Server: p.Server, Principal: p.Effective(), Default: strings.TrimSpace(p.Principal) == ""}
	if v.Principal == "" {
		v.Kind, v.Reason = PrincipalNone, "CertPrincipalName is none: Windows validates the name itself"
		return v
	}
	name, ok := cutPrefixFold(v.Principal, "msstd:")
	if !ok {
		v.Kind, v.Reason = PrincipalNotMSSTD, fmt.Sprintf("%q does not start with msstd:, so Outlook cannot use it", v.Principal)
		return v
	}
	name = strings.TrimSpace(name)
	cn := leaf.Subject.CommonName
	if strings.EqualFold(name, cn) {
		v.Kind, v.Reason = PrincipalOK, fmt.Sprintf("%s equals the certificate's subject CN", v.Principal)
		return v
	}
	for _, d := range leaf.DNSNames {
		if strings.EqualFold(name, d) {
			v.Kind = PrincipalSANOnly
			v.Reason = fmt.Sprintf("%s is a SAN but not the subject CN (%q): Outlook on Windows Vista and later accepts it, Outlook on Windows XP compares the CN only", v.Principal, cn)
			v.Suggest = cn
			return v
		}
	}
	// The literal name the certificate does carry for this server.
	wild := ""
	for _, d := range append([]string{cn}, leaf.DNSNames...) {
		if strings.EqualFold(d, p.Server) {
			v.Kind, v.Suggest = PrincipalMismatch, d
			v.Reason = fmt.Sprintf("%s is not on the certificate (CN %q; SANs %s); the certificate does name the server %s, so the principal should be msstd:%s", v.Principal, cn, strings.Join(leaf.DNSNames, ", "), p.Server, d)
			return v
		}
		if strings.HasPrefix(d, "*.") && wild == "" && WildcardCovers(d, p.Server) {
			wild = d
		}
	}
	if wild != "" {
		v.Kind, v.Suggest = PrincipalWildcard, wild
		v.Reason = fmt.Sprintf("the certificate covers %s only through the wildcard %s, and Outlook compares %s literally, without wildcard expansion: it needs msstd:%s", p.Server, wild, v.Principal, wild)
		return v
	}
	v.Kind, v.Suggest = PrincipalMismatch, cn
	v.Reason = fmt.Sprintf("%s is not on the certificate (CN %q; SANs %s)", v.Principal, cn, strings.Join(leaf.DNSNames, ", "))
	return v
}

// cutPrefixFold is strings.CutPrefix ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// WildcardCovers reports whether the wildcard pattern "*.rest" covers host
// by one full label (a.rest, not a.b.rest nor rest), ignoring case.
func WildcardCovers(pattern, host string) bool {
	rest := strings.ToLower(strings.TrimPrefix(pattern, "*."))
	h := strings.ToLower(host)
	i := strings.IndexByte(h, '.')
	return i > 0 && h[i+1:] == rest
}
