package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	// servemalformed VAR KIND CAFILE: serve a leaf for mail.contoso.com
	// with testcert's malformed KIND on 127.0.0.1, set $VAR to its
	// address and write its CA to CAFILE.
	scriptCmds["servemalformed"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 3 {
			ts.Fatalf("usage: servemalformed VAR KIND CAFILE")
		}
		tb := &deferT{ts: ts}
		ca := testcert.NewCA(tb, "certsleuth malformed script CA")
		ts.Check(os.WriteFile(ts.MkAbs(args[2]), testcert.PEM(ca.Cert.Raw), 0o644))
		ts.Setenv(args[0], testcert.Serve(tb, ca.Malformed(tb, args[1]), nil))
	}
	// malformedcap NAME...: copy testdata/malformed/NAME to the work dir.
	scriptCmds["malformedcap"] = func(ts *testscript.TestScript, neg bool, args []string) {
		for _, name := range args {
			b, err := os.ReadFile(filepath.Join("testdata", "malformed", name))
			ts.Check(err)
			ts.Check(os.WriteFile(ts.MkAbs(name), b, 0o644))
		}
	}
	// altertrace IN OUT N: copy the trace IN to OUT with one base64
	// character of the first chain line changed and N garbage lines added.
	scriptCmds["altertrace"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 3 {
			ts.Fatalf("usage: altertrace IN OUT N")
		}
		lines := strings.SplitAfter(ts.ReadFile(args[0]), "\n")
		id := "" // the chain of the first observation
		for _, l := range lines {
			if _, rest, ok := strings.Cut(l, `"chain":"`); ok && strings.HasPrefix(l, `{"type":"obs"`) {
				id, _, _ = strings.Cut(rest, `"`)
				break
			}
		}
		for i, l := range lines {
			j := strings.Index(l, `"certs":["MII`)
			if j >= 0 && strings.Contains(l, `"`+id+`"`) {
				lines[i] = l[:j+12] + "J" + l[j+13:] // MII -> MIJ: the line no longer matches its ID
				break
			}
		}
		var n int
		for _, c := range args[2] {
			n = n*10 + int(c-'0')
		}
		out := strings.Join(lines, "") + strings.Repeat("{not json\n", n)
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o644))
	}
}
