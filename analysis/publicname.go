package analysis

import (
	"fmt"
	"net"
	"strings"

	"github.com/certsleuth/certsleuth/exchange"
	"golang.org/x/net/publicsuffix"
)

// reservedTLDs are suffixes no public CA issues for (CA/B Forum BR
// "Internal Name"; RFC 6761, RFC 6762, RFC 8375), beyond unknown TLDs.
var reservedTLDs = []string{"local", "localhost", "localdomain", "internal", "corp", "lan", "home", "home.arpa", "intranet", "private", "test", "example", "invalid", "domain"}

// PublicCAIssuable reports whether a publicly trusted CA may put name on a
// certificate, and if not, why. Internal names (single labels such as
// exch01, reserved or unknown TLDs such as .local and .corp) and private or
// reserved IP addresses cannot be on a public certificate (CA/B Forum
// Baseline Requirements §4.2.2, §7.1.4.2.1; issuance stopped 2015-11-01).
func PublicCAIssuable(name string) (bool, string) { return publicCAIssuable(name, true) }

// publicName is PublicCAIssuable without the reason (none is made: a
// verdict or a fix that asks only whether runs for every cause).
func publicName(name string) bool {
	pub, _ := publicCAIssuable(name, false)
	return pub
}

// publicCAIssuable is PublicCAIssuable, the reason made only when why is
// set.
func publicCAIssuable(name string, why bool) (bool, string) {
	n := exchange.NormHost(name)
	if n == "" {
		return false, "empty name"
	}
	// An address ends in a digit (IPv4) or has a colon (IPv6): other names
	// are not parsed as one (a name that is not cost a parse error).
	if h := strings.Trim(n, "[]"); h != "" && (h[len(h)-1] >= '0' && h[len(h)-1] <= '9' || strings.Contains(h, ":")) {
		if ip := net.ParseIP(h); ip != nil {
			if ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
				if !why {
					return false, ""
				}
				return false, fmt.Sprintf("%s is a private or reserved address (CA/B Forum BR: no reserved IP addresses)", n)
			}
			return true, ""
		}
	}
	if !strings.Contains(n, ".") {
		if !why {
			return false, ""
		}
		return false, fmt.Sprintf("%s is a single-label (NetBIOS) name: an Internal Name under the CA/B Forum Baseline Requirements", n)
	}
	for _, r := range reservedTLDs {
		if len(n) > len(r) && strings.HasSuffix(n, r) && n[len(n)-len(r)-1] == '.' { // ends in "."+r
			if !why {
				return false, ""
			}
			return false, fmt.Sprintf("%s ends in .%s, a reserved or internal suffix: an Internal Name under the CA/B Forum Baseline Requirements", n, r)
		}
	}
	suffix, icann := publicsuffix.PublicSuffix(strings.TrimPrefix(n, "*."))
	if !icann && !strings.Contains(suffix, ".") {
		if !why {
			return false, ""
		}
		return false, fmt.Sprintf("%s ends in .%s, which is not a delegated top-level domain: an Internal Name under the CA/B Forum Baseline Requirements", n, suffix)
	}
	if suffix == strings.TrimPrefix(n, "*.") {
		if !why {
			return false, ""
		}
		return false, fmt.Sprintf("%s is a public suffix", n)
	}
	return true, ""
}
