package exchange

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func addADSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "autodiscover", "*"))
	if len(files) == 0 {
		f.Fatal("no seed files in testdata/autodiscover")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		ct := "text/xml"
		if strings.HasSuffix(p, ".json") {
			ct = "application/json"
		}
		f.Add(ct, string(b))
	}
	f.Add("", "<Autodiscover><Response><Account><Action>redirectUrl</Action><RedirectUrl>x</RedirectUrl></Account></Response></Autodiscover>")
	f.Add("application/json", `{"Url":"https://a/","Protocol":"Ews","ErrorCode":""}`)
}

// FuzzParseAutodiscover: any body gives an answer or an error, never a
// panic; every field it returns names an absolute URL or a host, and says
// which form and setting it came from.
func FuzzParseAutodiscover(f *testing.F) {
	addADSeeds(f)
	f.Fuzz(func(t *testing.T, ct, body string) {
		a, err := ParseAutodiscover(ct, body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse autodiscover: ") {
				t.Fatalf("error without its operation: %v", err)
			}
			return
		}
		if a == nil {
			t.Fatal("nil answer without an error")
		}
		for _, fl := range a.Fields {
			if fl.Form != a.Form {
				t.Fatalf("field %+v has form %q in a %q answer", fl, fl.Form, a.Form)
			}
			if fl.Element == "" || fl.Value == "" {
				t.Fatalf("field without element or value: %+v", fl)
			}
			if strings.Contains(fl.Value, "://") && !isAbsURL(fl.Value) {
				t.Fatalf("field value %q is not an absolute URL", fl.Value)
			}
			_ = fl.Host()
			_ = fl.Label()
		}
		for _, p := range a.Principals {
			if p.Server == "" {
				t.Fatalf("principal without server: %+v", p)
			}
			_ = p.Effective()
		}
	})
}

// FuzzExplainError: any pasted text gives matches or suggestions, never a
// panic, and every match is a row of ErrorCodes that names checks
// (analysis' TestErrorCodeChecksExist checks that they exist).
func FuzzExplainError(f *testing.F) {
	for _, s := range []string{"0x80072F06", "0x800b010f", "NET::ERR_CERT_COMMON_NAME_INVALID", "Navnet på sikkerhetssertifikatet er ugyldig",
		"The name on the security certificate is invalid or does not match the name of the site", "", "0x", "ERR_CERT_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		res := ExplainError(s)
		for _, m := range res.Matches {
			if m.ErrorCode == nil || len(m.Checks) == 0 || !slices.Contains(ErrorCodes, m.ErrorCode) {
				t.Fatalf("match %+v is not a row of ErrorCodes naming its checks", m)
			}
		}
		if len(res.Matches) == 0 && len(res.Suggestions) == 0 {
			t.Fatalf("no match and no suggestion for %q", s)
		}
	})
}
