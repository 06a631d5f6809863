package analysis

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// ruleCert describes a certificate for TestProfileRules.
type ruleCert struct {
	cn     string
	dns    []string
	ips    []string
	rsa    int // RSA key bits; 0 is ECDSA P-256
	ku     x509.KeyUsage
	eku    []x509.ExtKeyUsage // nil: serverAuth
	interE []x509.ExtKeyUsage // set: issued by an intermediate with this EKU, sent in the chain
	// aia: issued by an intermediate the server does not send, named by the
	// leaf's caIssuers URL; "answered", "dead" or "unfetched" says what the
	// observation records of fetching it.
	aia string
}

// TestProfileRules checks every rule of every profile row against a
// certificate made for it: which profiles would warn. Each row names the
// rule (see RuleNames) and cites the clients' sources that decide it;
// the e2e test in internal/e2e checks the same against the real clients.
func TestProfileRules(t *testing.T) {
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rootT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rules root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootT, rootT, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	serial := int64(10)
	const aiaURL = "http://127.0.0.1:9/issuing-ca.cer"
	mint := func(rc ruleCert) ([][]byte, []record.AIAFetch) {
		t.Helper()
		var key crypto.Signer
		if rc.rsa > 0 {
			key, err = rsa.GenerateKey(rand.Reader, rc.rsa)
		} else {
			key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		}
		if err != nil {
			t.Fatal(err)
		}
		parent, signer, chain := root, crypto.Signer(rootKey), [][]byte{}
		if rc.aia != "" && rc.interE == nil {
			rc.interE = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		if rc.interE != nil {
			serial++
			ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			it := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "rules intermediate"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
				IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, ExtKeyUsage: rc.interE}
			ider, err := x509.CreateCertificate(rand.Reader, it, root, &ik.PublicKey, rootKey)
			if err != nil {
				t.Fatal(err)
			}
			parent, _ = x509.ParseCertificate(ider)
			signer, chain = ik, [][]byte{ider}
		}
		serial++
		lt := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: rc.cn}, DNSNames: rc.dns,
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: rc.ku, ExtKeyUsage: rc.eku}
		if lt.KeyUsage == 0 {
			lt.KeyUsage = x509.KeyUsageDigitalSignature
		}
		if lt.ExtKeyUsage == nil {
			lt.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		for _, ip := range rc.ips {
			lt.IPAddresses = append(lt.IPAddresses, net.ParseIP(ip))
		}
		var fetch []record.AIAFetch
		switch rc.aia {
		case "answered":
			fetch = []record.AIAFetch{{URL: aiaURL, Certs: chain}}
		case "dead":
			fetch = []record.AIAFetch{{URL: aiaURL, Error: "no answer: connect: connection refused"}}
		}
		if rc.aia != "" {
			lt.IssuingCertificateURL = []string{aiaURL}
			chain = nil // the server leaves the intermediate out
		}
		der, err := x509.CreateCertificate(rand.Reader, lt, parent, key.Public(), signer)
		if err != nil {
			t.Fatal(err)
		}
		return append([][]byte{der}, chain...), fetch
	}

	tests := []struct {
		rule  string
		name  string
		cert  ruleCert
		host  string
		warns []string // the profiles that warn; every other profile accepts
		cite  string
	}{
		{"cn", "CN only, no SAN", ruleCert{cn: "mail.contoso.test"}, "mail.contoso.test",
			[]string{"apple", "chromium", "go", "rfc9525"},
			"RFC 2818 §3.1; OpenSSL v3_utl.c do_x509_check; curl openssl.c verifyhost; chromestatus 4981025180483584; Go verify.go"},
		{"cn", "CN with an iPAddress SAN only", ruleCert{cn: "mail.contoso.test", ips: []string{"10.0.0.5"}}, "mail.contoso.test",
			[]string{"apple", "chromium", "curl", "go", "rfc9525"},
			"curl lib/vtls/openssl.c verifyhost (any SAN disables the CN); OpenSSL X509_check_host (only a dNSName SAN does)"},
		{"wildcard", "partial wildcard prefix", ruleCert{dns: []string{"ex*.contoso.test"}}, "exch01.contoso.test",
			[]string{"apple", "chromium", "curl", "python", "go", "rfc9525"},
			"KB 258858; OpenSSL v3_utl.c wildcard_match; curl hostcheck.c hostmatch; CPython _ssl.c NO_PARTIAL_WILDCARDS"},
		{"wildcard", "partial wildcard suffix", ruleCert{dns: []string{"*01.contoso.test"}}, "exch01.contoso.test",
			[]string{"windows", "apple", "chromium", "curl", "python", "go", "rfc9525"},
			"OpenSSL v3_utl.c valid_star (suffix form); KB 258858 (prefix form only)"},
		{"suffix", "wildcard over a TLD", ruleCert{dns: []string{"*.test"}}, "contoso.test",
			[]string{"windows", "apple", "chromium", "openssl", "curl", "python", "rfc9525"},
			"OpenSSL v3_utl.c valid_star; curl hostcheck.c (two dots); chromium x509_certificate.cc; Go matchHostnames (none)"},
		{"suffix", "wildcard over an ICANN suffix", ruleCert{dns: []string{"*.co.uk"}}, "contoso.co.uk",
			[]string{"apple", "chromium"},
			"chromium x509_certificate.cc VerifyHostname (registry-controlled domains)"},
		{"dot", "trailing dot on the host", ruleCert{dns: []string{"mail.contoso.test"}}, "mail.contoso.test.",
			[]string{"openssl", "python"},
			"OpenSSL v3_utl.c equal_nocase (literal); curl hostcheck.c (stripped); chromium, Go VerifyHostname (stripped)"},
		{"dot", "trailing dot on the SAN", ruleCert{dns: []string{"mail.contoso.test."}}, "mail.contoso.test",
			[]string{"openssl", "python", "go", "rfc9525"},
			"Go verify.go VerifyHostname (the SAN's dot is kept); curl hostcheck.c (stripped)"},
		{"idn", "U-label host, A-label SAN", ruleCert{dns: []string{"xn--bcher-kva.contoso.test"}}, "bücher.contoso.test",
			[]string{"go"},
			"Go verify.go (no IDNA); curl lib/idn.c; CPython Lib/ssl.py idna codec; chromium URL canonicalisation"},
		{"ip", "IP address only in the CN", ruleCert{cn: "10.0.0.5"}, "10.0.0.5",
			[]string{"windows", "apple", "chromium", "openssl", "python", "go", "rfc9525"},
			"curl lib/vtls/openssl.c verifyhost (CN compared as a string); OpenSSL X509_check_ip (iPAddress only)"},
		{"ip", "IP address in an iPAddress SAN", ruleCert{ips: []string{"10.0.0.5"}}, "10.0.0.5",
			nil, "RFC 9525 §6.2; every client"},
		{"eku", "leaf anyExtendedKeyUsage alone", ruleCert{dns: []string{"mail.contoso.test"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, "mail.contoso.test",
			[]string{"apple", "openssl", "curl", "python"},
			"OpenSSL v3_purp.c check_purpose_ssl_server xku_reject; support.apple.com/103769; Go checkChainForKeyUsage; BoringSSL VerifyExtendedKeyUsage"},
		{"eku", "leaf clientAuth only", ruleCert{dns: []string{"mail.contoso.test"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, "mail.contoso.test",
			[]string{"windows", "apple", "chromium", "openssl", "curl", "python", "go", "rfc9525"},
			"RFC 5280 §4.2.1.12; every client"},
		{"eku", "intermediate clientAuth only", ruleCert{dns: []string{"mail.contoso.test"}, interE: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, "mail.contoso.test",
			[]string{"windows", "apple", "chromium", "openssl", "curl", "python", "go", "rfc9525"},
			"Go verify.go checkChainForKeyUsage; OpenSSL v3_purp.c check_purpose_ssl_server (each untrusted CA)"},
		{"eku", "intermediate anyExtendedKeyUsage alone", ruleCert{dns: []string{"mail.contoso.test"}, interE: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, "mail.contoso.test",
			[]string{"openssl", "curl", "python"},
			"OpenSSL v3_purp.c check_purpose_ssl_server xku_reject before check_ssl_ca"},
		{"ku", "keyEncipherment only (RSA)", ruleCert{dns: []string{"mail.contoso.test"}, rsa: 2048, ku: x509.KeyUsageKeyEncipherment}, "mail.contoso.test",
			[]string{"chromium", "rfc9525"},
			"BoringSSL ssl_cert.cc ssl_cert_check_key_usage; RFC 8446 §4.4.2.2; OpenSSL v3_purp.c ku_reject"},
		{"ku", "keyCertSign only", ruleCert{dns: []string{"mail.contoso.test"}, ku: x509.KeyUsageCertSign}, "mail.contoso.test",
			[]string{"chromium", "openssl", "curl", "python", "rfc9525"},
			"OpenSSL v3_purp.c check_purpose_ssl_server ku_reject; Go ignores keyUsage"},
		{"aia", "intermediate missing, the AIA URL answered", ruleCert{dns: []string{"mail.contoso.test"}, aia: "answered"}, "mail.contoso.test",
			[]string{"openssl", "curl", "python", "go", "rfc9525"},
			"chromium cert_issuer_source_aia.cc; CryptoAPI AIA retrieval; OpenSSL x509_vfy.c build_chain and Go verify.go (no fetching)"},
		{"aia", "intermediate missing, the AIA URL is dead", ruleCert{dns: []string{"mail.contoso.test"}, aia: "dead"}, "mail.contoso.test",
			[]string{"windows", "apple", "chromium", "openssl", "curl", "python", "go", "rfc9525"},
			"every client: nothing gives the issuer"},
		{"aia", "intermediate missing, nobody fetched the AIA URL", ruleCert{dns: []string{"mail.contoso.test"}, aia: "unfetched"}, "mail.contoso.test",
			[]string{"openssl", "curl", "python", "go", "rfc9525"},
			"the fetching clients get a warning-level finding (not known), not an error"},
		{"rsa", "RSA 1024 leaf", ruleCert{dns: []string{"mail.contoso.test"}, rsa: 1024}, "mail.contoso.test",
			[]string{"apple", "openssl", "curl", "python"},
			"OpenSSL x509_vfy.c check_key_level (SECLEVEL=2); support.apple.com/103769; KB 2661254; Go crypto/rsa; chromium cert_verify_proc.cc"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.rule] = true
		t.Run(tt.rule+"/"+tt.name, func(t *testing.T) {
			chain, fetch := mint(tt.cert)
			o := &record.Observation{Kind: record.KindTLS, Source: record.SourceProbe, Time: now, Server: "127.0.0.1:443",
				SNI: tt.host, Chain: chain, AIA: fetch, Visibility: record.VisVisible, TLSVersion: "TLS 1.3"}
			if net.ParseIP(tt.host) != nil {
				o.SNI, o.NoSNI, o.URL = "", true, "https://"+tt.host+"/"
			}
			rep := Analyze([]*record.Observation{o}, Options{Roots: roots, Now: now})
			got := rep.Items[0].WarningProfiles(match.Profiles())
			want := append([]string(nil), tt.warns...)
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				var why []string
				for _, f := range rep.Items[0].Findings {
					if f.Severity == SeverityError {
						why = append(why, f.Profile+" "+f.ID)
					}
				}
				t.Errorf("%s (%s): warn %v, want %v\nfindings: %s\nrules of this kind: %s", tt.name, tt.cite, got, want, strings.Join(why, "; "), ruleCites(tt.rule))
			}
		})
	}
	for _, r := range match.RuleNames() {
		if !covered[r] {
			t.Errorf("no row checks the %q rule", r)
		}
	}
}

func ruleCites(rule string) string {
	var out []string
	for _, p := range match.Profiles() {
		out = append(out, p.Name+": "+p.Cite(rule))
	}
	return strings.Join(out, "\n  ")
}
