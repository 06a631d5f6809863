package lab

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
)

// TextOptions control WriteText.
type TextOptions struct {
	Color bool // ANSI colour (terminals only; never with NO_COLOR)
	Width int  // wrap width; 0 means 80
}

const (
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiReset  = "\x1b[0m"
)

type story struct {
	w     io.Writer
	o     TextOptions
	width int
	err   error
}

func (t *story) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *story) color(code, s string) string {
	if !t.o.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// field prints "label  value", value wrapped under itself.
func (t *story) field(indent, label, value, code string) {
	if value == "" {
		return
	}
	pad := indent + fmt.Sprintf("%-13s", label)
	// "step 5" stays on one line.
	value = stepWord.ReplaceAllString(value, "$1"+nbsp+"$2")
	for i, l := range report.Wrap(value, t.width-len(pad)) {
		l = strings.ReplaceAll(l, nbsp, " ")
		if i > 0 {
			t.printf("%s%s\n", strings.Repeat(" ", len(pad)), t.color(code, l))
			continue
		}
		t.printf("%s%s\n", pad, t.color(code, l))
	}
}

const nbsp = "\x00"

var stepWord = regexp.MustCompile(`\b(steps?|and) (\d)`)

// para prints a wrapped paragraph with a first-line prefix.
func (t *story) para(indent, first, text string) {
	pad := indent + first
	for i, l := range report.Wrap(text, t.width-len(pad)) {
		if i == 0 {
			t.printf("%s%s\n", pad, l)
		} else {
			t.printf("%s%s\n", strings.Repeat(" ", len(pad)), l)
		}
	}
}

// command prints "label  command": a PowerShell command stays whole on
// one line, to be pasted (as the shared report prints it); prose wraps.
func (t *story) command(indent, label, value, code string) {
	if !isCommand(value) {
		t.field(indent, label, value, code)
		return
	}
	t.printf("%s%-13s%s\n", indent, label, t.color(code, value))
}

// isCommand reports whether s is a command to paste whole: a PowerShell
// cmdlet (report.IsCommand), or the reg and appcmd commands of the
// scenarios' changes.
func isCommand(s string) bool {
	return report.IsCommand(s) || strings.HasPrefix(s, "reg add ") || strings.HasPrefix(s, `%windir%\system32\inetsrv\appcmd `)
}

// WriteText tells the show step by step: what the client requested, what
// certificate came back, the warning in the client's words, then
// certsleuth's verdict on the proxy's trace (culprit, origin, remedy); then
// act 2 with the fix applied.
func (sh *Show) WriteText(w io.Writer, o TextOptions) error {
	t := &story{w: w, o: o, width: o.Width}
	if t.width == 0 {
		t.width = 80
	}
	s := sh.Scenario
	t.printf("%s\n", t.color(ansiBold, "certsleuth demo: "+s.Name))
	t.para("", "", s.Title)
	t.printf("\n")
	t.para("", "", s.Summary)
	t.printf("\n")
	t.field("", "client", fmt.Sprintf("%s; judged with certsleuth's %q profile", s.Client.Name, sh.Profile.Name), "")
	t.field("", "exchange", fmt.Sprintf("%s, certificate %s", s.Config.Server, strings.Join(s.Config.ExchangeCert.DNSNames, ", ")), "")
	if sh.Direct {
		t.field("", "lab", "all on 127.0.0.1; the client connects directly (no proxy)", "")
	} else {
		t.field("", "lab", "all on 127.0.0.1: the client goes through the certsleuth proxy (mirror mode), which records what it sees", "")
	}
	t.field("", "case", s.Cite, "")
	for _, a := range sh.Acts {
		t.printf("\n")
		sh.writeAct(t, a)
	}
	t.printf("\n%s\n", t.color(ansiBold, "THE END"))
	t.para("   ", "", sh.Moral())
	return t.err
}

// Moral is the one-paragraph outcome of the show.
func (sh *Show) Moral() string {
	var parts []string
	for _, a := range sh.Acts {
		w := a.Warnings()
		switch {
		case len(w) == 0:
			parts = append(parts, fmt.Sprintf("act %d: no warning, %s", a.N, a.Done))
		default:
			parts = append(parts, fmt.Sprintf("act %d: %s warned %s, first at %s", a.N, a.Client.App, times(len(w)), w[0].URL))
		}
	}
	if len(sh.Acts) == 2 && sh.rerun(sh.Acts[1]) {
		parts = parts[:1]
	}
	m := strings.Join(parts, "; ") + "."
	if p := sh.Problems(); len(p) > 0 {
		m += " NOT AS EXPECTED: " + strings.Join(p, "; ") + "."
	} else if len(sh.Acts) == 2 && len(sh.Acts[0].Warnings()) > 0 {
		m += " The fix works."
	}
	return m
}

func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// rerun reports whether a is an act 2 that changed nothing and went as
// act 1 did without a warning (the clean scenario): the story says so
// rather than tell the same steps twice.
func (sh *Show) rerun(a *Act) bool {
	return a.N == 2 && len(a.Applied) == 0 && len(sh.Acts) == 2 && len(sh.Acts[0].Warnings()) == 0 &&
		len(a.Warnings()) == 0 && len(a.Culprits()) == 0 && len(a.Steps) == len(sh.Acts[0].Steps)
}

func (sh *Show) writeAct(t *story, a *Act) {
	if sh.rerun(a) {
		t.printf("%s\n", t.color(ansiBold, "ACT 2: nothing to change"))
		t.para("   ", "", fmt.Sprintf("The configuration is already right. The same client, run again against a fresh lab, takes the same %d steps without a warning, and certsleuth finds nothing in the proxy's trace.", len(a.Steps)))
		return
	}
	switch {
	case a.N == 1:
		t.printf("%s\n", t.color(ansiBold, "ACT 1: the configuration as found"))
	default:
		t.printf("%s\n", t.color(ansiBold, "ACT 2: the same client after the fix"))
		if len(a.Applied) == 0 {
			t.printf("   nothing to change: the configuration is already right\n")
		}
		for _, ch := range a.Applied {
			t.para("   ", "changed: ", fmt.Sprintf("%s: %s -> %s", ch.What, ch.From, ch.To))
			if isCommand(ch.Command) {
				t.printf("            %s\n", t.color(ansiDim, ch.Command))
			} else {
				t.para("            ", "", t.color(ansiDim, "("+ch.Command+")"))
			}
		}
	}
	t.printf("\n")
	full := a.N == 1 || len(a.Warnings()) > 0
	for _, st := range a.Steps {
		writeStep(t, a, st, full)
	}
	t.printf("\n")
	t.field("   ", "result", a.Done, "")
	writeVerdict(t, sh, a)
}

func writeStep(t *story, a *Act, st *Step, full bool) {
	num := fmt.Sprintf("%3d. ", st.N)
	if st.Outcome == OutcomeInfo {
		t.para("", num, st.Purpose+": "+st.Then)
		return
	}
	mark := ""
	switch st.Outcome {
	case OutcomeWarned:
		mark = t.color(ansiBold+ansiRed, "  WARNING")
	case OutcomeOK:
		mark = t.color(ansiGreen, "  ok")
	}
	t.printf("%s%s%s\n", num, st.Purpose, mark)
	ind := "     "
	t.field(ind, "request", strings.TrimSpace(st.Method+" "+st.URL), "")
	if !full && st.Outcome == OutcomeOK {
		if st.Leaf != nil {
			t.field(ind, "certificate", certWords(st)+": matches "+st.Host, "")
		}
		return
	}
	t.field(ind, "because", st.OriginWords, "")
	if st.Leaf != nil {
		t.field(ind, "certificate", certWords(st), "")
	}
	switch st.Outcome {
	case OutcomeWarned:
		t.field(ind, a.Client.App+" says", st.Warning, ansiRed)
		t.field(ind, "why", st.Reason, "")
	case OutcomeOK:
		s := fmt.Sprintf("HTTP %d", st.Status)
		if st.Location != "" {
			s += " -> " + st.Location
		}
		t.field(ind, "answer", s, "")
	default:
		t.field(ind, "failed", st.Err, ansiYellow)
	}
	t.field(ind, "then", st.Then, "")
}

func certWords(st *Step) string {
	names := append([]string(nil), st.Leaf.DNSNames...)
	s := strings.Join(names, ", ")
	if s == "" {
		s = "CN " + st.Leaf.Subject.CommonName
	}
	if st.CertLabel != "" && !strings.Contains(st.CertLabel, s) {
		return st.CertLabel + ": " + s
	}
	if st.CertLabel != "" {
		return st.CertLabel
	}
	return s
}

// writeVerdict prints certsleuth's analysis of the act's trace. The
// analysis numbers observations (#N) in its own list, which holds the
// client's DNS notes too; the story says the step instead (stepRefs).
func writeVerdict(t *story, sh *Show, a *Act) {
	n := 0
	for _, it := range a.Report.Items {
		if it.Obs.Kind != "dns" {
			n++
		}
	}
	src := "the proxy's trace"
	if sh.Direct {
		src = "the client's trace"
	}
	cs := a.Culprits()
	t.printf("\n")
	if len(cs) == 0 {
		t.para("   ", "", t.color(ansiGreen, fmt.Sprintf("certsleuth on %s (%d connections, %s profile): no request would make a client warn.", src, n, sh.Profile.Name)))
		return
	}
	what := "1 culprit"
	if len(cs) > 1 {
		what = fmt.Sprintf("%d culprits", len(cs))
	}
	t.para("   ", "", t.color(ansiBold, fmt.Sprintf("certsleuth on %s (%d connections, %s profile): %s.", src, n, sh.Profile.Name, what)))
	refs := a.stepRefs()
	for i, c := range cs {
		t.printf("\n")
		ind := "   "
		steps := a.StepsFor(c)
		culprit := c.First.Obs.URL
		where := ""
		if len(steps) > 0 {
			if culprit == "" {
				culprit = steps[0].URL
				where = fmt.Sprintf("the proxy saw only a TLS connection for %s: %s refused the certificate before sending the request; ", c.First.Name, a.Client.App)
			}
			var ns []string
			for _, st := range steps {
				ns = append(ns, fmt.Sprint(st.N))
			}
			if len(ns) == 1 {
				where += "step " + ns[0]
			} else {
				where += "steps " + strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
			}
		}
		t.field(ind, fmt.Sprintf("%d. culprit", i+1), culprit, ansiBold+ansiRed)
		if where != "" {
			t.field(ind, "", "("+where+")", ansiDim)
		}
		t.field(ind, "asked for", c.First.Name, "")
		for _, f := range c.Findings {
			t.field(ind, "rule", f.ID+": "+f.Summary, "")
		}
		for j, oc := range c.Origin {
			label := ""
			if j == 0 {
				label = "origin"
			}
			text := refs(oc.Text)
			if oc.From > 0 && !strings.Contains(oc.Text, "#") {
				if r := refs(fmt.Sprintf("(#%d)", oc.From)); r != "" {
					text += " " + r
				}
			}
			if j > 0 {
				text = "<- " + text
			}
			t.field(ind, label, text, "")
		}
		for j, r := range c.Remedies {
			label := "remedy"
			if j > 0 {
				label = fmt.Sprintf("remedy %d", j+1)
			}
			t.command(ind, label, r.Command, ansiGreen)
			for _, ov := range r.Other {
				t.field(ind, "", "on Exchange "+ov.Versions+":", ansiDim)
				t.command(ind, "", ov.Command, ansiDim)
			}
		}
	}
}

var obsRef = regexp.MustCompile(`( ?\()?#(\d+)(\))?`)

// stepRefs returns a function that rewrites the analysis's "#N" (the
// index of an observation in the act's list) as the step that made it,
// "step M", and drops a reference to an observation no step made.
func (a *Act) stepRefs() func(string) string {
	step := map[int]int{}
	for _, it := range a.Report.Items {
		for _, st := range a.Steps {
			for _, o := range append([]*record.Observation{st.Obs}, st.Recorded...) {
				if o != nil && o == it.Obs {
					step[it.Index] = st.N
				}
			}
		}
	}
	return func(s string) string {
		return obsRef.ReplaceAllStringFunc(s, func(m string) string {
			sub := obsRef.FindStringSubmatch(m)
			i, _ := strconv.Atoi(sub[2])
			n, ok := step[i]
			switch {
			case !ok && sub[1] != "" && sub[3] != "":
				return "" // " (#N)": drop it
			case !ok:
				return "an earlier request"
			}
			return fmt.Sprintf("%sstep %d%s", sub[1], n, sub[3])
		})
	}
}

// Listing is one entry per scenario: its name and the Exchange
// configuration it stands for, wrapped under itself to fit 77 columns (80
// with the help text's indent); an entry's further lines start with spaces.
func Listing() []string {
	var out []string
	ss := Scenarios()
	w := 0
	for _, s := range ss {
		w = max(w, len(s.Name))
	}
	pad := strings.Repeat(" ", w+2)
	for _, s := range ss {
		lines := report.Wrap(s.Setup, 77-len(pad))
		out = append(out, fmt.Sprintf("%-*s  %s", w, s.Name, strings.Join(lines, "\n"+pad)))
	}
	return out
}
