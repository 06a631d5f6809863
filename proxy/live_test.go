package proxy

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// TestLive: one line per observation with the method, URL, name asked and
// verdict; warnings in red only when colour is on; repeats kept once for
// the report.
func TestLive(t *testing.T) {
	ca := testcert.NewCA(t, "Live Root")
	leaf := ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	obs := func(sni, path string) *record.Observation {
		return &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(), SNI: sni, Connect: sni + ":443",
			Method: "GET", URL: "https://" + sni + path, Status: 200, Chain: leaf.Certificate, Visibility: record.VisVisible}
	}
	for _, tc := range []struct {
		color bool
		queue int
	}{{false, 0}, {true, 0}, {false, 16}, {true, 16}} {
		color := tc.color
		var out bytes.Buffer
		l := NewLive(&out, LiveOptions{Roots: roots, Color: color, Queue: tc.queue})
		l.Observe(Event{Obs: obs("mail.contoso.test", "/owa/")})
		l.Observe(Event{Obs: obs("exch01.contoso.test", "/EWS/Exchange.asmx")})
		l.Observe(Event{Obs: obs("exch01.contoso.test", "/EWS/Exchange.asmx")})
		l.Observe(Event{Type: EventClosed}) // no observation: no line
		l.Flush()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 3 {
			t.Fatalf("color=%v: %d lines, want 3:\n%s", color, len(lines), out.String())
		}
		if !strings.Contains(lines[0], "GET https://mail.contoso.test/owa/ 200  asked mail.contoso.test (sni)  ok") || strings.Contains(lines[0], "\x1b") {
			t.Errorf("color=%v: ok line %q", color, lines[0])
		}
		if !strings.Contains(lines[1], "asked exch01.contoso.test (sni)  WARN ") || !strings.Contains(lines[1], "not exch01.contoso.test") {
			t.Errorf("color=%v: warning line %q", color, lines[1])
		}
		if strings.HasPrefix(lines[1], "\x1b[31m") != color {
			t.Errorf("color=%v: warning line colour wrong: %q", color, lines[1])
		}
		ep := obs("mail.contoso.test", "/EWS/Exchange.asmx")
		ep.Status, ep.Note = 401, "Windows authentication (NTLM/Negotiate) was refused through the proxy: this is likely Exchange Extended Protection"
		out.Reset()
		l.Observe(Event{Obs: ep})
		l.Close()
		if !strings.Contains(out.String(), " 401  asked mail.contoso.test (sni)  ok  [Windows authentication refused through the proxy: likely Exchange Extended Protection") {
			t.Errorf("color=%v: Extended Protection line %q", color, out.String())
		}
		if seen, warned := l.Counts(); seen != 4 || warned != 2 {
			t.Errorf("counts %d %d, want 4 2", seen, warned)
		}
		if rep := l.Report(); len(rep.Items) != 3 || !rep.Warns() {
			t.Errorf("report has %d items (warns %v), want the 3 distinct requests", len(rep.Items), rep.Warns())
		}
	}
}

// TestLiveRepeats: a repeat of a request reuses the line made for the
// first, but each line has its own time, and a line that names the client
// (a connection that never sent a whole request) names its own.
func TestLiveRepeats(t *testing.T) {
	var out bytes.Buffer
	l := NewLive(&out, LiveOptions{Roots: x509.NewCertPool(), MaxKept: -1})
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.Local)
	req := func(sec int, client string) *record.Observation {
		return &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: at.Add(time.Duration(sec) * time.Second), Client: client,
			Method: "GET", URL: "http://mail.contoso.test/owa/", Status: 200, Visibility: record.VisNone}
	}
	unfinished := func(sec int, client string) *record.Observation {
		return &record.Observation{Kind: record.KindTLS, Source: record.SourceProxy, Time: at.Add(time.Duration(sec) * time.Second), Client: client,
			Error: "sent no complete request in 30 s", Visibility: record.VisNone}
	}
	for _, o := range []*record.Observation{req(1, "10.0.0.1:5001"), req(2, "10.0.0.2:5002"), unfinished(3, "10.0.0.3:5003"), unfinished(4, "10.0.0.4:5004")} {
		l.Observe(Event{Obs: o})
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"10:00:01  GET http://mail.contoso.test/owa/ 200", "10:00:02  GET http://mail.contoso.test/owa/ 200",
		"10:00:03  connection from 10.0.0.3:5003", "10:00:04  connection from 10.0.0.4:5004"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d %q, want it to begin %q", i+1, lines[i], w)
		}
	}
	if lines[0][8:] != lines[1][8:] {
		t.Errorf("a repeat's line differs from the first's but for the time:\n%s\n%s", lines[0], lines[1])
	}
}
