package report

import (
	"hash/maphash"
	"strings"
	"unsafe"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/internal/memo"
)

// lineCache keeps the JSON of the parts of a line that repeat from one
// item to the next, so that JSONWriter encodes them once and copies the
// bytes after:
//   - the findings lists the judge shares between items (lists): 62%
//     of hs.pcap's lines copy their findings whole;
//   - the findings seen more than once: the judge keeps each ChainOnly
//     finding once for every chain that has it, and a hs.pcap line is 8 KB
//     of findings; 79% of hs.pcap's 190,822 findings are copied;
//   - the certificate's names of the verdicts (every profile's verdict
//     holds the same slice, the certificate's).
//
// A finding is found by its content: a hash of it, then compared whole
// with the copy the cache keeps (its own strings: a cache that kept the
// judge's would hold the 32 KB chunks they are cut from, 8 MB of hs.pcap's
// peak). A nil *lineCache keeps nothing (each part is encoded).
type lineCache struct {
	// lists keeps the JSON of the findings lists the judge shares
	// between items, by the list's identity (memo.Ident): it gives every
	// item that got the same findings one slice, never written to
	// (judger.runOnlyFindings, and the items its memo judged alike), and a
	// JSON line is mostly findings (8 KB of hs.pcap's 12).
	lists    memo.Ident[analysis.Finding, []byte]
	findings encCache
	// namesID is the last certificate's names (a slice shared by every
	// verdict of one certificate: its address and length, kept with
	// names so that they cannot be reused) and namesEnc their JSON.
	names    []string
	namesID  sliceID
	namesEnc []byte
}

// lineCacheEntries is the number of findings, seen or kept, of a
// generation of lineCache.findings (two are kept). A finding is kept the
// second time it is seen, so that the many seen once (a date or a name in
// their text) cost only their hash: hs.pcap keeps 4,773 of its 190,822
// findings (about 1 KB of JSON and 1 KB of text each) and copies 79%.
const lineCacheEntries = 512

func newLineCache() *lineCache {
	return &lineCache{findings: newEncCache(lineCacheEntries, maphash.MakeSeed())}
}

// appendFinding appends f as a JSON object, copied from c when kept.
func (c *lineCache) appendFinding(b []byte, f *analysis.Finding) []byte {
	if c == nil {
		return appendFinding(b, f)
	}
	h := c.findings.hash(f)
	enc, keep := c.findings.get(h, f)
	if enc != nil {
		return append(b, enc...)
	}
	start := len(b)
	b = appendFinding(b, f)
	if keep {
		c.findings.put(h, f, b[start:])
	}
	return b
}

// appendNames appends a certificate's names (appendStrings), copied when
// they are those of the last call.
func (c *lineCache) appendNames(b []byte, names []string) []byte {
	if c == nil || len(names) == 0 {
		return appendStrings(b, names)
	}
	if id := (sliceID{unsafe.SliceData(names), len(names)}); id != c.namesID {
		c.names, c.namesID = names, id
		c.namesEnc = appendStrings(c.namesEnc[:0], names)
	}
	return append(b, c.namesEnc...)
}

// sliceID identifies a non-empty []string by its first element's address
// and length (the slice is kept with it: the address cannot be reused,
// and nothing writes to the elements of a slice the judge shares).
type sliceID struct {
	p *string
	n int
}

// encCache maps findings to their JSON, in two generations of at most n
// entries: past n, the newer becomes the older and the older is dropped;
// an entry found in the older moves to the newer. A finding is first only
// noted (its hash), and kept with its JSON when seen again.
type encCache struct {
	seed maphash.Seed
	kept *memo.Gen[uint64, *encEntry]
	seen *memo.Gen[uint64, struct{}]
}

func newEncCache(n int, seed maphash.Seed) encCache {
	return encCache{seed: seed, kept: memo.New[uint64, *encEntry](n), seen: memo.New[uint64, struct{}](n)}
}

// encEntry is a kept finding: a copy with its own strings, and its JSON.
type encEntry struct {
	f   analysis.Finding
	enc []byte
}

// hash hashes every field of f (TestJSONLineFields fails when Finding
// gains a field: add it here and in cloneFinding too (Finding.Equal compares it)).
func (c *encCache) hash(f *analysis.Finding) uint64 {
	// A maphash.String per text, mixed: a maphash.Hash copies what it is
	// written through its buffer, which cost more than the hash.
	h := uint64(0)
	for _, s := range [...]string{f.ID, string(f.Severity), f.Profile, f.Summary, f.Why, f.Remedy, f.Citation} {
		h = mixHash(h, maphash.String(c.seed, s))
	}
	if f.Evidence == nil {
		h = mixHash(h, 1) // nil and empty encode alike, but compare apart
	}
	for _, e := range f.Evidence {
		h = mixHash(mixHash(mixHash(h, maphash.String(c.seed, e.Label)), maphash.String(c.seed, e.Value)), maphash.String(c.seed, e.From))
	}
	return h
}

// mixHash folds x into h, in order (mixHash(mixHash(0, a), b) is not
// mixHash(mixHash(0, b), a)).
func mixHash(h, x uint64) uint64 {
	h = (h ^ x) * 0x9e3779b97f4a7c15
	return h ^ h>>32
}

func cloneFinding(f *analysis.Finding) analysis.Finding {
	c := analysis.Finding{ID: strings.Clone(f.ID), Severity: analysis.Severity(strings.Clone(string(f.Severity))), Profile: strings.Clone(f.Profile),
		Summary: strings.Clone(f.Summary), Why: strings.Clone(f.Why), Remedy: strings.Clone(f.Remedy), Citation: strings.Clone(f.Citation)}
	if f.Evidence != nil {
		c.Evidence = make([]analysis.Evidence, len(f.Evidence))
		for i, e := range f.Evidence {
			c.Evidence[i] = analysis.Evidence{Label: strings.Clone(e.Label), Value: strings.Clone(e.Value), From: strings.Clone(e.From)}
		}
	}
	return c
}

// get returns the JSON kept for f, whose hash is h, or nil and whether
// to keep it once encoded (put).
func (c *encCache) get(h uint64, f *analysis.Finding) (enc []byte, keep bool) {
	if e, ok := c.kept.Get(h); ok {
		if e.f.Equal(f) {
			return e.enc, false
		}
		return nil, false // another finding of the same hash: encoded each time
	}
	if _, ok := c.seen.Get(h); ok {
		return nil, true
	}
	c.seen.Put(h, struct{}{})
	return nil, false
}

// put keeps enc, the JSON of f, whose hash is h.
func (c *encCache) put(h uint64, f *analysis.Finding, enc []byte) {
	c.kept.Put(h, &encEntry{f: cloneFinding(f), enc: append([]byte(nil), enc...)})
}
