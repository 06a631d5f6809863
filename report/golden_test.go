package report

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	scen "github.com/certsleuth/certsleuth/internal/scenario"
	"github.com/certsleuth/certsleuth/match"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/record"
)

var update = flag.Bool("update", false, "rewrite the golden reports and scenario traces under testdata/")

// goldenFormats maps each report format to its golden file extension.
var goldenFormats = []struct{ format, ext string }{
	{"text", "txt"}, {"json", "jsonl"}, {"md", "md"}, {"html", "html"},
}

// scenarioTrace is the scenario written as a trace, exactly as proxy would
// write it, with a fixed header time so the file is reproducible.
func scenarioTrace(t testing.TB, sc scen.Scenario) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw, err := record.NewWriter(&buf, "certsleuth test scenarios")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range sc.Obs {
		c := *o
		if err := tw.Write(&c); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	first := bytes.IndexByte(out, '\n')
	hdr := regexp.MustCompile(`"created":"[^"]*"`).ReplaceAll(out[:first], []byte(`"created":"2026-06-15T07:59:00Z"`))
	return append(hdr, out[first:]...)
}

// checkGolden compares got with testdata/path, or rewrites it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./report -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %s\nwant: %s\n(if the change is intended: go test ./report -update)", path, i+1, g, w)
			}
		}
	}
}

// TestGoldenReports renders every scenario trace in every format and
// compares with the golden files. The reports are rendered from the trace
// file read back, the way `certsleuth replay` does, so the committed traces
// under testdata/scenarios are the ones the CLI tests replay.
func TestGoldenReports(t *testing.T) {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: scen.Certs(t).CA.Raw})
	checkGolden(t, "scenarios/ca.pem", ca)
	for _, sc := range scen.List(t) {
		t.Run(sc.Name, func(t *testing.T) {
			trace := scenarioTrace(t, sc)
			checkGolden(t, "scenarios/"+sc.Name+".jsonl", trace)
			obs, rd, err := record.ReadAll(bytes.NewReader(trace), sc.Name+".jsonl")
			if err != nil || len(rd.Errors) > 0 {
				t.Fatalf("read back: %v %v", err, rd.Errors)
			}
			sc.Obs = obs
			r := analyzeScenario(t, sc)
			for _, f := range goldenFormats {
				var b bytes.Buffer
				if err := Render(&b, r, f.format, RenderOptions{Title: sc.Name + ".jsonl"}); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, "golden/"+sc.Name+"."+f.ext, b.Bytes())
				switch f.format {
				case "text":
					checkTextWidth(t, b.String(), r)
				case "json":
					checkJSONLines(t, b.Bytes(), len(sc.Obs), sc.Culprits)
				case "html":
					checkSelfContained(t, b.String())
				}
			}
		})
	}
}

// checkTextWidth: the text report fits 80 columns, except commands (kept
// on one line so they can be pasted) and single words (URLs) too long to fit.
var fixLabel = regexp.MustCompile(`^\s*(fix( \d+)?)?\s+`)

func checkTextWidth(t *testing.T, s string, r *analysis.Report) {
	t.Helper()
	// Only commands (a PowerShell cmdlet) may run past 80 columns; prose
	// remedies wrap like any other field.
	commands := map[string]bool{}
	for _, c := range r.Culprits() {
		for _, rm := range c.Remedies {
			if IsCommand(rm.Command) {
				commands[rm.Command] = true
			}
			for _, oc := range rm.Other {
				if IsCommand(oc.Command) {
					commands["Exchange "+oc.Versions+": "+oc.Command] = true
				}
			}
		}
	}
	for i, l := range strings.Split(s, "\n") {
		if len([]rune(l)) <= 80 || strings.Contains(l, "\x1b[") {
			continue
		}
		if commands[fixLabel.ReplaceAllString(l, "")] {
			continue
		}
		long := false
		for _, w := range strings.Fields(l) {
			long = long || len(w) > 50
		}
		if !long {
			t.Errorf("text line %d is %d columns: %q", i+1, len(l), l)
		}
	}
	if strings.Contains(s, "\x1b[") {
		t.Error("colour without RenderOptions.Color")
	}
}

// checkJSONLines: one JSON object per line; item lines carry the keys the
// capture issue relies on; the last line is the summary.
func checkJSONLines(t *testing.T, b []byte, items, culprits int) {
	t.Helper()
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(lines) != items+1 {
		t.Fatalf("%d JSON lines, want %d items and a summary", len(lines), items)
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if i == len(lines)-1 {
			if m["type"] != "summary" || len(m["culprits"].([]any)) != culprits || len(m["explain"].([]any)) != culprits {
				t.Errorf("summary line: %s", l)
			}
			continue
		}
		for _, k := range []string{"type", "index", "client", "server", "sni", "tls_version", "cert_visibility", "chain", "findings", "warns"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks key %q", i+1, k)
			}
		}
		for _, f := range m["findings"].([]any) {
			fm := f.(map[string]any)
			for _, k := range []string{"id", "severity", "profile"} {
				if _, ok := fm[k]; !ok {
					t.Errorf("line %d: a finding lacks %q", i+1, k)
				}
			}
		}
	}
}

var externalRef = regexp.MustCompile(`(?i)(<script|<link|<img|<iframe|<object|@import|url\(|src=|href="(?:https?:)?//)`)

// checkSelfContained: no scripts, no external assets.
func checkSelfContained(t *testing.T, s string) {
	t.Helper()
	if m := externalRef.FindString(s); m != "" {
		t.Errorf("HTML report is not self-contained: it has %q", m)
	}
	if !strings.HasPrefix(s, "<!DOCTYPE html>") || !strings.Contains(s, "@media print") {
		t.Error("HTML report lacks the doctype or print styles")
	}
}

// Everything from the trace is escaped: a hostile URL, name or
// Autodiscover value cannot inject markup into the HTML or Markdown report.
func TestRenderEscapes(t *testing.T) {
	p := scen.Certs(t)
	exch := p.Leaf("mail.contoso.com", "mail.contoso.com")
	evil := `https://exch01.contoso.local/EWS/Exchange.asmx?<script>alert(1)</script>&x="'><img src=x onerror=alert(2)>|**bold**`
	body := strings.Replace(scen.POXAnswer("exch01.contoso.local", "mail.contoso.com", "mail.contoso.com", ""), "https://exch01.contoso.local/EWS/Exchange.asmx</EwsUrl>",
		"https://exch01.contoso.local/EWS/Exchange.asmx?&lt;script&gt;alert(1)&lt;/script&gt;&amp;x=&quot;&apos;&gt;&lt;img src=x onerror=alert(2)&gt;|**bold**</EwsUrl>", 1)
	obs := []*record.Observation{
		scen.WithBody(scen.HTTPSObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, scen.ExchAddr), body),
		scen.HTTPSObs(1, "POST", evil, 200, exch, scen.ExchAddr),
	}
	r := analysis.Analyze(obs, analysis.Options{Roots: p.Roots, Now: scen.Day})
	if len(r.Culprits()) == 0 {
		t.Fatal("no culprit")
	}
	var h, m bytes.Buffer
	if err := Render(&h, r, "html", RenderOptions{Title: `<b>title</b>`}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<img src=x", "<b>title</b>"} {
		if strings.Contains(h.String(), bad) {
			t.Errorf("HTML report contains unescaped %q", bad)
		}
	}
	if !strings.Contains(h.String(), "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("HTML report lost the hostile URL instead of escaping it")
	}
	if err := Render(&m, r, "md", RenderOptions{Title: `<b>title</b>`}); err != nil {
		t.Fatal(err)
	}
	// Code spans and blocks show their text literally; outside them nothing
	// may be markup.
	prose := regexp.MustCompile("(?s)```.*?```|`[^`]*`").ReplaceAllString(m.String(), "")
	for _, bad := range []string{"<script>", "<img src=x", "<b>title</b>", " **bold**"} {
		if strings.Contains(prose, bad) {
			t.Errorf("Markdown report contains unescaped %q", bad)
		}
	}
}

func TestCheckFormat(t *testing.T) {
	for _, f := range []string{"text", "json", "md", "markdown", "html"} {
		if err := CheckFormat(f); err != nil {
			t.Errorf("CheckFormat(%q) = %v", f, err)
		}
	}
	err := CheckFormat("pdf")
	if err == nil || !strings.Contains(err.Error(), "text, json, md, html") {
		t.Errorf("CheckFormat(pdf) = %v", err)
	}
	if err := Render(&bytes.Buffer{}, &analysis.Report{}, "pdf", RenderOptions{}); err == nil {
		t.Error("Render accepted pdf")
	}
}

// Colour changes nothing but the escape codes: the layout (wrapping,
// alignment) is the same as without.
func TestTextColourKeepsLayout(t *testing.T) {
	ansi := regexp.MustCompile("\x1b\\[[0-9;]*m")
	for _, sc := range scen.List(t) {
		r := analyzeScenario(t, sc)
		var plain, col bytes.Buffer
		if err := Render(&plain, r, "text", RenderOptions{Title: sc.Name}); err != nil {
			t.Fatal(err)
		}
		if err := Render(&col, r, "text", RenderOptions{Title: sc.Name, Color: true}); err != nil {
			t.Fatal(err)
		}
		if sc.Culprits > 0 && !bytes.Contains(col.Bytes(), []byte(ansiRed)) {
			t.Errorf("%s: no red in the coloured report", sc.Name)
		}
		if got := ansi.ReplaceAllString(col.String(), ""); got != plain.String() {
			t.Errorf("%s: colour changed the layout:\n%s", sc.Name, got)
		}
	}
}

// analyzeScenario runs Analyze the way replay does, with the scenario CA
// trusted and a fixed clock.
func analyzeScenario(t testing.TB, sc scen.Scenario) *analysis.Report {
	t.Helper()
	ps, err := match.SelectProfiles(sc.Profiles)
	if err != nil {
		t.Fatal(err)
	}
	return analysis.Analyze(sc.Obs, analysis.Options{Profiles: ps, Roots: scen.Certs(t).Roots, Now: scen.Day})
}
