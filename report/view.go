package report

import (
	"fmt"
	"iter"
	"sort"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
)

// reportView is a Report laid out for the document renderers (HTML and
// Markdown): the same fields the text report prints, in reading order.
// It holds plain strings; each renderer escapes them for its format.
type reportView struct {
	Title    string
	Headline string
	Clean    bool   // no request would make a client warn
	Summary  string // for a clean report: what was looked at
	WhatIf   string
	Profiles string
	Version  string // Exchange release the answers revealed, or ""
	Culprits []culpritView
	Timeline iter.Seq[timelineRow] // made row by row: a big trace's rows are never all in memory
	Certs    []certView
	Plans    []planView
	Problems []string
}

type culpritView struct {
	N        int
	Anchor   string // id of the culprit's first timeline row
	Verdict  string // the one-paragraph plain-language verdict
	Request  string // "POST https://... -> 200"
	When     string
	Asked    string
	Cert     string
	Warns    string
	Rules    []ruleView
	Origin   []originView // nearest cause first
	Remedies []remedyView
}

type ruleView struct{ ID, Summary, Citation string }

type originView struct {
	Text   string
	From   int    // observation index it came from, or 0
	Anchor string // "obs-N" when From > 0
	Hedged bool
	Refs   []int // for a same-host cause: the observations its settings came from
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
	LedTo    []int // later observations this one sent the client to
	Culprit  int   // culprit number when this row is a culprit's first, else 0
	Repeat   int   // culprit number when this row repeats a culprit, else 0
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
	UsedBy     []int
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

func viewOf(r *analysis.Report, o RenderOptions) *reportView {
	culprits := r.Culprits()
	v := &reportView{Title: o.Title, Headline: strings.TrimSuffix(strings.SplitN(headline(r, culprits), " (", 2)[0], "; first each time:"), Clean: len(culprits) == 0, Profiles: profileList(r.Profiles), Problems: r.Problems}
	if r.Origins != nil {
		v.Version = r.Origins.Version
	}
	if len(r.WhatIf) > 0 {
		v.WhatIf = "what if the server presented: " + chainWords(r.WhatIf)
	}
	firstOf, repeatOf := map[int]int{}, map[int]int{}
	for i, c := range culprits {
		firstOf[c.First.Index] = i + 1
		for _, rp := range c.Repeats {
			repeatOf[rp.Index] = i + 1
		}
		cv := culpritView{N: i + 1, Anchor: fmt.Sprintf("obs-%d", c.First.Index), Verdict: c.Verdict, Request: analysis.Describe(c.First.Obs),
			When: whenWords(c), Cert: chainWords(c.First.Chain), Warns: strings.Join(c.Profiles, ", ")}
		cv.Asked = analysis.AskedWords(c.First)
		for _, f := range c.Findings {
			cv.Rules = append(cv.Rules, ruleView{ID: f.ID, Summary: analysis.StripProfileTitle(f.Summary), Citation: f.Citation})
		}
		for _, cause := range c.Origin {
			cv.Origin = append(cv.Origin, originOf(cause))
		}
		for _, rm := range c.Remedies {
			rv := remedyView{Title: rm.Title, Command: rm.Command, Version: remedyVersionWords(rm), Note: rm.Note, Citation: rm.Citation}
			rv.Other = rm.Other
			cv.Remedies = append(cv.Remedies, rv)
		}
		v.Culprits = append(v.Culprits, cv)
	}
	ledTo := map[int][]int{}
	for _, it := range r.Items {
		if len(it.Origin) > 0 && it.Origin[0].From > 0 {
			ledTo[it.Origin[0].From] = append(ledTo[it.Origin[0].From], it.Index)
		}
	}
	// The certificates and the count of requests first, so the timeline
	// rows can be made one at a time while the renderer writes them.
	certIdx := map[string]int{}
	requests := 0
	for _, it := range r.Items {
		if it.Obs.Kind != record.KindDNS {
			requests++
		}
		if len(it.Chain) > 0 {
			leaf := it.Chain[0]
			i, ok := certIdx[leaf.SHA256]
			if !ok {
				i = len(v.Certs)
				certIdx[leaf.SHA256] = i
				v.Certs = append(v.Certs, certViewOf(it.Chain))
			}
			v.Certs[i].UsedBy = append(v.Certs[i].UsedBy, it.Index)
		}
	}
	v.Timeline = func(yield func(timelineRow) bool) {
		for _, it := range r.Items {
			if !yield(timelineRowOf(it, ledTo, firstOf, repeatOf)) {
				return
			}
		}
	}
	if v.Clean {
		var names []string
		seen := map[string]bool{}
		for _, it := range r.Items {
			if n := exchange.NormHost(it.Name); n != "" && !seen[n] && it.Obs.Kind != record.KindDNS {
				seen[n] = true
				names = append(names, n)
			}
		}
		sort.Strings(names)
		v.Summary = fmt.Sprintf("certsleuth judged %s to %s against %s for the client profiles %s, and traced where each request came from; every name the clients asked for is on the certificate they were shown.",
			analysis.Plural(requests, "request"), orNone(analysis.AndList(names)), analysis.Plural(len(v.Certs), "certificate"), v.Profiles)
	} else {
		for _, p := range r.CertPlan() {
			pv := planView{Server: p.Server, Words: p.Words()}
			if p.Leaf != nil {
				pv.Cert = chainWords([]certs.Summary{*p.Leaf})
			}
			for _, n := range p.Names {
				pv.Names = append(pv.Names, n.Words())
			}
			v.Plans = append(v.Plans, pv)
		}
	}
	return v
}

// timelineRowOf lays out one item for the timeline.
func timelineRowOf(it *analysis.Item, ledTo map[int][]int, firstOf, repeatOf map[int]int) timelineRow {
	res, _ := itemResult(it)
	row := timelineRow{Index: it.Index, Anchor: fmt.Sprintf("obs-%d", it.Index), Clock: "-", Result: res, Desc: analysis.Describe(it.Obs), Name: it.Name,
		LedTo: ledTo[it.Index], Culprit: firstOf[it.Index], Repeat: repeatOf[it.Index]}
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
		ov := originOf(it.Origin[0])
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

func originOf(c analysis.Cause) originView {
	ov := originView{Text: c.Text, From: c.From, Hedged: c.Hedged}
	if c.From > 0 {
		ov.Anchor = fmt.Sprintf("obs-%d", c.From)
	}
	seen := map[int]bool{}
	for _, a := range c.Either {
		if a.From > 0 && !seen[a.From] {
			seen[a.From] = true
			ov.Refs = append(ov.Refs, a.From)
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
