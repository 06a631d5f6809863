package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/internal/browser"
	scen "github.com/certsleuth/certsleuth/internal/scenario"
	"github.com/certsleuth/certsleuth/record"
)

// manyCauses is a trace of n hosts the certificate does not cover, host i
// asked for 1 + (i*7)%13 times, so the causes have different sizes in an
// order unlike the order they happened in.
func manyCauses(t testing.TB, n int) *analysis.Report {
	p := scen.Certs(t)
	leaf := p.Leaf("mail.contoso.com", "mail.contoso.com")
	var obs []*record.Observation
	for round := 0; round < 13; round++ {
		for i := 0; i < n; i++ {
			if round < 1+(i*7)%13 {
				o := scen.HTTPSObs(round*60+i%60, "GET", fmt.Sprintf("https://host%d.contoso.com/owa/", i), 200, leaf, "198.51.100.5:443")
				o.Client = fmt.Sprintf("10.0.%d.%d:50000", round, i%250)
				obs = append(obs, o)
			}
		}
	}
	return analysis.Analyze(obs, analysis.Options{Roots: p.Roots, Now: scen.Day})
}

// TestHTMLCausesOrdered opens the HTML report of a trace with more causes
// than it shows in Chromium and reads from the DOM that the causes appear
// the biggest first, each once, the first htmlFull in full and the next
// htmlListed a row each, and that the rest are counted.
func TestHTMLCausesOrdered(t *testing.T) {
	chrome := browser.Path(t)
	const n = htmlFull + htmlListed + 80
	r := manyCauses(t, n)
	var page bytes.Buffer
	if err := Render(&page, r, "html", RenderOptions{Title: "many causes"}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CERTSLEUTH_CHROMIUM", chrome)
	b := browser.Start(t, browser.Options{Width: 1280, Height: 800})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := b.Navigate(ctx, "file://"+file); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Ready  bool
		Causes []struct {
			N, Requests int
			Title, Tag  string
		}
		Rest    string
		Verdict string
	}
	for {
		err := b.Eval(ctx, `(() => ({
			Ready: document.readyState === "complete" && location.protocol === "file:",
			Causes: [...document.querySelectorAll("[data-cause]")].map(e => ({N: +e.dataset.cause, Requests: +e.dataset.requests, Title: e.dataset.title, Tag: e.tagName})),
			Rest: (document.getElementById("rest") || {}).textContent || "",
			Verdict: (document.querySelector("#verdict [data-cause], #verdict") || {}).dataset?.cause || "",
		}))()`, &got)
		if err != nil {
			t.Fatal(err)
		}
		if got.Ready {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the report did not load")
		case <-time.After(50 * time.Millisecond):
		}
	}
	if len(got.Causes) != htmlFull+htmlListed {
		t.Fatalf("%d causes on the page, want %d in full and %d a row each", len(got.Causes), htmlFull, htmlListed)
	}
	if got.Verdict != "1" {
		t.Errorf("the verdict box holds cause %q, want the biggest", got.Verdict)
	}
	seen := map[string]bool{}
	for i, c := range got.Causes {
		if c.N != i+1 {
			t.Fatalf("element %d is cause %d: the causes are out of order", i+1, c.N)
		}
		if seen[c.Title] {
			t.Errorf("cause %q is on the page twice", c.Title)
		}
		seen[c.Title] = true
		if i > 0 && c.Requests > got.Causes[i-1].Requests {
			t.Errorf("cause %d (%d requests) comes after cause %d (%d requests)", c.N, c.Requests, c.N-1, got.Causes[i-1].Requests)
		}
		wantTag := "SECTION"
		if i >= htmlFull {
			wantTag = "TR"
		}
		if c.Tag != wantTag {
			t.Errorf("cause %d is a %s, want a %s", c.N, c.Tag, wantTag)
		}
	}
	if got.Causes[0].Requests != 13 || got.Causes[len(got.Causes)-1].Requests < 1 {
		t.Errorf("biggest cause %d requests, last shown %d", got.Causes[0].Requests, got.Causes[len(got.Causes)-1].Requests)
	}
	if !strings.Contains(got.Rest, "80 more causes") {
		t.Errorf("the page does not count the causes it leaves out: %q", got.Rest)
	}
}
