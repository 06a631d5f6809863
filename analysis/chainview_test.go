package analysis

import (
	"crypto/x509"
	"reflect"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// chainViewInputs are the scenarios' observations with a chain, and the
// checks' odd chains (checks_test.go) under their root, with their roots
// and times; each chain comes with its recorded ID and without.
func chainViewInputs(t *testing.T) []struct {
	roots *x509.CertPool
	now   time.Time
	obs   []*record.Observation
} {
	type input = struct {
		roots *x509.CertPool
		now   time.Time
		obs   []*record.Observation
	}
	var inputs []input
	for _, sc := range scenarioList(t) {
		inputs = append(inputs, input{scenarioCerts(t).roots, scenarioDay, sc.obs})
	}
	p := newCheckPKI(t)
	now := time.Now()
	var odd []*record.Observation
	for _, chain := range [][][]byte{p.right, p.cnOnly, p.noEKU, p.client, p.long, p.self, p.weakRSA, p.sha1, aiaOnlyLeaf(t, p.ca)} {
		odd = append(odd, &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: now, Client: "10.0.0.5:50000", Server: "10.0.0.9:443",
			SNI: "mail.contoso.com", Chain: chain, Visibility: record.VisVisible, TLSVersion: "TLS 1.2"})
	}
	// Its ChainOnly checks run on their own (the chain parsed again once
	// its entry is done): AIA fetches recorded with it.
	aia := *odd[len(odd)-1]
	aia.AIA = []record.AIAFetch{{URL: "http://127.0.0.1:9/checks-aia.cer", Error: "no answer: connect: connection refused"}}
	odd = append(odd, &aia)
	inputs = append(inputs, input{p.roots, now, odd})
	for i := range inputs {
		var with []*record.Observation
		for _, o := range inputs[i].obs {
			if len(o.Chain) == 0 {
				continue
			}
			withID, without := *o, *o
			withID.ChainID, without.ChainID = record.ChainID(o.Chain), ""
			with = append(with, &withID, &without)
		}
		inputs[i].obs = with
	}
	return inputs
}

// TestConnChecksReadView holds the judge to what lets it drop a chain's
// parsed certificates after its first sight: the checks that are not
// ChainOnly are given the chain's view alone (no Chain, trust or AIA
// result), at every sight, first included, and the ChainOnly ones the
// parsed chain.
func TestConnChecksReadView(t *testing.T) {
	type seen struct{ chain, trust, aia, view bool }
	var conn, only []seen
	spy := func(to *[]seen) func(*Subject) *Finding {
		return func(s *Subject) *Finding {
			*to = append(*to, seen{len(s.Chain) > 0, s.trust != nil, s.aia != nil, s.chain != nil})
			return nil
		}
	}
	reg := &Registry{}
	for _, c := range DefaultRegistry.All() {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*Check{
		{ID: "spy.conn", Run: spy(&conn)},
		{ID: "spy.conn-profile", PerProfile: true, Run: spy(&conn)},
		{ID: "spy.chain", ChainOnly: true, Run: spy(&only)},
		{ID: "spy.chain-profile", ChainOnly: true, PerProfile: true, Run: spy(&only)},
	} {
		c.Title, c.Severity, c.Citation, c.Remedy = "spy", SeverityInfo, "test", "none"
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, in := range chainViewInputs(t) {
		j := newJudger(Options{Roots: in.roots, Now: in.now, Registry: reg}.withDefaults())
		for _, o := range in.obs {
			if o.Kind == record.KindDNS {
				continue
			}
			for sight := 0; sight < 2; sight++ {
				conn, only = conn[:0], only[:0]
				pc := j.chain(o)
				parsed := pc.view != nil
				j.judge(1, o, &pc)
				if len(conn) == 0 {
					t.Fatalf("%s: the per-connection spies did not run", o.SNI)
				}
				for _, c := range conn {
					if c.chain || c.trust || c.aia || c.view != parsed {
						t.Fatalf("%s, sight %d: a per-connection check saw %+v (the chain parsed: %v)", o.SNI, sight, c, parsed)
					}
				}
				for _, c := range only {
					if c.chain != parsed {
						t.Fatalf("%s, sight %d: a ChainOnly check saw %+v (the chain parsed: %v)", o.SNI, sight, c, parsed)
					}
				}
				if e := pc.entry; parsed && len(o.AIA) == 0 && (!e.done || e.pc.certs != nil || e.trust != nil) {
					t.Fatalf("%s, sight %d: the chain's entry keeps its certificates (done %v)", o.SNI, sight, e.done)
				}
				n++
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d observations judged", n)
	}
}

// TestChainRepeatJudgedAlike: an observation whose chain was judged
// before (the judge holds the chain's view, runs and summaries, not its
// certificates) gets the item it gets at the chain's first sight.
func TestChainRepeatJudgedAlike(t *testing.T) {
	n, aiaSeen := 0, 0
	for _, in := range chainViewInputs(t) {
		opts := Options{Roots: in.roots, Now: in.now}.withDefaults()
		seen := newJudger(opts)
		for _, o := range in.obs {
			first := *o
			first.AIA = nil // one that marks the chain's entry done
			pc := seen.chain(&first)
			seen.judge(1, &first, &pc) // the chain's first sight
			if e := pc.entry; pc.view != nil && (!e.done || e.pc.certs != nil) {
				t.Fatalf("%s (%s): the chain's entry is not done after its first sight", o.SNI, o.ChainID)
			}
			pc = seen.chain(o)
			again := seen.judge(1, o, &pc)
			fresh := newJudger(opts)
			pc = fresh.chain(o)
			want := fresh.judge(1, o, &pc)
			again.leaf, want.leaf = nil, nil
			if !reflect.DeepEqual(again, want) {
				t.Fatalf("%s (%s, %d AIA fetches): judged again\n%+v\nat first sight\n%+v", o.SNI, o.ChainID, len(o.AIA), again, want)
			}
			if len(o.AIA) > 0 {
				aiaSeen++
			}
			n++
		}
	}
	if n < 50 || aiaSeen == 0 {
		t.Fatalf("only %d observations judged, %d with AIA fetches", n, aiaSeen)
	}
}
