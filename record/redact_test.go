package record

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"https://mail.contoso.com/owa/", "https://mail.contoso.com/owa/"},
		{"https://alice:s3cret@mail.contoso.com/owa/?ae=Item&t=IPM.Note", "https://mail.contoso.com/owa/?ae=Item&t=IPM.Note"},
		// Autodiscover v2 and ActiveSync keep what explains them, in order
		{"https://autodiscover.contoso.com/autodiscover/autodiscover.json?Email=alice%40contoso.com&Protocol=ActiveSync&RedirectCount=1",
			"https://autodiscover.contoso.com/autodiscover/autodiscover.json?Email=alice%40contoso.com&Protocol=ActiveSync&RedirectCount=1"},
		{"https://mail.contoso.com/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=LAB0001&DeviceType=iPhone",
			"https://mail.contoso.com/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=LAB0001&DeviceType=iPhone"},
		{"https://mail.contoso.com/mapi/emsmdb/?MailboxId=c3b1f0a4-1d2e-4f5a-9b8c-7d6e5f4a3b2c@contoso.com",
			"https://mail.contoso.com/mapi/emsmdb/?MailboxId=c3b1f0a4-1d2e-4f5a-9b8c-7d6e5f4a3b2c@contoso.com"},
		{"https://mail.contoso.com/rpc/rpcproxy.dll?exch01.contoso.local:6001", "https://mail.contoso.com/rpc/rpcproxy.dll?exch01.contoso.local:6001"},
		{"https://mail.contoso.com/EWS/Services.svc?wsdl", "https://mail.contoso.com/EWS/Services.svc?wsdl"},
		// everything else is redacted, whatever its name
		{"https://sts.contoso.com/adfs/ls/?SAMLResponse=PHNhbWxwOlJlc3BvbnNl&RelayState=xyz", "https://sts.contoso.com/adfs/ls/?SAMLResponse=REDACTED&RelayState=REDACTED"},
		{"http://intranet/?sessionid=abc&otp=123456&pin=4321&x=", "http://intranet/?sessionid=REDACTED&otp=REDACTED&pin=REDACTED&x="},
		// a harmless key with a token-shaped value
		{"https://mail.contoso.com/Microsoft-Server-ActiveSync?Cmd=Sync&DeviceId=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", "https://mail.contoso.com/Microsoft-Server-ActiveSync?Cmd=Sync&DeviceId=REDACTED"},
		{"https://mail.contoso.com/x?User=0123456789abcdef0123456789abcdef", "https://mail.contoso.com/x?User=REDACTED"},
		{"https://mail.contoso.com/x?Email=a%26token%3Dabc", "https://mail.contoso.com/x?Email=REDACTED"},
		// a query without "=": ActiveSync's base64 form carries the policy key
		{"https://mail.contoso.com/Microsoft-Server-ActiveSync?jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l", "https://mail.contoso.com/Microsoft-Server-ActiveSync?REDACTED"},
		// fragments: OAuth's implicit flow puts tokens there
		{"https://mail.contoso.com/owa/#access_token=eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.sig&token_type=Bearer", "https://mail.contoso.com/owa/#access_token=REDACTED&token_type=REDACTED"},
		{"https://mail.contoso.com/owa/#/mail/inbox", "https://mail.contoso.com/owa/#/mail/inbox"},
		// not a URL at all: still redacted
		{"%zz?password=hunter2", "%zz?password=REDACTED"},
		{"/relative?code=abc", "/relative?code=REDACTED"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestRedactText(t *testing.T) {
	in := `<EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx?token=abc&amp;Protocol=EWS</EwsUrl> {"Url":"https://x/?sig=zzz"}`
	want := `<EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx?token=REDACTED&amp;Protocol=EWS</EwsUrl> {"Url":"https://x/?sig=REDACTED"}`
	if got := RedactText(in); got != want {
		t.Errorf("RedactText\n got %s\nwant %s", got, want)
	}
	if b := KeptBody("application/x-www-form-urlencoded", []byte("wresult=abc&wa=wsignin1.0"), false); b.Text != "wresult=REDACTED&wa=wsignin1.0" {
		t.Errorf("form body kept as %q", b.Text)
	}
	if KeptBody("text/xml", nil, false) != nil {
		t.Error("an empty body was kept")
	}
}

// FuzzRedactURL: never panics, is idempotent, and a value under a key
// that is not harmless never survives.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://a:b@h/p?x=1&Email=a%40b#frag", "?SAMLResponse=PHNh", "http://h/?h:1", "#access_token=x", "%", "?&&=&", "https://h/?Cmd=eyJhbGciOi.x.y"} {
		f.Add(s, "secretvalue")
	}
	f.Fuzz(func(t *testing.T, s, secret string) {
		r := RedactURL(s)
		if RedactURL(r) != r {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, r, RedactURL(r))
		}
		if len(secret) < 6 || strings.ContainsAny(secret, "&#=?%+") || strings.Contains(Redacted, secret) {
			return
		}
		u := "https://h/p?" + s + "&sessiontoken=" + secret
		if out := RedactURL(u); strings.Contains(out[strings.Index(out, "sessiontoken="):], secret) {
			t.Fatalf("the secret survived: %q -> %q", u, out)
		}
	})
}
