package analysis

import (
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
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
func CheckPrincipal(p exchange.ADPrincipal, leaf *x509.Certificate) PrincipalVerdict {
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
		if strings.HasPrefix(d, "*.") && wild == "" && wildcardCovers(d, p.Server) {
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

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// wildcardCovers reports whether "*.rest" covers host by one full label.
func wildcardCovers(pattern, host string) bool {
	rest := strings.ToLower(strings.TrimPrefix(pattern, "*."))
	h := strings.ToLower(host)
	i := strings.IndexByte(h, '.')
	return i > 0 && h[i+1:] == rest
}

// principalFinding turns a failed verdict into a finding, or returns nil.
func principalFinding(pv PrincipalVerdict, block, where string, leaf *x509.Certificate) *Finding {
	switch pv.Kind {
	case PrincipalOK, PrincipalNone:
		return nil
	}
	src := block + " CertPrincipalName in " + where
	if pv.Default {
		src = "default msstd:<" + block + " Server> (no CertPrincipalName) in " + where
	}
	ev := []Evidence{{Label: "principal required", Value: pv.Principal, From: src}}
	if leaf.Subject.CommonName != "" {
		ev = append(ev, Evidence{Label: "certificate names", Value: leaf.Subject.CommonName, From: "subject CN"})
	}
	for _, d := range leaf.DNSNames {
		ev = append(ev, Evidence{Label: "certificate names", Value: d, From: "SAN dNSName"})
	}
	f := &Finding{
		ID:       exchange.PrincipalCheckID,
		Summary:  fmt.Sprintf("Outlook Anywhere to %s requires the principal %s: %s", pv.Server, pv.Principal, pv.Reason),
		Evidence: ev,
		Why:      "Outlook's \"Only connect to proxy servers that have this principal name in their certificate\" compares the msstd: name literally with the certificate; on a mismatch Outlook prompts for credentials again and again or says \"An encrypted connection to your mail server is not available\".",
	}
	if pv.Suggest != "" {
		f.Remedy = fmt.Sprintf(`Set-OutlookProvider EXPR -CertPrincipalName "msstd:%s"`, pv.Suggest)
	}
	if pv.Kind == PrincipalSANOnly {
		f.Severity = SeverityWarning
	}
	return f
}

func init() {
	mustRegister(&Check{
		ID:         exchange.PrincipalCheckID,
		Title:      "Outlook Anywhere's msstd: principal is not literally on the certificate",
		Severity:   SeverityError,
		Citation:   exchange.PrincipalCitation,
		Remedy:     `Set-OutlookProvider EXPR -CertPrincipalName "msstd:<name exactly as on the certificate>" (for a wildcard certificate: "msstd:*.contoso.com")`,
		PerProfile: true,
		// Outlook checks the principal on its Outlook Anywhere (RPC over
		// HTTP) connections only, against the CertPrincipalName of an
		// earlier Autodiscover answer: Analyze judges those through
		// principalTraceFindings. A single observation cannot tell.
		Run: func(*Subject) *Finding { return nil },
	})
}

// principalAt is the principal an Autodiscover answer (observation
// from) required for an Outlook Anywhere host.
type principalAt struct {
	p    exchange.ADPrincipal
	from int
}

// learnPrincipals takes the Outlook Anywhere principals answer idx
// requires: for each host, the latest answer's first principal counts.
func (t *OriginTrace) learnPrincipals(idx int, a *exchange.Autodiscover) {
	for k := range a.Principals {
		p := a.Principals[k]
		if !outlookAnywhereBlock(p.Block) {
			continue
		}
		h := exchange.NormHost(p.Server)
		if cur, ok := t.principals[h]; !ok || idx > cur.from {
			t.principals[h] = principalAt{p, idx}
		}
	}
}

// principalFindings judges a request to an Outlook Anywhere host against
// the principal an earlier Autodiscover answer required, for the windows
// profile (the caller checks that it is chosen). It adds the finding to
// it and returns the request's cause: c, or the answer that required the
// principal when it fails.
func (t *OriginTrace) principalFindings(it *Item, leaf *x509.Certificate, c *Cause) *Cause {
	if leaf == nil || it.Obs.Kind == record.KindDNS || !outlookAnywhereConn(it) {
		return c
	}
	pa, ok := t.principals[exchange.NormHost(it.Name)]
	if !ok || hasFinding(it, exchange.PrincipalCheckID) {
		return c
	}
	f := principalFinding(CheckPrincipal(pa.p, leaf), pa.p.Block, fmt.Sprintf("Autodiscover answer #%d", pa.from), leaf)
	if f == nil {
		return c
	}
	chk := LookupCheck(exchange.PrincipalCheckID)
	if f.Severity == "" {
		f.Severity = chk.Severity
	}
	if f.Remedy == "" {
		f.Remedy = chk.Remedy
	}
	f.Citation, f.Profile = chk.Citation, "windows"
	it.Findings = append(it.Findings, *f)
	return principalCause(pa.p, pa.from, c)
}

// outlookAnywhereConn reports whether it is an Outlook Anywhere (RPC over
// HTTP) connection, the only kind on which Outlook enforces the msstd:
// principal: a request to /rpc/ (rpcproxy.dll) or with an RPC_IN_DATA /
// RPC_OUT_DATA method; or a connection without a request that the client
// dropped although the name check passed (a mirror-mode proxy sees no
// request when Outlook refuses the principal after the handshake, and a
// client alert says the client refused). EWS, OAB, Autodiscover and other
// HTTPS requests to the same host are not judged: Outlook checks only the
// name on those.
func outlookAnywhereConn(it *Item) bool {
	o := it.Obs
	if o.Source == record.SourceProbe {
		return false
	}
	if o.URL == "" {
		if o.Source != record.SourceProxy && o.ClientAlert == "" {
			return false // a capture of an encrypted request: could be anything
		}
		for _, f := range it.Findings {
			if strings.HasPrefix(f.ID, "name.") {
				return false // the name explains the refusal
			}
		}
		return true
	}
	m := strings.ToUpper(o.Method)
	if m == "RPC_IN_DATA" || m == "RPC_OUT_DATA" {
		return true
	}
	_, path, _ := exchange.URLHostPath(o.URL)
	return path == "/rpc" || strings.HasPrefix(path, "/rpc/")
}

// principalCause is the origin of an Outlook Anywhere connection whose
// principal failed: the EXPR (or EXHTTP) block of the answer at from names
// the host and, through CertPrincipalName, the principal Outlook requires.
// prev is the cause origin tracing found (kept when it is the same field).
func principalCause(p exchange.ADPrincipal, from int, prev *Cause) *Cause {
	how := fmt.Sprintf("its CertPrincipalName, set with Set-OutlookProvider %s -CertPrincipalName", providerOf(p.Block))
	if strings.TrimSpace(p.Principal) == "" {
		how = fmt.Sprintf("no CertPrincipalName, so the default msstd:<Server>; Set-OutlookProvider %s -CertPrincipalName sets one", providerOf(p.Block))
	}
	scope := ""
	if p.Scope != exchange.ScopeNone {
		scope = string(p.Scope) + " "
	}
	c := &Cause{Kind: CauseAutodiscoverField, From: from, URL: p.Server, Setting: exchange.SettingOutlookAnywhere,
		Field: &exchange.ADField{Form: exchange.FormPOX, Block: p.Block, Element: "Server", Scope: p.Scope, Value: p.Server, Setting: exchange.SettingOutlookAnywhere},
		Text: fmt.Sprintf("Outlook Anywhere (RPC over HTTP): Autodiscover's %s%s block sends Outlook to %s and requires the principal %s (%s)",
			scope, p.Block, p.Server, p.Effective(), how)}
	if prev != nil && prev.Field != nil && prev.From == from && prev.Field.Block == p.Block && prev.Field.Element == "Server" {
		c.Field = prev.Field
	}
	return c
}

// providerOf names the Outlook provider whose CertPrincipalName a block
// carries. EXHTTP blocks are built from the EXPR provider's settings too
// (Set-OutlookProvider EXPR is the one to change), as the remedy says.
func providerOf(string) string { return "EXPR" }

func hasFinding(it *Item, id string) bool {
	for _, f := range it.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

// outlookAnywhereBlock reports whether block is a POX block whose
// CertPrincipalName Outlook enforces: EXPR, and EXHTTP (the RPC/HTTP
// details sent to clients that say ExHttpInfo).
func outlookAnywhereBlock(block string) bool {
	return block == "EXPR" || block == "EXHTTP"
}
