package analysis

import (
	"path/filepath"
	"testing"
)

// TestSpillEachItem streams every scenario through a Pipeline into a
// Spill and reads the items back: the same items as Analyze's, in order,
// and the file gone after Close.
func TestSpillEachItem(t *testing.T) {
	dir := t.TempDir()
	for _, sc := range scenarioList(t) {
		t.Run(sc.name, func(t *testing.T) {
			opts := Options{Roots: scenarioCerts(t).roots, Now: scenarioDay}
			want := Analyze(sc.obs, opts)
			sp, err := NewSpill(dir)
			if err != nil {
				t.Fatal(err)
			}
			p := NewPipeline(opts, sp)
			for _, o := range sc.obs {
				if err := p.Add(o); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := p.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := sp.Attach(rep); err != nil {
				t.Fatal(err)
			}
			n := 0
			for it := range rep.EachItem() {
				w := want.Items[n]
				if a, b := itemJSON(t, it), itemJSON(t, w); a != b {
					t.Errorf("item %d read back:\n%s\nAnalyze:\n%s", n+1, a, b)
				}
				if it.NotJudged() != w.NotJudged() || it.Obs.Source != w.Obs.Source || it.Obs.URL != w.Obs.URL || !it.Obs.Time.Equal(w.Obs.Time) {
					t.Errorf("item %d: observation read back differs", n+1)
				}
				n++
			}
			if n != len(want.Items) {
				t.Errorf("read back %d items, want %d", n, len(want.Items))
			}
			if len(rep.Problems) > 0 {
				t.Errorf("problems: %v", rep.Problems)
			}
			if err := sp.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
