package exchange

import (
	"reflect"
	"strings"
	"testing"
)

func TestExplainError(t *testing.T) {
	tests := []struct {
		in     string
		ids    []string // matched rows, in order
		checks string   // a check the first row must name
		hosts  []string
	}{
		{"0x80072F06", []string{"wininet.cn-invalid"}, "name.mismatch", nil},
		{"0x80072f06", []string{"wininet.cn-invalid"}, "name.mismatch", nil},
		{"-2147012858", []string{"wininet.cn-invalid"}, "name.mismatch", nil}, // the same HRESULT, signed decimal
		{"12038", []string{"wininet.cn-invalid"}, "name.mismatch", nil},
		{"0x80072F0D", []string{"wininet.invalid-ca"}, "chain.untrusted", nil},
		{"0x80072F05", []string{"wininet.date-invalid"}, "date.expired", nil},
		{"error 0x800B010F CERT_E_CN_NO_MATCH", []string{"crypt.cn-no-match"}, "name.mismatch", nil},
		{"NET::ERR_CERT_COMMON_NAME_INVALID", []string{"chrome.common-name-invalid"}, "name.cn-only", nil},
		{"net::err_cert_authority_invalid", []string{"chrome.authority-invalid"}, "chain.self-signed", nil},
		{"NET::ERR_CERT_DATE_INVALID", []string{"chrome.date-invalid"}, "date.not-yet-valid", nil},
		{"SSL_ERROR_BAD_CERT_DOMAIN", []string{"firefox.bad-cert-domain"}, "name.mismatch", nil},
		{"The name of the security certificate is invalid or does not match the name of the site.", []string{"outlook.name-invalid"}, "name.mismatch", nil},
		{"The name on the security certificate is invalid or does not match the name of the site", []string{"outlook.name-invalid"}, "name.mismatch", nil},
		{"  the NAME of the security  certificate is invalid\nor does not match the name of the site ", []string{"outlook.name-invalid"}, "name.mismatch", nil},
		{"Sikkerhetssertifikatets navn er ugyldig eller samsvarer ikke med områdets navn.", []string{"outlook.name-invalid.nb"}, "name.mismatch", nil},
		{"Der Name auf dem Sicherheitszertifikat ist ungültig oder entspricht nicht dem Namen der Site.", []string{"outlook.name-invalid.de"}, "name.mismatch", nil},
		{"The security certificate was issued by a company you have not chosen to trust.", []string{"outlook.untrusted"}, "chain.untrusted", nil},
		{"The security certificate has expired or is not yet valid.", []string{"outlook.date"}, "date.expired", nil},
		{"An encrypted connection to your mail server is not available.", []string{"outlook.principal"}, PrincipalCheckID, nil},
		{"The security certificate on the server is not valid. Support code: 0x80072f0d",
			[]string{"wininet.invalid-ca", "activesync.not-valid"}, "chain.untrusted", nil},
		{"Cannot Verify Server Identity. The identity of “exch01.contoso.local” cannot be verified by Mail.",
			[]string{"ios.cannot-verify"}, "apple.validity-825", []string{"exch01.contoso.local"}},
		{"Mail can’t verify the identity of the server “mail.contoso.com”.", []string{"ios.cannot-verify"}, "name.mismatch", []string{"mail.contoso.com"}},
		{"The name of the site doesn't match the name on the certificate.", []string{"android.name-mismatch"}, "name.mismatch", nil},
		{"This certificate isn't from a trusted authority.", []string{"android.untrusted"}, "chain.untrusted", nil},
		{"NET::ERR_CERT_COMMON_NAME_INVALID at https://exch01.contoso.local/EWS/Exchange.asmx", []string{"chrome.common-name-invalid"}, "name.mismatch", []string{"exch01.contoso.local"}},
		{"SSL Certificate Name Mismatch", []string{"rca.name-mismatch"}, "name.mismatch", nil},
		// The colon after the title is punctuation, not part of a word.
		{"Cannot Verify Server Identity: exch01.contoso.local", []string{"ios.cannot-verify"}, "name.mismatch", []string{"exch01.contoso.local"}},
		{"Cannot Verify Server Identity: HOST", []string{"ios.cannot-verify"}, "name.mismatch", nil},
		// URL Moniker Error Codes (ms775145): one code for every certificate problem.
		{"0x800C0019", []string{"urlmon.invalid-certificate"}, "chain.untrusted", nil},
		{"INET_E_INVALID_CERTIFICATE", []string{"urlmon.invalid-certificate"}, "date.expired", nil},
		{"-2146697191", []string{"urlmon.invalid-certificate"}, "name.mismatch", nil},
		// winerror.h SEC_E_WRONG_PRINCIPAL; KB 958977 (Outlook POP3/IMAP4 over TLS).
		{"0x80090322", []string{"schannel.wrong-principal"}, "name.mismatch", nil},
		{"SEC_E_WRONG_PRINCIPAL", []string{"schannel.wrong-principal"}, "name.mismatch", nil},
		{"The server you are connected to is using a security certificate that cannot be verified. The target principal name is incorrect.",
			[]string{"schannel.wrong-principal", "outlook.principal"}, "name.mismatch", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			res := ExplainError(tt.in)
			var ids []string
			for _, m := range res.Matches {
				ids = append(ids, m.ID)
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Fatalf("matches %v, want %v", ids, tt.ids)
			}
			m := res.Matches[0]
			found := false
			for _, c := range m.Checks {
				found = found || c == tt.checks
			}
			if !found {
				t.Errorf("row %s names checks %v, want %s among them", m.ID, m.Checks, tt.checks)
			}
			if !reflect.DeepEqual(res.Hosts, tt.hosts) {
				t.Errorf("hosts %v, want %v", res.Hosts, tt.hosts)
			}
			if len(m.Next) == 0 {
				t.Error("no next steps")
			}
			if len(tt.hosts) > 0 && !strings.Contains(m.Next[0], "certsleuth check "+tt.hosts[0]) {
				t.Errorf("next step %q does not name the host", m.Next[0])
			}
			if len(res.Suggestions) != 0 {
				t.Errorf("suggestions %v with a match", res.Suggestions)
			}
		})
	}
}

func TestExplainErrorUnknown(t *testing.T) {
	tests := []struct {
		in   string
		want string // a suggestion that must be offered
	}{
		{"0x80072F0E", "0x80072F06"},
		{"ERR_CERT_COMMON_NAME_INVALD", "NET::ERR_CERT_COMMON_NAME_INVALID"},
		{"hello world", "0x80072F06"}, // nothing close: the common ones
		{"", "0x80072F06"},
	}
	for _, tt := range tests {
		res := ExplainError(tt.in)
		if len(res.Matches) != 0 {
			t.Errorf("%q matched %v", tt.in, res.Matches[0].ID)
		}
		found := false
		for _, s := range res.Suggestions {
			found = found || s == tt.want
		}
		if !found {
			t.Errorf("%q: suggestions %v lack %q", tt.in, res.Suggestions, tt.want)
		}
	}
}

// Suggestions come closest first.
func TestExplainErrorSuggestionOrder(t *testing.T) {
	tests := []struct {
		in   string
		want []string // the first suggestions, in order
	}{
		{"CERT_E_CN_NO_MACH", []string{"CERT_E_CN_NO_MATCH"}},
		{"ERR_CERT_COMON_NAME_INVALID", []string{"ERR_CERT_COMMON_NAME_INVALID", "NET::ERR_CERT_COMMON_NAME_INVALID"}},
		{"verify server identty", []string{"can't verify server identity", "cannot verify server identity"}},
		{"name of the security", []string{"the name of the security certificate is invalid or does not match the name of the site"}},
		{"0x80072F0E", []string{"0x80072F06", "0x80072F0D", "0x80072F05"}},
		{"the printer is on fire", []string{"The name of the security certificate is invalid or does not match the name of the site"}},
	}
	for _, tt := range tests {
		got := ExplainError(tt.in).Suggestions
		if len(got) < len(tt.want) || !reflect.DeepEqual(got[:len(tt.want)], tt.want) {
			t.Errorf("%q: suggestions %q, want them to start with %q", tt.in, got, tt.want)
		}
	}
}

// Every row names checks (TestErrorCodeChecksExist: that exist), has a unique ID, and can be found by its
// own code, names and phrases.
func TestErrorCodesTable(t *testing.T) {
	ids := map[string]bool{}
	for _, e := range ErrorCodes {
		if ids[e.ID] {
			t.Errorf("duplicate ID %s", e.ID)
		}
		ids[e.ID] = true
		if e.Where == "" || e.Meaning == "" || e.Citation == "" || len(e.Checks) == 0 {
			t.Errorf("%s: Where, Meaning, Citation and Checks are required", e.ID)
		}
		keys := append(append([]string{}, e.Names...), e.Texts...)
		if e.Code != "" {
			keys = append(keys, e.Code)
		}
		if len(keys) == 0 {
			t.Errorf("%s: nothing to match", e.ID)
		}
		for _, k := range keys {
			found := false
			for _, m := range ExplainError(k).Matches {
				found = found || m.ID == e.ID
			}
			if !found {
				t.Errorf("%s: its own key %q does not find it", e.ID, k)
			}
		}
	}
}
