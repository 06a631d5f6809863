package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"
)

// e2eCase is one server certificate and the name every client asks for.
type e2eCase struct {
	ID    string // short, unique; also the case's label in the output
	Host  string // the name asked for: DNS name (U-labels allowed, trailing dot allowed) or IP address
	Leaf  leafSpec
	Chain chainKind
	TLS12 bool // the server offers TLS 1.2 at most (ECDHE suites only)
	// OpenSSLServer serves the case with openssl s_server instead of Go:
	// crypto/tls refuses a ClientHello whose SNI ends in a dot (RFC 6066
	// §3), which would make every client fail for the wrong reason.
	OpenSSLServer bool
	// Mint, when set, makes the chain instead of Leaf and Chain: another
	// generator (openssl x509 -req, say) for sets kept apart from this one.
	Mint func(t testing.TB, p *pki) tls.Certificate
	// Sanity, when set, is the verdict every client must give: a harness
	// check (a case every client accepts proves the trust setup works).
	Sanity string
}

const day = 24 * time.Hour

// cases is the committed set: names, wildcards, the CN, IP addresses,
// trailing dots, IDNA, chains, EKU, key usage, key sizes and dates.
func cases() []e2eCase {
	dns := func(n ...string) leafSpec { return leafSpec{DNS: n} }
	return []e2eCase{
		{ID: "exact", Host: "mail.contoso.test", Leaf: dns("mail.contoso.test"), Sanity: "ok"},
		{ID: "mismatch", Host: "exch01.contoso.test", Leaf: dns("mail.contoso.test", "autodiscover.contoso.test"), Sanity: "refused"},
		{ID: "second-san", Host: "autodiscover.contoso.test", Leaf: dns("mail.contoso.test", "autodiscover.contoso.test")},
		{ID: "case-insensitive", Host: "mail.contoso.test", Leaf: dns("MAIL.Contoso.TEST")},
		{ID: "single-label", Host: "exch01", Leaf: dns("exch01", "mail.contoso.test")},
		{ID: "wildcard", Host: "www.contoso.test", Leaf: dns("*.contoso.test")},
		{ID: "wildcard-too-deep", Host: "a.b.contoso.test", Leaf: dns("*.contoso.test")},
		{ID: "wildcard-bare", Host: "contoso.test", Leaf: dns("*.contoso.test")},
		{ID: "partial-prefix", Host: "exch01.contoso.test", Leaf: dns("ex*.contoso.test")},
		{ID: "partial-suffix", Host: "exch01.contoso.test", Leaf: dns("*01.contoso.test")},
		{ID: "partial-zero", Host: "w.contoso.test", Leaf: dns("w*.contoso.test")},
		{ID: "partial-infix", Host: "www.contoso.test", Leaf: dns("w*w.contoso.test")},
		{ID: "wildcard-tld", Host: "contoso.test", Leaf: dns("*.test")},
		{ID: "wildcard-icann-suffix", Host: "contoso.co.uk", Leaf: dns("*.co.uk")},
		{ID: "wildcard-not-leftmost", Host: "www.contoso.test", Leaf: dns("www.*.test")},
		{ID: "cn-only", Host: "mail.contoso.test", Leaf: leafSpec{CN: "mail.contoso.test"}},
		{ID: "cn-wildcard-only", Host: "mail.contoso.test", Leaf: leafSpec{CN: "*.contoso.test"}},
		{ID: "cn-with-other-dns-san", Host: "mail.contoso.test", Leaf: leafSpec{CN: "mail.contoso.test", DNS: []string{"autodiscover.contoso.test"}}},
		{ID: "cn-with-ip-san", Host: "mail.contoso.test", Leaf: leafSpec{CN: "mail.contoso.test", IPs: []string{"127.0.0.1"}}},
		{ID: "ip-san", Host: "127.0.0.1", Leaf: leafSpec{IPs: []string{"127.0.0.1"}}},
		{ID: "ip-in-dns-san", Host: "127.0.0.1", Leaf: dns("127.0.0.1")},
		{ID: "ip-in-cn", Host: "127.0.0.1", Leaf: leafSpec{CN: "127.0.0.1"}},
		{ID: "ip-in-cn-other-ip-san", Host: "127.0.0.1", Leaf: leafSpec{CN: "127.0.0.1", IPs: []string{"127.0.0.2"}}},
		{ID: "trailing-dot-host", Host: "mail.contoso.test.", Leaf: dns("mail.contoso.test"), OpenSSLServer: true},
		{ID: "trailing-dot-san", Host: "mail.contoso.test", Leaf: dns("mail.contoso.test.")},
		{ID: "idn-exact", Host: "bücher.contoso.test", Leaf: dns("xn--bcher-kva.contoso.test")},
		{ID: "idn-under-wildcard", Host: "bücher.contoso.test", Leaf: dns("*.contoso.test")},
		{ID: "idn-partial-wildcard", Host: "bücher.contoso.test", Leaf: dns("xn--*.contoso.test")},
		{ID: "chain-with-intermediate", Host: "mail.contoso.test", Leaf: dns("mail.contoso.test"), Chain: byInter, Sanity: "ok"},
		{ID: "intermediate-missing", Host: "mail.contoso.test", Leaf: dns("mail.contoso.test"), Chain: interMissing, Sanity: "refused"},
		{ID: "intermediate-aia", Host: "mail.contoso.test", Leaf: dns("mail.contoso.test"), Chain: interAIA},
		{ID: "intermediate-dead-aia", Host: "mail.contoso.test", Leaf: dns("mail.contoso.test"), Chain: interDeadAIA},
		{ID: "intermediate-clientauth", Host: "mail.contoso.test", Leaf: dns("mail.contoso.test"), Chain: interClientAuth},
		{ID: "intermediate-any-eku", Host: "mail.contoso.test", Leaf: dns("mail.contoso.test"), Chain: interAnyEKU},
		{ID: "leaf-any-eku", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}},
		{ID: "leaf-clientauth-eku", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}},
		{ID: "leaf-no-eku", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, NoEKU: true}},
		{ID: "leaf-server-client-eku", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}},
		{ID: "ku-keyencipherment-ecdhe", Host: "mail.contoso.test", TLS12: true,
			Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, Key: "rsa2048", KUSet: true, KU: x509.KeyUsageKeyEncipherment}},
		{ID: "ku-keycertsign", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, KUSet: true, KU: x509.KeyUsageCertSign}},
		{ID: "ku-keyagreement-ec", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, KUSet: true, KU: x509.KeyUsageKeyAgreement}},
		{ID: "ku-absent", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, KUSet: true}},
		{ID: "rsa-1024", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, Key: "rsa1024"}},
		{ID: "rsa-2048", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, Key: "rsa2048"}},
		{ID: "expired", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, Start: -40 * day, Days: 30}},
		{ID: "not-yet-valid", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, Start: 2 * day}},
		{ID: "sha1", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, SHA1: true}},
		{ID: "self-signed", Host: "mail.contoso.test", Leaf: dns("mail.contoso.test"), Chain: selfSigned},
		{ID: "long-validity-no-eku", Host: "mail.contoso.test", Leaf: leafSpec{DNS: []string{"mail.contoso.test"}, NoEKU: true, Days: 900}},
	}
}
