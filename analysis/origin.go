package analysis

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
	"golang.org/x/net/publicsuffix"
)

// CauseKind says what sent a client to a host.
type CauseKind string

// The causes origin tracing knows. Stable strings (they appear in JSON).
const (
	CauseAutodiscoverField    CauseKind = "autodiscover-field"    // a URL or host in an Autodiscover answer
	CauseAutodiscoverRedirect CauseKind = "autodiscover-redirect" // POX redirectUrl / SOAP RedirectUrl
	CauseHTTPRedirect         CauseKind = "http-redirect"         // an HTTP 3xx Location
	CauseSRV                  CauseKind = "dns-srv"               // a _autodiscover._tcp SRV target
	CauseRootDomain           CauseKind = "candidate-root-domain" // https://<domain>/autodiscover/...
	CausePrefix               CauseKind = "candidate-autodiscover-prefix"
	CauseHTTPProbe            CauseKind = "candidate-http-probe"       // unauthenticated GET http://autodiscover.<domain>/...
	CauseSCP                  CauseKind = "scp"                        // inferred: AD service connection point
	CauseDirectConnect        CauseKind = "candidate-office365"        // Outlook's Direct Connect to Office 365
	CauseCheckTarget          CauseKind = "check-target"               // a target given to certsleuth check (Source probe)
	CauseSameHost             CauseKind = "same-host-settings"         // a URL-less connection to a host several settings name
	CauseURLPath              CauseKind = "url-path"                   // inferred: nothing names the URL, but its path is an Exchange virtual directory's
	CauseRedirectAddr         CauseKind = "autodiscover-redirect-addr" // POX redirectAddr / SOAP RedirectAddress: Autodiscover again for a new domain
	CauseUnknown              CauseKind = "unknown"
)

// Cause is one arrow of an origin chain: what sent the client to a URL.
type Cause struct {
	Kind CauseKind `json:"kind"`
	// From is the 1-based index of the observation that supplied the URL
	// (the Autodiscover answer, the redirect, the DNS answer); 0 when the
	// cause is the client's own candidate order or is inferred.
	From    int               `json:"from,omitempty"`
	Field   *exchange.ADField `json:"field,omitempty"`
	URL     string            `json:"url,omitempty"`     // the URL or host it named
	Setting string            `json:"setting,omitempty"` // catalog key of the setting behind it
	Text    string            `json:"text"`              // in words
	Hedged  bool              `json:"hedged,omitempty"`  // inferred, not seen
	// Either is set on a same-host-settings cause: the connection carried
	// no URL (the client refused the certificate before sending its
	// request, or the request was encrypted), and each of these settings
	// names the host it went to. Any of them may have sent the client
	// there; every one needs changing. On an autodiscover-field cause it
	// holds the internal and the external field of one setting when both
	// name the URL: both need changing.
	Either []Cause `json:"either,omitempty"`
}

// OriginTrace is origin tracing over one list of observations.
type OriginTrace struct {
	// Causes maps a 1-based observation index to what sent the client there.
	Causes map[int]*Cause
	// Answers maps the index of an observation that carried an Autodiscover
	// answer to the parsed answer.
	Answers map[int]*exchange.Autodiscover
	// AnswerErrors maps indexes of Autodiscover bodies that did not parse.
	AnswerErrors map[int]error
	// Domains are the email domains seen (SMTP addresses, SRV queries,
	// autodiscover.<domain> hosts), sorted.
	Domains []string
	// Version is the Exchange release the answers reveal, or "".
	Version string
	// Server is the Exchange server name the trace reveals, or "": the
	// X-FEServer (else X-BEServer, X-CalculatedBETarget) response header,
	// else a 2007/2010 answer's ServerDN.
	Server string
	// serverAt maps a host to the X-FEServer (else X-BEServer) of a
	// response from it; headerServer is the first such name of any host.
	serverAt     map[string]string
	headerServer string
	dnServer     string // the first 2007/2010 answer's ServerDN server
	// domainSet holds Domains; domainsSorted says Domains is sorted.
	domainSet     map[string]bool
	domainsSorted bool
	// firstReq is the index of the first observation that is not DNS.
	firstReq int
	// known holds what earlier observations told the client, by host: a
	// request is explained by the names known for its own host only.
	known map[string]*hostKnown
	// seenAD holds the hosts already asked for Autodiscover.
	seenAD map[string]bool
	// probeAt maps a URL certsleuth check connected to with SNI to the
	// latest such probe.
	probeAt map[string]int
	// principals maps an Outlook Anywhere host to the latest principal an
	// answer required for it (principalTraceFindings).
	principals map[string]principalAt
	// answerSeen holds the setting|host pairs of the answers kept.
	answerSeen map[string]bool
	// keepAll keeps every cause and answer (see newOriginTrace).
	keepAll bool
	// taught says the observation stepped last told the client a name.
	taught bool
	// causesKept is len(Causes) after the last sweep (sweepCauses).
	causesKept int
	// scpAt maps a host to the first connection inferred to be its SCP
	// Autodiscover request.
	scpAt map[string]int
	// sameHostMemo caches same-host causes by host and what was known.
	sameHostMemo map[sameHostKey]*Cause
	// domainAt maps each of Domains to its first index; domainN is the
	// length of Domains it was built for.
	domainAt map[string]int
	domainN  int
	// url is the last URL step parsed and what of it (urlHostPath,
	// isAutodiscoverURL): a request's step asks four times.
	url urlMemo
}

// urlMemo is what exchange.URLHostPath and exchange.IsAutodiscoverURL
// say of u (ad and adKind once adSet).
type urlMemo struct {
	u, host, path, scheme string
	adSet, ad             bool
	adKind                string
}

// urlHostPath is exchange.URLHostPath(u), u parsed once for a run of calls.
func (t *OriginTrace) urlHostPath(u string) (host, path, scheme string) {
	if m := &t.url; m.u != u || u == "" {
		host, path, scheme = exchange.URLHostPath(u)
		t.url = urlMemo{u: u, host: host, path: path, scheme: scheme}
	}
	return t.url.host, t.url.path, t.url.scheme
}

// isAutodiscoverURL is exchange.IsAutodiscoverURL(u), for a run of calls
// with u once.
func (t *OriginTrace) isAutodiscoverURL(u string) (bool, string) {
	t.urlHostPath(u) // t.url is u's
	if m := &t.url; !m.adSet {
		m.ad, m.adKind = exchange.IsAutodiscoverURL(u)
		m.adSet = true
	}
	return t.url.ad, t.url.adKind
}

type knownName struct {
	host  string
	path  string // lower case, no query, no trailing slash; "" for host-only
	full  string // the whole URL, normalised by fullURL; "" for host-only
	cause *Cause
	pref  int    // lower is preferred among equals
	mail  string // "imap", "pop3", "smtp" for a mail block's server; "" otherwise
	port  int    // the mail block's port; 0 when not stated
}

// fullURL normalises a URL for an exact comparison: lower case, without a
// trailing slash on the path, the default port dropped.
func fullURL(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "" // what the parse below gives, without its allocation
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	h := exchange.NormHost(u.Hostname())
	if p := u.Port(); p != "" && !(p == "443" && u.Scheme == "https") && !(p == "80" && u.Scheme == "http") {
		h += ":" + p
	}
	out := strings.ToLower(u.Scheme) + "://" + h + strings.TrimSuffix(strings.ToLower(u.EscapedPath()), "/")
	if u.RawQuery != "" {
		out += "?" + strings.ToLower(u.RawQuery)
	}
	return out
}

// elementPref orders fields that give the same URL (EwsUrl before ASUrl).
func elementPref(el string) int {
	switch strings.ToLower(el) {
	case "ewsurl", "internalewsurl", "externalewsurl", "url", "server":
		return 0
	case "oaburl", "ecpurl", "umurl":
		return 1
	}
	return 2
}

// TraceOrigins links every observation to what sent the client there.
// Observations must be in the order they happened. It keeps the cause of
// every observation (Causes); the pipeline (Analyze, Pipeline) traces
// with bounded state instead (see newOriginTrace).
func TraceOrigins(obs []*record.Observation) *OriginTrace {
	t := newOriginTrace(true)
	for i, o := range obs {
		t.facts(i+1, o)
	}
	t.factsDone()
	for i, o := range obs {
		c := t.step(i+1, o)
		t.settle(i+1, o, c)
	}
	return t
}

// newOriginTrace returns an empty trace. With keepAll it keeps the cause
// of every observation and every answer; without, only the causes of the
// observations a later cause can point to (those that told the client a
// name, and certsleuth check's probes) and the answers that tell
// something new, so its size follows the hosts and settings seen, not the
// observations.
func newOriginTrace(keepAll bool) *OriginTrace {
	return &OriginTrace{Causes: map[int]*Cause{}, Answers: map[int]*exchange.Autodiscover{}, AnswerErrors: map[int]error{},
		scpAt: map[string]int{}, sameHostMemo: map[sameHostKey]*Cause{}, serverAt: map[string]string{},
		domainSet: map[string]bool{}, known: map[string]*hostKnown{}, seenAD: map[string]bool{},
		probeAt: map[string]int{}, principals: map[string]principalAt{}, keepAll: keepAll}
}

// addDomain records d as an email domain seen.
func (t *OriginTrace) addDomain(d string) {
	d = exchange.NormHost(d)
	if d != "" && strings.Contains(d, ".") && !t.domainSet[d] {
		t.domainSet[d] = true
		t.Domains = append(t.Domains, d)
		t.domainsSorted = false
	}
}

// facts is the first look at observation idx: the email domains it names,
// the Exchange server and release it reveals, its Autodiscover answer.
// Every observation's facts come before its step, and may come many
// observations before it (the pipeline's look-ahead window).
func (t *OriginTrace) facts(idx int, o *record.Observation) {
	if o.Kind == record.KindDNS && o.DNS != nil {
		if q := exchange.NormHost(o.DNS.Query); strings.HasPrefix(q, "_autodiscover._tcp.") {
			t.addDomain(strings.TrimPrefix(q, "_autodiscover._tcp."))
		}
		return
	}
	if o.Kind == record.KindDNS {
		return
	}
	if t.firstReq == 0 {
		t.firstReq = idx
	}
	if h, p, _ := exchange.URLHostPath(o.URL); h != "" {
		if strings.HasPrefix(h, "autodiscover.") {
			t.addDomain(strings.TrimPrefix(h, "autodiscover."))
		}
		if i := strings.Index(p, "/autodiscover.json/v1.0/"); i >= 0 {
			if at := strings.LastIndex(p, "@"); at >= 0 {
				t.addDomain(p[at+1:])
			}
		}
	}
	if n, _ := o.AskedName(); strings.HasPrefix(exchange.NormHost(n), "autodiscover.") {
		t.addDomain(strings.TrimPrefix(exchange.NormHost(n), "autodiscover."))
	}
	if e := o.Exchange; e != nil {
		// X-FEServer names the front end whose Default Web Site
		// answered: the server that holds the virtual directories.
		name := firstNonEmpty(e.FrontEnd, e.BackEnd, strings.SplitN(e.BETarget, ".", 2)[0])
		if exchange.IsServerName(name) {
			name = strings.ToUpper(name)
			if t.headerServer == "" {
				t.headerServer = name
			}
			if n, _ := o.AskedName(); n != "" && t.serverAt[exchange.NormHost(n)] == "" {
				t.serverAt[exchange.NormHost(n)] = name
			}
		}
	}
	a, err := exchange.AutodiscoverOf(o)
	if err != nil {
		if t.keepAll || len(t.AnswerErrors) < maxAnswerErrors {
			t.AnswerErrors[idx] = err
		}
		return
	}
	if a == nil {
		return
	}
	t.Answers[idx] = a
	for _, addr := range []string{a.Email, a.RedirectAddr} {
		if at := strings.LastIndex(addr, "@"); at >= 0 {
			t.addDomain(addr[at+1:])
		}
	}
	if a.Version != "" {
		t.Version = a.Version
	}
	if a.ServerName != "" && t.dnServer == "" {
		t.dnServer = a.ServerName
	}
	t.Server = firstNonEmpty(t.headerServer, t.dnServer)
}

// maxAnswerErrors bounds AnswerErrors when not every answer is kept.
const maxAnswerErrors = 100

// factsDone sorts Domains once every fact is in (TraceOrigins).
func (t *OriginTrace) factsDone() {
	t.sortDomains()
}

// sortDomains keeps Domains sorted (the candidate order and the fixes
// look them up by index).
func (t *OriginTrace) sortDomains() {
	if !t.domainsSorted {
		sort.Strings(t.Domains)
		t.domainsSorted = true
	}
}

// step explains observation idx from what came before it, then learns
// what it tells the client; it returns the cause (nil when nothing is
// known). Observations are stepped in order, each after its facts.
func (t *OriginTrace) step(idx int, o *record.Observation) *Cause {
	var c *Cause
	if o.Kind != record.KindDNS {
		if o.Source == record.SourceProbe {
			// certsleuth check connected because it was asked to: no
			// client setting is behind it.
			c = t.probeCause(idx, o)
			if !o.NoSNI {
				t.probeAt[o.URL] = idx
			}
		} else {
			c = t.explain(idx, o)
			if c != nil && c.Kind == CauseSCP {
				if h, _, _ := exchange.URLHostPath(c.URL); h != "" && t.scpAt[h] == 0 {
					t.scpAt[h] = idx
				}
			}
			if ok, _ := t.isAutodiscoverURL(o.URL); ok {
				h, _, _ := t.urlHostPath(o.URL)
				t.seenAD[h] = true
			}
		}
	}
	learnt := t.learn(idx, o)
	for _, k := range learnt {
		hk := t.known[k.host]
		if hk == nil {
			hk = &hostKnown{}
			t.known[k.host] = hk
		}
		hk.add(k)
	}
	t.taught = len(learnt) > 0
	return c
}

// settle ends observation idx's step once its cause c is final (the
// principal check may replace it): it keeps c where a later cause can
// point to it, and takes what idx's answer requires of later connections.
func (t *OriginTrace) settle(idx int, o *record.Observation, c *Cause) {
	if a := t.Answers[idx]; a != nil {
		t.learnPrincipals(idx, a)
		if !t.keepAll && !t.newAnswer(a) {
			delete(t.Answers, idx)
		}
	}
	if c != nil && (t.keepAll || t.taught || o.Source == record.SourceProbe) {
		t.Causes[idx] = c
		if !t.keepAll && len(t.Causes) >= 2*t.causesKept+maxCausesSweep {
			t.sweepCauses()
		}
	}
}

// maxCausesSweep is how many causes may be added between two sweeps.
const maxCausesSweep = 4096

// sweepCauses forgets the causes no later request can reach: those of
// observations whose names every host has since learnt from a later one
// (a host keeps the latest entry of each kind, the first of each
// setting), unless a kept cause points to them.
func (t *OriginTrace) sweepCauses() {
	keep := map[int]bool{}
	var mark func(from int)
	mark = func(from int) {
		for from > 0 && !keep[from] {
			keep[from] = true
			c := t.Causes[from]
			if c == nil {
				return
			}
			from = c.From
		}
	}
	for _, hk := range t.known {
		for _, k := range hk.reps {
			mark(k.cause.From)
		}
		for _, a := range hk.alts {
			mark(a.From)
			for _, e := range a.Either {
				mark(e.From)
			}
		}
	}
	for _, p := range t.principals {
		mark(p.from)
	}
	for _, i := range t.probeAt {
		mark(i)
	}
	for idx := range t.Causes {
		if !keep[idx] {
			delete(t.Causes, idx)
		}
	}
	t.causesKept = len(t.Causes)
}

// chain is the origin chain of a request whose cause is c (see Chain).
func (t *OriginTrace) chain(index int, c *Cause) []Cause {
	var out []Cause
	seen := map[int]bool{index: true}
	for c != nil && len(out) < 10 {
		out = append(out, *c)
		if c.From == 0 || seen[c.From] {
			break
		}
		seen[c.From] = true
		c = t.Causes[c.From]
	}
	return out
}

// newAnswer reports whether a names a setting's URL no earlier kept answer
// named (the fixes look for a covered name among the answers' fields: an
// answer that repeats one kept adds nothing).
func (t *OriginTrace) newAnswer(a *exchange.Autodiscover) bool {
	if t.answerSeen == nil {
		t.answerSeen = map[string]bool{}
	}
	fresh := false
	for _, f := range a.Fields {
		k := f.Setting + "|" + f.Host()
		if !t.answerSeen[k] {
			t.answerSeen[k] = true
			fresh = true
		}
	}
	return fresh
}

// learn returns the names observation idx tells the client about.
func (t *OriginTrace) learn(idx int, o *record.Observation) []knownName {
	var out []knownName
	if o.Kind == record.KindDNS {
		for _, s := range exchange.SRVTargets(o) {
			if s.Port != 0 && s.Port != 443 {
				continue
			}
			u := "https://" + s.Target + "/autodiscover/autodiscover.xml"
			out = append(out, knownName{host: s.Target, cause: &Cause{Kind: CauseSRV, From: idx, URL: u, Setting: exchange.SettingSRV,
				Text: fmt.Sprintf("the DNS SRV record %s names %s (port %d)", s.Owner, s.Target, s.Port)}})
		}
		return out
	}
	if r := exchange.ParseRedirect(o); r != nil {
		h, p, _ := exchange.URLHostPath(r.To)
		out = append(out, knownName{host: h, path: p, cause: &Cause{Kind: CauseHTTPRedirect, From: idx, URL: r.To, Setting: exchange.SettingHTTPRedirect,
			Text: fmt.Sprintf("HTTP %d redirect from %s to %s", r.Status, r.From, r.To)}})
	}
	a := t.Answers[idx]
	if a == nil {
		return out
	}
	if a.RedirectURL != "" {
		h, p, _ := exchange.URLHostPath(a.RedirectURL)
		out = append(out, knownName{host: h, path: p, cause: &Cause{Kind: CauseAutodiscoverRedirect, From: idx, URL: a.RedirectURL, Setting: exchange.SettingADRedirect,
			Text: fmt.Sprintf("the Autodiscover answer said %s to %s", a.Action, a.RedirectURL)}})
	}
	if a.RedirectAddr != "" {
		out = append(out, redirectAddrNames(idx, a)...)
	}
	for k := range a.Fields {
		f := a.Fields[k]
		h, p, _ := exchange.URLHostPath(f.Value)
		full := fullURL(f.Value)
		mail := ""
		if !strings.Contains(f.Value, "://") {
			h, p, full = exchange.NormHost(f.Value), "", ""
			if f.Setting == exchange.SettingOutlookAnywhere {
				p = "/rpc"
			}
			mail = exchange.MailProtocolOf(f.Setting)
		}
		if h == "" {
			continue
		}
		scope := ""
		if f.Scope != exchange.ScopeNone {
			scope = string(f.Scope) + " "
		}
		what := fmt.Sprintf("Autodiscover's %s%s %s", scope, f.Block, f.Element)
		if f.Block == "" {
			what = fmt.Sprintf("Autodiscover's %s", f.Element)
		}
		if mail != "" && f.Port != 0 {
			what = fmt.Sprintf("Autodiscover's %s block (Server, Port %d)", f.Block, f.Port)
		}
		out = append(out, knownName{host: h, path: p, full: full, mail: mail, port: f.Port, pref: elementPref(f.Element), cause: &Cause{Kind: CauseAutodiscoverField, From: idx, Field: &f, URL: f.Value, Setting: f.Setting,
			Text: fmt.Sprintf("%s says %s", what, f.Value)}})
	}
	return out
}

// redirectAddrNames are the names a redirect by address sends the client
// to: it starts Autodiscover again for the new address's domain, at
// https://<domain>/autodiscover/ and https://autodiscover.<domain>/
// (MS-OXDISCO §3.1.5; Microsoft Learn "RedirectAddr (POX)").
func redirectAddrNames(idx int, a *exchange.Autodiscover) []knownName {
	at := strings.LastIndex(a.RedirectAddr, "@")
	if at < 0 {
		return nil
	}
	d := exchange.NormHost(a.RedirectAddr[at+1:])
	if d == "" || strings.ContainsAny(d, "/ ") {
		return nil
	}
	what := fmt.Sprintf("the Autodiscover answer redirected the mailbox to the address %s (%s), so the client ran Autodiscover again for %s", a.RedirectAddr, a.Action, d)
	if exchange.IsMicrosoft365Domain(d) {
		what = fmt.Sprintf("a hybrid answer: the on-premises Exchange redirects this mailbox to Exchange Online (%s %s, the mailbox's remote routing address), so the client ran Autodiscover again for %s", a.Action, a.RedirectAddr, d)
	}
	var out []knownName
	for _, h := range []string{d, "autodiscover." + d} {
		set := exchange.SettingRootDomain
		if h != d {
			set = exchange.SettingAutodiscoverDNS
		}
		out = append(out, knownName{host: h, path: "/autodiscover", pref: 2, cause: &Cause{Kind: CauseRedirectAddr, From: idx, URL: "https://" + h + "/autodiscover/autodiscover.xml", Setting: set, Text: what}})
	}
	return out
}

// hostKnown is what earlier observations said of one host: the entries
// that can win explain's choice (reps: of the entries alike in path,
// kind and preference only the latest can, so a host that one
// Autodiscover answer after another names, as Outlook asks again every
// hour, keeps and scans one entry per group), and the settings that name
// the host (alts, as dedupeSettings keeps them, for same-host causes).
// Its size follows the groups and settings, not the answers.
//
// A group's entry is found by scanning reps (a host has a few groups): a
// map per host took 1.3 MB of hs.pcap's live heap, for its 1,700 hosts.
type hostKnown struct {
	reps []knownName // the latest of each knownGroup, in the order each became so
	alts []Cause
	n    int // entries added (what sameHost's memo depends on)
}

// group is k's knownGroup.
func (k *knownName) group() knownGroup {
	var scope exchange.Scope
	if k.cause.Field != nil {
		scope = k.cause.Field.Scope
	}
	return knownGroup{k.path, k.full, k.cause.Kind, k.pref, scope, k.mail, k.port}
}

type knownGroup struct {
	path  string
	full  string
	kind  CauseKind
	pref  int
	scope exchange.Scope
	mail  string
	port  int
}

func (h *hostKnown) add(k knownName) {
	h.n++
	if k.cause.Setting != "" {
		h.alts = dedupeSettings(append(h.alts, *k.cause))
	}
	g := k.group()
	if i := slices.IndexFunc(h.reps, func(x knownName) bool { return x.group() == g }); i >= 0 {
		if h.reps[i].cause.From >= k.cause.From {
			return // the earlier of two equals wins
		}
		h.reps = slices.Delete(h.reps, i, i+1)
	}
	h.reps = append(h.reps, k)
}

// explain finds what sent the client to o, observation idx.
func (t *OriginTrace) explain(idx int, o *record.Observation) *Cause {
	name, _ := o.AskedName()
	host := exchange.NormHost(name)
	uh, upath, scheme := t.urlHostPath(o.URL)
	if uh != "" {
		host = uh
	}
	if host == "" {
		return nil
	}
	hk := t.known[host]
	if hk == nil {
		hk = &hostKnown{}
	}
	known := hk.reps // what earlier observations said of host that can win
	// A mail connection (IMAP, POP3, SMTP) is explained only by a mail
	// block of its protocol and port, and a web request never by one: the
	// host alone does not say which service the client wanted.
	mail := MailProtocol(o)
	port := 0
	if mail != "" {
		_, ps, _ := net.SplitHostPort(firstNonEmpty(o.Server, o.Connect))
		port, _ = strconv.Atoi(ps)
	}
	ufull := fullURL(o.URL)
	score := func(k knownName) int {
		switch {
		case k.mail != mail:
			return 0
		case mail != "":
			if k.port != 0 && port != 0 && k.port != port {
				return 0
			}
			return 2
		case ufull != "" && k.full != "" && ufull == k.full:
			return 4 // the field's value is the URL
		case upath != "" && k.path != "" && (upath == k.path || strings.HasPrefix(upath, k.path+"/")):
			return 3 // the URL is under the field's path
		case k.path == "" || upath == "":
			return 2
		case k.cause.Kind != CauseAutodiscoverField:
			return 2
		}
		return 1 // same host
	}
	// better reports whether a beats b: the higher score, then the longer
	// path (the most specific field), then the field whose virtual
	// directory serves the URL's path (Exchange 2016 and later put OWA's
	// options URL, /owa/, in EcpUrl: a request for /owa/ is OWA's), then
	// the preferred element, then the latest answer.
	served := pathSettingOf(o.URL, upath)
	better := func(a, b knownName, sa, sb int) bool {
		switch {
		case sa != sb:
			return sa > sb
		case len(a.path) != len(b.path):
			return len(a.path) > len(b.path)
		case served != "" && (a.cause.Setting == served) != (b.cause.Setting == served):
			return a.cause.Setting == served
		case a.pref != b.pref:
			return a.pref < b.pref
		}
		return a.cause.From > b.cause.From
	}
	best, bestScore := -1, 0
	for i, k := range known {
		sc := score(k)
		if sc == 0 {
			continue
		}
		if best < 0 || better(k, known[best], sc, bestScore) {
			best, bestScore = i, sc
		}
	}
	if o.URL == "" && best >= 0 && mail == "" {
		if c := t.sameHost(o, host, hk); c != nil {
			return c
		}
	}
	if best >= 0 && bestScore >= 3 {
		if c := bothScopes(known, best, score); c != nil {
			return c
		}
	}
	isAD, adKind := t.isAutodiscoverURL(o.URL)
	// A path match always wins; a host-only match loses to the candidate
	// order for Autodiscover requests (the client builds those itself).
	if best >= 0 && (bestScore >= 2 || !isAD) {
		c := *known[best].cause
		if bestScore == 1 && o.URL != "" {
			c.Text += fmt.Sprintf(" (same host; the client then asked for %s)", o.URL)
		}
		return &c
	}
	if !isAD {
		if best >= 0 {
			c := *known[best].cause
			return &c
		}
		if o.URL == "" && len(t.domainSet) > 0 {
			// A TLS connection without a URL: the candidate names still tell.
			// The SCP only explains the client's very first connection (a
			// proxy sees no URL when the client rejects the certificate of
			// its first Autodiscover request, the SCP URL).
			if c := t.quietCandidate(host, idx != t.firstReq); c != nil {
				return c
			}
		}
		if c := pathCause(o.URL, host); c != nil {
			return c
		}
		return &Cause{Kind: CauseUnknown, Hedged: true, URL: firstNonEmpty(o.URL, host),
			Text: "no earlier observation names " + host + ": it was typed in the client's settings, cached from an earlier run (Outlook's Last Known Good), or sent before the capture started"}
	}
	return t.candidate(host, scheme, adKind, t.seenAD, false)
}

// bothScopes returns the cause of a request whose URL both the internal
// and the external field of one setting name equally well (EXCH and EXPR
// EwsUrl on the same host): both carry the bad name and both need
// changing. It returns nil when only one scope does, or when one field's
// value is the URL and the other's only a prefix of it (an external
// OWAUrl .../owa/contoso.com/ beats an internal .../owa/ for that URL).
func bothScopes(known []knownName, best int, score func(knownName) int) *Cause {
	b := known[best]
	bs := score(b)
	if b.cause.Kind != CauseAutodiscoverField || b.cause.Field == nil || b.cause.Field.Scope == exchange.ScopeNone {
		return nil
	}
	// The best field of the other scope, from the same answer.
	other := -1
	for i, k := range known {
		if k.cause.Kind != CauseAutodiscoverField || k.cause.Field == nil || k.cause.From != b.cause.From ||
			k.cause.Setting != b.cause.Setting || k.cause.Field.Scope == exchange.ScopeNone || k.cause.Field.Scope == b.cause.Field.Scope || score(k) != bs {
			continue
		}
		if other < 0 || score(k) > score(known[other]) || (score(k) == score(known[other]) && k.pref < known[other].pref) {
			other = i
		}
	}
	if other < 0 {
		return nil
	}
	in, ex := *b.cause, *known[other].cause
	if in.Field.Scope == exchange.ScopeExternal {
		in, ex = ex, in
	}
	c := *b.cause
	c.Either = []Cause{in, ex}
	c.Text = fmt.Sprintf("%s, and %s", in.Text, strings.TrimPrefix(ex.Text, "Autodiscover's "))
	return &c
}

// urlPaths maps the path of a URL to the Exchange virtual directory that
// serves it, and the setting that hands clients such a URL: the paths of
// the virtual directories' default names (EWS, OAB, mapi,
// Microsoft-Server-ActiveSync, Rpc, owa, ecp, UnifiedMessaging, as
// Get-*VirtualDirectory lists them; KB 940726 gives /EWS/Exchange.asmx,
// /OAB and /UnifiedMessaging/Service.asmx).
var urlPaths = []struct{ prefix, setting string }{
	{"/ews/", exchange.SettingEWS}, {"/oab", exchange.SettingOAB}, {"/mapi/", exchange.SettingMAPI}, {"/microsoft-server-activesync", exchange.SettingActiveSync},
	{"/rpc/", exchange.SettingOutlookAnywhere}, {"/owa", exchange.SettingOWA}, {"/ecp", exchange.SettingECP}, {"/unifiedmessaging/", exchange.SettingUM},
}

// pathSetting returns the setting whose virtual directory serves u's
// path, or "".
func pathSetting(u string) string {
	if u == "" {
		return "" // no path (most of a capture's connections)
	}
	_, path, _ := exchange.URLHostPath(u)
	return pathSettingOf(u, path)
}

// pathSettingOf is pathSetting(u), path being u's (exchange.URLHostPath).
func pathSettingOf(u, path string) string {
	if u == "" {
		return ""
	}
	for _, pp := range urlPaths {
		// path+"/" == prefix, path == prefix without its "/", or under it
		if strings.HasPrefix(path, pp.prefix) || path == strings.TrimSuffix(pp.prefix, "/") ||
			len(path)+1 == len(pp.prefix) && strings.HasPrefix(pp.prefix, path) && pp.prefix[len(path)] == '/' {
			return pp.setting
		}
	}
	return ""
}

// pathScope guesses which URL of a virtual directory a host is: the
// internal one for a name no public CA can issue, else the external one.
func pathScope(host string) exchange.Scope {
	if !publicName(host) {
		return exchange.ScopeInternal
	}
	return exchange.ScopeExternal
}

// pathCause explains a request that nothing in the trace names but whose
// path is an Exchange virtual directory's (/EWS/, /OAB/, /mapi/, ...): the
// client got the URL from an answer before the recording started, its
// cache, or its settings, and the virtual directory's URL is what hands it
// out. nil for any other path.
func pathCause(u, host string) *Cause {
	set := pathSetting(u)
	if set == "" {
		return nil
	}
	scope := pathScope(host)
	what := exchange.ShortName(set)
	return &Cause{Kind: CauseURLPath, URL: u, Setting: set, Hedged: true,
		Field: &exchange.ADField{Scope: scope, Value: u, Setting: set},
		Text:  fmt.Sprintf("no Autodiscover answer in the trace names %s, but its path is the %s's: the client got it from Autodiscover before the recording started or from its cache (the %s %s is what hands it out)", shownURL(u), vdirWords(set), string(scope), what)}
}

// vdirWords names the virtual directory behind a setting.
func vdirWords(set string) string {
	switch set {
	case exchange.SettingOutlookAnywhere:
		return "Outlook Anywhere (RPC over HTTP) virtual directory"
	case exchange.SettingActiveSync:
		return "ActiveSync virtual directory"
	}
	w := strings.TrimSuffix(exchange.ShortName(set), " URL")
	return w + " virtual directory"
}

// probeCause explains an observation certsleuth check made itself: the
// user named the target. A connection without SNI that repeats an earlier
// probe of the same URL is check's second look, as clients without SNI
// connect.
func (t *OriginTrace) probeCause(idx int, o *record.Observation) *Cause {
	target := firstNonEmpty(shownURL(o.URL), o.Connect, o.Server)
	if o.NoSNI {
		if j := t.probeAt[o.URL]; j > 0 {
			return &Cause{Kind: CauseCheckTarget, From: j, URL: o.URL,
				Text: "certsleuth check's second connection to the same target, without SNI, as old clients connect"}
		}
		return &Cause{Kind: CauseCheckTarget, URL: o.URL, Text: fmt.Sprintf("you asked certsleuth check to connect to %s without SNI", target)}
	}
	return &Cause{Kind: CauseCheckTarget, URL: o.URL, Text: fmt.Sprintf("you asked certsleuth check to connect to %s", target)}
}

// sameHost explains a connection that carried no URL to a host that
// several settings name (an Autodiscover answer's EwsUrl and OABUrl, an
// earlier connection inferred to be the SCP): nothing tells which of them
// the client followed, so the cause lists them all. It returns nil when
// only one setting names the host. hk is what is known of host.
func (t *OriginTrace) sameHost(o *record.Observation, host string, hk *hostKnown) *Cause {
	// The answer depends only on the host, what is known so far and the
	// source: a capture of thousands of encrypted connections builds it once.
	key := sameHostKey{host, hk.n, t.scpAt[host], o.Source}
	if c, ok := t.sameHostMemo[key]; ok {
		if c == nil {
			return nil
		}
		cp := *c
		return &cp
	}
	c := t.sameHostBuild(o, host, hk)
	if len(t.sameHostMemo) >= 10000 {
		clear(t.sameHostMemo) // bounded: a memo, rebuilt when needed
	}
	// The memo's own strings, not the observation's they may be cut from.
	key.host, key.src = strings.Clone(key.host), record.Source(strings.Clone(string(key.src)))
	t.sameHostMemo[key] = c
	if c == nil {
		return nil
	}
	cp := *c
	return &cp
}

// sameHostKey is what a same-host cause depends on: the host, how much
// is known of it (hostKnown.n), the index of its SCP request, the source.
type sameHostKey struct {
	host   string
	n, scp int
	src    record.Source
}

func (t *OriginTrace) sameHostBuild(o *record.Observation, host string, hk *hostKnown) *Cause {
	var alts []Cause
	// An earlier connection to this host inferred to be the SCP request:
	// Outlook re-runs Autodiscover about hourly (KB 3211279), so a later
	// connection may be the SCP again.
	if scpAt := t.scpAt[host]; scpAt > 0 {
		alts = append(alts, scpAlternative(host, scpAt))
	}
	alts = dedupeSettings(append(alts, hk.alts...))
	if len(alts) < 2 {
		return nil
	}
	return sameHostCause(host, o.Source, 1, alts)
}

// scpAlternative is the SCP as one of the settings that may have sent a
// client to host; at is the connection first inferred to be the SCP request.
func scpAlternative(host string, at int) Cause {
	return Cause{Kind: CauseSCP, URL: "https://" + host + "/autodiscover/autodiscover.xml", Setting: exchange.SettingSCP, Hedged: true,
		Text: fmt.Sprintf("the AD service connection point, AutodiscoverServiceInternalUri (most likely what #%d asked for)", at)}
}

// settingKeyParts identifies a setting and which of its URLs (internal,
// external) a cause names, in two parts that are the key joined: Setting,
// then "|" and the scope when the cause has one (a field's, the SCP's
// internal one), else "".
func settingKeyParts(c Cause) (setting, scope string) {
	switch {
	case c.Field != nil:
		switch c.Field.Scope {
		case exchange.ScopeInternal:
			return c.Setting, "|" + string(exchange.ScopeInternal)
		case exchange.ScopeExternal:
			return c.Setting, "|" + string(exchange.ScopeExternal)
		case exchange.ScopeNone:
			return c.Setting, "|"
		}
		return c.Setting, "|" + string(c.Field.Scope)
	case c.Kind == CauseSCP:
		return c.Setting, "|" + string(exchange.ScopeInternal)
	}
	return c.Setting, ""
}

// sameSettingKey reports whether a and b have the same key (settingKeyParts
// joined), without joining them (this runs for every URL-less connection
// of a capture).
func sameSettingKey(a, b Cause) bool {
	a1, a2 := settingKeyParts(a)
	b1, b2 := settingKeyParts(b)
	return joinedEqual(a1, a2, b1, b2)
}

// joinedEqual reports whether a1+a2 == b1+b2.
func joinedEqual(a1, a2, b1, b2 string) bool {
	if len(a1)+len(a2) != len(b1)+len(b2) {
		return false
	}
	if len(a1) > len(b1) {
		a1, a2, b1, b2 = b1, b2, a1, a2
	}
	// a1 is the shorter first part: b1 = a1 + the start of a2.
	n := len(b1) - len(a1)
	return b1[:len(a1)] == a1 && b1[len(a1):] == a2[:n] && a2[n:] == b2
}

// dedupeSettings keeps one cause per setting and scope, in order, flattening
// same-host causes; among equals the preferred element (EwsUrl before ASUrl).
func dedupeSettings(cs []Cause) []Cause {
	var out []Cause
	for i := range cs {
		if cs[i].Kind == CauseSameHost {
			for _, e := range cs[i].Either {
				out = addSetting(out, e)
			}
		} else if cs[i].Setting != "" {
			out = addSetting(out, cs[i])
		}
	}
	return out
}

// addSetting is dedupeSettings' step: c appended to out, unless a cause
// of its setting and scope is there already, which c then replaces when
// its element is preferred. Found by scanning (a cause lists a few
// settings): no map nor key made per call.
func addSetting(out []Cause, c Cause) []Cause {
	for i := range out {
		if sameSettingKey(out[i], c) {
			if c.Field != nil && out[i].Field != nil && elementPref(c.Field.Element) < elementPref(out[i].Field.Element) {
				out[i] = c
			}
			return out
		}
	}
	return append(out, c)
}

// altWords names one alternative briefly, for a same-host cause's text.
func altWords(c Cause) string {
	s := c.Text
	if c.Kind == CauseAutodiscoverField && c.Field != nil {
		scope := ""
		if c.Field.Scope != exchange.ScopeNone {
			scope = string(c.Field.Scope) + " "
		}
		s = fmt.Sprintf("Autodiscover's %s%s %s", scope, c.Field.Block, c.Field.Element)
		if c.Field.Block == "" {
			s = fmt.Sprintf("Autodiscover's %s", c.Field.Element)
		}
	}
	if c.From > 0 {
		s += fmt.Sprintf(" (#%d)", c.From)
	}
	return s
}

// sameHostCause builds the cause of conns URL-less connections to host that
// any of alts may have sent the client to.
func sameHostCause(host string, src record.Source, conns int, alts []Cause) *Cause {
	return sameHostCauseLead(host, src, conns, alts, "")
}

// sameHostCauseLead is sameHostCause with a lead: the best guess for the
// first connection, said before the list.
func sameHostCauseLead(host string, src record.Source, conns int, alts []Cause, lead string) *Cause {
	saw := "the trace shows only a TLS connection, not its request (the client refused the certificate first, or the request was encrypted)"
	switch {
	case src == record.SourceProxy && conns > 1:
		saw = fmt.Sprintf("the proxy saw only %d TLS connections, not which request each carried (the client refused the certificate first)", conns)
	case src == record.SourceProxy:
		saw = "the proxy saw only a TLS connection, not its request (the client refused the certificate first)"
	case conns > 1:
		saw = fmt.Sprintf("the trace shows only %d TLS connections, not which request each carried (the client refused the certificate first, or the requests were encrypted)", conns)
	}
	var ws []string
	for _, a := range alts {
		ws = append(ws, altWords(a))
	}
	c := &Cause{Kind: CauseSameHost, URL: host, Setting: alts[0].Setting, Hedged: true, Either: alts,
		Text: fmt.Sprintf("%s; %d settings name %s and any of them may have sent the client there: %s", saw, len(alts), host, strings.Join(ws, "; "))}
	if lead != "" {
		c.Text = lead + ", but " + c.Text
	}
	return c
}

// shownURL drops the default port certsleuth check writes into its URLs
// (https://host:443/ is shown as the user typed it, https://host/).
func shownURL(u string) string {
	if u == "" {
		return ""
	}
	x, err := url.Parse(u)
	if err != nil || x.Scheme != "https" || x.Port() != "443" {
		return u
	}
	x.Host = x.Hostname()
	if strings.Contains(x.Host, ":") {
		x.Host = "[" + x.Host + "]"
	}
	return x.String()
}

// quietCandidate is candidate(host, "https", "xml", t.seenAD, true), the
// cause of a TLS connection without a URL, or nil when that is the SCP
// and noSCP is set (the SCP explains only the client's very first
// connection): the SCP's words, which most connections of a capture
// would make only to throw away, are not made then.
func (t *OriginTrace) quietCandidate(host string, noSCP bool) *Cause {
	k, rest := t.candidateCase(host, "https", "xml", t.seenAD)
	if noSCP && (k == candSCP || k == candSCPAgain) {
		return nil
	}
	return candidateCause(k, rest, host, "https", "xml", true)
}

// candidate explains an Autodiscover request nothing else explains, from
// the client's own candidate list (MS-OXDISCO §3.1.5).
func (t *OriginTrace) candidate(host, scheme, adKind string, seenAD map[string]bool, quiet bool) *Cause {
	k, rest := t.candidateCase(host, scheme, adKind, seenAD)
	return candidateCause(k, rest, host, scheme, adKind, quiet)
}

// candCase is which of candidate's causes a request has.
type candCase int

const (
	candNone       candCase = iota // none: unknown (nil when quiet)
	candHTTPProbe                  // the HTTP redirect probe of autodiscover.<domain>
	candRootDomain                 // the email domain itself
	candPrefixOf                   // autodiscover.<an email domain>
	candDirect                     // Office 365's Direct Connect
	candPrefix                     // autodiscover.<a domain not seen>
	candRootGuess                  // most likely the email domain itself (no domain seen)
	candSCPAgain                   // the SCP, on a host asked before
	candSCP                        // the SCP
)

// candidateCase is the case of candidate; rest is the email domain when
// host is autodiscover.<an email domain>.
func (t *OriginTrace) candidateCase(host, scheme, adKind string, seenAD map[string]bool) (k candCase, rest string) {
	// The first email domain d (in sorted order) with host == d or
	// host == "autodiscover."+d decides; looked up, not scanned, since a
	// capture can hold thousands of domains.
	okEq := t.domainSet[host]
	rest, okPre := strings.CutPrefix(host, "autodiscover.")
	okPre = okPre && t.domainSet[rest]
	switch {
	case okPre && (!okEq || rest < host) && scheme == "http":
		return candHTTPProbe, rest
	case okEq:
		return candRootDomain, rest
	case okPre:
		return candPrefixOf, rest
	case host == "outlook.office365.com" || host == "autodiscover-s.outlook.com":
		return candDirect, rest
	case strings.HasPrefix(host, "autodiscover."):
		return candPrefix, rest
	case len(t.domainSet) == 0 && isRegistrable(host):
		return candRootGuess, rest
	case (adKind == "xml" || adKind == "svc") && seenAD[host]:
		return candSCPAgain, rest
	case adKind == "xml" || adKind == "svc":
		return candSCP, rest
	}
	return candNone, rest
}

// candidateCause is candidate's cause in case k (candidateCase).
func candidateCause(k candCase, rest, host, scheme, adKind string, quiet bool) *Cause {
	u := scheme + "://" + host + "/autodiscover/autodiscover." + adKind
	switch k {
	case candHTTPProbe:
		return &Cause{Kind: CauseHTTPProbe, URL: u, Setting: exchange.SettingHTTPRedirect,
			Text: "the client's HTTP redirect probe: unauthenticated GET http://autodiscover." + rest + "/autodiscover/autodiscover.xml (tried when the HTTPS candidates fail)"}
	case candRootDomain:
		d := host
		return &Cause{Kind: CauseRootDomain, URL: u, Setting: exchange.SettingRootDomain,
			Text: "the client's Autodiscover candidate list: the email domain itself, https://" + d + "/autodiscover/ (tried before autodiscover." + d + ")"}
	case candPrefixOf:
		return &Cause{Kind: CausePrefix, URL: u, Setting: exchange.SettingAutodiscoverDNS,
			Text: "the client's Autodiscover candidate list: https://autodiscover." + rest + "/autodiscover/ (tried after the email domain itself)"}
	case candDirect:
		return &Cause{Kind: CauseDirectConnect, URL: u, Text: "Outlook's Direct Connect to Office 365 (tried first by Microsoft 365 Apps, KB 3211279)"}
	case candPrefix:
		return &Cause{Kind: CausePrefix, URL: u, Setting: exchange.SettingAutodiscoverDNS,
			Text: "the client's Autodiscover candidate list: https://" + host + "/autodiscover/ (tried after the email domain itself)"}
	case candRootGuess:
		return &Cause{Kind: CauseRootDomain, URL: u, Setting: exchange.SettingRootDomain, Hedged: true,
			Text: "most likely the client's Autodiscover candidate list: the email domain itself, https://" + host + "/autodiscover/ (tried before autodiscover.<domain>)"}
	case candSCPAgain:
		return &Cause{Kind: CauseSCP, URL: u, Setting: exchange.SettingSCP, Hedged: true,
			Text: "most likely the Active Directory service connection point (SCP) again: Outlook re-runs Autodiscover about hourly (KB 3211279) and asks " + host + ", which is neither the email domain nor autodiscover.<domain>; the SCP URL comes from AutodiscoverServiceInternalUri"}
	case candSCP:
		return &Cause{Kind: CauseSCP, URL: u, Setting: exchange.SettingSCP, Hedged: true,
			Text: "most likely the Active Directory service connection point (SCP): a first Autodiscover request on " + host + ", which is neither the email domain nor autodiscover.<domain>; the SCP URL comes from AutodiscoverServiceInternalUri"}
	}
	if quiet {
		return nil
	}
	return &Cause{Kind: CauseUnknown, Hedged: true, URL: u, Text: "no earlier observation names " + host}
}

// domainIndex maps each of Domains to its first index.
func (t *OriginTrace) domainIndex() map[string]int {
	t.sortDomains()
	if t.domainAt == nil || t.domainN != len(t.Domains) {
		t.domainAt, t.domainN = make(map[string]int, len(t.Domains)), len(t.Domains)
		for i, d := range t.Domains {
			if _, dup := t.domainAt[d]; !dup {
				t.domainAt[d] = i
			}
		}
	}
	return t.domainAt
}

// isRegistrable reports whether h is a registrable domain (contoso.com,
// contoso.co.uk): what an email domain looks like.
func isRegistrable(h string) bool {
	if net.ParseIP(h) != nil {
		return false
	}
	e, err := publicsuffix.EffectiveTLDPlusOne(h)
	if err != nil {
		return false
	}
	_, icann := publicsuffix.PublicSuffix(h)
	return e == h && icann
}

// Chain returns the origin chain of observation index (1-based): what sent
// the client there, then what sent it to that, nearest first. It stops at
// 10 arrows (MS-OXDISCO allows at most 10 redirects) and at a loop.
func (t *OriginTrace) Chain(index int) []Cause {
	return t.chain(index, t.Causes[index])
}

// Arrows renders a chain as text lines: the request, then "<- cause" lines.
func Arrows(request string, chain []Cause) []string {
	out := []string{request}
	for _, c := range chain {
		s := "<- " + c.Text
		if c.From > 0 {
			s += fmt.Sprintf(" (#%d)", c.From)
		}
		out = append(out, s)
	}
	return out
}

// responsible picks the cause whose setting is the one to change: the
// nearest cause that names a catalog setting.
func responsible(chain []Cause) *Cause {
	for i := range chain {
		if chain[i].Setting != "" {
			return &chain[i]
		}
	}
	return nil
}

// MailProtocol names the mail protocol of a TLS connection: the
// plain-text protocol whose STARTTLS began it ("smtp", "imap", "pop3",
// "ftp"), or the protocol of its server port when TLS began at once (993
// IMAPS, 995 POP3S, 465 SMTPS); "" for anything else.
func MailProtocol(o *record.Observation) string {
	if o.StartTLS != "" {
		return o.StartTLS
	}
	if o.Kind != record.KindTLS || o.Source != record.SourcePcap {
		return ""
	}
	switch _, port, _ := net.SplitHostPort(o.Server); port {
	case "993":
		return "imap"
	case "995":
		return "pop3"
	case "465":
		return "smtp"
	}
	return ""
}
