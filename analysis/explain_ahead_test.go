package analysis

import (
	"encoding/json"
	"reflect"
	"testing"
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
			explain, stop := r.ExplainAhead(cs, examples)
			var got []*Culprit
			for _, c := range cs {
				x := explain(c)
				if _, err := json.Marshal(x); err != nil { // read it while the next ones are explained
					t.Fatal(err)
				}
				got = append(got, x)
			}
			stop()
			for i, c := range cs {
				want := r.ExplainBrief(c)
				if examples {
					want = r.Explain(c)
				}
				if !reflect.DeepEqual(got[i], want) {
					t.Errorf("%s cause %d (examples %v): explained ahead\n%+v\none at a time\n%+v", sc.name, i+1, examples, got[i].Detail, want.Detail)
				}
				n++
			}
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
