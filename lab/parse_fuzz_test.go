package lab

import (
	"strings"
	"testing"
)

// FuzzParseADRequest: the fake server's Autodiscover request parser never
// panics, and a request it accepts names the mailbox it was given.
func FuzzParseADRequest(f *testing.F) {
	f.Add(poxRequest("alice@contoso.com"))
	f.Add(mobileRequest("alice@contoso.com"))
	f.Add("<Autodiscover><Request><EMailAddress>x</EMailAddress></Request></Autodiscover>")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		email, _, err := parseADRequest(strings.NewReader(body))
		if err == nil && email != strings.TrimSpace(email) {
			t.Fatalf("address %q not trimmed", email)
		}
	})
}

// FuzzParseSettings: the scripted client's reading of an Autodiscover
// answer never panics.
func FuzzParseSettings(f *testing.F) {
	c := contoso()
	f.Add(c.poxResponse(true))
	f.Add(c.mobileResponse())
	f.Add(errorResponse("600", "Invalid Request"))
	f.Add("<Autodiscover><Response><Account><Action>redirectUrl</Action><RedirectUrl>https://x/</RedirectUrl></Account></Response></Autodiscover>")
	f.Fuzz(func(t *testing.T, body string) {
		parseSettings([]byte(body))
	})
}

// FuzzSOAPResponse: the fake server answers any GetUserSettings body
// without panicking, with well-formed settings for the lab mailbox.
func FuzzSOAPResponse(f *testing.F) {
	f.Add(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetUserSettingsRequestMessage><Request><Users><User><Mailbox>alice@contoso.com</Mailbox></User></Users><RequestedSettings><Setting>InternalEwsUrl</Setting><Setting>Nope</Setting></RequestedSettings></Request></GetUserSettingsRequestMessage></soap:Body></soap:Envelope>`)
	f.Add("")
	c := contoso()
	f.Fuzz(func(t *testing.T, body string) {
		out, err := c.soapResponse(strings.NewReader(body))
		if err == nil && !strings.HasSuffix(out, "</s:Envelope>\n") {
			t.Fatalf("truncated answer %q", out)
		}
	})
}

// TestSOAPResponse checks the GetUserSettings answer for the lab mailbox:
// known settings come back, unknown ones as errors, another user as
// InvalidUser.
func TestSOAPResponse(t *testing.T) {
	c := contoso()
	req := func(user string, settings ...string) string {
		return `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetUserSettingsRequestMessage><Request><Users><User><Mailbox>` + user +
			`</Mailbox></User></Users><RequestedSettings><Setting>` + strings.Join(settings, "</Setting><Setting>") + `</Setting></RequestedSettings></Request></GetUserSettingsRequestMessage></soap:Body></soap:Envelope>`
	}
	tests := []struct {
		name, body string
		want, not  []string
	}{
		{"known setting", req("alice@contoso.com", "InternalEwsUrl"), []string{"<Name>InternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value>"}, []string{"InvalidUser"}},
		{"unknown setting", req("alice@contoso.com", "Bogus"), []string{"<ErrorCode>InvalidSetting</ErrorCode>", "<SettingName>Bogus</SettingName>"}, nil},
		{"other user", req("bob@contoso.com", "InternalEwsUrl"), []string{"<ErrorCode>InvalidUser</ErrorCode>"}, []string{"Exchange.asmx"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.soapResponse(strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("answer lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("answer has %q:\n%s", n, out)
				}
			}
		})
	}
}
