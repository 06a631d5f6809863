package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/capture"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// tcpdumpOrSkip returns tcpdump's path. Without it (or without the right
// to capture on the loopback interface) the test fails, unless
// CERTSLEUTH_NO_TCPDUMP=1 says this machine has no tcpdump on purpose.
func tcpdumpOrSkip(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("CERTSLEUTH_NO_TCPDUMP") == "1" {
			t.Skip("tcpdump is not installed and CERTSLEUTH_NO_TCPDUMP=1: the loopback capture test does not run here")
		}
		t.Fatal("tcpdump is not installed: install it (apt-get install tcpdump; .ci/run does) or set CERTSLEUTH_NO_TCPDUMP=1 to skip this test knowingly")
	}
	return path
}

// loopback is the name of the loopback interface.
func loopback(t *testing.T) string {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 {
			return i.Name
		}
	}
	t.Fatal("no loopback interface")
	return ""
}

// tcpdump captures the lab's ports on the loopback interface into file
// until stop is called.
// tcpdump starts capturing the loopback interface into file and returns
// stop, which waits for the capture to catch up, stops tcpdump and returns
// what it printed (its last line counts the packets the kernel dropped: a
// capture that misses the lab's connections says so).
func tcpdump(t *testing.T, bin, file string, l *Lab) (stop func() string) {
	t.Helper()
	// No capture filter: on some kernels (Firecracker VMs) a BPF filter on
	// the loopback interface drops every packet. labOnly keeps the lab's
	// connections when the capture is read.
	// -B: a 64 MiB kernel buffer (tcpdump's unit is KiB), because every
	// loopback packet of the machine is captured and a busy machine
	// overflows the default 2 MiB one (packets "dropped by kernel").
	cmd := exec.Command(bin, "-i", loopback(t), "-U", "-n", "-s", "0", "-B", "65536", "-w", file)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tcpdump: %v", err)
	}
	ready := make(chan string, 1)
	var (
		mu  sync.Mutex
		log bytes.Buffer
	)
	logText := func() string {
		mu.Lock()
		defer mu.Unlock()
		return log.String()
	}
	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "listening on") {
				ready <- ""
			}
		}
		ready <- logText()
	}()
	select {
	case msg := <-ready:
		if msg != "" {
			cmd.Wait()
			if os.Getenv("CERTSLEUTH_NO_TCPDUMP") == "1" {
				t.Skipf("tcpdump cannot capture on the loopback interface here and CERTSLEUTH_NO_TCPDUMP=1: %s", msg)
			}
			t.Fatalf("tcpdump cannot capture on the loopback interface (run as root, or set CERTSLEUTH_NO_TCPDUMP=1): %s", msg)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("tcpdump did not start listening within 10s")
	}
	// "listening on" comes before packets do, and packets can reach the
	// file long after they were sent: a marker sent through loopback and
	// found in the file says the capture has seen everything before it.
	if !awaitMarker(file, 10*time.Second) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("tcpdump on %s captured no packet within 10s: %s", loopback(t), logText())
	}
	return func() string {
		if !awaitMarker(file, 10*time.Second) {
			t.Error("the capture did not catch up within 10s")
		}
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Error("tcpdump did not stop on SIGINT")
		}
		select {
		case <-stderrDone:
		case <-time.After(time.Second):
		}
		return strings.TrimSpace(logText())
	}
}

// awaitMarker sends random markers over a loopback TCP connection until
// one of them shows up in the capture file, or timeout.
func awaitMarker(file string, timeout time.Duration) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return false
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	var sent [][]byte
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		m := make([]byte, 16)
		rand.Read(m)
		m = []byte(fmt.Sprintf("certsleuth-marker-%x", m))
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Write(m)
			c.Close()
			sent = append(sent, m)
		}
		for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			data, _ := os.ReadFile(file)
			for _, m := range sent {
				if bytes.Contains(data, m) {
					return true
				}
			}
		}
	}
	return false
}

// labOnly keeps the observations of connections to the lab's listeners
// (the loopback interface carries other programs' traffic too).
func labOnly(obs []*record.Observation, l *Lab) []*record.Observation {
	ports := map[string]bool{}
	for _, a := range l.Addrs() {
		ports[a] = true
	}
	var out []*record.Observation
	for _, o := range obs {
		if ports[o.Server] {
			out = append(out, o)
		}
	}
	return out
}

// inAnswer are the settings a client learns from the Autodiscover answer,
// which a capture holds encrypted: a capture names the host they sent the
// client to, not the setting.
var inAnswer = map[Setting]bool{SettingEWS: true, SettingOAB: true, SettingMAPI: true, SettingEAS: true, SettingOutlookAnywhere: true}

// TestCaptureGivesSameCulprits runs every scenario's client directly
// against the lab while tcpdump captures the loopback interface, as a
// capture on the client's PC would (with the client's TLS key log, as
// SSLKEYLOGFILE gives), then reads the capture with the capture package:
// certsleuth must find the culprit host the client first warned about, the
// remedy when the capture can show the origin (not when it lies in the
// encrypted Autodiscover answer), and nothing once the fix is applied. A
// capture cannot judge two scenarios alone: without SNI it does not know
// the name wanted, and the msstd: principal is in the encrypted answer;
// for those it must show the evidence it does have.
func TestCaptureGivesSameCulprits(t *testing.T) {
	bin := tcpdumpOrSkip(t)
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	dir := t.TempDir()
	if d := os.Getenv("CERTSLEUTH_KEEP_PCAP"); d != "" {
		dir = d
	}
	for _, s := range Scenarios() {
		for _, fixed := range []bool{false, true} {
			name := fmt.Sprintf("%s/fixed=%v", s.Name, fixed)
			t.Run(name, func(t *testing.T) {
				t.Parallel() // each capture keeps only its own lab's connections
				cfg := s.Config
				if fixed {
					cfg = s.Fixed()
				}
				l, err := Start(cfg, ca)
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				file := filepath.Join(dir, strings.ReplaceAll(name, "/", "-")+".pcap")
				stop := tcpdump(t, bin, file, l)
				var keys bytes.Buffer
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				res, err := Drive(ctx, l, s, fixed, Options{KeyLog: &keys})
				cancel()
				tcpdumpSaid := stop()
				if err != nil {
					t.Fatal(err)
				}
				kl, err := capture.ReadKeyLog(&keys)
				if err != nil {
					t.Fatalf("key log: %v", err)
				}
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cr, err := capture.Read(f, file, capture.Options{KeyLog: kl})
				if err != nil {
					t.Fatalf("read the capture: %v", err)
				}
				obs := labOnly(cr.Observations, l)
				rep := analysis.Analyze(obs, analysis.Options{Profiles: []*match.Profile{res.Profile}, Roots: roots})
				cs := rep.Culprits()
				want := res.Culprit() // the client's own first warning
				if want != nil && !fixed && want.NoSNI {
					// Without SNI (and without the client's DNS lookups, which
					// the lab answers in-process) a capture cannot tell which
					// name the client wanted: it shows a connection without
					// SNI that got the default binding's certificate.
					for _, it := range rep.Items {
						if it.Obs.NoSNI && len(it.Chain) > 0 {
							if it.Chain[0].SubjectCN != s.Config.DefaultCert.CN {
								t.Errorf("the connection without SNI got %s, want the default binding's %s", it.Chain[0].SubjectCN, s.Config.DefaultCert.CN)
							}
							return
						}
					}
					t.Fatalf("the capture shows no connection without SNI (%d observations of the lab; tcpdump: %s)", len(obs), tcpdumpSaid)
				}
				if want != nil && !fixed && want.Cause == SettingCertPrincipal {
					// The msstd: principal comes from the EXPR block of the
					// Autodiscover answer, encrypted in the capture: the name
					// matches (wildcard), so a capture alone shows no culprit,
					// only the connection with the wildcard certificate.
					if len(cs) > 0 {
						t.Errorf("the capture shows a culprit the principal check alone could find: %s", cs[0].Verdict)
					}
					for _, it := range rep.Items {
						if strings.EqualFold(it.Name, s.Expect.Host) && len(it.Chain) > 0 && it.Chain[0].SubjectCN == s.Config.ExchangeCert.CN {
							return
						}
					}
					t.Fatalf("the capture shows no connection to %s with the %s certificate (tcpdump: %s)", s.Expect.Host, s.Config.ExchangeCert.CN, tcpdumpSaid)
				}
				if fixed || want == nil {
					if len(cs) > 0 {
						t.Errorf("the capture shows a culprit where the client did not warn: %s", cs[0].Verdict)
					}
					return
				}
				if len(cs) == 0 {
					t.Fatalf("the capture (%d observations of the lab, %d in all, %s) shows no culprit; the client warned at %s; tcpdump: %s", len(obs), len(cr.Observations), cr.Format, want.URL, tcpdumpSaid)
				}
				c := cs[0]
				if !strings.EqualFold(c.First.Name, s.Expect.Host) {
					t.Errorf("the capture's first culprit asked for %q, want %q", c.First.Name, s.Expect.Host)
				}
				if inAnswer[s.Expect.Origin] {
					return // the origin is in the encrypted Autodiscover answer
				}
				found := false
				for _, r := range c.Remedies {
					found = found || strings.Contains(r.Command, s.Expect.Command)
				}
				if !found {
					t.Errorf("the capture's remedies %+v lack %q", c.Remedies, s.Expect.Command)
				}
			})
		}
	}
}
