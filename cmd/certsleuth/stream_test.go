package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
)

// TestReplayStreamsAsAnalyze: replay analyses as it reads (the items go
// to the JSON writer, or to a spill file for --all), and its report is
// byte for byte the report of the whole list analysed at once (Analyze),
// in every format, with and without --all, on every scenario trace.
func TestReplayStreamsAsAnalyze(t *testing.T) {
	traces, err := filepath.Glob("../../report/testdata/scenarios/*.jsonl")
	if err != nil || len(traces) == 0 {
		t.Fatalf("no scenario traces: %v", err)
	}
	ca := "../../report/testdata/scenarios/ca.pem"
	roots, err := certs.LoadCertificates(ca)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, trace := range traces {
		f, err := os.Open(trace)
		if err != nil {
			t.Fatal(err)
		}
		obs, _, err := record.ReadAll(f, trace)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		whole := analysis.Analyze(obs, analysis.Options{Roots: rootPool(true, roots)})
		for _, format := range report.Formats {
			for _, all := range []bool{false, true} {
				if format == "json" && all {
					continue
				}
				name := filepath.Base(trace) + "/" + format
				args := []string{"certsleuth", "replay", "--ca-file", ca, "--format", format}
				if all {
					name += "/all"
					args = append(args, "--all")
				}
				t.Run(name, func(t *testing.T) {
					var out, errb bytes.Buffer
					run(append(args, trace), &out, &errb)
					var want bytes.Buffer
					if err := report.Render(&want, whole, format, report.RenderOptions{Title: trace, All: all}); err != nil {
						t.Fatal(err)
					}
					if out.String() != want.String() {
						t.Errorf("replay's report differs from Analyze's (stderr %q):\n--- replay\n%s\n--- Analyze\n%s", errb.String(), head(out.String()), head(want.String()))
					}
				})
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("replay left files behind in TMPDIR: %v", left)
	}
}

func head(s string) string {
	if lines := strings.SplitN(s, "\n", 41); len(lines) > 40 {
		return strings.Join(lines[:40], "\n") + "\n..."
	}
	return s
}
