package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	scen "github.com/certsleuth/certsleuth/internal/scenario"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/record"
)

// TestSequenceSVGGolden draws each scenario's picture and compares it with
// testdata/golden/NAME.svg (go test ./analysis -run SequenceSVG -update
// rewrites them; open them in a browser to review).
func TestSequenceSVGGolden(t *testing.T) {
	for _, sc := range scen.List(t) {
		t.Run(sc.Name, func(t *testing.T) {
			svg := SequenceSVG(analyzeScenario(t, sc), SequenceOptions{})
			checkSVG(t, svg)
			checkGolden(t, "golden/"+sc.Name+".svg", []byte(svg+"\n"))
		})
	}
}

// TestSequenceSVGContent checks what the KB 940726 picture says: the hosts
// in order, the certificate's names under them, the Autodiscover field
// that sent the client on, and the warning in red with its rule.
func TestSequenceSVGContent(t *testing.T) {
	var sc scen.Scenario
	for _, s := range scen.List(t) {
		if s.Name == "kb940726" {
			sc = s
		}
	}
	svg := SequenceSVG(analyzeScenario(t, sc), SequenceOptions{})
	texts := svgTexts(t, svg)
	all := strings.Join(texts, " ")
	for _, want := range []string{"exch01.contoso.local", "certificate for: mail.contoso.com autodiscover.contoso.com", "EXCH EwsUrl in Autodiscover #2", "⚠ warns: name.mismatch", "likely the AD SCP"} {
		if !strings.Contains(all, want) {
			t.Errorf("the picture does not say %q; its texts:\n%s", want, all)
		}
	}
	if !strings.Contains(svg, `class="arrow warn"`) || !strings.Contains(svg, `stroke="`+svgWarn+`"`) {
		t.Error("no red warning arrow")
	}
	for _, bad := range []string{"<script", "<style", "href", "<foreignObject", "url("} {
		if strings.Contains(svg, bad) {
			t.Errorf("the picture contains %q", bad)
		}
	}
}

// TestSVGWrap: names wrap after dots, slashes and the like, never inside
// a word; a word longer than the width stays whole.
func TestSVGWrap(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  []string
	}{
		{"mail.contoso.com", 30, []string{"mail.contoso.com"}},
		{"autodiscover.eu-west.mail.contoso-holdings.example", 20, []string{"autodiscover.eu-", "west.mail.contoso-", "holdings.example"}},
		{"POST /autodiscover/autodiscover.xml → 200", 24, []string{"POST /autodiscover/", "autodiscover.xml → 200"}},
		{"averyveryveryverylonglabelwithoutbreaks.com", 10, []string{"averyveryveryverylonglabelwithoutbreaks.", "com"}},
		{"", 10, []string{""}},
	} {
		got := svgWrap(tc.in, tc.width)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("svgWrap(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
		if strings.Join(got, "") != strings.ReplaceAll(tc.in, " ", "") && strings.ReplaceAll(strings.Join(got, " "), "  ", " ") != tc.in {
			// Joining the lines gives the input back (a space at a break is dropped).
			if strings.ReplaceAll(strings.Join(got, ""), " ", "") != strings.ReplaceAll(tc.in, " ", "") {
				t.Errorf("svgWrap(%q) lost text: %q", tc.in, got)
			}
		}
	}
}

// hostileNames are names and URLs a client or a server may send that would
// break out of an SVG or HTML context if they were not escaped.
var hostileNames = []string{
	`evil.com"><script>alert(1)</script>`,
	`</text><foreignObject><iframe src=javascript:alert(1)>`,
	`a&b;c.contoso.com`,
	"ctl\x00\x01\x1b[31m.example",
	`]]><!--x-->.example`,
	"invalid\xff\xfeutf8.example",
	`<svg onload=alert(1)>`,
	strings.Repeat("long-label-", 30) + ".example",
}

// TestSequenceSVGHostile: hostile host names, URLs, Location headers and
// certificate names come out as text: the SVG parses as XML, has no
// element but the picture's own, and says the names back.
func TestSequenceSVGHostile(t *testing.T) {
	p := scen.Certs(t)
	for _, h := range hostileNames {
		ascii := strings.Map(func(r rune) rune { // a certificate's names are IA5 strings
			if r < 0x20 || r > 0x7e {
				return '?'
			}
			return r
		}, h)
		leaf := p.Leaf(ascii, ascii, "ok.example")
		obs := []*record.Observation{
			{Kind: record.KindHTTP, Source: record.SourceProxy, Time: scen.At(0), Method: "GET", URL: "https://" + h + "/p?q=" + h, Status: 302, Location: "https://" + h + "/</svg>", SNI: h, Chain: leaf},
			{Kind: record.KindTLS, Source: record.SourceProxy, Time: scen.At(1), SNI: h, Connect: h + ":443", Error: h, ClientAlert: h},
		}
		r := analysis.Analyze(obs, analysis.Options{Roots: p.Roots, Now: scen.Day})
		svg := SequenceSVG(r, SequenceOptions{Client: h, Title: h})
		checkSVG(t, svg)
	}
}

// FuzzSequenceSVG: whatever the names, the picture is well-formed XML with
// only its own elements.
func FuzzSequenceSVG(f *testing.F) {
	for _, h := range hostileNames {
		f.Add(h, "/"+h, h)
	}
	f.Fuzz(func(t *testing.T, host, path, alert string) {
		o := &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Unix(1e9, 0), Method: "GET", URL: "https://" + host + path, SNI: host, Status: 301, Location: path}
		o2 := &record.Observation{Kind: record.KindTLS, Source: record.SourceProxy, Time: time.Unix(1e9, 0), SNI: host, ClientAlert: alert, Error: path}
		r := analysis.Analyze([]*record.Observation{o, o2}, analysis.Options{Now: time.Unix(1e9, 0)})
		checkSVG(t, SequenceSVG(r, SequenceOptions{Client: alert}))
	})
}

// svgElements are the only elements the picture may hold.
var svgElements = map[string]bool{"svg": true, "title": true, "rect": true, "text": true, "tspan": true, "line": true, "polygon": true, "g": true}

// checkSVG parses svg as XML and fails on any element or attribute the
// picture does not draw with.
func checkSVG(t testing.TB, svg string) {
	t.Helper()
	if svg == "" {
		return
	}
	if !utf8.ValidString(svg) {
		t.Fatalf("the SVG is not UTF-8")
	}
	d := xml.NewDecoder(strings.NewReader(svg))
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%.3000s", err, svg)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if !svgElements[e.Name.Local] {
				t.Fatalf("the SVG holds an element <%s>", e.Name.Local)
			}
			for _, a := range e.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") || strings.Contains(a.Name.Local, "href") || a.Name.Local == "style" {
					t.Fatalf("the SVG holds an attribute %s=%q", a.Name.Local, a.Value)
				}
			}
		case xml.EndElement:
			depth--
		case xml.ProcInst, xml.Directive:
			t.Fatalf("the SVG holds %T", e)
		}
	}
	if depth != 0 {
		t.Fatalf("unbalanced SVG")
	}
	if bytes.Count([]byte(svg), []byte("<svg")) != 1 {
		t.Fatalf("the SVG holds more than one <svg>")
	}
}

// svgTexts returns the picture's text lines (each <tspan>).
func svgTexts(t testing.TB, svg string) []string {
	var out []string
	d := xml.NewDecoder(strings.NewReader(svg))
	in := false
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			in = e.Name.Local == "tspan"
		case xml.CharData:
			if in {
				out = append(out, string(e))
			}
		case xml.EndElement:
			in = false
		}
	}
	return out
}
