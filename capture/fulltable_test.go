package capture

import (
	"math/rand/v2"
	"testing"
)

// fullHandshake is the latest full handshake for a fullKey, as a map
// keeps it for TestFullTable.
type fullHandshake struct {
	conn string
	at   int64
}

// TestFullTable checks fullTable against a map with forgetOlder, used as
// attribute uses them (the older half forgotten when the bound is
// reached, two entries set), with keys that overwrite, keys that share
// a home slot near the end of the table (runs of slots that wrap past
// it) and times that step back.
func TestFullTable(t *testing.T) {
	for _, bound := range []int{5, 300, 3000} {
		rng := rand.New(rand.NewPCG(1, uint64(bound)))
		var tab fullTable
		ref := map[uint64]fullHandshake{}
		key := func() uint64 {
			switch rng.IntN(3) {
			case 0:
				return uint64(rng.IntN(50)) // overwritten often
			case 1:
				return uint64(rng.IntN(64))<<10 | 1023 // home slot 1023 of 1,024
			}
			return rng.Uint64()
		}
		var at int64
		for step := range 100000 {
			at += int64(rng.IntN(10)) - 2
			if len(ref) >= bound {
				ref = forgetOlder(ref, func(v fullHandshake) int64 { return v.at })
				tab.forgetOlder()
			}
			conn := "tcp#" + string(rune('a'+step%26))
			for range 2 {
				k := key()
				ref[k] = fullHandshake{conn, at}
				tab.set(k, conn, at)
			}
			if tab.n != len(ref) {
				t.Fatalf("bound %d, step %d: %d entries, want %d", bound, step, tab.n, len(ref))
			}
			if step%97 == 0 {
				for k, v := range ref {
					if c, ok := tab.get(k); !ok || c != v.conn {
						t.Fatalf("bound %d, step %d: key %#x: %q %v, want %q", bound, step, k, c, ok, v.conn)
					}
				}
				for range 20 {
					k := key()
					_, want := ref[k]
					if _, ok := tab.get(k); ok != want {
						t.Fatalf("bound %d, step %d: key %#x found %v, want %v", bound, step, k, ok, want)
					}
				}
			}
		}
	}
}
