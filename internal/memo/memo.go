// Package memo holds Gen, a memo bounded by two generations of entries,
// which the judge's caches (analysis) and the JSON lines' finding cache
// (report) share. It keeps hitting while a working set a little larger
// than its bound is walked in random order, where a memo emptied whole at
// its bound would miss most of the time.
package memo

// Gen is a memo of at most two generations of n entries: a new entry
// goes into the newer generation; past n entries the newer generation
// becomes the older and the older is dropped; an entry found in the older
// moves to the newer. Emptied whole at its bound, a memo whose working
// set is a little larger than the bound misses most of the time (hs.pcap:
// 1,818 chains in random order, a trust memo of 1,024 cleared whole
// verified half of its 18,632 chains again); so, it keeps hitting while
// the working set fits in n or so, and still holds at most 2n entries
// (certs.Cache keeps its certificates so). A Gen is not safe for
// concurrent use.
type Gen[K comparable, V any] struct {
	n        int
	cur, old map[K]V
}

// New returns an empty Gen of generations of n entries.
func New[K comparable, V any](n int) *Gen[K, V] {
	return &Gen[K, V]{n: n, cur: map[K]V{}}
}

// Get returns the value memoised for k.
func (g *Gen[K, V]) Get(k K) (V, bool) {
	if v, ok := g.cur[k]; ok {
		return v, true
	}
	v, ok := g.old[k]
	if ok {
		delete(g.old, k)
		g.Put(k, v)
	}
	return v, ok
}

// Put memoises v for k.
func (g *Gen[K, V]) Put(k K, v V) {
	if len(g.cur) >= g.n {
		// The dropped generation's map, emptied, is the new one: a map
		// made anew at every turn was most of what a small memo
		// allocated (the judge's, of 256 entries, turns every 256
		// misses).
		next := g.old
		if next == nil {
			next = make(map[K]V, g.n)
		} else {
			clear(next)
		}
		g.old, g.cur = g.cur, next
	}
	g.cur[k] = v
}

// Len is the number of entries held.
func (g *Gen[K, V]) Len() int { return len(g.cur) + len(g.old) }
