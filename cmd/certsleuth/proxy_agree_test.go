package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/report"
)

// lockedBuffer is a bytes.Buffer safe for the proxy's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// keepAliveServer serves HTTPS on 127.0.0.1 with cert, keeping connections
// open between requests (so that one tunnel carries several).
func keepAliveServer(t *testing.T, cert tls.Certificate) string {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// TestProxyReportAgrees runs a real recorded proxy session on 127.0.0.1
// (Go clients, some refusing the certificate, some going on as a user who
// clicks "continue", several requests inside one tunnel) and checks that
// the three verdicts agree: the live lines, the report printed at Ctrl-C
// and 'certsleuth replay' of the trace, with the trust the proxy recorded
// (--upstream-ca) and no --ca-file.
func TestProxyReportAgrees(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCAValid(t, "certsleuth agreement test CA", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().AddDate(5, 0, 0))
	caFile := filepath.Join(dir, "lab-ca.pem")
	testcert.WritePEM(t, caFile, ca.Cert.Raw)
	right := keepAliveServer(t, ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test", "autodiscover.contoso.test"}}))
	expired := keepAliveServer(t, ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)}))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	trace := filepath.Join(dir, "trace.jsonl")
	caDir := filepath.Join(dir, "ca")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"certsleuth", "proxy", "--listen", listen, "--record", trace, "--upstream-ca", caFile, "--ca-dir", caDir,
			"--resolve", "mail.contoso.test=127.0.0.1", "--resolve", "exch01.contoso.test=127.0.0.1"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not listen on %s: %v\n%s", listen, err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	pca, err := certs.LoadCA(caDir)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(pca.Cert)
	roots.AddCert(ca.Cert)

	// One client session: requests on one keep-alive connection per host.
	// careless goes on past a bad certificate, as a user who clicks
	// "continue" does; a careful client refuses it.
	session := func(careless bool, host, addr string, paths ...string) []string {
		tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: listen}),
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: host, InsecureSkipVerify: careless}}
		defer tr.CloseIdleConnections()
		cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		_, port, _ := net.SplitHostPort(addr)
		var res []string
		for _, p := range paths {
			resp, err := cl.Get("https://" + net.JoinHostPort(host, port) + p)
			if err != nil {
				res = append(res, "refused")
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			res = append(res, fmt.Sprint(resp.StatusCode))
		}
		return res
	}
	steps := []struct {
		careless   bool
		host, addr string
		paths      []string
		want       string
	}{
		{false, "mail.contoso.test", right, []string{"/autodiscover/autodiscover.xml", "/EWS/Exchange.asmx"}, "[200 200]"},
		{false, "exch01.contoso.test", right, []string{"/EWS/Exchange.asmx"}, "[refused]"},
		{true, "exch01.contoso.test", right, []string{"/EWS/Exchange.asmx", "/OAB/oab.xml", "/EWS/Exchange.asmx?x=1"}, "[200 200 200]"},
		{false, "exch01.contoso.test", right, []string{"/EWS/Exchange.asmx"}, "[refused]"},
		{true, "mail.contoso.test", expired, []string{"/mapi/emsmdb/", "/mapi/nspi/"}, "[200 200]"},
	}
	for _, s := range steps {
		if got := fmt.Sprint(session(s.careless, s.host, s.addr, s.paths...)); got != s.want {
			t.Fatalf("%s %v: got %s, want %s", s.host, s.paths, got, s.want)
		}
	}
	stop() // Ctrl-C
	select {
	case rc := <-done:
		if rc != exitWarn {
			t.Fatalf("proxy exited %d, want %d\n%s", rc, exitWarn, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the proxy did not stop")
	}

	// replay of the trace: no --ca-file, the recorded --upstream-ca is used
	var rOut, rErr, jOut bytes.Buffer
	if rc := runContext(context.Background(), []string{"certsleuth", "replay", trace}, &rOut, &rErr); rc != exitWarn || rErr.Len() > 0 {
		t.Fatalf("replay exited %d:\n%s", rc, rErr.String())
	}
	if rc := runContext(context.Background(), []string{"certsleuth", "replay", "--format", "json", trace}, &jOut, &rErr); rc != exitWarn {
		t.Fatalf("replay --format json exited %d:\n%s", rc, rErr.String())
	}
	var items []report.JSONItem
	var sum report.JSONSummary
	for _, l := range strings.Split(strings.TrimSpace(jOut.String()), "\n") {
		if strings.HasPrefix(l, `{"type":"summary"`) {
			if err := json.Unmarshal([]byte(l), &sum); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var it report.JSONItem
		if err := json.Unmarshal([]byte(l), &it); err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}

	// The live lines: one per observation, in order, each with the verdict
	// and the clients that warn that the report gives it.
	out := stdout.String()
	reportAt := strings.Index(out, "certsleuth proxy on ")
	if reportAt < 0 {
		t.Fatalf("no report after the live lines:\n%s", out)
	}
	liveLines := strings.Split(strings.TrimSpace(out[:reportAt]), "\n")
	if len(liveLines) != len(items) || len(items) != 9 {
		t.Fatalf("%d live lines, %d observations in the trace, want 9 each:\n%s", len(liveLines), len(items), out[:reportAt])
	}
	warnRE := regexp.MustCompile(`  WARN ([a-z0-9,]+): `)
	for i, l := range liveLines {
		var got []string
		if m := warnRE.FindStringSubmatch(l); m != nil {
			got = strings.Split(m[1], ",")
		}
		if want := items[i].Warns; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("live line %d warns for %v, the report for %v:\n%s", i+1, got, want, l)
		}
	}

	// The counts at Ctrl-C are the report's.
	m := regexp.MustCompile(`stopped after (\d+) requests \((\d+) would warn\)`).FindStringSubmatch(stderr.String())
	if m == nil || m[1] != fmt.Sprint(len(items)) || m[2] != fmt.Sprint(sum.Warnings) {
		t.Errorf("proxy said %q; the report has %d observations, %d warning", m, len(items), sum.Warnings)
	}

	// The report at Ctrl-C is replay's, word for word but the title (and
	// where the headline wraps after it).
	untitled := func(rep string) string {
		head, rest, _ := strings.Cut(rep, "\n\n")
		head = strings.Join(strings.Fields(head), " ")
		return head[strings.Index(head, ": ")+2:] + "\n\n" + rest
	}
	proxyReport, replayReport := untitled(out[reportAt:]), untitled(rOut.String())
	if proxyReport != replayReport {
		t.Errorf("the proxy's report differs from replay's:\n--- proxy\n%s\n--- replay\n%s", proxyReport, replayReport)
	}

	// Culprits: the refused tunnel to exch01 and its repeat, the tunnel a
	// careless client kept using (one culprit with its later requests), and
	// the expired certificate's tunnel.
	var culprits []string
	for _, c := range sum.Explain {
		var conns []string
		for _, r := range append([]int{c.Index}, c.Repeats...) {
			conns = append(conns, items[r-1].Type+" "+items[r-1].URL)
		}
		culprits = append(culprits, fmt.Sprintf("%s %v", c.Checks, conns))
	}
	sort.Strings(culprits) // a refused handshake is recorded when the proxy sees the alert: the order varies
	want := []string{
		fmt.Sprintf("[date.expired] [http https://mail.contoso.test:%[1]s/mapi/emsmdb/ http https://mail.contoso.test:%[1]s/mapi/nspi/]", port(expired)),
		"[name.mismatch] [connection  connection ]",
		fmt.Sprintf("[name.mismatch] [http https://exch01.contoso.test:%[1]s/EWS/Exchange.asmx http https://exch01.contoso.test:%[1]s/OAB/oab.xml http https://exch01.contoso.test:%[1]s/EWS/Exchange.asmx?x=REDACTED]", port(right)), // query values are redacted by default (issue 16)
	}
	if strings.Join(culprits, "\n") != strings.Join(want, "\n") {
		t.Errorf("culprits:\n%s\nwant:\n%s", strings.Join(culprits, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(replayReport, "3 requests on 1 connection") {
		t.Errorf("the report does not say the tunnel's later requests are on the same connection:\n%s", replayReport)
	}

	// Without the recorded trust the lab CA is not trusted: the trust
	// recorded is what made the verdicts above.
	var iOut bytes.Buffer
	runContext(context.Background(), []string{"certsleuth", "replay", "--ignore-trace-trust", "--format", "json", trace}, &iOut, io.Discard)
	if !strings.Contains(iOut.String(), `"chain.untrusted"`) {
		t.Errorf("replay --ignore-trace-trust still trusts the lab CA:\n%s", iOut.String())
	}
	if strings.Contains(jOut.String(), `"chain.untrusted"`) {
		t.Errorf("replay did not use the trust the proxy recorded:\n%s", jOut.String())
	}
	if b, err := os.ReadFile(trace); err != nil || !bytes.Contains(b, []byte(`{"type":"trust","system":true,"roots":["`)) {
		t.Errorf("the trace records no trust line: %v", err)
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
