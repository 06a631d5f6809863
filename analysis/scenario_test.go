package analysis

import (
	"crypto/ed25519"
	"crypto/x509"
	"testing"

	scen "github.com/certsleuth/certsleuth/internal/scenario"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// The scenario traces live in internal/scenario, which the report tests
// share; these names keep the analysis tests short.

type scenario struct {
	name     string
	title    string
	profiles []string // nil: every profile
	obs      []*record.Observation
	culprits int // culprit groups the report must have
}

func scenarioList(t testing.TB) []scenario {
	var out []scenario
	for _, s := range scen.List(t) {
		out = append(out, scenario{name: s.Name, title: s.Title, profiles: s.Profiles, obs: s.Obs, culprits: s.Culprits})
	}
	return out
}

type scenarioPKI struct {
	ca    *x509.Certificate
	caKey ed25519.PrivateKey
	roots *x509.CertPool
	leaf  func(cn string, sans ...string) [][]byte
}

func scenarioCerts(t testing.TB) *scenarioPKI {
	p := scen.Certs(t)
	return &scenarioPKI{ca: p.CA, caKey: p.CAKey, roots: p.Roots, leaf: p.Leaf}
}

var (
	scenarioDay      = scen.Day
	httpsObs         = scen.HTTPSObs
	withBody         = scen.WithBody
	poxAnswer        = scen.POXAnswer
	tlsOnly          = scen.TLSOnly
	asOutlook        = scen.AsOutlook
	probeObs         = scen.ProbeObs
	mobileSyncAnswer = scen.MobileSyncAnswer
	at               = scen.At
)

const exchAddr = scen.ExchAddr

// analyzeScenario runs Analyze the way replay does, with the scenario CA
// trusted and a fixed clock.
func analyzeScenario(t testing.TB, sc scenario) *Report {
	t.Helper()
	ps, err := match.SelectProfiles(sc.profiles)
	if err != nil {
		t.Fatal(err)
	}
	return Analyze(sc.obs, Options{Profiles: ps, Roots: scen.Certs(t).Roots, Now: scenarioDay})
}

// TestScenarios: each scenario has the culprits it should (what its report
// says is report's TestScenarioReports), and the clean one no finding.
func TestScenarios(t *testing.T) {
	for _, sc := range scenarioList(t) {
		t.Run(sc.name, func(t *testing.T) {
			r := analyzeScenario(t, sc)
			cs := r.Culprits()
			if len(cs) != sc.culprits {
				for _, c := range cs {
					t.Logf("culprit #%d %s: %v", c.First.Index, c.First.Name, c.Findings)
				}
				t.Fatalf("%d culprits, want %d", len(cs), sc.culprits)
			}
			if sc.culprits == 0 {
				for _, it := range r.Items {
					if len(it.Findings) > 0 {
						t.Errorf("clean scenario: item #%d has findings %v", it.Index, it.Findings)
					}
				}
			}
		})
	}
}
