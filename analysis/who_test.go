package analysis

import (
	"regexp"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

func TestClientWords(t *testing.T) {
	all := match.Profiles()
	var allNames []string
	for _, p := range all {
		allNames = append(allNames, p.Name)
	}
	chosen, _ := match.SelectProfiles([]string{"apple", "chromium"})
	tests := []struct {
		name string
		warn []string
		of   []*match.Profile
		want string
	}{
		{"every profile", allNames, all, "Every client"},
		{"two", []string{"chromium", "go"}, all, "Each of Chromium and Go"},
		{"one", []string{"go"}, all, "Go"},
		{"one of many, lower case", []string{"curl"}, all, "Curl"},
		{"all but one", allNames[1:], all, "Every client but Windows"},
		{"every chosen profile is not every client", []string{"apple", "chromium"}, chosen, "Each of Apple and Chromium"},
		{"none", nil, all, "A client"},
	}
	for _, tt := range tests {
		if got := clientWordsOf(tt.warn, tt.of); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Outlook is named only when the client is known to be Outlook for
// Windows: by its User-Agent (the proxy records it), or because the check
// is Outlook Anywhere's principal. A port 25 SMTP capture is not Outlook.
func TestWhoWarns(t *testing.T) {
	p := scenarioCerts(t)
	exch := p.leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com")
	req := func(ua string) *record.Observation {
		o := httpsObs(0, "POST", "https://exch01.contoso.local/EWS/Exchange.asmx", 200, exch, exchAddr)
		o.UserAgent = ua
		return o
	}
	smtp := &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: at(0), Client: "203.0.113.9:40000", Server: "10.0.0.5:25",
		SNI: "exch01.contoso.local", StartTLS: "smtp", TLSVersion: "TLS 1.2", Chain: exch, Visibility: record.VisVisible}
	tests := []struct {
		name string
		obs  *record.Observation
		want string // the verdict's first words
	}{
		{"Outlook for Windows", req("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"), "Outlook (and every other client) asked for"},
		{"Outlook Anywhere", req("MSRPC"), "Outlook (and every other client) asked for"},
		{"Outlook for Mac is not Windows", req("Microsoft Office/16.0 (Macintosh; Mac OS X 14.5; Microsoft Outlook 16.86)"), "Every client asked for"},
		{"an iPhone", req("Apple-iPhone15C2/2104.215"), "Every client asked for"},
		{"no User-Agent", req(""), "Every client asked for"},
		{"server-to-server SMTP on port 25", smtp, "Every client"},
	}
	for _, tt := range tests {
		r := Analyze([]*record.Observation{tt.obs}, Options{Roots: p.roots, Now: scenarioDay})
		cs := r.Culprits()
		if len(cs) != 1 {
			t.Fatalf("%s: %d culprits", tt.name, len(cs))
		}
		if !strings.HasPrefix(cs[0].Verdict, tt.want) {
			t.Errorf("%s: verdict %q, want it to start %q", tt.name, cs[0].Verdict, tt.want)
		}
		if tt.want != "Outlook" && strings.HasPrefix(tt.want, "Every") && strings.Contains(cs[0].Verdict, "Outlook (") {
			t.Errorf("%s: verdict names Outlook: %q", tt.name, cs[0].Verdict)
		}
	}
}

// What Go's libraries say becomes a sentence; the words before it stay.
func TestErrorWords(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"connect to 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused", "connect to 127.0.0.1:1: nothing accepts connections on that address and port (connection refused)"},
		{"upstream exch01.contoso.local:443 closed or failed before answering: EOF", "upstream exch01.contoso.local:443 closed or failed before answering: the other side closed the connection"},
		{"upstream TLS handshake with mail.contoso.test:443 failed: remote error: tls: handshake failure", `upstream TLS handshake with mail.contoso.test:443 failed: the other side ended the handshake with the TLS alert "handshake failure"`},
		{"client TLS handshake: tls: client offered only unsupported versions: [302 301] (an old client: run the proxy with --legacy-tls)", "client TLS handshake: client and server share no TLS version (an old client: run the proxy with --legacy-tls)"},
		{"TLS handshake with 10.0.0.5:443: tls: first record does not look like a TLS handshake", "TLS handshake with 10.0.0.5:443: the server does not speak TLS on that port"},
		{"connect to mail.contoso.test:443: dial tcp: lookup mail.contoso.test: no such host", "connect to mail.contoso.test:443: the name does not resolve in DNS"},
		{"connect to 10.0.0.5:443: dial tcp 10.0.0.5:443: i/o timeout", "connect to 10.0.0.5:443: no answer in time"},
		{"TLS handshake with 10.0.0.5:443: x509: certificate signed by unknown authority", "TLS handshake with 10.0.0.5:443: no trusted root issued the chain"},
		{"the client rejected the certificate it was shown (TLS alert \"bad certificate\")", "the client rejected the certificate it was shown (TLS alert \"bad certificate\")"},
		{"something new: tls: a thing Go adds one day", "something new: it failed (the JSON report has the details)"},
	}
	raw := regexp.MustCompile(`dial tcp|x509: |tls: |remote error|EOF|connect: `)
	for _, tt := range tests {
		got := ErrorWords(tt.raw)
		if got != tt.want {
			t.Errorf("ErrorWords(%q)\n got %q\nwant %q", tt.raw, got, tt.want)
		}
		if raw.MatchString(got) {
			t.Errorf("ErrorWords(%q) keeps Go's words: %q", tt.raw, got)
		}
	}
}

// clientWordsOf's memo gives, for any lists, the words made anew: the
// same list again, lists that differ only in order or in the profiles
// chosen, and names with the memo key's separators in them.
func TestClientWordsMemo(t *testing.T) {
	all := match.Profiles()
	var names []string
	for _, p := range all {
		names = append(names, p.Name)
	}
	odd := []*match.Profile{{Name: "a\x00b"}, {Name: "a"}, {Name: "b\x01"}}
	cases := []struct {
		warn []string
		all  []*match.Profile
	}{
		{nil, all}, {names[:1], all}, {names[:2], all}, {names, all}, {names[1:], all}, {names[:2], all[:2]},
		{[]string{names[1], names[0]}, all}, {names[:1], all[:3]}, {[]string{"a\x00b"}, odd}, {[]string{"a", "b\x01"}, odd}, {[]string{"a"}, odd},
	}
	for pass := range 2 {
		for i, c := range cases {
			if got, want := clientWordsOf(c.warn, c.all), makeClientWords(c.warn, c.all); got != want {
				t.Errorf("pass %d, case %d (%q of %d): %q, want %q", pass, i, c.warn, len(c.all), got, want)
			}
		}
	}
}
