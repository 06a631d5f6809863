package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/match"
)

// RenderOptions control how a report is printed.
type RenderOptions struct {
	Color bool // ANSI colour (only for terminals; never with NO_COLOR)
	Width int  // wrap width for text; 0 means 80
	// Title names what was analysed, e.g. the trace or capture file.
	Title string
	// All shows every cause in full and then every observation (text,
	// Markdown, HTML); without it a report shows the biggest causes in
	// full, the next ones a line each, and counts the rest, so its size
	// is bounded whatever the input. JSON always has every observation.
	All bool
}

// Formats lists the report formats Render accepts ("markdown" is also
// accepted for "md").
var Formats = []string{"text", "json", "md", "html"}

// CheckFormat returns an error naming the accepted formats when f is not one.
func CheckFormat(f string) error {
	if f == "markdown" {
		return nil
	}
	for _, x := range Formats {
		if f == x {
			return nil
		}
	}
	return fmt.Errorf("unknown format %q (use %s)", f, strings.Join(Formats, ", "))
}

// Render writes the report in format: "text" (the default; 80 columns,
// ANSI colour only when o.Color), "json" (JSON Lines: one object per
// observation, then a summary object), "md" (Markdown), or "html" (one
// self-contained file: no external assets, works offline, prints well).
// Every format renders the same fields: the verdict with the culprit
// request, its origin chain and the fix, then every observation.
func Render(w io.Writer, r *analysis.Report, format string, o RenderOptions) error {
	if err := CheckFormat(format); err != nil && format != "" {
		return err
	}
	// The renderers write as they go (a report of a big trace is never
	// held in memory whole), in many small pieces: buffer them.
	b := buffered(w)
	var err error
	switch format {
	case "text", "":
		err = renderText(b, r, o)
	case "json":
		err = renderJSON(b, r)
	case "md", "markdown":
		err = renderMarkdown(b, r, o)
	case "html":
		err = renderHTML(b, r, o)
	}
	if ferr := b.Flush(); err == nil {
		err = ferr
	}
	return err
}

// buffered returns w as a *bufio.Writer (w itself when it is one).
func buffered(w io.Writer) *bufio.Writer {
	if b, ok := w.(*bufio.Writer); ok {
		return b
	}
	return bufio.NewWriterSize(w, 64<<10)
}

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiReset  = "\x1b[0m"
)

type textOut struct {
	w     io.Writer
	o     RenderOptions
	width int
	err   error
}

func (t *textOut) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textOut) color(code, s string) string {
	if !t.o.Color {
		return s
	}
	return code + s + ansiReset
}

// field prints "label  value" with value wrapped under itself.
func (t *textOut) field(indent, label, value string) {
	pad := indent + fmt.Sprintf("%-12s", label)
	if len(label) >= 12 { // a long check ID: keep a gap before the text
		pad = indent + label + "  "
	}
	lines := Wrap(value, t.width-len(pad))
	for i, l := range lines {
		if i == 0 {
			t.printf("%s%s\n", pad, l)
		} else {
			t.printf("%s%s\n", strings.Repeat(" ", len(pad)), l)
		}
	}
}

// bullet prints a list item: mark, then value wrapped under itself.
func (t *textOut) bullet(mark, value string) {
	for i, l := range Wrap(value, t.width-len(mark)) {
		if i > 0 {
			mark = strings.Repeat(" ", len(mark))
		}
		t.printf("%s%s\n", mark, l)
	}
}

// Wrap breaks s into lines of at most width characters at spaces; words
// longer than width stay whole.
func Wrap(s string, width int) []string {
	if width < 20 {
		width = 20
	}
	var lines []string
	var line []byte // the line being filled: one allocation per line made
	for para := range strings.SplitSeq(s, "\n") {
		line = line[:0]
		for w := range strings.FieldsSeq(para) {
			switch {
			case len(line) == 0:
				line = append(line, w...)
			case len(line)+1+len(w) <= width:
				line = append(append(line, ' '), w...)
			default:
				lines = append(lines, string(line))
				line = append(line[:0], w...)
			}
		}
		lines = append(lines, string(line))
	}
	return lines
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func chainWords(ch []certs.Summary) string {
	if len(ch) == 0 {
		return "(not seen)"
	}
	l := ch[0]
	names := append(append([]string(nil), l.DNSNames...), l.IPAddresses...)
	s := strings.Join(names, ", ")
	if s == "" {
		s = "no SAN; CN " + l.SubjectCN
		if l.SubjectCN == "" {
			s = "no names: no SAN, no CN"
		}
	}
	issuer := l.IssuerCN
	if l.SelfSigned {
		issuer = "self-signed"
	}
	return fmt.Sprintf("%s (issuer %s; valid %s to %s)", s, issuer, l.NotBefore.Format(time.DateOnly), l.NotAfter.Format(time.DateOnly))
}

func profileList(ps []*match.Profile) string {
	var n []string
	for _, p := range ps {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}
