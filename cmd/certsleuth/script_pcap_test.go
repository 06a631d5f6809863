package main

import (
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
)

// captureTestdata holds the committed test captures (see capture/testdata/README.md).
const captureTestdata = "../../capture/testdata"

func init() {
	// testcap NAME...: copy test captures (and their key logs) from
	// capture/testdata into the script's work directory (a NAME in a
	// folder, real/x.pcap, keeps its folder); "ca.pem" is copied as
	// capca.pem, the CA of those captures.
	scriptCmds["testcap"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) == 0 {
			ts.Fatalf("usage: testcap NAME...")
		}
		for _, name := range args {
			b, err := os.ReadFile(filepath.Join(captureTestdata, name))
			ts.Check(err)
			out := name
			if name == "ca.pem" {
				out = "capca.pem"
			}
			ts.Check(os.MkdirAll(filepath.Dir(ts.MkAbs(out)), 0o755))
			ts.Check(os.WriteFile(ts.MkAbs(out), b, 0o644))
		}
	}
}
