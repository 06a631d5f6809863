package analysis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/browser"
	"github.com/certsleuth/certsleuth/internal/testcert"
)

// clientRun is one real client's verdict on a served certificate.
type clientRun struct {
	accepted bool
	detail   string // the client's own words, for the log
}

// realClients are the clients TestMalformedCertClients runs, each against
// https://mail.contoso.com:PORT/ served on 127.0.0.1 with the test CA
// trusted. Each returns whether the client completed the request.
var realClients = []struct {
	name    string // as in malformedDefects' accept/refuse lists
	version func() string
	run     func(t *testing.T, dir string, port int) clientRun
}{
	{"openssl", func() string { return cmdOut("openssl", "version") },
		func(t *testing.T, dir string, port int) clientRun {
			out, err := runTool(t, "", "openssl", "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port),
				"-servername", testcert.MalformedName, "-verify_hostname", testcert.MalformedName,
				"-CAfile", filepath.Join(dir, "ca.pem"), "-verify_return_error", "-brief")
			return clientRun{err == nil, lastLines(out, 3)}
		}},
	{"curl", func() string { return firstLine(cmdOut("curl", "--version")) },
		func(t *testing.T, dir string, port int) clientRun {
			out, err := runTool(t, "", "curl", "-sS", "--max-time", "10", "--cacert", filepath.Join(dir, "ca.pem"),
				"--resolve", fmt.Sprintf("%s:%d:127.0.0.1", testcert.MalformedName, port),
				fmt.Sprintf("https://%s:%d/", testcert.MalformedName, port))
			return clientRun{err == nil && strings.Contains(out, "certsleuth-ok"), lastLines(out, 2)}
		}},
	{"python", func() string {
		return cmdOut("python3", "-c", "import ssl,sys; print('Python', sys.version.split()[0], ssl.OPENSSL_VERSION)")
	},
		func(t *testing.T, dir string, port int) clientRun {
			out, err := runTool(t, "", "python3", "-c", `import ssl,socket,sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=10), server_hostname=sys.argv[3])
print("accepted", s.version())`, filepath.Join(dir, "ca.pem"), fmt.Sprint(port), testcert.MalformedName)
			return clientRun{err == nil && strings.Contains(out, "accepted"), lastLines(out, 1)}
		}},
	{"go", func() string { return "Go " + strings.TrimPrefix(goVersion(), "go") },
		func(t *testing.T, dir string, port int) clientRun {
			pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			d := tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: testcert.MalformedName}, NetDialer: &net.Dialer{Timeout: 10 * time.Second}}
			c, err := d.DialContext(context.Background(), "tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				return clientRun{false, err.Error()}
			}
			c.Close()
			return clientRun{true, "handshake done"}
		}},
	{"chromium", func() string { return cmdOut(chromiumBinary(), "--version") },
		func(t *testing.T, dir string, port int) clientRun {
			// A busy machine can make headless Chromium give up before the
			// page loads: a run that shows neither the page nor an ERR_
			// code says nothing, and is tried again.
			var last string
			for try := 0; try < 3; try++ {
				out := chromiumDump(t, dir, fmt.Sprintf("profile-%d-%d", port, try), fmt.Sprintf("https://%s:%d/", testcert.MalformedName, port))
				if strings.Contains(out, "certsleuth-ok") {
					return clientRun{true, "page loaded"}
				}
				if m := chromeErr.FindString(out); m != "" {
					return clientRun{false, m}
				}
				last = out
			}
			t.Fatalf("chromium showed neither the page nor an error three times: %s", lastLines(last, 3))
			return clientRun{}
		}},
}

// browserSlots bounds how many Chromium processes the parallel subtests
// start at once.
var browserSlots = make(chan struct{}, 2)

// chromiumDump loads url in headless Chromium (HOME=dir, so the NSS
// database there is trusted) and returns the DOM it dumps and its log.
func chromiumDump(t *testing.T, dir, profile, url string) string {
	browserSlots <- struct{}{}
	defer func() { <-browserSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumBinary(), "--headless", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--disable-extensions", "--user-data-dir="+filepath.Join(dir, profile),
		"--host-resolver-rules=MAP "+testcert.MalformedName+" 127.0.0.1",
		"--timeout=60000", "--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, _ := cmd.CombinedOutput() // the DOM on stdout; a refused certificate's ERR_ code in the log on stderr
	return string(out)
}

// TestMalformedCertClients serves each malformed certificate kind on
// 127.0.0.1 and runs the real clients against it; each client's verdict
// must be the one malformedDefects states (and the finding's text says).
func TestMalformedCertClients(t *testing.T) {
	for _, tool := range []string{"openssl", "curl", "python3", "certutil"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s is needed to check what real clients do with malformed certificates: install it (apt-get install -y openssl curl python3 libnss3-tools)", tool)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg + "; CI=true makes this a failure")
		}
	}
	browser.Path(t)
	for _, c := range realClients {
		t.Logf("client %s: %s", c.name, c.version())
	}
	ca := testcert.NewCA(t, "certsleuth malformed-cert CA")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), testcert.PEM(ca.Cert.Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	// Chromium on Linux trusts the roots in $HOME/.pki/nssdb: a throw-away one.
	nss := filepath.Join(dir, ".pki", "nssdb")
	os.MkdirAll(nss, 0o700)
	if out, err := runTool(t, dir, "certutil", "-d", "sql:"+nss, "-N", "--empty-password"); err != nil {
		t.Fatalf("certutil -N: %v: %s", err, out)
	}
	if out, err := runTool(t, dir, "certutil", "-d", "sql:"+nss, "-A", "-t", "C,,", "-n", "certsleuth-test", "-i", filepath.Join(dir, "ca.pem")); err != nil {
		t.Fatalf("certutil -A: %v: %s", err, out)
	}
	for _, kind := range testcert.MalformedKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			cert := ca.Malformed(t, kind)
			port := serveCert(t, cert)
			want := map[string]bool{}
			switch d := lookupDefect(kindDefect[kind]); {
			case kind == testcert.MalformedNone:
				for _, c := range realClients {
					want[c.name] = true
				}
			case kind == testcert.MalformedFlippedLength:
				for _, c := range realClients {
					want[c.name] = false // no client can read it (cert.unparseable says so)
				}
			case d == nil:
				t.Fatalf("no row in certDefects for %s", kind)
			default:
				for _, c := range d.Refuse {
					want[c] = false
				}
				for _, c := range d.Accept {
					want[c] = true
				}
			}
			for _, c := range realClients {
				got := c.run(t, dir, port)
				t.Logf("%s: accepted=%v (%s)", c.name, got.accepted, got.detail)
				w, ok := want[c.name]
				if !ok {
					t.Errorf("%s: the defect table says nothing about this client", c.name)
				} else if got.accepted != w {
					t.Errorf("%s: accepted=%v, the defect table says %v (%s)", c.name, got.accepted, w, got.detail)
				}
			}
		})
	}
}

// kindDefect maps testcert's malformed kinds to the defect each carries.
var kindDefect = map[string]certs.DefectKind{
	testcert.MalformedNegativeSerial: certs.DefectNegativeSerial,
	testcert.MalformedNonASCIISAN:    certs.DefectNonASCIISAN,
	testcert.MalformedSANIP:          certs.DefectMalformedSAN,
	testcert.MalformedDuplicateExt:   certs.DefectDuplicateExtension,
	testcert.MalformedPrintable:      certs.DefectBadString,
	testcert.MalformedFlippedOID:     certs.DefectSignatureMismatch,
}

var chromeErr = regexp.MustCompile(`(ERR_[A-Z_]+)`)

func goVersion() string { return runtime.Version() }

// serveCert serves cert on 127.0.0.1:0 (TLS 1.2 and 1.3) until the test ends.
func serveCert(t *testing.T, cert tls.Certificate) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "<html><body>certsleuth-ok</body></html>")
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func runTool(t *testing.T, home string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader("")
	if home != "" {
		cmd.Env = append(os.Environ(), "HOME="+home)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func cmdOut(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return name + ": " + err.Error()
	}
	return strings.TrimSpace(string(out))
}

func chromiumBinary() string {
	if p := os.Getenv("CERTSLEUTH_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return "chromium"
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, " | ")
}
