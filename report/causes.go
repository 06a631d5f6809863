package report

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/exchange"

	"github.com/certsleuth/certsleuth/record"
)

// How many causes a report shows, so that its size stays bounded whatever
// the input: the biggest in full, the next ones a line (a table row) each,
// and a count of the rest. RenderOptions.All shows every cause in full.
const (
	textFull   = 10  // text and Markdown: causes in full
	textListed = 40  // then a line each
	htmlFull   = 20  // HTML: causes in full
	htmlListed = 200 // then a table row each (a bigger table slows Chromium down: docs/report.md)
)

// rankCauses orders the causes of a report: the one that hits the most
// requests first, then the one that hits the most clients; causes that
// tie stay in the order they first happened.
func rankCauses(cs []*analysis.Culprit) []*analysis.Culprit {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b *analysis.Culprit) int {
		if c := cmp.Compare(b.Requests, a.Requests); c != 0 {
			return c
		}
		return cmp.Compare(clientCount(b), clientCount(a))
	})
	return out
}

// explained returns the causes cs (compact, from Report.Causes) loaded
// and explained (Report.Explain): only those a report shows are, one at a
// time or a bounded few.
func explained(r *analysis.Report, cs []*analysis.Culprit) []*analysis.Culprit {
	out := make([]*analysis.Culprit, len(cs))
	for i, c := range cs {
		out[i] = r.Explain(c)
	}
	return out
}

// clientCount is how many distinct clients a cause hit.
func clientCount(c *analysis.Culprit) int { return len(c.Clients) + c.MoreClients }

// shown splits the ranked causes into those shown in full and those shown a
// line each; the rest are only counted.
func shown(cs []*analysis.Culprit, full, listed int, all bool) (inFull, inLine []*analysis.Culprit) {
	if all || len(cs) <= full {
		return cs, nil
	}
	inFull, inLine = cs[:full], cs[full:]
	if len(inLine) > listed {
		inLine = inLine[:listed]
	}
	return inFull, inLine
}

// causeTitle names a cause in a few words: what the client asked for (the
// URL without scheme and query, else the name, else the server's address)
// and the checks that failed.
func causeTitle(c *analysis.Culprit) string {
	o := c.First.Obs
	name := c.First.Name
	switch {
	case o.URL != "":
		name = urlWords(o.URL)
	case name == "":
		name = "no name, " + cmp.Or(o.Server, "no address")
	}
	if p := analysis.MailProtocol(o); p != "" && o.URL == "" {
		name += " (" + strings.ToUpper(p) + ")"
	}
	return name + ": " + ruleIDs(c)
}

// urlWords is a URL without its scheme, default port, query and a bare
// "/" path: "exch01.contoso.local/EWS/Exchange.asmx".
func urlWords(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	host := u.Host
	if p := u.Port(); (p == "443" && u.Scheme == "https") || (p == "80" && u.Scheme == "http") {
		host = u.Hostname()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	path := u.EscapedPath()
	if path == "/" {
		path = ""
	}
	if u.Scheme == "http" {
		return "http://" + host + path
	}
	return host + path
}

// ruleIDs lists the IDs of the checks a cause fails, the one whose fix
// removes the warning first.
func ruleIDs(c *analysis.Culprit) string {
	return strings.Join(c.Checks, ", ")
}

// countWords says how many requests, connections and clients a cause hit,
// and when: "2 requests on 2 connections from 1 client (Microsoft Office),
// 2026-06-15 08:00:02Z to 09:00:02Z".
func countWords(c *analysis.Culprit) string {
	s := analysis.Plural(c.Requests, "request")
	if c.Conns > 0 && c.Conns != c.Requests {
		s += " on " + analysis.Plural(c.Conns, "connection") // a connection warns at its first request; the others repeat it
	}
	if n := clientCount(c); n > 0 {
		who := strings.Join(c.Clients, ", ")
		if c.MoreClients > 0 {
			who += fmt.Sprintf(" and %d more", c.MoreClients)
		}
		s += fmt.Sprintf(" from %s (%s)", analysis.Plural(n, "client"), who)
	}
	switch {
	case c.FirstSeen.IsZero():
	case c.Requests == 1 || fmtTime(c.LastSeen) == fmtTime(c.FirstSeen):
		s += ", " + fmtTime(c.FirstSeen)
	default:
		last := fmtTime(c.LastSeen)
		if c.LastSeen.UTC().Format(time.DateOnly) == c.FirstSeen.UTC().Format(time.DateOnly) {
			last = c.LastSeen.UTC().Format("15:04:05Z")
		}
		s += ", " + fmtTime(c.FirstSeen) + " to " + last
		if ok, _ := exchange.IsAutodiscoverURL(c.First.Obs.URL); ok && c.LastSeen.Sub(c.FirstSeen) >= 30*time.Minute {
			// KB 3211279: Outlook re-runs Autodiscover about hourly.
			s += ": Outlook re-runs Autodiscover about hourly, so the warning comes back"
		}
	}
	return s
}

// exampleWords says one example request of a cause: "#3 POST https://...".
// certsleuth check's second look without SNI says what it is.
func exampleWords(c *analysis.Culprit, it *analysis.Item) string {
	if it != c.First && it.Obs.Source == record.SourceProbe && it.Obs.NoSNI && len(it.Origin) > 0 && it.Origin[0].Kind == analysis.CauseCheckTarget {
		return fmt.Sprintf("#%d the same without SNI", it.Index)
	}
	return fmt.Sprintf("#%d %s", it.Index, analysis.Describe(it.Obs))
}

// ruleGroup is the causes that fail the same checks.
type ruleGroup struct {
	Rules    string
	Causes   int
	Requests int
	Biggest  int // number of the biggest of them in the report
}

// byRule sums the ranked causes by the checks they fail, the group with
// the most requests first.
func byRule(cs []*analysis.Culprit) []ruleGroup {
	var out []ruleGroup
	at := map[string]int{}
	for i, c := range cs {
		k := ruleIDs(c)
		j, ok := at[k]
		if !ok {
			j = len(out)
			at[k] = j
			out = append(out, ruleGroup{Rules: k, Biggest: i + 1})
		}
		out[j].Causes++
		out[j].Requests += c.Requests
	}
	slices.SortStableFunc(out, func(a, b ruleGroup) int { return cmp.Compare(b.Requests, a.Requests) })
	if len(out) > maxRuleGroups {
		other := ruleGroup{Rules: fmt.Sprintf("%d other combinations of rules", len(out)-maxRuleGroups+1)}
		for _, g := range out[maxRuleGroups-1:] {
			other.Causes += g.Causes
			other.Requests += g.Requests
		}
		out = append(out[:maxRuleGroups-1], other)
	}
	return out
}

// maxRuleGroups bounds the rows of the causes summed by rule.
const maxRuleGroups = 20

// maxPlanNames bounds the names a plan lists in a report without All (a
// CDN's certificate may be asked for thousands of names).
const maxPlanNames = 20

// planNames says the names clients asked a server for, at most
// maxPlanNames of them unless all, with a count of the rest.
func planNames(p analysis.ServerPlan, all bool) []string {
	var out []string
	for i, n := range p.Names {
		if i == maxPlanNames && !all {
			out = append(out, fmt.Sprintf("and %d more names (--all lists them)", len(p.Names)-i))
			break
		}
		out = append(out, n.Words())
	}
	return out
}

// warnsWords says how many requests would make each chosen client warn,
// clients with the same count together: "openssl: 5; windows, apple: 3",
// or "every client profile" when each warns on every one of them.
func warnsWords(t analysis.Totals) string {
	every := len(t.PerProfile) > 1
	for _, p := range t.PerProfile {
		every = every && p.Warning == t.Warning
	}
	if every {
		return "for every client profile"
	}
	var order []int
	names := map[int][]string{}
	for _, p := range t.PerProfile {
		if p.Warning == 0 {
			continue
		}
		if _, ok := names[p.Warning]; !ok {
			order = append(order, p.Warning)
		}
		names[p.Warning] = append(names[p.Warning], p.Profile)
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(b, a) })
	var parts []string
	for _, n := range order {
		parts = append(parts, fmt.Sprintf("%s: %d", strings.Join(names[n], ", "), n))
	}
	return strings.Join(parts, "; ")
}

// lookedAtWords says what the report looked at, from its totals.
func lookedAtWords(t analysis.Totals, profiles string) string {
	s := fmt.Sprintf("%s: %s", analysis.Plural(t.Observations, "observation"), analysis.Plural(t.Requests, "request"))
	if t.TLS > 0 {
		s += fmt.Sprintf(" (%d over TLS, %d with a certificate judged)", t.TLS, t.Judged)
	}
	if dns := t.Observations - t.Requests; dns > 0 {
		s += ", " + analysis.Plural(dns, "DNS answer")
	}
	return s + "; client profiles " + profiles
}

// plansOf is the certificate plan of the servers whose certificate the
// causes shown in full were presented (every server's with all), in the
// plan's order.
func plansOf(r *analysis.Report, inFull []*analysis.Culprit, all bool) []analysis.ServerPlan {
	if len(inFull) == 0 {
		return nil
	}
	if all {
		return r.CertPlan()
	}
	leafs := map[string]bool{}
	for _, c := range inFull {
		if len(c.First.Chain) > 0 {
			leafs[c.First.Chain[0].SHA256] = true
		}
	}
	var out []analysis.ServerPlan
	for p := range r.EachCertPlan() { // one at a time: a big capture has thousands
		if p.Leaf != nil && leafs[p.Leaf.SHA256] {
			out = append(out, p)
		}
	}
	return out
}

// notes are the notes and information of a report's totals, notes before
// information, then the most frequent first.
func notes(t analysis.Totals) []analysis.NoteTotal {
	out := slices.Clone(t.Notes)
	slices.SortStableFunc(out, func(a, b analysis.NoteTotal) int {
		if a.Severity != b.Severity {
			if a.Severity == analysis.SeverityWarning {
				return -1
			}
			if b.Severity == analysis.SeverityWarning {
				return 1
			}
		}
		return cmp.Compare(b.Count, a.Count)
	})
	return out
}

// noteWords says one note: how many requests carry it and the first one.
func noteWords(n analysis.NoteTotal) string {
	return fmt.Sprintf("%s, first #%d %s: %s", analysis.Plural(n.Count, "request"), n.Index, n.Request, n.Summary)
}
