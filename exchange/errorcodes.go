package exchange

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// ErrorCode is one error a user may paste: a code, a constant name or a
// dialog sentence, with the certsleuth checks that fail when a client
// shows it, and what to run next. The table ErrorCodes is data: a new
// client message is a new row.
type ErrorCode struct {
	// ID is stable and lower case ("wininet.cn-invalid").
	ID string `json:"id"`
	// Code is the number as clients print it ("0x80072F06"), or "".
	Code string `json:"code,omitempty"`
	// Names are constant names ("ERROR_INTERNET_SEC_CERT_CN_INVALID").
	Names []string `json:"names,omitempty"`
	// Texts are phrases of the message as users see it (matched ignoring
	// case, punctuation and spacing; any one phrase is enough).
	Texts []string `json:"texts,omitempty"`
	// Language of Texts, when not English ("nb" for Norwegian Bokmål).
	Language string `json:"language,omitempty"`
	// Where names who shows it ("Outlook on Windows (WinINet)").
	Where string `json:"where"`
	// Meaning says what it means, in words.
	Meaning string `json:"meaning"`
	// Checks are the IDs of the checks that fail when this error shows.
	Checks []string `json:"checks"`
	// Note is a remark (a client that uses the code for more than it says).
	Note string `json:"note,omitempty"`
	// next names the steps to run next; see nextSteps.
	next     string
	Citation string `json:"citation"`
}

// The kinds of next steps.
const (
	nextName      = "name"
	nextTrust     = "trust"
	nextDate      = "date"
	nextPrincipal = "principal"
)

// nameChecks are the checks behind "the name does not match".
var nameChecks = []string{"name.mismatch", "name.cn-only", "name.no-san", "name.wildcard-too-deep", "name.wildcard-bare-domain",
	"name.partial-wildcard", "name.wildcard-public-suffix", "name.ip-needs-ip-san", "name.trailing-dot", "name.invalid-wildcard"}

var (
	trustChecks = []string{"chain.untrusted", "chain.self-signed"}
	dateChecks  = []string{"date.expired", "date.not-yet-valid"}
)

// ErrorCodes is the table explain-error looks texts up in.
var ErrorCodes = []*ErrorCode{
	{
		ID: "wininet.cn-invalid", Code: "0x80072F06", Names: []string{"ERROR_INTERNET_SEC_CERT_CN_INVALID", "12038"},
		Where: "Outlook, Windows Mail and other WinINet/WinHTTP programs", next: nextName, Checks: nameChecks,
		Meaning:  "the certificate's names do not include the host name the program connected to",
		Citation: "WinINet error codes (wininet.h, 12038); KB 2772058",
	},
	{
		ID: "wininet.invalid-ca", Code: "0x80072F0D", Names: []string{"ERROR_INTERNET_INVALID_CA", "12045"},
		Where: "Outlook and WinINet programs; Windows Mobile and older ActiveSync devices", next: nextTrust, Checks: trustChecks,
		Meaning:  "the certificate was issued by a CA the client does not trust (or the server did not send the intermediate certificates)",
		Note:     "ActiveSync devices show \"The security certificate on the server is not valid. Support code: 0x80072f0d\" for a name mismatch too, so certsleuth also looks at the name checks",
		Citation: "WinINet error codes (wininet.h, 12045); Remote Connectivity Analyzer \"SSL Certificate Name Mismatch\"",
	},
	{
		ID: "wininet.date-invalid", Code: "0x80072F05", Names: []string{"ERROR_INTERNET_SEC_CERT_DATE_INVALID", "12037"},
		Where: "Outlook and WinINet programs", next: nextDate, Checks: dateChecks,
		Meaning:  "the certificate had expired, or was not yet valid, by the client's clock",
		Citation: "WinINet error codes (wininet.h, 12037)",
	},
	{
		ID: "wininet.cert-invalid", Code: "0x80072F17", Names: []string{"ERROR_INTERNET_SEC_CERT_ERRORS", "12055"},
		Where: "WinINet programs", next: nextName, Checks: append(append(append([]string(nil), nameChecks...), trustChecks...), dateChecks...),
		Meaning:  "the certificate has more than one problem (name, issuer or dates)",
		Citation: "WinINet error codes (wininet.h, 12055)",
	},
	{
		ID: "crypt.cn-no-match", Code: "0x800B010F", Names: []string{"CERT_E_CN_NO_MATCH"},
		Where: "Windows CryptoAPI (SChannel, .NET, PowerShell, Outlook Anywhere)", next: nextName, Checks: nameChecks,
		Meaning:  "the certificate's CN or subjectAltName does not match the name passed in",
		Citation: "winerror.h CERT_E_CN_NO_MATCH",
	},
	{
		ID: "crypt.untrusted-root", Code: "0x800B0109", Names: []string{"CERT_E_UNTRUSTEDROOT"},
		Where: "Windows CryptoAPI", next: nextTrust, Checks: trustChecks,
		Meaning:  "the chain ends in a root certificate the client does not trust",
		Citation: "winerror.h CERT_E_UNTRUSTEDROOT",
	},
	{
		ID: "crypt.chaining", Code: "0x800B010A", Names: []string{"CERT_E_CHAINING"},
		Where: "Windows CryptoAPI", next: nextTrust, Checks: trustChecks,
		Meaning:  "no chain could be built to a trusted root: usually a missing intermediate certificate",
		Citation: "winerror.h CERT_E_CHAINING",
	},
	{
		ID: "crypt.expired", Code: "0x800B0101", Names: []string{"CERT_E_EXPIRED"},
		Where: "Windows CryptoAPI", next: nextDate, Checks: dateChecks,
		Meaning:  "a certificate is outside its validity period",
		Citation: "winerror.h CERT_E_EXPIRED",
	},
	{
		ID: "urlmon.invalid-certificate", Code: "0x800C0019", Names: []string{"INET_E_INVALID_CERTIFICATE"},
		Where: "Internet Explorer, the WebBrowser control and other URL moniker (urlmon) programs, such as Outlook's web panes and add-ins",
		next:  nextName, Checks: append(append(append([]string(nil), nameChecks...), trustChecks...), dateChecks...),
		Meaning:  "the SSL certificate is invalid: urlmon uses this one code for a wrong name, an untrusted issuer and a date out of range",
		Citation: "URL Moniker Error Codes, learn.microsoft.com ms775145 (INET_E_INVALID_CERTIFICATE 0x800C0019)",
	},
	{
		ID: "schannel.wrong-principal", Code: "0x80090322", Names: []string{"SEC_E_WRONG_PRINCIPAL"},
		Texts: []string{"the target principal name is incorrect"},
		Where: "Windows SChannel programs: Outlook's POP3, IMAP4 and SMTP over TLS, .NET and PowerShell, SQL Server clients, Remote Desktop",
		next:  nextName, Checks: nameChecks,
		Meaning:  "the server's certificate does not carry the name the program connected to (\"The target principal name is incorrect\")",
		Note:     "Outlook 2007 shows it for POP3/IMAP4 over TLS when the first DNS name of the certificate is not the server name it was given (KB 958977)",
		Citation: "winerror.h SEC_E_WRONG_PRINCIPAL (0x80090322); KB 958977",
	},
	{
		ID: "chrome.common-name-invalid", Names: []string{"NET::ERR_CERT_COMMON_NAME_INVALID", "ERR_CERT_COMMON_NAME_INVALID"},
		Texts: []string{"your connection is not private", "its security certificate is from"},
		Where: "Chrome, Edge, Android WebView", next: nextName, Checks: nameChecks,
		Meaning:  "the certificate does not list the host name as a subjectAltName (Chrome ignores the CN since version 58)",
		Citation: "chromium net/base/net_error_list.h; chromestatus 4981025180483584",
	},
	{
		ID: "chrome.authority-invalid", Names: []string{"NET::ERR_CERT_AUTHORITY_INVALID", "ERR_CERT_AUTHORITY_INVALID"},
		Where: "Chrome, Edge, Android WebView", next: nextTrust, Checks: trustChecks,
		Meaning:  "the certificate does not chain to a CA the browser trusts",
		Citation: "chromium net/base/net_error_list.h",
	},
	{
		ID: "chrome.date-invalid", Names: []string{"NET::ERR_CERT_DATE_INVALID", "ERR_CERT_DATE_INVALID"},
		Where: "Chrome, Edge, Android WebView", next: nextDate, Checks: dateChecks,
		Meaning:  "the certificate has expired or is not yet valid (or the computer's clock is wrong)",
		Citation: "chromium net/base/net_error_list.h",
	},
	{
		ID: "firefox.bad-cert-domain", Names: []string{"SSL_ERROR_BAD_CERT_DOMAIN"},
		Where: "Firefox, Thunderbird", next: nextName, Checks: nameChecks,
		Meaning:  "the certificate is not valid for the host name",
		Citation: "NSS sslerr.h",
	},
	{
		ID: "firefox.unknown-issuer", Names: []string{"SEC_ERROR_UNKNOWN_ISSUER", "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT"},
		Where: "Firefox, Thunderbird", next: nextTrust, Checks: trustChecks,
		Meaning:  "the issuer is not trusted, or the certificate is self-signed",
		Citation: "NSS secerr.h; mozilla::pkix",
	},
	{
		ID: "firefox.expired", Names: []string{"SEC_ERROR_EXPIRED_CERTIFICATE"},
		Where: "Firefox, Thunderbird", next: nextDate, Checks: dateChecks,
		Meaning:  "the certificate has expired",
		Citation: "NSS secerr.h",
	},
	{
		ID: "outlook.name-invalid",
		Texts: []string{
			"the name of the security certificate is invalid or does not match the name of the site",
			"the name on the security certificate is invalid or does not match the name of the site",
			"does not match the name of the site",
		},
		Where: "Outlook's Security Alert dialog (Windows)", next: nextName, Checks: nameChecks,
		Meaning:  "the host Outlook connected to (often from Autodiscover, the SCP or an InternalUrl) is not on the certificate",
		Citation: "KB 940726; KB 2772058",
	},
	{
		ID: "outlook.name-invalid.nb", Language: "nb",
		Texts: []string{
			"sikkerhetssertifikatets navn er ugyldig eller samsvarer ikke med områdets navn",
			"samsvarer ikke med områdets navn",
		},
		Where: "Outlook's Security Alert dialog (Norwegian Windows)", next: nextName, Checks: nameChecks,
		Meaning:  "the host Outlook connected to is not on the certificate (Norwegian text of KB 940726)",
		Citation: "KB 940726 (Norwegian: \"Sikkerhetssertifikatets navn er ugyldig ...\")",
	},
	{
		ID: "outlook.name-invalid.de", Language: "de",
		Texts: []string{
			"der name auf dem sicherheitszertifikat ist ungültig oder entspricht nicht dem namen der site",
			"entspricht nicht dem namen der site",
		},
		Where: "Outlook's Security Alert dialog (German Windows)", next: nextName, Checks: nameChecks,
		Meaning:  "the host Outlook connected to is not on the certificate",
		Citation: "KB 940726 (German edition)",
	},
	{
		ID: "outlook.untrusted",
		Texts: []string{
			"the security certificate was issued by a company you have not chosen to trust",
			"issued by a company you have not chosen to trust",
		},
		Where: "Outlook's Security Alert dialog (Windows)", next: nextTrust, Checks: trustChecks,
		Meaning:  "the certificate's CA is not trusted on this computer (often Exchange's own self-signed certificate)",
		Citation: "Windows security alert; KB 940726",
	},
	{
		ID: "outlook.date",
		Texts: []string{
			"the security certificate has expired or is not yet valid",
			"has expired or is not yet valid",
		},
		Where: "Outlook's Security Alert dialog (Windows)", next: nextDate, Checks: dateChecks,
		Meaning:  "the certificate has expired or is not yet valid by this computer's clock",
		Citation: "Windows security alert",
	},
	{
		ID: "outlook.principal",
		Texts: []string{
			"an encrypted connection to your mail server is not available",
			"only connect to proxy servers that have this principal name in their certificate",
			"principal name",
		},
		Where: "Outlook Anywhere (RPC/HTTP) on Windows", next: nextPrincipal, Checks: []string{PrincipalCheckID},
		Meaning:  "Outlook Anywhere's msstd: principal name is not literally on the certificate; Outlook prompts for credentials again and again",
		Citation: PrincipalCitation,
	},
	{
		ID: "activesync.not-valid",
		Texts: []string{
			"the security certificate on the server is not valid",
			"support code: 0x80072f0d",
		},
		Where: "Windows Mobile and other ActiveSync devices", next: nextName, Checks: append(append([]string(nil), nameChecks...), trustChecks...),
		Meaning:  "the device rejected the certificate: the Remote Connectivity Analyzer lists this message under \"SSL Certificate Name Mismatch\", and an untrusted CA gives it too",
		Citation: "Remote Connectivity Analyzer \"SSL Certificate Name Mismatch\"",
	},
	{
		ID: "ios.cannot-verify",
		Texts: []string{
			"cannot verify server identity",
			"can't verify server identity",
			"cannot be verified by mail",
			"mail can't verify the identity of the server",
			"mail can’t verify the identity of the server",
			"unable to verify account information",
		},
		Where: "iPhone, iPad and Mac Mail (Exchange accounts)", next: nextName, Checks: append(append(append([]string(nil), nameChecks...), trustChecks...), "apple.validity-825", "eku.server-auth"),
		Meaning:  "Apple Mail refused the certificate: a name not in the SANs (Apple ignores the CN), an untrusted CA, or one of Apple's own rules (825 days, serverAuth EKU)",
		Note:     "iOS uses the same words for every certificate problem; tap Details to see the certificate it got",
		Citation: "support.apple.com/103769; the dialog's words \"Cannot Verify Server Identity\", \"The identity of \\\"HOST\\\" cannot be verified by Mail\" as users report them (skynethosting.net/blog/cannot-verify-server-identity, 1grid.co.za/knowledge/how-to-fix-cannot-verify-server-identity-error)",
	},
	{
		ID: "android.name-mismatch",
		Texts: []string{
			"the name of the site doesn't match the name on the certificate",
			"the name of the site does not match the name on the certificate",
			"certificate doesn't match",
			"hostname not verified",
			"hostname mismatch",
		},
		Where: "Android (system dialog, Gmail and Exchange apps, OkHttp)", next: nextName, Checks: nameChecks,
		Meaning:  "the certificate's subjectAltNames do not include the server name the phone was given",
		Citation: "AOSP frameworks/base ssl_mismatch string; OkHttp HostnameVerifier",
	},
	{
		ID: "android.untrusted",
		Texts: []string{
			"this certificate isn't from a trusted authority",
			"this certificate is not from a trusted authority",
			"trust anchor for certification path not found",
		},
		Where: "Android", next: nextTrust, Checks: trustChecks,
		Meaning:  "the certificate does not chain to a CA the phone trusts (or the server omits the intermediate)",
		Citation: "AOSP ssl_untrusted string; Android CertPathValidatorException",
	},
	{
		ID: "android.date",
		Texts: []string{
			"this certificate has expired",
			"this certificate isn't valid yet",
		},
		Where: "Android", next: nextDate, Checks: dateChecks,
		Meaning:  "the certificate has expired or is not yet valid by the phone's clock",
		Citation: "AOSP ssl_expired, ssl_not_yet_valid strings",
	},
	{
		ID:    "rca.name-mismatch",
		Texts: []string{"ssl certificate name mismatch"},
		Where: "Microsoft Remote Connectivity Analyzer", next: nextName, Checks: nameChecks,
		Meaning:  "the FQDN on the certificate does not match the host address or URL the test used",
		Citation: "Remote Connectivity Analyzer \"SSL Certificate Name Mismatch\"",
	},
}

// ErrorMatch is one row of ErrorCodes that a pasted text matched.
type ErrorMatch struct {
	*ErrorCode
	// Matched is what in the text matched: the code, name or phrase.
	Matched string `json:"matched"`
	// Next are the commands and steps to run next, filled in with the
	// host names found in the text.
	Next []string `json:"next"`
}

// ErrorExplanation is the answer to "what does this error mean?".
type ErrorExplanation struct {
	Input string `json:"input"`
	// Hosts are the host names found in the text (from URLs or quoted names).
	Hosts   []string     `json:"hosts,omitempty"`
	Matches []ErrorMatch `json:"matches"`
	// Suggestions are known codes and phrases close to the text, when
	// nothing matched.
	Suggestions []string `json:"suggestions,omitempty"`
}

var (
	hexCode   = regexp.MustCompile(`(?i)\b0x[0-9a-f]{1,8}\b`)
	decCode   = regexp.MustCompile(`-?\b\d{5,10}\b`)
	urlInText = regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>“”‘’]+`)
	hostInTxt = regexp.MustCompile(`(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}\b`)
)

// normText lower-cases s, folds typographic quotes to ASCII and collapses
// everything but letters, digits and a few marks to single spaces.
func normText(s string) string {
	r := strings.NewReplacer("’", "'", "‘", "'", "“", "\"", "”", "\"", "\u00a0", " ")
	rs := []rune(strings.ToLower(r.Replace(s)))
	var b strings.Builder
	space := false
	for i, c := range rs {
		// A colon inside a token stays ("net::err_cert_..."); one that
		// ends a word is punctuation ("Cannot Verify Server Identity: HOST").
		if c == ':' && (i+1 == len(rs) || !unicode.IsLetter(rs[i+1]) && !unicode.IsDigit(rs[i+1]) && !strings.ContainsRune("':_", rs[i+1])) {
			space = true
			continue
		}
		if unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune("':_", c) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(c)
			continue
		}
		space = true
	}
	return b.String()
}

// codeKey normalises a hex or decimal error code to "0xXXXXXXXX".
func codeKey(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		v, err := strconv.ParseUint(s[2:], 16, 32)
		if err != nil {
			return ""
		}
		return fmt.Sprintf("0x%08X", v)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < -1<<31 || v > 1<<32-1 {
		return ""
	}
	return fmt.Sprintf("0x%08X", uint32(v)) // -2147012858 is 0x80072F06
}

// ExplainError looks up what a user pasted: an error code (hex, signed
// decimal HRESULT or WinINet number), a constant name, or dialog text in
// English or another language the table knows. Every matching row is
// returned, most specific first; when none matches, Suggestions lists
// the closest known codes and phrases.
func ExplainError(text string) ErrorExplanation {
	res := ErrorExplanation{Input: text, Matches: []ErrorMatch{}}
	res.Hosts = hostsIn(text)
	norm := " " + normText(text) + " "
	var codes []string
	for _, m := range hexCode.FindAllString(text, -1) {
		if k := codeKey(m); k != "" {
			codes = append(codes, k)
		}
	}
	for _, m := range decCode.FindAllString(text, -1) {
		codes = append(codes, m)
		if k := codeKey(m); k != "" {
			codes = append(codes, k)
		}
	}
	seen := map[string]bool{}
	add := func(e *ErrorCode, matched string) {
		if seen[e.ID] {
			return
		}
		seen[e.ID] = true
		res.Matches = append(res.Matches, ErrorMatch{ErrorCode: e, Matched: matched, Next: nextSteps(e, res.Hosts)})
	}
	// Codes and constant names first: they are exact.
	for _, e := range ErrorCodes {
		for _, c := range codes {
			if e.Code != "" && strings.EqualFold(c, e.Code) {
				add(e, e.Code)
			}
			for _, n := range e.Names {
				if c == n {
					add(e, n)
				}
			}
		}
		for _, n := range e.Names {
			if strings.Contains(norm, " "+normText(n)+" ") || strings.Contains(strings.ToUpper(text), n) && !isDigits(n) {
				add(e, n)
			}
		}
	}
	// Then phrases, longest first, so that the most specific row leads.
	type phrase struct {
		e *ErrorCode
		p string
	}
	var ps []phrase
	for _, e := range ErrorCodes {
		for _, t := range e.Texts {
			ps = append(ps, phrase{e, t})
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].p) > len(ps[j].p) })
	for _, p := range ps {
		if strings.Contains(norm, " "+normText(p.p)+" ") {
			add(p.e, p.p)
		}
	}
	if len(res.Matches) == 0 {
		res.Suggestions = suggestErrors(text)
	}
	return res
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// hostsIn finds host names in pasted text: URL hosts first, then bare
// dotted names ("exch01.contoso.local").
func hostsIn(text string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if h == "" || seen[h] {
			return
		}
		seen[h] = true
		out = append(out, h)
	}
	rest := text
	for _, u := range urlInText.FindAllString(text, -1) {
		if p, err := url.Parse(strings.TrimRight(u, ".,;:)]")); err == nil && p.Hostname() != "" {
			add(p.Hostname())
		}
		rest = strings.Replace(rest, u, " ", 1)
	}
	for _, h := range hostInTxt.FindAllString(rest, -1) {
		// "Exchange.asmx", "autodiscover.xml": file names, not hosts.
		last := strings.ToLower(h[strings.LastIndexByte(h, '.')+1:])
		switch last {
		case "xml", "asmx", "svc", "json", "aspx", "dll", "exe", "htm", "html", "txt", "pem", "cer", "crt":
			continue
		}
		add(h)
	}
	return out
}

// nextSteps says what to run after looking up e, with the hosts seen.
func nextSteps(e *ErrorCode, hosts []string) []string {
	host := "HOST"
	if len(hosts) > 0 {
		host = hosts[0]
	}
	trace := "certsleuth proxy --record trace.jsonl (point the client at 127.0.0.1:8080 and reproduce the warning), then certsleuth replay --format html -o report.html trace.jsonl: it names the request, the setting that sent the client there and the command that fixes it"
	switch e.next {
	case nextTrust:
		return []string{
			fmt.Sprintf("certsleuth check %s (shows the chain the server sends, and whether it is self-signed or lacks intermediates)", host),
			fmt.Sprintf("certsleuth check --ca-file YOUR-CA.pem %s (if the CA is your enterprise CA: does the warning go away once the client trusts it?)", host),
			"if a name is in the warning too: " + trace,
		}
	case nextDate:
		return []string{
			fmt.Sprintf("certsleuth check %s (shows the certificate's validity dates)", host),
			"check the client's clock and time zone; a certificate valid only from the future usually means a wrong clock",
		}
	case nextPrincipal:
		return []string{
			"Get-OutlookProvider EXPR | Format-List CertPrincipalName (in the Exchange Management Shell)",
			fmt.Sprintf("certsleuth check %s (the principal must equal the certificate's CN, or a SAN on Vista and later, literally: a wildcard certificate needs msstd:*.domain)", host),
			trace,
		}
	}
	out := []string{
		fmt.Sprintf("certsleuth check %s (shows the names on the certificate %s presents, and which clients reject it)", host, host),
		trace,
	}
	if strings.Contains(e.Where, "Outlook") {
		out = append(out, "in Outlook: hold Ctrl, right-click the tray icon, Test E-mail AutoConfiguration: the URLs it lists are the ones Outlook uses")
	}
	return out
}

// suggestErrors returns known codes, names and phrases close to text,
// closest first: by edit distance to the whole key, or for a fragment of a
// longer phrase to the closest part of it; ties go to the key whose length
// is nearest the text's.
func suggestErrors(text string) []string {
	q := normText(text)
	type cand struct {
		s    string
		d    int // edit distance
		dl   int // length difference
		near bool
	}
	var cs []cand
	for _, e := range ErrorCodes {
		var keys []string
		if e.Code != "" {
			keys = append(keys, e.Code)
		}
		keys = append(keys, e.Names...)
		keys = append(keys, e.Texts...)
		for _, k := range keys {
			if isDigits(k) {
				continue
			}
			nk := normText(k)
			d := editDistance(q, nk)
			near := d <= max(2, min(len(q), len(nk))/4)
			if len(q) < len(nk) && strings.Contains(q, " ") {
				// Words from a dialog: compare with the closest part of
				// the phrase, more strictly (a short word is in many).
				if di := infixDistance(q, nk); di < d {
					d, near = di, di <= len(q)/5
				}
			}
			dl := len(nk) - len(q)
			if dl < 0 {
				dl = -dl
			}
			cs = append(cs, cand{s: k, d: d, dl: dl, near: near})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].dl < cs[j].dl
	})
	var out []string
	seen := map[string]bool{}
	for _, c := range cs {
		if c.near && !seen[c.s] && len(out) < 5 {
			seen[c.s] = true
			out = append(out, c.s)
		}
	}
	if len(out) > 0 {
		return out
	}
	// Nothing close: the most common codes, the closest of them first.
	common := []string{"0x80072F06", "0x80072F0D", "0x80072F05", "0x800B010F", "NET::ERR_CERT_COMMON_NAME_INVALID",
		"The name of the security certificate is invalid or does not match the name of the site"}
	dist := map[string]int{}
	for _, c := range common {
		nk := normText(c)
		dist[c] = editDistance(q, nk)
		if len(q) < len(nk) {
			dist[c] = min(dist[c], infixDistance(q, nk))
		}
	}
	sort.SliceStable(common, func(i, j int) bool { return dist[common[i]] < dist[common[j]] })
	return common
}

// editDistance is the Levenshtein distance between a and b (bytes),
// bounded to keep pasted essays cheap.
func editDistance(a, b string) int { return levenshtein(a, b, false) }

// infixDistance is the edit distance between a and the closest substring
// of b (bytes; bounded like editDistance).
func infixDistance(a, b string) int { return levenshtein(a, b, true) }

// levenshtein is the edit distance between a and b, or with infix between
// a and the closest substring of b (the match may start and end anywhere
// in b).
func levenshtein(a, b string, infix bool) int {
	if len(a) > 200 {
		a = a[:200]
	}
	if len(b) > 200 {
		b = b[:200]
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		if !infix {
			prev[j] = j
		}
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	if infix {
		return slices.Min(prev)
	}
	return prev[len(b)]
}
