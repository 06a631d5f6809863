package analysis

import (
	"crypto/x509"
	"encoding/json"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// TestChainOnlyChecks holds every ChainOnly check to what the judge
// assumes when it runs it once per chain and profile: on every chain of
// the scenarios, for every profile, its finding does not change when the
// observation, the name asked, the time or the verdict do.
func TestChainOnlyChecks(t *testing.T) {
	var checks []*Check
	for _, c := range DefaultRegistry.All() {
		if c.ChainOnly {
			checks = append(checks, c)
		}
	}
	if len(checks) < 5 {
		t.Fatalf("only %d ChainOnly checks", len(checks))
	}
	// The scenarios' chains, and the checks' odd ones (checks_test.go)
	// under their root and under none; one leaves out its intermediate
	// and names it by AIA.
	type input struct {
		name  string
		roots *x509.CertPool
		now   time.Time
		obs   []*record.Observation
	}
	var inputs []input
	for _, sc := range scenarioList(t) {
		inputs = append(inputs, input{sc.name, scenarioCerts(t).roots, scenarioDay, sc.obs})
	}
	p := newCheckPKI(t)
	now := time.Now()
	var odd []*record.Observation
	malformed := p.ca.Malformed(t, testcert.MalformedNegativeSerial).Certificate // cert.malformed's
	for _, chain := range [][][]byte{p.right, p.cnOnly, p.noEKU, p.client, p.long, p.self, p.weakRSA, p.sha1, aiaOnlyLeaf(t, p.ca), malformed} {
		odd = append(odd, &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: now, Client: "10.0.0.5:50000", Server: "10.0.0.9:443",
			SNI: "mail.contoso.com", Chain: chain, Visibility: record.VisVisible, TLSVersion: "TLS 1.2"})
	}
	inputs = append(inputs, input{"checks PKI", p.roots, now, odd}, input{"checks PKI, no roots", x509.NewCertPool(), now, odd})
	profiles := append([]*match.Profile{nil}, match.Profiles()...)
	subjects, found := 0, map[string]bool{}
	for _, sc := range inputs {
		j := newJudger(Options{Roots: sc.roots, Now: sc.now}.withDefaults())
		for _, o := range sc.obs {
			if len(o.Chain) == 0 || len(o.AIA) > 0 {
				continue
			}
			pc := j.chain(o)
			s := j.subject(o, &pc)
			if len(s.Chain) == 0 {
				continue
			}
			subjects++
			other := *o
			other.SNI, other.Host, other.URL, other.Connect, other.DNSName = "elsewhere.example.net", "elsewhere.example.net", "https://elsewhere.example.net/owa", "", ""
			other.Client, other.Conn, other.Time, other.Error, other.ClientAlert = "192.0.2.77:50000", "other", o.Time.Add(-20*365*24*time.Hour), "", ""
			for _, p := range profiles {
				ps := *s
				ps.Profile = p
				var v match.Verdict
				if p != nil && ps.Name != "" {
					v = match.Match(s.Leaf(), ps.Name, p)
					ps.Verdict = &v
				}
				variants := map[string]Subject{}
				alt := ps
				alt.Obs = &other
				variants["another observation"] = alt
				alt = ps
				alt.Name, alt.NameFrom = "elsewhere.example.net", record.NameSource("sni")
				variants["another name"] = alt
				for _, at := range []time.Time{ps.At.AddDate(30, 0, 0), ps.At.AddDate(-30, 0, 0)} {
					alt = ps
					alt.At = at
					variants["the time "+at.Format(time.DateOnly)] = alt
				}
				if p != nil {
					alt = ps
					other := match.Match(s.Leaf(), "elsewhere.example.net", p)
					alt.Verdict = &other
					variants["another verdict"] = alt
					alt = ps
					alt.Verdict = nil
					variants["no verdict"] = alt
				}
				for _, c := range checks {
					if c.PerProfile != (p != nil) {
						continue
					}
					want := findingJSON(t, c.run(&ps))
					if want != "null" {
						found[c.ID] = true
					}
					for what, alt := range variants {
						if got := findingJSON(t, c.run(&alt)); got != want {
							t.Errorf("%s: %s on %s's chain, profile %v: with %s the finding is\n%s\nnot\n%s", sc.name, c.ID, o.SNI, p, what, got, want)
						}
					}
				}
			}
		}
	}
	if subjects < 10 || len(found) < len(checks)-2 {
		t.Fatalf("%d subjects, findings from only %d ChainOnly checks (%v): the scenarios no longer test them", subjects, len(found), found)
	}
}

func findingJSON(t *testing.T, f *Finding) string {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// aiaOnlyLeaf mints a leaf under a fresh intermediate of ca that names
// the intermediate by an AIA caIssuers URL, and returns the leaf alone:
// a server that leaves out its intermediate.
func aiaOnlyLeaf(t *testing.T, ca *testcert.CA) [][]byte {
	t.Helper()
	return [][]byte{leafUnder(t, ca, "Checks AIA Intermediate", "http://127.0.0.1:9/checks-aia.cer", 7102)}
}
