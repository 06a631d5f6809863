package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for the proxy and ca scripts:
//
//	freeport VAR                       set $VAR to a free 127.0.0.1:port, $VAR_PORT to the port
//	waitport ADDR                      wait (up to 10s) until ADDR accepts connections
//	viaproxy PROXY NAME ADDR CAFILE... GET https://NAME:port-of-ADDR/ through PROXY
//	                                   trusting CAFILE...; print the result class
//	direct NAME ADDR CAFILE...         the same request straight to ADDR
//	certfacts FILE                     print a CA certificate's facts
//	countfiles DIR N                   DIR holds exactly N files
//	keymode FILE MODE                  FILE has permission bits MODE (octal; skipped on Windows)
//
// The result class is "ok STATUS", "name", "unknown-authority", "expired"
// or "error: ...", the way a user tells warnings apart.
func init() {
	scriptCmds["freeport"] = func(ts *testscript.TestScript, neg bool, args []string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		ts.Setenv(args[0], ln.Addr().String())
		ts.Setenv(args[0]+"_PORT", fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
		ln.Close()
	}
	scriptCmds["waitport"] = func(ts *testscript.TestScript, neg bool, args []string) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", args[0], time.Second)
			if err == nil {
				c.Close()
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("waitport %s: %v", args[0], err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	scriptCmds["viaproxy"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) < 3 {
			ts.Fatalf("usage: viaproxy PROXY NAME ADDR CAFILE...")
		}
		tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: args[0]}), TLSClientConfig: &tls.Config{RootCAs: scriptRoots(ts, args[3:])}}
		fmt.Fprintln(ts.Stdout(), scriptGet(tr, args[1], args[2]))
	}
	scriptCmds["direct"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) < 2 {
			ts.Fatalf("usage: direct NAME ADDR CAFILE...")
		}
		addr := args[1]
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: scriptRoots(ts, args[2:])},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}}
		fmt.Fprintln(ts.Stdout(), scriptGet(tr, args[0], addr))
	}
	scriptCmds["certfacts"] = func(ts *testscript.TestScript, neg bool, args []string) {
		cs, err := certs.LoadCertificates(ts.MkAbs(args[0]))
		ts.Check(err)
		c := cs[0]
		fmt.Fprintf(ts.Stdout(), "ca=%v maxpathlen=%d zero=%v key=%s\n", c.IsCA, c.MaxPathLen, c.MaxPathLenZero, certs.KeyDescription(c))
		fmt.Fprintf(ts.Stdout(), "constraints=%s critical=%v excludedips=%d\n", strings.Join(c.PermittedDNSDomains, ","), c.PermittedDNSDomainsCritical, len(c.ExcludedIPRanges))
		fmt.Fprintf(ts.Stdout(), "subject=%s\n", c.Subject.CommonName)
	}
	scriptCmds["countfiles"] = func(ts *testscript.TestScript, neg bool, args []string) {
		es, err := os.ReadDir(ts.MkAbs(args[0]))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			ts.Fatalf("countfiles: %v", err)
		}
		if got := fmt.Sprint(len(es)); got != args[1] {
			ts.Fatalf("%s holds %s files, want %s", args[0], got, args[1])
		}
	}
	scriptCmds["keymode"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if runtime.GOOS == "windows" {
			return
		}
		st, err := os.Stat(ts.MkAbs(args[0]))
		ts.Check(err)
		if got := fmt.Sprintf("%04o", st.Mode().Perm()); got != args[1] {
			ts.Fatalf("%s has mode %s, want %s", args[0], got, args[1])
		}
	}
}

func scriptRoots(ts *testscript.TestScript, files []string) *x509.CertPool {
	p := x509.NewCertPool()
	for _, f := range files {
		cs, err := certs.LoadCertificates(ts.MkAbs(f))
		ts.Check(err)
		for _, c := range cs {
			p.AddCert(c)
		}
	}
	return p
}

func scriptGet(tr *http.Transport, name, addr string) string {
	defer tr.CloseIdleConnections()
	_, port, _ := net.SplitHostPort(addr)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := c.Get("https://" + net.JoinHostPort(name, port) + "/")
	var he x509.HostnameError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case err == nil:
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return fmt.Sprintf("ok %d", resp.StatusCode)
	case errors.As(err, &he):
		return "name"
	case errors.As(err, &ua):
		return "unknown-authority"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return "expired"
	}
	return "error: " + err.Error()
}
