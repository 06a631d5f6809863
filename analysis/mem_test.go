package analysis

import (
	"testing"

	scen "github.com/certsleuth/certsleuth/internal/scenario"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// repeatedTrace is sc's observations n times over, each copy an hour
// later: a big trace in which most connections repeat earlier ones.
func repeatedTrace(sc scenario, n int) []*record.Observation { return scen.Repeat(sc.obs, n) }

// TestAnalyzeSharesRepeats checks that items with the same chain, name
// and findings share one copy of each, and that the shared slices are
// full, so an append to one item's findings never shows in another's.
func TestAnalyzeSharesRepeats(t *testing.T) {
	sc := scenarioList(t)[0]
	obs := repeatedTrace(sc, 2)
	ps, err := match.SelectProfiles(sc.profiles)
	if err != nil {
		t.Fatal(err)
	}
	r := Analyze(obs, Options{Profiles: ps, Roots: scenarioCerts(t).roots, Now: scenarioDay})
	n := len(sc.obs)
	shared := 0
	for i := 0; i < n; i++ {
		a, b := r.Items[i], r.Items[i+n]
		if len(a.Chain) > 0 && &a.Chain[0] != &b.Chain[0] {
			t.Errorf("#%d and #%d: the same chain described twice", a.Index, b.Index)
		}
		if len(a.Verdicts) > 0 && &a.Verdicts[0] != &b.Verdicts[0] {
			t.Errorf("#%d and #%d: the same leaf and name matched twice", a.Index, b.Index)
		}
		if len(a.Findings) > 0 && len(a.Findings) == len(b.Findings) && &a.Findings[0] == &b.Findings[0] {
			shared++
			if cap(a.Findings) != len(a.Findings) {
				t.Errorf("#%d: shared findings have room to append (cap %d, len %d)", a.Index, cap(a.Findings), len(a.Findings))
			}
			_ = append(a.Findings, Finding{ID: "test.appended"})
			for _, f := range b.Findings[:cap(b.Findings)] {
				if f.ID == "test.appended" {
					t.Errorf("#%d: an append to #%d's findings showed in it", b.Index, a.Index)
				}
			}
		}
	}
	if shared == 0 {
		t.Errorf("no findings shared between the two copies of %s", sc.name)
	}
}
