package analysis

import "testing"

// TestPickDomain: a fix names the nearest known domain that is the name
// or a parent of it (the email domain the client used), never another
// domain the trace knows; a name in no known domain gives itself (without
// an autodiscover. label).
func TestPickDomain(t *testing.T) {
	domains := []string{"fabrikam.com", "contoso.com", "mail.contoso.com", "local", "contoso.com"}
	tr := &OriginTrace{Domains: domains}
	for name, want := range map[string]string{
		"contoso.com": "contoso.com", "mail.contoso.com": "mail.contoso.com", "a.mail.contoso.com": "mail.contoso.com",
		"autodiscover.contoso.com": "contoso.com", "autodiscover.fabrikam.com": "fabrikam.com", "exch01.contoso.local": "local",
		"exch01": "exch01", "xcontoso.com": "xcontoso.com", "autodiscover.tailspintoys.com": "tailspintoys.com", "": "", "com": "com",
	} {
		if got := pickDomain(name, domains, tr.domainIndex()); got != want {
			t.Errorf("pickDomain(%q) = %q, want %q", name, got, want)
		}
	}
	if got := pickDomain("autodiscover.x.contoso.com", nil, nil); got != "x.contoso.com" {
		t.Errorf("no domains: got %q, want x.contoso.com", got)
	}
}
