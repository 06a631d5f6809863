package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestReportsBounded: whatever the number of causes, the text and Markdown
// reports give textFull in full and textListed a line each, count the rest,
// sum every cause by rule, and stay short; --all gives every cause in full
// and every observation.
func TestReportsBounded(t *testing.T) {
	const n = 300
	r := manyCauses(t, n)
	requests := 0
	for _, c := range r.Culprits() {
		requests += c.Requests
	}
	var text, md, all bytes.Buffer
	if err := Render(&text, r, "text", RenderOptions{Title: "many"}); err != nil {
		t.Fatal(err)
	}
	if err := Render(&md, r, "md", RenderOptions{Title: "many"}); err != nil {
		t.Fatal(err)
	}
	if err := Render(&all, r, "text", RenderOptions{Title: "many", All: true}); err != nil {
		t.Fatal(err)
	}
	full := regexp.MustCompile(`(?m)^(\d+)\. host\d+\.contoso\.com/owa/: name\.mismatch$`)
	line := regexp.MustCompile(`(?m)^ +(\d+)\. host\d+\.contoso\.com/owa/: name\.mismatch \(\d+ requests?\)$`)
	if got := len(full.FindAllString(text.String(), -1)); got != textFull {
		t.Errorf("%d causes in full, want %d", got, textFull)
	}
	if got := len(line.FindAllString(text.String(), -1)); got != textListed {
		t.Errorf("%d causes a line each, want %d", got, textListed)
	}
	rest := fmt.Sprintf("%d more causes (", n-textFull-textListed)
	if !strings.Contains(text.String(), rest) || !strings.Contains(md.String(), rest) {
		t.Errorf("the reports do not count the %d causes they leave out", n-textFull-textListed)
	}
	if want := fmt.Sprintf("%d requests in %d causes: name.mismatch (the biggest: cause 1)", requests, n); !strings.Contains(strings.Join(strings.Fields(text.String()), " "), want) {
		t.Errorf("the text report does not sum the causes by rule: want %q", want)
	}
	if lines := strings.Count(text.String(), "\n"); lines > 1000 {
		t.Errorf("the text report of %d causes is %d lines", n, lines)
	}
	if got := strings.Count(md.String(), "\n### <a id=\"cause-"); got != textFull {
		t.Errorf("Markdown: %d causes in full, want %d", got, textFull)
	}
	if got := len(full.FindAllString(all.String(), -1)); got != n {
		t.Errorf("with All, %d causes in full, want %d", got, n)
	}
	if !strings.Contains(all.String(), "\nall observations:\n") || strings.Contains(text.String(), "all observations:") {
		t.Error("the list of every observation should be there with All only")
	}
}
