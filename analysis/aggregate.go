package analysis

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/internal/memo"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// The aggregate stage: one Culprit per cause, with counts and a few
// examples, and the report's totals; both are kept as items go by, so the
// report needs no item list for its headline and its causes.

// MaxExamples bounds Culprit.Examples.
const MaxExamples = 3

// MaxClients bounds Culprit.Clients.
const MaxClients = 10

// Culprit is one cause of warnings: the requests that would make clients
// warn for the same reason, that is the same failed checks on the same
// certificate for the same name, reached the same way (the request path,
// the setting that sent the client there, the mail protocol and port).
//
// A culprit comes in two forms. Report.Causes gives the compact one, what
// the report keeps of every cause: the counts, clients, profiles, times
// and failed checks; its Detail is nil. Report.Explain gives a copy with
// the Detail loaded (from memory, or from the temporary file a big report
// keeps it in) and explained; Report.Culprits explains every cause.
type Culprit struct {
	// Detail is the cause's first request and examples, findings, origin,
	// fixes and verdict: nil in a compact cause, set by Report.Explain.
	*Detail
	// Index is the index of the group's first request (First.Index).
	Index int
	// Checks are the IDs of the failed checks, in the order of Findings.
	Checks []string
	// Requests is how many requests (or connections) fell in the group.
	Requests int
	// Conns is how many distinct connections they were made on (requests
	// inside one tunnel count once); 0 when the input does not say.
	Conns int
	// Clients are the distinct clients that made them, at most
	// MaxClients, in order of appearance: the User-Agent's product when
	// there is one, else the client's address.
	Clients []string
	// MoreClients counts the distinct clients beyond those in Clients.
	MoreClients int
	// FirstSeen and LastSeen are the times of the earliest and the latest
	// request (zero when the input has no times).
	FirstSeen, LastSeen time.Time
	// Profiles are the profiles that warn.
	Profiles []string

	// rare holds what few culprits of a capture need (nil when none of
	// it is set): a capture has a culprit for almost every other warning
	// request, 77,309 for huge.pcap's 500,000 connections, so each field
	// a culprit carries costs megabytes there.
	rare *culpritRare
	// urlless counts the requests without a URL; sameAlts are the
	// settings behind them, as dedupeSettings keeps them (mergeSameHost).
	urlless  int
	sameAlts []Cause
	// The culprit's grouping key is keyBase (name, leaf, failed checks,
	// request path, hashed), the origin's setting and rare.keyMail (see
	// grouping.add and causeKey).
	keyBase causeKey

	// What Explain loads from the report's detail store: the first
	// request, the one whose error findings are the culprit's (the first,
	// unless a merge gave the culprit an earlier first), the examples.
	first      int32
	findingsOf int32
	examples   [MaxExamples]exampleRef
	nex        int8
	// What reattribute reads of the first request without loading it:
	// whether it had a URL and an origin, whether certsleuth check made
	// it, whether its origin is unknown or the SCP, its name and its
	// origin's setting; rare.reOrigin replaces its origin once
	// reattributed.
	hasURL, hasOrigin, probe bool
	originUnknown, originSCP bool
	name                     string
	setting                  string
}

// culpritRare is the part of a Culprit that few culprits of a capture
// need.
type culpritRare struct {
	// more holds the distinct clients beyond Clients (for MoreClients);
	// nil while there are at most MaxClients.
	more map[string]bool
	// ua is the first User-Agent among the requests (outlookCulprit).
	ua string
	// keyMail is the mail protocol and port of the grouping key.
	keyMail string
	// reOrigin replaces the first request's origin once reattributed.
	reOrigin *Cause
}

// rareOf returns c's rare part, made when first needed.
func (c *Culprit) rareOf() *culpritRare {
	if c.rare == nil {
		c.rare = &culpritRare{}
	}
	return c.rare
}

// more reports whether w is among the clients beyond Clients.
func (c *Culprit) more(w string) bool { return c.rare != nil && c.rare.more[w] }

// ua is the first User-Agent among c's requests, or "".
func (c *Culprit) ua() string {
	if c.rare == nil {
		return ""
	}
	return c.rare.ua
}

// keyMail is the mail protocol and port of c's grouping key, or "".
func (c *Culprit) keyMail() string {
	if c.rare == nil {
		return ""
	}
	return c.rare.keyMail
}

// reOrigin is the origin the end of the input gave c's first request, or nil.
func (c *Culprit) reOrigin() *Cause {
	if c.rare == nil {
		return nil
	}
	return c.rare.reOrigin
}

// addMore counts w, a client beyond Clients.
func (c *Culprit) addMore(w string) {
	r := c.rareOf()
	if r.more == nil {
		r.more = map[string]bool{}
	}
	r.more[w] = true
	c.MoreClients++
}

// Detail is what Report.Explain loads and works out for a cause.
type Detail struct {
	// First is the group's first request (judged, with its Origin). In a
	// streamed report it is a compact copy (compactItem).
	First *Item
	// Examples are up to MaxExamples requests of the group, First
	// included, in input order.
	Examples []*Item
	// Findings are the error findings, one per check ID (profiles
	// merged).
	Findings []Finding
	// Origin is what sent the client to First, nearest cause first.
	Origin []Cause
	// Remedies are the changes that stop the warning, most direct first,
	// filled in with the names seen.
	Remedies []Remedy
	// NewName is the name the certificate covers that clients should use
	// instead, or "".
	NewName string
	// Verdict is the one-paragraph plain-language verdict.
	Verdict string

	// slot, when not nil, is the memory the culprit's requests were read
	// back into, which its verdict is written into too (explainInto).
	slot *readSlot
}

// exampleRef is an example request: its index and where the store keeps it.
type exampleRef struct {
	index, ref int32
}

// causeKey is a grouping key, hashed (128 bits: two 64-bit hashes with
// different seeds): a cause's key string is 100-200 bytes (name, leaf
// SHA-256, check IDs, path) and a big capture has a cause for every other
// warning request.
type causeKey [2]uint64

// Causes returns every cause of r, first occurrence first, in compact form
// (see Culprit): what a report of any size can hold. Report.Explain loads
// and explains the ones a report shows. The culprits are r's own: do not
// modify them.
func (r *Report) Causes() []*Culprit {
	if r.agg != nil {
		return slices.Clone(r.agg.g.out)
	}
	if r.hand == nil {
		g := newGrouping(r.Profiles, true)
		for _, it := range r.Items {
			g.add(it)
		}
		r.hand = g
	}
	return slices.Clone(r.hand.out)
}

// Culprits returns every cause of r explained (Explain of each of
// Causes), first occurrence first: for small reports (the proxy's, the
// lab's, tests); a report of any size goes through Causes and explains
// only the causes it shows.
func (r *Report) Culprits() []*Culprit {
	cs := r.Causes()
	for i, c := range cs {
		cs[i] = r.Explain(c)
	}
	return cs
}

// Explain returns a copy of c (one of r's Causes) with its detail loaded
// and explained: First, Examples, Findings, Origin, Remedies, NewName and
// Verdict. A request the store cannot read back is replaced by what the
// culprit knows of it, and the reason added to r.Problems.
func (r *Report) Explain(c *Culprit) *Culprit { return r.explain(c, true) }

// ExplainBrief is Explain without loading the examples: Examples is nil.
// For a report that shows only their indexes (ExampleIndexes), such as
// the JSON summary: a big report's examples are read back from a
// temporary file, and that was a third of the summary's reads.
func (r *Report) ExplainBrief(c *Culprit) *Culprit { return r.explain(c, false) }

// ExampleIndexes returns the indexes of c's examples, First included, in
// input order, and whether each is First itself (the requests Examples
// holds once c is explained).
func (c *Culprit) ExampleIndexes() (index []int, first []bool) {
	for _, ex := range c.examples[:c.nex] {
		index, first = append(index, int(ex.index)), append(first, ex.ref == c.first)
	}
	return index, first
}

func (r *Report) explain(c *Culprit, examples bool) *Culprit {
	return r.explainInto(c, examples, nil)
}

// explainInto is explain, the requests read back from the store's file
// into s (details.getInto; nil: into new memory), which the culprit then
// shares; the culprit and its Detail are s's too (nil: new).
func (r *Report) explainInto(c *Culprit, examples bool, s *readSlot) *Culprit {
	var d *Culprit
	if s != nil {
		d = &s.c
	} else {
		d = new(Culprit)
	}
	*d = *c
	if c.rare != nil {
		rare := *c.rare
		rare.more = nil
		d.rare = &rare
	}
	if s != nil {
		// The fixes are appended to the array of the slot's culprit
		// before (they grew a few at a time: 1.7 MB for hs.pcap).
		s.d = Detail{slot: s, Remedies: s.rem[:0]}
		d.Detail = &s.d
	} else {
		d.Detail = &Detail{}
	}
	d.First = r.loadDetail(c, c.first, c.Index, s)
	if ro := c.reOrigin(); ro != nil {
		f := *d.First
		f.Origin = []Cause{*ro}
		d.First = &f
	}
	fi := d.First
	if c.findingsOf != c.first {
		fi = r.loadDetail(c, c.findingsOf, c.Index, s)
	}
	d.Findings = byCause(MergeFindings(fi.Findings, SeverityError), c.Profiles)
	if examples {
		d.Examples = make([]*Item, 0, c.nex)
		for _, ex := range c.examples[:c.nex] {
			if ex.ref == c.first {
				d.Examples = append(d.Examples, d.First)
				continue
			}
			d.Examples = append(d.Examples, r.loadDetail(c, ex.ref, int(ex.index), s))
		}
	}
	r.explainCulprit(d)
	if s != nil {
		s.rem = d.Remedies[:0]
		if len(d.Remedies) == 0 {
			d.Remedies = nil // none, as explain without a slot says it
		}
	}
	d.slot = nil
	return d
}

// loadDetail reads request ref of c's store back (into s when read from
// the file: details.getInto); when it cannot, an item with what the
// culprit knows (index, name), and a problem.
func (r *Report) loadDetail(c *Culprit, ref int32, index int, s *readSlot) *Item {
	it, err := r.details().getInto(ref, s)
	if err == nil {
		return it
	}
	r.addDetailProblem(fmt.Errorf("request #%d: %w", index, err))
	it = &Item{Index: index, Name: c.name, Obs: &record.Observation{}}
	for _, id := range c.Checks {
		it.Findings = append(it.Findings, Finding{ID: id, Severity: SeverityError, Profile: strings.Join(c.Profiles, ", "), Summary: "(its words could not be read back)"})
	}
	return it
}

// addDetailProblem notes, once, that a cause's requests could not be read
// back.
func (r *Report) addDetailProblem(err error) {
	const lead = "some causes are shown without their example requests: "
	for _, p := range r.Problems {
		if strings.HasPrefix(p, lead) {
			return
		}
	}
	r.Problems = append(r.Problems, lead+err.Error())
}

// details is the store of r's causes' requests.
func (r *Report) details() *details {
	if r.agg != nil {
		return r.agg.g.store
	}
	r.Causes()
	return r.hand.store
}

// CauseOf returns the cause (one of Causes) of the request with the given
// index, or nil when it warns of nothing. Only a report that kept its
// items (Analyze) knows it.
func (r *Report) CauseOf(index int) *Culprit {
	g := r.hand
	if r.agg != nil {
		g = r.agg.g
	} else {
		r.Causes()
		g = r.hand
	}
	if g.of == nil {
		return nil
	}
	return g.of[index]
}

// Close removes the temporary file a big report keeps its causes' example
// requests in (the report's culprits cannot be explained after it); a
// report without one has nothing to close.
func (r *Report) Close() error {
	if r.agg == nil {
		return nil
	}
	return r.agg.g.store.close()
}

// grouping puts warning items into culprits, one at a time.
type grouping struct {
	profiles []*match.Profile
	out      []*Culprit
	byKey    map[causeKey]*Culprit
	seed     [2]maphash.Seed
	// store holds the culprits' first requests and examples.
	store *details
	// keepAll keeps the requests as they are in the store's memory (not
	// compact copies) and which culprit each fell in (of); Analyze's.
	keepAll bool
	of      map[int]*Culprit
	// maxConns bounds the connections remembered (0: no bound); conns
	// are their keys, a ring of at most maxConns whose oldest, once it is
	// full, is at connHead.
	maxConns int
	conns    []causeKey
	connHead int
	// strs interns the clients' words, the profile and check lists.
	strs  map[string]string
	lists map[string][]string
	// ids and fs are add's scratch space for the failed checks' IDs and
	// findings.
	ids []string
	fs  []Finding
	// listKey is internList's scratch space for a list's key; wp and
	// checks, add's for a new cause's profiles and checks.
	listKey    []byte
	wp, checks []string
	// merged holds the merged error findings of the shared lists
	// (mergedErrors).
	merged memo.Ident[Finding, []Finding]
}

// newGrouping returns a grouping for profiles ps: keepAll keeps every
// request's culprit and the requests as they are, in memory (Analyze);
// else a compact copy of the first and example requests goes to a store
// that moves to a file when it holds more than detailMemory.
func newGrouping(ps []*match.Profile, keepAll bool) *grouping {
	g := &grouping{profiles: ps, byKey: map[causeKey]*Culprit{}, seed: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, keepAll: keepAll, strs: map[string]string{}, lists: map[string][]string{}}
	if keepAll {
		g.store, g.of = newDetails(-1), map[int]*Culprit{}
	} else {
		g.store = newDetails(detailMemory)
	}
	return g
}

// intern returns s, stored once.
func (g *grouping) intern(s string) string {
	if v, ok := g.strs[s]; ok {
		return v
	}
	if len(g.strs) >= maxInterned {
		clear(g.strs)
	}
	s = strings.Clone(s) // not the observation's string it may be cut from
	g.strs[s] = s
	return s
}

// internList returns a list equal to l, stored once (a copy of l when
// new: l may be the caller's scratch space); nil when l is empty.
func (g *grouping) internList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	k := g.listKey[:0]
	for i, s := range l {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, s...)
	}
	g.listKey = k
	if v, ok := g.lists[string(k)]; ok { // looked up without making the string
		return v
	}
	if len(g.lists) >= maxInterned {
		clear(g.lists)
	}
	l = slices.Clone(l)
	g.lists[string(k)] = l
	return l
}

// sameKey is the grouping key of the concatenation of pre, name, "|",
// leaf, "|", ids joined by ",", and post: hashed as written, not made
// into a string (this runs for every warning request).
func (g *grouping) sameKey(pre []string, name, leaf string, ids []string, post ...string) causeKey {
	var k causeKey
	for i := range k {
		var h maphash.Hash
		h.SetSeed(g.seed[i])
		for _, s := range pre {
			h.WriteString(s)
		}
		h.WriteString(name)
		h.WriteByte('|')
		h.WriteString(leaf)
		h.WriteByte('|')
		for j, id := range ids {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(id)
		}
		for _, s := range post {
			h.WriteString(s)
		}
		k[i] = h.Sum64()
	}
	return k
}

// causeKey is the key of a cause whose base key is base, reached through
// the setting origin ("" when none), over mail protocol and port mail
// ("" when not mail).
func (g *grouping) causeKey(base causeKey, origin, mail string) causeKey {
	var k causeKey
	for i := range k {
		var h maphash.Hash
		h.SetSeed(g.seed[i])
		maphash.WriteComparable(&h, base)
		h.WriteString(origin)
		h.WriteByte(0)
		h.WriteString(mail)
		k[i] = h.Sum64()
	}
	return k
}

// maxInterned bounds the grouping's interning tables (past it they start
// again: what was interned stays shared).
const maxInterned = 1 << 12

// add puts it in its culprit (a new one when its cause is new); items
// that do not warn are left out. It returns the culprit, or nil.
func (g *grouping) add(it *Item) *Culprit {
	if !it.Warns("") {
		return nil
	}
	// The failed checks' IDs, sorted, each once.
	idl := g.ids[:0]
	for _, f := range it.Findings {
		if f.Severity == SeverityError {
			idl = append(idl, f.ID)
		}
	}
	slices.Sort(idl)
	idl = slices.Compact(idl)
	g.ids = idl
	leaf := ""
	if len(it.Chain) > 0 {
		leaf = it.Chain[0].SHA256
	}
	origin := "" // requests without a URL (refused tunnels) differ by what sent the client there
	if len(it.Origin) > 0 {
		origin = it.Origin[0].Setting
	}
	// A mail connection is one culprit per protocol and port: SMTP and
	// IMAP to one host are two settings, each with its own fix.
	mail := MailProtocol(it.Obs)
	if mail != "" {
		_, port, _ := net.SplitHostPort(firstNonEmpty(it.Obs.Server, it.Obs.Connect))
		mail += ":" + port
	}
	// The cause's key hashes same|path, same being name|leaf|checks; a
	// connection's, conn|source|conn|same (see sameKey).
	name := strings.ToLower(it.Name)
	base := g.sameKey(nil, name, leaf, idl, "|", requestPath(it.Obs))
	key := g.causeKey(base, origin, mail)
	// A connection warns once: the requests inside one tunnel (or one
	// captured connection) repeat its first culprit, whatever their URL.
	var conn causeKey
	hasConn := it.Obs.Conn != ""
	if hasConn {
		conn = g.sameKey([]string{"conn|", string(it.Obs.Source), "|", it.Obs.Conn, "|"}, name, leaf, idl)
		if c, ok := g.byKey[conn]; ok {
			g.repeat(c, it, false)
			return c
		}
	}
	if c, ok := g.byKey[key]; ok {
		g.repeat(c, it, hasConn)
		if hasConn {
			g.rememberConn(conn, c)
		}
		return c
	}
	g.wp = it.AppendWarningProfiles(g.wp[:0], g.profiles)
	ps := g.internList(g.wp)
	merged := g.mergedErrors(it.Findings)
	checks := g.checks[:0]
	byc := append(g.fs[:0], merged...) // byCause sorts in place
	for _, f := range byCause(byc, ps) {
		checks = append(checks, f.ID)
	}
	g.checks = checks
	clear(byc)
	g.fs = byc[:0]
	var ref int32
	if g.keepAll {
		ref = g.store.put(it)
	} else {
		ref = g.store.putCompact(it, merged)
	}
	c := &Culprit{Index: it.Index, Checks: g.internList(checks), Profiles: ps, keyBase: base,
		first: ref, findingsOf: ref, name: strings.Clone(it.Name), probe: it.Obs.Source == record.SourceProbe, hasURL: it.Obs.URL != ""}
	if len(it.Origin) > 0 {
		c.hasOrigin, c.setting = true, g.intern(it.Origin[0].Setting)
		c.originUnknown, c.originSCP = it.Origin[0].Kind == CauseUnknown, it.Origin[0].Kind == CauseSCP
	}
	if mail != "" {
		c.rareOf().keyMail = g.intern(mail)
	}
	c.examples[0], c.nex = exampleRef{int32(it.Index), ref}, 1
	g.count(c, it, hasConn)
	g.byKey[key] = c
	if hasConn {
		g.rememberConn(conn, c)
	}
	g.out = append(g.out, c)
	return c
}

// mergedErrors is MergeFindings(fs, SeverityError), made once for a
// findings list the judge shares between items (memo.Ident: most
// connections of a capture that warn get one of a few lists): shared
// then, full (an append copies), never written to.
func (g *grouping) mergedErrors(fs []Finding) []Finding {
	if m, ok := g.merged.Get(fs); ok {
		return m
	}
	m := slices.Clip(MergeFindings(fs, SeverityError))
	g.merged.Saw(fs, m, nil)
	return m
}

// rememberConn maps a connection key to its culprit, forgetting the
// oldest connection past maxConns.
func (g *grouping) rememberConn(conn causeKey, c *Culprit) {
	g.byKey[conn] = c
	if g.maxConns == 0 {
		return
	}
	if len(g.conns) < g.maxConns {
		if len(g.conns) == cap(g.conns) { // doubled up to maxConns, not by append's smaller steps
			g.conns = slices.Grow(g.conns, min(max(len(g.conns), 64), g.maxConns-len(g.conns)))
		}
		g.conns = append(g.conns, conn)
		return
	}
	// Full: the oldest goes, the new one takes its place (a slice that
	// grew past maxConns and moved down at half was 1.5 MB of what
	// pcap --format json hs.pcap allocated).
	delete(g.byKey, g.conns[g.connHead])
	g.conns[g.connHead] = conn
	g.connHead = (g.connHead + 1) % g.maxConns
}

// repeat adds a later item of c's group; newConn says it is on a
// connection the group had not seen.
func (g *grouping) repeat(c *Culprit, it *Item, newConn bool) {
	if c.nex < MaxExamples {
		var ref int32
		if g.keepAll {
			ref = g.store.put(it)
		} else {
			ref = g.store.putCompact(it, g.mergedErrors(it.Findings))
		}
		c.examples[c.nex] = exampleRef{int32(it.Index), ref}
		c.nex++
	}
	g.count(c, it, newConn)
}

// compactItem is a copy of it for a culprit's first request and examples
// that does not hold the certificates' DER (the chain summaries stay, and
// the number of certificates), the response body, the per-profile
// verdicts, nor the per-profile findings: its findings are the error
// findings merged per check (MergeFindings, what the culprit's Findings
// are made of) and the client's alert (conn.client-alert, which a cause
// shows). A streamed report keeps a few requests of every cause (in memory
// or in a temporary file, see details), and that is all it keeps of them:
// hs.pcap's first requests take 9 KB each in JSON with every profile's
// findings, 3 KB so.
func compactItem(it *Item) *Item {
	return compactWith(it, MergeFindings(it.Findings, SeverityError))
}

// compactWith is compactItem(it), merged being it's error findings merged
// (MergeFindings: the compact item takes it).
func compactWith(it *Item, merged []Finding) *Item {
	cp := *it
	cp.Verdicts = nil
	cp.Findings = compactFindings(it, merged)
	o := *it.Obs
	if len(o.Chain) > 0 {
		o.Chain = make([][]byte, len(o.Chain))
	}
	o.Body = nil
	cp.Obs = &o
	return &cp
}

// compactFindings is a compact item's findings: merged (it's error
// findings merged, which it appends to) and the client's alert.
func compactFindings(it *Item, merged []Finding) []Finding {
	for _, f := range it.Findings {
		if f.ID == "conn.client-alert" && f.Severity.rank() < SeverityError.rank() {
			merged = append(merged, f)
		}
	}
	return merged
}

// count adds it to c's summary fields.
func (g *grouping) count(c *Culprit, it *Item, newConn bool) {
	if g.of != nil {
		g.of[it.Index] = c
	}
	c.Requests++
	o := it.Obs
	if newConn {
		c.Conns++
	}
	if w := clientWord(o); w != "" && !slices.Contains(c.Clients, w) && !c.more(w) {
		if len(c.Clients) < MaxClients {
			c.Clients = append(c.Clients, g.intern(w))
		} else {
			c.addMore(w)
		}
	}
	if t := o.Time; !t.IsZero() {
		if c.FirstSeen.IsZero() || t.Before(c.FirstSeen) {
			c.FirstSeen = t
		}
		if t.After(c.LastSeen) {
			c.LastSeen = t
		}
	}
	if c.ua() == "" && o.UserAgent != "" {
		c.rareOf().ua = g.intern(o.UserAgent)
	}
	if o.URL == "" {
		c.urlless++
		if len(it.Origin) > 0 {
			switch og := it.Origin[0]; {
			case og.Kind == CauseSCP:
				if !c.hasAlt(Cause{Kind: CauseSCP, Setting: exchange.SettingSCP}) {
					c.sameAlts = dedupeSettings(append(c.sameAlts, scpAlternative(exchange.NormHost(c.name), it.Index)))
				}
			case og.Setting != "" && !c.hasAlt(og):
				c.sameAlts = dedupeSettings(append(c.sameAlts, og))
			}
		}
	}
}

// hasAlt reports whether dedupeSettings(append(c.sameAlts, k)) would be
// c.sameAlts (already deduplicated): a cause of k's setting and scope is
// there, and k would not replace it. A URL-less connection repeats its
// cause's settings, and building them (and the SCP's text) for every one
// cost more than all the rest of the cause.
func (c *Culprit) hasAlt(k Cause) bool {
	if k.Kind == CauseSameHost {
		return false
	}
	for _, a := range c.sameAlts {
		if sameSettingKey(a, k) {
			return k.Field == nil || a.Field == nil || elementPref(k.Field.Element) >= elementPref(a.Field.Element)
		}
	}
	return false
}

// clientWord names the client of o for Culprit.Clients: the product of
// its User-Agent ("Microsoft Office", "Outlook-iOS", "curl"), else its
// address without the port; "" when neither is known.
func clientWord(o *record.Observation) string {
	if ua := strings.TrimSpace(o.UserAgent); ua != "" {
		if i := strings.IndexAny(ua, "/("); i > 0 {
			ua = strings.TrimSpace(ua[:i])
		}
		if ua != "" {
			return ua
		}
	}
	return record.HostOnly(o.Client)
}

func requestPath(o *record.Observation) string {
	if o.URL == "" {
		return ""
	}
	u := o.URL
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return strings.ToLower(u)
}

// Totals are the counts a report's headline needs, kept as items go by
// (no item list is walked to make them).
type Totals struct {
	// Observations counts every item, DNS included.
	Observations int `json:"observations"`
	// Requests counts the items that are not DNS: connections and HTTP
	// requests, the "of N requests" of the headline.
	Requests int `json:"requests"`
	// TLS counts the TLS connections and requests made on one.
	TLS int `json:"tls"`
	// Judged counts, among TLS, those whose certificate was judged.
	Judged int `json:"judged"`
	// Warning counts the items that would make some chosen client warn.
	Warning int `json:"warning"`
	// NotJudged counts the connections not judged, by why.
	NotJudged Unjudged `json:"not_judged"`
	// PerProfile counts, per chosen profile in the report's order, the
	// items that would make that client warn.
	PerProfile []ProfileTotal `json:"per_profile"`
	// Notes count, per check ID, the notes and information on items no
	// client warns about, with the first of them (see NoteTotal).
	Notes []NoteTotal `json:"notes,omitempty"`
}

// ProfileTotal is the number of warning items for one profile.
type ProfileTotal struct {
	Profile string `json:"profile"`
	Warning int    `json:"warning"`
}

// countItem adds it to t (profiles are the report's, in order).
func (t *Totals) countItem(it *Item, profiles []*match.Profile) {
	if t.PerProfile == nil {
		t.PerProfile = make([]ProfileTotal, len(profiles))
		for i, p := range profiles {
			t.PerProfile[i].Profile = p.Name
		}
	}
	t.Observations++
	if it.Obs.Kind != record.KindDNS {
		t.Requests++
	}
	tls := isTLS(it.Obs)
	if tls {
		t.TLS++
	}
	if it.Warns("") {
		t.Warning++
		for i, p := range profiles {
			if it.Warns(p.Name) {
				t.PerProfile[i].Warning++
			}
		}
	}
	why := it.NotJudged()
	if tls && why == "" && (len(it.Chain) > 0 || it.WhatIf) {
		t.Judged++
	}
	t.NotJudged.count(it, why)
	if !it.Warns("") {
		t.countNotes(it)
	}
}

// TotalsOf counts the items of r (for a report put together by hand; the
// pipeline keeps r.Totals as it goes).
func TotalsOf(r *Report) Totals {
	var t Totals
	for _, it := range r.Items {
		t.countItem(it, r.Profiles)
	}
	if t.PerProfile == nil {
		t.countItem(&Item{Obs: &record.Observation{Kind: record.KindDNS}}, r.Profiles)
		t.Observations--
	}
	return t
}

// Unjudged counts the TLS connections a report could not judge, by why.
type Unjudged struct {
	// Unseen: the certificate was not seen (encrypted by TLS 1.3, cut by
	// the snap length, handshake not captured, resumed, failed).
	Unseen int `json:"unseen"`
	// Unreadable: the certificate was seen but could not be read, not
	// even leniently (certs.ParseLenient).
	Unreadable int `json:"unreadable"`
	// Unknown: the certificate was read leniently, but what a chosen
	// client does with its defect was never observed (cert.malformed).
	Unknown int `json:"unknown"`
	// Refused counts, among all of them, those the client ended with an
	// alert (it refused what it was shown).
	Refused int `json:"client_alert"`
}

// Total is the number of connections not judged.
func (u Unjudged) Total() int { return u.Unseen + u.Unreadable + u.Unknown }

// count adds it, not judged because of why ("" when it was judged).
func (u *Unjudged) count(it *Item, why string) {
	switch why {
	case "":
		return
	case NotJudgedUnseen:
		u.Unseen++
	case NotJudgedUnreadable:
		u.Unreadable++
	case NotJudgedUnknown:
		u.Unknown++
	}
	if it.Obs.ClientAlert != "" {
		u.Refused++
	}
}

// NotJudged counts the TLS connections the report could not judge, so a
// clean headline (and exit code) is never mistaken for a clean bill: a
// certificate not seen, seen but unreadable, or read leniently with a
// defect whose effect on a chosen client is unknown (and no client warns).
func (r *Report) NotJudged() Unjudged {
	if r.Items == nil && r.agg != nil {
		return r.Totals.NotJudged
	}
	var u Unjudged
	for _, it := range r.Items {
		u.count(it, it.NotJudged())
	}
	return u
}

// Why a connection was not judged (Item.NotJudged).
const (
	NotJudgedUnseen     = "certificate not seen"
	NotJudgedUnreadable = "certificate unreadable"
	NotJudgedUnknown    = "client verdict unknown"
)

// NotJudged says why the item's certificate could not be judged
// (NotJudgedUnseen, NotJudgedUnreadable, NotJudgedUnknown), or "" when it
// was judged or is not a TLS connection.
func (it *Item) NotJudged() string {
	if it.Obs.Kind == record.KindDNS || it.WhatIf {
		return ""
	}
	switch {
	case len(it.Obs.Chain) > 0 && (len(it.Chain) < len(it.Obs.Chain) || hasFinding(it, "cert.unparseable")):
		return NotJudgedUnreadable
	case len(it.Chain) > 0:
		if !it.Warns("") && hasFindingSeverity(it, "cert.malformed", SeverityWarning) {
			return NotJudgedUnknown
		}
		if !it.Warns("") && HelloMissing(it.Obs) && hasFinding(it, "name.unknown") {
			// The client's hello is not in the capture and nothing
			// else names the server: no name to judge against.
			return NotJudgedUnknown
		}
		return ""
	}
	switch it.Obs.Visibility {
	case record.VisEncrypted, record.VisTruncated, record.VisMissing, record.VisResumed, record.VisFailed:
		return NotJudgedUnseen
	}
	return ""
}

func hasFindingSeverity(it *Item, id string, sev Severity) bool {
	for _, f := range it.Findings {
		if f.ID == id && f.Severity == sev {
			return true
		}
	}
	return false
}

// reattribute gives the culprits whose requests carried no URL a cause
// found once the whole input is known (cause returns nil to leave one
// alone), and merges each into the culprit that already has that cause. A streaming pipeline attributes each
// request from a window of what follows it; the email domains that make a
// connection to a bare domain the client's Autodiscover candidate can be
// named much later, and the grouping then takes them from the whole input
// as Analyze does. The culprits keep their order of first appearance.
func (g *grouping) reattribute(cause func(c *Culprit) *Cause) {
	moved := false
	for _, c := range g.out {
		if c.hasURL || !c.hasOrigin {
			continue
		}
		nc := cause(c)
		if nc == nil || nc.Setting == "" || nc.Setting == c.setting {
			continue
		}
		key := g.causeKey(c.keyBase, nc.Setting, c.keyMail())
		delete(g.byKey, g.causeKey(c.keyBase, c.setting, c.keyMail()))
		c.rareOf().reOrigin = nc
		c.originUnknown, c.originSCP, c.setting = nc.Kind == CauseUnknown, nc.Kind == CauseSCP, nc.Setting
		if o, ok := g.byKey[key]; ok {
			o.merge(c)
			moved = true
			continue
		}
		g.byKey[key] = c
	}
	if moved {
		g.out = slices.DeleteFunc(g.out, func(c *Culprit) bool { return g.byKey[g.causeKey(c.keyBase, c.setting, c.keyMail())] != c })
	}
}

// merge adds d's requests to c (both of one cause); the culprit whose
// first request came first lends its first request (the merged findings
// stay c's).
func (c *Culprit) merge(d *Culprit) {
	if d.Index < c.Index {
		c.Index, c.first = d.Index, d.first
		if c.reOrigin() != nil || d.reOrigin() != nil {
			c.rareOf().reOrigin = d.reOrigin()
		}
		c.name, c.probe, c.hasURL, c.hasOrigin, c.originUnknown, c.originSCP, c.setting = d.name, d.probe, d.hasURL, d.hasOrigin, d.originUnknown, d.originSCP, d.setting
		if ua := cmp.Or(d.ua(), c.ua()); ua != c.ua() {
			c.rareOf().ua = ua
		}
	} else if c.ua() == "" && d.ua() != "" {
		c.rareOf().ua = d.ua()
	}
	c.Requests += d.Requests
	c.Conns += d.Conns
	ex := append(append([]exampleRef(nil), c.examples[:c.nex]...), d.examples[:d.nex]...)
	slices.SortFunc(ex, func(a, b exampleRef) int { return cmp.Compare(a.index, b.index) })
	c.nex = int8(copy(c.examples[:], ex))
	var dmore map[string]bool
	if d.rare != nil {
		dmore = d.rare.more
	}
	for _, w := range append(append([]string(nil), d.Clients...), mapKeys(dmore)...) {
		if slices.Contains(c.Clients, w) || c.more(w) {
			continue
		}
		if len(c.Clients) < MaxClients {
			c.Clients = append(c.Clients, w)
			continue
		}
		c.addMore(w)
	}
	if !d.FirstSeen.IsZero() && (c.FirstSeen.IsZero() || d.FirstSeen.Before(c.FirstSeen)) {
		c.FirstSeen = d.FirstSeen
	}
	if d.LastSeen.After(c.LastSeen) {
		c.LastSeen = d.LastSeen
	}
	c.urlless += d.urlless
	c.sameAlts = dedupeSettings(append(c.sameAlts, d.sameAlts...))
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
