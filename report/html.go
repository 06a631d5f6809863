package report

import (
	_ "embed"
	"html/template"
	"io"

	"github.com/certsleuth/certsleuth/analysis"
)

//go:embed html.tmpl
var htmlReportSource string

// htmlReport is the HTML report template. html/template escapes every
// string from the trace (URLs, names, Autodiscover values) for its context.
var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"add": func(a, b int) int { return a + b },
}).Parse(htmlReportSource))

// renderHTML writes the report as one self-contained HTML file: inline CSS,
// no scripts, no external assets, so it works offline and prints well. The
// first screen is the verdict: the biggest cause, its origin and the fix.
// Without o.All its size is bounded whatever the input: htmlFull causes in
// full, htmlListed more a table row each, a picture of at most 40 arrows,
// and no timeline.
func renderHTML(w io.Writer, r *analysis.Report, o RenderOptions) error {
	v := viewOf(r, o, htmlFull, htmlListed)
	var pic string
	if o.All {
		pic = SequenceSVG(r, SequenceOptions{})
	} else {
		pic = causesSVG(r, v.ranked, SequenceOptions{Title: "What sent the client where: the first request of each cause, and each server's certificate"})
	}
	return htmlReport.Execute(w, htmlView{v, template.HTML(pic)})
}

// htmlView is the report view with the sequence picture, which only the
// HTML report draws. Picture is SVG markup SequenceSVG escaped itself.
type htmlView struct {
	*reportView
	Picture template.HTML
}
