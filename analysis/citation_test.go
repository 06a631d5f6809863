package analysis

import (
	"regexp"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/exchange"
)

// A citation names a source a reader can find (a KB, an RFC, a spec
// section, a Microsoft Learn page by its title), never the file name of
// a page in a documentation repository such as "certprincipalname-pox.md".
var bareDocFile = regexp.MustCompile(`(^|[\s;(])[\w.-]+\.md\b`)

func TestCitationsAreSources(t *testing.T) {
	type cited struct{ where, citation string }
	var all []cited
	for _, c := range Checks() {
		all = append(all, cited{"check " + c.ID, c.Citation})
	}
	for _, s := range exchange.Settings {
		all = append(all, cited{"setting " + s.ID, s.Citation})
	}
	for _, e := range exchange.ErrorCodes {
		all = append(all, cited{"error code " + e.ID, e.Citation})
	}
	for _, c := range all {
		if m := bareDocFile.FindString(c.citation); m != "" {
			t.Errorf("%s: citation %q names the file %q, not a source", c.where, c.citation, strings.TrimSpace(m))
		}
	}
}

func TestPrincipalCitation(t *testing.T) {
	c := LookupCheck(exchange.PrincipalCheckID)
	if c == nil {
		t.Fatalf("no check %s", exchange.PrincipalCheckID)
	}
	for _, want := range []string{
		`Microsoft Learn, Autodiscover POX reference "CertPrincipalName (POX)"`,
		`Microsoft Learn, Exchange PowerShell "Set-OutlookProvider" -CertPrincipalName`,
		"msstd:",
	} {
		if !strings.Contains(c.Citation, want) {
			t.Errorf("%s citation %q lacks %q", exchange.PrincipalCheckID, c.Citation, want)
		}
	}
	if s := exchange.LookupSetting(exchange.SettingOutlookProvider); s == nil || s.Citation != c.Citation {
		t.Errorf("the %s catalog row cites something else than the check", exchange.SettingOutlookProvider)
	}
}
