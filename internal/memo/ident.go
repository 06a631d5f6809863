package memo

import "unsafe"

// identEntries is how many slices an Ident keeps a value for (and how
// many it remembers seeing once).
const identEntries = 16

// Ident keeps a value made from a slice, by the slice's identity (its
// first element's address and its length), for slices that a producer
// hands to many consumers and never writes to (the judge gives every
// connection that got the same findings one list): the value of such a
// slice is made once, where a memo by content would hash every element
// each time. A slice is kept, with its value, the second time its
// identity is seen (most slices are seen once: keeping them would push
// out those that repeat); the first time only its address and length are
// noted, without holding the slice (an address seen again that another
// slice has by then only gets that slice kept, with its own value). A kept
// slice is held, so that its address is not reused while kept. At most
// identEntries slices are kept, the oldest replaced first. An Ident is
// not safe for concurrent use; its zero value is empty and ready.
type Ident[E, V any] struct {
	kept     [identEntries]identKept[E, V]
	seen     [identEntries]identSeen
	nextKept int
	nextSeen int
}

type identKept[E, V any] struct {
	s []E
	v V
}

type identSeen struct {
	p uintptr
	n int
}

// Get returns the value kept for s (not for an empty s).
func (m *Ident[E, V]) Get(s []E) (V, bool) {
	if len(s) > 0 {
		p := unsafe.SliceData(s)
		for i := range m.kept {
			if e := &m.kept[i]; len(e.s) == len(s) && unsafe.SliceData(e.s) == p {
				return e.v, true
			}
		}
	}
	var zero V
	return zero, false
}

// Saw notes s, whose value is v: kept (s with v) when s was seen before.
// keep makes the value to keep from v (a copy of what v shares with the
// caller), called only then; nil keeps v.
func (m *Ident[E, V]) Saw(s []E, v V, keep func(V) V) {
	if len(s) == 0 {
		return
	}
	id := identSeen{uintptr(unsafe.Pointer(unsafe.SliceData(s))), len(s)}
	for i := range m.seen {
		if m.seen[i] == id {
			m.seen[i] = identSeen{}
			if keep != nil {
				v = keep(v)
			}
			m.kept[m.nextKept] = identKept[E, V]{s, v}
			m.nextKept = (m.nextKept + 1) % identEntries
			return
		}
	}
	m.seen[m.nextSeen] = id
	m.nextSeen = (m.nextSeen + 1) % identEntries
}
