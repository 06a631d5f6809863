package exchange

import (
	"net/url"
	"strings"
	"testing"
)

// URLHostPath gives what net/url gives, the empty URL included (which it
// answers without parsing), and allocates nothing for it.
func TestURLHostPath(t *testing.T) {
	for _, s := range []string{
		"", "   ", "\t\n", "https://Mail.Contoso.com./EWS/Exchange.asmx", " https://mail.contoso.com/owa/ ",
		"HTTP://autodiscover.contoso.com:80/Autodiscover/Autodiscover.xml?x=1", "https://[2001:db8::1]:443/ews/",
		"mail.contoso.com", "/relative/path", "://bad", "https://host/%zz", "mailto:alice@contoso.com",
	} {
		host, path, scheme := URLHostPath(s)
		var wh, wp, ws string
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil {
			wh, wp, ws = NormHost(u.Hostname()), strings.TrimSuffix(strings.ToLower(u.Path), "/"), strings.ToLower(u.Scheme)
		}
		if host != wh || path != wp || scheme != ws {
			t.Errorf("URLHostPath(%q) = %q, %q, %q; net/url gives %q, %q, %q", s, host, path, scheme, wh, wp, ws)
		}
	}
	if n := testing.AllocsPerRun(10, func() { URLHostPath(""); IsAutodiscoverURL("") }); n != 0 {
		t.Errorf("URLHostPath and IsAutodiscoverURL of an empty URL allocate %v times; want 0", n)
	}
}
