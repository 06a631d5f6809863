package report

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
)

// SequenceOptions control SequenceSVG.
type SequenceOptions struct {
	// Title is the picture's accessible title ("" gives a generic one).
	Title string
	// Client names the client column ("" is "client").
	Client string
	// MaxRows bounds the arrows drawn (0: 40). Repeats of one request in a
	// row are drawn once ("x3"); past the bound the culprits and what sent
	// the client to them are kept, the rest are counted in a gap row.
	MaxRows int
	// MaxHosts bounds the host columns (0: 8); later hosts share a last
	// column "other hosts".
	MaxHosts int
}

// The picture's geometry, in pixels. Every text is monospace at 12 px, so
// its width is known without a font: about 7.3 px a character (0.6 em, and
// a little more for the widest monospace fonts).
const (
	svgFont     = 12
	svgCharW    = 7.3
	svgLine     = 15
	svgMargin   = 12
	svgClientW  = 120 // the client column
	svgColW     = 280 // each host column
	svgGap      = 40  // between the client column and the first host
	svgRowPad   = 12
	svgArrowGap = 6
)

// svgRow is one arrow of the picture (or a gap between arrows).
type svgRow struct {
	host    int // column index, -1 for a gap row
	first   int // observation index of the first request it stands for
	last    int // and of the last one (repeats)
	count   int // how many requests it stands for
	label   string
	origin  string
	hedged  bool
	warn    bool
	rules   string
	skipped int // a gap row: how many requests are not drawn
}

// svgHost is one host column.
type svgHost struct {
	name  string
	names []string // the certificate's names
	cert  string   // words when there is no certificate to name
	other int      // further distinct certificates the host presented
	leaf  string
}

// SequenceSVG draws r as a sequence picture: the client on the left, each
// host it contacted in the order it first did, an arrow per request (its
// repeats in a row merged) labelled with the request and the field or
// redirect that sent the client there, each host's certificate names under
// it, and the arrows a client would warn about in red with the rule. DNS
// answers are not drawn (they show in the origin labels). The SVG has no
// script, no style element and no external reference; every text from the
// trace is XML-escaped. It returns "" when r holds no request.
func SequenceSVG(r *analysis.Report, o SequenceOptions) string {
	// What must be drawn: each culprit's first request and what sent the
	// client there.
	important := map[int]bool{}
	for _, c := range r.Causes() {
		c = r.Explain(c) // one at a time
		important[c.First.Index] = true
		for _, cause := range c.First.Origin {
			if cause.From > 0 {
				important[cause.From] = true
			}
		}
	}
	return sequenceSVG(r.EachItem(), important, o)
}

// causesSVG draws the causes cs (r's, compact) as a sequence picture: the
// first request of each, in the order they happened, labelled with what
// sent the client there. It walks no item list: a report of any size
// draws at most o.MaxRows arrows.
func causesSVG(r *analysis.Report, cs []*analysis.Culprit, o SequenceOptions) string {
	o = o.defaults()
	if len(cs) > o.MaxRows {
		cs = cs[:o.MaxRows]
	}
	items := make([]*analysis.Item, 0, len(cs))
	important := map[int]bool{}
	for _, c := range explained(r, cs) {
		items = append(items, c.First)
		important[c.First.Index] = true
	}
	slices.SortFunc(items, func(a, b *analysis.Item) int { return cmp.Compare(a.Index, b.Index) })
	return sequenceSVG(slices.Values(items), important, o)
}

// sequenceSVG draws items in order; the important ones are always drawn.
func sequenceSVG(items iter.Seq[*analysis.Item], important map[int]bool, o SequenceOptions) string {
	o = o.defaults()
	var hosts []*svgHost
	hostAt := map[string]int{}
	var rows []svgRow
	plain := 0 // rows kept that are not important
	skipped := 0
	for it := range items {
		if it.Obs.Kind == record.KindDNS {
			continue
		}
		h := svgHostOf(it)
		col, ok := hostAt[h]
		if !ok {
			if len(hosts) == o.MaxHosts-1 && h != "" {
				if oc, ok := hostAt["\x00other"]; ok {
					col = oc
				} else {
					col = len(hosts)
					hostAt["\x00other"] = col
					hosts = append(hosts, &svgHost{name: "other hosts"})
				}
			} else {
				col = len(hosts)
				hosts = append(hosts, &svgHost{name: h})
			}
			hostAt[h] = col
		}
		hc := hosts[col]
		if len(it.Chain) > 0 {
			leaf := it.Chain[0]
			switch {
			case hc.leaf == "":
				hc.leaf = leaf.SHA256
				hc.names = append(append([]string(nil), leaf.DNSNames...), leaf.IPAddresses...)
				if len(hc.names) == 0 {
					hc.cert = "no subjectAltName; CN " + leaf.SubjectCN
				}
			case hc.leaf != leaf.SHA256 && hc.other < 9:
				hc.other++ // a rough count: enough to say there were others
			}
		} else if hc.leaf == "" && hc.cert == "" {
			hc.cert = svgNoCert(it.Obs)
		}
		row := svgRow{host: col, first: it.Index, last: it.Index, count: 1, label: svgRequest(it.Obs)}
		if len(it.Origin) > 0 {
			row.origin, row.hedged = svgOrigin(it.Origin[0]), it.Origin[0].Hedged
		}
		if it.Warns("") {
			row.warn = true
			var ids []string
			for _, f := range analysis.MergeFindings(it.Findings, analysis.SeverityError) {
				ids = append(ids, f.ID)
			}
			row.rules = strings.Join(ids, ", ")
		}
		if n := len(rows); n > 0 {
			p := &rows[n-1]
			if p.host == row.host && p.label == row.label && p.origin == row.origin && p.warn == row.warn && p.rules == row.rules && !important[row.first] {
				p.last = row.first
				p.count++
				continue
			}
		}
		if !important[it.Index] {
			if plain >= o.MaxRows-len(important) || len(rows) >= 4*o.MaxRows {
				skipped++
				if n := len(rows); n > 0 && rows[n-1].host == -1 {
					rows[n-1].skipped++
				} else {
					rows = append(rows, svgRow{host: -1, skipped: 1})
				}
				continue
			}
			plain++
		}
		rows = append(rows, row)
	}
	if len(hosts) == 0 {
		return ""
	}
	return drawSequence(o, hosts, rows)
}

// defaults fills in the bounds and names left zero.
func (o SequenceOptions) defaults() SequenceOptions {
	if o.MaxRows <= 0 {
		o.MaxRows = 40
	}
	if o.MaxHosts <= 0 {
		o.MaxHosts = 8
	}
	if o.Client == "" {
		o.Client = "client"
	}
	if o.Title == "" {
		o.Title = "What sent the client where: each request in order, and each server's certificate"
	}
	return o
}

// svgHostOf is the column an item goes in: the name the client asked for,
// else the server's address.
func svgHostOf(it *analysis.Item) string {
	if h := exchange.NormHost(it.Name); h != "" {
		return h
	}
	if it.Obs.Server != "" {
		return record.HostOnly(it.Obs.Server)
	}
	return "(no name)"
}

func svgNoCert(o *record.Observation) string {
	switch {
	case o.Visibility == record.VisNone:
		return "plain HTTP: no certificate"
	case o.Visibility != record.VisUnknown && o.Visibility != record.VisVisible:
		return "certificate " + string(o.Visibility)
	case o.Error != "":
		return "no certificate (" + analysis.ErrorWords(o.Error) + ")"
	}
	return "no certificate seen"
}

// svgRequest labels an arrow: the request within its host (the host is the
// column), and what came back.
func svgRequest(o *record.Observation) string {
	if o.URL != "" {
		s := o.URL
		if u, err := url.Parse(o.URL); err == nil {
			s = u.EscapedPath()
			if s == "" {
				s = "/"
			}
			if u.RawQuery != "" {
				s += "?" + u.RawQuery
			}
			if u.Scheme == "http" {
				s = "http: " + s
			}
		}
		s = strings.TrimSpace(o.Method + " " + s)
		if o.Status != 0 {
			s += fmt.Sprintf(" → %d", o.Status)
		}
		if o.Location != "" {
			s += " to " + o.Location
		}
		return s
	}
	s := "TLS"
	if o.TLSVersion != "" {
		s = o.TLSVersion
	}
	if o.StartTLS != "" {
		s = strings.ToUpper(o.StartTLS) + " STARTTLS"
	}
	if o.NoSNI {
		s += " without SNI"
	}
	switch {
	case o.ClientAlert != "":
		s += ", client refused (" + o.ClientAlert + ")"
	case o.Error != "":
		s += ": " + analysis.ErrorWords(o.Error)
	case o.Kind == record.KindTLS && o.Source == record.SourceProxy:
		s += ", no request sent"
	}
	return s
}

// svgOrigin says in a few words what sent the client to a request.
func svgOrigin(c analysis.Cause) string {
	from := ""
	if c.From > 0 {
		from = fmt.Sprintf(" #%d", c.From)
	}
	switch c.Kind {
	case analysis.CauseAutodiscoverField:
		if c.Field != nil {
			return "← " + strings.TrimSpace(c.Field.Block+" "+c.Field.Element) + " in Autodiscover" + from
		}
		return "← Autodiscover answer" + from
	case analysis.CauseAutodiscoverRedirect:
		return "← Autodiscover redirect" + from
	case analysis.CauseHTTPRedirect:
		return "← HTTP redirect" + from
	case analysis.CauseSRV:
		return "← DNS SRV record" + from
	case analysis.CauseRootDomain:
		return "← tried: the email domain"
	case analysis.CausePrefix:
		return "← tried: autodiscover.<domain>"
	case analysis.CauseHTTPProbe:
		return "← tried: the HTTP redirect probe"
	case analysis.CauseSCP:
		return "← likely the AD SCP"
	case analysis.CauseDirectConnect:
		return "← tried: Office 365"
	case analysis.CauseCheckTarget:
		return "← certsleuth check target"
	case analysis.CauseSameHost:
		var els []string
		seen := map[string]bool{}
		for _, a := range c.Either {
			var e string
			switch {
			case a.Field != nil:
				e = a.Field.Element
			case a.Kind == analysis.CauseSCP:
				e = "the AD SCP"
			case a.Kind == analysis.CauseSameHost || a.Kind == analysis.CauseUnknown:
				e = a.Text
			default:
				e = strings.TrimPrefix(svgOrigin(a), "← ")
			}
			if !seen[e] && len(els) < 4 {
				seen[e] = true
				els = append(els, e)
			}
		}
		if len(els) == 0 {
			return "← settings naming this host"
		}
		return "← one of: " + strings.Join(els, ", ")
	}
	if c.Kind == analysis.CauseUnknown || c.Text == "" {
		return "← nothing earlier names it"
	}
	return "← " + c.Text + from
}

// svgBreakAfter are the characters after which a name may wrap: the ends
// of DNS labels and URL path segments, and spaces. A run without them is a
// word and is never broken.
const svgBreakAfter = "./-?&=, _:"

// svgWrap breaks s into lines of at most width characters, only after the
// characters in svgBreakAfter; a word longer than width stays whole on its
// own line.
func svgWrap(s string, width int) []string {
	if width < 8 {
		width = 8
	}
	var words []string
	start := 0
	for i, r := range s {
		if strings.ContainsRune(svgBreakAfter, r) {
			words = append(words, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		words = append(words, s[start:])
	}
	var lines []string
	var line strings.Builder
	n := 0
	for _, w := range words {
		wn := len([]rune(w))
		if n > 0 && n+wn > width && strings.TrimSpace(w) != "" {
			lines = append(lines, strings.TrimRight(line.String(), " "))
			line.Reset()
			n = 0
		}
		if n == 0 {
			w = strings.TrimLeft(w, " ")
			wn = len([]rune(w))
		}
		line.WriteString(w)
		n += wn
	}
	if n > 0 || len(lines) == 0 {
		lines = append(lines, strings.TrimRight(line.String(), " "))
	}
	return lines
}

// svgEsc writes s XML-escaped (invalid XML characters become U+FFFD).
func svgEsc(b *strings.Builder, s string) {
	xml.EscapeText(b, []byte(s))
}

const (
	svgInk   = "#101828"
	svgMuted = "#475467"
	svgLineC = "#98a2b3"
	svgWarn  = "#b42318"
	svgOK    = "#067647"
	svgBoxBg = "#f2f4f7"
)

// svgText writes lines as one <text> at x, the first baseline at y.
func svgText(b *strings.Builder, x, y float64, fill, extra string, lines []string) {
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" fill="%s" stroke="#ffffff" stroke-width="3" paint-order="stroke"%s>`, x, y, fill, extra)
	for i, l := range lines {
		if i == 0 {
			b.WriteString(`<tspan>`)
		} else {
			fmt.Fprintf(b, `<tspan x="%.0f" dy="%d">`, x, svgLine)
		}
		svgEsc(b, l)
		b.WriteString(`</tspan>`)
	}
	b.WriteString("</text>\n")
}

func drawSequence(o SequenceOptions, hosts []*svgHost, rows []svgRow) string {
	clientX := float64(svgMargin + svgClientW/2)
	hostX := func(i int) float64 {
		return float64(svgMargin+svgClientW+svgGap) + float64(i)*svgColW + svgColW/2
	}
	width := svgMargin*2 + svgClientW + svgGap + len(hosts)*svgColW
	boxChars := 34 // (svgColW - 28) / svgCharW

	// The header: a box per host with its name, the certificate's names under it.
	type head struct{ name, cert []string }
	heads := make([]head, len(hosts))
	headH := 0
	for i, h := range hosts {
		heads[i].name = svgWrap(h.name, boxChars)
		if len(h.names) > 0 {
			heads[i].cert = []string{"certificate for:"}
			for _, n := range h.names {
				for j, l := range svgWrap(n, boxChars-2) {
					if j == 0 {
						heads[i].cert = append(heads[i].cert, l)
					} else {
						heads[i].cert = append(heads[i].cert, l)
					}
				}
			}
			if len(heads[i].cert) > 13 {
				more := len(h.names)
				heads[i].cert = append(heads[i].cert[:12:12], fmt.Sprintf("… (%d names in all)", more))
			}
			if h.other > 0 {
				heads[i].cert = append(heads[i].cert, "(and "+analysis.Plural(h.other, "other certificate")+")")
			}
		} else {
			heads[i].cert = svgWrap(h.cert, boxChars)
		}
		hh := len(heads[i].name)*svgLine + 12 + 8 + len(heads[i].cert)*svgLine
		headH = max(headH, hh)
	}
	client := svgWrap(o.Client, 14) // (svgClientW - 12) / svgCharW
	headH = max(headH, len(client)*svgLine+12)
	top := svgMargin
	bodyTop := top + headH + 16

	// The rows: the label lines above each arrow.
	type laid struct {
		lines  []string
		colors []string
		y      int // the arrow's y
	}
	lay := make([]laid, len(rows))
	y := bodyTop
	for i, r := range rows {
		if r.host < 0 {
			lay[i].lines = []string{"⋮ " + analysis.Plural(r.skipped, "more request") + " not drawn (see the timeline)"}
			lay[i].colors = []string{svgMuted}
			y += svgLine + 4
			lay[i].y = y
			y += svgRowPad
			continue
		}
		// A label may run past its host's lifeline to the next one (its
		// white halo keeps it readable over the dashed line).
		span := hostX(r.host) + svgColW/2 - 12 - (clientX + svgArrowGap + 4)
		chars := max(int(span/svgCharW), 28)
		head := fmt.Sprintf("#%d ", r.first)
		if r.count > 1 {
			head = fmt.Sprintf("#%d-%d (%d×) ", r.first, r.last, r.count)
		}
		for _, l := range svgWrap(head+r.label, chars) {
			lay[i].lines = append(lay[i].lines, l)
			lay[i].colors = append(lay[i].colors, svgInk)
		}
		if r.origin != "" {
			for _, l := range svgWrap(r.origin, chars) {
				lay[i].lines = append(lay[i].lines, l)
				lay[i].colors = append(lay[i].colors, svgMuted)
			}
		}
		if r.warn {
			for _, l := range svgWrap("⚠ warns: "+r.rules, chars) {
				lay[i].lines = append(lay[i].lines, l)
				lay[i].colors = append(lay[i].colors, svgWarn)
			}
		}
		y += len(lay[i].lines)*svgLine + 2
		lay[i].y = y
		y += svgRowPad
	}
	legend := svgWrap("red: a client would warn (the rule is named); ← what sent the client there (#N: the timeline's numbers)", int(float64(width-2*svgMargin)/svgCharW))
	legendY := y + 10
	height := legendY + len(legend)*svgLine + svgMargin

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="sequence" role="img" width="%d" height="%d" viewBox="0 0 %d %d" font-family="ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace" font-size="%d">`+"\n", width, height, width, height, svgFont)
	b.WriteString("<title>")
	svgEsc(&b, o.Title)
	b.WriteString("</title>\n")
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	// The client.
	cbh := len(client)*svgLine + 12
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="%s" stroke="%s"/>`+"\n", svgMargin, top, svgClientW, cbh, svgBoxBg, svgLineC)
	svgText(&b, clientX, float64(top+svgLine+2), svgInk, ` text-anchor="middle" font-weight="bold"`, client)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%d" x2="%.0f" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", clientX, top+cbh, clientX, y, svgInk)
	// The hosts.
	for i := range hosts {
		x := hostX(i)
		bh := len(heads[i].name)*svgLine + 12
		fmt.Fprintf(&b, `<rect x="%.0f" y="%d" width="%d" height="%d" rx="6" fill="%s" stroke="%s"/>`+"\n", x-svgColW/2+10, top, svgColW-20, bh, svgBoxBg, svgLineC)
		svgText(&b, x, float64(top+svgLine+2), svgInk, ` text-anchor="middle" font-weight="bold"`, heads[i].name)
		svgText(&b, x, float64(top+bh+8+svgLine-3), svgMuted, ` text-anchor="middle"`, heads[i].cert)
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%d" x2="%.0f" y2="%d" stroke="%s" stroke-dasharray="4 4"/>`+"\n", x, top+bh, x, y, svgLineC)
	}
	// The arrows.
	for i, r := range rows {
		l := lay[i]
		if r.host < 0 {
			svgText(&b, clientX+svgArrowGap+4, float64(l.y-4), svgMuted, ` font-style="italic"`, l.lines)
			continue
		}
		x2 := hostX(r.host) - svgArrowGap
		x1 := clientX + svgArrowGap
		color, w := svgOK, "1.5"
		if r.warn {
			color, w = svgWarn, "2.5"
		}
		ty := float64(l.y - len(l.lines)*svgLine + svgLine - 6)
		fmt.Fprintf(&b, `<g class="arrow%s">`, map[bool]string{true: " warn", false: ""}[r.warn])
		for j, line := range l.lines {
			extra := ""
			if l.colors[j] == svgMuted && r.hedged {
				extra = ` font-style="italic"`
			}
			if l.colors[j] == svgWarn {
				extra = ` font-weight="bold"`
			}
			svgText(&b, x1+4, ty+float64(j*svgLine), l.colors[j], extra, []string{line})
		}
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%d" x2="%.0f" y2="%d" stroke="%s" stroke-width="%s"/>`, x1, l.y, x2-8, l.y, color, w)
		fmt.Fprintf(&b, `<polygon points="%.0f,%d %.0f,%d %.0f,%d" fill="%s"/></g>`+"\n", x2, l.y, x2-10, l.y-5, x2-10, l.y+5, color)
	}
	svgText(&b, float64(svgMargin), float64(legendY+svgLine-4), svgMuted, "", legend)
	b.WriteString("</svg>")
	return b.String()
}
