// Package pcaprun runs `certsleuth pcap --record` for the comparison
// scripts (scripts/comparetshark, scripts/comparezeek) and reads back the
// TLS observations, the JSON report and the exit status.
package pcaprun

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/certsleuth/certsleuth/record"
)

// TLS reads file with the certsleuth binary bin (`pcap --record`) and
// returns its TLS observations. Exit status 1 (a connection would warn)
// and 3 (one was not judged) are verdicts; 2 is an error, returned with
// the observations read before it (a corrupt file still yields those
// before the damage).
func TLS(bin, file string) ([]*record.Observation, error) {
	r, err := Run(bin, file)
	if r == nil {
		return nil, err
	}
	return r.TLS, err
}

// Result is what one `certsleuth pcap --record TRACE --format json` run
// of a file gave.
type Result struct {
	// TLS are the TLS observations of the trace.
	TLS []*record.Observation
	// Report is the JSON report (JSON Lines, the summary last).
	Report []byte
	// Exit is certsleuth's exit status.
	Exit int
}

// Run reads file with the certsleuth binary bin once, writing both the
// trace and the JSON report, and returns them with the exit status. The
// error is as TLS's; the Result is nil only when the run wrote no trace.
func Run(bin, file string) (*Result, error) {
	dir, err := os.MkdirTemp("", "pcaprun")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	trace := filepath.Join(dir, "trace.jsonl")
	report := filepath.Join(dir, "report.jsonl")
	cmd := exec.Command(bin, "pcap", "--record", trace, "--format", "json", "-o", report, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	res := &Result{}
	if ee, ok := runErr.(*exec.ExitError); ok {
		res.Exit = ee.ExitCode()
	} else if runErr != nil {
		return nil, fmt.Errorf("running %s: %v", bin, runErr)
	}
	f, err := os.Open(trace)
	if err != nil {
		return nil, fmt.Errorf("%v: %s", runErr, stderr.String())
	}
	defer f.Close()
	obs, _, err := record.ReadAll(f, trace)
	if err != nil {
		return nil, err
	}
	for _, o := range obs {
		if o.Kind == record.KindTLS {
			res.TLS = append(res.TLS, o)
		}
	}
	res.Report, _ = os.ReadFile(report) // absent when certsleuth failed before its report: no connection judged
	if res.Exit == 2 {
		return res, fmt.Errorf("exit 2: %s", strings.TrimSpace(stderr.String()))
	}
	return res, nil
}

// Pct is n of d as a percentage with one decimal ("-" when d is 0).
func Pct(n, d int) string {
	if d == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(d), 'f', 1, 64) + "%"
}
