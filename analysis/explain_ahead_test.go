package analysis

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// TestExplainAhead: the causes explained ahead in another goroutine are
// those Explain and ExplainBrief give one at a time (every scenario, the
// requests read back from the store's file); asked out of order, or
// stopped early, it still explains each cause asked for. Run with -race
// (.ci/run), it checks that explaining the next causes while the caller
// reads the last one shares nothing unguarded.
func TestExplainAhead(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	n := 0
	for _, sc := range scenarioList(t) {
		_, r := streamWithFile(t, sc.obs)
		cs := r.Causes()
		for _, examples := range []bool{false, true} {
			var want []*Culprit
			for _, c := range cs {
				w := r.ExplainBrief(c)
				if examples {
					w = r.Explain(c)
				}
				want = append(want, w)
			}
			explain, stop := r.ExplainAhead(cs, examples)
			for i, c := range cs {
				// Each culprit is the caller's until the next call (its
				// buffer is then reused): compared at once.
				x := explain(c)
				if _, err := json.Marshal(x); err != nil { // read it while the next ones are explained
					t.Fatal(err)
				}
				if !reflect.DeepEqual(x, want[i]) {
					t.Errorf("%s cause %d (examples %v): explained ahead\n%+v\none at a time\n%+v", sc.name, i+1, examples, x.Detail, want[i].Detail)
				}
				n++
			}
			stop()
		}
		if len(cs) < 2 {
			continue
		}
		// Out of order: the second cause first, then the first.
		explain, stop := r.ExplainAhead(cs, false)
		if x := explain(cs[1]); x.Index != cs[1].Index || x.Verdict == "" {
			t.Errorf("%s: out of order, cause %d explained as %d %q", sc.name, cs[1].Index, x.Index, x.Verdict)
		}
		if x := explain(cs[0]); x.Index != cs[0].Index || x.Verdict == "" {
			t.Errorf("%s: then cause %d explained as %d %q", sc.name, cs[0].Index, x.Index, x.Verdict)
		}
		stop()
		stop()
		// Stopped after one.
		explain, stop = r.ExplainAhead(cs, false)
		explain(cs[0])
		stop()
		if x := explain(cs[1]); x.Index != cs[1].Index {
			t.Errorf("%s: after stop, cause %d explained as %d", sc.name, cs[1].Index, x.Index)
		}
	}
	if n < 20 {
		t.Fatalf("only %d causes", n)
	}
}

// TestExplainAheadReuse: with more causes than explainAhead, the buffers
// of the culprits the caller is done with are read into again; each
// culprit, looked at before the next call, is what ExplainBrief gives one
// at a time (a buffer reused while its culprit was still the caller's
// would show here), and so is the last one after stop.
func TestExplainAheadReuse(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	// A connection whose name its certificate does not cover, asked for
	// under 4 x explainAhead names: a cause each.
	var base *record.Observation
	for _, sc := range scenarioList(t) {
		r := Analyze(sc.obs, Options{Roots: scenarioCerts(t).roots, Now: scenarioDay})
		for _, it := range r.Items {
			if base == nil && it.Obs.URL == "" && it.Obs.SNI != "" && len(it.Obs.Chain) > 0 && it.Warns("") && hasIDPrefix(it.Findings, "name.") {
				base = it.Obs
			}
		}
	}
	if base == nil {
		t.Fatal("no scenario has a TLS connection to a name its certificate does not cover")
	}
	var obs []*record.Observation
	for i := range 4 * explainAhead {
		o := *base
		o.SNI, o.Conn = fmt.Sprintf("n%d.not-covered.example", i), fmt.Sprint(i)
		obs = append(obs, &o)
	}
	_, r := streamWithFile(t, obs)
	cs := r.Causes()
	if len(cs) != len(obs) {
		t.Fatalf("%d causes for %d names", len(cs), len(obs))
	}
	var want []*Culprit
	for _, c := range cs {
		want = append(want, r.ExplainBrief(c))
	}
	explain, stop := r.ExplainAhead(cs, false)
	var last *Culprit
	for i, c := range cs {
		last = explain(c)
		if !reflect.DeepEqual(last, want[i]) {
			t.Fatalf("cause %d: explained ahead\n%+v\none at a time\n%+v", i+1, last.Detail, want[i].Detail)
		}
	}
	stop()
	if !reflect.DeepEqual(last, want[len(want)-1]) {
		t.Errorf("the last cause changed after stop:\n%+v\nwant\n%+v", last.Detail, want[len(want)-1].Detail)
	}
}

func hasIDPrefix(fs []Finding, prefix string) bool {
	for _, f := range fs {
		if strings.HasPrefix(f.ID, prefix) {
			return true
		}
	}
	return false
}
