package analysis

import (
	"strings"
	"testing"
)

// TestPickDomain compares the indexed lookup with the plain rule: the
// first domain, in order, that is the name or a parent of it.
func TestPickDomain(t *testing.T) {
	domains := []string{"fabrikam.com", "contoso.com", "mail.contoso.com", "local", "contoso.com"}
	tr := &OriginTrace{Domains: domains}
	plain := func(name string) string {
		for _, d := range domains {
			if name == d || strings.HasSuffix(name, "."+d) {
				return d
			}
		}
		return domains[0]
	}
	for _, name := range []string{"contoso.com", "mail.contoso.com", "a.mail.contoso.com", "exch01.contoso.local",
		"exch01", "fabrikam.com", "xcontoso.com", "autodiscover.fabrikam.com", "", "com"} {
		if got, want := pickDomain(name, domains, tr.domainIndex()), plain(name); got != want {
			t.Errorf("pickDomain(%q) = %q, want %q", name, got, want)
		}
	}
	if got := pickDomain("x.contoso.com", nil, nil); got != "" {
		t.Errorf("no domains: got %q", got)
	}
}
