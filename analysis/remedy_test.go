package analysis

import (
	"reflect"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// Culprits group a request with its repeats (Outlook's hourly Autodiscover
// rerun brings the same warning back).
func TestCulpritRepeats(t *testing.T) {
	r := analyzeScenario(t, scenarioList(t)[0]) // kb940726
	cs := r.Culprits()
	got := map[int][]int{}
	for _, c := range cs {
		var reps []int
		for _, it := range c.Repeats {
			reps = append(reps, it.Index)
		}
		got[c.First.Index] = reps
	}
	want := map[int][]int{2: {5}, 3: {6}, 4: nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("culprits and repeats = %v, want %v", got, want)
	}
	if w := whenWords(cs[0]); !strings.Contains(w, "again 1 time") || !strings.Contains(w, "re-runs Autodiscover about hourly") {
		t.Errorf("when = %q", w)
	}
	if w := whenWords(cs[2]); strings.Contains(w, "again") {
		t.Errorf("a culprit without repeats: when = %q", w)
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
	ps, _ := SelectProfiles([]string{"windows"})
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
	if len(cs[1].Remedies) < 2 || cs[1].Remedies[1].Setting != SettingHostRecord || !strings.Contains(cs[1].Remedies[1].Command, "webmail.fabrikam.com. A 10.1.0.9") {
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
	if !strings.Contains(c.Verdict, "asked for intranet.contoso.com because nothing earlier in the trace names it") || c.Remedies[0].Command != fixNameOrURL {
		t.Errorf("verdict %q, remedies %+v", c.Verdict, c.Remedies)
	}
}
