//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
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
