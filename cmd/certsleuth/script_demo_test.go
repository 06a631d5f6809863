package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoServe runs `certsleuth demo --serve`, reads the settings it
// prints, sends a real HTTPS Autodiscover request through the proxy with
// the printed CA trusted, checks that the live output shows the request
// with its verdict, then stops it as Ctrl-C would.
func TestDemoServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	dir := t.TempDir()
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"certsleuth", "demo", "--serve", "--listen", "127.0.0.1:0", "--record", dir + "/serve.jsonl"}, &stdout, &stderr)
	}()
	reProxy := regexp.MustCompile(`(?m)^proxy +(127\.0\.0\.1:\d+) `)
	reCA := regexp.MustCompile(`(?m)^proxy CA +(\S+)$`)
	var proxyAddr, caFile string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out := stdout.String()
		if m, c := reProxy.FindStringSubmatch(out), reCA.FindStringSubmatch(out); m != nil && c != nil && strings.Contains(out, "Ctrl-C stops") {
			proxyAddr, caFile = m[1], c[1]
			break
		}
		select {
		case rc := <-done:
			t.Fatalf("demo --serve exited %d early; stderr:\n%s", rc, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if proxyAddr == "" {
		t.Fatalf("no settings printed within 10s:\n%s", stdout.String())
	}
	out := stdout.String()
	for _, want := range []string{"mail.contoso.com", "exch01.contoso.local", "autodiscover.contoso.com", "alice@contoso.com", "http://certsleuth.local/", "Outlook: File > Add Account"} {
		if !strings.Contains(out, want) {
			t.Errorf("settings lack %q:\n%s", want, out)
		}
	}
	pemData, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatalf("the printed proxy CA: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemData) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	pu, _ := url.Parse("http://" + proxyAddr)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: roots}}}
	body := `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`
	resp, err := client.Post("https://autodiscover.contoso.com/autodiscover/autodiscover.xml", "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatalf("Autodiscover through the demo proxy: %v", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(answer, []byte("https://exch01.contoso.local/EWS/Exchange.asmx")) {
		t.Fatalf("Autodiscover answer %d:\n%s", resp.StatusCode, answer)
	}
	// Go checks names like the lab's clients: the internal name fails.
	if _, err := client.Get("https://exch01.contoso.local/EWS/Exchange.asmx"); err == nil || !strings.Contains(err.Error(), "exch01.contoso.local") {
		t.Errorf("GET https://exch01.contoso.local through the mirror: err %v, want a name mismatch", err)
	}
	// The live lines show both requests with their verdicts.
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !(strings.Contains(stdout.String(), "POST https://autodiscover.contoso.com/autodiscover/autodiscover.xml 200") && strings.Contains(stdout.String(), "WARN")) {
		time.Sleep(20 * time.Millisecond)
	}
	live := stdout.String()[len(out):]
	if !strings.Contains(live, "POST https://autodiscover.contoso.com/autodiscover/autodiscover.xml 200") {
		t.Errorf("live output lacks the Autodiscover request:\n%s", live)
	}
	if !regexp.MustCompile(`CONNECT exch01.contoso.local:443 .*WARN`).MatchString(live) {
		t.Errorf("live output lacks the warning for exch01.contoso.local:\n%s", live)
	}
	cancel()
	select {
	case rc := <-done:
		if rc != 0 {
			t.Errorf("demo --serve exited %d after Ctrl-C; stderr:\n%s", rc, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo --serve did not stop within 10s of Ctrl-C")
	}
	if _, err := os.Stat(caFile); !os.IsNotExist(err) {
		t.Errorf("the proxy CA file %s is left behind", caFile)
	}
	f, err := os.Open(dir + "/serve.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	if n < 3 { // header, chain, observations
		t.Errorf("--record wrote %d lines", n)
	}
}
