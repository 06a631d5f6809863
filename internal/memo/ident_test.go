package memo

import (
	"fmt"
	"testing"
)

// Ident gives a value only for the same slice (its first element's
// address and its length), from the second time it is seen, as keep made
// it; an equal slice elsewhere, or a shorter one cut from the same array,
// is not taken for it; past identEntries other slices kept, it is gone.
func TestIdent(t *testing.T) {
	s := []string{"a", "b"}
	other := append([]string(nil), s...)
	var m Ident[string, string]
	if v, ok := m.Get(s); ok {
		t.Fatalf("before any sight: %q", v)
	}
	m.Saw(s, "ab", nil)
	if v, ok := m.Get(s); ok {
		t.Fatalf("seen once: %q, want nothing kept", v)
	}
	m.Saw(s, "ab", func(v string) string { return v + "!" })
	if v, ok := m.Get(s); !ok || v != "ab!" {
		t.Fatalf("seen twice: %q, %v; want ab! (keep's)", v, ok)
	}
	if v, ok := m.Get(other); ok {
		t.Errorf("an equal slice elsewhere: %q", v)
	}
	if v, ok := m.Get(s[:1]); ok {
		t.Errorf("a shorter slice from the same array: %q", v)
	}
	m.Saw(nil, "nil", nil)
	m.Saw(nil, "nil", nil)
	if v, ok := m.Get(nil); ok {
		t.Errorf("an empty slice: %q", v)
	}
	for i := range identEntries {
		l := []string{fmt.Sprint(i)}
		m.Saw(l, "x", nil)
		m.Saw(l, "x", nil)
	}
	if v, ok := m.Get(s); ok {
		t.Errorf("after %d other slices kept: %q", identEntries, v)
	}
}
