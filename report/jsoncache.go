package report

import (
	"unsafe"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
)

// lineCache keeps the JSON of the parts of a line that repeat from one
// item to the next, so that JSONWriter encodes them once and copies the
// bytes after:
//   - the findings: the judge shares them between items with the same
//     content (analysis/share.go) and keeps each ChainOnly finding once for
//     every chain that has it; a hs.pcap line is 8 KB of findings, and 79%
//     of hs.pcap's 190,822 findings are kept here when written;
//   - the chains' summaries, shared by every item of a chain (certs.Describe
//     once per chain, in the judge's memo);
//   - the certificate's names of the verdicts (every profile's verdict
//     holds the same slice, the certificate's).
//
// Entries are found by identity: a key is the addresses and lengths of
// the value's strings and slices. The keys hold those addresses, so what
// they point to can be neither freed nor reused while the entry lives;
// strings do not change, and nothing writes to the elements of a slice
// the judge shares: a key never stands for two contents. A value equal to
// one kept but at other addresses is only encoded again.
//
// A nil *lineCache keeps nothing (each part is encoded).
type lineCache struct {
	findings encCache[findingKey]
	chains   encCache[sliceID[certs.Summary]]
	// names is the last certificate's names and their JSON.
	namesID  sliceID[string]
	namesEnc []byte
}

// lineCacheEntries is the number of keys of a generation of each of
// lineCache's caches (two generations are kept). A finding is kept the
// second time it is seen, so that the many seen once (a date or a name in
// their text) cost only their hash; a chain the first time. hs.pcap:
// 79% of the findings are copied, 4,773 of them kept (about 1 KB of JSON
// each); 1,818 chains in random order, each about 1 KB.
const lineCacheEntries = 1024

func newLineCache() *lineCache {
	return &lineCache{findings: encCache[findingKey]{n: lineCacheEntries}, chains: encCache[sliceID[certs.Summary]]{n: lineCacheEntries, first: true}}
}

// appendFinding appends f as a JSON object, copied from c when kept.
func (c *lineCache) appendFinding(b []byte, f *analysis.Finding) []byte {
	if c == nil {
		return appendFinding(b, f)
	}
	k := findingKeyOf(f)
	h := k.hash()
	enc, keep := c.findings.get(h, k)
	if enc != nil {
		return append(b, enc...)
	}
	start := len(b)
	b = appendFinding(b, f)
	if keep {
		c.findings.put(h, k, b[start:])
	}
	return b
}

// appendChain appends the summaries of a chain (appendSummaries), copied
// from c when kept.
func (c *lineCache) appendChain(b []byte, ss []certs.Summary) ([]byte, error) {
	if c == nil || len(ss) == 0 {
		return appendSummaries(b, ss)
	}
	k := sliceIDOf(ss)
	h := mixWords(0, uintptr(unsafe.Pointer(k.p)), uintptr(k.n))
	enc, keep := c.chains.get(h, k)
	if enc != nil {
		return append(b, enc...), nil
	}
	start := len(b)
	b, err := appendSummaries(b, ss)
	if err == nil && keep {
		c.chains.put(h, k, b[start:])
	}
	return b, err
}

// appendNames appends a certificate's names (appendStrings), copied when
// they are those of the last call.
func (c *lineCache) appendNames(b []byte, names []string) []byte {
	if c == nil || len(names) == 0 {
		return appendStrings(b, names)
	}
	if id := sliceIDOf(names); id != c.namesID {
		c.namesID = id // holds names: see lineCache
		c.namesEnc = appendStrings(c.namesEnc[:0], names)
	}
	return append(b, c.namesEnc...)
}

// strID identifies a string by its bytes' address and length.
type strID struct {
	p *byte
	n int
}

func idOf(s string) strID { return strID{unsafe.StringData(s), len(s)} }

// sliceID identifies a slice by its first element's address and length;
// nil apart from empty (they encode differently).
type sliceID[T any] struct {
	p     *T
	n     int
	isNil bool
}

func sliceIDOf[T any](s []T) sliceID[T] { return sliceID[T]{unsafe.SliceData(s), len(s), s == nil} }

// findingKey identifies a Finding by every field's identity
// (TestJSONLineFields fails when Finding gains a field: add it here too).
type findingKey struct {
	id, severity, profile, summary, why, remedy, citation strID
	evidence                                              sliceID[analysis.Evidence]
}

func findingKeyOf(f *analysis.Finding) findingKey {
	return findingKey{idOf(f.ID), idOf(string(f.Severity)), idOf(f.Profile), idOf(f.Summary), idOf(f.Why), idOf(f.Remedy), idOf(f.Citation), sliceIDOf(f.Evidence)}
}

// hash mixes the words of k into 64 bits: encCache's index.
func (k *findingKey) hash() uint64 {
	h := uint64(0)
	for _, s := range [...]*strID{&k.id, &k.severity, &k.profile, &k.summary, &k.why, &k.remedy, &k.citation} {
		h = mixWords(h, uintptr(unsafe.Pointer(s.p)), uintptr(s.n))
	}
	return mixWords(h, uintptr(unsafe.Pointer(k.evidence.p)), uintptr(k.evidence.n))
}

func mixWords(h uint64, a, b uintptr) uint64 {
	h = (h ^ uint64(a)) * 0x9e3779b97f4a7c15
	h = (h ^ uint64(b)) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// encCache maps keys K (identities, see lineCache), indexed by a hash of
// them, to their JSON, in two generations of at most n entries: past n,
// the newer becomes the older and the older is dropped; an entry found in
// the older moves to the newer. Unless first is set, a key is only noted
// (its hash) the first time, and kept with its JSON the second.
type encCache[K comparable] struct {
	n             int
	first         bool
	kept, keptOld map[uint64]*encEntry[K]
	seen, seenOld map[uint64]struct{}
}

type encEntry[K comparable] struct {
	k   K
	enc []byte
}

// get returns the JSON kept for k, whose hash is h, or nil and whether
// to keep it once encoded (put).
func (c *encCache[K]) get(h uint64, k K) (enc []byte, keep bool) {
	e, ok := c.kept[h]
	if !ok {
		if e, ok = c.keptOld[h]; ok {
			c.keep(h, e)
		}
	}
	if ok {
		if e.k == k {
			return e.enc, false
		}
		return nil, false // another key with the same hash: encoded each time
	}
	if c.first {
		return nil, true
	}
	if _, ok := c.seen[h]; ok {
		return nil, true
	}
	if _, ok := c.seenOld[h]; ok {
		return nil, true
	}
	if len(c.seen) >= c.n || c.seen == nil {
		c.seenOld, c.seen = c.seen, make(map[uint64]struct{}, c.n)
	}
	c.seen[h] = struct{}{}
	return nil, false
}

// put keeps enc, the JSON of the value whose key is k and hash h.
func (c *encCache[K]) put(h uint64, k K, enc []byte) {
	c.keep(h, &encEntry[K]{k: k, enc: append([]byte(nil), enc...)})
}

func (c *encCache[K]) keep(h uint64, e *encEntry[K]) {
	if len(c.kept) >= c.n || c.kept == nil {
		c.keptOld, c.kept = c.kept, make(map[uint64]*encEntry[K], c.n)
	}
	c.kept[h] = e
}
