package analysis

import (
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
)

// principalFinding turns a failed verdict into a finding, or returns nil.
func principalFinding(pv exchange.PrincipalVerdict, block, where string, leaf *x509.Certificate) *Finding {
	switch pv.Kind {
	case exchange.PrincipalOK, exchange.PrincipalNone:
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
	if pv.Kind == exchange.PrincipalSANOnly {
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
func (t *OriginTrace) principalFindings(it *Item, chain *chainView, c *Cause) *Cause {
	if chain == nil || it.Obs.Kind == record.KindDNS || !outlookAnywhereConn(it) {
		return c
	}
	pa, ok := t.principals[exchange.NormHost(it.Name)]
	if !ok || hasFinding(it, exchange.PrincipalCheckID) {
		return c
	}
	leaf := chain.leafCertificate() // parsed again: a few connections
	if leaf == nil {
		return c
	}
	f := principalFinding(exchange.CheckPrincipal(pa.p, leaf), pa.p.Block, fmt.Sprintf("Autodiscover answer #%d", pa.from), leaf)
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
