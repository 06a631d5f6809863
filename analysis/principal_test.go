package analysis

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

func parseLeaf(t testing.TB, der [][]byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckPrincipal(t *testing.T) {
	p := scenarioCerts(t)
	mail := parseLeaf(t, p.leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com"))
	wild := parseLeaf(t, p.leaf("*.contoso.com", "*.contoso.com", "contoso.com"))
	cnOther := parseLeaf(t, p.leaf("legacy.contoso.com", "mail.contoso.com", "legacy.contoso.com"))
	tests := []struct {
		name      string
		pr        exchange.ADPrincipal
		leaf      *x509.Certificate
		kind      exchange.PrincipalKind
		suggest   string
		isDefault bool
		reason    string
	}{
		{"equals the CN", exchange.ADPrincipal{Server: "mail.contoso.com", Principal: "msstd:mail.contoso.com"}, mail, exchange.PrincipalOK, "", false, "subject CN"},
		{"case-insensitive", exchange.ADPrincipal{Server: "mail.contoso.com", Principal: "MSSTD:Mail.Contoso.COM"}, mail, exchange.PrincipalOK, "", false, ""},
		{"default msstd:<Server>", exchange.ADPrincipal{Server: "mail.contoso.com"}, mail, exchange.PrincipalOK, "", true, ""},
		{"default on a server the certificate lacks", exchange.ADPrincipal{Server: "exch01.contoso.local"}, mail, exchange.PrincipalMismatch, "mail.contoso.com", true, "not on the certificate"},
		{"names another host; the certificate names the server", exchange.ADPrincipal{Server: "mail.contoso.com", Principal: "msstd:exch01.contoso.com"}, mail, exchange.PrincipalMismatch, "mail.contoso.com", false, "should be msstd:mail.contoso.com"},
		{"SAN but not CN: XP-era Outlook refuses", exchange.ADPrincipal{Server: "mail.contoso.com", Principal: "msstd:mail.contoso.com"}, cnOther, exchange.PrincipalSANOnly, "legacy.contoso.com", false, "Windows XP compares the CN only"},
		{"wildcard certificate, host principal", exchange.ADPrincipal{Server: "mail.contoso.com", Principal: "msstd:mail.contoso.com"}, wild, exchange.PrincipalWildcard, "*.contoso.com", false, "without wildcard expansion"},
		{"wildcard certificate, wildcard principal", exchange.ADPrincipal{Server: "mail.contoso.com", Principal: "msstd:*.contoso.com"}, wild, exchange.PrincipalOK, "", false, ""},
		{"none: Windows checks itself", exchange.ADPrincipal{Server: "mail.contoso.com", Principal: "none"}, mail, exchange.PrincipalNone, "", false, "none"},
		{"no msstd: prefix", exchange.ADPrincipal{Server: "mail.contoso.com", Principal: "mail.contoso.com"}, mail, exchange.PrincipalNotMSSTD, "", false, "does not start with msstd:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := exchange.CheckPrincipal(tt.pr, tt.leaf)
			if v.Kind != tt.kind || v.Suggest != tt.suggest || v.Default != tt.isDefault {
				t.Errorf("= %s suggest %q default %v, want %s suggest %q default %v (%s)", v.Kind, v.Suggest, v.Default, tt.kind, tt.suggest, tt.isDefault, v.Reason)
			}
			if !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("reason %q lacks %q", v.Reason, tt.reason)
			}
			f := principalFinding(v, "EXPR", "answer #1", tt.leaf)
			switch tt.kind {
			case exchange.PrincipalOK, exchange.PrincipalNone:
				if f != nil {
					t.Errorf("finding for a passing principal: %+v", f)
				}
			case exchange.PrincipalSANOnly:
				if f == nil || f.Severity != SeverityWarning {
					t.Errorf("SAN-only must be a warning: %+v", f)
				}
			default:
				if f == nil || f.Severity != "" || f.ID != exchange.PrincipalCheckID {
					t.Fatalf("finding = %+v, want an error-severity %s", f, exchange.PrincipalCheckID)
				}
				if tt.suggest != "" && f.Remedy != `Set-OutlookProvider EXPR -CertPrincipalName "msstd:`+tt.suggest+`"` {
					t.Errorf("remedy %q", f.Remedy)
				}
			}
		})
	}
}

// The principal is judged on later requests to the EXPR host, for the
// windows profile only (it is Outlook's rule).
func TestPrincipalTraceFindings(t *testing.T) {
	p := scenarioCerts(t)
	exch := p.leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com")
	obs := []*record.Observation{
		withBody(httpsObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
			poxAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:exch01.contoso.com")),
		httpsObs(1, "RPC_IN_DATA", "https://mail.contoso.com/rpc/rpcproxy.dll?exch01:6001", 200, exch, "198.51.100.5:443"),
		httpsObs(2, "POST", "https://autodiscover.contoso.com/EWS/Exchange.asmx", 200, exch, "198.51.100.5:443"),
		// Same host as Outlook Anywhere, but not RPC over HTTP: Outlook
		// checks only the name on EWS and OAB.
		httpsObs(3, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200, exch, "198.51.100.5:443"),
		httpsObs(4, "GET", "https://mail.contoso.com/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/oab.xml", 200, exch, "198.51.100.5:443"),
		// A mirror-mode proxy's connection without a request whose name
		// passes: Outlook dropped it after the handshake, the principal.
		tlsOnly(5, "mail.contoso.com", exch, "198.51.100.5:443"),
		// The same seen in a capture, request encrypted, no alert: unknown.
		{Kind: record.KindTLS, Source: record.SourcePcap, Time: at(6), Client: "10.0.0.20:50000", Server: "198.51.100.5:443",
			SNI: "mail.contoso.com", TLSVersion: "TLS 1.2", Chain: exch, Visibility: record.VisVisible},
	}
	for _, prof := range []string{"windows", "chromium"} {
		ps, _ := match.SelectProfiles([]string{prof})
		r := Analyze(obs, Options{Profiles: ps, Roots: p.roots, Now: scenarioDay})
		for _, i := range []int{1, 5} {
			got := hasFinding(r.Items[i], exchange.PrincipalCheckID)
			if got != (prof == "windows") {
				t.Errorf("%s: principal finding on #%d %s = %v", prof, i+1, Describe(r.Items[i].Obs), got)
			}
		}
		for _, i := range []int{0, 2, 3, 4, 6} {
			if hasFinding(r.Items[i], exchange.PrincipalCheckID) {
				t.Errorf("%s: principal finding on #%d %s, which is not an Outlook Anywhere connection", prof, i+1, Describe(r.Items[i].Obs))
			}
		}
		if prof != "windows" {
			continue
		}
		// The origin of an Outlook Anywhere connection whose principal
		// fails is the EXPR block and its CertPrincipalName.
		for _, i := range []int{1, 5} {
			o := r.Items[i].Origin
			if len(o) == 0 || o[0].Setting != exchange.SettingOutlookAnywhere || o[0].From != 1 || !strings.Contains(o[0].Text, "requires the principal msstd:exch01.contoso.com (its CertPrincipalName") {
				t.Errorf("#%d origin %+v, want the EXPR Server and CertPrincipalName of #1", i+1, o)
			}
		}
		// The RPC request and the URL-less connection (two URLs, so two
		// culprits), each fixed by the principal.
		cs := r.Culprits()
		if len(cs) != 2 {
			t.Errorf("%d culprits, want 2 (the Outlook Anywhere connections)", len(cs))
		}
		for _, c := range cs {
			if c.Remedies[0].Command != `Set-OutlookProvider EXPR -CertPrincipalName "msstd:mail.contoso.com"` {
				t.Errorf("culprit #%d: remedy %q, want Set-OutlookProvider", c.First.Index, c.Remedies[0].Command)
			}
		}
	}
}

// EXHTTP blocks carry a principal too (default msstd:<Server>): a request to
// the internal Outlook Anywhere host is judged against it.
func TestPrincipalEXHTTP(t *testing.T) {
	p := scenarioCerts(t)
	exch := p.leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com")
	obs := []*record.Observation{
		withBody(httpsObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, exchAddr), readAD(t, "pox-2006a-full.xml")),
		httpsObs(1, "RPC_IN_DATA", "https://exch01.contoso.local/rpc/rpcproxy.dll?exch01:6001", 200, exch, exchAddr),
	}
	ps, _ := match.SelectProfiles([]string{"windows"})
	r := Analyze(obs, Options{Profiles: ps, Roots: p.roots, Now: scenarioDay})
	var f *Finding
	for i := range r.Items[1].Findings {
		if r.Items[1].Findings[i].ID == exchange.PrincipalCheckID {
			f = &r.Items[1].Findings[i]
		}
	}
	if f == nil || !strings.Contains(f.Summary, "msstd:exch01.contoso.local") || f.Evidence[0].From != "default msstd:<EXHTTP Server> (no CertPrincipalName) in Autodiscover answer #1" {
		t.Fatalf("principal finding = %+v", f)
	}
}
