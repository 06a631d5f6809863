package exchange

import (
	"net/url"
	"strings"
)

// URLHostPath splits a URL into its host (as NormHost gives it), its path
// in lower case without a trailing slash, and its scheme in lower case; all
// three are "" when s does not parse as a URL.
func URLHostPath(s string) (host, path, scheme string) {
	s = strings.TrimSpace(s)
	if s == "" {
		// What url.Parse gives, without its allocation: most observations
		// of a capture (TLS connections) have no URL, and origin tracing
		// splits each one's several times.
		return "", "", ""
	}
	u, err := url.Parse(s)
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
