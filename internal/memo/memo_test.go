package memo

import "testing"

// TestGen: a Gen finds what it was given while it holds it, moves an entry
// found in the older generation to the newer (so a working set walked
// again survives), drops the older generation past its bound, and never
// holds more than twice its bound.
func TestGen(t *testing.T) {
	g := New[int, string](3)
	for k := range 3 {
		g.Put(k, string(rune('a'+k)))
	}
	if v, ok := g.Get(1); !ok || v != "b" {
		t.Fatalf("Get(1) = %q, %v; want b, true", v, ok)
	}
	g.Put(3, "d") // 0, 1, 2 become the older generation
	if v, ok := g.Get(0); !ok || v != "a" {
		t.Fatalf("Get(0) from the older generation = %q, %v; want a, true", v, ok)
	}
	g.Put(4, "e")
	g.Put(5, "f") // the newer (3, 0, 4) becomes the older; 1 and 2 are dropped
	for k, want := range map[int]bool{0: true, 1: false, 2: false, 3: true, 4: true, 5: true} {
		if _, ok := g.Get(k); ok != want {
			t.Errorf("Get(%d) found %v; want %v", k, ok, want)
		}
	}
	for k := range 100 {
		g.Put(k+10, "x")
		if n := g.Len(); n > 6 {
			t.Fatalf("%d entries after %d puts; want at most 6", n, k+1)
		}
	}
}
