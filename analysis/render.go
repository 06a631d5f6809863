package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
)

// RenderOptions control how a report is printed.
type RenderOptions struct {
	Color bool // ANSI colour (only for terminals; never with NO_COLOR)
	Width int  // wrap width for text; 0 means 80
	// Title names what was analysed, e.g. the trace or capture file.
	Title string
}

// Formats lists the report formats Render accepts.
var Formats = []string{"text", "json"}

// CheckFormat returns an error naming the accepted formats when f is not one.
func CheckFormat(f string) error {
	for _, x := range Formats {
		if f == x {
			return nil
		}
	}
	return fmt.Errorf("unknown format %q (use %s)", f, strings.Join(Formats, ", "))
}

// Render writes the report in format ("text" or "json").
func Render(w io.Writer, r *Report, format string, o RenderOptions) error {
	switch format {
	case "text", "":
		return renderText(w, r, o)
	case "json":
		return renderJSON(w, r)
	}
	return CheckFormat(format)
}

// Culprit is a request that would make clients warn, with its repeats: the
// same name, the same certificate and the same failed checks.
type Culprit struct {
	First    *Item
	Repeats  []*Item // later items with the same key, in order
	Profiles []string
	Findings []Finding // error findings, one per check ID (profiles merged)
	// Origin is what sent the client to First, nearest cause first.
	Origin []Cause
	// Remedies are the changes that stop the warning, most direct first,
	// filled in with the names seen.
	Remedies []Remedy
	// NewName is the name the certificate covers that clients should use
	// instead, or "".
	NewName string
	// Verdict is the one-paragraph plain-language verdict.
	Verdict string
}

// Culprits groups the warning items of r, first occurrence first.
func (r *Report) Culprits() []*Culprit {
	var out []*Culprit
	byKey := map[string]*Culprit{}
	for _, it := range r.Items {
		if !it.Warns("") {
			continue
		}
		ids := map[string]bool{}
		for _, f := range it.Findings {
			if f.Severity == SeverityError {
				ids[f.ID] = true
			}
		}
		var idl []string
		for id := range ids {
			idl = append(idl, id)
		}
		sort.Strings(idl)
		leaf := ""
		if len(it.Chain) > 0 {
			leaf = it.Chain[0].SHA256
		}
		key := strings.ToLower(it.Name) + "|" + leaf + "|" + strings.Join(idl, ",") + "|" + requestPath(it.Obs)
		if c, ok := byKey[key]; ok {
			c.Repeats = append(c.Repeats, it)
			continue
		}
		c := &Culprit{First: it, Profiles: it.WarningProfiles(r.Profiles), Findings: mergeFindings(it.Findings, SeverityError)}
		byKey[key] = c
		r.explainCulprit(c)
		out = append(out, c)
	}
	return out
}

func requestPath(o *record.Observation) string {
	if o.URL == "" {
		return ""
	}
	u := o.URL
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return strings.ToLower(u)
}

// mergeFindings keeps the findings of at least min severity, one per ID,
// with the profiles that share it joined by ", ".
func mergeFindings(fs []Finding, min Severity) []Finding {
	var out []Finding
	idx := map[string]int{}
	for _, f := range fs {
		if f.Severity.rank() < min.rank() {
			continue
		}
		if i, ok := idx[f.ID]; ok {
			if out[i].Profile != AllProfiles && f.Profile != AllProfiles && !strings.Contains(", "+out[i].Profile+", ", ", "+f.Profile+", ") {
				out[i].Profile += ", " + f.Profile
			}
			continue
		}
		idx[f.ID] = len(out)
		out = append(out, f)
	}
	return out
}

// Describe says in a few words what the observation was.
func Describe(o *record.Observation) string {
	switch o.Kind {
	case record.KindDNS:
		if o.DNS == nil {
			return "DNS"
		}
		var ans []string
		for _, a := range o.DNS.Answers {
			v := a.Value
			if a.Type == "SRV" {
				v = fmt.Sprintf("%s:%d", a.Value, a.Port)
			}
			ans = append(ans, a.Type+" "+v)
		}
		s := fmt.Sprintf("DNS %s %s", o.DNS.Type, o.DNS.Query)
		if len(ans) > 0 {
			s += " -> " + strings.Join(ans, ", ")
		} else if o.DNS.Rcode != "" {
			s += " -> " + o.DNS.Rcode
		}
		return s
	case record.KindHTTP:
		s := strings.TrimSpace(o.Method + " " + o.URL)
		if o.URL == "" {
			s = strings.TrimSpace(o.Method + " " + o.Host)
		}
		if o.Status != 0 {
			s += fmt.Sprintf(" -> %d", o.Status)
		}
		if o.Location != "" {
			s += " " + o.Location
		}
		return s
	}
	name, from := o.AskedName()
	s := "TLS"
	if o.TLSVersion != "" {
		s = o.TLSVersion
	}
	switch {
	case o.Connect != "" && from != record.FromConnect:
		s += fmt.Sprintf(" %s (CONNECT %s)", name, o.Connect)
	case name != "":
		s += " " + name
	}
	if o.NoSNI {
		s += " (no SNI)"
	}
	if o.Server != "" {
		s += " at " + o.Server
	}
	return s
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
	lines := Wrap(value, t.width-len(pad))
	for i, l := range lines {
		if i == 0 {
			t.printf("%s%s\n", pad, l)
		} else {
			t.printf("%s%s\n", strings.Repeat(" ", len(pad)), l)
		}
	}
}

// Wrap breaks s into lines of at most width characters at spaces; words
// longer than width stay whole.
func Wrap(s string, width int) []string {
	if width < 20 {
		width = 20
	}
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		line := ""
		for _, w := range words {
			switch {
			case line == "":
				line = w
			case len(line)+1+len(w) <= width:
				line += " " + w
			default:
				lines = append(lines, line)
				line = w
			}
		}
		lines = append(lines, line)
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
	}
	issuer := l.IssuerCN
	if l.SelfSigned {
		issuer = "self-signed"
	}
	return fmt.Sprintf("%s (issuer %s; valid %s to %s)", s, issuer, l.NotBefore.Format(time.DateOnly), l.NotAfter.Format(time.DateOnly))
}

func renderText(w io.Writer, r *Report, o RenderOptions) error {
	t := &textOut{w: w, o: o, width: o.Width}
	if t.width == 0 {
		t.width = 80
	}
	culprits := r.Culprits()
	n := 0
	for _, it := range r.Items {
		if it.Obs.Kind != record.KindDNS {
			n++
		}
	}
	title := ""
	if o.Title != "" {
		title = o.Title + ": "
	}
	if len(r.WhatIf) > 0 {
		t.printf("what if the server presented: %s\n\n", chainWords(r.WhatIf))
	}
	switch {
	case len(culprits) == 0:
		t.printf("%s%s\n", title, t.color(ansiGreen, fmt.Sprintf("no request would make a client warn (%d observations, profiles %s)", n, profileList(r.Profiles))))
	default:
		warn := 0
		for _, it := range r.Items {
			if it.Warns("") {
				warn++
			}
		}
		t.printf("%s%s\n", title, t.color(ansiBold+ansiRed, fmt.Sprintf("%d of %d requests would make a client warn; first each time:", warn, n)))
	}
	for i, c := range culprits {
		it := c.First
		t.printf("\n%s\n", t.color(ansiBold, fmt.Sprintf("%d. %s", i+1, Describe(it.Obs))))
		when := fmtTime(it.Obs.Time) + fmt.Sprintf(" (#%d", it.Index)
		if len(c.Repeats) > 0 {
			last := c.Repeats[len(c.Repeats)-1]
			when += fmt.Sprintf("; again %d times, last %s #%d", len(c.Repeats), fmtTime(last.Obs.Time), last.Index)
		}
		when += ")"
		t.field("   ", "when", when)
		asked := it.Name
		if asked == "" {
			asked = "(unknown)"
		}
		t.field("   ", "asked for", fmt.Sprintf("%s (from the %s)", asked, nameFromWords(it.NameFrom)))
		t.field("   ", "certificate", chainWords(it.Chain))
		t.field("   ", "warns", strings.Join(c.Profiles, ", "))
		for _, f := range c.Findings {
			t.field("   ", "rule", t.color(ansiRed, f.ID)+": "+stripProfileTitle(f.Summary))
		}
		if len(c.Findings) > 0 {
			t.field("   ", "fix", c.Findings[0].Remedy)
		}
	}
	var other []Finding
	for _, it := range r.Items {
		if !it.Warns("") {
			other = append(other, it.Findings...)
		}
	}
	if len(r.Problems) > 0 {
		t.printf("\nproblems with the input:\n")
		for _, p := range r.Problems {
			t.field("  ", "-", p)
		}
	}
	t.printf("\n%s\n", t.color(ansiBold, "all observations:"))
	for _, it := range r.Items {
		res := "ok"
		code := ansiGreen
		switch it.Worst() {
		case SeverityError:
			res, code = "WARN", ansiRed
		case SeverityWarning:
			res, code = "note", ansiYellow
		case SeverityInfo:
			res, code = "info", ansiDim
		}
		if it.Obs.Kind == record.KindDNS {
			res, code = "", ansiDim
		} else if len(it.Verdicts) == 0 && it.Worst() == "" {
			res = "-"
		}
		clock := "-"
		if !it.Obs.Time.IsZero() {
			clock = it.Obs.Time.UTC().Format("15:04:05")
		}
		prefix := fmt.Sprintf("%4d %s %-4s ", it.Index, clock, res)
		lines := Wrap(Describe(it.Obs), t.width-len(prefix))
		t.printf("%s%s\n", strings.Replace(prefix, res, t.color(code, res), 1), lines[0])
		for _, l := range lines[1:] {
			t.printf("%s%s\n", strings.Repeat(" ", len(prefix)), l)
		}
		if !it.Warns("") {
			for _, f := range mergeFindings(it.Findings, SeverityInfo) {
				t.field(strings.Repeat(" ", len(prefix)), f.ID, stripProfileTitle(f.Summary))
			}
		}
	}
	_ = other
	return t.err
}

// stripProfileTitle drops the "<profile title>: " prefix name findings
// carry, for places where the profiles are listed separately.
func stripProfileTitle(s string) string {
	for _, p := range profiles {
		if strings.HasPrefix(s, p.Title+": ") {
			return strings.TrimPrefix(s, p.Title+": ")
		}
	}
	return s
}

func profileList(ps []*Profile) string {
	var n []string
	for _, p := range ps {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

// JSONItem is the JSON Lines form of one analysed observation.
type JSONItem struct {
	Type       string            `json:"type"` // "connection", "http" or "dns"
	Index      int               `json:"index"`
	Time       time.Time         `json:"time"`
	Source     record.Source     `json:"source"`
	Client     string            `json:"client"`
	Server     string            `json:"server"`
	Connect    string            `json:"connect,omitempty"`
	SNI        string            `json:"sni"`
	NoSNI      bool              `json:"no_sni,omitempty"`
	Method     string            `json:"method,omitempty"`
	Host       string            `json:"host,omitempty"`
	URL        string            `json:"url,omitempty"`
	Status     int               `json:"status,omitempty"`
	Location   string            `json:"location,omitempty"`
	TLSVersion string            `json:"tls_version"`
	ALPN       []string          `json:"alpn,omitempty"`
	Visibility record.Visibility `json:"cert_visibility"`
	Name       string            `json:"name"`
	NameFrom   record.NameSource `json:"name_from,omitempty"`
	Chain      []certs.Summary   `json:"chain"`
	Verdicts   []Verdict         `json:"verdicts,omitempty"`
	Findings   []Finding         `json:"findings"`
	Warns      []string          `json:"warns"` // profiles that would warn
	Error      string            `json:"error,omitempty"`
	DNS        *record.DNS       `json:"dns,omitempty"`
	WhatIf     bool              `json:"what_if,omitempty"`
}

// JSONSummary is the last line of a JSON report.
type JSONSummary struct {
	Type         string   `json:"type"` // "summary"
	Observations int      `json:"observations"`
	Warnings     int      `json:"warnings"` // items that would make a client warn
	Culprits     []int    `json:"culprits"` // index of the first item of each culprit group
	Profiles     []string `json:"profiles"`
	Problems     []string `json:"problems,omitempty"`
}

// JSONOf returns the JSON form of an item.
func JSONOf(it *Item, all []*Profile) JSONItem {
	o := it.Obs
	typ := "connection"
	switch o.Kind {
	case record.KindHTTP:
		typ = "http"
	case record.KindDNS:
		typ = "dns"
	}
	warns := it.WarningProfiles(all)
	if warns == nil {
		warns = []string{}
	}
	return JSONItem{
		Type: typ, Index: it.Index, Time: o.Time, Source: o.Source, Client: o.Client, Server: o.Server,
		Connect: o.Connect, SNI: o.SNI, NoSNI: o.NoSNI, Method: o.Method, Host: o.Host, URL: o.URL,
		Status: o.Status, Location: o.Location, TLSVersion: o.TLSVersion, ALPN: o.ALPN, Visibility: o.Visibility,
		Name: it.Name, NameFrom: it.NameFrom, Chain: it.Chain, Verdicts: it.Verdicts, Findings: it.Findings,
		Warns: warns, Error: o.Error, DNS: o.DNS, WhatIf: it.WhatIf,
	}
}

func renderJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	sum := JSONSummary{Type: "summary", Culprits: []int{}, Profiles: []string{}, Problems: r.Problems}
	for _, p := range r.Profiles {
		sum.Profiles = append(sum.Profiles, p.Name)
	}
	for _, it := range r.Items {
		if err := enc.Encode(JSONOf(it, r.Profiles)); err != nil {
			return err
		}
		sum.Observations++
		if it.Warns("") {
			sum.Warnings++
		}
	}
	for _, c := range r.Culprits() {
		sum.Culprits = append(sum.Culprits, c.First.Index)
	}
	return enc.Encode(sum)
}
