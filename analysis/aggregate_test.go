package analysis

import (
	"fmt"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// TestCulpritSummary checks the summary fields kept at grouping time:
// bounded examples and clients, counts, first and last time.
func TestCulpritSummary(t *testing.T) {
	t0 := time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC)
	warn := []Finding{{ID: "name.mismatch", Severity: SeverityError, Profile: AllProfiles}}
	item := func(i int, client, ua, conn, url string, at time.Time) *Item {
		return &Item{Index: i, Name: "exch01.contoso.local", Findings: warn,
			Obs: &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Client: client, UserAgent: ua, Conn: conn, URL: url, Time: at}}
	}
	tests := []struct {
		name            string
		items           []*Item
		culprits        int
		requests, conns int
		examples        []int
		clients         []string
		more            int
		first, last     time.Time
	}{
		{
			name: "one tunnel, many URLs: one culprit, one connection",
			items: []*Item{
				item(1, "10.0.0.20:50000", "Microsoft Office/16.0 (Windows NT 10.0)", "c1", "https://exch01.contoso.local/EWS/Exchange.asmx", t0.Add(2*time.Second)),
				item(2, "10.0.0.20:50000", "Microsoft Office/16.0 (Windows NT 10.0)", "c1", "https://exch01.contoso.local/OAB/x.xml", t0),
				item(3, "10.0.0.20:50000", "", "c1", "https://exch01.contoso.local/EWS/Exchange.asmx", t0.Add(time.Second)),
			},
			culprits: 1, requests: 3, conns: 1, examples: []int{1, 2, 3},
			clients: []string{"Microsoft Office", "10.0.0.20"}, first: t0, last: t0.Add(2 * time.Second),
		},
		{
			name: "examples and clients capped",
			items: func() []*Item {
				var its []*Item
				for i := 1; i <= 14; i++ {
					its = append(its, item(i, fmt.Sprintf("10.0.0.%d:5000", i), "", fmt.Sprintf("c%d", i), "https://exch01.contoso.local/EWS/Exchange.asmx", t0.Add(time.Duration(i)*time.Second)))
				}
				return its
			}(),
			culprits: 1, requests: 14, conns: 14, examples: []int{1, 2, 3},
			clients: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9", "10.0.0.10"},
			more:    4, first: t0.Add(time.Second), last: t0.Add(14 * time.Second),
		},
		{
			name: "no connection IDs, no times",
			items: []*Item{
				item(1, "", "curl/8.5.0", "", "https://exch01.contoso.local/EWS/Exchange.asmx", time.Time{}),
				item(2, "", "curl/8.6.0", "", "https://exch01.contoso.local/ews/exchange.asmx?x=1", time.Time{}),
			},
			culprits: 1, requests: 2, conns: 0, examples: []int{1, 2}, clients: []string{"curl"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{Profiles: match.Profiles(), Items: tt.items}
			cs := r.Culprits()
			if len(cs) != tt.culprits {
				t.Fatalf("%d culprits, want %d", len(cs), tt.culprits)
			}
			c := cs[0]
			var ex []int
			for _, e := range c.Examples {
				ex = append(ex, e.Index)
			}
			if c.Requests != tt.requests || c.Conns != tt.conns || fmt.Sprint(ex) != fmt.Sprint(tt.examples) ||
				fmt.Sprint(c.Clients) != fmt.Sprint(tt.clients) || c.MoreClients != tt.more ||
				!c.FirstSeen.Equal(tt.first) || !c.LastSeen.Equal(tt.last) {
				t.Errorf("got requests %d conns %d examples %v clients %v more %d seen %v..%v\nwant requests %d conns %d examples %v clients %v more %d seen %v..%v",
					c.Requests, c.Conns, ex, c.Clients, c.MoreClients, c.FirstSeen, c.LastSeen,
					tt.requests, tt.conns, tt.examples, tt.clients, tt.more, tt.first, tt.last)
			}
			n := 0
			for _, it := range tt.items {
				if r.CauseOf(it.Index) == r.Causes()[0] {
					n++
				}
			}
			if c.Requests != n {
				t.Errorf("Requests %d, but %d requests fell in the cause", c.Requests, n)
			}
		})
	}
}

// TestTotalsAgree holds Report.Totals, kept by Analyze, to what the items
// of each scenario say.
func TestTotalsAgree(t *testing.T) {
	for _, sc := range scenarioList(t) {
		t.Run(sc.name, func(t *testing.T) {
			r := analyzeScenario(t, sc)
			tot := r.Totals
			n, warn, dns := 0, 0, 0
			for _, it := range r.Items {
				if it.Obs.Kind == record.KindDNS {
					dns++
				} else {
					n++
				}
				if it.Warns("") {
					warn++
				}
			}
			if tot.Observations != len(r.Items) || tot.Requests != n || tot.Warning != warn || tot.Observations != n+dns {
				t.Errorf("totals %+v; items: %d, %d not DNS, %d warn", tot, len(r.Items), n, warn)
			}
			if len(tot.PerProfile) != len(r.Profiles) {
				t.Fatalf("per profile %v, want one per profile of %d", tot.PerProfile, len(r.Profiles))
			}
			for i, p := range r.Profiles {
				w := 0
				for _, it := range r.Items {
					if it.Warns(p.Name) {
						w++
					}
				}
				if tot.PerProfile[i] != (ProfileTotal{p.Name, w}) {
					t.Errorf("per profile %d: %+v, want %s %d", i, tot.PerProfile[i], p.Name, w)
				}
			}
			u := r.Items
			r.Items = nil // NotJudged then reads the totals
			if got, want := r.NotJudged(), func() Unjudged { r.Items = u; return r.NotJudged() }(); got != want {
				t.Errorf("NotJudged from totals %+v, from items %+v", got, want)
			}
			if tot.Judged+tot.NotJudged.Total() > tot.TLS {
				t.Errorf("judged %d + not judged %d > TLS %d", tot.Judged, tot.NotJudged.Total(), tot.TLS)
			}
		})
	}
}

// TestRememberConnRing: the grouping remembers the last maxConns
// connections, each with its culprit, and forgets the older ones, the
// oldest first, however many come.
func TestRememberConnRing(t *testing.T) {
	g := newGrouping(nil, false)
	g.maxConns = 3
	var last []causeKey
	for i := range 20 {
		k := causeKey{uint64(i), 7}
		c := &Culprit{Index: i}
		g.rememberConn(k, c)
		last = append(last, k)
		if len(last) > g.maxConns {
			last = last[1:]
		}
		if len(g.byKey) != len(last) {
			t.Fatalf("after %d connections: %d remembered, want %d", i+1, len(g.byKey), len(last))
		}
		for _, lk := range last {
			if got := g.byKey[lk]; got == nil || got.Index != int(lk[0]) {
				t.Fatalf("after %d connections: connection %d maps to %v", i+1, lk[0], got)
			}
		}
	}
}
