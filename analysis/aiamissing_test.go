package analysis

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// TestIntermediateMissingMemo judges, with one judger, leaves whose
// servers leave out their intermediate: two of one issuer and AIA URL
// (the second gets the findings kept for the first), one of another
// issuer, one of another URL. Each item's findings are those a judger of
// its own gives it.
func TestIntermediateMissingMemo(t *testing.T) {
	ca := testcert.NewCA(t, "Memo Test CA")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	var obs []*record.Observation
	for i, l := range []struct{ inter, url string }{
		{"Memo Intermediate A", "http://127.0.0.1:9/a.cer"},
		{"Memo Intermediate A", "http://127.0.0.1:9/a.cer"},
		{"Memo Intermediate B", "http://127.0.0.1:9/a.cer"},
		{"Memo Intermediate A", "http://127.0.0.1:9/other.cer"},
	} {
		obs = append(obs, &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: time.Now(), Client: "10.0.0.5:50000",
			Server: "10.0.0.9:443", SNI: "mail.contoso.com", Chain: [][]byte{leafUnder(t, ca, l.inter, l.url, int64(8000+i))}, Visibility: record.VisVisible, TLSVersion: "TLS 1.2"})
	}
	opts := Options{Roots: roots}.withDefaults()
	shared := newJudger(opts)
	found := 0
	for i, o := range obs {
		got := shared.item(i+1, o)
		want := newJudger(opts).item(i+1, o)
		if len(got.Findings) != len(want.Findings) {
			t.Fatalf("observation %d: %d findings, alone %d", i+1, len(got.Findings), len(want.Findings))
		}
		for k := range got.Findings {
			if !got.Findings[k].Equal(&want.Findings[k]) {
				t.Errorf("observation %d, finding %d: %+v, alone %+v", i+1, k, got.Findings[k], want.Findings[k])
			}
			if got.Findings[k].ID == "chain.intermediate-missing" {
				found++
			}
		}
	}
	if found < 4*len(opts.Profiles) {
		t.Fatalf("%d chain.intermediate-missing findings, want one per profile of each observation", found)
	}
}

// leafUnder issues a leaf for mail.contoso.com under an intermediate
// named inter (made under ca and not sent), naming url as its caIssuers.
func leafUnder(t *testing.T, ca *testcert.CA, inter, url string, serial int64) []byte {
	t.Helper()
	ikey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ic, _ := mintIntermediate(t, ca, ikey, serial+100, inter)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "mail.contoso.com"}, DNSNames: []string{"mail.contoso.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature, IssuingCertificateURL: []string{url}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ic, &key.PublicKey, ikey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
