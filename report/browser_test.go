package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	scen "github.com/certsleuth/certsleuth/internal/scenario"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/internal/browser"
)

// The first screen is what a manager sees on opening the report: the
// browser window certsleuth promises to fill with the verdict.
const firstScreenW, firstScreenH = 1280, 800

// chromiumPath finds a headless-capable Chromium (see browser.Path).
func chromiumPath(t *testing.T) string { return browser.Path(t) }

// probeScript runs in the page (the report itself has no script): for each
// wanted string it finds the text nodes holding it and says whether one is
// rendered, visible, and wholly inside the first screen. The result goes
// into a <pre id="certsleuth-probe"> that --dump-dom prints.
const probeScript = `<script>
(function(){
  var want = %s, out = {viewport: [innerWidth, innerHeight], found: {}};
  want.forEach(function(w){
    var best = null, tw = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (var n = tw.nextNode(); n; n = tw.nextNode()) {
      var i = n.data.indexOf(w);
      if (i < 0) continue;
      var r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + w.length);
      var b = r.getBoundingClientRect(), el = n.parentElement, st = getComputedStyle(el);
      var vis = b.width > 0 && b.height > 0 && st.visibility === "visible" && st.display !== "none" && parseFloat(st.opacity) > 0 && el.checkVisibility();
      var first = vis && b.top >= 0 && b.bottom <= innerHeight && b.left >= 0 && b.right <= innerWidth;
      var hit = {visible: vis, firstScreen: first, top: Math.round(b.top), bottom: Math.round(b.bottom), tag: el.tagName};
      if (!best || (hit.firstScreen && !best.firstScreen)) best = hit;
    }
    out.found[w] = best;
  });
  var p = document.createElement("pre"); p.id = "certsleuth-probe"; p.textContent = JSON.stringify(out);
  document.body.appendChild(p);
})();
</script>`

type probeHit struct {
	Visible     bool   `json:"visible"`
	FirstScreen bool   `json:"firstScreen"`
	Top         int    `json:"top"`
	Bottom      int    `json:"bottom"`
	Tag         string `json:"tag"`
}

type probeResult struct {
	Viewport []int                `json:"viewport"`
	Found    map[string]*probeHit `json:"found"`
}

// browserSlots bounds how many Chromium processes the parallel subtests
// start at once.
var browserSlots = make(chan struct{}, 2)

var probeOut = regexp.MustCompile(`(?s)<pre id="certsleuth-probe">(.*?)</pre>`)

// firstScreen loads page in headless Chromium at the first-screen size and
// reports where each wanted string is rendered.
func firstScreen(t *testing.T, chrome string, page []byte, want []string) probeResult {
	t.Helper()
	dir := t.TempDir()
	w, _ := json.Marshal(want)
	probe := fmt.Sprintf(probeScript, w)
	i := bytes.LastIndex(page, []byte("</body>"))
	if i < 0 {
		t.Fatal("the HTML report has no </body>")
	}
	file := filepath.Join(dir, "report.html")
	doc := append(append(append([]byte{}, page[:i]...), probe...), page[i:]...)
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	browserSlots <- struct{}{}
	defer func() { <-browserSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--hide-scrollbars", fmt.Sprintf("--window-size=%d,%d", firstScreenW, firstScreenH),
		"--virtual-time-budget=3000", "--dump-dom", "file://"+file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", chrome, err, stderr.String())
	}
	m := probeOut.FindSubmatch(stdout.Bytes())
	if m == nil {
		t.Fatalf("Chromium did not run the probe; its DOM:\n%.2000s\nstderr:\n%.2000s", stdout.String(), stderr.String())
	}
	var res probeResult
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &res); err != nil {
		t.Fatalf("probe result %q: %v", m[1], err)
	}
	return res
}

// TestHTMLFirstScreen opens each scenario's HTML report in headless
// Chromium and checks that the first screen shows the verdict: the culprit
// request, its origin and the fix (or, for the clean configuration, that
// nothing warns and no culprit is shown).
func TestHTMLFirstScreen(t *testing.T) {
	chrome := chromiumPath(t)
	for _, sc := range scen.List(t) {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			r := analyzeScenario(t, sc)
			// The golden file: TestGoldenReports keeps it equal to what
			// Render gives, and the CLI tests compare replay's output to it.
			golden, err := os.ReadFile(filepath.Join("testdata", "golden", sc.Name+".html"))
			if err != nil {
				t.Fatalf("%v (run: go test ./report -update)", err)
			}
			page := bytes.NewBuffer(golden)
			var want []string
			cs := r.Culprits()
			if len(cs) == 0 {
				want = []string{"No request in this trace would make a client warn"}
			} else {
				c := cs[0]
				want = []string{analysis.Describe(c.First.Obs), c.Remedies[0].Command}
				if len(c.Origin) > 0 {
					want = append(want, c.Origin[0].Text)
				}
			}
			res := firstScreen(t, chrome, page.Bytes(), append(want, "The observations one by one"))
			if len(res.Viewport) != 2 || res.Viewport[1] < firstScreenH/2 {
				t.Fatalf("odd viewport %v", res.Viewport)
			}
			for _, w := range want {
				h := res.Found[w]
				switch {
				case h == nil:
					t.Errorf("%q is not on the page", w)
				case !h.Visible:
					t.Errorf("%q is on the page but not visible: %+v", w, *h)
				case !h.FirstScreen:
					t.Errorf("%q is not in the first screen (%dx%d): it is at %d-%d px", w, res.Viewport[0], res.Viewport[1], h.Top, h.Bottom)
				}
			}
			if h := res.Found["The observations one by one"]; h == nil || !h.Visible {
				t.Error("the note on how to get every observation (--all) is not visible")
			}
			if len(cs) == 0 && strings.Contains(page.String(), `class="badge b-warn"`) {
				t.Error("the clean report shows a warning badge")
			}
		})
	}
}

var pdfPageCount = regexp.MustCompile(`/Type\s*/Pages\b[^>]*?/Count (\d+)|/Count (\d+)`)

// TestHTMLPrints prints the longest scenario report to PDF in headless
// Chromium (the print stylesheet applies) and checks that it gives a
// document of a sensible number of pages.
func TestHTMLPrints(t *testing.T) {
	chrome := chromiumPath(t)
	dir := t.TempDir()
	pdf := filepath.Join(dir, "report.pdf")
	src, err := filepath.Abs(filepath.Join("testdata", "golden", "kb940726.html"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+src).CombinedOutput()
	if err != nil {
		t.Fatalf("%s --print-to-pdf: %v\n%s", chrome, err, out)
	}
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %.20q", b)
	}
	m := pdfPageCount.FindSubmatch(b)
	if m == nil {
		t.Fatal("no page count in the PDF")
	}
	n := 0
	fmt.Sscan(string(append(m[1], m[2]...)), &n)
	if n < 1 || n > 12 {
		t.Errorf("the printed report has %d pages, want 1 to 12", n)
	}
}
