package analysis

import (
	"reflect"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// Culprits group a request with its repeats (Outlook's hourly Autodiscover
// rerun brings the same warning back).
func TestCulpritRepeats(t *testing.T) {
	r := analyzeScenario(t, scenarioList(t)[0]) // kb940726
	got := map[int][]int{}
	for _, c := range r.Causes() {
		var reps []int
		for _, it := range r.Items {
			if r.CauseOf(it.Index) == c && it.Index != c.Index {
				reps = append(reps, it.Index)
			}
		}
		got[c.Index] = reps
	}
	want := map[int][]int{2: {5}, 3: {6}, 4: nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("culprits and repeats = %v, want %v", got, want)
	}
}

// The remedy is for the Exchange release the Autodiscover answer reveals:
// Exchange 2010 gets Set-ClientAccessServer and the app pool recycle.
func TestRemedyVersionFromTrace(t *testing.T) {
	p := scenarioCerts(t)
	cert := p.leaf("webmail.fabrikam.com", "webmail.fabrikam.com", "autodiscover.fabrikam.com")
	obs := []*record.Observation{
		withBody(httpsObs(0, "POST", "https://ex2010.fabrikam.local/autodiscover/autodiscover.xml", 200, cert, "10.1.0.9:443"), readAD(t, "pox-2006-exchange2010.xml")),
		httpsObs(1, "POST", "https://ex2010.fabrikam.local/EWS/Exchange.asmx", 200, cert, "10.1.0.9:443"),
		httpsObs(2, "POST", "https://ex2010.fabrikam.local/UnifiedMessaging/Service.asmx", 200, cert, "10.1.0.9:443"),
	}
	ps, _ := match.SelectProfiles([]string{"windows"})
	r := Analyze(obs, Options{Profiles: ps, Roots: p.roots, Now: scenarioDay})
	cs := r.Culprits()
	if len(cs) != 3 {
		t.Fatalf("%d culprits, want 3", len(cs))
	}
	tests := []struct {
		cmd, note string
	}{
		{"Set-ClientAccessServer -Identity EX2010 -AutoDiscoverServiceInternalUri https://webmail.fabrikam.com/Autodiscover/Autodiscover.xml", "MSExchangeAutodiscoverAppPool"},
		{`Set-WebServicesVirtualDirectory -Identity "EX2010\EWS (Default Web Site)" -InternalUrl https://webmail.fabrikam.com/EWS/Exchange.asmx`, ""},
		{`Set-UMVirtualDirectory -Identity "EX2010\UnifiedMessaging (Default Web Site)" -InternalUrl https://webmail.fabrikam.com/UnifiedMessaging/Service.asmx`, "follows the EWS URL"},
	}
	for i, tt := range tests {
		rm := cs[i].Remedies[0]
		if rm.Command != tt.cmd || rm.Version != "2010" || rm.Assumed {
			t.Errorf("culprit %d: %s (Exchange %s, assumed %v)\nwant %s", i+1, rm.Command, rm.Version, rm.Assumed, tt.cmd)
		}
		if !strings.Contains(rm.Note, tt.note) {
			t.Errorf("culprit %d: note %q lacks %q", i+1, rm.Note, tt.note)
		}
		if !strings.Contains(cs[i].Verdict, "ex2010.fabrikam.local is an internal name no public CA can put on a certificate") {
			t.Errorf("culprit %d: verdict %q does not say the name cannot be on a public certificate", i+1, cs[i].Verdict)
		}
	}
	// The DNS record for the new name: the trace never reached it.
	if len(cs[1].Remedies) < 2 || cs[1].Remedies[1].Setting != exchange.SettingHostRecord || !strings.Contains(cs[1].Remedies[1].Command, "webmail.fabrikam.com. A 10.1.0.9") {
		t.Errorf("EWS culprit remedies: %+v", cs[1].Remedies)
	}
}

// A clean trace has no culprit, and a warning without any origin still
// gets a verdict and the generic remedy.
func TestCulpritWithoutOrigin(t *testing.T) {
	p := scenarioCerts(t)
	obs := []*record.Observation{httpsObs(0, "GET", "https://intranet.contoso.com/", 200, p.leaf("mail.contoso.com", "mail.contoso.com"), exchAddr)}
	r := Analyze(obs, Options{Roots: p.roots, Now: scenarioDay})
	cs := r.Culprits()
	if len(cs) != 1 {
		t.Fatalf("%d culprits", len(cs))
	}
	c := cs[0]
	if !strings.Contains(c.Verdict, "warns on intranet.contoso.com, which nothing earlier in the trace names") || c.Remedies[0].Command != fixNameOrURL {
		t.Errorf("verdict %q, remedies %+v", c.Verdict, c.Remedies)
	}
}

// A culprit whose connections carried no URL gets every setting that names
// its host, the SCP first when its first connection was inferred to be the
// SCP request (the demo relies on that order), and a command for each.
func TestCulpritSameHostSettings(t *testing.T) {
	var sc scenario
	for _, s := range scenarioList(t) {
		if s.name == "proxy-refused" {
			sc = s
		}
	}
	cs := analyzeScenario(t, sc).Culprits()
	if len(cs) != 1 {
		t.Fatalf("%d culprits, want 1", len(cs))
	}
	c := cs[0]
	if len(c.Origin) != 1 || c.Origin[0].Kind != CauseSameHost || c.Origin[0].Setting != exchange.SettingSCP || len(c.Origin[0].Either) != 3 {
		t.Fatalf("origin %+v, want one same-host cause with 3 settings, the SCP first", c.Origin)
	}
	var got []string
	for _, rm := range c.Remedies {
		got = append(got, rm.Setting)
	}
	if want := []string{exchange.SettingSCP, exchange.SettingEWS, exchange.SettingOAB, exchange.SettingHostRecord}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("remedy settings %v, want %v", got, want)
	}
	if c.NewName != "mail.contoso.com" {
		t.Errorf("new name %q", c.NewName)
	}
}

// certsleuth check's targets: the verdict says a client would warn there,
// not that a client was sent there; a path Exchange hands out gives that
// setting's command as a hedged fix, any other path the generic fix.
func TestCulpritCheckTarget(t *testing.T) {
	p := scenarioCerts(t)
	exch := p.leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com")
	tests := []struct {
		url, verdict, setting string
	}{
		{"https://exch01.contoso.local/EWS/Exchange.asmx", "if Exchange hands clients this URL, change it with Set-WebServicesVirtualDirectory", exchange.SettingEWS},
		{"https://exch01.contoso.local/OAB/x/oab.xml", "Set-OabVirtualDirectory", exchange.SettingOAB},
		{"https://exch01.contoso.local/", "fix: Give clients a name the certificate covers, such as mail.contoso.com, wherever exch01.contoso.local is configured", ""},
	}
	for _, tt := range tests {
		r := Analyze([]*record.Observation{probeObs(0, tt.url, true, exch, exchAddr), probeObs(0, tt.url, false, exch, exchAddr)}, Options{Roots: p.roots, Now: scenarioDay})
		cs := r.Culprits()
		if len(cs) != 1 {
			t.Fatalf("%s: %d culprits, want 1 (the no-SNI look grouped with it)", tt.url, len(cs))
		}
		c := cs[0]
		if !strings.HasPrefix(c.Verdict, "Every client would warn on exch01.contoso.local: ") || !strings.Contains(c.Verdict, tt.verdict) {
			t.Errorf("%s: verdict %q", tt.url, c.Verdict)
		}
		if strings.Contains(c.Verdict, "configured or cached") || len(c.Origin) != 1 || c.Origin[0].Kind != CauseCheckTarget {
			t.Errorf("%s: verdict %q, origin %+v", tt.url, c.Verdict, c.Origin)
		}
		if c.Remedies[0].Setting != tt.setting {
			t.Errorf("%s: first remedy %+v, want setting %q", tt.url, c.Remedies[0], tt.setting)
		}
	}
}

// MailProtocol names the mail protocol from STARTTLS, else from the
// implicit-TLS ports of a captured connection.
func TestMailProtocol(t *testing.T) {
	for _, c := range []struct {
		o    record.Observation
		want string
	}{
		{record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Server: "192.0.2.25:587", StartTLS: "smtp"}, "smtp"},
		{record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Server: "192.0.2.25:143", StartTLS: "imap"}, "imap"},
		{record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Server: "192.0.2.25:993"}, "imap"},
		{record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Server: "[2001:db8::25]:995"}, "pop3"},
		{record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Server: "192.0.2.25:465"}, "smtp"},
		{record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Server: "192.0.2.25:443"}, ""},
		{record.Observation{Kind: record.KindTLS, Source: record.SourceProxy, Server: "192.0.2.25:993"}, ""},
		{record.Observation{Kind: record.KindHTTP, Source: record.SourcePcap, Server: "192.0.2.25:993"}, ""},
	} {
		if got := MailProtocol(&c.o); got != c.want {
			t.Errorf("MailProtocol(%s, starttls %q, %s) = %q, want %q", c.o.Server, c.o.StartTLS, c.o.Source, got, c.want)
		}
	}
}
