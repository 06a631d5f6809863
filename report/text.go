package report

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
)

// headline is the report's first line (without the title).
func headline(r *analysis.Report, culprits []*analysis.Culprit) string {
	n, warn := 0, 0
	for _, it := range r.Items {
		if it.Obs.Kind != record.KindDNS {
			n++
		}
		if it.Warns("") {
			warn++
		}
	}
	unseen := ""
	if nj := r.NotJudged(); nj.Total() > 0 {
		unseen = fmt.Sprintf("; %s could not be judged: %s (see below)", analysis.Plural(nj.Total(), "connection"), unjudgedWords(nj))
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
	if len(culprits) == 0 {
		return fmt.Sprintf("no request would make a client warn (%d observations, profiles %s)%s", n, profileList(r.Profiles), unseen)
	}
	if unseen != "" {
		return fmt.Sprintf("%d of %d requests would make a client warn%s; first each time:", warn, n, unseen)
	}
	return fmt.Sprintf("%d of %d requests would make a client warn; first each time:", warn, n)
}

// whenWords says when a culprit happened and how often it came back.
func whenWords(c *analysis.Culprit) string {
	it := c.First
	when := fmtTime(it.Obs.Time) + fmt.Sprintf(" (#%d", it.Index)
	// certsleuth check's second look without SNI is not the warning
	// coming back: say what it is.
	var repeats []*analysis.Item
	sameConn := 0
	for _, rp := range c.Repeats {
		if rp.Obs.Source == record.SourceProbe && rp.Obs.NoSNI && len(rp.Origin) > 0 && rp.Origin[0].Kind == analysis.CauseCheckTarget && rp.Origin[0].From > 0 {
			when += fmt.Sprintf("; the same without SNI, #%d", rp.Index)
			continue
		}
		if rp.Obs.Conn != "" && rp.Obs.Conn == it.Obs.Conn && rp.Obs.Source == it.Obs.Source {
			sameConn++ // the connection warned once, at its first request
			continue
		}
		repeats = append(repeats, rp)
	}
	if sameConn > 0 {
		when += fmt.Sprintf("; %s on the same connection", analysis.Plural(sameConn, "more request"))
	}
	c = &analysis.Culprit{First: c.First, Repeats: repeats}
	if len(c.Repeats) > 0 {
		last := c.Repeats[len(c.Repeats)-1]
		times := "times"
		if len(c.Repeats) == 1 {
			times = "time"
		}
		when += fmt.Sprintf("; again %d %s, last %s #%d", len(c.Repeats), times, fmtTime(last.Obs.Time), last.Index)
		if ok, _ := exchange.IsAutodiscoverURL(it.Obs.URL); ok && last.Obs.Time.Sub(it.Obs.Time) >= 30*time.Minute {
			// KB 3211279: Outlook re-runs Autodiscover about hourly.
			return when + "): Outlook re-runs Autodiscover about hourly, so the warning comes back"
		}
	}
	return when + ")"
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
	culprits := r.Culprits()
	title := ""
	if o.Title != "" {
		title = o.Title + ": "
	}
	if len(r.WhatIf) > 0 {
		t.printf("what if the server presented: %s\n\n", chainWords(r.WhatIf))
	}
	head := Wrap(title+headline(r, culprits), t.width)
	code := ansiGreen
	if len(culprits) > 0 {
		code = ansiBold + ansiRed
	}
	for _, l := range head {
		t.printf("%s\n", t.color(code, l))
	}
	if len(culprits) > 0 {
		t.printf("\n%s\n", t.color(ansiBold, "verdict:"))
		for i, c := range culprits {
			pad := fmt.Sprintf("%3d. ", i+1)
			for j, l := range Wrap(c.Verdict, t.width-len(pad)) {
				if j == 0 {
					t.printf("%s%s\n", pad, l)
				} else {
					t.printf("%s%s\n", strings.Repeat(" ", len(pad)), l)
				}
			}
		}
	}
	for i, c := range culprits {
		it := c.First
		t.printf("\n")
		for j, l := range Wrap(fmt.Sprintf("%d. %s", i+1, analysis.Describe(it.Obs)), t.width) {
			if j > 0 {
				l = "   " + l
			}
			t.printf("%s\n", t.color(ansiBold, l))
		}
		t.field("   ", "when", whenWords(c))
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
	if len(culprits) > 0 {
		if plans := r.CertPlan(); len(plans) > 0 {
			t.printf("\n%s\n", t.color(ansiBold, "which certificate each server needs:"))
			for _, p := range plans {
				t.field("   ", "server", fmt.Sprintf("%s (presents %s)", p.Server, chainWords([]certs.Summary{*p.Leaf})))
				var names []string
				for _, n := range p.Names {
					names = append(names, n.Words())
				}
				t.field("   ", "asked for", strings.Join(names, "; "))
				t.field("   ", "plan", p.Words())
			}
		}
	}
	if len(r.Problems) > 0 {
		t.printf("\nproblems with the input:\n")
		for _, p := range r.Problems {
			t.field("  ", "-", p)
		}
	}
	t.printf("\n%s\n", t.color(ansiBold, "all observations:"))
	said := map[string]int{} // origin line -> first item that printed it
	for _, it := range r.Items {
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
