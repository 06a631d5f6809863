package capture

import "slices"

// fullTable is reader.lastFull: for the keyHash of a fullKey, the latest
// full handshake (its connection and time). It is a map with
// forgetOlder's bound, written out: open addressing with linear probing
// over at most twice as many slots as entries, and the older half
// deleted in place by shifting entries back (Knuth's Algorithm R), so
// that neither deleted slots (a Go map's deletions left them, and the
// insertions after paid for them: 13 ms a read of hs.pcap) nor a copy
// of the table (the map rebuilt: 5.2 MB a read) is needed.
type fullTable struct {
	slots []fullSlot // a power of two of them, or none
	n     int        // the slots in use
}

// fullSlot is one slot of a fullTable; conn is "" in an empty one (the
// reader's connection IDs end in "tcp#" and a number).
type fullSlot struct {
	key  uint64
	at   int64
	conn string
}

// minFullSlots is the slots a fullTable starts with; it doubles them
// when more than half would be in use, up to twice maxFullHandshakes
// (attribute adds two entries past the bound before it deletes any,
// which stay within 7/8 of them).
const minFullSlots = 1 << 10

func (t *fullTable) home(key uint64) int { return int(key & uint64(len(t.slots)-1)) }

// get returns the connection of key's entry.
func (t *fullTable) get(key uint64) (string, bool) {
	if len(t.slots) == 0 {
		return "", false
	}
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.conn == "" {
			return "", false
		}
		if s.key == key {
			return s.conn, true
		}
	}
}

// set puts key's entry (conn must not be "").
func (t *fullTable) set(key uint64, conn string, at int64) {
	if len(t.slots) == 0 || 2*(t.n+1) > len(t.slots) && len(t.slots) < 2*maxFullHandshakes || 8*(t.n+1) > 7*len(t.slots) {
		t.grow()
	}
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.conn == "" {
			*s = fullSlot{key, at, conn}
			t.n++
			return
		}
		if s.key == key {
			s.at, s.conn = at, conn
			return
		}
	}
}

// grow doubles the slots (none yet: minFullSlots).
func (t *fullTable) grow() {
	old := t.slots
	t.slots, t.n = make([]fullSlot, max(minFullSlots, 2*len(old))), 0
	for _, s := range old {
		if s.conn != "" {
			t.set(s.key, s.conn, s.at)
		}
	}
}

// forgetOlder deletes the entries not newer than the median time of
// all, as forgetOlder does to a map.
func (t *fullTable) forgetOlder() {
	if t.n == 0 {
		return
	}
	ts := make([]int64, 0, t.n)
	for _, s := range t.slots {
		if s.conn != "" {
			ts = append(ts, s.at)
		}
	}
	slices.Sort(ts)
	cut := ts[len(ts)/2]
	// An entry moved back by a deletion lands at i or after it, or (in
	// a run of slots that wraps past the end) among the slots already
	// looked at, which hold only entries kept: looking at slot i again
	// after a deletion sees every entry once at least.
	for i := 0; i < len(t.slots); {
		if s := &t.slots[i]; s.conn != "" && s.at <= cut {
			t.del(i)
			continue
		}
		i++
	}
}

// del empties slot i and moves back the entries after it that the hole
// would hide from their home slot.
func (t *fullTable) del(i int) {
	mask := len(t.slots) - 1
	t.n--
	for {
		t.slots[i] = fullSlot{}
		j := i
		for {
			j = (j + 1) & mask
			if t.slots[j].conn == "" {
				return
			}
			h := t.home(t.slots[j].key)
			// The entry at j may fill the hole at i unless its home
			// lies cyclically in (i, j].
			if i <= j && (h <= i || h > j) || i > j && h <= i && h > j {
				t.slots[i] = t.slots[j]
				i = j
				break
			}
		}
	}
}
