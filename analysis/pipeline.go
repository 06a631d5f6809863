package analysis

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"sort"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/internal/memo"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// DefaultWindow is how many observations a Pipeline looks ahead before it
// attributes one (Options.Window): see docs/analysis-memory.md.
const DefaultWindow = 2048

// Pipeline is the analysis as a stream: each observation, as it arrives,
// is looked at for what it tells the ones before it (the email domains it
// names); once Window later observations have been looked at, it is
// judged (the checks and the matcher, with the certificate and trust
// caches), attributed (what sent the client there, from what came before
// it), handed to the sink and counted into its cause (aggregate). It keeps
// no list of observations or items: its memory follows the look-ahead
// window (of observations: an observation is judged only shortly before
// it is attributed, so the window holds no verdicts or findings), the
// distinct causes, hosts, certificates and settings.
//
// What a later observation can change is handled so:
//   - the email domains (which make an Autodiscover request the client's
//     candidate rather than the SCP) are taken from the window ahead:
//     a domain first named more than Window observations after a request
//     does not explain it (Analyze looks at the whole list);
//   - the Exchange release and server names, the answers' covered names and
//     the hosts reached without a warning, which only the fixes use, are
//     taken from the whole input (the fixes are written at Close);
//   - the Outlook Anywhere principal, an answer arriving after its request,
//     and a probe repeated without SNI are judged from what came before, as
//     they always were.
//
// A Pipeline made by NewPipeline runs its stages in goroutines of its
// own: one looks ahead, attributes, aggregates and hands the items to the
// sink, and feeds the observations nearing the end of the window to the
// other, which judges them, each in input order, with bounded queues
// between them (at most stageQueue observations are at the judge or
// judged and waiting), so that the judging of one observation overlaps
// the reading of the next and the writing of an earlier one
// (docs/bench-pcap.md). The sink is called from that goroutine, one item
// at a time; all it did happens before Close returns. Close must be
// called: it ends the goroutines.
//
// A Pipeline is not safe for concurrent use: Add and Close are called
// from one goroutine.
type Pipeline struct {
	opts    Options
	sink    ItemSink
	r       *Report
	j       *judger
	t       *OriginTrace
	agg     *aggregate
	window  []*record.Observation // looked at, not yet attributed, oldest first
	head    int                   // window[head:] is pending
	max     int
	n       int  // observations looked at
	out     int  // observations attributed
	windows bool // the windows profile is chosen (the principal check)
	err     error
	// pending is the most observations ever looked at and not yet
	// attributed (TestPipelineBounded reads it after Close).
	pending int
	// stats are the judge's memo lookups, kept by Close
	// (BenchmarkPipeline reports them).
	stats memoStats

	// The stages' goroutines (nil when the pipeline runs in the caller's,
	// as Analyze's does): in feeds the look-ahead and attribute stage,
	// obs the judge (window[head:head+atJudge] are there, or judged and
	// waiting in judged), done is closed when the attribute stage has
	// taken the last item. failed holds the sink's error for Add, which
	// runs in another goroutine.
	in      chan *record.Observation
	obs     chan *record.Observation
	judged  chan *Item
	atJudge int
	done    chan struct{}
	failed  atomic.Pointer[error]
	closed  bool
}

// stageQueue is how many observations, and judged items, may wait between
// two stages: enough to ride out a slow item (a certificate parsed for the
// first time), small next to the look-ahead window.
const stageQueue = 256

// NewPipeline returns a pipeline that hands every final item to sink.
// opts are as for Analyze; opts.Window bounds the look-ahead (0 means
// DefaultWindow).
func NewPipeline(opts Options, sink ItemSink) *Pipeline {
	p := newPipeline(opts, sink, false, opts.Window)
	p.in, p.obs, p.judged, p.done = make(chan *record.Observation, stageQueue), make(chan *record.Observation, stageQueue), make(chan *Item, stageQueue), make(chan struct{})
	go p.judgeStage()
	go p.attributeStage()
	return p
}

// judgeStage judges the observations of p.obs in order and passes the
// items on to the attribute stage.
func (p *Pipeline) judgeStage() {
	n := 0
	for o := range p.obs {
		n++
		p.judged <- p.j.item(n, o)
	}
	close(p.judged)
}

// attributeStage takes the observations in order: what each teaches the
// ones before it (OriginTrace.facts), then, once the window ahead of it is
// read, its judgement (from the judge stage), attribution, cause and the
// sink; at the end of the input, those still pending. After a sink error
// it only drains its queues.
func (p *Pipeline) attributeStage() {
	defer close(p.done)
	for o := range p.in {
		if p.err != nil {
			continue
		}
		p.take(o)
		if p.err != nil {
			err := p.err
			p.failed.Store(&err)
		}
	}
	p.finish()
	close(p.obs)
	for range p.judged {
	}
}

// newPipeline: keepAll keeps every cause, answer and culprit repeat
// (Analyze); window is the look-ahead.
func newPipeline(opts Options, sink ItemSink, keepAll bool, window int) *Pipeline {
	opts = opts.withDefaults()
	if window <= 0 {
		window = DefaultWindow
	}
	r := &Report{Profiles: opts.Profiles}
	for _, c := range opts.WhatIf {
		r.WhatIf = append(r.WhatIf, certs.Describe(c))
	}
	p := &Pipeline{opts: opts, sink: sink, r: r, j: newJudger(opts), t: newOriginTrace(keepAll), max: window}
	p.j.sh.light = !keepAll
	p.agg = newAggregate(opts.Profiles, keepAll)
	r.agg, r.hosts, r.Origins = p.agg, &p.agg.hosts, p.t
	for _, pr := range opts.Profiles {
		if pr.Name == "windows" {
			p.windows = true
		}
	}
	return p
}

// Add takes the next observation. It returns the sink's error, after
// which the pipeline takes nothing more.
func (p *Pipeline) Add(o *record.Observation) error {
	if p.in != nil {
		if err := p.failed.Load(); err != nil {
			return *err
		}
		p.in <- o
		return nil
	}
	if p.err != nil {
		return p.err
	}
	p.take(o)
	return p.err
}

// take is the look-ahead for the next observation: its facts are known to
// the origin trace at once, and the oldest pending observation is judged
// and attributed once more than the window is pending.
func (p *Pipeline) take(o *record.Observation) {
	p.n++
	p.t.facts(p.n, o)
	p.window = append(p.window, o)
	p.pending = max(p.pending, len(p.window)-p.head)
	p.feed()
	if len(p.window)-p.head > p.max {
		p.attribute()
	}
}

// feed hands the judge stage (when there is one) the pending observations
// it does not have yet, oldest first, while fewer than stageQueue are
// there or judged and waiting: then neither queue between the stages can
// fill up, and the judged items in memory are at most stageQueue.
func (p *Pipeline) feed() {
	if p.obs == nil {
		return
	}
	for p.atJudge < stageQueue && p.head+p.atJudge < len(p.window) {
		p.obs <- p.window[p.head+p.atJudge]
		p.atJudge++
	}
}

// finish attributes every pending observation (the end of the input).
func (p *Pipeline) finish() {
	for p.head < len(p.window) && p.err == nil {
		p.attribute()
	}
	p.window = nil
}

// attribute judges (or takes the judge stage's judgement of) the oldest
// pending observation and finishes its item.
func (p *Pipeline) attribute() {
	o := p.window[p.head]
	p.out++
	var it *Item
	if p.obs != nil {
		it = <-p.judged // judged in order: o's
		p.atJudge--
	} else {
		it = p.j.item(p.out, o)
	}
	p.window[p.head] = nil
	p.head++
	if p.head >= 1024 && p.head*2 >= len(p.window) {
		p.window = append(p.window[:0], p.window[p.head:]...)
		p.head = 0
	}
	p.feed()
	it.Origin = attributeItem(p.t, it, p.windows)
	if !p.j.sh.light {
		// Analyze keeps every item: equal origin chains are kept once. A
		// streaming pipeline drops its items at once, and sharing would
		// only hash and copy every item's chain (8 MB of what hs.pcap
		// allocated).
		it.Origin = p.j.sh.origin(it.Origin)
	}
	p.agg.add(it)
	p.r.Totals.countItem(it, p.opts.Profiles)
	if p.err == nil {
		p.err = p.sink.Item(it)
	}
}

// attributeItem is the attribute stage for one judged item, in input
// order: its cause from what came before it, the Outlook Anywhere
// principal an earlier answer required (when windows, the profile that
// checks it, is chosen), what it teaches later requests. It returns the
// item's origin chain.
func attributeItem(t *OriginTrace, it *Item, windows bool) []Cause {
	c := t.step(it.Index, it.Obs)
	if windows {
		n := len(it.Findings)
		c = t.principalFindings(it, it.leaf, c)
		if len(it.Findings) != n {
			sort.SliceStable(it.Findings, func(a, b int) bool {
				return it.Findings[a].Severity.rank() > it.Findings[b].Severity.rank()
			})
		}
	}
	t.settle(it.Index, it.Obs, c)
	it.leaf = nil
	return t.chain(it.Index, c)
}

// Close attributes what is pending and returns the report: Totals, the
// culprits (Culprits), the origin facts and the certificate plan; its
// Items are nil. The error is the sink's. Calling Close again returns the
// same.
func (p *Pipeline) Close() (*Report, error) {
	if p.closed {
		return p.r, p.err
	}
	p.closed = true
	if p.in != nil {
		close(p.in)
		<-p.done
	} else {
		p.finish()
	}
	p.t.sortDomains()
	if !p.t.keepAll {
		// The email domains of the whole input (see grouping.reattribute).
		p.agg.g.reattribute(func(c *Culprit) *Cause {
			host := exchange.NormHost(c.name)
			// Only the causes the candidate list gave (or would have): none
			// found, or the SCP for the very first connection.
			switch {
			case c.probe:
				return nil
			case c.originUnknown:
			case c.originSCP && c.Index == p.t.firstReq && c.Requests == 1:
			default:
				return nil
			}
			return p.t.quietCandidate(host, c.Index != p.t.firstReq)
		})
	}
	if p.r.Totals.PerProfile == nil {
		p.r.Totals = TotalsOf(&Report{Profiles: p.opts.Profiles})
	}
	p.stats = p.j.stats
	p.stats.sumHit, p.stats.sumMiss = p.j.sh.summaryHit, p.j.sh.summaryMiss
	p.stats.verHit, p.stats.verMiss = p.j.sh.verdictHit, p.j.sh.verdictMiss
	p.j = nil
	return p.r, p.err
}

// withDefaults fills in what nil means in opts: every profile, a new
// certificate cache, DefaultRegistry.
func (opts Options) withDefaults() Options {
	if opts.Profiles == nil {
		opts.Profiles = match.Profiles()
	}
	if opts.Cache == nil {
		opts.Cache = &certs.Cache{}
	}
	if opts.Registry == nil {
		opts.Registry = DefaultRegistry
	}
	return opts
}

// judger is the judge stage: the checks and the matcher for one
// observation at a time, with the trust of each chain computed once and
// the results that many observations share kept once (sharing).
type judger struct {
	opts   Options
	checks []*Check
	now    time.Time
	// chains holds what the judge knows of each chain seen lately, by
	// its recorded ID: parsed, its trust, its ChainOnly runs
	// (chainEntry); byDER those of the chains without one, by derHash.
	chains      *memo.Gen[string, *chainEntry]
	byDER       *memo.Gen[uint64, []*chainEntry]
	whatIfTrust *trustResult
	whatIfView  *chainView
	sh          *sharing
	// memo holds the judgement of recent observations by what it depends
	// on (checkKey): thousands of connections to one server and name are
	// judged once.
	memo *memo.Gen[string, *Item]

	// Scratch space reused from one observation to the next (a judger is
	// used by one goroutine): the key's copy of the observation and its
	// bytes, the subject and verdict each per-profile check is given, the
	// findings before they are shared.
	keyBuf []byte
	subj   Subject
	conn   Subject
	ps     Subject
	pconn  Subject
	v      match.Verdict
	fs     []Finding
	once   subjectOnce
	// allProfiles: the profiles judged are match.Profiles(), in its
	// order, so the item's verdicts are what refusedBy looks at.
	allProfiles bool
	// runFindings keeps each finding of the ChainOnly checks once, for
	// every chain that has it (runFinding).
	runFindings *memo.Gen[uint64, []*Finding]
	chainSlot   []int // by check: its ordinal among the ChainOnly checks
	chainOnly   int   // how many checks are ChainOnly
	// whole lists the checks that are not PerProfile; perKind the
	// PerProfile ones that can find something for a verdict of a kind
	// (Check.kinds; "" for no verdict), made when first asked: the
	// others are not called at all (of 27 per profile, hs.pcap's
	// connections ran 12-14).
	whole   []int
	perKind map[match.Kind][]int
	// runOnly keeps, by the ChainOnly findings an observation got (and
	// nothing else), its findings sorted (runOnlyFindings); ran is those
	// findings of the observation being judged, in the order found, and
	// fsOwn how many of its findings came from the other checks.
	runOnly *memo.Gen[uint64, []runOnlyEntry]
	ran     []*Finding
	fsOwn   int
	// aiaMissing keeps chain.intermediate-missing's findings by what
	// they read, across chains.
	aiaMissing *aiaMissingMemo

	stats memoStats
}

// memoStats counts the lookups of the judge's memos that found what they
// looked for (hit) and those that did not: BenchmarkPipeline reports them,
// to size the memos on real captures.
type memoStats struct {
	trustHit, trustMiss int // a chain's trust (chainEntry)
	memoHit, memoMiss   int // judger.memo (observations with a key)
	runsHit, runsMiss   int // a chain's ChainOnly runs (chainEntry)
	sumHit, sumMiss     int // sharing.chains (the chains' summaries)
	verHit, verMiss     int // sharing.verdictM
}

// chainRuns is what the ChainOnly checks found on one chain: a slot per
// ChainOnly check (chainSlot) and profile (0 for the checks that are not
// per profile, k+1 for profile k); ran has the bit of each slot whose
// check ran, found the findings of those that did not pass (few: a
// chain's entry is about 200 bytes).
type chainRuns struct {
	ran   []uint64
	hit   []uint64 // the bits of the slots that found something (in found)
	found []slotFinding
}

type slotFinding struct {
	slot int
	f    *Finding
}

// chainRunsOf returns the ChainOnly findings kept for o's chain pc, or
// nil when they cannot be kept: what they read is the chain's alone only
// for the chain recorded (not a what-if) and without AIA fetches recorded
// with the observation (judgeAIA reads them).
func (j *judger) chainRunsOf(s *Subject, pc *parsedChain) *chainRuns {
	if pc.id == "" || s.WhatIf || len(s.Obs.AIA) > 0 {
		return nil
	}
	if e := pc.entry; e.runs != nil {
		j.stats.runsHit++
		return e.runs
	}
	j.stats.runsMiss++
	n := j.chainOnly * (len(j.opts.Profiles) + 1)
	w := (n + 63) / 64
	bits := make([]uint64, 2*w)
	pc.entry.runs = &chainRuns{ran: bits[:w:w], hit: bits[w:]}
	return pc.entry.runs
}

// maxChains is the generation size of judger.chains (memo.Gen: up to
// twice as many chains are remembered), and of runFindings: as many
// chains as certs.Cache keeps certificates in a generation (with 1,024,
// hs.pcap, 1,818 chains in random order, verified 3,687 chains). Past its
// first sight an entry holds no parsed certificate: its view (a few
// hundred bytes, mostly the leaf's names), its summaries and its
// ChainOnly runs, about 200 bytes (chainRuns);
// the findings in them are kept once for every chain that has them
// (runFinding): hs.pcap's 1,818 chains lack their intermediate CA, and
// chain.intermediate-missing's texts, per profile, name only the issuer
// and its AIA URL. Emptied whole at 256 chains, the table hit 12% of
// hs.pcap's chains, and that check's fmt.Sprintf was a tenth of what the
// analysis allocated; with generations of 1,024 it hit 80.2%, and the
// check's texts were still a tenth of what the judge allocated; with
// certs.CacheGeneration, as the trust memo, 90.25% (hs.pcap's 18,632
// chains seen are 1,818 distinct: each is run once).
const maxChains = certs.CacheGeneration

// runFinding returns f, or an equal finding kept before (nil for nil).
func (j *judger) runFinding(f *Finding) *Finding {
	if f == nil {
		return nil
	}
	h := j.sh.hashFindings(unsafe.Slice(f, 1))
	kept, _ := j.runFindings.Get(h)
	for _, k := range kept {
		if equalFindings(unsafe.Slice(k, 1), unsafe.Slice(f, 1)) {
			return k
		}
	}
	j.runFindings.Put(h, append(kept, f))
	return f
}

// run appends to fs what check ci, c, finds in s; it runs c once per
// chain and profile (slot) when c is ChainOnly and cr, the chain's, is
// not nil.
func (j *judger) run(fs []Finding, ci int, c *Check, s *Subject, slot int, cr *chainRuns) []Finding {
	if !c.ChainOnly || cr == nil {
		if c.skips(s) {
			return fs
		}
		n := len(fs)
		fs = c.appendRun(fs, s)
		j.fsOwn += len(fs) - n
		return fs
	}
	i := j.chainSlot[ci]*(len(j.opts.Profiles)+1) + slot
	if bit := uint64(1) << (i % 64); cr.ran[i/64]&bit != 0 && cr.hit[i/64]&bit == 0 {
		return fs // most slots: the check ran on the chain and passed
	}
	if f := j.runChain(i, c, s, cr); f != nil {
		fs = append(fs, *f)
		j.ran = append(j.ran, f)
	}
	return fs
}

// runOnlyEntry is a set of findings that came from ChainOnly runs alone:
// from, the kept findings (runFinding) in the order the checks found
// them, and fs, the item's findings made of them, sorted by severity.
type runOnlyEntry struct {
	from []*Finding
	fs   []Finding
}

// runOnlyFindings returns the item findings of an observation whose
// findings ran, in order, all came from ChainOnly runs: made and sorted
// once for every observation that got the same (most connections that
// warn do so for their chain alone, and their chains, by their issuer,
// mostly get the same findings: hs.pcap's 19,200 connections that lack
// their intermediate CA share a few sets), full (cap == len: an append
// by a later stage copies), never written to.
func (j *judger) runOnlyFindings(ran []*Finding) []Finding {
	var h maphash.Hash
	h.SetSeed(j.sh.seed)
	for _, f := range ran {
		maphash.WriteComparable(&h, f)
	}
	k := h.Sum64()
	kept, _ := j.runOnly.Get(k)
	for _, e := range kept {
		if slices.Equal(e.from, ran) {
			return e.fs
		}
	}
	fs := make([]Finding, len(ran))
	for i, f := range ran {
		fs[i] = *f
	}
	sortBySeverity(fs)
	j.runOnly.Put(k, append(kept, runOnlyEntry{from: slices.Clone(ran), fs: fs}))
	return fs
}

// runChain is the finding of ChainOnly check c on s, whose chain's runs
// cr are, in slot i of cr (the check's, for one profile): run once per
// chain and slot.
func (j *judger) runChain(i int, c *Check, s *Subject, cr *chainRuns) *Finding {
	if cr.ran[i/64]&(1<<(i%64)) != 0 {
		if cr.hit[i/64]&(1<<(i%64)) == 0 {
			return nil // most slots: the check passed
		}
		for _, sf := range cr.found {
			if sf.slot == i {
				return sf.f
			}
		}
		return nil
	}
	cr.ran[i/64] |= 1 << (i % 64)
	f := j.runFinding(c.run(s))
	if f != nil {
		cr.hit[i/64] |= 1 << (i % 64)
		cr.found = append(cr.found, slotFinding{i, f})
	}
	return f
}

// maxMemo is the generation size of judger.memo (memo.Gen). An entry holds
// its key (about 100 bytes) and a judgement: the findings and their texts
// of every profile, 5-6 KB for a name that fails. A capture of an office
// (a few servers and names) hits at any size; pcapgen's hs.pcap draws a
// new name at almost every connection, and its judged-hit-% is 7.0 with
// 256 (judge caches 5.9 MB live), 12.2 with 512 (8.1 MB), 19.5 with 1,024
// (12.3 MB), for the same CPU time within noise (BenchmarkJudge).
const maxMemo = 1 << 8

func newJudger(opts Options) *judger {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	j := &judger{opts: opts, checks: opts.Registry.All(), now: now, chains: memo.New[string, *chainEntry](maxChains), byDER: memo.New[uint64, []*chainEntry](maxChains), sh: newSharing(), memo: memo.New[string, *Item](maxMemo), runFindings: memo.New[uint64, []*Finding](maxChains), runOnly: memo.New[uint64, []runOnlyEntry](maxChains), aiaMissing: newAIAMissingMemo()}
	j.allProfiles = slices.Equal(opts.Profiles, match.Profiles())
	j.chainSlot = make([]int, len(j.checks))
	for i, c := range j.checks {
		j.chainSlot[i] = j.chainOnly
		if c.ChainOnly {
			j.chainOnly++
		}
		if !c.PerProfile {
			j.whole = append(j.whole, i)
		}
	}
	j.perKind = map[match.Kind][]int{}
	return j
}

// checksFor returns the PerProfile checks that may find something for a
// verdict v (nil: none), in their order: those without kinds, and those
// whose kinds have v's (Check.skips).
func (j *judger) checksFor(v *match.Verdict) []int {
	var k match.Kind
	if v != nil {
		k = v.Kind
	}
	if l, ok := j.perKind[k]; ok {
		return l
	}
	l := []int{}
	for i, c := range j.checks {
		if c.PerProfile && (c.kinds == nil || v != nil && slices.Contains(c.kinds, k)) {
			l = append(l, i)
		}
	}
	j.perKind[k] = l
	return l
}

// parsedChain is an observation's chain as the judge reads it, parsed and
// identified once for the key and the checks.
type parsedChain struct {
	// certs is the chain parsed: nil once its entry is done (the view is
	// then all that is kept) until parsed again (full).
	certs []*x509.Certificate
	err   error
	id    string // record.ChainID, or "" without a chain
	// view is what the checks that are not ChainOnly read of the chain
	// (nil without a chain, or when not even its leaf parsed).
	view *chainView
	// entry is what the judger keeps of the chain (nil without one).
	entry *chainEntry
}

// chainEntry is what the judger keeps of one chain: parsed (pc, without
// its entry), its trust and its ChainOnly runs once the checks ask. Once
// every ChainOnly check has run on it for every profile (done), the
// parsed certificates and the trust are dropped: what later connections
// read of the chain is its view, its runs and its summaries.
type chainEntry struct {
	pc    parsedChain
	der   [][]byte // the chain as first seen (its certificates hold it anyway)
	trust *trustResult
	runs  *chainRuns
	done  bool
	// desc is the chain's summaries once asked for: kept with the chain,
	// so that they are made once for as long as the chain is (looked up
	// in sharing by the leaf instead, in generations of maxShared, hs.pcap's
	// 1,817 chains were described 5,300 times).
	desc *describedChain
}

// chain is o's chain, parsed and identified: its entry found by the ID
// the recorder gave it (a capture's and a trace's observations carry
// one), else by its certificates' DER (derHash), parsed only at its first
// sight (or once its entry is forgotten).
func (j *judger) chain(o *record.Observation) parsedChain {
	if len(o.Chain) == 0 {
		return parsedChain{}
	}
	if o.ChainID != "" {
		// The same certificates, not only the same ID (a hand-made trace
		// may reuse one): the DER a recorder shares between observations
		// compares at once (same bytes, same address).
		if e, ok := j.chains.Get(o.ChainID); ok && slices.EqualFunc(e.der, o.Chain, bytes.Equal) {
			pc := e.pc
			pc.entry = e
			return pc
		}
	}
	var kept []*chainEntry
	var h uint64
	if o.ChainID == "" {
		// Without a recorded ID (a proxy's observations): found by its
		// certificates (a hash of their DER, compared byte for byte), not
		// parsed and identified at every connection.
		h = j.derHash(o.Chain)
		kept, _ = j.byDER.Get(h)
		for _, e := range kept {
			if slices.EqualFunc(e.der, o.Chain, bytes.Equal) {
				pc := e.pc
				pc.entry = e
				return pc
			}
		}
	}
	// Found by its ID or DER from now on: the cache need not hold its leaf.
	var pc parsedChain
	pc.certs, pc.err = j.opts.Cache.ParseChainOwnLeaf(o.Chain)
	pc.id = chainID(o)
	pc.view = newChainView(pc.certs, o.Chain)
	pc.entry = &chainEntry{pc: parsedChain{certs: pc.certs, err: pc.err, id: pc.id, view: pc.view}, der: o.Chain}
	if o.ChainID == "" {
		j.byDER.Put(h, append(kept, pc.entry))
	} else {
		j.chains.Put(pc.id, pc.entry)
	}
	return pc
}

// derHash hashes the DER of a chain, certificate by certificate.
func (j *judger) derHash(der [][]byte) uint64 {
	var h maphash.Hash
	h.SetSeed(j.sh.seed)
	for _, d := range der {
		maphash.WriteComparable(&h, len(d))
		h.Write(d)
	}
	return h.Sum64()
}

// full parses pc again when its entry dropped the certificates (done):
// for an observation whose ChainOnly checks run on their own (it carries
// AIA fetches).
func (j *judger) full(o *record.Observation, pc *parsedChain) {
	if pc.certs == nil && len(o.Chain) > 0 {
		pc.certs, pc.err = j.opts.Cache.ParseChain(o.Chain)
	}
}

// item judges observation index o: a new Item, whose judgement (chain
// summaries, verdicts, findings) may be shared with earlier items.
func (j *judger) item(index int, o *record.Observation) *Item {
	pc := j.chain(o)
	k := j.key(o, &pc)
	var ks string // the key, made into a string once for Get and Put
	if k != nil {
		ks = string(k)
		if m, ok := j.memo.Get(ks); ok {
			j.stats.memoHit++
			it := *m
			it.Index, it.Obs = index, o
			return &it
		}
	}
	it := j.judge(index, o, &pc)
	if k != nil {
		j.stats.memoMiss++
		m := *it
		m.Obs = nil
		j.memo.Put(ks, &m)
	}
	return it
}

// key is what the judgement of o, whose chain pc is, depends on
// (checkKey), or nil when o is judged on its own. The bytes are the
// judger's, valid until the next call.
func (j *judger) key(o *record.Observation, pc *parsedChain) []byte {
	at := o.Time
	if at.IsZero() {
		at = j.now
	}
	kb, ok := checkKey(j.keyBuf[:0], o, pc, at, j.opts.WhatIf != nil)
	if cap(kb) <= 1<<16 {
		j.keyBuf = kb
	}
	if !ok {
		return nil
	}
	return kb
}

// appendCheckFields appends to a memo key the fields of o that the checks
// read (checkKey), its chain by chainID.
func appendCheckFields(b []byte, o *record.Observation, chainID string) []byte {
	b = keyStr(b, string(o.Kind))
	b = keyStr(b, string(o.Source))
	b = keyStr(b, o.SNI)
	b = keyStr(b, o.Connect)
	b = keyStr(b, o.URL)
	b = keyStr(b, o.Host)
	b = keyStr(b, o.DNSName)
	if n, _ := o.AskedName(); n == "" {
		b = keyStr(b, o.Server)
	}
	b = keyStr(b, chainID)
	b = keyStr(b, string(o.Visibility))
	b = binary.AppendVarint(b, int64(o.Snaplen))
	b = keyStr(b, o.ResumedFrom)
	b = keyStr(b, o.Carrier)
	b = keyStr(b, o.Error)
	b = keyStr(b, o.ClientAlert)
	b = keyStr(b, o.TLSVersion)
	b = keyStr(b, o.HelloFormat)
	b = keyList(b, o.ServerWarnings)
	b = keyStr(b, o.ClientCert)
	return keyFlags(b, o.NoSNI, o.ECH, o.ECHRequired, o.ClientCertRequested)
}

// checkKey appends to b what the judge reads of observation o (whose
// chain pc is, judged at the time at), and reports whether o may share
// its judgement with another: false when it has a body (an Autodiscover
// answer), DNS answers or AIA fetches, or is a DNS lookup (its judgement
// is its name alone). Two observations with equal keys get equal items
// but for Index and Obs: the checks (checks*.go), judgeAIA, the matcher
// and the chain summaries read only these fields, the chain by its ID,
// and the time only as whether each certificate was within its dates
// (unless one was not, or the chain is a what-if, which date checks judge
// at the request's time: then the time itself). Server is read only when
// nothing names the server (name.unknown and nameOr fall back on it).
// The fields left out (Time, Duration, Client, Conn, Proxy, ALPN,
// Method, StartTLS, UserAgent, Protocol, Status, Location, Note,
// Exchange) vary from connection to connection of one server and name;
// TestCheckKeyFields fails when Observation gains a field this does not
// place, and TestCheckKeyJudgement when a check starts reading a field
// left out.
func checkKey(b []byte, o *record.Observation, pc *parsedChain, at time.Time, whatIf bool) ([]byte, bool) {
	if o.Body != nil || o.DNS != nil || len(o.AIA) > 0 || o.Kind == record.KindDNS {
		return b, false
	}
	b = appendCheckFields(b, o, pc.id)
	b = keyFlags(b, whatIf)
	// The time, as the date checks see it.
	out := whatIf
	var cs []certView
	if pc.view != nil {
		cs = pc.view.certs
	}
	for i := range cs {
		c := &cs[i]
		switch {
		case at.After(c.notAfter):
			b, out = append(b, 'x'), true
		case at.Before(c.notBefore):
			b, out = append(b, 'y'), true
		default:
			b = append(b, 'v')
		}
	}
	if out {
		b = binary.AppendVarint(append(b, '@'), at.UnixNano())
	}
	return b, true
}

// subject is what the checks of observation o, whose chain pc is, look
// at: the name asked, the time, the chain (or the what-if chain) with its
// view, trust and AIA result. Past the chain's first sight (its entry is
// done) the chain is its view alone: no ChainOnly check runs again on it.
func (j *judger) subject(o *record.Observation, pc *parsedChain) *Subject {
	opts := j.opts
	s := &j.subj // the judger's: nothing keeps a subject past its judgement
	*s = Subject{Obs: o, At: o.Time}
	s.Name, s.NameFrom = o.AskedName()
	if s.At.IsZero() {
		s.At = j.now
	}
	switch {
	case opts.WhatIf != nil && isTLS(o):
		s.Chain, s.WhatIf = opts.WhatIf, true
		if j.whatIfTrust == nil {
			j.whatIfTrust = verifyTrust(opts.WhatIf, opts.Roots)
			j.whatIfView = newChainView(opts.WhatIf, nil)
		}
		s.trust, s.chain = j.whatIfTrust, j.whatIfView
	case len(o.Chain) > 0:
		s.Chain, s.ChainErr, s.chain = pc.certs, pc.err, pc.view
		if len(s.Chain) > 0 {
			t := pc.entry.trust
			if t != nil {
				j.stats.trustHit++
			} else {
				j.stats.trustMiss++
				t = verifyTrust(s.Chain, opts.Roots)
				if !pc.entry.done {
					pc.entry.trust = t
				}
			}
			s.trust = t
			if len(o.AIA) == 0 {
				// Without fetches, what judgeAIA finds is the chain's.
				if !t.aiaKept {
					t.aia, t.aiaKept = judgeAIA(s, opts.Roots), true
				}
				s.aia = t.aia
			} else {
				s.aia = judgeAIA(s, opts.Roots)
			}
		}
	}
	return s
}

// judge runs the checks and the matcher on observation index o, whose
// chain pc is.
func (j *judger) judge(index int, o *record.Observation, pc *parsedChain) *Item {
	opts := j.opts
	sh := j.sh
	sh.bound()
	it := &Item{Index: index, Obs: o, Chain: []certs.Summary{}, Findings: []Finding{}}
	if len(o.AIA) > 0 {
		j.full(o, pc) // its ChainOnly checks run on their own (chainRunsOf)
	}
	s := j.subject(o, pc)
	j.once = subjectOnce{aiaMissing: j.aiaMissing}
	s.once = &j.once
	it.Name, it.NameFrom, it.WhatIf = s.Name, s.NameFrom, s.WhatIf
	switch {
	case s.WhatIf:
		if len(s.Chain) > 0 {
			it.Chain = sh.summaries(s.Chain)
		}
	case pc.view == nil: // no chain, or not even its leaf parsed
	default: // a chain has its entry
		e := pc.entry
		if e.desc != nil {
			sh.summaryHit++
		} else {
			// At the chain's first sight (its entry is done only once
			// described): kept here, not in sh.chains too, so without
			// the certificates sh.chains finds a chain by.
			e.desc = sh.describe(s.Chain)
			e.desc.chain = nil
		}
		it.Chain = e.desc.sums
	}
	if o.Kind == record.KindDNS {
		j.once, j.subj = subjectOnce{}, Subject{}
		return it
	}
	leaf := s.view()
	it.leaf = leaf
	fs := j.fs[:0]
	j.ran, j.fsOwn = j.ran[:0], 0
	cr := j.chainRunsOf(s, pc)
	// The checks that are not ChainOnly get the chain's view alone (conn).
	conn := &j.conn
	*conn = *s
	conn.Chain, conn.trust, conn.aia = nil, nil, nil
	for _, ci := range j.whole {
		if c := j.checks[ci]; c.ChainOnly {
			fs = j.run(fs, ci, c, s, 0, cr)
		} else {
			fs = j.run(fs, ci, c, conn, 0, cr)
		}
	}
	if leaf != nil && it.Name != "" {
		it.Verdicts = sh.verdicts(leaf, it.Name, opts.Profiles)
		if j.allProfiles {
			j.once.all = it.Verdicts
		}
	}
	// The per-profile subjects are made once, then given each profile
	// and its verdict: copied whole for every profile, they were a tenth
	// of the judge's time, the collector's write barriers mostly.
	ps, pconn := &j.ps, &j.pconn
	*ps, *pconn = *s, *conn
	if it.Verdicts != nil {
		ps.Verdict, pconn.Verdict = &j.v, &j.v
	}
	for k, p := range opts.Profiles {
		ps.Profile, pconn.Profile = p, p
		if it.Verdicts != nil {
			j.v = it.Verdicts[k] // a copy: checks never see the shared slice
		}
		for _, ci := range j.checksFor(ps.Verdict) {
			if c := j.checks[ci]; c.ChainOnly {
				fs = j.run(fs, ci, c, ps, k+1, cr)
			} else {
				fs = j.run(fs, ci, c, pconn, k+1, cr)
			}
		}
	}
	if e := pc.entry; cr != nil && e != nil && cr == e.runs && !e.done {
		// Every ChainOnly check has run on the chain for every profile:
		// what later connections read of it is its view.
		e.done, e.pc.certs, e.trust = true, nil, nil
	}
	// The subjects are not zeroed (that was 2% of the judge's time): they
	// keep this observation's until the next overwrites them.
	switch {
	case len(fs) > 0 && j.fsOwn == 0:
		it.Findings = j.runOnlyFindings(j.ran)
		clear(j.ran)
	case len(fs) > 0 && sh.light:
		// A streaming pipeline drops its items at once: what sharing
		// would save is the memory of the few in flight, for hashing
		// and comparing every finding's texts.
		it.Findings = bySeverityCopy(fs)
	case len(fs) > 0:
		sortBySeverity(fs)
		it.Findings = sh.findings(fs)
		if &it.Findings[0] == &fs[0] {
			// Not shared (sharing keeps its own copy of what it shares):
			// the item's own, full, copy.
			it.Findings = append(make([]Finding, 0, len(fs)), fs...)
		}
	}
	// Not cleared: what the scratch keeps of an observation's findings
	// is overwritten by the next (clearing it was about 4% of the judge's
	// time).
	j.fs = fs[:0]
	return it
}

// bySeverityCopy returns a new, full, slice of fs's findings sorted as
// sortBySeverity sorts them: each copied once into its place (sorted in
// place, then copied, the findings of 136 bytes were moved again and
// again, under the collector's write barriers).
func bySeverityCopy(fs []Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for r := 2; r >= 0; r-- {
		for i := range fs {
			if fs[i].Severity.rank() == r {
				out = append(out, fs[i])
			}
		}
	}
	return out
}

// sortBySeverity sorts fs, most severe first, keeping the order of the
// findings of one severity (the checks' order, then the profiles').
func sortBySeverity(fs []Finding) {
	bySeverity := func(a, b Finding) int { return b.Severity.rank() - a.Severity.rank() }
	if !slices.IsSortedFunc(fs, bySeverity) { // mostly they are: errors alone
		slices.SortStableFunc(fs, bySeverity)
	}
}

// aggregate is what the pipeline keeps of the items once they are gone:
// the culprits, what the fixes need of the hosts, the certificate plan.
type aggregate struct {
	g     *grouping
	hosts hostFacts
	plan  certPlanAcc
}

func newAggregate(ps []*match.Profile, keepAll bool) *aggregate {
	a := &aggregate{g: newGrouping(ps, keepAll)}
	if !keepAll {
		a.g.maxConns = maxConnKeys
	}
	return a
}

func (a *aggregate) add(it *Item) {
	a.g.add(it)
	a.hosts.add(it)
	a.plan.add(it)
}

// hostFacts is what the fixes need to know of the hosts of a report: the
// names clients reached (reached), those reached without a warning in
// order (reachedHosts), the first usable address a DNS answer gave for a
// name (addressOf).
type hostFacts struct {
	conn    map[string]bool
	ok      []string
	okSeen  map[string]bool
	dnsAddr map[string]string
}

func (h *hostFacts) add(it *Item) {
	if h.conn == nil {
		h.conn, h.okSeen, h.dnsAddr = map[string]bool{}, map[string]bool{}, map[string]string{}
	}
	o := it.Obs
	if o.Kind == record.KindDNS {
		if o.DNS == nil {
			return
		}
		name := exchange.NormHost(o.DNS.Query)
		if _, ok := h.dnsAddr[name]; ok {
			return
		}
		if a := usableAddress(o.DNS); a != "" {
			h.dnsAddr[name] = a
		}
		return
	}
	if len(it.Verdicts) == 0 {
		return
	}
	host := exchange.NormHost(it.Name)
	if !h.conn[host] {
		h.conn[host] = true // looked up first: most hosts come again
	}
	if it.Warns("") || host == "" || h.okSeen[host] {
		return
	}
	h.okSeen[host] = true
	h.ok = append(h.ok, host)
}

// hostFacts returns what r knows of its hosts (made from Items for a
// report put together by hand).
func (r *Report) hostFacts() *hostFacts {
	if r.hosts == nil {
		h := &hostFacts{}
		for _, it := range r.Items {
			h.add(it)
		}
		if h.conn == nil {
			h.add(&Item{Obs: &record.Observation{Kind: record.KindDNS}})
		}
		r.hosts = h
	}
	return r.hosts
}

// maxConnKeys bounds the connections a streaming grouping remembers (a
// request whose connection it forgot starts from its own key: counted as
// a new connection of the same culprit, or a new culprit when its URL
// differs from the first request's): connections in a capture or a
// proxy's trace are short next to the input.
const maxConnKeys = 1 << 14
