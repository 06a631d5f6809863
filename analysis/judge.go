package analysis

import (
	"encoding/binary"
	"sort"
	"time"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
)

// Judge gives observations, one at a time as they arrive, the verdicts and
// findings Analyze gives them in the whole trace: the same checks, the same
// roots, and the findings that need an earlier observation (the Outlook
// Anywhere principal an earlier Autodiscover answer required). It is the
// pipeline's judge stage and the attribute stage's principal check (see
// Pipeline), without the look-ahead, the origin tracing (an item's Origin
// is nil) and the culprits. The proxy's live lines use it, so that they
// agree with its report and with replay of its trace, for every request of
// every tunnel: a repeat of an observation already judged (every field
// equal but the time, the duration, the client's address and the
// connection, its certificates within their dates, no Autodiscover answer
// learnt since) costs a map lookup. A Judge is not safe for concurrent use.
type Judge struct {
	j       *judger
	t       *OriginTrace // only its principals: what earlier answers required
	n       int
	windows bool

	// memo holds the final judgement of recent observations by judgeKey;
	// a new Outlook Anywhere principal empties it.
	memo map[string]*judged
	next uint64 // the last judgement number given
	key  []byte // judgeKey's buffer
}

// judged is one memoised judgement: the item (without Index and Obs), its
// number, and the times between which its chain's certificates are all
// within their dates (a request outside them is judged afresh: the
// findings then name its time).
type judged struct {
	it          Item
	id          uint64
	from, until time.Time
}

// NewJudge returns a Judge with opts (as for Analyze; WhatIf is ignored).
func NewJudge(opts Options) *Judge {
	opts = opts.withDefaults()
	opts.WhatIf = nil
	jd := &Judge{j: newJudger(opts), t: newOriginTrace(false), memo: map[string]*judged{}}
	for _, p := range opts.Profiles {
		if p.Name == "windows" {
			jd.windows = true
		}
	}
	return jd
}

// Item judges o, which comes after every observation given before. The
// item's findings, verdicts and chain may be shared with other items: do
// not modify them.
func (j *Judge) Item(o *record.Observation) *Item {
	it, _ := j.Judged(o)
	return it
}

// Judged is Item and the number of the judgement: two observations given
// the same number were judged alike (the same findings and verdicts, from
// equal fields and the same earlier answers), so what the caller made of
// the first holds for the second. It is 0 when o was judged on its own
// (it carries a body, DNS answers or AIA fetches, or a certificate out of
// its dates).
func (j *Judge) Judged(o *record.Observation) (*Item, uint64) {
	j.n++
	at := o.Time
	if at.IsZero() {
		at = j.j.now
	}
	// The chain's ID from the judger's entry: a proxy's observations
	// carry none, and record.ChainID hashed the whole chain each time.
	j.key = judgeKey(j.key[:0], o, j.j.chain(o).id)
	if len(j.key) > 0 {
		if m, ok := j.memo[string(j.key)]; ok && !at.Before(m.from) && !at.After(m.until) {
			it := m.it
			it.Index, it.Obs = j.n, o
			return &it, m.id
		}
	}
	it := j.j.item(j.n, o)
	if j.windows {
		// As attributeItem: the principal the answers before o required,
		// then what o's own answer requires of the requests after it.
		n := len(it.Findings)
		it.Findings = it.Findings[:n:n] // an append must not write into a shared array
		j.t.principalFindings(it, it.leaf, nil)
		if len(it.Findings) != n {
			sort.SliceStable(it.Findings, func(a, b int) bool {
				return it.Findings[a].Severity.rank() > it.Findings[b].Severity.rank()
			})
		}
		if a, err := exchange.AutodiscoverOf(o); err == nil && a != nil && len(a.Principals) > 0 {
			j.t.learnPrincipals(j.n, a)
			clear(j.memo) // a repeat of an earlier request may now be judged otherwise
		}
	}
	it.leaf = nil
	if len(j.key) == 0 {
		return it, 0
	}
	from, until, ok := j.dates(o, at)
	if !ok {
		return it, 0
	}
	if len(j.memo) >= maxMemo {
		clear(j.memo)
	}
	j.next++
	m := &judged{it: *it, id: j.next, from: from, until: until}
	m.it.Index, m.it.Obs = 0, nil
	j.memo[string(j.key)] = m
	return it, m.id
}

// dates is when every certificate of o's chain is within its dates, and
// whether at is (false: the findings name at, so the judgement is not
// kept).
func (j *Judge) dates(o *record.Observation, at time.Time) (from, until time.Time, ok bool) {
	until = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	var cs []certView
	if v := j.j.chain(o).view; v != nil { // the certificates that parsed
		cs = v.certs
	}
	for i := range cs {
		if c := &cs[i]; c.notBefore.After(from) {
			from = c.notBefore
		}
		if c := &cs[i]; c.notAfter.Before(until) {
			until = c.notAfter
		}
	}
	return from, until, !at.Before(from) && !at.After(until)
}

// judgeKey appends to b what the judgement of o depends on besides the
// earlier observations and the time: every field of o but Time, Duration,
// Client and Conn, its chain by its ID, id (chainID's): the fields the
// checks read (appendCheckFields, as the judge stage's own memo keys on
// them) and the rest, because a Judge numbers its judgements and the proxy treats two
// requests with one number alike. It appends nothing when o is to be
// judged on its own: it carries a body (an Autodiscover answer), DNS
// answers or AIA fetches. TestJudgeKeyFields fails when Observation gains
// a field this leaves out.
func judgeKey(b []byte, o *record.Observation, id string) []byte {
	if o.Body != nil || o.DNS != nil || len(o.AIA) > 0 {
		return b
	}
	b = appendCheckFields(b, o, id)
	b = keyStr(b, o.Server)
	b = keyStr(b, o.Proxy)
	b = keyList(b, o.ALPN)
	b = keyStr(b, o.Method)
	b = keyStr(b, o.StartTLS)
	b = keyStr(b, o.UserAgent)
	b = keyStr(b, o.Protocol)
	b = binary.AppendVarint(b, int64(o.Status))
	b = keyStr(b, o.Location)
	b = keyStr(b, o.Note)
	b = keyFlags(b, o.Exchange != nil)
	if e := o.Exchange; e != nil {
		b = keyStr(b, e.FrontEnd)
		b = keyStr(b, e.BackEnd)
		b = keyStr(b, e.BETarget)
	}
	return b
}

// keyStr appends s to a memo key, delimited by its length.
func keyStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// keyList appends l to a memo key, delimited by its length.
func keyList(b []byte, l []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, s := range l {
		b = keyStr(b, s)
	}
	return b
}

// keyFlags appends up to 8 flags to a memo key, as the bits of a byte.
func keyFlags(b []byte, fs ...bool) []byte {
	var x byte
	for i, f := range fs {
		if f {
			x |= 1 << i
		}
	}
	return append(b, x)
}

// chainID is o's chain ID: the one a recorder set, else computed.
func chainID(o *record.Observation) string {
	if o.ChainID != "" || len(o.Chain) == 0 {
		return o.ChainID
	}
	return record.ChainID(o.Chain)
}
