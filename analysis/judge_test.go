package analysis

import (
	"fmt"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// A Judge fed the observations one at a time gives each the verdicts and
// error findings Analyze gives it in the whole trace: every scenario of the
// golden reports (Autodiscover answers, redirects, SRV, refused tunnels, an
// Outlook Anywhere principal that only an earlier answer names), each
// observation twice (the second time from the Judge's cache).
func TestJudgeAgreesWithAnalyze(t *testing.T) {
	p := scenarioCerts(t)
	exch := p.leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com")
	principal := []*record.Observation{
		withBody(httpsObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
			poxAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:exch01.contoso.com")),
		httpsObs(1, "RPC_IN_DATA", "https://mail.contoso.com/rpc/rpcproxy.dll?exch01:6001", 200, exch, "198.51.100.5:443"),
		tlsOnly(5, "mail.contoso.com", exch, "198.51.100.5:443"),
	}
	traces := map[string][]*record.Observation{"principal": principal}
	for _, sc := range scenarioList(t) {
		traces[sc.name] = sc.obs
	}
	for name, obs := range traces {
		t.Run(name, func(t *testing.T) {
			twice := append(append([]*record.Observation(nil), obs...), obs...)
			opts := Options{Roots: p.roots, Now: scenarioDay}
			whole := Analyze(twice, opts)
			j := NewJudge(opts)
			warned := 0
			for i, o := range twice {
				got, want := verdictWords(j.Item(o)), verdictWords(whole.Items[i])
				if got != want {
					t.Errorf("#%d %s: judge %s, Analyze %s", i+1, Describe(o), got, want)
				}
				if whole.Items[i].Warns("") {
					warned++
				}
			}
			if name == "principal" && warned == 0 {
				t.Fatal("the principal trace warns nowhere: the test tests nothing")
			}
		})
	}
}

// verdictWords is an item's warning profiles and error finding IDs.
func verdictWords(it *Item) string {
	var ids []string
	for _, f := range it.Findings {
		if f.Severity == SeverityError {
			ids = append(ids, f.ID+"/"+f.Profile)
		}
	}
	return fmt.Sprintf("warns %v for %s", it.WarningProfiles(match.Profiles()), strings.Join(ids, ","))
}
