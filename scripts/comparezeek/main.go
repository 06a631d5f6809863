// Command comparezeek compares what `certsleuth pcap` reads from Zeek's
// TLS test traces with what Zeek itself logged for them: the ssl.log and
// x509.log baselines Zeek's test suite keeps (testing/btest/Baseline/),
// so Zeek need not be installed. Per TLS connection of a baseline's
// ssl.log it compares the SNI (server_name), the version, the server's
// leaf certificate (the first of cert_chain_fps, a SHA-256 of the DER)
// and, from x509.log, the leaf's subject CN and DNS names.
//
//	go run ./scripts/comparezeek -zeek ZEEK_GIT_DIR [-certsleuth PATH] [-v] TRACES_DIR
//
// ZEEK_GIT_DIR is a clone of https://github.com/zeek/zeek (bare or not:
// files are read with git show HEAD:path). A test of
// testing/btest/scripts that reads exactly one trace from $TRACES/tls/
// and keeps an ssl.log baseline gives that trace's expected connections;
// the trace is looked for in TRACES_DIR as NAME or zeek-NAME (the
// development set of scripts/compare-tshark.sh names them so). DTLS
// connections (UDP; certsleuth reads TCP) are counted apart.
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/certsleuth/certsleuth/capture"
	"github.com/certsleuth/certsleuth/scripts/internal/pcaprun"
)

func main() {
	zeek := flag.String("zeek", "", "a git clone of zeek/zeek (bare or not)")
	certsleuth := flag.String("certsleuth", "certsleuth", "the certsleuth binary")
	verbose := flag.Bool("v", false, "print agreeing connections too")
	flag.Parse()
	if *zeek == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: comparezeek -zeek ZEEK_GIT_DIR [-certsleuth PATH] [-v] TRACES_DIR")
		os.Exit(2)
	}
	g := gitDir{*zeek}
	tests, err := g.tests()
	if err != nil {
		fmt.Fprintln(os.Stderr, "comparezeek:", err)
		os.Exit(2)
	}
	var total tally
	files, dtls, missing := 0, 0, 0
	for _, t := range tests {
		file := ""
		for _, n := range []string{t.trace, "zeek-" + t.trace} {
			if _, err := os.Stat(filepath.Join(flag.Arg(0), n)); err == nil {
				file = filepath.Join(flag.Arg(0), n)
				break
			}
		}
		if file == "" {
			missing++
			fmt.Printf("%s: not in %s (baseline %s)\n", t.trace, flag.Arg(0), t.baseline)
			continue
		}
		files++
		conns, err := g.zeekConns(t.baseline)
		if err != nil {
			fmt.Printf("%s: %v\n", t.trace, err)
			continue
		}
		obs, err := runCertsleuth(*certsleuth, file)
		if err != nil {
			fmt.Printf("%s: certsleuth: %v\n", t.trace, err)
		}
		var ft tally
		for _, z := range conns {
			if strings.HasPrefix(z.version, "DTLS") {
				dtls++
				continue
			}
			r := compareConn(z, obs)
			ft.add(r)
			if !r.agree() || *verbose {
				fmt.Printf("%s: %s\n", t.trace, r)
			}
		}
		total.merge(ft)
		fmt.Printf("%s (%s): %s\n", t.trace, path.Base(t.baseline), ft)
	}
	fmt.Printf("TOTAL %d traces with a Zeek ssl.log baseline (%d not found, %d DTLS connections not compared): %s\n", files, missing, dtls, total)
}

// gitDir reads files of a git repository's HEAD.
type gitDir struct{ dir string }

func (g gitDir) git(args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"--git-dir", g.gitPath()}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func (g gitDir) gitPath() string {
	if st, err := os.Stat(filepath.Join(g.dir, ".git")); err == nil && st.IsDir() {
		return filepath.Join(g.dir, ".git")
	}
	return g.dir
}

func (g gitDir) show(p string) ([]byte, error) { return g.git("show", "HEAD:"+p) }

// zeekTest is a test that reads one TLS trace and keeps an ssl.log baseline.
type zeekTest struct {
	trace    string // file name under Traces/tls/
	baseline string // its Baseline directory
}

var traceRE = regexp.MustCompile(`\$TRACES/tls/([A-Za-z0-9._+-]+)`)

// tests lists, per trace, one test of testing/btest/scripts that reads
// only that trace and has an ssl.log baseline (the one with the most
// connections when several do).
func (g gitDir) tests() ([]zeekTest, error) {
	out, err := g.git("ls-tree", "-r", "--name-only", "HEAD", "testing/btest")
	if err != nil {
		return nil, err
	}
	haveLog := map[string]bool{}
	var scripts []string
	for _, p := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case strings.HasPrefix(p, "testing/btest/Baseline/") && strings.HasSuffix(p, "/ssl.log"):
			haveLog[path.Dir(p)] = true
		case strings.HasPrefix(p, "testing/btest/scripts/"):
			scripts = append(scripts, p)
		}
	}
	best := map[string]zeekTest{}
	rows := map[string]int{}
	for _, p := range scripts {
		body, err := g.show(p)
		if err != nil || !bytes.Contains(body, []byte("$TRACES/tls/")) {
			continue
		}
		names := map[string]bool{}
		for _, line := range strings.Split(string(body), "\n") {
			if !strings.Contains(line, "@TEST-EXEC") {
				continue
			}
			for _, m := range traceRE.FindAllStringSubmatch(line, -1) {
				names[m[1]] = true
			}
		}
		if len(names) != 1 {
			continue
		}
		var trace string
		for n := range names {
			trace = n
		}
		rel := strings.TrimPrefix(p, "testing/btest/")
		rel = strings.TrimSuffix(rel, path.Ext(rel))
		base := "testing/btest/Baseline/" + strings.ReplaceAll(rel, "/", ".")
		if !haveLog[base] {
			continue
		}
		conns, err := g.zeekConns(base)
		if err != nil {
			continue
		}
		if _, ok := best[trace]; !ok || len(conns) > rows[trace] {
			best[trace], rows[trace] = zeekTest{trace, base}, len(conns)
		}
	}
	var l []zeekTest
	for _, t := range best {
		l = append(l, t)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].trace < l[j].trace })
	return l, nil
}

// zeekConn is one ssl.log row, with its leaf's x509.log row.
type zeekConn struct {
	client, server string
	sni, version   string // as certsleuth writes them
	leaf           string // hex SHA-256, "" none
	cn             string
	dns            []string
	haveX509       bool
}

// zeekLog reads a Zeek ASCII log: one map per row, by the #fields names.
func zeekLog(b []byte) []map[string]string {
	var fields []string
	var rows []map[string]string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#fields\t") {
			fields = strings.Split(line, "\t")[1:]
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") || fields == nil {
			continue
		}
		v := strings.Split(line, "\t")
		row := map[string]string{}
		for i, f := range fields {
			if i < len(v) {
				row[f] = v[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func unset(s string) string {
	if s == "-" || s == "(empty)" {
		return ""
	}
	return s
}

func (g gitDir) zeekConns(base string) ([]zeekConn, error) {
	b, err := g.show(base + "/ssl.log")
	if err != nil {
		return nil, err
	}
	x509s := map[string]map[string]string{}
	if xb, err := g.show(base + "/x509.log"); err == nil {
		for _, r := range zeekLog(xb) {
			x509s[r["fingerprint"]] = r
		}
	}
	var out []zeekConn
	for _, r := range zeekLog(b) {
		z := zeekConn{
			client:  net.JoinHostPort(r["id.orig_h"], r["id.orig_p"]),
			server:  net.JoinHostPort(r["id.resp_h"], r["id.resp_p"]),
			sni:     unset(r["server_name"]),
			version: zeekVersion(unset(r["version"])),
		}
		if fps := unset(r["cert_chain_fps"]); fps != "" {
			z.leaf = strings.Split(fps, ",")[0]
			if x, ok := x509s[z.leaf]; ok {
				z.haveX509 = true
				z.cn = subjectCN(x["certificate.subject"])
				if d := unset(x["san.dns"]); d != "" {
					z.dns = strings.Split(d, ",")
				}
			}
		}
		out = append(out, z)
	}
	return out, nil
}

// zeekVersion turns Zeek's version string (base/protocols/ssl/consts.zeek:
// SSLv2, SSLv3, TLSv10-13, TLSv13-draftN, unknown-N) into certsleuth's
// name for it.
func zeekVersion(s string) string {
	var v uint16
	switch {
	case s == "":
		return ""
	case s == "SSLv2":
		v = 0x0002
	case s == "SSLv3":
		v = 0x0300
	case strings.HasPrefix(s, "TLSv13-draft"):
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "TLSv13-draft"))
		v = 0x7f00 | uint16(n)
	case strings.HasPrefix(s, "TLSv1") && len(s) == 6:
		v = 0x0301 + uint16(s[5]-'0')
	case strings.HasPrefix(s, "unknown-"):
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "unknown-"))
		v = uint16(n)
	default:
		return s
	}
	return capture.VersionName(v)
}

// subjectCN is the CN of an RFC 2253 subject as Zeek logs it.
func subjectCN(s string) string {
	for _, part := range splitRDN(s) {
		if strings.HasPrefix(part, "CN=") {
			return strings.ReplaceAll(strings.TrimPrefix(part, "CN="), `\,`, ",")
		}
	}
	return ""
}

// splitRDN splits at commas not escaped by a backslash.
func splitRDN(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// csConn is what certsleuth read of one TLS connection.
type csConn struct {
	client, server, sni, version, leaf, cn string
	dns                                    []string
	parsed                                 bool
	used                                   bool
}

func runCertsleuth(bin, file string) ([]*csConn, error) {
	obs, err := pcaprun.TLS(bin, file)
	var out []*csConn
	for _, o := range obs {
		c := &csConn{client: o.Client, server: o.Server, sni: o.SNI, version: o.TLSVersion}
		if len(o.Chain) > 0 {
			sum := sha256.Sum256(o.Chain[0])
			c.leaf = hex.EncodeToString(sum[:])
			if x, err := x509.ParseCertificate(o.Chain[0]); err == nil {
				c.parsed, c.cn, c.dns = true, x.Subject.CommonName, x.DNSNames
			}
		}
		out = append(out, c)
	}
	return out, err
}

// result is one Zeek connection and what certsleuth read of it (nil: none).
type result struct {
	z  zeekConn
	cs *csConn
}

func compareConn(z zeekConn, obs []*csConn) result {
	for _, c := range obs {
		if !c.used && c.client == z.client && c.server == z.server {
			c.used = true
			return result{z, c}
		}
	}
	return result{z: z}
}

func (r result) diffs() []string {
	if r.cs == nil {
		return []string{"certsleuth has no TLS connection"}
	}
	var d []string
	if r.cs.sni != r.z.sni {
		d = append(d, fmt.Sprintf("sni %q vs %q", r.cs.sni, r.z.sni))
	}
	if r.cs.version != r.z.version {
		d = append(d, fmt.Sprintf("version %q vs %q", r.cs.version, r.z.version))
	}
	if r.cs.leaf != r.z.leaf {
		d = append(d, fmt.Sprintf("leaf %s vs %s", short(r.cs.leaf), short(r.z.leaf)))
	}
	if r.z.haveX509 && r.cs.parsed {
		if r.cs.cn != r.z.cn {
			d = append(d, fmt.Sprintf("subject CN %q vs %q", r.cs.cn, r.z.cn))
		}
		if strings.Join(r.cs.dns, ",") != strings.Join(r.z.dns, ",") {
			d = append(d, fmt.Sprintf("DNS names %d vs %d", len(r.cs.dns), len(r.z.dns)))
		}
	}
	return d
}

func short(h string) string {
	if h == "" {
		return "none"
	}
	return h[:12]
}

func (r result) agree() bool { return len(r.diffs()) == 0 }

func (r result) String() string {
	head := r.z.client + " -> " + r.z.server
	if r.agree() {
		names := ""
		if r.z.haveX509 {
			names = fmt.Sprintf(" CN=%s +%d names", r.z.cn, len(r.z.dns))
		}
		return fmt.Sprintf("agree %s sni=%q %s leaf %s%s", head, r.z.sni, r.z.version, short(r.z.leaf), names)
	}
	return "DIFFER " + head + " (certsleuth vs Zeek): " + strings.Join(r.diffs(), "; ")
}

// tally counts connections and agreements.
type tally struct{ conns, agree, sni, version, leaf, names, namesCompared int }

func (t *tally) add(r result) {
	t.conns++
	if r.agree() {
		t.agree++
	}
	if r.cs == nil {
		return
	}
	if r.cs.sni == r.z.sni {
		t.sni++
	}
	if r.cs.version == r.z.version {
		t.version++
	}
	if r.cs.leaf == r.z.leaf {
		t.leaf++
	}
	if r.z.haveX509 && r.cs.parsed {
		t.namesCompared++
		if r.cs.cn == r.z.cn && strings.Join(r.cs.dns, ",") == strings.Join(r.z.dns, ",") {
			t.names++
		}
	}
}

func (t *tally) merge(o tally) {
	t.conns += o.conns
	t.agree += o.agree
	t.sni += o.sni
	t.version += o.version
	t.leaf += o.leaf
	t.names += o.names
	t.namesCompared += o.namesCompared
}

var pct = pcaprun.Pct

func (t tally) String() string {
	return fmt.Sprintf("%d TLS connections, %d agree (%s); sni %s, version %s, leaf %s, subject CN and DNS names %d of %d",
		t.conns, t.agree, pct(t.agree, t.conns), pct(t.sni, t.conns), pct(t.version, t.conns), pct(t.leaf, t.conns), t.names, t.namesCompared)
}
