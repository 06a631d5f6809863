package analysis

import (
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/exchange"
)

// explainOnline fills the remedies and verdict of a culprit on a Microsoft
// 365 name: no on-premises cmdlet changes Microsoft's certificate, so the
// cause is local (a TLS-inspecting proxy, firewall or antivirus, or DNS
// sending the name elsewhere).
func (r *Report) explainOnline(c *Culprit, cause *Cause) {
	it := c.First
	name := exchange.NormHost(it.Name)
	issuer := "an issuer certsleuth could not see"
	covers := "no certificate certsleuth could see"
	if len(it.Chain) > 0 {
		l := it.Chain[0]
		issuer = firstNonEmpty(l.IssuerCN, "an issuer without a common name")
		ns := append(append([]string(nil), l.DNSNames...), l.IPAddresses...)
		covers = "a certificate for " + firstNonEmpty(andList(ns), l.SubjectCN, "no name")
	}
	c.Remedies = append(c.Remedies,
		Remedy{Title: "Find what answered in Microsoft 365's place",
			Command:  fmt.Sprintf("nothing to change on an Exchange server: %s is Microsoft 365's, and its certificate is Microsoft's. Look on the client's network for what answered instead: a TLS-inspecting proxy, firewall or antivirus (this certificate was issued by %s), or DNS that sends %s elsewhere (compare: nslookup %s)", name, issuer, name, name),
			Citation: `Microsoft Learn, "Microsoft 365 URLs and IP address ranges" (Exchange Online); "Microsoft 365 network connectivity principles" (no TLS inspection of Microsoft 365 traffic)`})
	var b strings.Builder
	fmt.Fprintf(&b, "%s warns on %s, a Microsoft 365 server, which answered with %s (issued by %s): that is not Microsoft's certificate, so something on the client's side answered in Microsoft's place (a TLS-inspecting proxy, firewall or antivirus, or DNS sending the name elsewhere); no on-premises Exchange command fixes it",
		whoWarns(c, r.Profiles), name, covers, issuer)
	if cause != nil && cause.Kind == CauseRedirectAddr {
		fmt.Fprintf(&b, ". The client went there because %s", becauseWords(cause))
	}
	b.WriteString(".")
	c.Verdict = b.String()
}
