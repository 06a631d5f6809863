package capture

import (
	"bytes"
	"os"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// TestChainIDSet: the reader sets each chain's record.ChainID (the judge
// and the trace writer trust it instead of hashing the chain again), and
// observations of one chain share its slice.
func TestChainIDSet(t *testing.T) {
	set, shared := 0, 0
	caps := seedCaptures(t)
	for name, data := range caps {
		opts := Options{}
		if kl, err := os.Open(name + ".keylog"); err == nil {
			opts.KeyLog, err = ReadKeyLog(kl)
			kl.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		res, _ := Read(bytes.NewReader(data), name, opts)
		if res == nil {
			continue
		}
		first := map[string]*record.Observation{}
		for i, o := range res.Observations {
			if len(o.Chain) == 0 {
				if o.ChainID != "" {
					t.Errorf("%s: observation %d: chain ID %.12s without a chain", name, i, o.ChainID)
				}
				continue
			}
			if o.ChainID == "" {
				continue // a chain salvaged from a message cut short: the judge hashes it
			}
			set++
			if want := record.ChainID(o.Chain); o.ChainID != want {
				t.Errorf("%s: observation %d: chain ID %.12s, want %.12s", name, i, o.ChainID, want)
			}
			if p, ok := first[o.ChainID]; ok {
				if &p.Chain[0] != &o.Chain[0] {
					t.Errorf("%s: observation %d: chain %.12s not shared with an earlier observation", name, i, o.ChainID)
				}
				shared++
			} else {
				first[o.ChainID] = o
			}
		}
	}
	if set == 0 || shared == 0 {
		t.Fatalf("%d files: %d chain IDs set, %d chains shared: the test reads nothing to check", len(caps), set, shared)
	}
	t.Logf("%d files: %d chain IDs set, %d shared", len(caps), set, shared)
}
