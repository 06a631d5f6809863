package capture

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
)

// realCase is one capture of real software in testdata/real (made by
// testdata/real/make.sh, which README.md there describes), with what its
// TLS connections must yield.
type realCase struct {
	file string
	tls  []wantReal
	// report is text the text report must contain.
	report []string
}

// wantReal is what one TLS connection of a real capture must yield,
// beyond what wantTLS checks.
type wantReal struct {
	wantTLS
	leafNames []string // the leaf's DNS names, when visible
	connect   string
	proxy     bool // Proxy is the server end
	warnings  []string
	note      string // text the note must contain
	errText   string // text the error must contain
}

var realCases = []realCase{
	{
		file: "frag-records.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
			leafNames: []string{"mail.contoso.test", "autodiscover.contoso.test"}}},
	},
	{
		file: "big-certificate.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test", clientAlert: "illegal parameter"},
			leafNames: []string{"mail.contoso.test"}, note: "refuse more than 100 KiB"}},
	},
	{
		file: "connect-squid.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
			leafNames: []string{"mail.contoso.test"}, connect: "autodiscover.contoso.test:18445", proxy: true}},
		report: []string{"CONNECT autodiscover.contoso.test:18445", "certificate is valid for mail.contoso.test, not autodiscover.contoso.test"},
	},
	{
		file: "warning-alert.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "exch01.corp.contoso.test"},
			leafNames: []string{"exch01.corp.contoso.test"}, warnings: []string{"unrecognized name"}, note: "unrecognized name"}},
	},
}

// TestRealCaptures reads each capture of real software in testdata/real
// and checks its TLS connections against the table, and its text and
// JSON reports (roots: testdata/real/ca.pem) against
// testdata/golden/real/ (-update rewrites them).
func TestRealCaptures(t *testing.T) {
	pool, err := certs.LoadCertificates(filepath.Join("testdata", "real", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	for _, c := range pool {
		roots.AddCert(c)
	}
	for _, c := range realCases {
		t.Run(c.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "real", c.file))
			if err != nil {
				t.Fatalf("%v (make it with capture/testdata/real/make.sh)", err)
			}
			defer f.Close()
			res, err := Read(f, c.file, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkReal(t, c, res)
			rep := analysis.Analyze(res.Observations, analysis.Options{Roots: roots, Cache: &certs.Cache{}})
			rep.Problems = append(rep.Problems, res.Problems...)
			for _, format := range []string{"text", "json"} {
				var out bytes.Buffer
				if err := analysis.Render(&out, rep, format, analysis.RenderOptions{Title: c.file, Width: 100}); err != nil {
					t.Fatal(err)
				}
				if format == "text" {
					flat := strings.Join(strings.Fields(out.String()), " ")
					for _, s := range c.report {
						if !strings.Contains(flat, s) {
							t.Errorf("the text report does not say %q:\n%s", s, out.String())
						}
					}
				}
				golden(t, filepath.Join("testdata", "golden", "real", c.file+"."+format), out.Bytes())
			}
		})
	}
}

func checkReal(t *testing.T, c realCase, res *Result) {
	t.Helper()
	var tlsObs []*record.Observation
	for _, o := range res.Observations {
		if o.Kind == record.KindTLS {
			tlsObs = append(tlsObs, o)
		}
	}
	if len(tlsObs) != len(c.tls) {
		t.Fatalf("%d TLS observations, want %d", len(tlsObs), len(c.tls))
	}
	var base []wantTLS
	for _, w := range c.tls {
		base = append(base, w.wantTLS)
	}
	checkCase(t, capCase{tls: base}, &Result{Observations: tlsObs})
	for i, w := range c.tls {
		o := tlsObs[i]
		if len(w.leafNames) > 0 {
			if leaf, err := x509.ParseCertificate(o.Chain[0]); err != nil || strings.Join(leaf.DNSNames, " ") != strings.Join(w.leafNames, " ") {
				t.Errorf("TLS %d: leaf names %v (err %v), want %v", i, leaf.DNSNames, err, w.leafNames)
			}
		}
		if o.Connect != w.connect || (o.Proxy != "") != w.proxy || w.proxy && o.Proxy != o.Server {
			t.Errorf("TLS %d: connect %q proxy %q (server %q), want connect %q proxy %v", i, o.Connect, o.Proxy, o.Server, w.connect, w.proxy)
		}
		if strings.Join(o.ServerWarnings, ",") != strings.Join(w.warnings, ",") {
			t.Errorf("TLS %d: server warnings %v, want %v", i, o.ServerWarnings, w.warnings)
		}
		if !strings.Contains(o.Note, w.note) {
			t.Errorf("TLS %d: note %q, want it to say %q", i, o.Note, w.note)
		}
		if !strings.Contains(o.Error, w.errText) {
			t.Errorf("TLS %d: error %q, want it to say %q", i, o.Error, w.errText)
		}
	}
}
