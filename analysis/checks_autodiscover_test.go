package analysis

import (
	"reflect"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// A malformed Autodiscover body in a trace gives a finding, not a crash and
// not silence; an HTML error page on a non-Autodiscover URL gives nothing.
func TestAutodiscoverMalformedFinding(t *testing.T) {
	obs := []*record.Observation{
		{Kind: record.KindHTTP, Time: scenarioDay, URL: "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", Method: "POST", Status: 200,
			Body: &record.Body{ContentType: "text/html", Text: "<html><head><title>Sign in</title></head><body>login</body></html>"}},
		{Kind: record.KindHTTP, Time: scenarioDay, URL: "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", Method: "POST", Status: 200,
			Body: &record.Body{ContentType: "text/xml", Text: readAD(t, "pox-error.xml")}},
		{Kind: record.KindHTTP, Time: scenarioDay, URL: "https://www.contoso.com/", Method: "GET", Status: 200,
			Body: &record.Body{ContentType: "text/html", Text: "<html>welcome</html>"}},
		{Kind: record.KindHTTP, Time: scenarioDay, URL: "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", Method: "POST", Status: 200,
			Body: &record.Body{ContentType: "text/xml", Text: readAD(t, "pox-2006a-full.xml")[:700], Truncated: true}},
	}
	r := Analyze(obs, Options{Now: scenarioDay})
	ids := func(it *Item) []string {
		var out []string
		for _, f := range it.Findings {
			out = append(out, f.ID)
		}
		return out
	}
	if got := ids(r.Items[0]); !reflect.DeepEqual(got, []string{"autodiscover.malformed"}) {
		t.Errorf("login page: findings %v, want autodiscover.malformed", got)
	}
	if got := ids(r.Items[1]); !reflect.DeepEqual(got, []string{"autodiscover.error"}) {
		t.Errorf("error answer: findings %v, want autodiscover.error", got)
	}
	if got := ids(r.Items[2]); len(got) != 0 {
		t.Errorf("web page: findings %v, want none", got)
	}
	f := r.Items[3].Findings
	if len(f) != 1 || !strings.Contains(f[0].Summary, "kept only the start of the body") {
		t.Errorf("truncated body: findings %+v, want autodiscover.malformed saying the body was cut", f)
	}
}
