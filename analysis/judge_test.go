package analysis

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	scen "github.com/certsleuth/certsleuth/internal/scenario"

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
	// The same Outlook Anywhere request before the answer that requires
	// the principal and after it: the Judge's memo must not answer the
	// second from the first.
	late := []*record.Observation{principal[1], principal[0], principal[1], principal[2]}
	traces := map[string][]*record.Observation{"principal": principal, "principal-late": late}
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
			if strings.HasPrefix(name, "principal") && warned == 0 {
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

// A repeat of a request (every field equal but the time, the duration, the
// client and the connection) gets the judgement of the first: the same
// number; a request that differs in one field, or comes once a certificate
// has expired, is judged afresh, and one back within the dates is a repeat
// again.
func TestJudgeRepeats(t *testing.T) {
	p := scenarioCerts(t)
	exch := p.leaf("mail.contoso.com", "mail.contoso.com")
	first := httpsObs(0, "GET", "https://mail.contoso.com/owa/", 200, exch, exchAddr)
	again := *first
	again.Time, again.Duration, again.Client, again.Conn = at(60), time.Millisecond, "10.0.0.21:50001", "c9"
	other := *first
	other.URL = "https://mail.contoso.com/ews/exchange.asmx"
	expired := *first
	expired.Time = scen.NotAfter.Add(time.Hour)
	j := NewJudge(Options{Roots: p.roots, Now: scenarioDay})
	it1, n1 := j.Judged(first)
	it2, n2 := j.Judged(&again)
	_, n3 := j.Judged(&other)
	it4, n4 := j.Judged(&expired)
	_, n5 := j.Judged(&again)
	if n1 == 0 || n2 != n1 || n5 != n1 {
		t.Errorf("repeats numbered %d %d %d, want one number, not 0", n1, n2, n5)
	}
	if n3 == 0 || n3 == n1 {
		t.Errorf("another URL numbered %d (the first %d): want a judgement of its own", n3, n1)
	}
	if n4 != 0 || !hasFinding(it4, "date.expired") {
		t.Errorf("after the leaf expired: number %d, findings %v; want 0 and date.expired", n4, verdictWords(it4))
	}
	if it2.Index != 2 || it2.Obs != &again || it1.Index != 1 || verdictWords(it1) != verdictWords(it2) {
		t.Errorf("the repeat: index %d, own observation %v, %s against %s", it2.Index, it2.Obs == &again, verdictWords(it2), verdictWords(it1))
	}
}

// judgeKey covers every field of an Observation but those the checks do
// not read: a field added to Observation fails here until judgeKey encodes
// it (or leaves the observation to be judged on its own).
func TestJudgeKeyFields(t *testing.T) {
	ignored := map[string]bool{"Time": true, "Duration": true, "Client": true, "Conn": true}
	base := httpsObs(0, "GET", "https://mail.contoso.com/owa/", 200, nil, exchAddr)
	base.ChainID = "abc"
	want := string(judgeKey(nil, base, chainID(base)))
	if want == "" {
		t.Fatal("a plain request has no key")
	}
	typ := reflect.TypeOf(*base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		o := *base
		changeField(t, &o, i)
		if f.Name == "Chain" {
			o.ChainID = "" // the key names a chain by its ID, computed when unset
		}
		got := string(judgeKey(nil, &o, chainID(&o)))
		switch {
		case ignored[f.Name] && got != want:
			t.Errorf("field %s is not read by the checks but changes the key", f.Name)
		case !ignored[f.Name] && got == want:
			t.Errorf("field %s: changing it leaves the key as it was: judgeKey must encode it", f.Name)
		}
	}
	// Strings are delimited by their length: no two field lists share a key.
	a, b := *base, *base
	a.Method, a.Host = "GET1", ":x"
	b.Method, b.Host = "GET", "1:x"
	if string(judgeKey(nil, &a, chainID(&a))) == string(judgeKey(nil, &b, chainID(&b))) {
		t.Error("two requests that differ share a key")
	}
}

// TestBySeverityCopy: the copy the judge gives an item is sortBySeverity's
// order (most severe first, stable), for any order of severities, unknown
// ones too, and leaves its input as it was.
func TestBySeverityCopy(t *testing.T) {
	sevs := []Severity{SeverityError, SeverityWarning, SeverityInfo, "odd"}
	for n := 0; n <= 7; n++ {
		for code := 0; code < 1<<(2*n); code++ {
			fs := make([]Finding, n)
			for i := range fs {
				fs[i] = Finding{ID: fmt.Sprint(i), Severity: sevs[(code>>(2*i))&3]}
			}
			in := slices.Clone(fs)
			want := slices.Clone(fs)
			sortBySeverity(want)
			got := bySeverityCopy(fs)
			if !slices.EqualFunc(got, want, func(a, b Finding) bool { return a.Equal(&b) }) || cap(got) != len(got) {
				t.Fatalf("%v: got %v, want %v", in, got, want)
			}
			if !slices.EqualFunc(fs, in, func(a, b Finding) bool { return a.Equal(&b) }) {
				t.Fatalf("the input changed: %v, was %v", fs, in)
			}
		}
	}
}
