package analysis

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// TestPipelineMatchesAnalyze streams every scenario through a Pipeline
// and holds what it hands the sink and what it keeps to Analyze's items,
// culprits, totals and certificate plan: streaming changes no verdict.
func TestPipelineMatchesAnalyze(t *testing.T) {
	for _, sc := range scenarioList(t) {
		for _, v := range []struct {
			window int
			file   bool // the culprits' requests in a temporary file
		}{{0, false}, {1, false}, {0, true}} {
			window := v.window
			t.Run(fmt.Sprintf("%s/window-%d/file-%v", sc.name, window, v.file), func(t *testing.T) {
				ps, err := match.SelectProfiles(sc.profiles)
				if err != nil {
					t.Fatal(err)
				}
				opts := Options{Profiles: ps, Roots: scenarioCerts(t).roots, Now: scenarioDay, Window: window}
				want := Analyze(sc.obs, opts)
				var got []*Item
				p := NewPipeline(opts, ItemSinkFunc(func(it *Item) error {
					got = append(got, it)
					return nil
				}))
				if v.file {
					p.agg.g.store.limit = 0
				}
				for _, o := range sc.obs {
					if err := p.Add(o); err != nil {
						t.Fatal(err)
					}
				}
				rep, err := p.Close()
				if err != nil {
					t.Fatal(err)
				}
				defer rep.Close()
				if inFile := p.agg.g.store.f != nil; inFile != (v.file && rep.Warns()) {
					t.Errorf("the culprits' requests are in a file: %v", inFile)
				}
				if rep.Items != nil {
					t.Errorf("the streamed report keeps %d items", len(rep.Items))
				}
				if len(got) != len(want.Items) {
					t.Fatalf("sink got %d items, Analyze made %d", len(got), len(want.Items))
				}
				for i := range got {
					if a, b := itemJSON(t, got[i]), itemJSON(t, want.Items[i]); a != b {
						t.Errorf("item %d streamed:\n%s\nAnalyze:\n%s", i+1, a, b)
					}
				}
				if !reflect.DeepEqual(rep.Totals, want.Totals) {
					t.Errorf("totals %+v, Analyze %+v", rep.Totals, want.Totals)
				}
				gc, wc := rep.Culprits(), want.Culprits()
				if len(gc) != len(wc) {
					t.Fatalf("%d culprits, Analyze %d", len(gc), len(wc))
				}
				for i := range gc {
					g, w := gc[i], wc[i]
					if g.First.Index != w.First.Index || g.Requests != w.Requests || g.Conns != w.Conns || g.Verdict != w.Verdict ||
						!reflect.DeepEqual(g.Remedies, w.Remedies) || !reflect.DeepEqual(g.Origin, w.Origin) ||
						!reflect.DeepEqual(g.Clients, w.Clients) || g.NewName != w.NewName || len(g.Examples) != len(w.Examples) {
						t.Errorf("culprit %d streamed: #%d %d requests %d conns %q\nAnalyze: #%d %d requests %d conns %q",
							i+1, g.First.Index, g.Requests, g.Conns, g.Verdict, w.First.Index, w.Requests, w.Conns, w.Verdict)
					}
					if !reflect.DeepEqual(g.Findings, w.Findings) || !reflect.DeepEqual(g.Checks, w.Checks) || g.Index != w.First.Index {
						t.Errorf("culprit %d streamed: #%d findings %+v\nAnalyze: #%d %+v", i+1, g.Index, g.Findings, w.First.Index, w.Findings)
					}
					for j := range min(len(g.Examples), len(w.Examples)) {
						// The culprit keeps a compact copy (no verdicts, DER or body).
						ge, we := g.Examples[j], compactItem(w.Examples[j])
						if a, b := itemJSON(t, ge), itemJSON(t, we); a != b || Describe(ge.Obs) != Describe(we.Obs) || len(ge.Obs.Chain) != len(we.Obs.Chain) {
							t.Errorf("culprit %d example %d streamed:\n%s %s\nAnalyze:\n%s %s", i+1, j+1, a, Describe(ge.Obs), b, Describe(we.Obs))
						}
					}
					if (g.Examples[0] == g.First) != (w.Examples[0] == w.First) {
						t.Errorf("culprit %d: the first example is the first request: %v, Analyze %v", i+1, g.Examples[0] == g.First, w.Examples[0] == w.First)
					}
				}
				if !reflect.DeepEqual(rep.CertPlan(), want.CertPlan()) {
					t.Errorf("certificate plan differs:\n%+v\n%+v", rep.CertPlan(), want.CertPlan())
				}
				if rep.Warns() != want.Warns() || rep.NotJudged() != want.NotJudged() {
					t.Errorf("warns %v not judged %+v; Analyze %v %+v", rep.Warns(), rep.NotJudged(), want.Warns(), want.NotJudged())
				}
			})
		}
	}
}

func itemJSON(t *testing.T, it *Item) string {
	t.Helper()
	b, err := json.Marshal(struct {
		*Item
		Origin []Cause
	}{it, it.Origin})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPipelineBounded feeds a long stream (many connections to a few
// hundred hosts, every one a culprit, with answers that name the hosts
// again and again) and checks that what the pipeline keeps follows the
// hosts and causes, not the observations.
func TestPipelineBounded(t *testing.T) {
	pki := scenarioCerts(t)
	chain := pki.leaf("mail.contoso.com", "mail.contoso.com")
	const hosts, n = 200, 60000
	p := NewPipeline(Options{Roots: pki.roots, Now: scenarioDay, Window: 64}, Discard)
	srv := 0
	for i := 0; i < n; i++ {
		h := fmt.Sprintf("exch%03d.contoso.local", i%hosts)
		if i%10 == 0 {
			// An SRV answer naming the host again: it explains the later
			// connections, until the next one does.
			srv++
			d := &record.Observation{Kind: record.KindDNS, Source: record.SourcePcap, Time: scenarioDay.Add(time.Duration(i) * time.Millisecond),
				DNS: &record.DNS{Query: "_autodiscover._tcp.contoso.com", Type: "SRV", Rcode: "NOERROR",
					Answers: []record.DNSAnswer{{Type: "SRV", Name: "_autodiscover._tcp.contoso.com", Value: h, Port: 443}}}}
			if err := p.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		o := &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: scenarioDay.Add(time.Duration(i) * time.Millisecond),
			Conn: fmt.Sprint(i), Client: fmt.Sprintf("10.0.%d.%d:%d", i%7, i%250, 40000+i%20000), Server: "10.0.0.5:443",
			SNI: h, TLSVersion: "TLS 1.2", Visibility: record.VisVisible, Chain: chain}
		if err := p.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := p.Close()
	if err != nil {
		t.Fatal(err)
	}
	if p.pending > 65 {
		t.Fatalf("up to %d observations were pending, window 64", p.pending)
	}
	if rep.Totals.Observations != n+srv || rep.Totals.Warning != n {
		t.Fatalf("totals %+v, want %d observations, %d warning", rep.Totals, n+srv, n)
	}
	cs := rep.Culprits()
	if len(cs) != hosts {
		t.Fatalf("%d culprits, want one per host (%d)", len(cs), hosts)
	}
	if c := cs[0]; c.Requests != n/hosts || c.Conns != n/hosts || len(c.Examples) != MaxExamples || len(c.Clients) != MaxClients || c.MoreClients == 0 {
		t.Errorf("first culprit: %d requests, %d conns, %d examples, %d clients + %d", c.Requests, c.Conns, len(c.Examples), len(c.Clients), c.MoreClients)
	}
	if k := len(p.agg.g.byKey); k > hosts+maxConnKeys {
		t.Errorf("grouping keeps %d keys, want at most %d causes + %d connections", k, hosts, maxConnKeys)
	}
	// Each SRV answer's cause is kept while a host's entry comes from it:
	// the latest answer per host, and the sweep's slack.
	if c := len(rep.Origins.Causes); c > 2*hosts+4096 {
		t.Errorf("origin tracing kept %d causes of %d SRV answers, want at most %d", c, srv, 2*hosts+4096)
	}
	if o := cs[0].First.Origin; len(o) == 0 || o[0].Kind != CauseSRV {
		t.Errorf("first culprit's origin %v, want the SRV answer", o)
	}
}
