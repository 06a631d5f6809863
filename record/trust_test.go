package record

import (
	"bytes"
	"strings"
	"testing"
)

// The trust a producer used survives the trace: roots as one-certificate
// chain lines, the system flag and where the roots came from; several trust
// lines add up; an observation using a root's chain shares its line.
func TestTrustRoundTrip(t *testing.T) {
	root1, root2 := []byte("root-one-der"), []byte("root-two-der")
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTrust(Trust{System: true, Roots: [][]byte{root1}, From: "--upstream-ca corp.pem"}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTrust(Trust{Roots: [][]byte{root2}, From: "--ca-file lab.pem"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleObs(1, [][]byte{root1})); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `"type":"chain"`); n != 2 {
		t.Errorf("%d chain lines, want 2 (a root's line is shared with the observation that uses it):\n%s", n, buf.String())
	}
	obs, rd, err := ReadAll(bytes.NewReader(buf.Bytes()), "t.jsonl")
	if err != nil || len(rd.Errors) > 0 || len(obs) != 1 {
		t.Fatalf("read: %v, %v, %d observations", err, rd.Errors, len(obs))
	}
	tr := rd.Trust
	if tr == nil {
		t.Fatal("no trust read back")
	}
	if !tr.System || len(tr.Roots) != 2 || string(tr.Roots[0]) != string(root1) || string(tr.Roots[1]) != string(root2) {
		t.Errorf("trust = system %v, roots %q", tr.System, tr.Roots)
	}
	if tr.From != "--upstream-ca corp.pem, --ca-file lab.pem" {
		t.Errorf("from = %q", tr.From)
	}
}

// A trace without a trust line has none (older traces); a trust line that
// names an unknown root is a bad line and the rest is still read.
func TestTrustMissingAndBad(t *testing.T) {
	data := writeTrace(t, sampleObs(1, nil))
	_, rd, err := ReadAll(bytes.NewReader(data), "t.jsonl")
	if err != nil || rd.Trust != nil {
		t.Fatalf("trace without trust: err %v, trust %+v", err, rd.Trust)
	}
	lines := strings.SplitAfter(string(data), "\n")
	bad := lines[0] + `{"type":"trust","system":true,"roots":["0123456789abcdef"]}` + "\n" + strings.Join(lines[1:], "")
	obs, rd, err := ReadAll(strings.NewReader(bad), "t.jsonl")
	if err != nil || len(obs) != 1 {
		t.Fatalf("read: %v, %d observations", err, len(obs))
	}
	if len(rd.Errors) != 1 || rd.Errors[0].Line != 2 || !strings.Contains(rd.Errors[0].Error(), "no earlier line defines") {
		t.Errorf("errors = %v, want line 2 naming the unknown root", rd.Errors)
	}
}
