//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPcapInterrupt: Ctrl-C while a capture file is read stops the
// reading and reports what was read before it, with a warning that says
// where it stopped. The file is a named pipe, so the test decides when
// the reading is in the middle of the file.
func TestPcapInterrupt(t *testing.T) {
	data, err := os.ReadFile("../../capture/testdata/tls12-wrongname.pcap")
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "live.pcap")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"certsleuth", "pcap", "--format", "json", fifo}, &stdout, &stderr)
	}()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write(data); err != nil { // the whole capture: one TLS connection
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // certsleuth has read it and waits for more
	cancel()
	w.Write(data[24:40]) // wakes the waiting read; the next read sees the Ctrl-C
	select {
	case code := <-done:
		if code != exitWarn {
			t.Errorf("exit code %d; want %d (the connection read warns)\nstderr: %s", code, exitWarn, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("certsleuth pcap did not stop after Ctrl-C")
	}
	if !strings.Contains(stdout.String(), `"sni":"autodiscover.contoso.test"`) {
		t.Errorf("the report lacks the connection read before Ctrl-C:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "live.pcap: interrupted (Ctrl-C) at packet") {
		t.Errorf("stderr does not say where the reading stopped:\n%s", stderr.String())
	}
}

// TestPcapLive: with --live, a connection's line appears as soon as its
// packets have been read, while the capture is still being written.
func TestPcapLive(t *testing.T) {
	first, err := os.ReadFile("../../capture/testdata/tls12-wrongname.pcap")
	if err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile("../../capture/testdata/tls12-sni-othername.pcap")
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "live.pcap")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runContext(context.Background(), []string{"certsleuth", "pcap", "--live", fifo}, &stdout, &stderr)
	}()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(first)
	line := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d  TLS 1\.2 autodiscover\.contoso\.test at 192\.0\.2\.25:443  WARN .*$`)
	deadline := time.Now().Add(10 * time.Second)
	for !line.MatchString(stderr.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no live line for the first connection while the capture is open; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if stdout.String() != "" {
		t.Errorf("the report came before the end of the capture:\n%s", stdout.String())
	}
	w.Write(second[24:]) // the second file's packets, without its file header
	w.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("certsleuth pcap did not end at the end of the capture")
	}
	if !strings.Contains(stderr.String(), "exch01.corp.contoso.test") && !strings.Contains(stderr.String(), "TLS 1.2 mail.contoso.test") {
		t.Errorf("no live line for the second connection:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "autodiscover.contoso.test") {
		t.Errorf("the report after the end lacks the first connection:\n%s", stdout.String())
	}
}
