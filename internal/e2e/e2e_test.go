//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/idna"
)

// clientNames are the real clients, each judged by the certsleuth
// profile of the same name.
var clientNames = []string{"chromium", "curl", "openssl", "python", "go"}

// served is one case listening on 127.0.0.1.
type served struct {
	e2eCase
	Port  string
	Chain tls.Certificate
}

// verdict is one client's answer for one case.
type verdict struct {
	OK     bool
	Detail string // the client's error, or "accepted"
}

// env is what the clients need: the root to trust and a temp dir.
type env struct {
	dir      string
	rootPEM  string
	binary   string
	versions map[string]string
}

func TestRealClientsAgree(t *testing.T) {
	runAgreement(t, "certsleuth e2e", cases(), 40)
}

// runAgreement serves cs, lets every client judge them, and asserts that
// `certsleuth check --profile P` agrees with each client P. minCases is
// the least number of cases that must be judged by every client.
func runAgreement(t *testing.T, pkiName string, cs []e2eCase, minCases int) {
	e := setup(t)
	p := newPKI(t, pkiName)
	writeRoot(t, e, p)
	startAIA(t, p)
	srv := serveAll(t, p, cs)
	if len(srv) < minCases {
		t.Fatalf("only %d cases; the test needs at least %d", len(srv), minCases)
	}
	results := map[string]map[string]verdict{} // client -> case ID -> verdict
	var mu sync.Mutex
	var wg sync.WaitGroup
	set := func(client string, m map[string]verdict) {
		mu.Lock()
		results[client] = m
		mu.Unlock()
	}
	wg.Add(5)
	go func() { defer wg.Done(); set("chromium", runChromium(t, e, srv)) }()
	go func() { defer wg.Done(); set("curl", forEach(srv, 4, func(s served) verdict { return runCurl(e, s) })) }()
	go func() {
		defer wg.Done()
		set("openssl", forEach(srv, 4, func(s served) verdict { return runOpenSSL(e, s) }))
	}()
	go func() { defer wg.Done(); set("python", runPython(t, e, srv)) }()
	go func() {
		defer wg.Done()
		set("go", forEach(srv, 8, func(s served) verdict { return runGo(p, s) }))
	}()
	// certsleuth check, once per distinct name a client asks for.
	type key struct{ id, name string }
	checks := map[key]map[string]verdict{}
	var cmu sync.Mutex
	var cwg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, s := range srv {
		names := map[string]bool{}
		for _, c := range clientNames {
			names[nameFor(c, s.Host)] = true
		}
		for n := range names {
			cwg.Add(1)
			go func(s served, n string) {
				defer cwg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				v := runCheck(t, e, s, n)
				cmu.Lock()
				checks[key{s.ID, n}] = v
				cmu.Unlock()
			}(s, n)
		}
	}
	wg.Wait()
	cwg.Wait()

	for _, c := range clientNames {
		t.Logf("client %s: %s", c, e.versions[c])
	}
	agree, total := 0, 0
	var table strings.Builder
	fmt.Fprintf(&table, "%-28s", "case")
	for _, c := range clientNames {
		fmt.Fprintf(&table, " %-9s", c)
	}
	table.WriteString("\n")
	for _, s := range srv {
		fmt.Fprintf(&table, "%-28s", s.ID)
		for _, c := range clientNames {
			real, ok := results[c][s.ID]
			if !ok {
				t.Errorf("%s: %s gave no verdict", s.ID, c)
				continue
			}
			ours := checks[key{s.ID, nameFor(c, s.Host)}][c]
			total++
			mark := "ok"
			if !real.OK {
				mark = "REJ"
			}
			if real.OK == ours.OK {
				agree++
			} else {
				mark += "!"
				t.Errorf("%s (%s): %s %s (%s), but `certsleuth check --profile %s` says %s (%s)",
					s.ID, nameFor(c, s.Host), c, word(real.OK), real.Detail, c, word(ours.OK), ours.Detail)
			}
			fmt.Fprintf(&table, " %-9s", mark)
			if s.Sanity != "" && word(real.OK) != map[string]string{"ok": "accepts", "refused": "refuses"}[s.Sanity] {
				t.Errorf("harness: %s must be %s by every client, but %s %s it (%s)", s.ID, s.Sanity, c, word(real.OK), real.Detail)
			}
		}
		table.WriteString("\n")
	}
	t.Logf("verdicts of the real clients (ok accepted, REJ refused, ! certsleuth disagrees):\n%s", table.String())
	t.Logf("agreement: %d of %d verdicts (%.1f%%) over %d cases", agree, total, 100*float64(agree)/float64(max(total, 1)), len(srv))
}

func word(ok bool) string {
	if ok {
		return "accepts"
	}
	return "refuses"
}

// nameFor is the name client c is given for host: Chromium, curl and
// Python convert U-labels themselves; openssl s_client and Go are given
// A-labels, as a program using them would pass.
func nameFor(client, host string) string {
	switch client {
	case "openssl", "go":
		if a, err := idna.Lookup.ToASCII(strings.TrimSuffix(host, ".")); err == nil && a != strings.TrimSuffix(host, ".") {
			if strings.HasSuffix(host, ".") {
				a += "."
			}
			return a
		}
	}
	return host
}

func isIP(h string) bool { return net.ParseIP(h) != nil }

// setup finds the clients, builds certsleuth and notes the versions.
func setup(t *testing.T) *env {
	t.Helper()
	need := map[string]string{"chromium": "chromium", "certutil": "libnss3-tools", "curl": "curl", "openssl": "openssl", "python3": "python3"}
	var missing []string
	for bin, pkg := range need {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, fmt.Sprintf("%s (apt package %s)", bin, pkg))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		msg := "the end-to-end test needs real clients; missing: " + strings.Join(missing, ", ") + "; .ci/run installs them with apt-get"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	e := &env{dir: t.TempDir(), versions: map[string]string{}}
	e.binary = filepath.Join(e.dir, "certsleuth")
	build := exec.Command("go", "build", "-o", e.binary, "github.com/certsleuth/certsleuth/cmd/certsleuth")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build certsleuth: %v\n%s", err, out)
	}
	first := func(name string, args ...string) string {
		out, _ := exec.Command(name, args...).Output()
		return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	e.versions["chromium"] = first("chromium", "--version") // stdout only: Debian's wrapper script complains on stderr
	e.versions["curl"] = first("curl", "--version")
	e.versions["openssl"] = first("openssl", "version")
	e.versions["python"] = first("python3", "-c", "import ssl,sys; print('Python', sys.version.split()[0], ssl.OPENSSL_VERSION)")
	e.versions["go"] = runtime.Version() + " crypto/tls"
	return e
}

// startAIA serves the intermediate at p.aiaURL and sets p.deadURL to an
// address that refuses connections.
func startAIA(t *testing.T, p *pki) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/issuing-ca.cer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(p.inter.Raw)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	p.aiaURL = "http://" + ln.Addr().String() + "/issuing-ca.cer"
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.deadURL = "http://" + dead.Addr().String() + "/issuing-ca.cer"
	dead.Close()
}

// serveAll mints and serves every case, each on its own port.
func serveAll(t *testing.T, p *pki, cs []e2eCase) []served {
	out := make([]served, 0, len(cs))
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.ID] {
			t.Fatalf("duplicate case ID %q", c.ID)
		}
		seen[c.ID] = true
		var chain tls.Certificate
		if c.Mint != nil {
			chain = c.Mint(t, p)
		} else {
			chain = p.mint(t, c.Leaf, c.Chain)
		}
		if c.OpenSSLServer {
			out = append(out, served{e2eCase: c, Port: opensslServer(t, chain), Chain: chain})
			continue
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{chain}}
		if c.TLS12 {
			cfg.MaxVersion = tls.VersionTLS12
			cfg.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		id := c.ID
		hs := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				fmt.Fprintf(w, "certsleuth-e2e %s\n", id)
			}),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0), // refused handshakes are the point
		}
		go hs.Serve(ln)
		t.Cleanup(func() { hs.Close() })
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		out = append(out, served{e2eCase: c, Port: port, Chain: chain})
	}
	return out
}

// opensslServer serves chain with openssl s_server -www on a free port
// of 127.0.0.1 and returns the port once it accepts connections.
func opensslServer(t *testing.T, chain tls.Certificate) string {
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(chain.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	var certPEM []byte
	for _, d := range chain.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	for attempt := 0; attempt < 5; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ln.Close()
		cmd := exec.Command("openssl", "s_server", "-accept", "127.0.0.1:"+port, "-cert", filepath.Join(dir, "cert.pem"),
			"-key", filepath.Join(dir, "key.pem"), "-www", "-quiet", "-naccept", "1000")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatalf("openssl s_server: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-exited })
		for i := 0; i < 50; i++ {
			select {
			case <-exited:
				i = 50
				continue
			default:
			}
			if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
				c.Close()
				return port
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Fatal("openssl s_server did not start")
	return ""
}

// forEach runs f on every case, n at a time, keyed by case ID.
func forEach(srv []served, n int, f func(served) verdict) map[string]verdict {
	out := map[string]verdict{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	for _, s := range srv {
		wg.Add(1)
		go func(s served) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			v := f(s)
			mu.Lock()
			out[s.ID] = v
			mu.Unlock()
		}(s)
	}
	wg.Wait()
	return out
}

// writeRoot writes the root once, for curl, openssl, python and check.
func writeRoot(t *testing.T, e *env, p *pki) string {
	path := filepath.Join(e.dir, "root.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	e.rootPEM = path
	return path
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// runCurl: curl --cacert ROOT --resolve NAME:PORT:127.0.0.1 https://NAME:PORT/
func runCurl(e *env, s served) verdict {
	name := s.Host
	u := "https://" + hostport(name, s.Port) + "/"
	args := []string{"-sS", "-o", "/dev/null", "--max-time", "20", "--cacert", e.rootPEM}
	if !isIP(name) {
		for _, n := range resolveNames(name) {
			args = append(args, "--resolve", n+":"+s.Port+":127.0.0.1")
		}
	}
	out, err := exec.Command("curl", append(args, u)...).CombinedOutput()
	if err != nil {
		return verdict{false, fmt.Sprintf("%v: %s", err, lastLine(out))}
	}
	return verdict{true, "accepted"}
}

// resolveNames are the spellings curl may look up for name.
func resolveNames(name string) []string {
	set := map[string]bool{name: true, strings.TrimSuffix(name, "."): true}
	if a, err := idna.Lookup.ToASCII(strings.TrimSuffix(name, ".")); err == nil {
		set[a] = true
		set[a+"."] = true
	}
	var out []string
	for n := range set {
		if n != "" && isASCII(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func hostport(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// runOpenSSL: openssl s_client -verify_hostname NAME (or -verify_ip) -verify_return_error.
func runOpenSSL(e *env, s served) verdict {
	name := nameFor("openssl", s.Host)
	args := []string{"s_client", "-connect", "127.0.0.1:" + s.Port, "-CAfile", e.rootPEM, "-verify_return_error", "-brief"}
	if isIP(name) {
		args = append(args, "-verify_ip", name)
	} else {
		args = append(args, "-servername", name, "-verify_hostname", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		detail := lastLine(out)
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "verify error") || strings.Contains(l, "error:") {
				detail = strings.TrimSpace(l)
				break
			}
		}
		return verdict{false, fmt.Sprintf("%v: %s", err, detail)}
	}
	return verdict{true, "accepted"}
}

// runGo: crypto/tls with the root as the only trusted one.
func runGo(p *pki, s served) verdict {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", "127.0.0.1:"+s.Port, &tls.Config{RootCAs: pool, ServerName: nameFor("go", s.Host)})
	if err != nil {
		return verdict{false, err.Error()}
	}
	conn.Close()
	return verdict{true, "accepted"}
}

const pythonClient = `
import concurrent.futures, json, socket, ssl, sys
jobs = json.load(sys.stdin)
ctx = ssl.create_default_context(cafile=sys.argv[1])
def run(j):
    try:
        with socket.create_connection(("127.0.0.1", int(j["port"])), timeout=20) as s:
            with ctx.wrap_socket(s, server_hostname=j["name"]):
                return j["id"], True, "accepted"
    except Exception as e:
        return j["id"], False, "%s: %s" % (type(e).__name__, e)
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    out = {i: {"OK": ok, "Detail": d} for i, ok, d in ex.map(run, jobs)}
json.dump(out, sys.stdout)
`

// runPython: one python3 process judges every case with ssl's default context.
func runPython(t *testing.T, e *env, srv []served) map[string]verdict {
	var jobs []map[string]string
	for _, s := range srv {
		jobs = append(jobs, map[string]string{"id": s.ID, "port": s.Port, "name": nameFor("python", s.Host)})
	}
	in, _ := json.Marshal(jobs)
	cmd := exec.Command("python3", "-c", pythonClient, e.rootPEM)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("python3: %v\n%s", err, stderr.String())
		return nil
	}
	m := map[string]verdict{}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Errorf("python3 output: %v\n%s", err, out)
	}
	return m
}

// runChromium starts one headless Chromium that trusts the root through a
// throw-away NSS database, loads a page on 127.0.0.1 that fetches every
// case's https URL, and collects what each fetch did. Every host name is
// mapped to 127.0.0.1 with --host-resolver-rules.
func runChromium(t *testing.T, e *env, srv []served) map[string]verdict {
	home := filepath.Join(e.dir, "chromium-home")
	nssdb := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nssdb, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-N", "-d", "sql:" + nssdb, "--empty-password"},
		{"-A", "-d", "sql:" + nssdb, "-t", "C,,", "-n", "certsleuth e2e root", "-i", e.rootPEM},
	} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Errorf("certutil %s: %v\n%s", strings.Join(args, " "), err, out)
			return nil
		}
	}
	type job struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	var jobs []job
	for _, s := range srv {
		jobs = append(jobs, job{s.ID, "https://" + hostport(s.Host, s.Port) + "/"})
	}
	jobsJSON, _ := json.Marshal(jobs)
	results := map[string]verdict{}
	var mu sync.Mutex
	done := make(chan struct{})
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>certsleuth e2e</title><script>
const jobs = %s;
const post = (id, ok, detail) => fetch("/result", {method: "POST", body: JSON.stringify({id, ok, detail})});
Promise.all(jobs.map(j => fetch(j.url, {mode: "no-cors", cache: "no-store", credentials: "omit"})
  .then(() => post(j.id, true, "accepted"), e => post(j.id, false, String(e)))))
  .then(() => fetch("/done", {method: "POST"}));
</script>`, jobsJSON)
	})
	mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
		var res struct {
			ID     string `json:"id"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &res); err == nil {
			mu.Lock()
			results[res.ID] = verdict{res.OK, "fetch: " + res.Detail}
			mu.Unlock()
		}
	})
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) { once.Do(func() { close(done) }) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	netlog := filepath.Join(e.dir, "chromium-netlog.json")
	cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir="+filepath.Join(e.dir, "chromium-profile"),
		"--host-resolver-rules=MAP * 127.0.0.1, EXCLUDE 127.0.0.1",
		"--log-net-log="+netlog, "--net-log-capture-mode=Default",
		"http://"+ln.Addr().String()+"/")
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Errorf("chromium: %v", err)
		return nil
	}
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Errorf("chromium did not report every case within 90 s (%d of %d); stderr:\n%s", len(results), len(srv), lastLines(stderr.String(), 20))
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	addNetErrors(netlog, srv, results)
	return results
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// addNetErrors adds Chromium's net error name (ERR_CERT_...) to refused
// cases, from its net log, so that a disagreement says what Chromium saw.
func addNetErrors(path string, srv []served, results map[string]verdict) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	for _, s := range srv {
		v, ok := results[s.ID]
		if !ok || v.OK {
			continue
		}
		// The log is JSON; a cheap scan for the port and the nearest net error is enough for a message.
		i := bytes.Index(b, []byte(":"+s.Port))
		if i < 0 {
			continue
		}
		rest := b[i:]
		if j := bytes.Index(rest, []byte(`"net_error":`)); j >= 0 && j < 20000 {
			end := bytes.IndexAny(rest[j+12:], ",}")
			if end > 0 {
				v.Detail += " (net_error " + string(rest[j+12:j+12+end]) + ")"
				results[s.ID] = v
			}
		}
	}
}

// checkItem is the part of certsleuth's JSON report the test reads.
type checkItem struct {
	Type     string `json:"type"`
	SNI      string `json:"sni"`
	Name     string `json:"name"`
	Warns    []string
	Findings []struct {
		ID       string `json:"id"`
		Severity string `json:"severity"`
		Profile  string `json:"profile"`
		Summary  string `json:"summary"`
	} `json:"findings"`
}

// runCheck runs `certsleuth check --profile chromium,curl,openssl,python,go`
// for name on the case's port and returns each profile's verdict.
func runCheck(t *testing.T, e *env, s served, name string) map[string]verdict {
	args := []string{"check", "--profile", strings.Join(clientNames, ","), "--ca-file", e.rootPEM, "--format", "json"}
	target := hostport(name, s.Port)
	if isIP(name) {
		target = hostport(name, s.Port)
	} else {
		args = append(args, "--resolve", name+"=127.0.0.1:"+s.Port)
	}
	cmd := exec.Command(e.binary, append(args, target)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		t.Errorf("certsleuth check %s: %v\n%s", target, err, stderr.String())
	}
	out := map[string]verdict{}
	for _, c := range clientNames {
		out[c] = verdict{true, "no error finding"}
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		var it checkItem
		if json.Unmarshal([]byte(line), &it) != nil || it.Type != "connection" {
			continue
		}
		for _, c := range clientNames {
			for _, f := range it.Findings {
				if f.Severity == "error" && (f.Profile == c || f.Profile == "all") {
					v := out[c]
					if v.OK {
						v = verdict{false, f.ID + ": " + f.Summary}
					}
					out[c] = v
				}
			}
		}
		break // the first connection is the one made with SNI, like the clients
	}
	return out
}
