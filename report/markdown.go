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
// verdict first, then why each request warns with its fix, the timeline
// as a table, the certificate plan and the certificates.
func renderMarkdown(w io.Writer, r *analysis.Report, o RenderOptions) error {
	v := viewOf(r, o)
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
	b.WriteString("## Verdict\n\n")
	if v.Clean {
		fmt.Fprintf(b, "**No request in this trace would make a client warn about the certificate.** %s\n\n", mdEsc(v.Summary))
	}
	for _, c := range v.Culprits {
		fmt.Fprintf(b, "%d. %s\n", c.N, mdEsc(c.Verdict))
		fmt.Fprintf(b, "   - **Culprit request:** %s, %s ([timeline](#%s))\n", mdCode(c.Request), mdEsc(c.When), c.Anchor)
		if len(c.Origin) > 0 {
			fmt.Fprintf(b, "   - **Origin:** %s\n", mdOrigin(c.Origin))
		}
		if len(c.Remedies) > 0 {
			var cmds []string
			for _, rm := range c.Remedies {
				cmds = append(cmds, mdCode(rm.Command))
			}
			fmt.Fprintf(b, "   - **Fix:** %s\n", strings.Join(cmds, "; "))
		}
	}
	if len(v.Culprits) > 0 {
		b.WriteString("\n## Why each request warns, and the fix\n\n")
	}
	for _, c := range v.Culprits {
		fmt.Fprintf(b, "### %d. %s\n\n", c.N, mdCode(c.Request))
		fmt.Fprintf(b, "- **when:** %s\n", mdEsc(c.When))
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
	b.WriteString("## Timeline\n\n| # | time | verdict | request | origin |\n|---:|---|---|---|---|\n")
	for row := range v.Timeline {
		verdict := mdEsc(row.Result)
		if row.Result == "WARN" {
			verdict = "**WARN**"
		}
		if row.Culprit > 0 {
			verdict += fmt.Sprintf(" (culprit %d)", row.Culprit)
		}
		if row.Repeat > 0 {
			verdict += fmt.Sprintf(" (again %d)", row.Repeat)
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
	b.WriteString("\n## Certificates\n\n")
	if len(v.Certs) == 0 {
		b.WriteString("No certificate was seen.\n")
	}
	for _, c := range v.Certs {
		fmt.Fprintf(b, "- <a id=\"%s\"></a>**%s** (CN %s), issuer %s, valid %s, %s, SHA-256 %s, presented to %s\n",
			c.Anchor, mdEsc(c.Names), mdEsc(c.CN), mdEsc(c.Issuer), mdEsc(c.Valid), mdEsc(c.Key), mdCode(c.SHA256), mdRefs(c.UsedBy))
	}
	if len(v.Problems) > 0 {
		b.WriteString("\n## Problems with the input\n\n")
		for _, p := range v.Problems {
			fmt.Fprintf(b, "- %s\n", mdEsc(p))
		}
	}
	return b.Flush()
}

func mdOrigin(chain []originView) string {
	var parts []string
	for _, ov := range chain {
		s := mdEsc(ov.Text)
		if ov.Hedged {
			s = "_" + s + "_"
		}
		if ov.From > 0 {
			s += fmt.Sprintf(" ([#%d](#%s))", ov.From, ov.Anchor)
		}
		if len(ov.Refs) > 0 {
			s += " (see " + mdRefs(ov.Refs) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ← ")
}

func mdRefs(ns []int) string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprintf("[#%d](#obs-%d)", n, n))
	}
	return strings.Join(out, ", ")
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
