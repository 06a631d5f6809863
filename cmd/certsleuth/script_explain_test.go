package main

import (
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
)

// reportTestdata is report/testdata, where the scenario traces and
// their golden reports live (written by `go test ./report -update`).
var reportTestdata = func() string {
	p, err := filepath.Abs(filepath.Join("..", "..", "report", "testdata"))
	if err != nil {
		panic(err)
	}
	return p
}()

func init() {
	// scenario NAME: copy the scenario trace NAME.jsonl and the scenario
	// CA (as scenario-ca.pem) into the work directory.
	scriptCmds["scenario"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: scenario NAME")
		}
		copyIn(ts, filepath.Join(reportTestdata, "scenarios", args[0]+".jsonl"), args[0]+".jsonl")
		copyIn(ts, filepath.Join(reportTestdata, "scenarios", "ca.pem"), "scenario-ca.pem")
	}
	// golden NAME.EXT OUT: copy the golden report NAME.EXT to OUT.
	scriptCmds["golden"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: golden NAME.EXT OUT")
		}
		copyIn(ts, filepath.Join(reportTestdata, "golden", args[0]), args[1])
	}
}

func copyIn(ts *testscript.TestScript, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		ts.Fatalf("%v (run: go test ./report -update)", err)
	}
	ts.Check(os.WriteFile(ts.MkAbs(to), b, 0o644))
}
