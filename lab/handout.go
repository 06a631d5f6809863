package lab

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/certsleuth/certsleuth/report"
)

// WriteHTML writes the handout: one self-contained HTML page (no external
// assets, prints well) with the scenario, both acts step by step, and for
// each act certsleuth's report on the proxy's trace as the shared renderer
// (report.Render, format "html") draws it.
func (sh *Show) WriteHTML(w io.Writer) error {
	d := handoutData{Show: sh, Moral: sh.Moral(), Problems: sh.Problems()}
	seen := map[string]bool{}
	for _, a := range sh.Acts {
		var b bytes.Buffer
		title := fmt.Sprintf("act %d, the proxy's trace", a.N)
		if err := report.Render(&b, a.Report, "html", report.RenderOptions{Title: title}); err != nil {
			return fmt.Errorf("demo handout: act %d report: %w", a.N, err)
		}
		style, body := embeddable(b.String(), fmt.Sprintf("act%d-", a.N))
		if !seen[style] { // both acts' reports have the same style sheet
			seen[style] = true
			d.Styles = append(d.Styles, template.CSS(style))
		}
		client := sh.Scenario.Client.App
		pic := report.SequenceSVG(a.Report, report.SequenceOptions{Client: client,
			Title: fmt.Sprintf("Act %d: what sent %s where, and each server's certificate", a.N, client)})
		width := 1
		if m := reWidth.FindStringSubmatch(pic); m != nil {
			width, _ = strconv.Atoi(m[1])
		}
		d.Acts = append(d.Acts, handoutAct{Act: a, Report: template.HTML(body), Picture: template.HTML(pic), Width: width})
	}
	return handoutTmpl.Execute(w, d)
}

type handoutData struct {
	*Show
	Moral    string
	Problems []string
	Styles   []template.CSS
	Acts     []handoutAct
}

type handoutAct struct {
	*Act
	Report  template.HTML
	Picture template.HTML // report.SequenceSVG of the act's report
	Width   int           // its width in pixels: side by side, both pictures get the same scale
}

var (
	reStyle = regexp.MustCompile(`(?is)<style[^>]*>(.*?)</style>`)
	reBody  = regexp.MustCompile(`(?is)<body[^>]*>(.*)</body>`)
	reIDRef = regexp.MustCompile(`\b(id="|href="#)`)
	reMain  = regexp.MustCompile(`(?i)<(/?)main>`)
	reCmd   = regexp.MustCompile(`(?s)<pre class="cmd">(.*?)</pre>`)
	reWidth = regexp.MustCompile(`^<svg [^>]*?width="(\d+)"`)
)

// embeddable turns what report.Render wrote for "html" into a fragment
// to put in the handout: a whole document gives up its <style> and <body>
// contents; anything else (plain text) is escaped into a <pre>. Every id
// and in-page link gets prefix, so that the two acts' reports, each with
// its own #verdict and #obs-1, do not collide; the report's <main> becomes
// a <div> (the handout has its own); a remedy in words rather than a
// command is shown as prose, not as code.
func embeddable(doc, prefix string) (style, body string) {
	if m := reBody.FindStringSubmatch(doc); m != nil {
		for _, s := range reStyle.FindAllStringSubmatch(doc, -1) {
			style += s[1] + "\n"
		}
		body = reIDRef.ReplaceAllString(m[1], "${1}"+prefix)
		body = reMain.ReplaceAllStringFunc(body, func(m string) string {
			if strings.HasPrefix(m, "</") {
				return "</div>"
			}
			return `<div class="embedded">`
		})
		body = reCmd.ReplaceAllStringFunc(body, func(pre string) string {
			text := reCmd.FindStringSubmatch(pre)[1]
			if isCommand(html.UnescapeString(text)) {
				return pre
			}
			return `<p class="prose-fix">` + text + `</p>`
		})
		return style, body
	}
	return "", "<pre>" + template.HTMLEscapeString(doc) + "</pre>"
}

// isValue reports whether a setting's value reads as a value (a URL, a
// name: shown as code) rather than words such as "0 (not set)".
func isValue(s string) bool { return s != "" && !strings.Contains(s, " ") }

var handoutTmpl = template.Must(template.New("handout").Funcs(template.FuncMap{
	"cert": func(st *Step) string {
		if st.Leaf == nil {
			return ""
		}
		return certWords(st)
	},
	"warned":  func(st *Step) bool { return st.Outcome == OutcomeWarned },
	"command": isCommand,
	"value":   isValue,
	"info":    func(st *Step) bool { return st.Outcome == OutcomeInfo },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<title>certsleuth demo: {{.Scenario.Name}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; line-height: 1.4 }
main.handout { max-width: 1100px; margin: 0 auto; padding: 20px 24px 48px }
h1 { font-size: 1.5em; margin-bottom: .2em } h2 { border-bottom: 2px solid #ccc; margin-top: 2em } h3 { margin-top: 1.5em }
.sub { color: #555; margin-top: 0 }
table.kv td:first-child { font-weight: 600; padding-right: 1em; vertical-align: top; white-space: nowrap }
ol.steps > li { margin: .6em 0; padding: .4em .6em; border-left: 4px solid #8c8 }
ol.steps > li.warned { border-left-color: #d33; background: #fff4f4 }
ol.steps > li.info { border-left-color: #ccc; color: #555 }
ol.steps > li.failed { border-left-color: #db3 }
.req { font-family: ui-monospace, Consolas, monospace; word-break: break-all }
.warning { color: #b00; font-weight: 600 }
code, pre { font-family: ui-monospace, Consolas, monospace; font-size: .9em }
pre { white-space: pre-wrap; background: #f6f6f6; padding: .6em }
.change { background: #f4fff4; border-left: 4px solid #3a3; padding: .4em .6em; margin: .4em 0 }
.moral { font-size: 1.1em; font-weight: 600; border: 2px solid #888; padding: .6em }
.report { border: 1px dashed #aaa; padding: .6em; margin-top: 1em }
.prose-fix { margin: 4px 0 }
.pictures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; width: 100vw; margin-left: calc(50% - 50vw); padding: 0 16px; box-sizing: border-box }
.pictures figure { flex: 1 1 0; min-width: 300px; margin: 0; border: 1px solid #d0d5dd; border-radius: 6px; padding: 8px }
.pictures figcaption { font-weight: 600; margin-bottom: 6px }
.pictures svg { display: block; max-width: 100%; height: auto }
@media print { .pictures { width: auto; margin-left: 0; padding: 0 } h2 { page-break-before: always } h2.first { page-break-before: avoid } ol.steps > li { page-break-inside: avoid } }
</style>
{{range .Styles}}<style>{{.}}</style>
{{end}}</head><body><main class="handout">
<h1>certsleuth demo: {{.Scenario.Name}}</h1>
<p class="sub">{{.Scenario.Title}}</p>
<p>{{.Scenario.Summary}}</p>
<table class="kv">
<tr><td>client</td><td>{{.Scenario.Client.Name}}; judged with certsleuth's <code>{{.Profile.Name}}</code> profile</td></tr>
<tr><td>Exchange</td><td>{{.Scenario.Config.Server}}, certificate for {{range $i, $n := .Scenario.Config.ExchangeCert.DNSNames}}{{if $i}}, {{end}}<code>{{$n}}</code>{{end}}</td></tr>
<tr><td>lab</td><td>{{if .Direct}}all on 127.0.0.1, the client connecting directly{{else}}all on 127.0.0.1, the client going through the certsleuth proxy in mirror mode, which records what it sees{{end}}</td></tr>
<tr><td>case</td><td>{{.Scenario.Cite}}</td></tr>
</table>
<p class="moral">{{.Moral}}</p>
<h2 class="first" id="pictures">What sent the client where{{if gt (len .Acts) 1}}, before and after the fix{{end}}</h2>
<div class="pictures">
{{range .Acts}}<figure id="picture-act{{.N}}" style="flex-grow: {{.Width}}"><figcaption>{{if eq .N 1}}Act 1: the configuration as found{{else}}Act 2: after the fix{{end}}</figcaption>{{if .Picture}}{{.Picture}}{{else}}<p>No request was recorded.</p>{{end}}</figure>
{{end}}</div>
{{range $i, $a := .Acts}}
<h2 id="act{{$a.N}}">{{if eq $a.N 1}}Act 1: the configuration as found{{else}}Act 2: the same client after the fix{{end}}</h2>
{{if eq $a.N 2}}{{if not $a.Applied}}<p>Nothing to change: the configuration is already right.</p>{{end}}
{{range $a.Applied}}<div class="change"><b>{{.What}}</b>: {{if value .From}}<code>{{.From}}</code>{{else}}{{.From}}{{end}} &rarr; {{if value .To}}<code>{{.To}}</code>{{else}}{{.To}}{{end}}<br>{{if command .Command}}<code>{{.Command}}</code>{{else}}{{.Command}}{{end}}</div>
{{end}}{{end}}
<ol class="steps">
{{range $a.Steps}}<li class="{{if warned .}}warned{{else if info .}}info{{else if eq (print .Outcome) "ok"}}ok{{else}}failed{{end}}">
{{if info .}}{{.Purpose}}: {{.Then}}{{else}}<b>{{.Purpose}}</b>{{if warned .}} <span class="warning">WARNING</span>{{end}}<br>
<span class="req">{{.Method}} {{.URL}}</span><br>
{{if .OriginWords}}because: {{.OriginWords}}<br>{{end}}
{{with cert .}}certificate: {{.}}<br>{{end}}
{{if warned .}}<span class="warning">{{$a.Client.App}} says: {{.Warning}}</span><br>why: {{.Reason}}<br>{{end}}
{{if .Err}}failed: {{.Err}}<br>{{end}}
{{if .Then}}then: {{.Then}}{{end}}{{end}}
</li>
{{end}}</ol>
<p><b>Result:</b> {{$a.Done}}</p>
<h3>certsleuth's report on {{if $.Direct}}the client's{{else}}the proxy's{{end}} trace (act {{$a.N}})</h3>
<p class="sub">Its numbers (#N) count the observations in the trace, as <code>certsleuth replay</code> of the recorded trace shows them; they are not the step numbers above.</p>
<div class="report">{{$a.Report}}</div>
{{end}}
{{if .Problems}}<h2>Not as expected</h2><ul>{{range .Problems}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p class="sub">Made by <code>certsleuth demo --scenario {{.Scenario.Name}} --format html</code>. Everything ran on one machine, on 127.0.0.1, with certificates minted for the occasion.</p>
</main></body></html>
`))
