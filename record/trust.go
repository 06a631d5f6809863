package record

import (
	"encoding/json"
	"fmt"
)

// lineTrust is the "type" of a trust line.
const lineTrust = "trust"

// Trust is the trust a producer judged certificate chains with, recorded
// so that a replay judges them the same way: the machine's own roots (when
// System is set) plus Roots.
type Trust struct {
	// System is true when the producer also trusted the roots of the
	// machine it ran on. A replay uses the roots of the machine it runs on.
	System bool
	// Roots are CA certificates (DER) trusted besides the system's, such as
	// the proxy's --upstream-ca or a --ca-file. In the trace each is a chain
	// line of one certificate.
	Roots [][]byte
	// From says where Roots came from, e.g. "--upstream-ca corp-root.pem".
	From string
}

type trustLine struct {
	Type   string   `json:"type"`
	System bool     `json:"system"`
	Roots  []string `json:"roots"` // chain line IDs, one certificate each
	From   string   `json:"from,omitempty"`
}

// WriteTrust records the trust chains are judged with. Write it before the
// observations; a trace may hold several trust lines, whose roots add up.
func (tw *Writer) WriteTrust(t Trust) error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.err != nil {
		return tw.err
	}
	tl := trustLine{Type: lineTrust, System: t.System, Roots: []string{}, From: t.From}
	for _, der := range t.Roots {
		id := tw.chainLine([][]byte{der})
		if tw.err != nil {
			return tw.err
		}
		tl.Roots = append(tl.Roots, id)
	}
	tw.err = tw.line(tl)
	return tw.err
}

// parseTrust reads a trust line into r.Trust.
func (r *Reader) parseTrust(line []byte) error {
	var tl trustLine
	if err := json.Unmarshal(line, &tl); err != nil {
		return fmt.Errorf("bad trust line: %w", err)
	}
	t := Trust{System: tl.System, From: tl.From}
	for _, id := range tl.Roots {
		c, ok := r.chains[id]
		if !ok || len(c) != 1 {
			return fmt.Errorf("trust line refers to root %.12s, which no earlier line defines as one certificate", id)
		}
		t.Roots = append(t.Roots, c[0])
	}
	if r.Trust == nil {
		r.Trust = &t
		return nil
	}
	r.Trust.System = r.Trust.System || t.System
	r.Trust.Roots = append(r.Trust.Roots, t.Roots...)
	if t.From != "" {
		r.Trust.From = joinFrom(r.Trust.From, t.From)
	}
	return nil
}

func joinFrom(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}
