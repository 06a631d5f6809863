package analysis

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// streamWithFile streams obs through a pipeline whose culprits' requests
// go to a file from the first one.
func streamWithFile(t *testing.T, obs []*record.Observation) (*Pipeline, *Report) {
	t.Helper()
	p := NewPipeline(Options{Roots: scenarioCerts(t).roots, Now: scenarioDay}, Discard)
	p.agg.g.store.limit = 0
	for _, o := range obs {
		if err := p.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	r, err := p.Close()
	if err != nil {
		t.Fatal(err)
	}
	return p, r
}

// TestDetailsFile: a report whose causes' requests went to a temporary
// file explains them from it, leaves no file behind once closed (on Unix
// none is ever visible), and after Close explains each cause from what it
// kept, with a problem that says why, instead of failing.
func TestDetailsFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	sc := scenarioList(t)[0]
	p, r := streamWithFile(t, sc.obs)
	if p.agg.g.store.f == nil || p.agg.g.store.mem != nil {
		t.Fatal("the requests are not in a file")
	}
	want := Analyze(sc.obs, Options{Roots: scenarioCerts(t).roots, Now: scenarioDay}).Culprits()
	got := r.Culprits()
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%d causes, Analyze %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Verdict != want[i].Verdict || got[i].First.Index != want[i].First.Index {
			t.Errorf("cause %d from the file: #%d %q\nAnalyze: #%d %q", i+1, got[i].First.Index, got[i].Verdict, want[i].First.Index, want[i].Verdict)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "certsleuth-causes-*"))
	if runtime.GOOS != "windows" && len(left) > 0 {
		t.Errorf("the store's file is visible while in use: %v", left)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
		t.Errorf("files left in TMPDIR after Close: %v", left)
	}
	c := r.Explain(r.Causes()[0])
	if c.First == nil || c.First.Index != r.Causes()[0].Index || c.First.Obs == nil {
		t.Fatalf("explained after Close: %+v", c.First)
	}
	if n := len(r.Problems); n != 1 || !strings.Contains(r.Problems[0], "without their example requests") || !strings.Contains(r.Problems[0], "closed") {
		t.Errorf("problems after Close: %q", r.Problems)
	}
}

// TestDetailsNoTempDir: when no temporary file can be made, the requests
// stay in memory and the report is the same.
func TestDetailsNoTempDir(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	sc := scenarioList(t)[0]
	p, r := streamWithFile(t, sc.obs)
	if p.agg.g.store.f != nil || len(p.agg.g.store.mem) == 0 {
		t.Fatal("the requests are not in memory")
	}
	want := Analyze(sc.obs, Options{Roots: scenarioCerts(t).roots, Now: scenarioDay}).Culprits()
	for i, c := range r.Culprits() {
		if c.Verdict != want[i].Verdict {
			t.Errorf("cause %d: %q, Analyze %q", i+1, c.Verdict, want[i].Verdict)
		}
	}
	if len(r.Problems) > 0 {
		t.Errorf("problems: %q", r.Problems)
	}
	if _, err := os.Stat(os.Getenv("TMPDIR")); err == nil {
		t.Error("the missing TMPDIR was made")
	}
}

// TestDetailsReadAhead: requests read back from the file in file order
// (through the window read ahead), backwards, jumping, and while more are
// written, are each the one stored (as the binary form gives it back).
func TestDetailsReadAhead(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	sc := scenarioList(t)[0]
	r := Analyze(sc.obs, Options{Roots: scenarioCerts(t).roots, Now: scenarioDay})
	d := newDetails(0)
	defer d.close()
	var want [][]byte
	size := 0
	put := func(it *Item) {
		b, err := appendSpilled(nil, it)
		if err != nil {
			t.Fatal(err)
		}
		want, size = append(want, b), size+len(b)
		d.put(it)
	}
	// Enough requests for several windows.
	for size < 3*readAhead || len(want) < len(r.Items) {
		put(r.Items[len(want)%len(r.Items)])
	}
	check := func(order string, refs []int) {
		for _, ref := range refs {
			it, err := d.get(int32(ref))
			if err != nil {
				t.Fatalf("%s: request %d: %v", order, ref, err)
			}
			if got, _ := appendSpilled(nil, it); string(got) != string(want[ref]) {
				t.Fatalf("%s: request %d read back differs", order, ref)
			}
		}
	}
	var fwd, back, jump []int
	for i := range want {
		fwd = append(fwd, i)
		back = append(back, len(want)-1-i)
		jump = append(jump, (i*7919)%len(want))
	}
	check("in order", fwd)
	check("backwards", back)
	check("jumping", jump)
	for i := range 50 { // written after the window was read: read again
		put(r.Items[i%len(r.Items)])
		check("while writing", []int{len(want) - 2, len(want) - 1})
	}
	check("in order again", fwd)
}

// TestDetailsSharedLists: requests whose compact findings are one list
// (by identity, as the grouping's merged lists are) are written with a
// reference to it once it repeats, and each reads back as written, into
// new memory and into one reused readSlot (whose decoding never writes
// over a kept list), in any order.
func TestDetailsSharedLists(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	sc := scenarioList(t)[0]
	r := Analyze(sc.obs, Options{Roots: scenarioCerts(t).roots, Now: scenarioDay})
	var warn []*Item
	for _, it := range r.Items {
		if it.Warns("") {
			warn = append(warn, it)
		}
	}
	if len(warn) < 2 {
		t.Fatalf("%d warning items", len(warn))
	}
	shared := slices.Clip(MergeFindings(warn[0].Findings, SeverityError))
	d := newDetails(0)
	defer d.close()
	var want [][]byte
	put := func(it *Item, merged []Finding) {
		b, err := appendSpilled(nil, compactWith(it, merged))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
		d.putCompact(it, merged)
	}
	for i := range 12 {
		put(warn[0], shared) // the same list each time
		other := warn[1+i%(len(warn)-1)]
		put(other, MergeFindings(other.Findings, SeverityError)) // a new list each time
	}
	if len(d.listEnd) != 1 {
		t.Fatalf("%d lists kept, want the shared one", len(d.listEnd))
	}
	keptWant, _ := appendValue(nil, reflect.ValueOf(shared))
	s := &readSlot{}
	for _, order := range [][]int{{0, 1, 2, 3, 4, 5, 6, 7}, {23, 22, 21, 20, 3, 2, 1, 0}, {4, 9, 4, 11, 6, 13}} {
		for _, slot := range []*readSlot{nil, s} {
			for _, ref := range order {
				if slot != nil {
					slot.reset()
				}
				it, err := d.getInto(int32(ref), slot)
				if err != nil {
					t.Fatalf("request %d: %v", ref, err)
				}
				if got, _ := appendSpilled(nil, it); string(got) != string(want[ref]) {
					t.Fatalf("request %d read back differs (slot %v)", ref, slot != nil)
				}
			}
		}
	}
	if d.listDec[0] == nil {
		t.Fatal("the kept list was never read back")
	}
	if got, _ := appendValue(nil, reflect.ValueOf(d.listDec[0])); string(got) != string(keptWant) {
		t.Error("the kept list was written over")
	}
}
