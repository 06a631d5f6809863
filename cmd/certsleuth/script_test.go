package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"certsleuth": func() int { return run(os.Args, os.Stdout, os.Stderr) },
	}))
}

// scriptCmds are the extra testscript commands. Other _test.go files add
// their own in init functions, so each command area keeps its helpers
// beside its scripts.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"rc":    cmdRC,
	"serve": cmdServe,
	"truncate": func(ts *testscript.TestScript, neg bool, args []string) {
		// truncate IN OUT N: copy IN without its last N bytes
		data := ts.ReadFile(args[0])
		n, _ := strconv.Atoi(args[2])
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(data[:len(data)-n]), 0o644))
	},
	"badline": func(ts *testscript.TestScript, neg bool, args []string) {
		// badline IN OUT: insert a garbage third line
		lines := strings.SplitAfter(ts.ReadFile(args[0]), "\n")
		out := strings.Join(lines[:2], "") + "{garbage\n" + strings.Join(lines[2:], "")
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o644))
	},
	"pem2der": func(ts *testscript.TestScript, neg bool, args []string) {
		b, _ := pem.Decode([]byte(ts.ReadFile(args[0])))
		if b == nil {
			ts.Fatalf("pem2der: %s has no PEM block", args[0])
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), b.Bytes, 0o644))
	},
}

// TestScripts runs the txtar CLI scripts in testdata/script against the
// real certsleuth binary. Every script's work directory starts with a lab
// CA and leaf certificates (see mintFixtures) and two extra commands:
//
//	rc N prog args...     run prog and require exit code N
//	serve VAR CERT [NAME=CERT]...
//	                      start a TLS server on 127.0.0.1 presenting CERT
//	                      (or the certificate for the SNI NAME) and set $VAR
//	                      to its address
//	pem2der IN OUT        write the first PEM block of IN as DER to OUT
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			return mintFixtures(scriptT{env.T()}, env.WorkDir)
		},
		Cmds: scriptCmds,
	})
}

type scriptT struct{ t testscript.T }

func (s scriptT) Helper()             {}
func (s scriptT) Fatal(args ...any)   { s.t.Fatal(args...) }
func (s scriptT) Cleanup(f func())    {}
func (s scriptT) Logf(string, ...any) {}

// mintFixtures writes the certificates every script can use.
func mintFixtures(t testcert.T, dir string) error {
	ca := testcert.NewCA(t, "certsleuth Test Lab CA")
	leaves := map[string]tls.Certificate{
		"right":    ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test", "autodiscover.contoso.test"}}),
		"cnonly":   ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test"}),
		"wildcard": ca.Leaf(t, testcert.Spec{CN: "*.contoso.test", DNS: []string{"*.contoso.test"}}),
		"partial":  ca.Leaf(t, testcert.Spec{CN: "w*.contoso.test", DNS: []string{"w*.contoso.test"}}),
		"expired": ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"},
			NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)}),
		"selfsigned": testcert.SelfSigned(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}}),
		"default":    ca.Leaf(t, testcert.Spec{CN: "default.contoso.test", DNS: []string{"default.contoso.test"}}),
		"proposed":   ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test", "autodiscover.contoso.test", "exch01.contoso.test"}}),
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), testcert.PEM(ca.Cert.Raw), 0o644); err != nil {
		return err
	}
	for name, c := range leaves {
		if err := os.WriteFile(filepath.Join(dir, name+".pem"), testcert.PEM(c.Certificate...), 0o644); err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "garbage.pem"), []byte("this is not a certificate\n"), 0o644)
}

func cmdRC(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: rc N prog args...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("rc: bad exit code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("rc: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}

func loadPair(ts *testscript.TestScript, name string) tls.Certificate {
	c, err := tls.LoadX509KeyPair(ts.MkAbs(name), ts.MkAbs(strings.TrimSuffix(name, ".pem")+".key"))
	ts.Check(err)
	return c
}

func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: serve VAR CERT [NAME=CERT]...")
	}
	def := loadPair(ts, args[1])
	bySNI := map[string]tls.Certificate{}
	for _, a := range args[2:] {
		name, file, ok := strings.Cut(a, "=")
		if !ok {
			ts.Fatalf("serve: want NAME=CERT, got %q", a)
		}
		bySNI[name] = loadPair(ts, file)
	}
	tb := &deferT{ts: ts}
	addr := testcert.Serve(tb, def, bySNI)
	ts.Setenv(args[0], addr)
}

// deferT adapts a TestScript to testcert.T; cleanups run when the script ends.
type deferT struct{ ts *testscript.TestScript }

func (d *deferT) Helper()           {}
func (d *deferT) Fatal(args ...any) { d.ts.Fatalf("%v", args) }
func (d *deferT) Cleanup(f func())  { d.ts.Defer(f) }
