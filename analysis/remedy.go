package analysis

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"unsafe"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
)

// Remedy is one thing to change, filled in with the names seen.
type Remedy struct {
	Setting  string `json:"setting,omitempty"` // catalog key (see Settings); "" for a finding's own remedy
	Title    string `json:"title"`
	Version  string `json:"exchange_version,omitempty"` // the release Command is for
	Assumed  bool   `json:"version_assumed,omitempty"`  // the trace did not reveal the release
	Command  string `json:"command"`
	Note     string `json:"note,omitempty"`
	Citation string `json:"citation,omitempty"`
	// Other lists the command for releases where it differs.
	Other []VersionCommand `json:"other_versions,omitempty"`
}

// VersionCommand is a command for a range of Exchange releases.
type VersionCommand struct {
	Versions string `json:"versions"` // "2007-2013"
	Command  string `json:"command"`
}

// explainCulprit fills c's origin, remedies, suggested name and verdict.
func (r *Report) explainCulprit(c *Culprit) {
	it := c.First
	c.Origin = it.Origin
	if c.Origin == nil && r.Origins != nil {
		c.Origin = r.Origins.Chain(it.Index)
	}
	version, assumed := exchange.DefaultVersion, true
	server := ""
	var domains []string
	var domainAt map[string]int
	if r.Origins != nil {
		if r.Origins.Version != "" {
			version, assumed = r.Origins.Version, false
		}
		domains, domainAt = r.Origins.Domains, r.Origins.domainIndex()
	}
	name := exchange.NormHost(it.Name)
	server = r.serverFor(name, exchange.ScopeNone)
	domain := pickDomain(name, domains, domainAt)
	if exchange.IsMicrosoft365Host(name) {
		// Microsoft's servers and certificate: no on-premises command fixes
		// a warning there.
		r.explainOnline(c, cause0(c.Origin))
		return
	}
	nameIssue, principal := false, false
	for _, f := range c.Findings {
		switch {
		case f.ID == exchange.PrincipalCheckID:
			principal = true
		case strings.HasPrefix(f.ID, "name."):
			nameIssue = true
		}
	}
	mail := MailProtocol(it.Obs)
	if it.Obs.URL == "" && !probed(it.Obs) && mail == "" {
		c.Origin = r.mergeSameHost(c)
	}
	cause := responsible(c.Origin)
	if nameIssue && !it.Obs.NoSNI && mail != "" {
		// A mail account's server name is typed into the client (or comes
		// from Autodiscover's IMAP/POP/SMTP settings): either the client
		// uses a name the certificate covers, or the service presents a
		// certificate that covers the name the client uses.
		c.NewName = r.suggestName(c, "", "")
		label, where := protocolClient(mail)
		cmd := fmt.Sprintf("in %s, change the %s server from %s to a name the certificate covers", where, label, name)
		if c.NewName != "" {
			cmd = fmt.Sprintf("in %s, change the %s server from %s to %s (a name the certificate covers)", where, label, name, c.NewName)
		}
		if cause != nil && cause.Kind == CauseAutodiscoverField && cause.Field != nil && exchange.MailProtocolOf(cause.Field.Setting) == mail {
			// The name came from Autodiscover's mail block: changed only in
			// the client, it comes back at the next Autodiscover run.
			to := firstNonEmpty(c.NewName, "a name the certificate covers")
			c.Remedies = append(c.Remedies, Remedy{Title: "Change the server name Autodiscover hands out",
				Command:  fmt.Sprintf("in the configuration of the service that answered Autodiscover (#%d), change the %s block's Server from %s to %s; clients take it at their next Autodiscover run", cause.From, cause.Field.Block, name, to),
				Citation: `[MS-OXDSCLI] Protocol element (Type IMAP, POP3, SMTP: Server, Port)`})
		}
		c.Remedies = append(c.Remedies, Remedy{Title: "Point the " + clientKind(mail) + " at a name the certificate covers", Command: cmd})
		if s := exchange.LookupSetting(exchange.MailSetting(mail)); s != nil {
			c.Remedies = append(c.Remedies, settingRemedy(s, version, assumed, exchange.FixParams{Version: version, Server: server, OldURL: name, Domain: domain}))
		}
		nameIssue = false // the URL remedies below do not apply
	}
	if nameIssue && it.Obs.NoSNI && server == "" && len(it.Chain) > 0 {
		// The default binding's certificate often still names the server
		// (exch01.contoso.local, EXCH01): the one to put the right
		// certificate on.
		for _, n := range append([]string{it.Chain[0].SubjectCN}, it.Chain[0].DNSNames...) {
			if !publicName(n) && exchange.ServerFromHost(n) != "" {
				server = exchange.ServerFromHost(n)
				break
			}
		}
	}
	if nameIssue && it.Obs.NoSNI {
		// RFC 6066 §3: without server_name the server can only answer with
		// its default binding's certificate, whatever name the client wanted.
		c.Remedies = append(c.Remedies, Remedy{Title: "the certificate on the server's default (non-SNI) binding", Version: version, Assumed: assumed,
			Command: fmt.Sprintf("Enable-ExchangeCertificate -Server %s -Thumbprint <thumbprint of the certificate that covers %s> -Services IIS", firstNonEmpty(server, "<SERVER>"), name),
			Note:    "the client sent no SNI, so it got the certificate of IIS's default binding: put the right certificate there"})
	}
	if nameIssue && !it.Obs.NoSNI { // without SNI the URL was not the problem
		alts := []*Cause{cause}
		if cause != nil && len(cause.Either) > 0 {
			alts = nil
			for i := range cause.Either {
				alts = append(alts, &cause.Either[i])
			}
		}
		if cause == nil && probed(it.Obs) {
			if pc := probeSettingCause(it.Obs.URL, name); pc != nil {
				alts = []*Cause{pc}
			}
		}
		// One host, one server: named from the host when any setting
		// behind it is an internal URL.
		for _, a := range alts {
			if a != nil && (a.Kind == CauseSCP || (a.Field != nil && a.Field.Scope == exchange.ScopeInternal)) {
				server = r.serverFor(name, exchange.ScopeInternal)
			}
		}
		p := exchange.FixParams{Version: version, Server: server, OldURL: firstNonEmpty(it.Obs.URL, name), Domain: domain, Address: r.addressOf(it)}
		dns, dnsScope := false, exchange.Scope("")
		for i, a := range alts {
			setting, scope := "", exchange.Scope("")
			if a != nil {
				setting = a.Setting
				if a.Field != nil {
					scope = a.Field.Scope
				}
				if a.Kind == CauseSCP {
					scope = exchange.ScopeInternal
				}
				if setting == exchange.SettingActiveSync && scope == exchange.ScopeNone {
					scope = exchange.ScopeExternal // phones use the external URL unless the answer says otherwise
				}
			}
			s := exchange.LookupSetting(setting)
			if s == nil && probed(it.Obs) {
				// No client was sent here: the user named the target.
				cmd := fmt.Sprintf("Give clients a name the certificate covers wherever %s is configured (Exchange URLs, DNS, client settings), or get a certificate that also lists %s as a subjectAltName.", name, name)
				if n := r.suggestName(c, "", ""); n != "" {
					c.NewName = n
					cmd = fmt.Sprintf("Give clients a name the certificate covers, such as %s, wherever %s is configured (Exchange URLs, DNS, client settings), or get a certificate that also lists %s as a subjectAltName.", n, name, name)
				}
				c.Remedies = append(c.Remedies, Remedy{Title: "Use a name the certificate covers", Command: cmd})
				continue
			}
			if s == nil {
				c.Remedies = append(c.Remedies, Remedy{Title: "Point the client at a name the certificate covers", Command: fixNameOrURL})
				continue
			}
			newName := r.suggestName(c, setting, scope)
			if c.NewName == "" {
				c.NewName = newName
			}
			q := p
			q.Scope, q.NewHost = scope, newName
			if a.URL != "" && a.Kind != CauseSameHost {
				q.OldURL = a.URL
			}
			rm := settingRemedy(s, version, assumed, q)
			switch a.Kind {
			case CauseCheckTarget:
				rm.Note = strings.TrimPrefix(rm.Note+"; "+a.Text, "; ")
			case CauseURLPath:
				rm.Note = strings.TrimPrefix(rm.Note+"; "+fmt.Sprintf("inferred from the path: no Autodiscover answer in the trace names this URL, and %s is the %s URL only if the name is the one clients use %s the network", string(scope), exchange.ShortName(setting), map[exchange.Scope]string{exchange.ScopeInternal: "inside", exchange.ScopeExternal: "outside"}[scope]), "; ")
			}
			c.Remedies = append(c.Remedies, rm)
			if i == 0 {
				dnsScope = scope
			}
			dns = dns || (exchange.IsExchangeURLSetting(setting) && newName != "" && newName != name && !r.reached(newName))
		}
		if dns {
			q := p
			q.NewHost, q.Scope = c.NewName, dnsScope
			c.Remedies = append(c.Remedies, settingRemedy(exchange.LookupSetting(exchange.SettingHostRecord), version, assumed, q))
		}
	}
	if principal {
		for _, f := range c.Findings {
			if f.ID == exchange.PrincipalCheckID {
				s := exchange.LookupSetting(exchange.SettingOutlookProvider)
				c.Remedies = append(c.Remedies, Remedy{Setting: s.ID, Title: s.Title, Command: f.Remedy, Citation: s.Citation})
				break
			}
		}
	}
	for _, f := range c.Findings {
		if f.ID == exchange.PrincipalCheckID || strings.HasPrefix(f.ID, "name.") {
			continue
		}
		c.Remedies = append(c.Remedies, Remedy{Title: f.ID, Command: f.Remedy, Citation: f.Citation})
	}
	c.Verdict = r.verdictWords(c, cause)
}

// probed reports whether certsleuth check made the observation itself.
func probed(o *record.Observation) bool { return o.Source == record.SourceProbe }

// probeSettingCause guesses, from the path of a URL given to certsleuth
// check, which Exchange setting hands clients that URL, or nil. The scope
// is internal for a name no public CA can issue, else external.
func probeSettingCause(u, name string) *Cause {
	set := pathSetting(u)
	if set == "" {
		return nil
	}
	scope := pathScope(name)
	return &Cause{Kind: CauseCheckTarget, URL: u, Setting: set, Hedged: true,
		Field: &exchange.ADField{Scope: scope, Value: u, Setting: set},
		Text:  fmt.Sprintf("certsleuth check cannot see whether Exchange hands clients %s; if it does, this is the setting to change", shownURL(u))}
}

// serverFor names the Exchange server whose virtual directories serve
// host, for -Identity: the X-FEServer (else X-BEServer) of a response from
// host, else of any response; else, when host is an internal URL's (scope
// internal, or a name no public CA issues), its first label: setup leaves
// every virtual directory's InternalUrl, and the SCP URL, on the server's
// own FQDN (as real Get-OabVirtualDirectory output shows: Server
// GR-PXCHANGE2, InternalUrl https://gr-pxchange2.mybiz.com/OAB,
// pastebin.com/zrrCGK4W); else a 2007/2010
// answer's ServerDN. "" when nothing names it: the command then says
// <SERVER>. An external name is a service name, never taken for a server.
func (r *Report) serverFor(host string, scope exchange.Scope) string {
	t := r.Origins
	if t == nil {
		t = &OriginTrace{}
	}
	if s := firstNonEmpty(t.serverAt[host], t.headerServer); s != "" {
		return s
	}
	if scope == exchange.ScopeInternal || !publicName(host) {
		if s := exchange.ServerFromHost(host); s != "" {
			return s
		}
	}
	return t.Server
}

// cause0 is the first cause of an origin chain, or nil.
func cause0(chain []Cause) *Cause {
	if len(chain) == 0 {
		return nil
	}
	return &chain[0]
}

// mergeSameHost gives a culprit whose connections carried no URL the
// settings that name its host across all its connections (the first may
// be the SCP request, later ones EWS or OAB): any of them may have sent
// the client there. It returns c.Origin unchanged when only one does.
func (r *Report) mergeSameHost(c *Culprit) []Cause {
	host := exchange.NormHost(c.First.Name)
	alts := c.sameAlts
	if len(alts) < 2 {
		return c.Origin
	}
	lead := ""
	if len(c.First.Origin) > 0 && c.First.Origin[0].Kind == CauseSCP {
		lead = fmt.Sprintf("most likely the Active Directory service connection point (SCP) for the first connection (#%d)", c.First.Index)
	}
	return []Cause{*sameHostCauseLead(host, c.First.Obs.Source, c.urlless, alts, lead)}
}

func settingRemedy(s *exchange.Setting, version string, assumed bool, p exchange.FixParams) Remedy {
	if succ := exchange.LookupSetting(s.Successor()); succ != nil && !s.AppliesTo(version) && succ.AppliesTo(version) {
		// UM on Exchange 2013 and later: its URL is the EWS virtual
		// directory's, and Set-UMVirtualDirectory no longer exists.
		rm := settingRemedy(succ, version, assumed, p)
		rm.Note = strings.TrimPrefix(fmt.Sprintf("%s is not in Exchange %s: there the %s is part of the %s, so change that", s.Title, version, s.Title, succ.Title)+"; "+rm.Note, "; ")
		rm.Note = strings.TrimSuffix(rm.Note, "; ")
		return rm
	}
	rm := Remedy{Setting: s.ID, Title: s.Title, Citation: s.Citation}
	v := version
	if !s.AppliesTo(v) {
		// Pick the newest release that has it (UM on 2019: use 2016).
		for i := len(exchange.Versions) - 1; i >= 0; i-- {
			if s.AppliesTo(exchange.Versions[i]) {
				v = exchange.Versions[i]
				break
			}
		}
		rm.Note = fmt.Sprintf("%s is not in Exchange %s; the command is for Exchange %s", s.Title, version, v)
	}
	if s.Versions != nil {
		rm.Version, rm.Assumed = v, assumed
	}
	rm.Command, _ = s.Command(v, p)
	if n := s.Note(v); n != "" {
		rm.Note = strings.TrimPrefix(rm.Note+"; "+n, "; ")
	}
	if s.Versions == nil {
		return rm
	}
	// Other releases whose command differs, grouped into ranges.
	var cur *VersionCommand
	last := ""
	for _, x := range s.Versions {
		cmd, err := s.Command(x, p)
		if err != nil || cmd == rm.Command {
			cur = nil
			continue
		}
		if cur != nil && cur.Command == cmd {
			cur.Versions = strings.SplitN(cur.Versions, "-", 2)[0] + "-" + x
		} else {
			rm.Other = append(rm.Other, VersionCommand{Versions: x, Command: cmd})
			cur = &rm.Other[len(rm.Other)-1]
		}
		last = x
	}
	_ = last
	return rm
}

// pickDomain returns the email domain a fix for name is about: the
// nearest of domains (at indexes them) that is name or a parent domain of
// it (autodiscover.fabrikam.com gives fabrikam.com, the domain the client
// used), never another domain the trace happens to know. A name in no known
// domain gives itself, without an autodiscover. label; "" gives "".
func pickDomain(name string, domains []string, at map[string]int) string {
	for s := name; s != ""; {
		if i, ok := at[s]; ok {
			return domains[i]
		}
		_, rest, ok := strings.Cut(s, ".")
		if !ok {
			break
		}
		s = rest
	}
	if rest, ok := strings.CutPrefix(name, "autodiscover."); ok && strings.Contains(rest, ".") {
		return rest
	}
	return name
}

// certCovers reports whether a certificate name covers host: literally, or
// by a one-label "*." wildcard.
func certCovers(certName, host string) bool {
	c, h := strings.ToLower(certName), exchange.NormHost(host)
	if c == h {
		return true
	}
	return strings.HasPrefix(c, "*.") && exchange.WildcardCovers(c, h)
}

// suggestName picks the name clients should use instead: one the
// certificate the server presented does cover.
func (r *Report) suggestName(c *Culprit, setting string, scope exchange.Scope) string {
	if len(c.First.Chain) == 0 {
		return ""
	}
	leaf := c.First.Chain[0]
	names := leaf.DNSNames
	if len(names) == 0 && leaf.SubjectCN != "" {
		names = []string{leaf.SubjectCN}
	}
	covered := func(h string) bool {
		for _, n := range names {
			if certCovers(n, h) {
				return true
			}
		}
		return false
	}
	asked := exchange.NormHost(c.First.Name)
	usable := func(h string) bool {
		return h != "" && h != asked && covered(h) && !strings.HasPrefix(h, "autodiscover.")
	}
	// 1. The same setting's other URL (EXPR EwsUrl when EXCH EwsUrl is wrong).
	if r.Origins != nil && setting != "" {
		idx := make([]int, 0, len(r.Origins.Answers))
		for i := range r.Origins.Answers {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		for _, i := range idx {
			for _, f := range r.Origins.Answers[i].Fields {
				if f.Setting == setting && usable(f.Host()) {
					return f.Host()
				}
			}
		}
		// Any Exchange URL on a covered name.
		for _, i := range idx {
			for _, f := range r.Origins.Answers[i].Fields {
				if usable(f.Host()) {
					return f.Host()
				}
			}
		}
	}
	// 2. A name clients reached without a warning.
	for _, h := range r.reachedHosts() {
		if usable(h) {
			return h
		}
	}
	// 3. A plain SAN, then a wildcard made concrete.
	for _, n := range names {
		if !strings.Contains(n, "*") && usable(strings.ToLower(n)) {
			return strings.ToLower(n)
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "*.") {
			return "mail." + strings.ToLower(strings.TrimPrefix(n, "*."))
		}
	}
	for _, n := range names {
		if !strings.Contains(n, "*") && strings.ToLower(n) != asked {
			return strings.ToLower(n)
		}
	}
	return ""
}

// addressOf returns the server address the culprit request went to, or one
// a DNS answer gave for its name. A loopback address (a proxy or lab on the
// same machine) is no address for a DNS record: it gives "".
func (r *Report) addressOf(it *Item) string {
	if h := record.HostOnly(it.Obs.Server); net.ParseIP(h) != nil {
		if net.ParseIP(h).IsLoopback() {
			return ""
		}
		return h
	}
	return r.hostFacts().dnsAddr[exchange.NormHost(it.Name)]
}

// usableAddress is the first A or AAAA value of a DNS answer that is not
// a loopback address, or "".
func usableAddress(d *record.DNS) string {
	for _, a := range d.Answers {
		if ip := net.ParseIP(a.Value); (a.Type == "A" || a.Type == "AAAA") && (ip == nil || !ip.IsLoopback()) {
			return a.Value
		}
	}
	return ""
}

// becauseWords says why the client went there, for the verdict sentence.
func becauseWords(c *Cause) string {
	if c == nil {
		return "nothing earlier in the trace names it (it was configured or cached that way)"
	}
	switch c.Kind {
	case CauseAutodiscoverField:
		what := exchange.ShortName(c.Setting)
		if what == "" {
			what = c.Field.Element
		}
		scope := ""
		if c.Field.Scope != exchange.ScopeNone {
			scope = string(c.Field.Scope) + " "
		}
		if len(c.Either) == 2 && c.Either[0].Field != nil && c.Either[1].Field != nil {
			a, b := c.Either[0], c.Either[1]
			return fmt.Sprintf("Autodiscover's internal and external %s both say so (%s %s and %s %s, #%d)", what, a.Field.Block, a.Field.Element, b.Field.Block, b.Field.Element, c.From)
		}
		if c.Field.Form == exchange.FormMobileSync {
			return fmt.Sprintf("the ActiveSync Autodiscover answer's Url says so (#%d)", c.From)
		}
		return fmt.Sprintf("Autodiscover's %s%s says so (%s %s, #%d)", scope, what, c.Field.Block, c.Field.Element, c.From)
	case CauseSCP:
		return "the Active Directory service connection point (AutodiscoverServiceInternalUri) most likely points there"
	case CauseRootDomain:
		return "Autodiscover tries the bare email domain first, and that name is the web site"
	case CausePrefix:
		return "Autodiscover tries autodiscover.<domain>"
	case CauseHTTPRedirect:
		return fmt.Sprintf("an HTTP redirect sent it there (#%d)", c.From)
	case CauseHTTPProbe:
		return "Autodiscover's plain-HTTP redirect probe asked there"
	case CauseSRV:
		return fmt.Sprintf("the DNS SRV record points there (#%d)", c.From)
	case CauseAutodiscoverRedirect:
		return fmt.Sprintf("another Autodiscover server redirected it there (#%d)", c.From)
	case CauseDirectConnect:
		return "Outlook tries Office 365 directly"
	case CauseCheckTarget:
		return "you asked certsleuth check to connect there"
	case CauseURLPath:
		return fmt.Sprintf("its path is the %s's, though no Autodiscover answer in the trace names it (the client had it from an earlier answer or its cache)", vdirWords(c.Setting))
	case CauseRedirectAddr:
		if exchange.IsMicrosoft365Domain(c.URL) || strings.Contains(c.Text, "hybrid") {
			return fmt.Sprintf("a hybrid Autodiscover answer redirected the mailbox to Exchange Online by address (#%d), and the client ran Autodiscover again for that address's domain", c.From)
		}
		return fmt.Sprintf("an Autodiscover answer redirected the mailbox to another address (#%d), and the client ran Autodiscover again for that address's domain", c.From)
	case CauseSameHost:
		var ws []string
		for _, a := range c.Either {
			w := exchange.ShortName(a.Setting)
			switch {
			case a.Kind == CauseSCP:
				w = "the Active Directory SCP (AutodiscoverServiceInternalUri)"
			case w == "":
				w = a.Setting
			case a.Field != nil && a.Field.Scope != exchange.ScopeNone:
				w = string(a.Field.Scope) + " " + w
			}
			ws = append(ws, w)
		}
		return fmt.Sprintf("%s all name it (the trace shows only TLS connections, not which one each followed)", andList(ws))
	}
	return "nothing earlier in the trace names it (it was configured or cached that way)"
}

// clientClauses keeps a verdict from lending one client's reason to
// another: when the culprit's first finding applies to only some of the
// clients that warn, first names those clients, and more adds a clause
// ("; each of OpenSSL, curl and Python warns too: ...") for each later
// finding that covers clients not yet named. Both are empty when the first
// finding applies to every client that warns.
func (r *Report) clientClauses(c *Culprit) (first, more string) {
	if len(c.Findings) == 0 {
		return "", ""
	}
	has := func(f *Finding, p string) bool { return f.Profile == AllProfiles || hasProfile(f.Profile, p) }
	of := func(f Finding, covered map[string]bool) []string {
		var ps []string
		for _, p := range c.Profiles {
			if !covered[p] && has(&f, p) {
				ps = append(ps, p)
			}
		}
		return ps
	}
	// Most causes' first finding holds for every client that warns: no
	// clause then, and no list made to find it out.
	n := 0
	for _, p := range c.Profiles {
		if has(&c.Findings[0], p) {
			n++
		}
	}
	if n == 0 || n == len(c.Profiles) {
		return "", ""
	}
	covered := map[string]bool{}
	lead := of(c.Findings[0], covered)
	for _, p := range lead {
		covered[p] = true
	}
	var b strings.Builder
	for _, f := range c.Findings[1:] {
		ps := of(f, covered)
		if len(ps) == 0 {
			continue
		}
		for _, p := range ps {
			covered[p] = true
		}
		fmt.Fprintf(&b, "; %s warns too: %s", lowerFirst(clientWordsOf(ps, r.Profiles)), StripProfileTitle(f.Summary))
	}
	return clientWordsOf(lead, r.Profiles), b.String()
}

// verdictWords is the one-paragraph plain-language verdict for a culprit.
// It is written straight into one buffer sized for it (a big capture has
// a verdict for each of thousands of causes: the builder's growth, the
// certificate's names joined apart and fmt's copies were most of what
// explaining a cause allocated), or, for a culprit explained into a
// readSlot (ExplainAhead), into the slot's memory, which the culprits
// explained after it reuse (12 MB of hs.pcap's 9,656 verdicts).
func (r *Report) verdictWords(c *Culprit, cause *Cause) string {
	it := c.First
	who := whoWarns(c, r.Profiles)
	name := it.Name
	if name == "" {
		name = serverWords(it)
	}
	// covers says what the certificate covers (writeCovers).
	var leaf *certs.Summary
	coversLen := 64
	if len(it.Chain) > 0 {
		leaf = &it.Chain[0]
		for _, n := range leaf.DNSNames {
			coversLen += len(n) + 2
		}
		for _, n := range leaf.IPAddresses {
			coversLen += len(n) + 2
		}
	}
	var b textBuf
	size := len(who) + 2*len(name) + coversLen + 256
	if len(c.Findings) > 0 {
		size += len(c.Findings[0].Summary)
	}
	for _, rm := range c.Remedies {
		size += len(rm.Command)
	}
	if c.slot != nil {
		b.b = c.slot.text[:0]
	}
	b.grow(size)
	nameIssue := false
	for _, f := range c.Findings {
		if strings.HasPrefix(f.ID, "name.") {
			nameIssue = true
		}
	}
	probe := probed(it.Obs)
	if probe {
		who = strings.Replace(who, "Outlook (and every other client)", "Every client", 1)
	}
	switch {
	case probe && nameIssue:
		writeStrings(&b, who, " would warn on ", name, ": the server's certificate ")
		writeCovers(&b, leaf)
	case probe:
		first, more := r.clientClauses(c)
		writeStrings(&b, firstNonEmpty(first, who), " would warn on ", name, ": ", StripProfileTitle(c.Findings[0].Summary), more)
	case nameIssue && (cause == nil || cause.Kind == CauseUnknown):
		writeStrings(&b, who, " warns on ", name, ", which nothing earlier in the trace names (it was typed in, cached, or asked for before the recording started); the server's certificate ")
		writeCovers(&b, leaf)
	case nameIssue:
		writeStrings(&b, who, " asked for ", name, " because ", becauseWords(cause), "; the server's certificate ")
		writeCovers(&b, leaf)
	case hasID(c.Findings, exchange.PrincipalCheckID):
		writeStrings(&b, who, " refuses the Outlook Anywhere connection to ", name, ": ", principalSummary(c.Findings))
	default:
		first, more := r.clientClauses(c)
		writeStrings(&b, firstNonEmpty(first, who), " warns on ", name, ": ", StripProfileTitle(c.Findings[0].Summary), more)
	}
	switch {
	case cause != nil && cause.Kind == CauseAutodiscoverField && len(cause.Either) > 1 && countExchangeURLRemedies(c.Remedies) > 1:
		b.WriteString("; change both URLs: ")
		writeURLCommands(&b, c.Remedies)
	case cause != nil && cause.Kind == CauseSameHost && countExchangeURLRemedies(c.Remedies) > 1:
		b.WriteString("; change every one of those URLs: ")
		writeURLCommands(&b, c.Remedies)
	case probe && len(c.Remedies) > 0 && exchange.IsExchangeURLSetting(c.Remedies[0].Setting):
		writeStrings(&b, "; if Exchange hands clients this URL, change it with ", strings.TrimSuffix(c.Remedies[0].Command, "."))
	case len(c.Remedies) > 0:
		rm := c.Remedies[0]
		verb := "fix it"
		switch {
		case rm.Setting == exchange.SettingOutlookProvider:
			verb = "change the principal with"
		case exchange.IsExchangeURLSetting(rm.Setting):
			verb = "change the URL with"
		case rm.Setting != "":
			verb = "fix it:"
		}
		if verb == "fix it" {
			writeStrings(&b, "; fix: ", strings.TrimSuffix(rm.Command, "."))
		} else {
			writeStrings(&b, "; ", verb, " ", strings.TrimSuffix(rm.Command, "."))
		}
	}
	if nameIssue && it.Name != "" && !publicName(name) {
		what := "the URL"
		if mail := MailProtocol(it.Obs); mail != "" {
			label, _ := protocolClient(mail)
			what = "the " + label + " server name the client uses"
			if clientKind(mail) == "mail client" {
				what = "the account's " + label + " server name"
			}
		}
		writeStrings(&b, ". ", name, " is an internal name no public CA can put on a certificate, so change ", what, ", not the certificate")
	}
	b.WriteString(".")
	if c.slot != nil {
		c.slot.text = b.b // reused once the culprit is gone
	}
	return b.String()
}

// textBuf is a strings.Builder over a buffer the caller may give (its
// String shares the bytes: nothing is to write to them afterwards but
// through a new textBuf, once the string is gone).
type textBuf struct{ b []byte }

// grow makes room for n more bytes.
func (t *textBuf) grow(n int) {
	if cap(t.b)-len(t.b) < n {
		t.b = append(make([]byte, 0, 2*cap(t.b)+n), t.b...)
	}
}

// WriteString appends s.
func (t *textBuf) WriteString(s string) { t.b = append(t.b, s...) }

// String is the text written (sharing t's bytes).
func (t *textBuf) String() string { return unsafe.String(unsafe.SliceData(t.b), len(t.b)) }

// writeStrings writes ss to b in turn.
func writeStrings(b *textBuf, ss ...string) {
	for _, s := range ss {
		b.WriteString(s)
	}
}

// writeCovers writes what the leaf certificate covers (nil: none seen),
// its names as andList joins them.
func writeCovers(b *textBuf, leaf *certs.Summary) {
	if leaf == nil {
		b.WriteString("presented no certificate certsleuth could see")
		return
	}
	n := len(leaf.DNSNames) + len(leaf.IPAddresses)
	if n == 0 {
		if leaf.SubjectCN != "" {
			writeStrings(b, "has no subjectAltName, only the CN ", leaf.SubjectCN)
			return
		}
		b.WriteString("has no subjectAltName and no CN: it carries no names at all")
		return
	}
	b.WriteString("only covers ")
	i := 0
	for _, names := range [2][]string{leaf.DNSNames, leaf.IPAddresses} {
		for _, s := range names {
			switch {
			case i == 0:
			case i == n-1:
				b.WriteString(" and ")
			default:
				b.WriteString(", ")
			}
			b.WriteString(s)
			i++
		}
	}
}

// writeURLCommands writes the commands of the Exchange URL remedies of
// rs, each without its final period, joined by "; ".
func writeURLCommands(b *textBuf, rs []Remedy) {
	n := 0
	for _, rm := range rs {
		if exchange.IsExchangeURLSetting(rm.Setting) {
			if n > 0 {
				b.WriteString("; ")
			}
			b.WriteString(strings.TrimSuffix(rm.Command, "."))
			n++
		}
	}
}

func countExchangeURLRemedies(rs []Remedy) int {
	n := 0
	for _, rm := range rs {
		if exchange.IsExchangeURLSetting(rm.Setting) {
			n++
		}
	}
	return n
}

func hasID(fs []Finding, id string) bool {
	for _, f := range fs {
		if f.ID == id {
			return true
		}
	}
	return false
}

func principalSummary(fs []Finding) string {
	for _, f := range fs {
		if f.ID == exchange.PrincipalCheckID {
			s := f.Summary
			if i := strings.Index(s, ": "); i >= 0 {
				s = s[i+2:]
			}
			return s
		}
	}
	return ""
}

// reached reports whether a client reached host in this trace (so its DNS
// record exists and needs no remedy).
func (r *Report) reached(host string) bool {
	return r.hostFacts().conn[host]
}

// reachedHosts lists, in order of first appearance, the names clients
// reached without a warning.
func (r *Report) reachedHosts() []string {
	return r.hostFacts().ok
}

// protocolClient names a MailProtocol value as it is written (MySQL, LDAP)
// and where its client keeps the server name: a mail account's settings
// for mail protocols; a database, directory or debugging client's own
// connection settings for the binary protocols that turn to TLS
// (capture/upgrade.go: mysql, ldap, adb; postgres).
func protocolClient(proto string) (label, where string) {
	switch proto {
	case "mysql":
		return "MySQL", "the database client's connection settings"
	case "postgres", "postgresql":
		return "PostgreSQL", "the database client's connection settings"
	case "ldap":
		return "LDAP", "the directory client's settings"
	case "adb":
		return "ADB", "the ADB client's settings (adb connect)"
	case "ftp":
		return "FTP", "the FTP client's settings"
	case "xmpp", "irc":
		return strings.ToUpper(proto), "the chat account's settings"
	}
	return strings.ToUpper(proto), "the mail account's settings"
}

// clientKind says what kind of client speaks proto, for remedy titles.
func clientKind(proto string) string {
	switch proto {
	case "mysql", "postgres", "postgresql":
		return "database client"
	case "ldap":
		return "directory client"
	case "adb":
		return "ADB client"
	case "ftp":
		return "FTP client"
	case "xmpp", "irc":
		return "chat client"
	}
	return "mail client"
}
