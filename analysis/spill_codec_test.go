package analysis

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// spilledForm is it as the detail store gives it back: its observation
// without the body and with as many empty certificates as it had.
func spilledForm(it *Item) *Item {
	cp := *it
	cp.leaf = nil
	o := *it.Obs
	o.Body = nil
	if len(o.Chain) > 0 {
		o.Chain = make([][]byte, len(o.Chain))
	}
	cp.Obs = &o
	return &cp
}

// TestDetailCodecRoundTrip reads back every item of every scenario, as
// judged and in the compact form the store keeps, exactly as it was
// (reflect.DeepEqual: nil and empty lists apart, times, the observation)
// and as JSON writes it; the codec refuses nothing these types hold.
func TestDetailCodecRoundTrip(t *testing.T) {
	n, seen := 0, map[string]bool{}
	// Every item is also decoded over the one before (readSpilledInto, as
	// ExplainAhead reuses the memory of a culprit it is done with): the
	// same item, whatever the earlier held.
	over := &spilled{}
	for _, sc := range scenarioList(t) {
		r := analyzeScenario(t, sc)
		for _, it := range r.Items {
			// The store writes the compact form without making it
			// (putCompact): the same bytes.
			var s spillScratch
			direct, err := s.append(nil, it, compactFindings(it, MergeFindings(it.Findings, SeverityError)), true)
			if made, merr := appendSpilled(nil, compactItem(it)); err != nil || merr != nil || !bytes.Equal(direct, made) {
				t.Errorf("%s #%d: the compact form written directly (%v) differs from compactItem's (%v)", sc.name, it.Index, err, merr)
			}
			if !reflect.DeepEqual(s, spillScratch{}) {
				t.Errorf("%s #%d: the scratch space holds the item after", sc.name, it.Index)
			}
			for _, x := range []*Item{it, compactItem(it)} {
				b, err := appendSpilled(nil, x)
				if err != nil {
					t.Fatalf("%s #%d: %v", sc.name, it.Index, err)
				}
				got, err := readSpilled(b)
				if err != nil {
					t.Fatalf("%s #%d: read back: %v", sc.name, it.Index, err)
				}
				want := spilledForm(x)
				if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got.Obs, want.Obs) {
					t.Errorf("%s #%d: read back\n%+v\n%+v\nwant\n%+v\n%+v", sc.name, it.Index, got, got.Obs, want, want.Obs)
				}
				reused, err := readSpilledInto(bytes.Clone(b), over)
				if err != nil {
					t.Fatalf("%s #%d: read back over the one before: %v", sc.name, it.Index, err)
				}
				if !reflect.DeepEqual(reused, want) || !reflect.DeepEqual(reused.Obs, want.Obs) {
					t.Errorf("%s #%d: read back over the one before\n%+v\n%+v\nwant\n%+v\n%+v", sc.name, it.Index, reused, reused.Obs, want, want.Obs)
				}
				var gj, wj bytes.Buffer
				if err := encodeSpilled(json.NewEncoder(&gj), got); err != nil {
					t.Fatal(err)
				}
				if err := encodeSpilled(json.NewEncoder(&wj), x); err != nil {
					t.Fatal(err)
				}
				if gj.String() != wj.String() {
					t.Errorf("%s #%d: JSON of the item read back\n%s\nwant\n%s", sc.name, it.Index, gj.String(), wj.String())
				}
				n++
			}
			for _, c := range it.Origin {
				seen["origin field"] = seen["origin field"] || c.Field != nil
				seen["either"] = seen["either"] || len(c.Either) > 0
			}
			seen["dns"] = seen["dns"] || it.Obs.DNS != nil
			seen["evidence"] = seen["evidence"] || len(it.Findings) > 0 && len(it.Findings[0].Evidence) > 0
		}
	}
	if n < 60 {
		t.Fatalf("only %d items", n)
	}
	for _, k := range []string{"origin field", "either", "dns", "evidence"} {
		if !seen[k] {
			t.Errorf("no item with %s read back", k)
		}
	}
}

// TestDetailCodecRefuses: what the codec cannot carry is an error, not a
// silent loss; a cut or padded request is an error.
func TestDetailCodecRefuses(t *testing.T) {
	type withMap struct{ M map[string]int }
	if _, err := appendValue(nil, reflect.ValueOf(withMap{})); err == nil {
		t.Error("a map field was written")
	}
	it := &Item{Index: 7, Name: "mail.contoso.com", Obs: &record.Observation{Kind: record.KindTLS, SNI: "mail.contoso.com"}, Findings: []Finding{{ID: "name.mismatch"}}}
	b, err := appendSpilled(nil, it)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := readSpilled(b[:i]); err == nil {
			t.Errorf("cut to %d of %d bytes: no error", i, len(b))
		}
	}
	if _, err := readSpilled(append(b, 0)); err == nil {
		t.Error("a byte after the request: no error")
	}
}

// FuzzDetailCodec: any bytes read back give an item or an error, never a
// panic, and an item read back is written and read again the same.
func FuzzDetailCodec(f *testing.F) {
	for _, sc := range scenarioList(f)[:3] {
		r := analyzeScenario(f, sc)
		for _, it := range r.Items[:min(5, len(r.Items))] {
			b, err := appendSpilled(nil, compactItem(it))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	// A seed item decoded, for each input to be decoded over (as
	// ExplainAhead reuses a culprit's memory): whatever it holds, the
	// input reads back as it does into new memory, or fails as it does.
	var seed []byte
	for _, sc := range scenarioList(f)[:1] {
		it := analyzeScenario(f, sc).Items[0]
		seed, _ = appendSpilled(nil, it)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := readSpilled(bytes.Clone(b))
		var over spilled
		if _, serr := readSpilledInto(bytes.Clone(seed), &over); serr != nil {
			t.Fatal(serr)
		}
		reused, rerr := readSpilledInto(bytes.Clone(b), &over)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("read into new memory: %v; over an item: %v", err, rerr)
		}
		if err != nil {
			return
		}
		if !sameSpilled(t, it, reused) {
			t.Errorf("read over an item differs\n%+v\n%+v", it, reused)
		}
		again, err := appendSpilled(nil, it)
		if err != nil {
			t.Fatal(err)
		}
		it2, err := readSpilled(again)
		if err != nil {
			t.Fatalf("written again, not read: %v", err)
		}
		if !sameSpilled(t, it, it2) {
			t.Errorf("read, written and read again differs\n%+v\n%+v", it, it2)
		}
	})
}

// sameSpilled reports whether a and b are the same item: deeply equal, or
// written the same. Two times read from the same bytes with a zone offset
// that time.FixedZone does not keep (anything but whole hours from -12
// to +14: a fuzzed +205 h) are equal with different *time.Location
// pointers, which reflect.DeepEqual tells apart.
func sameSpilled(t *testing.T, a, b *Item) bool {
	t.Helper()
	if reflect.DeepEqual(a, b) {
		return true
	}
	ab, err := appendSpilled(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := appendSpilled(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ab, bb)
}

// TestDetailCodecIntegers: integers of every size and sign come back
// as written, at their limits; one too big for its field is an error.
func TestDetailCodecIntegers(t *testing.T) {
	type ints struct {
		A int8
		B int16
		C int32
		D int64
		E int
		F uint8
		G uint16
		H uint32
		I uint64
		J uint
	}
	for _, v := range []ints{{}, {-128, -32768, -1 << 31, -1 << 63, -5, 255, 65535, 1<<32 - 1, 1<<64 - 1, 7}, {127, 32767, 1<<31 - 1, 1<<63 - 1, 5, 1, 2, 3, 4, 5}, {-1, -1, -1, -1, -1, 0, 0, 0, 0, 0}} {
		b, err := appendValue(nil, reflect.ValueOf(v))
		if err != nil {
			t.Fatal(err)
		}
		var got ints
		r := codecReader{b: b}
		if err := codecFor(reflect.TypeOf(got)).dec(&r, reflect.ValueOf(&got).UnsafePointer()); err != nil || got != v || len(r.b) != 0 {
			t.Errorf("%+v -> %+v %v", v, got, err)
		}
	}
	// overflow
	type big struct{ D int64 }
	type small struct{ A int8 }
	b, _ := appendValue(nil, reflect.ValueOf(big{200}))
	var s small
	r := codecReader{b: b}
	if err := codecFor(reflect.TypeOf(s)).dec(&r, reflect.ValueOf(&s).UnsafePointer()); err == nil {
		t.Error("200 into int8 accepted")
	}
	b, _ = appendValue(nil, reflect.ValueOf(big{-129}))
	r = codecReader{b: b}
	if err := codecFor(reflect.TypeOf(s)).dec(&r, reflect.ValueOf(&s).UnsafePointer()); err == nil {
		t.Error("-129 into int8 accepted")
	}
}
