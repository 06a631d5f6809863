package analysis

import (
	"crypto/x509"
	"hash/maphash"
	"slices"
	"unsafe"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/memo"
	"github.com/certsleuth/certsleuth/match"
)

// sharing lets the items of one Analyze call share what they have in
// common, so a trace of 100,000 connections to a few servers holds each
// certificate summary, each set of verdicts and each set of findings once
// (docs/analysis-memory.md). Shared slices are full (cap == len): an
// append by a later stage (principalTraceFindings) copies instead of
// writing into another item's findings. Nothing writes to their elements.
type sharing struct {
	chains   *memo.Gen[*x509.Certificate, []*describedChain] // by leaf
	verdictM map[verdictKey][]match.Verdict
	findingM map[uint64][]Finding
	evidence map[uint64][]Evidence
	strs     map[string]string
	originM  map[uint64][]Cause
	seed     maphash.Seed
	// light skips interning the verdicts' texts: a streaming pipeline
	// drops its items at once, and its culprits keep no verdicts.
	light bool
	// summaryHit and summaryMiss count the chains found described and
	// not (BenchmarkPipeline reports them).
	summaryHit, summaryMiss int
	verdictHit, verdictMiss int // verdictM

	// What is kept is copied into dense chunks: kept alone, each copy
	// would sit among the garbage of the duplicates around it, and the
	// half-empty pages would stay in the process's memory.
	text      textArena
	findSlab  slab[Finding]
	evSlab    slab[Evidence]
	verSlab   slab[match.Verdict]
	causeSlab slab[Cause]
}

// slab hands out full-capacity slices cut from shared chunks.
type slab[T any] struct{ buf []T }

const slabChunk = 32 << 10 // bytes per chunk

func (s *slab[T]) take(n int) []T {
	var zero T
	per := slabChunk / int(unsafe.Sizeof(zero))
	if n > per/4 {
		return make([]T, n)
	}
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]T, 0, per)
	}
	l := len(s.buf)
	s.buf = s.buf[:l+n]
	return s.buf[l : l+n : l+n]
}

// textArena copies strings into shared chunks. The bytes of a string it
// returned are never written again (later strings go after them).
type textArena struct{ buf []byte }

func (a *textArena) copy(s string) string {
	if len(s) == 0 || len(s) > slabChunk/8 {
		return s
	}
	if cap(a.buf)-len(a.buf) < len(s) {
		a.buf = make([]byte, 0, slabChunk)
	}
	l := len(a.buf)
	a.buf = append(a.buf, s...)
	return unsafe.String(&a.buf[l], len(s))
}

type describedChain struct {
	chain []*x509.Certificate // nil when kept by a chain's entry alone
	sums  []certs.Summary
}

type verdictKey struct {
	leaf *chainView // the judger's: one per chain
	name string
}

func newSharing() *sharing {
	return &sharing{
		chains:   memo.New[*x509.Certificate, []*describedChain](maxShared),
		verdictM: map[verdictKey][]match.Verdict{},
		findingM: map[uint64][]Finding{},
		evidence: map[uint64][]Evidence{},
		strs:     map[string]string{},
		seed:     maphash.MakeSeed(),
	}
}

// summaries returns the summaries of chain, described once per chain (the
// certificates come from one certs.Cache: the same DER is the same pointer).
func (sh *sharing) summaries(chain []*x509.Certificate) []certs.Summary {
	if len(chain) == 0 {
		return []certs.Summary{}
	}
	return sh.described(chain).sums
}

// described returns chain's entry, described once per chain.
func (sh *sharing) described(chain []*x509.Certificate) *describedChain {
	kept, _ := sh.chains.Get(chain[0])
	for _, e := range kept {
		if slices.Equal(e.chain, chain) {
			sh.summaryHit++
			return e
		}
	}
	e := sh.describe(chain)
	sh.chains.Put(chain[0], append(kept, e))
	return e
}

// describe returns chain's entry, described now (a miss).
func (sh *sharing) describe(chain []*x509.Certificate) *describedChain {
	sh.summaryMiss++
	s := make([]certs.Summary, len(chain))
	for i, c := range chain {
		s[i] = certs.Describe(c)
	}
	return &describedChain{chain: chain, sums: s}
}

// verdicts returns Match(leaf, name, p) for every profile, computed once
// per chain and name (Match depends on nothing else than the leaf's
// names).
func (sh *sharing) verdicts(leaf *chainView, name string, ps []*match.Profile) []match.Verdict {
	if len(ps) == 0 {
		return nil
	}
	k := verdictKey{leaf, name}
	if v, ok := sh.verdictM[k]; ok {
		sh.verdictHit++
		return v
	}
	sh.verdictMiss++
	v := sh.verSlab.take(len(ps))
	match.MatchAllNames(&leaf.leaf, name, ps, v) // the texts the profiles agree on made once
	if !sh.light {
		for i := range v {
			// The profiles mostly agree: keep one copy of each text.
			v[i].Host, v[i].Reason, v[i].By = sh.intern(v[i].Host), sh.intern(v[i].Reason), sh.intern(v[i].By)
		}
	}
	sh.verdictM[k] = v
	return v
}

// findings returns a slice equal to fs: the first one seen with that
// content, or a full-capacity copy of fs that later equal sets will share.
func (sh *sharing) findings(fs []Finding) []Finding {
	if len(fs) == 0 {
		return fs
	}
	h := sh.hashFindings(fs)
	if prev, ok := sh.findingM[h]; ok {
		if equalFindings(prev, fs) {
			return prev
		}
		return fs[:len(fs):len(fs)] // a hash collision: keep its own
	}
	own := sh.findSlab.take(len(fs))
	copy(own, fs)
	for i := range own {
		f := &own[i]
		f.Summary, f.Why = sh.intern(f.Summary), sh.intern(f.Why)
		f.Evidence = sh.shareEvidence(f.Evidence)
	}
	sh.findingM[h] = own
	return own
}

// shareEvidence returns a slice equal to ev, shared with the findings
// that list the same evidence (the name checks of every profile do).
func (sh *sharing) shareEvidence(ev []Evidence) []Evidence {
	if len(ev) == 0 {
		return ev
	}
	var h maphash.Hash
	h.SetSeed(sh.seed)
	for _, e := range ev {
		h.WriteString(e.Label)
		h.WriteByte(0)
		h.WriteString(e.Value)
		h.WriteByte(0)
		h.WriteString(e.From)
		h.WriteByte(0)
	}
	k := h.Sum64()
	if prev, ok := sh.evidence[k]; ok && equalEvidence(prev, ev) {
		return prev
	}
	own := sh.evSlab.take(len(ev))
	for i, e := range ev {
		own[i] = Evidence{Label: sh.intern(e.Label), Value: sh.intern(e.Value), From: sh.intern(e.From)}
	}
	if _, ok := sh.evidence[k]; !ok {
		sh.evidence[k] = own
	}
	return own
}

func equalEvidence(a, b []Evidence) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// intern returns the first string seen equal to s.
func (sh *sharing) intern(s string) string {
	if s == "" {
		return ""
	}
	if c, ok := sh.strs[s]; ok {
		return c
	}
	c := sh.text.copy(s)
	sh.strs[c] = c
	return c
}

func (sh *sharing) hashFindings(fs []Finding) uint64 {
	var h maphash.Hash
	h.SetSeed(sh.seed)
	str := func(s string) {
		h.WriteString(s)
		h.WriteByte(0)
	}
	for i := range fs {
		f := &fs[i]
		str(f.ID)
		str(string(f.Severity))
		str(f.Profile)
		str(f.Summary)
		str(f.Why)
		str(f.Remedy)
		str(f.Citation)
		if f.Evidence == nil {
			h.WriteByte(1) // nil and empty encode differently in JSON
		}
		for _, e := range f.Evidence {
			str(e.Label)
			str(e.Value)
			str(e.From)
		}
		h.WriteByte(2)
	}
	return h.Sum64()
}

func equalFindings(a, b []Finding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(&b[i]) {
			return false
		}
	}
	return true
}

// bound empties the tables that grew past maxShared entries (the chain
// summaries keep two generations of maxShared leaves instead: hs.pcap's
// 1,818 chains in random order, described again at every second
// connection when the table was emptied whole): they are memos (what they held stays shared by the items that took it), so a
// pipeline over a long input keeps what is recent.
func (sh *sharing) bound() {
	// Emptied in place: a table made anew grew again to maxShared
	// entries (the verdicts' table, 3.3 MB of a run of hs.pcap).
	if len(sh.verdictM) >= maxShared {
		clear(sh.verdictM)
	}
	if len(sh.findingM) >= maxShared {
		clear(sh.findingM)
	}
	if len(sh.evidence) >= maxShared {
		clear(sh.evidence)
	}
	if len(sh.strs) >= maxShared {
		clear(sh.strs)
	}
}

// origin returns a slice equal to chain: the first one seen with that
// content, or a full-capacity copy that later equal chains will share.
// The table is a memo, emptied when it grows past maxShared entries.
func (sh *sharing) origin(chain []Cause) []Cause {
	if len(chain) == 0 {
		return chain
	}
	if sh.originM == nil || len(sh.originM) >= maxShared {
		sh.originM = map[uint64][]Cause{}
	}
	var h maphash.Hash
	h.SetSeed(sh.seed)
	hashCauses(&h, chain)
	k := h.Sum64()
	if prev, ok := sh.originM[k]; ok {
		if equalCauses(prev, chain) {
			return prev
		}
		return chain
	}
	own := sh.causeSlab.take(len(chain))
	copy(own, chain)
	sh.originM[k] = own
	return own
}

// maxShared bounds each sharing table: past it the table starts again
// (a pipeline over a long input keeps what is recent). 1,024: with 8,192
// the tables and the text chunks they pin took 35 MB of hs.pcap's 80 MB
// live heap, for few hits (most of its connections ask a new name);
// 1,024 recent servers x names cover an office's capture
// (docs/analysis-memory.md).
const maxShared = 1 << 10

func hashCauses(h *maphash.Hash, cs []Cause) {
	for i := range cs {
		c := &cs[i]
		h.WriteString(string(c.Kind))
		h.WriteByte(0)
		maphash.WriteComparable(h, c.From)
		maphash.WriteComparable(h, c.Field)
		h.WriteString(c.URL)
		h.WriteByte(0)
		h.WriteString(c.Setting)
		h.WriteByte(0)
		h.WriteString(c.Text)
		h.WriteByte(0)
		maphash.WriteComparable(h, c.Hedged)
		maphash.WriteComparable(h, c.Either == nil)
		hashCauses(h, c.Either)
		h.WriteByte(1)
	}
}

// equalCauses reports whether a and b hold the same causes (an answer's
// field by identity: equal pointers render the same).
func equalCauses(a, b []Cause) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Kind != y.Kind || x.From != y.From || x.Field != y.Field || x.URL != y.URL || x.Setting != y.Setting ||
			x.Text != y.Text || x.Hedged != y.Hedged || (x.Either == nil) != (y.Either == nil) || !equalCauses(x.Either, y.Either) {
			return false
		}
	}
	return true
}
