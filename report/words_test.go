package report

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	scen "github.com/certsleuth/certsleuth/internal/scenario"
	"github.com/certsleuth/certsleuth/record"
)

// A chain that cannot be verified is said in a sentence, with the cause
// whose fix removes the warning first: an expired leaf whose CA began
// after it (so no moment exists when the chain is valid) reads "expired,
// reissue", not crypto/x509's "certificate has expired or is not yet
// valid: current time ...".
func TestExpiredLeadsAndNoGoWords(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Late CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mail.contoso.test"},
		DNSNames: []string{"mail.contoso.test"}, NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	o := &record.Observation{Kind: record.KindTLS, Source: record.SourceProbe, Time: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Server: "127.0.0.1:443",
		SNI: "mail.contoso.test", Chain: [][]byte{leafDER}, Visibility: record.VisVisible}
	r := analysis.Analyze([]*record.Observation{o}, analysis.Options{Roots: roots})
	cs := r.Culprits()
	if len(cs) != 1 || cs[0].Findings[0].ID != "date.expired" {
		t.Fatalf("culprits %v, want one led by date.expired", cs)
	}
	if !strings.Contains(cs[0].Verdict, "expired on 2020-06-01") || !strings.Contains(cs[0].Verdict, "Renew the certificate") {
		t.Errorf("verdict %q does not lead with the expiry and its fix", cs[0].Verdict)
	}
	checkNoGoWords(t, r)
}

// checkNoGoWords renders r in every format but JSON and fails on the words
// Go's libraries write.
func checkNoGoWords(t *testing.T, r *analysis.Report) {
	t.Helper()
	raw := regexp.MustCompile(`x509: |tls: |dial tcp|remote error: |current time \d`)
	for _, f := range []string{"text", "md", "html"} {
		var b bytes.Buffer
		if err := Render(&b, r, f, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		if m := raw.FindString(b.String()); m != "" {
			t.Errorf("%s report shows Go's error words %q:\n%s", f, m, b.String())
		}
	}
}

// A connection without SNI to a server whose certificate carries no names
// at all is told by the server's address and the names it has, in every
// format: never "(unknown) (from the )" or "the certificate for  is".
func TestNoSNINoNames(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	obs := []*record.Observation{
		{Kind: record.KindTLS, Source: record.SourcePcap, Time: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Client: "10.0.0.20:50000", Server: "10.0.0.5:443",
			NoSNI: true, TLSVersion: "TLS 1.2", Chain: [][]byte{der}, Visibility: record.VisVisible},
		// A request with no name at all and a failure in Go's words.
		{Kind: record.KindTLS, Source: record.SourceProxy, Time: time.Date(2026, 6, 1, 0, 0, 1, 0, time.UTC), Server: "10.0.0.6:443",
			Error: "upstream TLS handshake with 10.0.0.6:443 failed: remote error: tls: internal error", Visibility: record.VisFailed},
	}
	r := analysis.Analyze(obs, analysis.Options{})
	bad := []string{"(unknown)", "(from the )", "certificate for is", "only the CN .", "; CN (", "; CN ;", "warns on ,", "warns on :"}
	for _, f := range []string{"text", "md", "html", "json"} {
		var b bytes.Buffer
		if err := Render(&b, r, f, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		out := strings.Join(strings.Fields(b.String()), " ")
		for _, s := range bad {
			if strings.Contains(out, s) {
				t.Errorf("%s report says %q:\n%s", f, s, out)
			}
		}
		if f == "text" {
			for _, want := range []string{"no name: the client sent no SNI", "it connected to 10.0.0.5:443", "the certificate, which carries no names, is self-signed",
				"the server at 10.0.0.5:443 (the client named no host)", "no names: no SAN, no CN"} {
				if !strings.Contains(out, want) {
					t.Errorf("text report lacks %q:\n%s", want, out)
				}
			}
		}
	}
	checkNoGoWords(t, r)
}

// The Markdown report gives every command of a cause whose connections
// carried no URL, each in a block to paste.
func TestMarkdownFixes(t *testing.T) {
	var sc scen.Scenario
	for _, s := range scen.List(t) {
		if s.Name == "proxy-refused" {
			sc = s
		}
	}
	r := analyzeScenario(t, sc)
	c := r.Culprits()[0]
	var b strings.Builder
	if err := Render(&b, r, "md", RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(c.Remedies) < 3 {
		t.Fatalf("%d remedies, want one per setting", len(c.Remedies))
	}
	for _, rm := range c.Remedies {
		if !strings.Contains(b.String(), "```"+cmdLang(rm.Command)+"\n"+rm.Command+"\n```") {
			t.Errorf("Markdown report lacks the block for %q:\n%s", rm.Command, b.String())
		}
	}
}

// countWords says how often a cause came back (Outlook's hourly
// Autodiscover rerun brings the same warning back), and exampleWords that
// certsleuth check's look without SNI is not the warning coming back.
func TestCountWords(t *testing.T) {
	cs := analyzeScenario(t, scen.List(t)[0]).Culprits() // kb940726
	if w := countWords(cs[0]); !strings.HasPrefix(w, "2 requests") || !strings.Contains(w, "08:00:00Z to 09:00:00Z") || !strings.Contains(w, "re-runs Autodiscover about hourly") {
		t.Errorf("counts = %q", w)
	}
	if w := countWords(cs[2]); !strings.HasPrefix(w, "1 request from 1 client (Microsoft Office), ") || strings.Contains(w, " to ") {
		t.Errorf("a cause of one request: counts = %q", w)
	}
	p := scen.Certs(t)
	exch := p.Leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com")
	u := "https://exch01.contoso.local/EWS/Exchange.asmx"
	r := analysis.Analyze([]*record.Observation{scen.ProbeObs(0, u, true, exch, scen.ExchAddr), scen.ProbeObs(0, u, false, exch, scen.ExchAddr)}, analysis.Options{Roots: p.Roots, Now: scen.Day})
	c := r.Culprits()[0]
	if len(c.Examples) != 2 {
		t.Fatalf("%d examples, want the look with SNI and the one without", len(c.Examples))
	}
	if w := exampleWords(c, c.Examples[1]); w != "#2 the same without SNI" {
		t.Errorf("%s: second example %q", u, w)
	}
}
