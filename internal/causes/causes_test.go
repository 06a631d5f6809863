package causes

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFromJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // Lines
		err  string
	}{
		{
			name: "repeats counted, URL path only, port without URL",
			in: `{"type":"connection","index":1,"server":"10.0.0.5:443","chain":[{"sha256":"aaaaaaaaaaaaaaaaaaaaaaaa"}]}
{"type":"http","index":2,"server":"10.0.0.5:443","chain":[{"sha256":"bbbbbbbbbbbbbbbbbbbb"}]}
{"type":"summary","explain":[{"index":1,"repeats":[3,4],"name":"Mail.Contoso.com","profiles":["go","apple"],"checks":["name.mismatch","chain.expired"],"origin":[{"setting":"ews"}],"remedies":[{"command":"Set-X"},{"command":"Set-Y"}]},{"index":2,"repeats":[],"name":"mail.contoso.com","url":"https://mail.contoso.com/EWS/Exchange.asmx?x=1","profiles":["windows"],"checks":["name.mismatch"],"origin":[],"remedies":[]}]}
`,
			want: []string{
				"mail.contoso.com|aaaaaaaaaaaaaaaa|chain.expired,name.mismatch||ews|443\t3\tapple,go\tSet-X",
				"mail.contoso.com|bbbbbbbbbbbbbbbb|name.mismatch|https://mail.contoso.com/ews/exchange.asmx||\t1\twindows\t",
			},
		},
		{
			name: "requests field wins, own leaf and server, equal keys merged",
			in: `{"type":"summary","explain":[{"index":7,"requests":5,"leaf":"cc","server":"h:993","name":"h","profiles":["go"],"checks":["x"]},{"index":9,"requests":2,"leaf":"cc","server":"h:993","name":"H","profiles":["apple"],"checks":["x"]}]}
`,
			want: []string{"h|cc|x|||993\t7\tapple,go\t"},
		},
		{name: "no summary", in: `{"type":"connection","index":1}` + "\n", err: "want one summary line, found 0"},
		{name: "not JSON", in: "text report\n", err: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromJSON(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, c := range got {
				lines = append(lines, c.Line())
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestWriteReadDiff(t *testing.T) {
	a := []Cause{{Key: "a", Requests: 2, Profiles: "go", Fix: "f"}, {Key: "b", Requests: 1}}
	var sb strings.Builder
	if err := Write(&sb, a); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sb.String(), "# causes 2 requests 3\n") {
		t.Errorf("header: %q", sb.String())
	}
	back, err := Read(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(a, back); d != nil {
		t.Errorf("read back differs: %v", d)
	}
	b := []Cause{{Key: "a", Requests: 3, Profiles: "go", Fix: "f"}, {Key: "c", Requests: 1}}
	d := Diff(a, b)
	if len(d) != 3 || !strings.HasPrefix(d[0], "changed: a\t2") || !strings.HasPrefix(d[1], "new cause: c") || !strings.HasPrefix(d[2], "lost cause: b") {
		t.Errorf("diff: %q", d)
	}
	if _, err := Read(strings.NewReader("a\t1\n")); err == nil {
		t.Error("a line with two fields was read")
	}
}

// TestCausesUnchanged is issue 17's comparison on the committed scenario
// traces and captures: testdata/old holds the causes and counts of the
// reports of 1e92c34 (before the streaming pipeline; each file names the
// golden JSON report it was taken from), and the goldens of today, which
// the golden tests of analysis, report and capture hold equal to what the
// code renders, must have the same causes, request counts, warning
// profiles and first fix.
func TestCausesUnchanged(t *testing.T) {
	old, err := filepath.Glob("testdata/old/*.txt")
	if err != nil || len(old) < 40 {
		t.Fatalf("testdata/old: %d files (%v), want the 48 recorded", len(old), err)
	}
	for _, f := range old {
		t.Run(filepath.Base(f), func(t *testing.T) {
			report := reportOf(t, f)
			path := filepath.Join("..", "..", report)
			if _, err := os.Stat(path); err != nil && strings.HasPrefix(report, "analysis/testdata/golden/") {
				// The renderers and their goldens moved to report/ (issue 17).
				path = filepath.Join("..", "..", "report", strings.TrimPrefix(report, "analysis/"))
			}
			rf, err := os.Open(path)
			if err != nil {
				t.Fatalf("%s: %v (the golden report the causes were recorded from)", f, err)
			}
			defer rf.Close()
			got, err := FromJSON(rf)
			if err != nil {
				t.Fatal(err)
			}
			of, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer of.Close()
			want, err := Read(of)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range Diff(want, got) {
				t.Errorf("%s: %s", path, d)
			}
		})
	}
}

// reportOf reads the "# report PATH" line of a recorded causes file.
func reportOf(t *testing.T, f string) string {
	t.Helper()
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "# report "); ok {
			return p
		}
	}
	t.Fatalf("%s: no '# report PATH' line", f)
	return ""
}
