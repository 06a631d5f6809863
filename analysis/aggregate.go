package analysis

import (
	"cmp"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/exchange"
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
type Culprit struct {
	// First is the group's first request (judged, with its Origin).
	First *Item
	// Repeats are the later items of the group, in order.
	//
	// Deprecated: it holds every request of the group; read Requests,
	// Examples and Clients. It goes away with the streaming pipeline.
	Repeats []*Item
	// Examples are up to MaxExamples requests of the group, First
	// included, in input order.
	Examples []*Item
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
	Profiles            []string
	Findings            []Finding // error findings, one per check ID (profiles merged)
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

	// more holds the distinct clients beyond Clients (for MoreClients);
	// nil while there are at most MaxClients.
	more map[string]bool
	// ua is the first User-Agent among the requests (outlookCulprit).
	ua string
	// urlless counts the requests without a URL; sameAlts are the
	// settings behind them, as dedupeSettings keeps them (mergeSameHost).
	urlless  int
	sameAlts []Cause
	// key is the culprit's grouping key, made of keyBase, the origin's
	// setting and keyMail (see grouping.add).
	key, keyBase, keyMail string
}

// Culprits groups the warning items of r, first occurrence first.
func (r *Report) Culprits() []*Culprit {
	out := r.culpritGroups()
	// Explained once the repeats are known: a culprit without URLs takes
	// the settings behind every one of its connections.
	for _, c := range out {
		r.explainCulprit(c)
	}
	return out
}

// culpritGroups is Culprits without the explanations (origin, remedies,
// verdict), for renderers that explain each culprit as they write it.
// Each call returns new culprits (explaining one fills it in).
func (r *Report) culpritGroups() []*Culprit {
	if r.Items == nil && r.agg != nil {
		out := make([]*Culprit, len(r.agg.g.out))
		for i, c := range r.agg.g.out {
			cp := *c
			out[i] = &cp
		}
		return out
	}
	g := newGrouping(r.Profiles)
	g.keepRepeats = true
	for _, it := range r.Items {
		g.add(it)
	}
	return g.out
}

// grouping puts warning items into culprits, one at a time.
type grouping struct {
	profiles []*match.Profile
	out      []*Culprit
	byKey    map[string]*Culprit
	// keepRepeats fills Culprit.Repeats; without it the culprits keep
	// compact copies of their examples (see compactItem).
	keepRepeats bool
	// maxConns bounds the connections remembered (0: no bound); conns
	// are their keys, oldest first, from connHead on.
	maxConns int
	conns    []string
	connHead int
}

func newGrouping(ps []*match.Profile) *grouping {
	return &grouping{profiles: ps, byKey: map[string]*Culprit{}}
}

// add puts it in its culprit (a new one when its cause is new); items
// that do not warn are left out. It returns the culprit, or nil.
func (g *grouping) add(it *Item) *Culprit {
	if !it.Warns("") {
		return nil
	}
	ids := map[string]bool{}
	for _, f := range it.Findings {
		if f.Severity == SeverityError {
			ids[f.ID] = true
		}
	}
	var idl []string
	for id := range ids {
		idl = append(idl, id)
	}
	sort.Strings(idl)
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
	same := strings.ToLower(it.Name) + "|" + leaf + "|" + strings.Join(idl, ",")
	key := same + "|" + requestPath(it.Obs) + "|" + origin + "|" + mail
	// A connection warns once: the requests inside one tunnel (or one
	// captured connection) repeat its first culprit, whatever their URL.
	conn := ""
	if it.Obs.Conn != "" {
		conn = "conn|" + string(it.Obs.Source) + "|" + it.Obs.Conn + "|" + same
	}
	if c, ok := g.byKey[conn]; ok && conn != "" {
		g.repeat(c, it, false)
		return c
	}
	if c, ok := g.byKey[key]; ok {
		g.repeat(c, it, conn != "")
		if conn != "" {
			g.rememberConn(conn, c)
		}
		return c
	}
	ps := it.WarningProfiles(g.profiles)
	if !g.keepRepeats {
		it = compactItem(it)
	}
	c := &Culprit{First: it, Profiles: ps, Findings: byCause(MergeFindings(it.Findings, SeverityError), ps), key: key, keyBase: same + "|" + requestPath(it.Obs), keyMail: mail}
	c.count(it, conn != "")
	g.byKey[key] = c
	if conn != "" {
		g.rememberConn(conn, c)
	}
	g.out = append(g.out, c)
	return c
}

// rememberConn maps a connection key to its culprit, forgetting the
// oldest connection past maxConns.
func (g *grouping) rememberConn(conn string, c *Culprit) {
	g.byKey[conn] = c
	if g.maxConns == 0 {
		return
	}
	g.conns = append(g.conns, conn)
	if len(g.conns)-g.connHead > g.maxConns {
		delete(g.byKey, g.conns[g.connHead])
		g.conns[g.connHead] = ""
		g.connHead++
		if g.connHead*2 >= len(g.conns) {
			g.conns = append(g.conns[:0], g.conns[g.connHead:]...)
			g.connHead = 0
		}
	}
}

// repeat adds a later item of c's group; newConn says it is on a
// connection the group had not seen.
func (g *grouping) repeat(c *Culprit, it *Item, newConn bool) {
	if g.keepRepeats {
		c.Repeats = append(c.Repeats, it)
	} else if len(c.Examples) < MaxExamples {
		it = compactItem(it)
	}
	c.count(it, newConn)
}

// compactItem is a copy of it for a culprit's examples that does not hold
// the certificates' DER (the chain summaries stay, and the number of
// certificates), the response body, nor the per-profile verdicts (the
// culprit's findings and verdict say why it warns): a streamed report
// keeps a few examples of every cause, and that is all it keeps of the
// requests.
func compactItem(it *Item) *Item {
	cp := *it
	cp.Verdicts = nil
	o := *it.Obs
	if len(o.Chain) > 0 {
		o.Chain = make([][]byte, len(o.Chain))
	}
	o.Body = nil
	cp.Obs = &o
	return &cp
}

// count adds it to the summary fields.
func (c *Culprit) count(it *Item, newConn bool) {
	c.Requests++
	if len(c.Examples) < MaxExamples {
		c.Examples = append(c.Examples, it)
	}
	o := it.Obs
	if newConn {
		c.Conns++
	}
	if w := clientWord(o); w != "" && !slices.Contains(c.Clients, w) && !c.more[w] {
		if len(c.Clients) < MaxClients {
			c.Clients = append(c.Clients, w)
		} else {
			if c.more == nil {
				c.more = map[string]bool{}
			}
			c.more[w] = true
			c.MoreClients++
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
	if c.ua == "" {
		c.ua = o.UserAgent
	}
	if o.URL == "" {
		c.urlless++
		if len(it.Origin) > 0 {
			switch og := it.Origin[0]; {
			case og.Kind == CauseSCP:
				c.sameAlts = dedupeSettings(append(c.sameAlts, scpAlternative(exchange.NormHost(c.First.Name), it.Index)))
			case og.Setting != "":
				c.sameAlts = dedupeSettings(append(c.sameAlts, og))
			}
		}
	}
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
		if c.First.Obs.URL != "" || len(c.First.Origin) == 0 {
			continue
		}
		nc := cause(c)
		if nc == nil || nc.Setting == "" || nc.Setting == c.First.Origin[0].Setting {
			continue
		}
		key := c.keyBase + "|" + nc.Setting + "|" + c.keyMail
		first := *c.First
		first.Origin = []Cause{*nc}
		for i, ex := range c.Examples {
			if ex == c.First {
				c.Examples[i] = &first
			}
		}
		c.First = &first
		delete(g.byKey, c.key)
		c.key = key
		if o, ok := g.byKey[key]; ok {
			o.merge(c)
			moved = true
			continue
		}
		g.byKey[key] = c
	}
	if moved {
		g.out = slices.DeleteFunc(g.out, func(c *Culprit) bool { return g.byKey[c.key] != c })
	}
}

// merge adds d's requests to c (both of one cause); the culprit whose
// first request came first lends its first request.
func (c *Culprit) merge(d *Culprit) {
	if d.First.Index < c.First.Index {
		c.First, c.ua = d.First, cmp.Or(d.ua, c.ua)
	} else {
		c.ua = cmp.Or(c.ua, d.ua)
	}
	c.Requests += d.Requests
	c.Conns += d.Conns
	ex := append(append([]*Item(nil), c.Examples...), d.Examples...)
	slices.SortFunc(ex, func(a, b *Item) int { return a.Index - b.Index })
	c.Examples = ex[:min(len(ex), MaxExamples)]
	for _, w := range append(append([]string(nil), d.Clients...), mapKeys(d.more)...) {
		if slices.Contains(c.Clients, w) || c.more[w] {
			continue
		}
		if len(c.Clients) < MaxClients {
			c.Clients = append(c.Clients, w)
			continue
		}
		if c.more == nil {
			c.more = map[string]bool{}
		}
		c.more[w] = true
		c.MoreClients++
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
