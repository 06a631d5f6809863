package analysis

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// TestMalformedFinding judges a connection to each malformed certificate:
// cert.malformed is an error for the profiles whose clients refuse it, a
// note for those that accept it and a warning (not judged) for the ones
// never tested; a certificate nothing can read is not judged.
func TestMalformedFinding(t *testing.T) {
	ca := testcert.NewCA(t, "certsleuth malformed finding CA")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	want := map[string]map[string]Severity{ // kind -> profile -> cert.malformed severity ("" none)
		testcert.MalformedNone: {"windows": "", "chromium": "", "openssl": "", "go": ""},
		testcert.MalformedNegativeSerial: {"windows": SeverityWarning, "apple": SeverityWarning, "chromium": SeverityInfo,
			"openssl": SeverityInfo, "curl": SeverityInfo, "python": SeverityInfo, "go": SeverityError, "rfc9525": SeverityInfo},
		testcert.MalformedNonASCIISAN:   {"windows": SeverityWarning, "chromium": SeverityError, "openssl": SeverityInfo, "go": SeverityError, "rfc9525": SeverityError},
		testcert.MalformedDuplicateExt:  {"windows": SeverityWarning, "chromium": SeverityError, "openssl": SeverityError, "curl": SeverityError, "go": SeverityError},
		testcert.MalformedPrintable:     {"chromium": SeverityError, "python": SeverityInfo, "go": SeverityError},
		testcert.MalformedFlippedOID:    {"windows": SeverityWarning, "openssl": SeverityError, "go": SeverityError},
		testcert.MalformedFlippedLength: {"windows": "", "go": ""},
	}
	for kind, per := range want {
		t.Run(kind, func(t *testing.T) {
			cert := ca.Malformed(t, kind)
			o := &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: time.Now(), SNI: testcert.MalformedName,
				TLSVersion: "TLS 1.3", Visibility: record.VisVisible, Chain: cert.Certificate}
			for prof, sev := range per {
				p, err := match.LookupProfile(prof)
				if err != nil {
					t.Fatal(err)
				}
				rep := Analyze([]*record.Observation{o}, Options{Profiles: []*match.Profile{p}, Roots: roots})
				it := rep.Items[0]
				var got Severity
				for _, f := range it.Findings {
					if f.ID == "cert.malformed" {
						got = f.Severity
						if !strings.Contains(f.Citation, "observed on 127.0.0.1") {
							t.Errorf("%s: citation %q does not cite the observation", prof, f.Citation)
						}
					}
				}
				if got != sev {
					t.Errorf("%s: cert.malformed severity %q, want %q (%v)", prof, got, sev, findingIDs(it))
				}
				wantNJ := ""
				switch {
				case kind == testcert.MalformedFlippedLength:
					wantNJ = NotJudgedUnreadable
				case sev == SeverityWarning && !it.Warns(""):
					wantNJ = NotJudgedUnknown
				}
				if nj := it.NotJudged(); nj != wantNJ {
					t.Errorf("%s: NotJudged %q, want %q", prof, nj, wantNJ)
				}
				if (wantNJ != "") != rep.Incomplete() {
					t.Errorf("%s: Incomplete %v with NotJudged %q", prof, rep.Incomplete(), wantNJ)
				}
			}
		})
	}
}

func findingIDs(it *Item) []string {
	var out []string
	for _, f := range it.Findings {
		out = append(out, f.ID+"/"+string(f.Severity))
	}
	return out
}
