package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/record"
)

// TestHeadlineNotJudged: the first line counts the connections whose
// certificate was not seen, and among them those the client ended with
// an alert (it refused what it was shown), and says where they are
// listed: with --all below, else --all lists them.
func TestHeadlineNotJudged(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	enc := func(sni, alert string) *record.Observation {
		return &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: at, Client: "192.0.2.10:50001", Server: "192.0.2.25:443",
			SNI: sni, TLSVersion: "TLS 1.3", Visibility: record.VisEncrypted, ClientAlert: alert}
	}
	for _, c := range []struct {
		name string
		obs  []*record.Observation
		want string
	}{
		{"none refused", []*record.Observation{enc("a.contoso.com", ""), enc("b.contoso.com", "")},
			"2 connections could not be judged: the certificate was not seen (--all lists them)\n"},
		{"one of two refused", []*record.Observation{enc("a.contoso.com", record.AlertEncrypted), enc("b.contoso.com", "")},
			"2 connections could not be judged: the certificate was not seen (--all lists them), but on 1 of them the client sent an alert: it most likely refused the certificate\n"},
		{"the only one refused", []*record.Observation{enc("a.contoso.com", record.AlertEncryptedAfter)},
			"1 connection could not be judged: the certificate was not seen (--all lists them), but the client ended it with an alert: it most likely refused the certificate\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Render(&out, analysis.Analyze(c.obs, analysis.Options{Now: at}), "text", RenderOptions{Title: "t.pcap", Width: 1000}); err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(out.String(), "\n")
			if !strings.HasSuffix(first+"\n", c.want) {
				t.Errorf("headline %q\nwant it to end %q", first, c.want)
			}
			out.Reset()
			if err := Render(&out, analysis.Analyze(c.obs, analysis.Options{Now: at}), "text", RenderOptions{Title: "t.pcap", Width: 1000, All: true}); err != nil {
				t.Fatal(err)
			}
			first, _, _ = strings.Cut(out.String(), "\n")
			if want := strings.Replace(c.want, "(--all lists them)", "(see below)", 1); !strings.HasSuffix(first+"\n", want) {
				t.Errorf("with All, headline %q\nwant it to end %q", first, want)
			}
		})
	}
}

// TestHeadlineUndecodedTLS: frames the capture reader could not decode
// that hold a TLS handshake are counted in the first line, beside what
// was judged, in every format that has a headline.
func TestHeadlineUndecodedTLS(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for _, n := range []int64{1, 3} {
		rep := analysis.Analyze(nil, analysis.Options{Now: at})
		rep.UndecodedTLS = n
		want := analysis.Plural(int(n), "frame") + " holding a TLS handshake could not be decoded (see below)"
		for _, format := range []string{"text", "markdown", "html"} {
			var out bytes.Buffer
			if err := Render(&out, rep, format, RenderOptions{Title: "t.pcap", Width: 1000}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s, %d frames: %q not in\n%s", format, n, want, out.String())
			}
		}
	}
}
