package analysis

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

func TestRegistryRefuses(t *testing.T) {
	ok := func() *Check {
		return &Check{ID: "test.ok", Title: "t", Severity: SeverityError, Citation: "c", Remedy: "r", Run: func(*Subject) *Finding { return nil }}
	}
	tests := []struct {
		name  string
		edit  func(c *Check) *Check
		error string
	}{
		{"nil", func(*Check) *Check { return nil }, "nil check"},
		{"empty ID", func(c *Check) *Check { c.ID = ""; return c }, "empty ID"},
		{"upper case ID", func(c *Check) *Check { c.ID = "Name.Mismatch"; return c }, "lower case and namespaced"},
		{"ID without namespace", func(c *Check) *Check { c.ID = "mismatch"; return c }, "lower case and namespaced"},
		{"unknown severity", func(c *Check) *Check { c.Severity = "fatal"; return c }, "unknown severity"},
		{"empty severity", func(c *Check) *Check { c.Severity = ""; return c }, "unknown severity"},
		{"no remedy", func(c *Check) *Check { c.Remedy = ""; return c }, "remedy are required"},
		{"no citation", func(c *Check) *Check { c.Citation = ""; return c }, "remedy are required"},
		{"no title", func(c *Check) *Check { c.Title = ""; return c }, "remedy are required"},
		{"no Run", func(c *Check) *Check { c.Run = nil; return c }, "no Run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Registry{}
			err := r.Register(tt.edit(ok()))
			if err == nil || !strings.Contains(err.Error(), tt.error) {
				t.Fatalf("Register: got error %v, want one containing %q", err, tt.error)
			}
			if len(r.All()) != 0 {
				t.Fatalf("a refused check was registered")
			}
		})
	}
	t.Run("duplicate ID", func(t *testing.T) {
		r := &Registry{}
		if err := r.Register(ok()); err != nil {
			t.Fatal(err)
		}
		err := r.Register(ok())
		if err == nil || !strings.Contains(err.Error(), "duplicate ID") {
			t.Fatalf("second Register: got %v, want a duplicate ID error", err)
		}
		if n := len(r.All()); n != 1 {
			t.Fatalf("registry holds %d checks, want 1", n)
		}
	})
}

// TestCatalog holds every built-in check to STYLE rule 4: an ID, the rule,
// its citation and its remedy, findable by ID.
func TestCatalog(t *testing.T) {
	all := Checks()
	if len(all) < 20 {
		t.Fatalf("only %d built-in checks", len(all))
	}
	ids := make([]string, len(all))
	for i, c := range all {
		ids[i] = c.ID
		if c.Title == "" || c.Remedy == "" || c.Citation == "" || c.Run == nil {
			t.Errorf("%s: incomplete check %+v", c.ID, c)
		}
		if LookupCheck(c.ID) != c {
			t.Errorf("LookupCheck(%q) does not return the check", c.ID)
		}
	}
	if !sort.StringsAreSorted(ids) {
		t.Errorf("Checks() is not sorted by ID: %v", ids)
	}
	for _, id := range []string{"name.mismatch", "name.cn-only", "date.expired", "chain.untrusted", "chain.self-signed", "eku.server-auth", "apple.validity-825", "cert.encrypted", "cert.truncated"} {
		if !slices.Contains(ids, id) {
			t.Errorf("catalog lacks %s", id)
		}
	}
	if LookupCheck("no.such-check") != nil {
		t.Error("LookupCheck found a check that does not exist")
	}
}

// checkPKI is the certificates the checks table uses, minted once.
type checkPKI struct {
	ca      *testcert.CA
	roots   *x509.CertPool
	right   [][]byte // mail.contoso.com, autodiscover.contoso.com
	cnOnly  [][]byte
	noEKU   [][]byte
	client  [][]byte // clientAuth only
	long    [][]byte // 900 days
	jan2020 [][]byte // valid 2020-01-01 .. 2020-02-01
	self    [][]byte
	weakRSA [][]byte
	sha1    [][]byte
}

func newCheckPKI(t *testing.T) *checkPKI {
	ca := testcert.NewCA(t, "Checks Test CA")
	p := &checkPKI{ca: ca, roots: x509.NewCertPool()}
	p.roots.AddCert(ca.Cert)
	names := []string{"mail.contoso.com", "autodiscover.contoso.com"}
	p.right = ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: names}).Certificate
	p.cnOnly = ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com"}).Certificate
	p.noEKU = ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: names, NoEKU: true}).Certificate
	p.client = ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: names, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}).Certificate
	nb := time.Now().Add(-time.Hour)
	p.long = ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: names, NotBefore: nb, NotAfter: nb.Add(900 * 24 * time.Hour)}).Certificate
	old := testcert.NewCAValid(t, "Checks Test CA", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(24*time.Hour))
	p.roots.AddCert(old.Cert)
	p.jan2020 = old.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: names,
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC)}).Certificate
	p.self = testcert.SelfSigned(t, testcert.Spec{CN: "exch01", DNS: []string{"exch01", "exch01.contoso.local"}}).Certificate
	p.weakRSA = rsaLeaf(t, ca, 1024, x509.SHA256WithRSA)
	p.sha1 = rsaLeaf(t, ca, 2048, x509.SHA1WithRSA)
	return p
}

// mintIntermediate issues a day-long CA certificate for key under ca, with
// the given serial number and common name, and returns it parsed and as
// DER.
func mintIntermediate(t *testing.T, ca *testcert.CA, key crypto.Signer, serial int64, cn string) (*x509.Certificate, []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return inter, der
}

// rsaLeaf mints an RSA leaf for mail.contoso.com signed by a fresh RSA
// intermediate under ca, so the signature algorithm of the leaf is sigAlg.
func rsaLeaf(t *testing.T, ca *testcert.CA, bits int, sigAlg x509.SignatureAlgorithm) [][]byte {
	t.Helper()
	ikey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	inter, ider := mintIntermediate(t, ca, ikey, 7001, "Checks RSA Intermediate")
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7002), Subject: pkix.Name{CommonName: "mail.contoso.com"}, DNSNames: []string{"mail.contoso.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: sigAlg}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, inter, &key.PublicKey, ikey)
	if err != nil {
		t.Fatalf("minting an RSA-%d leaf signed with %v: %v", bits, sigAlg, err)
	}
	return [][]byte{der, ider}
}

// TestChecks runs observations through Analyze and asserts which check IDs
// fire for which profiles, and which do not.
// padChain appends copies of extra to chain until the TLS Certificate
// message it makes is over size bytes (a server sending a CA bundle).
func padChain(chain [][]byte, extra []byte, size int) [][]byte {
	out := append([][]byte(nil), chain...)
	for certificateMsgLen(out) <= size {
		out = append(out, extra)
	}
	return out
}

func TestChecks(t *testing.T) {
	p := newCheckPKI(t)
	now := time.Now()
	tlsObs := func(sni string, chain [][]byte) *record.Observation {
		return &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: now, Client: "10.0.0.5:50000", Server: "10.0.0.9:443",
			SNI: sni, Chain: chain, Visibility: record.VisVisible, TLSVersion: "TLS 1.2"}
	}
	with := func(o *record.Observation, f func(*record.Observation)) *record.Observation { f(o); return o }

	type want map[string][]string // check ID -> profiles it fires for ("all" for observation-wide)
	tests := []struct {
		name     string
		obs      *record.Observation
		profiles []string
		roots    *x509.CertPool // nil: the test CA
		want     want
		absent   []string // IDs that must not fire for any profile
		says     string   // a finding's summary must contain this
	}{
		{name: "right name, trusted: nothing", obs: tlsObs("mail.contoso.com", p.right),
			profiles: []string{"windows", "apple", "chromium", "openssl", "go", "rfc9525"}, want: want{}},
		{name: "wrong host name", obs: tlsObs("exch01.contoso.local", p.right),
			profiles: []string{"windows", "apple", "chromium"}, want: want{"name.mismatch": {"windows", "apple", "chromium"}}},
		{name: "CN only: Windows falls back, others refuse", obs: tlsObs("mail.contoso.com", p.cnOnly),
			profiles: []string{"windows", "chromium", "apple"},
			want:     want{"name.cn-fallback": {"windows"}, "name.cn-only": {"chromium", "apple"}},
			absent:   []string{"name.mismatch"}},
		{name: "expired at the time of the request", obs: with(tlsObs("mail.contoso.com", p.jan2020), func(o *record.Observation) { o.Time = time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC) }),
			profiles: []string{"windows"}, want: want{"date.expired": {"all"}}, absent: []string{"date.not-yet-valid", "chain.untrusted"},
			says: `leaf "mail.contoso.com" expired on 2020-02-01, before the request at 2020-03-01`},
		{name: "valid at the time of the request though expired today", obs: with(tlsObs("mail.contoso.com", p.jan2020), func(o *record.Observation) { o.Time = time.Date(2020, 1, 15, 0, 0, 0, 0, time.UTC) }),
			profiles: []string{"windows"}, want: want{}},
		{name: "not yet valid at the time of the request", obs: with(tlsObs("mail.contoso.com", p.jan2020), func(o *record.Observation) { o.Time = time.Date(2019, 12, 1, 0, 0, 0, 0, time.UTC) }),
			profiles: []string{"windows"}, want: want{"date.not-yet-valid": {"all"}}, absent: []string{"date.expired"},
			says: `leaf "mail.contoso.com" is valid only from 2020-01-01`},
		{name: "self-signed leaf", obs: tlsObs("exch01.contoso.local", p.self),
			profiles: []string{"windows"}, want: want{"chain.self-signed": {"all"}}, absent: []string{"chain.untrusted", "name.mismatch"}},
		{name: "issuer not in the roots", obs: tlsObs("mail.contoso.com", p.right), roots: x509.NewCertPool(),
			profiles: []string{"windows"}, want: want{"chain.untrusted": {"all"}}, absent: []string{"chain.self-signed"}},
		{name: "no EKU: only Apple requires it", obs: tlsObs("mail.contoso.com", p.noEKU),
			profiles: []string{"windows", "apple", "chromium"}, want: want{"eku.server-auth": {"apple"}}},
		{name: "clientAuth-only EKU: every client refuses", obs: tlsObs("mail.contoso.com", p.client),
			profiles: []string{"windows", "apple"}, want: want{"eku.server-auth": {"windows", "apple"}}},
		{name: "900-day validity: Apple only", obs: tlsObs("mail.contoso.com", p.long),
			profiles: []string{"windows", "apple"}, want: want{"apple.validity-825": {"apple"}}},
		{name: "RSA 1024 key: Apple only", obs: tlsObs("mail.contoso.com", p.weakRSA),
			profiles: []string{"windows", "apple"}, want: want{"apple.weak-key": {"apple"}}},
		{name: "SHA-1 signature: Apple", obs: tlsObs("mail.contoso.com", p.sha1),
			profiles: []string{"windows", "apple"}, want: want{"apple.sha1": {"apple"}, "chain.untrusted": {"all"}}, absent: []string{"apple.weak-key"},
			says: "insecure algorithm"},
		{name: "certificate list over 100 KiB: OpenSSL-based clients refuse, Go does not, others not measured", obs: tlsObs("mail.contoso.com", padChain(p.right, p.ca.Cert.Raw, 150<<10)),
			profiles: []string{"windows", "chromium", "openssl", "curl", "python", "go", "rfc9525"},
			want:     want{"cert.list-too-long": {"windows", "chromium", "openssl", "curl", "python"}}, says: "curl refuses more than 100 KiB"},
		{name: "certificate list over 256 KiB: Go refuses too", obs: tlsObs("mail.contoso.com", padChain(p.right, p.ca.Cert.Raw, 300<<10)),
			profiles: []string{"go", "rfc9525"}, want: want{"cert.list-too-long": {"go"}}, says: "refuses more than 256 KiB"},
		{name: "no SNI", obs: with(tlsObs("", p.right), func(o *record.Observation) { o.NoSNI = true; o.Connect = "mail.contoso.com:443" }),
			profiles: []string{"windows"}, want: want{"tls.no-sni": {"all"}}, absent: []string{"name.mismatch"}},
		{name: "TLS 1.3 without key log", obs: with(tlsObs("mail.contoso.com", nil), func(o *record.Observation) { o.Visibility = record.VisEncrypted; o.TLSVersion = "TLS 1.3" }),
			profiles: []string{"windows"}, want: want{"cert.encrypted": {"all"}}},
		{name: "snaplen cut the certificate", obs: with(tlsObs("mail.contoso.com", nil), func(o *record.Observation) { o.Visibility = record.VisTruncated; o.Snaplen = 96 }),
			profiles: []string{"windows"}, want: want{"cert.truncated": {"all"}},
			says: "certificate not captured: packets cut at 96 bytes; capture with a larger snap length"},
		{name: "handshake not captured", obs: with(tlsObs("", nil), func(o *record.Observation) { o.Visibility = record.VisMissing }),
			profiles: []string{"windows"}, want: want{"cert.not-captured": {"all"}}},
		{name: "resumed session", obs: with(tlsObs("mail.contoso.com", nil), func(o *record.Observation) { o.Visibility = record.VisResumed; o.ResumedFrom = "3" }),
			profiles: []string{"windows"}, want: want{"cert.resumed": {"all"}}},
		{name: "chain probed by a side connection", obs: with(tlsObs("mail.contoso.com", p.right), func(o *record.Observation) { o.Visibility = record.VisProbed }),
			profiles: []string{"windows"}, want: want{"cert.probed": {"all"}}},
		{name: "connection failed", obs: with(tlsObs("mail.contoso.com", nil), func(o *record.Observation) {
			o.Visibility = record.VisFailed
			o.Error = "dial tcp 10.0.0.9:443: connection refused"
		}),
			profiles: []string{"windows"}, want: want{"conn.failed": {"all"}}},
		{name: "client alert is not a failed connection", obs: with(tlsObs("exch01.contoso.local", p.right), func(o *record.Observation) {
			o.Error = "remote error: tls: bad certificate"
			o.ClientAlert = "bad certificate"
		}),
			profiles: []string{"windows"}, want: want{"conn.client-alert": {"all"}, "name.mismatch": {"windows"}}, absent: []string{"conn.failed"}},
		{name: "TLS 1.3 client alert the capture cannot decrypt", obs: with(tlsObs("mail.contoso.com", nil), func(o *record.Observation) {
			o.Visibility, o.TLSVersion, o.ClientAlert = record.VisEncrypted, "TLS 1.3", record.AlertEncrypted
		}),
			profiles: []string{"windows"}, want: want{"conn.client-alert": {"all"}, "cert.encrypted": {"all"}}, absent: []string{"conn.failed"},
			says: "an alert instead of its Finished"},
		{name: "TLS 1.3 alert right after the handshake", obs: with(tlsObs("mail.contoso.com", nil), func(o *record.Observation) {
			o.Visibility, o.TLSVersion, o.ClientAlert = record.VisEncrypted, "TLS 1.3", record.AlertEncryptedAfter
		}),
			profiles: []string{"windows"}, want: want{"conn.client-alert": {"all"}, "cert.encrypted": {"all"}},
			says: "then at once sent an encrypted alert and no request"},
		{name: "garbage certificate", obs: tlsObs("mail.contoso.com", [][]byte{[]byte("not a certificate")}),
			profiles: []string{"windows"}, want: want{"cert.unparseable": {"all"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			profiles, err := match.SelectProfiles(tt.profiles)
			if err != nil {
				t.Fatal(err)
			}
			roots := tt.roots
			if roots == nil {
				roots = p.roots
			}
			r := Analyze([]*record.Observation{tt.obs}, Options{Profiles: profiles, Roots: roots})
			if len(r.Items) != 1 {
				t.Fatalf("%d items, want 1", len(r.Items))
			}
			got := map[string][]string{}
			for _, f := range r.Items[0].Findings {
				if LookupCheck(f.ID) == nil {
					t.Errorf("finding %s is not in the catalog", f.ID)
				}
				if f.Summary == "" || f.Remedy == "" {
					t.Errorf("finding %s lacks a summary or remedy: %+v", f.ID, f)
				}
				got[f.ID] = append(got[f.ID], f.Profile)
			}
			for id, ps := range tt.want {
				sort.Strings(ps)
				g := got[id]
				sort.Strings(g)
				if !slices.Equal(g, ps) {
					t.Errorf("%s fired for %v, want %v (all findings: %v)", id, g, ps, got)
				}
			}
			for _, id := range tt.absent {
				if _, ok := got[id]; ok {
					t.Errorf("%s fired, want it absent (all findings: %v)", id, got)
				}
			}
			if tt.says != "" {
				found := false
				for _, f := range r.Items[0].Findings {
					found = found || strings.Contains(f.Summary, tt.says)
				}
				if !found {
					t.Errorf("no finding says %q: %+v", tt.says, r.Items[0].Findings)
				}
			}
			// Every error finding must be one the test expects: no
			// false positives.
			for _, f := range r.Items[0].Findings {
				if f.Severity == SeverityError {
					if _, ok := tt.want[f.ID]; !ok {
						t.Errorf("unexpected error finding %s for %s: %s", f.ID, f.Profile, f.Summary)
					}
				}
			}
		})
	}
}

// TestWhatIf judges recorded requests against a proposed certificate.
func TestWhatIf(t *testing.T) {
	p := newCheckPKI(t)
	obs := []*record.Observation{
		{Kind: record.KindTLS, Time: time.Now(), SNI: "exch01.contoso.local", Chain: p.right, Visibility: record.VisVisible},
		{Kind: record.KindTLS, Time: time.Now(), SNI: "mail.contoso.com", Chain: p.right, Visibility: record.VisVisible},
	}
	profiles, _ := match.SelectProfiles([]string{"windows"})
	before := Analyze(obs, Options{Profiles: profiles, Roots: p.roots})
	if !before.Warns() || !before.Items[0].Warns("windows") || before.Items[1].Warns("windows") {
		t.Fatalf("recorded chains: want only the exch01 request to warn")
	}

	proposed := p.ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: []string{"mail.contoso.com", "exch01.contoso.local"}})
	after := Analyze(obs, Options{Profiles: profiles, Roots: p.roots, WhatIf: []*x509.Certificate{proposed.Leaf}})
	if after.Warns() {
		t.Errorf("proposed certificate covering both names still warns: %+v", after.Items[0].Findings)
	}
	if len(after.WhatIf) != 1 || !after.Items[0].WhatIf {
		t.Errorf("report does not say it is a what-if")
	}

	partial := p.ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: []string{"mail.contoso.com"}})
	still := Analyze(obs, Options{Profiles: profiles, Roots: p.roots, WhatIf: []*x509.Certificate{partial.Leaf}})
	if !still.Items[0].Warns("windows") {
		t.Errorf("a proposed certificate without exch01.contoso.local must still warn for it")
	}
}
