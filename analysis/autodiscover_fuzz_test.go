package analysis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/certsleuth/certsleuth/record"
)

func addADSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "autodiscover", "*"))
	if len(files) == 0 {
		f.Fatal("no seed files in testdata/autodiscover")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		ct := "text/xml"
		if strings.HasSuffix(p, ".json") {
			ct = "application/json"
		}
		f.Add(ct, string(b))
	}
	f.Add("", "<Autodiscover><Response><Account><Action>redirectUrl</Action><RedirectUrl>x</RedirectUrl></Account></Response></Autodiscover>")
	f.Add("application/json", `{"Url":"https://a/","Protocol":"Ews","ErrorCode":""}`)
}

// FuzzParseAutodiscover: any body gives an answer or an error, never a
// panic; every field it returns names an absolute URL or a host, and says
// which form and setting it came from.
func FuzzParseAutodiscover(f *testing.F) {
	addADSeeds(f)
	f.Fuzz(func(t *testing.T, ct, body string) {
		a, err := ParseAutodiscover(ct, body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse autodiscover: ") {
				t.Fatalf("error without its operation: %v", err)
			}
			return
		}
		if a == nil {
			t.Fatal("nil answer without an error")
		}
		for _, fl := range a.Fields {
			if fl.Form != a.Form {
				t.Fatalf("field %+v has form %q in a %q answer", fl, fl.Form, a.Form)
			}
			if fl.Element == "" || fl.Value == "" {
				t.Fatalf("field without element or value: %+v", fl)
			}
			if strings.Contains(fl.Value, "://") && !isAbsURL(fl.Value) {
				t.Fatalf("field value %q is not an absolute URL", fl.Value)
			}
			_ = fl.Host()
			_ = fl.Label()
		}
		for _, p := range a.Principals {
			if p.Server == "" {
				t.Fatalf("principal without server: %+v", p)
			}
			_ = p.Effective()
		}
	})
}

// FuzzTraceOrigins runs a fuzzed Autodiscover answer, redirect and SRV
// answer through origin tracing and the culprit explanation: no panic, and
// every cause names where it came from.
func FuzzTraceOrigins(f *testing.F) {
	addADSeeds(f)
	f.Fuzz(func(t *testing.T, ct, body string) {
		if !utf8.ValidString(body) {
			return
		}
		loc := "https://exch01.contoso.local/autodiscover/autodiscover.xml"
		if len(body) > 0 && len(body) < 200 && !strings.ContainsAny(body, " \n<") {
			loc = body // fuzz the Location too
		}
		obs := []*record.Observation{
			{Kind: record.KindTLS, Source: record.SourceProxy, SNI: "exch01.contoso.local"}, // URL-less: SCP?
			{Kind: record.KindDNS, DNS: &record.DNS{Query: "_autodiscover._tcp.contoso.com", Type: "SRV",
				Answers: []record.DNSAnswer{{Type: "SRV", Value: strings.TrimSpace(body[:min(len(body), 40)]), Port: 443}}}},
			{Kind: record.KindHTTP, URL: "http://autodiscover.contoso.com/autodiscover/autodiscover.xml", Status: 302, Location: loc},
			{Kind: record.KindHTTP, URL: "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", Status: 200, Body: &record.Body{ContentType: ct, Text: body}},
			{Kind: record.KindHTTP, URL: "https://exch01.contoso.local/EWS/Exchange.asmx", SNI: "exch01.contoso.local"},
			{Kind: record.KindTLS, SNI: "mail.contoso.com"},
			{Kind: record.KindTLS, Source: record.SourceProxy, SNI: "exch01.contoso.local"}, // URL-less, after the answer
			{Kind: record.KindTLS, Source: record.SourceProbe, URL: loc, NoSNI: true},
			// A mail connection (matched by protocol and port), a Microsoft 365
			// name, and a response carrying Exchange's server headers.
			{Kind: record.KindTLS, Source: record.SourcePcap, SNI: "mail.contoso.com", Server: "10.0.0.5:993"},
			{Kind: record.KindTLS, Source: record.SourcePcap, SNI: "mail.contoso.com", Server: "10.0.0.5:587", StartTLS: "smtp"},
			{Kind: record.KindHTTP, URL: "https://outlook.office365.com/EWS/Exchange.asmx", SNI: "outlook.office365.com"},
			{Kind: record.KindHTTP, URL: "https://mail.contoso.com/OAB/x/oab.xml", SNI: "mail.contoso.com",
				Exchange: &record.ExchangeServers{FrontEnd: strings.TrimSpace(body[:min(len(body), 20)])}},
		}
		tr := TraceOrigins(obs)
		for i := range obs {
			for _, c := range tr.Chain(i + 1) {
				if c.Kind == "" || c.Text == "" {
					t.Fatalf("cause without kind or text: %+v", c)
				}
				if c.From > len(obs) || c.From < 0 {
					t.Fatalf("cause from #%d of %d", c.From, len(obs))
				}
				if c.Kind == CauseSameHost && (len(c.Either) < 2 || c.Setting == "") {
					t.Fatalf("same-host cause with %d settings: %+v", len(c.Either), c)
				}
			}
		}
		r := Analyze(obs, Options{Now: scenarioDay})
		for _, c := range r.Culprits() {
			if c.Verdict == "" {
				t.Fatal("culprit without a verdict")
			}
			// A command names a real server or the marked <SERVER> for the
			// admin to fill, never a placeholder inside an -Identity.
			for _, rm := range c.Remedies {
				if strings.Contains(rm.Command, `-Identity "<SERVER>`) || strings.Contains(rm.Command, `-Identity "\`) {
					t.Fatalf("command with an empty or placeholder -Identity: %s", rm.Command)
				}
			}
		}
	})
}

// FuzzExplainError: any pasted text gives matches or suggestions, never a
// panic, and every match names checks that exist.
func FuzzExplainError(f *testing.F) {
	for _, s := range []string{"0x80072F06", "0x800b010f", "NET::ERR_CERT_COMMON_NAME_INVALID", "Navnet på sikkerhetssertifikatet er ugyldig",
		"The name on the security certificate is invalid or does not match the name of the site", "", "0x", "ERR_CERT_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		res := ExplainError(s)
		for _, m := range res.Matches {
			for _, id := range m.Checks {
				if LookupCheck(id) == nil {
					t.Fatalf("match %q names unknown check %q", m.ID, id)
				}
			}
		}
		if len(res.Matches) == 0 && len(res.Suggestions) == 0 {
			t.Fatalf("no match and no suggestion for %q", s)
		}
	})
}
