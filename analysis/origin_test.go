package analysis

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
)

func req(method, u string) *record.Observation {
	o := &record.Observation{Kind: record.KindHTTP, Method: method, URL: u, Status: 200}
	if strings.HasPrefix(u, "https://") {
		o.SNI = strings.SplitN(strings.TrimPrefix(u, "https://"), "/", 2)[0]
	}
	return o
}

func answer(o *record.Observation, body string) *record.Observation {
	o.Body = &record.Body{ContentType: "text/xml", Text: body}
	return o
}

// probe is a connection certsleuth check made to u.
func probe(u string, sni bool) *record.Observation {
	o := &record.Observation{Kind: record.KindTLS, Source: record.SourceProbe, URL: u, NoSNI: !sni}
	if sni {
		o.SNI = strings.SplitN(strings.TrimPrefix(u, "https://"), "/", 2)[0]
	}
	return o
}

// tlsTo is a TLS connection the proxy saw without a request.
func tlsTo(host string) *record.Observation {
	return &record.Observation{Kind: record.KindTLS, Source: record.SourceProxy, SNI: host, Connect: host + ":443"}
}

func TestTraceOrigins(t *testing.T) {
	full := readAD(t, "pox-2006a-full.xml")
	ewsOnly := poxAnswer("exch01.contoso.local", "mail.contoso.com", "mail.contoso.com", "")
	ewsOnly = strings.NewReplacer("https://exch01.contoso.local/OAB/", "https://mail.contoso.com/OAB/", "https://exch01.contoso.local/ecp/", "https://mail.contoso.com/ecp/",
		"https://exch01.contoso.local/owa/", "https://mail.contoso.com/owa/").Replace(ewsOnly)
	srv := &record.Observation{Kind: record.KindDNS, DNS: &record.DNS{Query: "_autodiscover._tcp.contoso.com", Type: "SRV",
		Answers: []record.DNSAnswer{{Type: "SRV", Name: "_autodiscover._tcp.contoso.com", Value: "adsrv.contoso.com.", Port: 443}}}}
	redirect := req("GET", "http://autodiscover.contoso.com/autodiscover/autodiscover.xml")
	redirect.Status, redirect.Location = 302, "https://exchange.contoso.com/autodiscover/autodiscover.xml"
	tests := []struct {
		name  string
		obs   []*record.Observation
		index int // 1-based observation to explain
		kind  CauseKind
		from  int
		set   string
		text  string // the cause's words contain this
		chain int    // length of the origin chain (0: do not check)
	}{
		{
			name: "SCP: first request on a server name",
			obs: []*record.Observation{
				answer(req("POST", "https://exch01.contoso.local/autodiscover/autodiscover.xml"), full),
			},
			index: 1, kind: CauseSCP, set: exchange.SettingSCP, text: "AutodiscoverServiceInternalUri", chain: 1,
		},
		{
			name: "SCP over SOAP (.svc)",
			obs: []*record.Observation{
				req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"),
				req("POST", "https://cas02.corp.contoso.com/autodiscover/autodiscover.svc"),
			},
			index: 2, kind: CauseSCP, set: exchange.SettingSCP, text: "service connection point",
		},
		{
			name: "root domain candidate",
			obs: []*record.Observation{
				req("POST", "https://contoso.com/autodiscover/autodiscover.xml"),
				req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"),
			},
			index: 1, kind: CauseRootDomain, set: exchange.SettingRootDomain, text: "the email domain itself",
		},
		{
			name:  "root domain, nothing else known",
			obs:   []*record.Observation{req("POST", "https://fabrikam.co.uk/autodiscover/autodiscover.xml")},
			index: 1, kind: CauseRootDomain, set: exchange.SettingRootDomain, text: "most likely",
		},
		{
			name:  "autodiscover. prefix candidate",
			obs:   []*record.Observation{req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml")},
			index: 1, kind: CausePrefix, set: exchange.SettingAutodiscoverDNS, text: "(tried after the email domain itself)",
		},
		{
			name:  "HTTP redirect probe",
			obs:   []*record.Observation{redirect},
			index: 1, kind: CauseHTTPProbe, set: exchange.SettingHTTPRedirect, text: "unauthenticated GET",
		},
		{
			name:  "followed the 302",
			obs:   []*record.Observation{redirect, req("POST", "https://exchange.contoso.com/autodiscover/autodiscover.xml")},
			index: 2, kind: CauseHTTPRedirect, from: 1, set: exchange.SettingHTTPRedirect, text: "HTTP 302 redirect", chain: 2,
		},
		{
			name:  "DNS SRV target",
			obs:   []*record.Observation{srv, req("POST", "https://adsrv.contoso.com/autodiscover/autodiscover.xml")},
			index: 2, kind: CauseSRV, from: 1, set: exchange.SettingSRV, text: "_autodiscover._tcp.contoso.com",
		},
		{
			name: "POX redirectUrl",
			obs: []*record.Observation{
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), readAD(t, "pox-redirecturl.xml")),
				req("POST", "https://autodiscover.hosted.example/autodiscover/autodiscover.xml"),
			},
			index: 2, kind: CauseAutodiscoverRedirect, from: 1, set: exchange.SettingADRedirect, text: "redirectUrl", chain: 2,
		},
		{
			name: "EWS from EXCH EwsUrl, then the SCP",
			obs: []*record.Observation{
				answer(req("POST", "https://exch01.contoso.local/autodiscover/autodiscover.xml"), full),
				req("POST", "https://exch01.contoso.local/EWS/Exchange.asmx"),
			},
			index: 2, kind: CauseAutodiscoverField, from: 1, set: exchange.SettingEWS, text: "internal EXCH EwsUrl", chain: 2,
		},
		{
			name: "OAB path picks OABUrl over EwsUrl on the same host",
			obs: []*record.Observation{
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), full),
				req("GET", "https://exch01.contoso.local/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/oab.xml"),
			},
			index: 2, kind: CauseAutodiscoverField, from: 1, set: exchange.SettingOAB, text: "OABUrl",
		},
		{
			name: "MAPI/HTTP from mapiHttp MailStore",
			obs: []*record.Observation{
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), full),
				req("POST", "https://exch01.contoso.local/mapi/emsmdb/?MailboxId=5b9e1c2d@contoso.com"),
			},
			index: 2, kind: CauseAutodiscoverField, from: 1, set: exchange.SettingMAPI, text: "mapiHttp MailStore/InternalUrl",
		},
		{
			name: "RPC/HTTP to the EXPR server",
			obs: []*record.Observation{
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), readAD(t, "pox-2006-exchange2010.xml")),
				req("RPC_IN_DATA", "https://webmail.fabrikam.com/rpc/rpcproxy.dll?ex2010.fabrikam.local:6001"),
			},
			index: 2, kind: CauseAutodiscoverField, from: 1, set: exchange.SettingOutlookAnywhere, text: "EXPR Server",
		},
		{
			name: "ActiveSync from the mobilesync Url",
			obs: []*record.Observation{
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), readAD(t, "mobilesync-settings.xml")),
				req("OPTIONS", "https://exch01.contoso.com/Microsoft-Server-ActiveSync"),
			},
			index: 2, kind: CauseAutodiscoverField, from: 1, set: exchange.SettingActiveSync, text: "MobileSync Url",
		},
		{
			name: "EWS from SOAP InternalEwsUrl",
			obs: []*record.Observation{
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.svc"), readAD(t, "soap-getusersettings.xml")),
				req("POST", "https://exch01.contoso.local/EWS/Exchange.asmx"),
			},
			index: 2, kind: CauseAutodiscoverField, from: 1, set: exchange.SettingEWS, text: "InternalEwsUrl",
		},
		{
			name: "ActiveSync from v2 JSON",
			obs: []*record.Observation{
				answer(req("GET", "https://autodiscover.contoso.com/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=ActiveSync"), readAD(t, "v2-activesync.json")),
				req("OPTIONS", "https://mail.contoso.com/Microsoft-Server-ActiveSync"),
			},
			index: 2, kind: CauseAutodiscoverField, from: 1, set: exchange.SettingActiveSync, text: "ActiveSync Url",
		},
		{
			name:  "Direct Connect to Office 365",
			obs:   []*record.Observation{req("GET", "https://outlook.office365.com/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=AutodiscoverV1")},
			index: 1, kind: CauseDirectConnect, text: "Office 365",
		},
		{
			name:  "nothing names it",
			obs:   []*record.Observation{req("GET", "https://intranet.contoso.com/")},
			index: 1, kind: CauseUnknown, text: "no earlier observation names intranet.contoso.com",
		},
		{
			name:  "certsleuth check target",
			obs:   []*record.Observation{probe("https://exch01.contoso.local/EWS/Exchange.asmx", true)},
			index: 1, kind: CauseCheckTarget, text: "you asked certsleuth check to connect to https://exch01.contoso.local/EWS/Exchange.asmx", chain: 1,
		},
		{
			name: "certsleuth check's second look without SNI",
			obs: []*record.Observation{
				probe("https://mail.contoso.com/", true), probe("https://mail.contoso.com/", false),
				probe("https://exch01.contoso.local/EWS/Exchange.asmx", true), probe("https://exch01.contoso.local/EWS/Exchange.asmx", false),
			},
			index: 4, kind: CauseCheckTarget, from: 3, text: "without SNI", chain: 2,
		},
		{
			name:  "certsleuth check target shown without the default port",
			obs:   []*record.Observation{probe("https://exch01.contoso.local:443/EWS/Exchange.asmx", true)},
			index: 1, kind: CauseCheckTarget, text: "connect to https://exch01.contoso.local/EWS/Exchange.asmx",
		},
		{
			name:  "certsleuth check --no-sni",
			obs:   []*record.Observation{probe("https://mail.contoso.com/", false)},
			index: 1, kind: CauseCheckTarget, text: "to connect to https://mail.contoso.com/ without SNI",
		},
		{
			name: "check targets are not explained by an Autodiscover answer",
			obs: []*record.Observation{
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), full),
				probe("https://exch01.contoso.local/EWS/Exchange.asmx", true),
			},
			index: 2, kind: CauseCheckTarget, text: "you asked certsleuth check",
		},
		{
			name: "URL-less connection to a host several settings name",
			obs: []*record.Observation{
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), full),
				tlsTo("exch01.contoso.local"),
			},
			index: 2, kind: CauseSameHost, set: exchange.SettingMAPI,
			// UMUrl /EWS/UM2007Legacy.asmx is the EWS virtual directory's, so one setting with EwsUrl.
			text: "not its request (the client refused the certificate first); 6 settings name exch01.contoso.local and any of them may have sent the client there: " +
				"Autodiscover's internal mapiHttp MailStore/InternalUrl (#1); Autodiscover's internal EXCH EwsUrl (#1); Autodiscover's internal EXCH EcpUrl (#1); " +
				"Autodiscover's internal EXCH OABUrl (#1); Autodiscover's internal EXHTTP Server (#1); " +
				"Autodiscover's internal WEB Internal/OWAUrl (#1)",
		},
		{
			name: "URL-less connections after one inferred to be the SCP",
			obs: []*record.Observation{
				tlsTo("exch01.contoso.local"),
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), ewsOnly),
				tlsTo("exch01.contoso.local"),
			},
			index: 3, kind: CauseSameHost, set: exchange.SettingSCP,
			text: "2 settings name exch01.contoso.local and any of them may have sent the client there: the AD service connection point, AutodiscoverServiceInternalUri (most likely what #1 asked for); Autodiscover's internal EXCH EwsUrl (#2)",
		},
		{
			name: "URL-less connection to a host one setting names",
			obs: []*record.Observation{
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), ewsOnly),
				tlsTo("exch01.contoso.local"),
			},
			index: 2, kind: CauseAutodiscoverField, from: 1, set: exchange.SettingEWS, text: "EwsUrl",
		},
		{
			name: "a URL learned later does not explain an earlier request",
			obs: []*record.Observation{
				req("POST", "https://exch01.contoso.local/EWS/Exchange.asmx"),
				answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), full),
			},
			// Nothing earlier names it, but /EWS/ is the EWS virtual directory's.
			index: 1, kind: CauseURLPath, set: exchange.SettingEWS,
			text: "no Autodiscover answer in the trace names https://exch01.contoso.local/EWS/Exchange.asmx, but its path is the EWS virtual directory's",
		},
		{
			name:  "a URL nothing names on a path no virtual directory serves",
			obs:   []*record.Observation{req("GET", "https://exch01.contoso.local/intranet/")},
			index: 1, kind: CauseUnknown,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := TraceOrigins(tt.obs)
			c := tr.Causes[tt.index]
			if c == nil {
				t.Fatalf("no cause for #%d", tt.index)
			}
			if c.Kind != tt.kind || c.From != tt.from || c.Setting != tt.set {
				t.Errorf("cause = %s from #%d setting %q, want %s from #%d setting %q (%s)", c.Kind, c.From, c.Setting, tt.kind, tt.from, tt.set, c.Text)
			}
			if !strings.Contains(c.Text, tt.text) {
				t.Errorf("cause text %q lacks %q", c.Text, tt.text)
			}
			if tt.chain > 0 {
				if n := len(tr.Chain(tt.index)); n != tt.chain {
					t.Errorf("chain has %d arrows, want %d: %+v", n, tt.chain, tr.Chain(tt.index))
				}
			}
			if c.Kind == CauseSCP && !c.Hedged {
				t.Error("the SCP is inferred, so the cause must be hedged")
			}
		})
	}
}

// Chain follows causes back to the client's own candidate list, stops at
// a loop and never returns more than 10 arrows.
func TestOriginChainLoop(t *testing.T) {
	tr := &OriginTrace{Causes: map[int]*Cause{
		1: {Kind: CauseHTTPRedirect, From: 2, Text: "a"},
		2: {Kind: CauseHTTPRedirect, From: 1, Text: "b"},
	}}
	if n := len(tr.Chain(1)); n != 2 {
		t.Errorf("loop: %d arrows, want 2", n)
	}
	long := &OriginTrace{Causes: map[int]*Cause{}}
	for i := 1; i <= 30; i++ {
		long.Causes[i] = &Cause{Kind: CauseHTTPRedirect, From: i + 1, Text: "r"}
	}
	if n := len(long.Chain(1)); n != 10 {
		t.Errorf("long chain: %d arrows, want 10", n)
	}
	lines := Arrows("requested x", tr.Chain(1))
	if len(lines) != 3 || lines[1] != "<- a (#2)" {
		t.Errorf("Arrows = %q", lines)
	}
}

func TestTraceOriginsFacts(t *testing.T) {
	tr := TraceOrigins([]*record.Observation{
		{Kind: record.KindDNS, DNS: &record.DNS{Query: "_autodiscover._tcp.fabrikam.com", Type: "SRV"}},
		answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), readAD(t, "pox-2006a-full.xml")),
		answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), "<html>not xml"),
	})
	if got := strings.Join(tr.Domains, ","); got != "contoso.com,fabrikam.com" {
		t.Errorf("domains = %s", got)
	}
	// An Exchange 2016 answer's ServerDN names no server (from 2013 on it
	// is a mailbox GUID in real answers): the server stays unknown.
	if tr.Version != "2016" || tr.Server != "" {
		t.Errorf("version %q server %q, want 2016 and no server", tr.Version, tr.Server)
	}
	if tr.Answers[2] == nil || tr.AnswerErrors[3] == nil {
		t.Errorf("answers %v, errors %v", tr.Answers, tr.AnswerErrors)
	}
}

// TestTraceOriginsServer: the server named in -Identity comes from the
// X-FEServer (else X-BEServer, X-CalculatedBETarget) response header the
// proxy recorded, else a 2007/2010 answer's ServerDN; never from a 2013+
// ServerDN, which names a mailbox GUID.
func TestTraceOriginsServer(t *testing.T) {
	guidDN := strings.Replace(readAD(t, "pox-2006a-full.xml"), "cn=Servers/cn=EXCH01</ServerDN>", "cn=Servers/cn=5b9e1c2d-1111-4222-8333-444455556666@contoso.com</ServerDN>", 1)
	withHdr := func(o *record.Observation, e record.ExchangeServers) *record.Observation {
		o.Exchange = &e
		return o
	}
	tests := []struct {
		name string
		obs  []*record.Observation
		want string
	}{
		{"2016 answer with a GUID ServerDN", []*record.Observation{answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), guidDN)}, ""},
		{"2010 answer's ServerDN", []*record.Observation{answer(req("POST", "https://autodiscover.fabrikam.com/autodiscover/autodiscover.xml"), readAD(t, "pox-2006-exchange2010.xml"))}, "EX2010"},
		{"X-FEServer beats ServerDN", []*record.Observation{
			withHdr(answer(req("POST", "https://autodiscover.fabrikam.com/autodiscover/autodiscover.xml"), readAD(t, "pox-2006-exchange2010.xml")), record.ExchangeServers{FrontEnd: "cas02"})}, "CAS02"},
		{"X-CalculatedBETarget when alone", []*record.Observation{
			withHdr(answer(req("POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), guidDN), record.ExchangeServers{BETarget: "exch03.contoso.local"})}, "EXCH03"},
		{"a GUID in a header is no server", []*record.Observation{
			withHdr(req("GET", "https://mail.contoso.com/owa/"), record.ExchangeServers{BackEnd: "5b9e1c2d-1111-4222-8333-444455556666"})}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TraceOrigins(tt.obs).Server; got != tt.want {
				t.Errorf("server %q, want %q", got, tt.want)
			}
		})
	}
}

// BenchmarkTraceOrigins traces the first scenario repeated 300 and 1,200
// times (Outlook asks Autodiscover again every hour, so one host gets
// answer after answer): the time per observation should not grow with
// the number of answers.
func BenchmarkTraceOrigins(b *testing.B) {
	sc := scenarioList(b)[0]
	for _, n := range []int{300, 1200} {
		obs := repeatedTrace(sc, n)
		b.Run(fmt.Sprintf("repeats=%d", n), func(b *testing.B) {
			for b.Loop() {
				TraceOrigins(obs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(obs)), "ns/obs")
		})
	}
}

// quietCandidate is candidate's quiet answer for a TLS connection without
// a URL, but nil for the SCP when noSCP: for every case of the candidate
// list, with and without email domains.
func TestQuietCandidate(t *testing.T) {
	for _, domains := range [][]string{nil, {"contoso.com", "fabrikam.com"}} {
		tr := newOriginTrace(false)
		for _, d := range domains {
			tr.addDomain(d)
		}
		tr.seenAD["seen.contoso.com"] = true
		for _, host := range []string{"contoso.com", "autodiscover.contoso.com", "autodiscover.other.org", "outlook.office365.com",
			"autodiscover-s.outlook.com", "mail.contoso.com", "seen.contoso.com", "example.org", "localhost", "autodiscover."} {
			for _, noSCP := range []bool{false, true} {
				want := tr.candidate(host, "https", "xml", tr.seenAD, true)
				if want != nil && want.Kind == CauseSCP && noSCP {
					want = nil
				}
				got := tr.quietCandidate(host, noSCP)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("domains %v, %s, noSCP %v: %+v, want %+v", domains, host, noSCP, got, want)
				}
			}
		}
	}
}

// pathSetting gives the setting of the virtual directory serving a URL's
// path exactly as the concatenating test it replaced did (path+"/" ==
// prefix, path == prefix without "/", or path under prefix).
func TestPathSetting(t *testing.T) {
	old := func(u string) string {
		_, path, _ := exchange.URLHostPath(u)
		for _, pp := range urlPaths {
			if path+"/" == pp.prefix || strings.HasPrefix(path, pp.prefix) || path == strings.TrimSuffix(pp.prefix, "/") {
				return pp.setting
			}
		}
		return ""
	}
	for _, u := range []string{"", "https://m.contoso.com", "https://m.contoso.com/", "https://m.contoso.com/EWS", "https://m.contoso.com/ews/",
		"https://m.contoso.com/EWS/Exchange.asmx", "https://m.contoso.com/oab", "https://m.contoso.com/OAB/x/oab.xml", "https://m.contoso.com/oabx",
		"https://m.contoso.com/mapi", "https://m.contoso.com/mapi/emsmdb/?MailboxId=x", "https://m.contoso.com/Microsoft-Server-ActiveSync?Cmd=Sync",
		"https://m.contoso.com/rpc/rpcproxy.dll", "https://m.contoso.com/owa/", "https://m.contoso.com/owax", "https://m.contoso.com/ecp",
		"https://m.contoso.com/UnifiedMessaging", "https://m.contoso.com/unifiedmessaging/service.asmx", "https://m.contoso.com/e", "://bad"} {
		if got, want := pathSetting(u), old(u); got != want {
			t.Errorf("pathSetting(%q) = %q, want %q", u, got, want)
		}
	}
}

// TestSameSettingKey: two causes have the same setting key exactly when
// their keys joined (a setting, then "|" and the scope of a field or of
// the SCP) are equal, whatever the lengths of the parts; dedupeSettings
// keeps one cause per key, the preferred element, in order.
func TestSameSettingKey(t *testing.T) {
	key := func(c Cause) string { a, b := settingKeyParts(c); return a + b }
	var cs []Cause
	for _, set := range []string{"", "a", "a|", "a|internal", exchange.SettingEWS, exchange.SettingOAB} {
		cs = append(cs, Cause{Setting: set}, Cause{Setting: set, Kind: CauseSCP})
		for _, sc := range []exchange.Scope{exchange.ScopeNone, exchange.ScopeInternal, exchange.ScopeExternal, "internal|x"} {
			cs = append(cs, Cause{Setting: set, Field: &exchange.ADField{Scope: sc, Element: "EwsUrl"}})
		}
	}
	for _, a := range cs {
		for _, b := range cs {
			if got, want := sameSettingKey(a, b), key(a) == key(b); got != want {
				t.Errorf("sameSettingKey(%q, %q) = %v", key(a), key(b), got)
			}
		}
	}
	for _, parts := range [][4]string{{"ab", "c", "a", "bc"}, {"a", "bc", "ab", "c"}, {"", "abc", "abc", ""}, {"ab", "cd", "abc", "d"}, {"ab", "cd", "abd", "c"}} {
		if got, want := joinedEqual(parts[0], parts[1], parts[2], parts[3]), parts[0]+parts[1] == parts[2]+parts[3]; got != want {
			t.Errorf("joinedEqual%q = %v", parts, got)
		}
	}
	asURL := Cause{Setting: exchange.SettingEWS, Field: &exchange.ADField{Scope: exchange.ScopeInternal, Element: "ASUrl"}}
	ews := Cause{Setting: exchange.SettingEWS, Field: &exchange.ADField{Scope: exchange.ScopeInternal, Element: "EwsUrl"}}
	oab := Cause{Setting: exchange.SettingOAB, Field: &exchange.ADField{Scope: exchange.ScopeInternal, Element: "OABUrl"}}
	got := dedupeSettings([]Cause{asURL, {Kind: CauseSameHost, Either: []Cause{oab, ews}}, {Setting: ""}, oab})
	if len(got) != 2 || got[0].Field.Element != "EwsUrl" || got[1].Field.Element != "OABUrl" {
		t.Errorf("dedupeSettings: %+v", got)
	}
}
