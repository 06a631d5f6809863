package analysis

import (
	"reflect"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

func TestCertPlan(t *testing.T) {
	p := scenarioCerts(t)
	exch := p.leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com")
	web := p.leaf("www.contoso.com", "www.contoso.com")
	obs := []*record.Observation{
		httpsObs(0, "POST", "https://exch01.contoso.local/autodiscover/autodiscover.xml", 200, exch, exchAddr),
		httpsObs(1, "POST", "https://exch01.contoso.local/EWS/Exchange.asmx", 200, exch, exchAddr),
		httpsObs(2, "POST", "https://legacy.contoso.com/EWS/Exchange.asmx", 200, exch, exchAddr),
		httpsObs(3, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200, exch, exchAddr),
		httpsObs(4, "POST", "https://contoso.com/autodiscover/autodiscover.xml", 404, web, "203.0.113.80:443"),
		{Kind: record.KindDNS, DNS: &record.DNS{Query: "contoso.com", Type: "A"}},
	}
	r := Analyze(obs, Options{Roots: p.roots, Now: scenarioDay})
	plans := r.CertPlan()
	if len(plans) != 2 {
		t.Fatalf("%d plans, want 2 (one per certificate): %+v", len(plans), plans)
	}
	ex := plans[0]
	if ex.Server != "10.0.0.5" || ex.Leaf == nil || ex.Leaf.SubjectCN != "mail.contoso.com" {
		t.Errorf("first plan is for %q / %+v", ex.Server, ex.Leaf)
	}
	wantNames := []PlannedName{
		{Name: "exch01.contoso.local", Requests: 2, Covered: false, Public: false, Why: "exch01.contoso.local ends in .local, a reserved or internal suffix: an Internal Name under the CA/B Forum Baseline Requirements"},
		{Name: "legacy.contoso.com", Requests: 1, Covered: false, Public: true},
		{Name: "mail.contoso.com", Requests: 1, Covered: true, Public: true},
	}
	if !reflect.DeepEqual(ex.Names, wantNames) {
		t.Errorf("names =\n %+v\nwant\n %+v", ex.Names, wantNames)
	}
	if !reflect.DeepEqual(ex.Get, []string{"legacy.contoso.com", "mail.contoso.com"}) || !reflect.DeepEqual(ex.Move, []string{"exch01.contoso.local"}) || !ex.NeedsNew {
		t.Errorf("get %v move %v needs new %v", ex.Get, ex.Move, ex.NeedsNew)
	}
	w := ex.Words()
	for _, s := range []string{"get a certificate for legacy.contoso.com, mail.contoso.com", "exch01.contoso.local cannot be on a public certificate, so change the URL"} {
		if !strings.Contains(w, s) {
			t.Errorf("words %q lack %q", w, s)
		}
	}
	web2 := plans[1]
	if web2.Server != "203.0.113.80" || !reflect.DeepEqual(web2.Get, []string{"contoso.com"}) || !web2.NeedsNew {
		t.Errorf("web plan %+v", web2)
	}

	// Only internal names: the fix is the URL, never a certificate.
	r = Analyze(obs[:2], Options{Roots: p.roots, Now: scenarioDay})
	only := r.CertPlan()[0]
	if len(only.Get) != 0 || only.NeedsNew || !strings.HasPrefix(only.Words(), "clients asked this server for no name a public CA can issue") {
		t.Errorf("internal-only plan: %+v: %s", only, only.Words())
	}
	// Everything covered: keep the certificate.
	r = Analyze(obs[3:4], Options{Roots: p.roots, Now: scenarioDay})
	if w := r.CertPlan()[0].Words(); !strings.Contains(w, "keep it") {
		t.Errorf("covered plan: %s", w)
	}
}

// TestPlanWordsMail: internal names that mail clients asked for are moved
// by changing the account's server name, not a URL.
func TestPlanWordsMail(t *testing.T) {
	for _, c := range []struct {
		name  string
		names []PlannedName
		move  []string
		want  string
	}{
		{"URL", []PlannedName{{Name: "exch01.contoso.local"}}, []string{"exch01.contoso.local"},
			"exch01.contoso.local cannot be on a public certificate, so change the URL that sends clients there instead of the certificate"},
		{"mail", []PlannedName{{Name: "exch01.contoso.local", mail: true}}, []string{"exch01.contoso.local"},
			"exch01.contoso.local cannot be on a public certificate, so change the server name in the mail clients' settings instead of the certificate"},
		{"both", []PlannedName{{Name: "exch01.contoso.local"}, {Name: "imap.contoso.local", mail: true}}, []string{"exch01.contoso.local", "imap.contoso.local"},
			"so change the URL (for mail clients, the server name in their settings) that sends clients there instead of the certificate"},
	} {
		p := &ServerPlan{Names: c.names, Move: c.move}
		if w := p.Words(); !strings.Contains(w, c.want) {
			t.Errorf("%s: %q\nwant it to say %q", c.name, w, c.want)
		}
	}
}
