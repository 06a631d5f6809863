package capture

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// pcapgenDir holds a copy of the workplace's generator of synthetic
// captures with ground truth (../shared/tools/pcapgen; see its README), so
// the ground-truth test runs in any clone.
const pcapgenDir = "testdata/pcapgen"

// buildPcapgen builds pcapgen into a temporary directory.
func buildPcapgen(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pcapgenDir, "main.go")); err != nil {
		t.Fatalf("the ground-truth generator %s is missing: %v", pcapgenDir, err)
	}
	bin := filepath.Join(t.TempDir(), "pcapgen")
	out, err := exec.Command("go", "build", "-C", pcapgenDir, "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build pcapgen: %v\n%s", err, out)
	}
	return bin
}

// truthFlow is one line of pcapgen's FILE.truth.jsonl.
type truthFlow struct {
	ID          int      `json:"id"`
	Kind        string   `json:"kind"`
	Client      string   `json:"client"`
	Server      string   `json:"server"`
	SNI         string   `json:"sni"`
	CertVisible bool     `json:"cert_visible"`
	LeafCN      string   `json:"leaf_cn"`
	LeafNames   []string `json:"leaf_names"`
	ChainLen    int      `json:"chain_len"`
	HTTP        []struct {
		Method   string `json:"method"`
		Host     string `json:"host"`
		Path     string `json:"path"`
		Status   int    `json:"status"`
		Location string `json:"location"`
	} `json:"http"`
	DNS *struct {
		Qname   string   `json:"qname"`
		Qtype   string   `json:"qtype"`
		Answers []string `json:"answers"`
	} `json:"dns"`
}

func readTruth(t testing.TB, path string) []truthFlow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []truthFlow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var tf truthFlow
		if err := json.Unmarshal(sc.Bytes(), &tf); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, tf)
	}
	return out
}

// leafNames are the leaf's SANs (DNS and IP), as pcapgen writes them.
func leafNames(t testing.TB, der []byte) []string {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Errorf("leaf does not parse: %v", err)
		return nil
	}
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// TestGroundTruth reads a pcapgen capture and checks every flow against
// the generator's ground truth: SNI, TLS version, certificate visibility
// and leaf names, HTTP requests and DNS queries.
func TestGroundTruth(t *testing.T) {
	bin := buildPcapgen(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"pcap", []string{"-flows", "300", "-payload-bytes", "3000", "-seed", "7", "-hs-disturb", "0.3", "-ooo", "0.02", "-retrans", "0.02"}},
		{"pcapng-ipv6", []string{"-flows", "200", "-payload-bytes", "1000", "-seed", "8", "-format", "pcapng", "-ipv6", "0.5", "-no-sni", "0.2", "-http", "0.2", "-dns", "0.5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "synth.cap")
			cmd := exec.Command(bin, append(tc.args, "-o", out)...)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("pcapgen: %v\n%s", err, b)
			}
			checkTruthFile(t, out)
		})
	}
}

func checkTruth(t *testing.T, truth []truthFlow, obs []*record.Observation) {
	t.Helper()
	tlsBy := map[string]*record.Observation{}
	httpBy := map[string][]*record.Observation{}
	dnsBy := map[string][]*record.Observation{}
	for _, o := range obs {
		k := o.Client + ">" + o.Server
		switch o.Kind {
		case record.KindTLS:
			if tlsBy[k] != nil {
				t.Errorf("two TLS observations for %s", k)
			}
			tlsBy[k] = o
		case record.KindHTTP:
			httpBy[k] = append(httpBy[k], o)
		case record.KindDNS:
			dnsBy[k] = append(dnsBy[k], o)
		}
	}
	var nTLS, nHTTP, nDNS int
	for _, tf := range truth {
		k := tf.Client + ">" + tf.Server
		where := fmt.Sprintf("flow %d (%s %s)", tf.ID, tf.Kind, k)
		switch {
		case strings.HasPrefix(tf.Kind, "tls"):
			nTLS++
			o := tlsBy[k]
			if o == nil {
				t.Errorf("%s: no TLS observation", where)
				continue
			}
			if o.SNI != tf.SNI || o.NoSNI != (tf.SNI == "") {
				t.Errorf("%s: SNI %q (no_sni %v), truth %q", where, o.SNI, o.NoSNI, tf.SNI)
			}
			wantVer := map[string]string{"tls1.2": "TLS 1.2", "tls1.3": "TLS 1.3"}[tf.Kind]
			if o.TLSVersion != wantVer {
				t.Errorf("%s: version %q, want %q", where, o.TLSVersion, wantVer)
			}
			if !tf.CertVisible {
				if o.Visibility != record.VisEncrypted {
					t.Errorf("%s: visibility %q, want encrypted", where, o.Visibility)
				}
				continue
			}
			if o.Visibility != record.VisVisible || len(o.Chain) != tf.ChainLen {
				t.Errorf("%s: visibility %q with %d certificates, want visible with %d (note %q)", where, o.Visibility, len(o.Chain), tf.ChainLen, o.Note)
				continue
			}
			if got := leafNames(t, o.Chain[0]); !sameSet(got, tf.LeafNames) {
				t.Errorf("%s: leaf names %v, truth %v", where, got, tf.LeafNames)
			}
			if c, err := x509.ParseCertificate(o.Chain[0]); err == nil && c.Subject.CommonName != tf.LeafCN {
				t.Errorf("%s: leaf CN %q, truth %q", where, c.Subject.CommonName, tf.LeafCN)
			}
		case tf.Kind == "http":
			nHTTP++
			hs := httpBy[k]
			if len(hs) == 0 {
				t.Errorf("%s: no HTTP observation", where)
				continue
			}
			if len(hs) != len(tf.HTTP) {
				t.Errorf("%s: %d HTTP exchanges, truth %d", where, len(hs), len(tf.HTTP))
				continue
			}
			for i, want := range tf.HTTP {
				h := hs[i]
				if h.Method != want.Method || h.Host != want.Host || h.URL != "http://"+want.Host+want.Path || h.Status != want.Status || h.Location != want.Location {
					t.Errorf("%s: HTTP %s %s %d %q, truth %+v", where, h.Method, h.URL, h.Status, h.Location, want)
				}
			}
		case tf.Kind == "dns":
			nDNS++
			ds := dnsBy[k]
			if len(ds) == 0 {
				t.Errorf("%s: no DNS observation", where)
				continue
			}
			d := ds[0].DNS
			var answers []string
			for _, a := range d.Answers {
				if a.Type == "SRV" {
					answers = append(answers, fmt.Sprintf("SRV %d %d %d %s", a.Prio, a.Weight, a.Port, a.Value))
				} else {
					answers = append(answers, a.Type+" "+a.Value)
				}
			}
			if tf.DNS != nil && (d.Query != tf.DNS.Qname || d.Type != tf.DNS.Qtype || !slices.Equal(answers, tf.DNS.Answers) && len(answers)+len(tf.DNS.Answers) > 0) {
				t.Errorf("%s: DNS %s %s %q, truth %s %s %q", where, d.Query, d.Type, answers, tf.DNS.Qname, tf.DNS.Qtype, tf.DNS.Answers)
			}
		}
	}
	if nTLS == 0 {
		t.Fatal("the ground truth has no TLS flows")
	}
	if len(tlsBy) != nTLS {
		t.Errorf("%d TLS observations, truth has %d TLS flows", len(tlsBy), nTLS)
	}
	t.Logf("checked %d TLS, %d HTTP, %d DNS flows", nTLS, nHTTP, nDNS)
}

// TestGroundTruthFile checks the captures named in $CERTSLEUTH_TRUTH_PCAP
// (colon-separated; each with FILE.truth.jsonl beside it, as pcapgen
// writes) against their ground truth: scripts/bench-pcap.sh runs it on the
// 1 GiB and 204 MiB benchmark files.
func TestGroundTruthFile(t *testing.T) {
	env := os.Getenv("CERTSLEUTH_TRUTH_PCAP")
	if env == "" {
		t.Skip("set CERTSLEUTH_TRUTH_PCAP to a pcapgen capture to check it")
	}
	for _, name := range strings.Split(env, ":") {
		t.Run(filepath.Base(name), func(t *testing.T) {
			checkTruthFile(t, name)
		})
	}
}

// checkTruthFile reads the pcapgen capture name and checks it against
// name.truth.jsonl.
func checkTruthFile(t *testing.T, name string) {
	t.Helper()
	truth := readTruth(t, name+".truth.jsonl")
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Read(f, name, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	checkTruth(t, truth, res.Observations)
}

// TestSpares reads a pcapgen capture (300 connections with reordered,
// retransmitted and lost segments, HTTP and DNS among them) with the
// flows and TLS halves of finished connections reused for new ones and
// without: the observations are the same, field for field (nothing of a
// finished connection leaks into the next).
func TestSpares(t *testing.T) {
	bin := buildPcapgen(t)
	out := filepath.Join(t.TempDir(), "synth.cap")
	args := []string{"-flows", "300", "-payload-bytes", "2000", "-seed", "9", "-hs-disturb", "0.3", "-ooo", "0.02", "-retrans", "0.02", "-http", "0.2", "-dns", "0.5", "-concurrency", "8", "-o", out}
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("pcapgen: %v\n%s", err, b)
	}
	read := func(spares int) []byte {
		defer func(n int) { maxSpares = n }(maxSpares)
		maxSpares = spares
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		res, err := Read(f, "synth.cap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) < 300 {
			t.Fatalf("%d observations", len(res.Observations))
		}
		b, err := json.Marshal(res.Observations)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if with, without := read(256), read(0); !bytes.Equal(with, without) {
		t.Errorf("observations differ with spares (%d bytes of JSON) and without (%d)", len(with), len(without))
	}
}
