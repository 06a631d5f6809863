package analysis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/certsleuth/certsleuth/record"
)

// adCorpus returns the Autodiscover answers of the corpus as (content
// type, body) pairs.
func adCorpus(tb testing.TB) [][2]string {
	files, _ := filepath.Glob(filepath.Join(adCorpusDir, "*"))
	if len(files) == 0 {
		tb.Fatalf("no answers in %s", adCorpusDir)
	}
	var out [][2]string
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		ct := "text/xml"
		if strings.HasSuffix(p, ".json") {
			ct = "application/json"
		}
		out = append(out, [2]string{ct, string(b)})
	}
	return out
}

// FuzzTraceOrigins runs a fuzzed Autodiscover answer, redirect and SRV
// answer through origin tracing and the culprit explanation: no panic, and
// every cause names where it came from.
func FuzzTraceOrigins(f *testing.F) {
	for _, b := range adCorpus(f) {
		f.Add(b[0], b[1])
	}
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
