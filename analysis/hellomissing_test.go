package analysis

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// TestHelloMissing: a captured connection whose client hello is not in the
// capture (only the server's half) has no known name. With a trusted,
// valid certificate it is not judged (the report is incomplete), and
// name.unknown does not claim the client sent no SNI. A client that did
// send no SNI, a DNS answer naming the server, or a certificate every
// client refuses anyway, keep the connection judged.
func TestHelloMissing(t *testing.T) {
	ca := testcert.NewCA(t, "certsleuth hello-missing CA")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	good := ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})
	self := testcert.SelfSigned(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})
	at := time.Now()
	conn := func(chain [][]byte, noSNI bool) *record.Observation {
		return &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: at, Client: "192.0.2.10:50000", Server: "192.0.2.25:443",
			NoSNI: noSNI, TLSVersion: "TLS 1.2", Visibility: record.VisVisible, Chain: chain}
	}
	named := conn(good.Certificate, false)
	named.DNSName = "mail.contoso.test" // the capture's DNS answer for the server's address
	for _, c := range []struct {
		name    string
		obs     []*record.Observation
		wantNJ  string
		summary string // in name.unknown's summary ("" no finding)
	}{
		{"server half only", []*record.Observation{conn(good.Certificate, false)}, NotJudgedUnknown, "the client's hello is not in the capture"},
		{"no SNI sent", []*record.Observation{conn(good.Certificate, true)}, "", "the client sent no SNI"},
		{"named by DNS", []*record.Observation{named}, "", ""},
		{"self-signed", []*record.Observation{conn(self.Certificate, false)}, "", "the client's hello is not in the capture"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := Analyze(c.obs, Options{Roots: roots})
			it := rep.Items[len(rep.Items)-1]
			if nj := it.NotJudged(); nj != c.wantNJ {
				t.Errorf("NotJudged %q, want %q (%v)", nj, c.wantNJ, findingIDs(it))
			}
			if (c.wantNJ != "") != rep.Incomplete() {
				t.Errorf("Incomplete %v with NotJudged %q", rep.Incomplete(), c.wantNJ)
			}
			var got string
			for _, f := range it.Findings {
				if f.ID == "name.unknown" {
					got = f.Summary
				}
			}
			if c.summary == "" && got != "" || !strings.HasPrefix(got, c.summary) {
				t.Errorf("name.unknown %q, want it to begin %q", got, c.summary)
			}
		})
	}
}
