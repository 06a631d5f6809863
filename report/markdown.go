package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
)

// mdEscaper backslash-escapes the characters that would turn trace text
// (URLs, names, Autodiscover values) into Markdown or HTML markup.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;",
	"|", `\|`, "#", `\#`, "!", `\!`, "&", "&amp;", "\n", " ", "\r", " ",
)

func mdEsc(s string) string { return mdEscaper.Replace(s) }

// mdLineBreaks turns line breaks into spaces (a code span is one line).
var mdLineBreaks = strings.NewReplacer("\n", " ", "\r", " ")

// mdCode is s as an inline code span, fenced with more backticks than it holds.
func mdCode(s string) string {
	s = mdLineBreaks.Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// mdBlock is s as a fenced code block.
func mdBlock(lang, s string) string {
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fence + lang + "\n" + s + "\n" + fence + "\n"
}

// renderMarkdown writes the report as Markdown (GitHub flavour): the
// headline, then the causes, the biggest first, each once with its
// verdict, counts, examples, origin and fix; the certificate plan, the
// certificates; and, with o.All, the timeline as a table.
func renderMarkdown(w io.Writer, r *analysis.Report, o RenderOptions) error {
	v := viewOf(r, o, textFull, textListed)
	b := buffered(w)
	title := "certsleuth report"
	if v.Title != "" {
		title += ": " + mdEsc(v.Title)
	}
	fmt.Fprintf(b, "# %s\n\n", title)
	fmt.Fprintf(b, "%s", mdEsc(v.Headline))
	if v.Version != "" {
		fmt.Fprintf(b, " · Exchange %s", mdEsc(v.Version))
	}
	fmt.Fprintf(b, " · client profiles: %s\n\n", mdEsc(v.Profiles))
	if v.WhatIf != "" {
		fmt.Fprintf(b, "**%s**\n\n", mdEsc(v.WhatIf))
	}
	if v.Clean {
		fmt.Fprintf(b, "## Verdict\n\n**No request in this trace would make a client warn about the certificate.** %s\n\n", mdEsc(v.Summary))
	} else {
		fmt.Fprintf(b, "Looked at %s.\n\n", mdEsc(v.LookedAt))
	}
	if len(v.ByRule) > 0 {
		fmt.Fprintf(b, "## Causes by rule\n\n%d causes; the biggest %d in full below, then %d a line each.\n\n| rules | causes | requests | the biggest |\n|---|---:|---:|---:|\n", v.Total, len(v.Causes), len(v.More))
		for _, g := range v.ByRule {
			biggest := ""
			if g.Biggest > 0 {
				biggest = fmt.Sprintf("[%d](#cause-%d)", g.Biggest, g.Biggest)
			}
			fmt.Fprintf(b, "| %s | %d | %d | %s |\n", mdEsc(g.Rules), g.Causes, g.Requests, biggest)
		}
		b.WriteString("\n")
	}
	if len(v.Causes) > 0 {
		b.WriteString("## Causes, the biggest first\n\n")
	}
	for _, c := range v.Causes {
		fmt.Fprintf(b, "### <a id=\"%s\"></a>%d. %s\n\n", c.Anchor, c.N, mdEsc(c.Title))
		fmt.Fprintf(b, "%s\n\n", mdEsc(c.Verdict))
		fmt.Fprintf(b, "- **requests:** %s\n", mdEsc(c.Counts))
		var exs []string
		for _, ex := range c.Examples {
			exs = append(exs, mdRef(ex, true))
		}
		fmt.Fprintf(b, "- **examples:** %s\n", strings.Join(exs, "; "))
		fmt.Fprintf(b, "- **asked for:** %s\n", mdEsc(c.Asked))
		fmt.Fprintf(b, "- **certificate:** %s\n", mdEsc(c.Cert))
		fmt.Fprintf(b, "- **warns:** %s\n", mdEsc(c.Warns))
		for _, ru := range c.Rules {
			fmt.Fprintf(b, "- **rule:** %s: %s", mdCode(ru.ID), mdEsc(ru.Summary))
			if ru.Citation != "" {
				fmt.Fprintf(b, " (%s)", mdEsc(ru.Citation))
			}
			b.WriteString("\n")
		}
		if len(c.Origin) > 0 {
			b.WriteString("- **origin:**\n")
			fmt.Fprintf(b, "  - %s\n", mdCode(c.Request))
			for _, ov := range c.Origin {
				fmt.Fprintf(b, "  - ← %s\n", mdOrigin([]originView{ov}))
			}
		}
		b.WriteString("\n")
		for i, rm := range c.Remedies {
			label := "Fix"
			if i > 0 {
				label = fmt.Sprintf("Fix %d", i+1)
			}
			fmt.Fprintf(b, "**%s: %s**", label, mdEsc(rm.Title))
			if rm.Version != "" {
				fmt.Fprintf(b, " (%s)", mdEsc(rm.Version))
			}
			b.WriteString("\n\n")
			b.WriteString(mdBlock(cmdLang(rm.Command), rm.Command))
			for _, oc := range rm.Other {
				fmt.Fprintf(b, "\nExchange %s:\n\n", mdEsc(oc.Versions))
				b.WriteString(mdBlock(cmdLang(oc.Command), oc.Command))
			}
			if rm.Note != "" {
				fmt.Fprintf(b, "\nNote: %s\n", mdEsc(rm.Note))
			}
			b.WriteString("\n")
		}
	}
	if len(v.More) > 0 {
		b.WriteString("## More causes, a line each\n\n| # | cause | requests | clients | fix |\n|---:|---|---:|---:|---|\n")
		for _, l := range v.More {
			fix := ""
			if l.Fix != "" {
				fix = strings.ReplaceAll(mdCode(l.Fix), "|", `\|`)
			}
			fmt.Fprintf(b, "| %d | %s | %d | %d | %s |\n", l.N, mdEsc(l.Title), l.Requests, l.Clients, fix)
		}
		b.WriteString("\n")
	}
	if v.Rest > 0 {
		fmt.Fprintf(b, "%s (%s) not listed: `--all` lists every cause and every request, and `--format json` every cause.\n\n",
			analysis.Plural(v.Rest, "more cause"), analysis.Plural(v.RestRequests, "request"))
	}
	if len(v.Notes) > 0 {
		b.WriteString("## Notes on requests no client warns about\n\n")
		for _, n := range v.Notes {
			fmt.Fprintf(b, "- %s: %s\n", mdCode(n.ID), mdEsc(n.Words))
		}
		b.WriteString("\n")
	}
	if len(v.Plans) > 0 {
		b.WriteString("## Which certificate each server needs\n\n")
		for _, p := range v.Plans {
			fmt.Fprintf(b, "- **%s** presents %s\n", mdEsc(p.Server), mdEsc(p.Cert))
			for _, n := range p.Names {
				fmt.Fprintf(b, "  - asked for %s\n", mdEsc(n))
			}
			fmt.Fprintf(b, "  - **plan:** %s\n", mdEsc(p.Words))
		}
		b.WriteString("\n")
	}
	if v.All {
		b.WriteString("## Timeline\n\n| # | time | verdict | request | origin |\n|---:|---|---|---|---|\n")
		for row := range v.Timeline {
			verdict := mdEsc(row.Result)
			if row.Result == "WARN" {
				verdict = "**WARN**"
			}
			origin := ""
			if row.Origin != nil {
				origin = "← " + mdOrigin([]originView{*row.Origin})
			}
			// GFM splits table cells at every |, even in code spans, unless escaped.
			req := strings.ReplaceAll(mdCode(row.Desc), "|", `\|`)
			for _, f := range row.Findings {
				req += "<br>" + mdCode(f.ID) + ": " + mdEsc(f.Summary)
			}
			fmt.Fprintf(b, "| <a id=\"%s\"></a>%d | %s | %s | %s | %s |\n", row.Anchor, row.Index, row.Clock, verdict, req, origin)
		}
		b.WriteString("\n")
	}
	b.WriteString("## Certificates\n\n")
	if len(v.Certs) == 0 {
		b.WriteString("No certificate was seen.\n")
	}
	for _, c := range v.Certs {
		var used []string
		for _, u := range c.UsedBy {
			used = append(used, mdRef(u, false))
		}
		fmt.Fprintf(b, "- <a id=\"%s\"></a>**%s** (CN %s), issuer %s, valid %s, %s, SHA-256 %s, presented to %s\n",
			c.Anchor, mdEsc(c.Names), mdEsc(c.CN), mdEsc(c.Issuer), mdEsc(c.Valid), mdEsc(c.Key), mdCode(c.SHA256), strings.Join(used, ", "))
	}
	if len(v.Problems) > 0 {
		b.WriteString("\n## Problems with the input\n\n")
		for _, p := range v.Problems {
			fmt.Fprintf(b, "- %s\n", mdEsc(p))
		}
	}
	if !v.All {
		fmt.Fprintf(b, "\nThe observations one by one: `--all`, or `--format json`.\n")
	}
	return b.Flush()
}

// mdRef is a reference as Markdown: a link when it has an anchor, the
// text (as code when code) otherwise.
func mdRef(r refView, code bool) string {
	t := mdEsc(r.Text)
	if code {
		t = mdCode(r.Text)
	}
	if r.Anchor == "" {
		return t
	}
	return fmt.Sprintf("[%s](#%s)", t, r.Anchor)
}

func mdOrigin(chain []originView) string {
	var parts []string
	for _, ov := range chain {
		s := mdEsc(ov.Text)
		if ov.Hedged {
			s = "_" + s + "_"
		}
		switch {
		case ov.Anchor != "":
			s += fmt.Sprintf(" ([#%d](#%s))", ov.From, ov.Anchor)
		case ov.From > 0:
			s += fmt.Sprintf(" (#%d)", ov.From)
		}
		if len(ov.Refs) > 0 {
			var refs []string
			for _, r := range ov.Refs {
				refs = append(refs, mdRef(r, false))
			}
			s += " (see " + strings.Join(refs, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ← ")
}

// cmdLang labels a fenced block: Exchange Management Shell commands are
// PowerShell; DNS records and other instructions are plain text.
func cmdLang(cmd string) string {
	for _, p := range []string{"Set-", "Enable-", "Get-"} {
		if strings.HasPrefix(cmd, p) {
			return "powershell"
		}
	}
	return "text"
}
