package report

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
)

// headline is the report's first line (without the title): how many
// requests would make a client warn and for which clients, how many
// causes, and what could not be judged. all says the per-request list
// follows (RenderOptions.All).
func headline(r *analysis.Report, t analysis.Totals, causes int, all bool) string {
	below := "(--all lists them)"
	if all {
		below = "(see below)"
	}
	unseen := ""
	if nj := t.NotJudged; nj.Total() > 0 {
		unseen = fmt.Sprintf("; %s could not be judged: %s %s", analysis.Plural(nj.Total(), "connection"), unjudgedWords(nj), below)
		switch {
		case nj.Refused == 1 && nj.Total() == 1:
			unseen += ", but the client ended it with an alert: it most likely refused the certificate"
		case nj.Refused > 0:
			unseen += fmt.Sprintf(", but on %d of them the client sent an alert: it most likely refused the certificate", nj.Refused)
		}
	}
	if r.Skipped > 0 {
		// Damaged input is never a clean bill (the reasons are listed
		// under "problems with the input").
		among := ""
		if r.SkippedObservations > 0 {
			among = fmt.Sprintf(" (%s among them)", analysis.Plural(r.SkippedObservations, "observation"))
		}
		unseen += fmt.Sprintf("; %s skipped%s: the input is damaged (see below)", analysis.Plural(r.Skipped, "input line"), among)
	}
	if r.UndecodedTLS > 0 {
		// Frames the capture reader could not take apart that hold a
		// TLS handshake: connections not read at all (issue 14).
		unseen += fmt.Sprintf("; %s holding a TLS handshake could not be decoded (see below)", analysis.Plural(int(r.UndecodedTLS), "frame"))
	}
	if causes == 0 {
		return fmt.Sprintf("no request would make a client warn (%s, profiles %s)%s", analysis.Plural(t.Observations, "observation"), profileList(r.Profiles), unseen)
	}
	what := "1 cause"
	if causes > 1 {
		what = fmt.Sprintf("%d causes, the biggest first", causes)
	}
	return fmt.Sprintf("%d of %d requests would make a client warn (%s)%s; %s", t.Warning, t.Requests, warnsWords(t), unseen, what)
}

// totals are r.Totals, or, for a report put together by hand without
// them, the counts of its items.
func totals(r *analysis.Report) analysis.Totals {
	if r.Totals.PerProfile == nil && len(r.Items) > 0 {
		return analysis.TotalsOf(r)
	}
	return r.Totals
}

// remedyVersionWords says which Exchange release a command is for.
func remedyVersionWords(rm analysis.Remedy) string {
	if rm.Version == "" {
		return ""
	}
	if rm.Assumed {
		return fmt.Sprintf("Exchange %s assumed: the trace does not say which release", rm.Version)
	}
	return fmt.Sprintf("Exchange %s, from the Autodiscover answer", rm.Version)
}

func renderText(w io.Writer, r *analysis.Report, o RenderOptions) error {
	t := &textOut{w: w, o: o, width: o.Width}
	if t.width == 0 {
		t.width = 80
	}
	tot := totals(r)
	causes := rankCauses(r.Causes())
	title := ""
	if o.Title != "" {
		title = o.Title + ": "
	}
	if len(r.WhatIf) > 0 {
		t.printf("what if the server presented: %s\n\n", chainWords(r.WhatIf))
	}
	code := ansiGreen
	if len(causes) > 0 {
		code = ansiBold + ansiRed
	}
	for _, l := range Wrap(title+headline(r, tot, len(causes), o.All), t.width) {
		t.printf("%s\n", t.color(code, l))
	}
	if len(causes) > 0 {
		t.printf("\n")
		t.field("", "looked at", lookedAtWords(tot, profileList(r.Profiles)))
	}
	inFull, inLine := shown(causes, textFull, textListed, o.All)
	if !o.All {
		inFull = explained(r, inFull) // at most textFull; with All, each as it is printed
	}
	if len(inFull) < len(causes) {
		t.printf("\n%s\n", t.color(ansiBold, fmt.Sprintf("causes by rule (%d causes; the biggest %d in full below, then %d a line each):", len(causes), len(inFull), len(inLine))))
		for _, g := range byRule(causes) {
			line := fmt.Sprintf("%s in %s: %s", analysis.Plural(g.Requests, "request"), analysis.Plural(g.Causes, "cause"), g.Rules)
			if g.Biggest <= len(inFull)+len(inLine) {
				line += fmt.Sprintf(" (the biggest: cause %d)", g.Biggest)
			}
			for j, l := range Wrap(line, t.width-6) {
				if j == 0 {
					t.printf("   %s\n", l)
				} else {
					t.printf("      %s\n", l)
				}
			}
		}
	}
	for i, c := range inFull {
		if o.All {
			c = r.Explain(c)
		}
		t.cause(i+1, c)
	}
	if len(inLine) > 0 {
		t.printf("\n%s\n", t.color(ansiBold, "more causes, a line each:"))
		for i, c := range inLine {
			c = r.Explain(c)
			pad := fmt.Sprintf("%4d. ", len(inFull)+i+1)
			for j, l := range Wrap(fmt.Sprintf("%s (%s)", causeTitle(c), analysis.Plural(c.Requests, "request")), t.width-len(pad)) {
				if j > 0 {
					pad = strings.Repeat(" ", len(pad))
				}
				t.printf("%s%s\n", pad, l)
			}
		}
	}
	if rest := len(causes) - len(inFull) - len(inLine); rest > 0 {
		n := 0
		for _, c := range causes[len(inFull)+len(inLine):] {
			n += c.Requests
		}
		t.printf("\n")
		for _, l := range Wrap(fmt.Sprintf("%s (%s) not listed: --all lists every cause and every request, and --format json every cause.", analysis.Plural(rest, "more cause"), analysis.Plural(n, "request")), t.width) {
			t.printf("%s\n", l)
		}
	}
	if ns := notes(tot); len(ns) > 0 {
		t.printf("\n%s\n", t.color(ansiBold, "notes on requests no client warns about:"))
		for _, n := range ns {
			t.field("   ", n.ID, noteWords(n))
		}
	}
	if plans := plansOf(r, inFull, o.All); len(plans) > 0 {
		t.printf("\n%s\n", t.color(ansiBold, "which certificate each server needs:"))
		for _, p := range plans {
			t.field("   ", "server", fmt.Sprintf("%s (presents %s)", p.Server, chainWords([]certs.Summary{*p.Leaf})))
			t.field("   ", "asked for", strings.Join(planNames(p, o.All), "; "))
			t.field("   ", "plan", p.Words())
		}
	}
	if len(r.Problems) > 0 {
		t.printf("\nproblems with the input:\n")
		for _, p := range r.Problems {
			t.bullet("  - ", p)
		}
	}
	if !o.All {
		t.printf("\n")
		for _, l := range Wrap(fmt.Sprintf("The %s one by one: --all, or --format json.", analysis.Plural(tot.Observations, "observation")), t.width) {
			t.printf("%s\n", t.color(ansiDim, l))
		}
		return t.err
	}
	t.printf("\n%s\n", t.color(ansiBold, "all observations:"))
	said := map[string]int{} // origin line -> first item that printed it
	for it := range r.EachItem() {
		res, code := itemResult(it)
		clock := "-"
		if !it.Obs.Time.IsZero() {
			clock = it.Obs.Time.UTC().Format("15:04:05")
		}
		prefix := fmt.Sprintf("%4d %s %-4s ", it.Index, clock, res)
		lines := Wrap(analysis.Describe(it.Obs), t.width-len(prefix))
		t.printf("%s%s\n", strings.Replace(prefix, res, t.color(code, res), 1), lines[0])
		ind := strings.Repeat(" ", len(prefix))
		for _, l := range lines[1:] {
			t.printf("%s%s\n", ind, l)
		}
		// An unknown origin is said in the culprit's details; repeated on
		// every row of the list it would only be noise.
		if len(it.Origin) > 0 && it.Obs.Kind != record.KindDNS && it.Origin[0].Kind != analysis.CauseUnknown {
			c := it.Origin[0]
			s := "<- " + c.Text
			if c.From > 0 {
				s += fmt.Sprintf(" (#%d)", c.From)
			}
			// A long origin said once: later items with the same one
			// point back to it.
			if k, ok := said[s]; ok && len(s) > t.width-len(prefix) {
				s = fmt.Sprintf("<- the same as #%d", k)
			} else if !ok {
				said[s] = it.Index
			}
			for _, l := range Wrap(s, t.width-len(prefix)) {
				t.printf("%s%s\n", ind, t.color(ansiDim, l))
			}
		}
		if !it.Warns("") {
			for _, f := range analysis.MergeFindings(it.Findings, analysis.SeverityInfo) {
				t.field(ind, f.ID, analysis.StripProfileTitle(f.Summary))
			}
		}
	}
	return t.err
}

// itemResult is the one-word verdict of an item and its ANSI colour.
func itemResult(it *analysis.Item) (string, string) {
	res, code := "ok", ansiGreen
	switch it.Worst() {
	case analysis.SeverityError:
		res, code = "WARN", ansiRed
	case analysis.SeverityWarning:
		res, code = "note", ansiYellow
	case analysis.SeverityInfo:
		res, code = "info", ansiDim
	}
	if it.Obs.Kind == record.KindDNS {
		res, code = "", ansiDim
	} else if len(it.Verdicts) == 0 && it.Worst() == "" {
		res = "-"
	}
	return res, code
}

// requestWords names a request for the first line of an origin chain.
func requestWords(o *record.Observation) string {
	if o.Source == record.SourceProbe {
		s := "certsleuth check connected to " + cmp.Or(record.HostOnly(o.Server), o.Server)
		if n, _ := o.AskedName(); n != "" {
			s = "certsleuth check connected to " + n
		}
		if o.NoSNI {
			s += " without SNI"
		}
		return s
	}
	if o.URL != "" {
		return strings.TrimSpace("requested " + o.URL)
	}
	if n, _ := o.AskedName(); n != "" {
		return "connected to " + n
	}
	return analysis.Describe(o)
}

// verbatim prints "label  value" without wrapping value (commands must
// stay on one line to be pasted).
func (t *textOut) verbatim(indent, label, value string) {
	t.printf("%s%-12s%s\n", indent, label, value)
}

// cmdlet matches a line that starts with a PowerShell cmdlet (Verb-Noun),
// optionally after "Exchange 2007-2013: ".
var cmdlet = regexp.MustCompile(`^(Exchange [0-9SE-]+: )?[A-Z][a-z]+-[A-Z][A-Za-z]+( |$)`)

// IsCommand reports whether a remedy's text is a command to paste as one
// line (a PowerShell cmdlet), rather than prose that may wrap.
func IsCommand(s string) bool { return cmdlet.MatchString(s) }

// unbreakable are spans of prose remedies that must stay on one line: a
// DNS record, a registry value.
var unbreakable = regexp.MustCompile(`\S+\. (A|AAAA|CNAME) \S+|HKCU\\\S+ \S+=\S+( \(DWORD\))?`)

// mayBeUnbreakable reports whether s holds text unbreakable can match
// (each of its forms needs one of these), so that most remedies skip the
// regular expression.
func mayBeUnbreakable(s string) bool {
	return strings.Contains(s, ". A ") || strings.Contains(s, ". AAAA ") || strings.Contains(s, ". CNAME ") || strings.Contains(s, "HKCU\\")
}

// command prints a remedy: a command on one line to be pasted, prose
// wrapped like any field (keeping DNS records and registry values whole).
func (t *textOut) command(indent, label, value string) {
	if IsCommand(value) {
		t.verbatim(indent, label, value)
		return
	}
	const nbsp = "\x00"
	kept := value
	if mayBeUnbreakable(value) {
		kept = unbreakable.ReplaceAllStringFunc(value, func(m string) string { return strings.ReplaceAll(m, " ", nbsp) })
	}
	pad := indent + fmt.Sprintf("%-12s", label)
	if len(label) >= 12 { // a long check ID: keep a gap before the text
		pad = indent + label + "  "
	}
	for i, l := range Wrap(kept, t.width-len(pad)) {
		l = strings.ReplaceAll(l, nbsp, " ")
		if i == 0 {
			t.printf("%s%s\n", pad, l)
		} else {
			t.printf("%s%s\n", strings.Repeat(" ", len(pad)), l)
		}
	}
}

// fieldHL is field with the value's leading hl coloured: the layout is
// computed on the plain text, so colour never changes where lines break.
func (t *textOut) fieldHL(indent, label, hl, rest, code string) {
	pad := indent + fmt.Sprintf("%-12s", label)
	lines := Wrap(hl+rest, t.width-len(pad))
	for i, l := range lines {
		if i == 0 {
			if strings.HasPrefix(l, hl) {
				l = t.color(code, hl) + l[len(hl):]
			}
			t.printf("%s%s\n", pad, l)
		} else {
			t.printf("%s%s\n", strings.Repeat(" ", len(pad)), l)
		}
	}
}

// unjudgedWords says why connections were not judged, with how many for
// each reason when there are several.
func unjudgedWords(u analysis.Unjudged) string {
	var parts []string
	add := func(n int, w string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s (%d)", w, n))
		}
	}
	add(u.Unseen, "the certificate was not seen")
	add(u.Unreadable, "the certificate could not be read")
	add(u.Unknown, "what a client does with a malformed certificate is not known")
	if len(parts) == 1 {
		return parts[0][:strings.LastIndex(parts[0], " (")]
	}
	return strings.Join(parts, ", ")
}

// cause prints cause n in full: what it is, its verdict, how many requests
// it hit with a few examples, the certificate against the name asked for,
// the checks that failed, where the client was sent from, and the fixes.
func (t *textOut) cause(n int, c *analysis.Culprit) {
	it := c.First
	t.printf("\n")
	for j, l := range Wrap(fmt.Sprintf("%d. %s", n, causeTitle(c)), t.width) {
		if j > 0 {
			l = "   " + l
		}
		t.printf("%s\n", t.color(ansiBold, l))
	}
	t.field("   ", "verdict", c.Verdict)
	t.field("   ", "requests", countWords(c))
	for j, ex := range c.Examples {
		label := ""
		if j == 0 {
			label = "examples"
		}
		t.field("   ", label, exampleWords(c, ex))
	}
	t.field("   ", "asked for", analysis.AskedWords(it))
	t.field("   ", "certificate", chainWords(it.Chain))
	t.field("   ", "warns", strings.Join(c.Profiles, ", "))
	for _, f := range c.Findings {
		t.fieldHL("   ", "rule", f.ID, ": "+analysis.StripProfileTitle(f.Summary), ansiRed)
	}
	for _, f := range it.Findings {
		if f.ID == "conn.client-alert" { // the client's own verdict confirms it
			t.field("   ", "client", f.Summary)
		}
	}
	if len(c.Origin) > 0 {
		for j, l := range analysis.Arrows(requestWords(it.Obs), c.Origin) {
			label := ""
			if j == 0 {
				label = "origin"
			}
			t.field("   ", label, l)
		}
	}
	for j, rm := range c.Remedies {
		label := "fix"
		if j > 0 {
			label = fmt.Sprintf("fix %d", j+1)
		}
		t.command("   ", label, rm.Command)
		if v := remedyVersionWords(rm); v != "" {
			t.field("   ", "", "("+v+")")
		}
		for _, oc := range rm.Other {
			t.command("   ", "", "Exchange "+oc.Versions+": "+oc.Command)
		}
		if rm.Note != "" {
			t.field("   ", "", "note: "+rm.Note)
		}
	}
}
