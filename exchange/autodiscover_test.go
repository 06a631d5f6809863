package exchange

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

func readAD(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "autodiscover", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fieldLine is an ADField in one comparable line:
// "BLOCK ELEMENT scope VALUE -> setting".
func fieldLine(f ADField) string {
	return strings.Join([]string{f.Block, f.Element, string(f.Scope), f.Value, "->", f.Setting}, " ")
}

func TestParseAutodiscoverForms(t *testing.T) {
	const (
		lo = "https://exch01.contoso.local"
		ex = "https://mail.contoso.com"
	)
	tests := []struct {
		file         string
		form         AutodiscoverForm
		action       string
		email        string
		redirectURL  string
		redirectAddr string
		version      string
		server       string
		errorCode    string
		fields       []string
		principals   []ADPrincipal
	}{
		{
			file: "pox-2006a-full.xml", form: FormPOX, action: "settings", email: "alice@contoso.com", version: "2016", server: "", // 2013 and later: ServerDN is not trusted to name the server
			fields: []string{
				"mapiHttp MailStore/InternalUrl internal " + lo + "/mapi/emsmdb/?MailboxId=5b9e1c2d@contoso.com -> mapi",
				"mapiHttp MailStore/ExternalUrl external " + ex + "/mapi/emsmdb/?MailboxId=5b9e1c2d@contoso.com -> mapi",
				"mapiHttp AddressBook/InternalUrl internal " + lo + "/mapi/nspi/?MailboxId=5b9e1c2d@contoso.com -> mapi",
				"mapiHttp AddressBook/ExternalUrl external " + ex + "/mapi/nspi/?MailboxId=5b9e1c2d@contoso.com -> mapi",
				"EXCH ASUrl internal " + lo + "/EWS/Exchange.asmx -> ews",
				"EXCH EwsUrl internal " + lo + "/EWS/Exchange.asmx -> ews",
				"EXCH EmwsUrl internal " + lo + "/EWS/Exchange.asmx -> ews",
				"EXCH SharingUrl internal " + lo + "/EWS/Exchange.asmx -> ews",
				"EXCH EcpUrl internal " + lo + "/ecp/ -> ecp",
				"EXCH EcpUrl-um internal " + lo + "/ecp/?rfr=olk&p=customize/voicemail.aspx&exsvurl=1 -> ecp",
				"EXCH EcpUrl-photo internal " + lo + "/ecp/PersonalSettings/EditAccount.aspx?rfr=olk&chgPhoto=1 -> ecp",
				"EXCH OOFUrl internal " + lo + "/EWS/Exchange.asmx -> ews",
				"EXCH UMUrl internal " + lo + "/EWS/UM2007Legacy.asmx -> ews",
				"EXCH OABUrl internal " + lo + "/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/ -> oab",
				"EXPR ASUrl external " + ex + "/EWS/Exchange.asmx -> ews",
				"EXPR EwsUrl external " + ex + "/EWS/Exchange.asmx -> ews",
				"EXPR EwsPartnerUrl external " + ex + "/EWS/Exchange.asmx -> ews",
				"EXPR EcpUrl external " + ex + "/ecp/ -> ecp",
				"EXPR OOFUrl external " + ex + "/EWS/Exchange.asmx -> ews",
				"EXPR UMUrl external " + ex + "/EWS/UM2007Legacy.asmx -> ews",
				"EXPR OABUrl external " + ex + "/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/ -> oab",
				"EXPR Server external mail.contoso.com -> outlook-anywhere",
				"EXHTTP Server internal exch01.contoso.local -> outlook-anywhere",
				"EXHTTP Server external mail.contoso.com -> outlook-anywhere",
				"WEB Internal/OWAUrl internal " + lo + "/owa/ -> owa",
				"WEB Internal/Protocol/ASUrl internal " + lo + "/EWS/Exchange.asmx -> ews",
				"WEB External/OWAUrl external " + ex + "/owa/ -> owa",
			},
			principals: []ADPrincipal{
				{Block: "EXPR", Server: "mail.contoso.com", Principal: "msstd:mail.contoso.com", SSL: "On", Scope: ScopeExternal},
				{Block: "EXHTTP", Server: "exch01.contoso.local", SSL: "On", Scope: ScopeInternal},
				{Block: "EXHTTP", Server: "mail.contoso.com", Principal: "msstd:mail.contoso.com", SSL: "On", Scope: ScopeExternal},
			},
		},
		{
			file: "pox-2006-exchange2010.xml", form: FormPOX, action: "settings", email: "bob@fabrikam.com", version: "2010", server: "EX2010",
			fields: []string{
				"EXCH ASUrl internal https://ex2010.fabrikam.local/EWS/Exchange.asmx -> ews",
				"EXCH OABUrl internal https://ex2010.fabrikam.local/OAB/1b2c3d4e-0000-1111-2222-333344445555/ -> oab",
				"EXCH UMUrl internal https://ex2010.fabrikam.local/UnifiedMessaging/Service.asmx -> um",
				"EXPR ASUrl external https://webmail.fabrikam.com/EWS/Exchange.asmx -> ews",
				"EXPR Server external webmail.fabrikam.com -> outlook-anywhere",
			},
			principals: []ADPrincipal{{Block: "EXPR", Server: "webmail.fabrikam.com", SSL: "On", Scope: ScopeExternal}},
		},
		{file: "pox-redirecturl.xml", form: FormPOX, action: "redirectUrl", redirectURL: "https://autodiscover.hosted.example/autodiscover/autodiscover.xml"},
		{file: "pox-redirectaddr.xml", form: FormPOX, action: "redirectAddr", redirectAddr: "alice@contoso.mail.example"},
		{file: "pox-error.xml", form: FormPOX, errorCode: "500"},
		{
			file: "mobilesync-settings.xml", form: FormMobileSync, action: "settings", email: "alice@contoso.com",
			fields: []string{
				"MobileSync Url  https://exch01.contoso.com/Microsoft-Server-ActiveSync -> activesync",
				"MobileSync Name  https://exch01.contoso.com/Microsoft-Server-ActiveSync -> activesync",
			},
		},
		{file: "mobilesync-redirect.xml", form: FormMobileSync, action: "Redirect", email: "alice@contoso.com", redirectAddr: "alice@fabrikam.com"},
		{file: "mobilesync-error.xml", form: FormMobileSync, errorCode: "1"},
		{
			file: "soap-getusersettings.xml", form: FormSOAP, action: "settings", email: "alice@contoso.com", version: "2019",
			fields: []string{
				"GetUserSettings InternalEwsUrl internal " + lo + "/EWS/Exchange.asmx -> ews",
				"GetUserSettings ExternalEwsUrl external " + ex + "/EWS/Exchange.asmx -> ews",
				"GetUserSettings InternalOABUrl internal " + lo + "/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/ -> oab",
				"GetUserSettings ExternalOABUrl external " + ex + "/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/ -> oab",
				"GetUserSettings InternalEcpUrl internal " + lo + "/ecp/ -> ecp",
				"GetUserSettings ExternalEcpVoicemailUrl external " + ex + "/ecp/?rfr=olk&p=customize/voicemail.aspx -> ecp",
				"GetUserSettings InternalUMUrl internal " + lo + "/EWS/UM2007Legacy.asmx -> ews",
				"GetUserSettings ExternalMailboxServer external mail.contoso.com -> outlook-anywhere",
				"GetUserSettings InteropExternalEwsUrl external " + ex + "/EWS/Exchange.asmx -> ews",
				"GetUserSettings InternalWebClientUrls internal " + lo + "/owa/ -> owa",
				"GetUserSettings ExternalWebClientUrls external " + ex + "/owa/ -> owa",
			},
			principals: []ADPrincipal{{Block: "GetUserSettings", Server: "mail.contoso.com", Scope: ScopeExternal}},
		},
		{file: "soap-redirecturl.xml", form: FormSOAP, action: "redirectUrl", redirectURL: "https://autodiscover.hosted.example/autodiscover/autodiscover.svc"},
		{file: "soap-invaliduser.xml", form: FormSOAP, errorCode: "InvalidUser"},
		{file: "soap-fault.xml", form: FormSOAP, errorCode: "s:Client"},
		{file: "v2-activesync.json", form: FormV2, action: "settings",
			fields: []string{"ActiveSync Url  https://mail.contoso.com/Microsoft-Server-ActiveSync -> activesync"}},
		{file: "v2-autodiscoverv1.json", form: FormV2, action: "settings",
			fields: []string{"AutodiscoverV1 Url  https://mail.contoso.com/autodiscover/autodiscover.xml -> autodiscover-dns"}},
		{file: "v2-error.json", form: FormV2, errorCode: "InvalidProtocol"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a, err := ParseAutodiscover("", readAD(t, tt.file))
			if err != nil {
				t.Fatalf("ParseAutodiscover: %v", err)
			}
			got := []string{}
			for _, f := range a.Fields {
				got = append(got, fieldLine(f))
			}
			want := tt.fields
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("fields:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
			if !reflect.DeepEqual(a.Principals, tt.principals) {
				t.Errorf("principals = %+v, want %+v", a.Principals, tt.principals)
			}
			for _, c := range []struct{ what, got, want string }{
				{"form", string(a.Form), string(tt.form)},
				{"action", a.Action, tt.action},
				{"email", a.Email, tt.email},
				{"redirect url", a.RedirectURL, tt.redirectURL},
				{"redirect addr", a.RedirectAddr, tt.redirectAddr},
				{"version", a.Version, tt.version},
				{"server", a.ServerName, tt.server},
				{"error code", a.ErrorCode, tt.errorCode},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
		})
	}
}

// The content type is a hint only: a JSON body labelled text/xml (or the
// reverse) is still read by its content.
func TestParseAutodiscoverContentType(t *testing.T) {
	a, err := ParseAutodiscover("text/xml", readAD(t, "v2-activesync.json"))
	if err != nil || a.Form != FormV2 {
		t.Errorf("JSON labelled text/xml: %+v, %v", a, err)
	}
	a, err = ParseAutodiscover("", "\ufeff"+readAD(t, "pox-redirecturl.xml"))
	if err != nil || a.RedirectURL == "" {
		t.Errorf("POX with a byte order mark: %+v, %v", a, err)
	}
}

func TestParseAutodiscoverMalformed(t *testing.T) {
	full := readAD(t, "pox-2006a-full.xml")
	tests := []struct {
		name, ct, body, want string
	}{
		{"empty", "", "  \n", "empty body"},
		{"html login page", "text/html", "<html><body>Sign in</body></html>", "neither Autodiscover nor a SOAP Envelope"},
		{"cut short", "text/xml", full[:len(full)/2], "malformed XML"},
		{"two roots", "", "<Autodiscover/><Autodiscover/>", "more than one root"},
		{"a request", "", `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>a@b.c</EMailAddress></Request></Autodiscover>`, "a request, not a response"},
		{"no response", "", "<Autodiscover><Foo/></Autodiscover>", "no Response element"},
		{"pox without account", "", "<Autodiscover><Response><User/></Response></Autodiscover>", "neither Account nor Error"},
		{"redirectUrl without url", "", "<Autodiscover><Response><Account><Action>redirectUrl</Action></Account></Response></Autodiscover>", "without a RedirectUrl"},
		{"redirectAddr without addr", "", "<Autodiscover><Response><Account><Action>redirectAddr</Action></Account></Response></Autodiscover>", "without a RedirectAddr"},
		{"mobilesync empty action", "", `<Autodiscover><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"><Action/></Response></Autodiscover>`, "no Settings, Redirect or Error"},
		{"soap without body", "", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>`, "no Body"},
		{"soap other message", "", `<Envelope><Body><GetDomainSettingsResponseMessage/></Body></Envelope>`, "no GetUserSettingsResponseMessage"},
		{"soap without users", "", `<Envelope><Body><GetUserSettingsResponseMessage><Response><ErrorCode>NoError</ErrorCode></Response></GetUserSettingsResponseMessage></Body></Envelope>`, "no UserResponses"},
		{"v2 bad json", "application/json", `{"Protocol":`, "malformed v2 JSON"},
		{"v2 no url", "application/json", `{"Protocol":"Ews"}`, "neither Url nor ErrorCode"},
		{"v2 relative url", "application/json", `{"Protocol":"Ews","Url":"/EWS/Exchange.asmx"}`, "not an absolute URL"},
		{"utf-16", "", `<?xml version="1.0" encoding="utf-16"?><Autodiscover/>`, "unsupported charset"},
		{"too deep", "", strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100), "nested deeper"},
		{"too big", "", "<Autodiscover>" + strings.Repeat(" ", maxAutodiscoverBody) + "</Autodiscover>", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAutodiscover(tt.ct, tt.body)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "parse autodiscover: ") {
				t.Errorf("err %q does not say which operation failed", err)
			}
		})
	}
}

func TestExchangeVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"720180E8", "2007"}, // 8.1.232
		{"738180DA", "2010"}, // 14.1.218
		{"73C0842B", "2013"}, // 15.0.1067
		{"73C18880", "2016"}, // 15.1.2176
		{"73C2860A", "2019"}, // 15.2.1546
		{"73C28A02", "SE"},   // 15.2.2562
		{"zz", ""},
		{"15.02.1544.004", ""},
	}
	for _, tt := range tests {
		if got := VersionFromHex(tt.in); got != tt.want {
			t.Errorf("VersionFromHex(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	dotted := []struct{ in, want string }{
		{"08.03.0083.006", "2007"}, {"14.03.0123.004", "2010"}, {"15.00.1497.002", "2013"},
		{"15.01.2507.006", "2016"}, {"15.02.1544.004", "2019"}, {"15.02.2562.017", "SE"},
		{"16.00.0001.000", ""}, {"x.y", ""}, {"15", ""},
	}
	for _, tt := range dotted {
		if got := VersionFromDotted(tt.in); got != tt.want {
			t.Errorf("VersionFromDotted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsAutodiscoverURL(t *testing.T) {
	tests := []struct {
		u    string
		ok   bool
		kind string
	}{
		{"https://contoso.com/autodiscover/autodiscover.xml", true, "xml"},
		{"https://autodiscover.contoso.com/Autodiscover/Autodiscover.xml", true, "xml"},
		{"https://autodiscover.contoso.com/autodiscover/autodiscover.svc", true, "svc"},
		{"https://autodiscover.contoso.com/autodiscover/autodiscover.svc/wssecurity", true, "svc"},
		{"https://autodiscover.contoso.com/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=ActiveSync", true, "json"},
		{"https://autodiscover.contoso.com/autodiscover/autodiscover.json?Email=alice@contoso.com&Protocol=Ews", true, "json"},
		{"https://mail.contoso.com/EWS/Exchange.asmx", false, ""},
		{"://bad", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		ok, kind := IsAutodiscoverURL(tt.u)
		if ok != tt.ok || kind != tt.kind {
			t.Errorf("IsAutodiscoverURL(%q) = %v, %q; want %v, %q", tt.u, ok, kind, tt.ok, tt.kind)
		}
	}
}

// The HTTP redirect probe (Autodiscover step 4): a 302 from
// http://autodiscover.<domain> with a Location.
func TestParseRedirect(t *testing.T) {
	base := "http://autodiscover.contoso.com/autodiscover/autodiscover.xml"
	tests := []struct {
		name     string
		status   int
		location string
		want     string // "" for no redirect
	}{
		{"302 absolute", 302, "https://exchange.contoso.com/autodiscover/autodiscover.xml", "https://exchange.contoso.com/autodiscover/autodiscover.xml"},
		{"301 absolute", 301, "https://mail.contoso.com/Autodiscover/Autodiscover.xml", "https://mail.contoso.com/Autodiscover/Autodiscover.xml"},
		{"relative", 302, "/owa/", "http://autodiscover.contoso.com/owa/"},
		{"200 with location", 200, "https://x.contoso.com/", ""},
		{"302 without location", 302, "", ""},
		{"unparseable location", 302, "https://[::1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ParseRedirect(&record.Observation{Kind: record.KindHTTP, URL: base, Status: tt.status, Location: tt.location})
			got := ""
			if r != nil {
				got = r.To
				if r.From != base || r.Status != tt.status {
					t.Errorf("redirect = %+v", r)
				}
			}
			if got != tt.want {
				t.Errorf("To = %q, want %q", got, tt.want)
			}
		})
	}
	if ParseRedirect(nil) != nil {
		t.Error("ParseRedirect(nil) != nil")
	}
}

func TestSRVTargets(t *testing.T) {
	o := &record.Observation{Kind: record.KindDNS, DNS: &record.DNS{Query: "_autodiscover._tcp.contoso.com", Type: "SRV", Answers: []record.DNSAnswer{
		{Type: "SRV", Name: "_autodiscover._tcp.contoso.com.", Value: "backup.contoso.com.", Port: 443, Prio: 10, Weight: 100},
		{Type: "CNAME", Name: "x", Value: "y"},
		{Type: "SRV", Name: "_autodiscover._tcp.contoso.com.", Value: "Mail.Contoso.com.", Port: 443, Prio: 0, Weight: 10},
		{Type: "SRV", Name: "", Value: "heavy.contoso.com", Port: 443, Prio: 0, Weight: 50},
		{Type: "SRV", Value: ""},
	}}}
	got := SRVTargets(o)
	want := []SRVTarget{
		{Owner: "_autodiscover._tcp.contoso.com", Target: "heavy.contoso.com", Port: 443, Prio: 0, Weight: 50},
		{Owner: "_autodiscover._tcp.contoso.com", Target: "mail.contoso.com", Port: 443, Prio: 0, Weight: 10},
		{Owner: "_autodiscover._tcp.contoso.com", Target: "backup.contoso.com", Port: 443, Prio: 10, Weight: 100},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SRVTargets =\n %+v\nwant\n %+v", got, want)
	}
	if SRVTargets(&record.Observation{Kind: record.KindDNS}) != nil || SRVTargets(nil) != nil {
		t.Error("no DNS answer should give no targets")
	}
}

func TestADFieldHostAndLabel(t *testing.T) {
	tests := []struct {
		f           ADField
		host, label string
	}{
		{ADField{Block: "EXCH", Element: "EwsUrl", Scope: ScopeInternal, Value: "https://EXCH01.contoso.local:443/EWS/Exchange.asmx"}, "exch01.contoso.local", "EXCH EwsUrl (internal)"},
		{ADField{Block: "EXPR", Element: "Server", Scope: ScopeExternal, Value: "Mail.Contoso.com"}, "mail.contoso.com", "EXPR Server (external)"},
		{ADField{Block: "GetUserSettings", Element: "InternalEwsUrl", Scope: ScopeInternal, Value: "https://a.b/x"}, "a.b", "GetUserSettings InternalEwsUrl"},
		{ADField{Element: "Url", Value: "https://m.contoso.com/Microsoft-Server-ActiveSync"}, "m.contoso.com", "Url"},
		{ADField{Element: "Url", Value: "https://%zz"}, "", "Url"},
	}
	for _, tt := range tests {
		if h := tt.f.Host(); h != tt.host {
			t.Errorf("%+v Host() = %q, want %q", tt.f, h, tt.host)
		}
		if l := tt.f.Label(); l != tt.label {
			t.Errorf("%+v Label() = %q, want %q", tt.f, l, tt.label)
		}
	}
}

func TestAutodiscoverOf(t *testing.T) {
	pox := readAD(t, "pox-redirecturl.xml")
	tests := []struct {
		name    string
		o       *record.Observation
		wantNil bool
		wantErr bool
	}{
		{"no body", &record.Observation{URL: "https://a.contoso.com/autodiscover/autodiscover.xml"}, true, false},
		{"autodiscover url", &record.Observation{URL: "https://a.contoso.com/autodiscover/autodiscover.xml", Status: 200, Body: &record.Body{Text: pox}}, false, false},
		{"other url, autodiscover body", &record.Observation{URL: "https://a.contoso.com/x", Status: 200, Body: &record.Body{Text: pox}}, false, false},
		{"other url, other body", &record.Observation{URL: "https://a.contoso.com/x", Status: 200, Body: &record.Body{Text: "<html/>"}}, true, false},
		{"401 html", &record.Observation{URL: "https://a.contoso.com/autodiscover/autodiscover.xml", Status: 401, Body: &record.Body{Text: "<html>401</html>"}}, true, false},
		{"400 v2 json error", &record.Observation{URL: "https://a.contoso.com/autodiscover/autodiscover.json/v1.0/a@contoso.com?Protocol=Foo", Status: 400, Body: &record.Body{Text: readAD(t, "v2-error.json")}}, false, false},
		{"bad body", &record.Observation{URL: "https://a.contoso.com/autodiscover/autodiscover.xml", Status: 200, Body: &record.Body{Text: "<Autodiscover>"}}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := AutodiscoverOf(tt.o)
			if (a == nil) != tt.wantNil || (err != nil) != tt.wantErr {
				t.Errorf("AutodiscoverOf = %+v, %v", a, err)
			}
		})
	}
}

func TestPrincipalEffective(t *testing.T) {
	tests := []struct {
		p    ADPrincipal
		want string
	}{
		{ADPrincipal{Server: "mail.contoso.com"}, "msstd:mail.contoso.com"},
		{ADPrincipal{Server: "mail.contoso.com", Principal: " msstd:*.contoso.com "}, "msstd:*.contoso.com"},
		{ADPrincipal{Server: "mail.contoso.com", Principal: "None"}, ""},
	}
	for _, tt := range tests {
		if got := tt.p.Effective(); got != tt.want {
			t.Errorf("%+v.Effective() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
