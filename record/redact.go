package record

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces a value a trace must not keep.
const Redacted = "REDACTED"

// harmlessKeys are the query and form keys whose values a trace keeps,
// lower case. Everything else is replaced by Redacted: a credential can
// hide under any name (SAMLResponse, sessionid, otp, pin, wresult, ...),
// so the list says what is known to be harmless in Exchange and
// Autodiscover traffic and needed to explain it, not what is secret.
//
// Sources:
//   - Autodiscover v2 (autodiscover.json?Email=&Protocol=&RedirectCount=):
//     https://learn.microsoft.com/exchange/client-developer/exchange-web-services/autodiscover-for-exchange
//   - ActiveSync plain query, [MS-ASHTTP] 2.2.1.1.1.1 (Cmd, User, DeviceId,
//     DeviceType, CollectionId, ItemId, LongId, Occurrence, SaveInSent)
//   - MAPI over HTTP, [MS-OXCMAPIHTTP] 2.2.1 (MailboxId)
//   - Outlook on the web and ECP navigation (ae, t, a, realm, exsvurl,
//     ll-cc, modurl, bO, replaceCurrent, reason, rfr, action, app)
//   - EWS metadata (wsdl), WS-Federation's action (wa), the public OAuth
//     parameters of modern authentication (client_id, response_type,
//     response_mode, scope, resource, prompt; RFC 6749 §4.1.1)
//   - generic version and format switches (v, ver, version, format,
//     culture, lang)
var harmlessKeys = keySet(
	"email", "protocol", "redirectcount",
	"cmd", "user", "deviceid", "devicetype", "collectionid", "itemid", "longid", "occurrence", "saveinsent",
	"mailboxid",
	"ae", "t", "a", "realm", "exsvurl", "ll-cc", "modurl", "bo", "replacecurrent", "reason", "rfr", "action", "app",
	"wsdl", "wa", "client_id", "response_type", "response_mode", "scope", "resource", "prompt",
	"v", "ver", "version", "format", "culture", "lang",
)

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

var (
	// harmlessValue is what a kept value may look like once unescaped:
	// names, numbers, addresses, GUIDs, short words.
	harmlessValue = regexp.MustCompile(`^[A-Za-z0-9 ._@:+/,-]{0,256}$`)
	// tokenShaped catches a token under a harmless key: a JWT or JWE
	// (base64url parts starting with `{"`, RFC 7519), or a run of 32 or
	// more base64 or hex characters (GUIDs are taken out first).
	tokenShaped = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*|[A-Za-z0-9+/_=-]{32,}`)
	guid        = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)
	// hostPort is RPC over HTTP's query, "?server:port" ([MS-RPCH] 2.1.2.1.1).
	hostPort = regexp.MustCompile(`^[A-Za-z0-9.-]{1,253}:[0-9]{1,5}$`)
	// urlInText finds URLs inside a kept body.
	urlInText = regexp.MustCompile(`(?i)https?://[^\s"'<>]+`)
)

// RedactURL removes user:password@ from a URL and replaces the value of
// every query and fragment parameter whose key is not known to be harmless
// (see harmlessKeys) with REDACTED, as well as a harmless key's value that
// looks like a token. A parameter without "=" is kept only when it is RPC
// over HTTP's server:port or a harmless key. The rest of the URL is kept as
// it was sent. It never fails: text that is not a URL is redacted the same
// way.
func RedactURL(s string) string {
	if s == "" {
		return ""
	}
	rest, frag, hasFrag := strings.Cut(s, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	if i := strings.Index(base, "://"); i >= 0 {
		auth := base[i+3:]
		end := strings.IndexByte(auth, '/')
		if end < 0 {
			end = len(auth)
		}
		if at := strings.LastIndexByte(auth[:end], '@'); at >= 0 {
			base = base[:i+3] + auth[at+1:]
		}
	}
	var b strings.Builder
	b.WriteString(base)
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(RedactForm(query))
	}
	if hasFrag {
		b.WriteByte('#')
		if frag != "" && !strings.ContainsAny(frag, "=&") && !looksLikeToken(frag) {
			b.WriteString(frag) // "#/mail/inbox": a place, not a parameter
		} else {
			b.WriteString(RedactForm(frag))
		}
	}
	return b.String()
}

// RedactForm redacts an application/x-www-form-urlencoded string (a query
// or a form body) the way RedactURL redacts a query: the keys stay, in
// order, and the values not known to be harmless become REDACTED.
func RedactForm(s string) string {
	if s == "" {
		return ""
	}
	parts := strings.Split(s, "&")
	for i, p := range parts {
		parts[i] = redactParam(p)
	}
	return strings.Join(parts, "&")
}

func redactParam(p string) string {
	if p == "" {
		return ""
	}
	k, v, hasValue := strings.Cut(p, "=")
	key, err := url.QueryUnescape(k)
	if err != nil {
		key = k
	}
	harmless := harmlessKeys[strings.ToLower(strings.TrimSpace(key))]
	if !hasValue {
		if harmless || hostPort.MatchString(key) {
			return p
		}
		return Redacted
	}
	if v == "" {
		return p
	}
	if harmless {
		val, err := url.QueryUnescape(v)
		if err == nil && harmlessValue.MatchString(val) && !looksLikeToken(val) {
			return p
		}
	}
	return k + "=" + Redacted
}

func looksLikeToken(s string) bool {
	return tokenShaped.MatchString(guid.ReplaceAllString(s, ""))
}

// RedactText redacts the query and fragment of every http(s) URL in a text
// (a kept response body; "&amp;" separates parameters in XML).
func RedactText(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, func(u string) string {
		if !strings.Contains(u, "&amp;") {
			return RedactURL(u)
		}
		return strings.ReplaceAll(RedactURL(strings.ReplaceAll(u, "&amp;", "&")), "&", "&amp;")
	})
}

// KeptBody is the Body a trace keeps of a response body: the query values
// of the URLs in it redacted (RedactText), and a form body's values too
// (RedactForm). nil when b is empty.
func KeptBody(contentType string, b []byte, truncated bool) *Body {
	if len(b) == 0 {
		return nil
	}
	text := RedactText(string(b))
	if strings.Contains(strings.ToLower(contentType), "x-www-form-urlencoded") {
		text = RedactForm(text)
	}
	return &Body{ContentType: contentType, Text: text, Truncated: truncated}
}
