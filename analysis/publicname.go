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
func PublicCAIssuable(name string) (bool, string) {
	n := exchange.NormHost(name)
	if n == "" {
		return false, "empty name"
	}
	if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
		if ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
			return false, fmt.Sprintf("%s is a private or reserved address (CA/B Forum BR: no reserved IP addresses)", n)
		}
		return true, ""
	}
	if !strings.Contains(n, ".") {
		return false, fmt.Sprintf("%s is a single-label (NetBIOS) name: an Internal Name under the CA/B Forum Baseline Requirements", n)
	}
	for _, r := range reservedTLDs {
		if len(n) > len(r) && strings.HasSuffix(n, r) && n[len(n)-len(r)-1] == '.' { // ends in "."+r
			return false, fmt.Sprintf("%s ends in .%s, a reserved or internal suffix: an Internal Name under the CA/B Forum Baseline Requirements", n, r)
		}
	}
	suffix, icann := publicsuffix.PublicSuffix(strings.TrimPrefix(n, "*."))
	if !icann && !strings.Contains(suffix, ".") {
		return false, fmt.Sprintf("%s ends in .%s, which is not a delegated top-level domain: an Internal Name under the CA/B Forum Baseline Requirements", n, suffix)
	}
	if suffix == strings.TrimPrefix(n, "*.") {
		return false, fmt.Sprintf("%s is a public suffix", n)
	}
	return true, ""
}
