package proxy

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/certsleuth/certsleuth/internal/testcert"
)

// credentialKeys are names under which credentials travel in query
// strings, fragments and forms: passwords, OAuth and OpenID, SAML and
// WS-Federation, session and CSRF tokens, one-time codes, signed URLs
// (AWS, Azure SAS), CAS tickets, ActiveSync's policy key.
var credentialKeys = []string{
	"password", "passwd", "pwd", "pass", "pw", "passphrase", "token", "access_token", "id_token", "refresh_token",
	"code", "code_verifier", "state", "nonce", "SAMLResponse", "SAMLRequest", "RelayState", "wresult", "wctx", "sessionid",
	"session", "sid", "JSESSIONID", "otp", "totp", "pin", "mfa", "smscode", "verification_code", "key",
	"apikey", "api_key", "secret", "client_secret", "sig", "signature", "X-Amz-Signature", "X-Amz-Credential", "se", "sp",
	"auth", "authorization", "jwt", "assertion", "ticket", "ST", "X-OWA-CANARY", "canary", "csrf", "_xsrf",
	"hmac", "credential", "oauth_token", "oauth_verifier", "PolicyKey", "bearer",
}

// tokenValues makes one token-shaped value per key: JWTs, SAML
// assertions, long base64 and hex, and short one-time codes, each unique
// so a leak can be traced to its key.
func tokenValues(n int) []string {
	b64 := base64.RawURLEncoding.EncodeToString
	rnd := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	var vals []string
	for i := range n {
		switch i % 5 {
		case 0: // a JWT (RFC 7519): header.payload.signature
			vals = append(vals, b64([]byte(`{"alg":"RS256","typ":"JWT"}`))+"."+b64([]byte(fmt.Sprintf(`{"sub":"alice@contoso.test","n":%d}`, i)))+"."+b64(rnd(64)))
		case 1: // a SAML assertion, base64 as the HTTP-POST binding sends it
			vals = append(vals, base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Assertion ID="_%x">alice</saml:Assertion></samlp:Response>`, rnd(8)))))
		case 2:
			vals = append(vals, base64.StdEncoding.EncodeToString(rnd(48)))
		case 3:
			vals = append(vals, hex.EncodeToString(rnd(32)))
		default: // a short code
			vals = append(vals, fmt.Sprintf("Q%dZ%x", i, rnd(2)))
		}
	}
	return vals
}

// lockedBuffer is a bytes.Buffer safe for the live queue's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNoCredentialsRecorded sends every credential-like key with a
// token-shaped value in query strings (HTTPS in a tunnel and plain HTTP),
// gets them back in a redirect's Location (query and fragment), in URLs
// inside an Autodiscover answer and in a form-encoded Autodiscover answer:
// none of the values reaches the trace or the live lines, while the keys
// that explain Exchange traffic keep their values.
func TestNoCredentialsRecorded(t *testing.T) {
	if len(credentialKeys) < 40 {
		t.Fatalf("only %d credential-like keys", len(credentialKeys))
	}
	vals := tokenValues(len(credentialKeys))
	q := url.Values{}
	var qs []string
	for i, k := range credentialKeys {
		q.Set(k, vals[i])
		qs = append(qs, url.QueryEscape(k)+"="+url.QueryEscape(vals[i]))
	}
	query := strings.Join(qs, "&")
	harmless := "Email=alice%40contoso.test&Protocol=ActiveSync&Cmd=Sync&DeviceType=iPhone"
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/redirect"):
			w.Header().Set("Location", "https://mail.contoso.test/owa/?"+query+"#"+query)
			w.WriteHeader(http.StatusFound)
		case r.URL.Path == "/autodiscover/form":
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			io.WriteString(w, query)
		case strings.HasPrefix(strings.ToLower(r.URL.Path), "/autodiscover/"):
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, `<Autodiscover><EwsUrl>https://mail.contoso.test/EWS/Exchange.asmx?`+strings.ReplaceAll(query, "&", "&amp;")+`</EwsUrl></Autodiscover>`)
		default:
			io.WriteString(w, "ok")
		}
	})
	l := newLab(t)
	tlsOrigin := httptest.NewUnstartedServer(handler)
	tlsOrigin.TLS = &tls.Config{Certificates: []tls.Certificate{l.originCA.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})}}
	tlsOrigin.StartTLS()
	defer tlsOrigin.Close()
	plain := httptest.NewServer(handler)
	defer plain.Close()
	var liveOut lockedBuffer
	live := NewLive(&liveOut, LiveOptions{Queue: 1024, Recording: true})
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test", "autodiscover.contoso.test"), Observers: []func(Event){live.Observe}})
	c := viaProxy(p.addr, l.clientRoots())
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	tp, pp := portOf(tlsOrigin.Listener.Addr().String()), portOf(plain.Listener.Addr().String())
	var urls []string
	for _, base := range []string{"https://mail.contoso.test:" + tp, "http://mail.contoso.test:" + pp} {
		urls = append(urls,
			base+"/owa/?"+harmless+"&"+query,
			base+"/redirect?"+query,
			base+"/autodiscover/autodiscover.xml?"+query,
			base+"/autodiscover/form?"+query,
		)
	}
	for _, u := range urls {
		resp, _, err := get(c, u)
		if err != nil {
			t.Fatalf("%.80s...: %.300v", u, err)
		}
		if resp.StatusCode != 200 && resp.StatusCode != 302 {
			t.Fatalf("%s: %s", u, resp.Status)
		}
	}
	obs := p.trace(t)
	live.Close()
	if len(obs) != len(urls) {
		t.Fatalf("%d observations, want %d", len(obs), len(urls))
	}
	trace, lines := p.raw(), liveOut.String()
	for i, k := range credentialKeys {
		v := vals[i]
		for _, form := range []string{v, url.QueryEscape(v), v[:min(len(v), 12)]} {
			for where, text := range map[string]string{"trace": trace, "live lines": lines} {
				if strings.Contains(text, form) {
					t.Errorf("the %s hold the value of %s (%q)", where, k, form)
				}
			}
		}
	}
	var urlsRecorded strings.Builder // the trace's JSON escapes "&"
	for _, o := range obs {
		fmt.Fprintln(&urlsRecorded, o.URL, o.Location)
	}
	for where, text := range map[string]string{"trace": urlsRecorded.String(), "live lines": lines} {
		if !strings.Contains(text, harmless) {
			t.Errorf("the %s lost the harmless Autodiscover/ActiveSync parameters %q", where, harmless)
		}
		if !strings.Contains(text, "SAMLResponse=REDACTED") {
			t.Errorf("the %s do not show SAMLResponse=REDACTED", where)
		}
	}
	for _, o := range obs {
		if strings.Contains(o.URL, "/autodiscover/") && (o.Body == nil || !strings.Contains(o.Body.Text, "sig=REDACTED")) {
			t.Errorf("%s: the Autodiscover body was not kept, redacted: %+v", o.URL, o.Body)
		}
	}
}
