package report

import (
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
)

// reportView is a Report laid out for the document renderers (HTML and
// Markdown): the same fields the text report prints, in reading order.
// It holds plain strings; each renderer escapes them for its format.
type reportView struct {
	Title    string
	Headline string
	LookedAt string
	Clean    bool   // no request would make a client warn
	Summary  string // for a clean report: what was looked at
	WhatIf   string
	Profiles string
	Version  string // Exchange release the answers revealed, or ""
	// Causes are the causes shown in full, the biggest first; More the
	// next ones, a line each; Rest counts the causes not shown and
	// RestRequests their requests. ByRule sums every cause by the checks
	// it fails (only when some are not in full).
	Causes       []culpritView
	More         []lineView
	Rest         int
	RestRequests int
	ByRule       []ruleGroup
	Total        int  // every cause
	All          bool // RenderOptions.All: the timeline follows
	// Timeline is every observation, with All only; made row by row: a
	// big trace's rows are never all in memory.
	Timeline iter.Seq[timelineRow]
	Certs    []certView
	Plans    []planView
	Notes    []noteView
	Problems []string

	ranked []*analysis.Culprit // every cause, the biggest first
}

type culpritView struct {
	N        int
	Anchor   string // "cause-N"
	Title    string // the name asked for and the checks that failed
	Verdict  string // the one-paragraph plain-language verdict
	Request  string // the first request: "POST https://... -> 200"
	ReqLink  string // "obs-N" when the timeline is there, else ""
	Counts   string // requests, connections, clients, first and last time
	Requests int
	Examples []refView
	Asked    string
	Cert     string
	Warns    string
	Rules    []ruleView
	Origin   []originView // nearest cause first
	Remedies []remedyView
}

// noteView is one check's notes on requests no client warns about.
type noteView struct{ ID, Severity, Words string }

// lineView is a cause shown a line (a table row) each.
type lineView struct {
	N        int
	Title    string
	Requests int
	Clients  int
	Fix      string // the first remedy's command, or ""
}

// refView is a text that links to an anchor of the report ("" for none).
type refView struct{ Text, Anchor string }

type ruleView struct{ ID, Summary, Citation string }

type originView struct {
	Text   string
	From   int    // observation index it came from, or 0
	Anchor string // "obs-N" when From > 0 and the timeline is in the report
	Hedged bool
	Refs   []refView // for a same-host cause: the observations its settings came from
}

type remedyView struct {
	Title    string
	Command  string
	Version  string                    // "Exchange 2016, from the Autodiscover answer"
	Other    []analysis.VersionCommand // the command for releases where it differs
	Note     string
	Citation string
}

type timelineRow struct {
	Index    int
	Anchor   string
	Clock    string
	Result   string // WARN, note, info, ok, "-" or "" (DNS)
	Class    string // r-warn, r-note, r-info, r-ok, r-none
	Desc     string
	Name     string
	Origin   *originView
	Findings []ruleView
	CertID   string // anchor of the certificate it presented, or ""
}

type certView struct {
	Anchor     string
	Names      string
	CN         string
	Issuer     string
	Valid      string
	Key        string
	SHA256     string
	SelfSigned bool
	ChainLen   int
	UsedBy     []refView // the requests (with All) or the causes it was presented to
}

type planView struct {
	Server string
	Cert   string
	Names  []string
	Words  string
}

func certAnchor(sha string) string {
	if len(sha) > 12 {
		sha = sha[:12]
	}
	return "cert-" + sha
}

func viewOf(r *analysis.Report, o RenderOptions, full, listed int) *reportView {
	tot := totals(r)
	causes := rankCauses(r.Causes())
	v := &reportView{Title: o.Title, Headline: headline(r, tot, len(causes), o.All), Clean: len(causes) == 0, Profiles: profileList(r.Profiles),
		Problems: r.Problems, Total: len(causes), All: o.All, LookedAt: lookedAtWords(tot, profileList(r.Profiles)), ranked: causes}
	if r.Origins != nil {
		v.Version = r.Origins.Version
	}
	if len(r.WhatIf) > 0 {
		v.WhatIf = "what if the server presented: " + chainWords(r.WhatIf)
	}
	inFull, inLine := shown(causes, full, listed, o.All)
	obsLink := func(i int) string {
		if o.All {
			return fmt.Sprintf("obs-%d", i)
		}
		return ""
	}
	if !o.All {
		inFull = explained(r, inFull) // at most full; with All, each as it is laid out
	}
	for i, c := range inFull {
		if o.All {
			c = r.Explain(c)
		}
		cv := culpritView{N: i + 1, Anchor: fmt.Sprintf("cause-%d", i+1), Title: causeTitle(c), Verdict: c.Verdict, Request: analysis.Describe(c.First.Obs),
			ReqLink: obsLink(c.First.Index), Counts: countWords(c), Requests: c.Requests, Cert: chainWords(c.First.Chain), Warns: strings.Join(c.Profiles, ", "), Asked: analysis.AskedWords(c.First)}
		for _, ex := range c.Examples {
			cv.Examples = append(cv.Examples, refView{Text: exampleWords(c, ex), Anchor: obsLink(ex.Index)})
		}
		for _, f := range c.Findings {
			cv.Rules = append(cv.Rules, ruleView{ID: f.ID, Summary: analysis.StripProfileTitle(f.Summary), Citation: f.Citation})
		}
		for _, cause := range c.Origin {
			cv.Origin = append(cv.Origin, originOf(cause, o.All))
		}
		for _, rm := range c.Remedies {
			rv := remedyView{Title: rm.Title, Command: rm.Command, Version: remedyVersionWords(rm), Note: rm.Note, Citation: rm.Citation}
			rv.Other = rm.Other
			cv.Remedies = append(cv.Remedies, rv)
		}
		v.Causes = append(v.Causes, cv)
	}
	for i, c := range inLine {
		c = r.Explain(c)
		lv := lineView{N: len(inFull) + i + 1, Title: causeTitle(c), Requests: c.Requests, Clients: clientCount(c)}
		if len(c.Remedies) > 0 {
			lv.Fix = c.Remedies[0].Command
		}
		v.More = append(v.More, lv)
	}
	for _, c := range causes[len(inFull)+len(inLine):] {
		v.Rest++
		v.RestRequests += c.Requests
	}
	if len(inFull) < len(causes) {
		v.ByRule = byRule(causes)
		for i := range v.ByRule {
			if v.ByRule[i].Biggest > len(inFull)+len(inLine) {
				v.ByRule[i].Biggest = 0 // not in the report
			}
		}
	}
	if o.All {
		// Every certificate, with the requests it was presented to; the
		// timeline is made one row at a time while the renderer writes it.
		certIdx := map[string]int{}
		for it := range r.EachItem() {
			if len(it.Chain) > 0 {
				leaf := it.Chain[0]
				i, ok := certIdx[leaf.SHA256]
				if !ok {
					i = len(v.Certs)
					certIdx[leaf.SHA256] = i
					v.Certs = append(v.Certs, certViewOf(it.Chain))
				}
				v.Certs[i].UsedBy = append(v.Certs[i].UsedBy, refView{Text: fmt.Sprintf("#%d", it.Index), Anchor: fmt.Sprintf("obs-%d", it.Index)})
			}
		}
		v.Timeline = func(yield func(timelineRow) bool) {
			for it := range r.EachItem() {
				if !yield(timelineRowOf(it)) {
					return
				}
			}
		}
	} else {
		// The certificates of the causes shown in full, with those causes.
		certIdx := map[string]int{}
		for _, cv := range v.Causes {
			c := inFull[cv.N-1]
			if len(c.First.Chain) == 0 {
				continue
			}
			leaf := c.First.Chain[0]
			i, ok := certIdx[leaf.SHA256]
			if !ok {
				i = len(v.Certs)
				certIdx[leaf.SHA256] = i
				v.Certs = append(v.Certs, certViewOf(c.First.Chain))
			}
			v.Certs[i].UsedBy = append(v.Certs[i].UsedBy, refView{Text: fmt.Sprintf("cause %d", cv.N), Anchor: cv.Anchor})
		}
	}
	for _, n := range notes(tot) {
		v.Notes = append(v.Notes, noteView{ID: n.ID, Severity: string(n.Severity), Words: noteWords(n)})
	}
	if v.Clean {
		v.Summary = fmt.Sprintf("certsleuth looked at %s, and traced where each request came from; every name the clients asked for is on the certificate they were shown.", v.LookedAt)
	}
	for _, p := range plansOf(r, inFull, o.All) {
		pv := planView{Server: p.Server, Words: p.Words()}
		if p.Leaf != nil {
			pv.Cert = chainWords([]certs.Summary{*p.Leaf})
		}
		pv.Names = planNames(p, o.All)
		v.Plans = append(v.Plans, pv)
	}
	return v
}

// timelineRowOf lays out one item for the timeline.
func timelineRowOf(it *analysis.Item) timelineRow {
	res, _ := itemResult(it)
	row := timelineRow{Index: it.Index, Anchor: fmt.Sprintf("obs-%d", it.Index), Clock: "-", Result: res, Desc: analysis.Describe(it.Obs), Name: it.Name}
	if !it.Obs.Time.IsZero() {
		row.Clock = it.Obs.Time.UTC().Format("15:04:05")
	}
	switch res {
	case "WARN":
		row.Class = "r-warn"
	case "note":
		row.Class = "r-note"
	case "info":
		row.Class = "r-info"
	case "ok":
		row.Class = "r-ok"
	default:
		row.Class = "r-none"
	}
	if it.Obs.Kind != record.KindDNS && len(it.Origin) > 0 {
		ov := originOf(it.Origin[0], true)
		row.Origin = &ov
	}
	for _, f := range analysis.MergeFindings(it.Findings, analysis.SeverityInfo) {
		row.Findings = append(row.Findings, ruleView{ID: f.ID, Summary: analysis.StripProfileTitle(f.Summary)})
	}
	if len(it.Chain) > 0 {
		row.CertID = certAnchor(it.Chain[0].SHA256)
	}
	return row
}

func orNone(s string) string {
	if s == "" {
		return "no named server"
	}
	return s
}

// originOf lays out one cause of an origin chain; linked says the
// observations it names are in the report (the timeline) to link to.
func originOf(c analysis.Cause, linked bool) originView {
	ov := originView{Text: c.Text, From: c.From, Hedged: c.Hedged}
	if c.From > 0 && linked {
		ov.Anchor = fmt.Sprintf("obs-%d", c.From)
	}
	seen := map[int]bool{}
	for _, a := range c.Either {
		if a.From > 0 && !seen[a.From] {
			seen[a.From] = true
			ref := refView{Text: fmt.Sprintf("#%d", a.From)}
			if linked {
				ref.Anchor = fmt.Sprintf("obs-%d", a.From)
			}
			ov.Refs = append(ov.Refs, ref)
		}
	}
	return ov
}

func certViewOf(ch []certs.Summary) certView {
	l := ch[0]
	names := append(append([]string(nil), l.DNSNames...), l.IPAddresses...)
	cv := certView{Anchor: certAnchor(l.SHA256), Names: strings.Join(names, ", "), CN: l.SubjectCN, Issuer: l.IssuerCN,
		Valid: l.NotBefore.Format(time.DateOnly) + " to " + l.NotAfter.Format(time.DateOnly), Key: strings.TrimSpace(l.Key + ", " + l.Signature),
		SHA256: l.SHA256, SelfSigned: l.SelfSigned, ChainLen: len(ch)}
	if cv.Names == "" {
		cv.Names = "(no subjectAltName)"
	}
	if l.SelfSigned {
		cv.Issuer = "self-signed"
	}
	return cv
}
