// Package pcaprun runs `certsleuth pcap --record` for the comparison
// scripts (scripts/comparetshark, scripts/comparezeek) and reads back the
// TLS observations.
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
	dir, err := os.MkdirTemp("", "pcaprun")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	trace := filepath.Join(dir, "trace.jsonl")
	cmd := exec.Command(bin, "pcap", "--record", trace, "-o", os.DevNull, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	f, err := os.Open(trace)
	if err != nil {
		return nil, fmt.Errorf("%v: %s", runErr, stderr.String())
	}
	defer f.Close()
	obs, _, err := record.ReadAll(f, trace)
	if err != nil {
		return nil, err
	}
	var out []*record.Observation
	for _, o := range obs {
		if o.Kind == record.KindTLS {
			out = append(out, o)
		}
	}
	if ee, ok := runErr.(*exec.ExitError); ok && ee.ExitCode() == 2 {
		return out, fmt.Errorf("exit 2: %s", strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Pct is n of d as a percentage with one decimal ("-" when d is 0).
func Pct(n, d int) string {
	if d == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(d), 'f', 1, 64) + "%"
}
