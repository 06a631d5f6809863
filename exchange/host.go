package exchange

import (
	"net/url"
	"strings"
)

// URLHostPath splits a URL into its host (as NormHost gives it), its path
// in lower case without a trailing slash, and its scheme in lower case; all
// three are "" when s does not parse as a URL.
func URLHostPath(s string) (host, path, scheme string) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", "", ""
	}
	return NormHost(u.Hostname()), strings.TrimSuffix(strings.ToLower(u.Path), "/"), strings.ToLower(u.Scheme)
}

// NormHost is a host name as certsleuth compares it: trimmed, in lower
// case, without a trailing dot.
func NormHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}
