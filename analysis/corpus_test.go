package analysis

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
)

// adCorpusDir holds the Autodiscover answers of the corpus (see its
// SOURCES.md); package exchange's parser tests read them too.
const adCorpusDir = "../exchange/testdata/autodiscover"

func readAD(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(adCorpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// corpusWant is one request a field of a real Autodiscover answer names,
// and what certsleuth must say of it when the server's certificate does
// not cover its host.
type corpusWant struct {
	// req is the URL the client asks for; a mail connection is written
	// imap://host:993, pop3://host:995 or smtp://host:587.
	req string
	// origins are the fields that name req ("EXCH ASUrl", "GetUserSettings
	// ExternalEwsUrl", "IMAP Server"); the origin shown must be one of them
	// (or, when both scopes carry the name, one of each). nil: no
	// Autodiscover field may be shown as the origin.
	origins []string
	// kind is the origin's kind when it is not an Autodiscover field.
	kind CauseKind
	// command is what the fix must contain (a cmdlet, or a name).
	command string
	// flags are the URL parameters the fixes must set, exactly
	// (-InternalUrl, -ExternalUrl, -InternalHostname, -ExternalHostname).
	flags []string
	// server is the server -Identity must name; "" means the marked
	// <SERVER> placeholder; "-" means no server in the command.
	server string
	// version is the release the command is for ("" is not checked).
	version string
}

// elementCmdlet is the test's own reading of which cmdlet sets each field
// (Microsoft Learn cmdlet reference; KB 940726), kept apart from the
// catalog so that a wrong catalog row fails the corpus test.
var elementCmdlet = map[string]string{
	"ews": "Set-WebServicesVirtualDirectory", "oab": "Set-OabVirtualDirectory", "um": "Set-UMVirtualDirectory",
	"ecp": "Set-EcpVirtualDirectory", "owa": "Set-OwaVirtualDirectory", "mapi": "Set-MapiVirtualDirectory",
	"activesync": "Set-ActiveSyncVirtualDirectory", "oa": "Set-OutlookAnywhere",
	"imap": "Set-ImapSettings", "pop": "Set-PopSettings", "smtp": "Set-ReceiveConnector",
}

// corpusObs builds a trace: the answer on an Autodiscover request, then one
// request per want, each to a server whose certificate covers none of the
// names asked for.
func corpusObs(body string, wants []corpusWant, hdr *record.ExchangeServers) []*record.Observation {
	pki := scenarioCerts(nil)
	adURL := "https://autodiscover.corpus.example/autodiscover/autodiscover.xml"
	if strings.Contains(body, "Envelope") {
		adURL = "https://autodiscover.corpus.example/autodiscover/autodiscover.svc"
	}
	ad := withBody(httpsObs(0, "POST", adURL, 200, pki.leaf("autodiscover.corpus.example", "autodiscover.corpus.example"), "198.51.100.9:443"), body)
	ad.Exchange = hdr
	obs := []*record.Observation{ad}
	wrong := pki.leaf("unrelated.corpus.example", "unrelated.corpus.example")
	for i, w := range wants {
		u, _ := url.Parse(w.req)
		switch u.Scheme {
		case "imap", "pop3", "smtp":
			o := &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: at(i + 1), Client: "10.0.0.20:50000",
				Server: "198.51.100.7:" + u.Port(), SNI: u.Hostname(), TLSVersion: "TLS 1.2", Chain: wrong, Visibility: record.VisVisible}
			if p := u.Port(); p != "993" && p != "995" && p != "465" {
				o.StartTLS = u.Scheme
			}
			obs = append(obs, o)
		default:
			obs = append(obs, httpsObs(i+1, "GET", w.req, 200, wrong, "198.51.100.8:443"))
		}
	}
	return obs
}

// checkCorpus analyses body with each want (a trace of the answer and that
// one request, so that requests a report would group do not hide each
// other) and returns, per want, what is wrong ("" when origin and command
// are right).
func checkCorpus(t testing.TB, body string, wants []corpusWant, hdr *record.ExchangeServers) []string {
	t.Helper()
	out := make([]string, len(wants))
	for i, w := range wants {
		obs := corpusObs(body, []corpusWant{w}, hdr)
		r := Analyze(obs, Options{Roots: scenarioCerts(t).roots, Now: scenarioDay})
		var c *Culprit
		for _, x := range r.Culprits() {
			if x.First.Index == 2 {
				c = x
			}
		}
		if c == nil {
			out[i] = "no warning"
			continue
		}
		out[i] = judgeCulprit(c, w)
	}
	return out
}

// judgeCulprit says what is wrong with c's origin and fix, or "".
func judgeCulprit(c *Culprit, w corpusWant) string {
	var bad []string
	var o *Cause
	if len(c.Origin) > 0 {
		o = &c.Origin[0]
	}
	labels := func(c *Cause) []string {
		cs := []Cause{*c}
		if len(c.Either) > 0 {
			cs = c.Either
		}
		var ls []string
		for _, x := range cs {
			if x.Field != nil {
				ls = append(ls, strings.TrimSpace(x.Field.Block+" "+x.Field.Element))
			}
		}
		return ls
	}
	switch {
	case w.origins == nil && w.kind == "":
		if o != nil && o.Kind == CauseAutodiscoverField {
			bad = append(bad, fmt.Sprintf("origin %v, want none of the answer's fields", labels(o)))
		}
	case w.kind != "":
		if o == nil || o.Kind != w.kind {
			bad = append(bad, fmt.Sprintf("origin %v, want kind %s", o, w.kind))
		}
	case o == nil || o.Kind != CauseAutodiscoverField || o.From != 1:
		bad = append(bad, fmt.Sprintf("origin %+v, want a field of the answer (#1)", o))
	default:
		for _, l := range labels(o) {
			if !slices.Contains(w.origins, l) {
				bad = append(bad, fmt.Sprintf("origin %q, want one of %q", l, w.origins))
			}
		}
	}
	var cmds []string
	flags := map[string]bool{}
	version := ""
	for _, rm := range c.Remedies {
		if w.command == "" || !strings.Contains(rm.Command, w.command) {
			continue
		}
		cmds = append(cmds, rm.Command)
		if version == "" {
			version = rm.Version
		}
		for _, f := range []string{"-InternalUrl", "-ExternalUrl", "-InternalHostname", "-ExternalHostname"} {
			if strings.Contains(rm.Command, f+" ") {
				flags[f] = true
			}
		}
		switch {
		case w.server == "-":
		case w.server == "" && !strings.Contains(rm.Command, "<SERVER>"):
			bad = append(bad, fmt.Sprintf("command %q names a server, want the <SERVER> placeholder", rm.Command))
		case w.server != "" && !strings.Contains(rm.Command, w.server):
			bad = append(bad, fmt.Sprintf("command %q does not name the server %s", rm.Command, w.server))
		}
	}
	if w.command != "" && len(cmds) == 0 {
		var all []string
		for _, rm := range c.Remedies {
			all = append(all, rm.Command)
		}
		bad = append(bad, fmt.Sprintf("no fix contains %q: %q", w.command, all))
	}
	var got []string
	for f := range flags {
		got = append(got, f)
	}
	slices.Sort(got)
	want := slices.Clone(w.flags)
	slices.Sort(want)
	if len(cmds) > 0 && !slices.Equal(got, want) {
		bad = append(bad, fmt.Sprintf("fixes set %v, want %v: %q", got, want, cmds))
	}
	if w.version != "" && len(cmds) > 0 && version != w.version {
		bad = append(bad, fmt.Sprintf("command for Exchange %q, want %s", version, w.version))
	}
	return strings.Join(bad, "; ")
}

// corpus is the table: per real answer (see ../exchange/testdata/autodiscover/SOURCES.md),
// every request its fields name -> the field -> the command, for the
// release the answer reveals.
var corpus = []struct {
	file  string
	hdr   *record.ExchangeServers
	wants []corpusWant
}{
	{file: "real-msdocs-pox-2007.xml", wants: []corpusWant{
		// EXCH and EXPR both name mail.contoso.com: both URLs carry the bad name.
		{req: "https://mail.contoso.com/ews/exchange.asmx", origins: []string{"EXCH ASUrl", "EXCH OOFUrl", "EXPR ASUrl", "EXPR OOFUrl"},
			command: elementCmdlet["ews"], flags: []string{"-InternalUrl", "-ExternalUrl"}, server: "MBX-SERVER", version: "2007"},
		// Exchange 2007's UM web service has its own virtual directory.
		{req: "https://mail.contoso.com/unifiedmessaging/service.asmx", origins: []string{"EXCH UMUrl", "EXPR UMUrl"},
			command: elementCmdlet["um"], flags: []string{"-InternalUrl", "-ExternalUrl"}, server: "MBX-SERVER", version: "2007"},
		// Outlook downloads oab.xml under the OABUrl: the longest path that matches wins.
		{req: "https://mail.contoso.com/OAB/d29844a9-724e-468c-8820-0f7b345b767b/oab.xml", origins: []string{"EXCH OABUrl", "EXPR OABUrl"},
			command: elementCmdlet["oab"], flags: []string{"-InternalUrl", "-ExternalUrl"}, server: "MBX-SERVER", version: "2007"},
		// An internal Client Access server's own name: the server is its first label, not ServerDN's mailbox server.
		{req: "https://cas-02-server.mail.internal.contoso.com/owa", origins: []string{"WEB Internal/OWAUrl"},
			command: elementCmdlet["owa"], flags: []string{"-InternalUrl"}, server: "CAS-02-SERVER", version: "2007"},
		// Exchange 2007 has only -ExternalHostname.
		{req: "https://exchange.contoso.com/rpc/rpcproxy.dll?MBX-SERVER:6001", origins: []string{"EXPR Server"},
			command: elementCmdlet["oa"], flags: []string{"-ExternalHostname"}, server: "MBX-SERVER", version: "2007"},
	}},
	{file: "real-msdocs-pox-2013-guid.xml", wants: []corpusWant{
		// Exchange 2013: Server and ServerDN hold the mailbox GUID, never
		// printed as a server; mail.contoso.com is a service name: <SERVER>.
		// Only internal URLs are in the answer: only -InternalUrl.
		{req: "https://mail.contoso.com/EWS/Exchange.asmx", origins: []string{"EXCH ASUrl", "EXCH EwsUrl", "EXCH EmwsUrl", "EXCH OOFUrl", "WEB Internal/Protocol/ASUrl"},
			command: elementCmdlet["ews"], flags: []string{"-InternalUrl"}, version: "2013"},
		// From 2013 the UM URL is in the EWS virtual directory.
		{req: "https://mail.contoso.com/EWS/UM2007Legacy.asmx", origins: []string{"EXCH UMUrl"},
			command: elementCmdlet["ews"], flags: []string{"-InternalUrl"}, version: "2013"},
		{req: "https://mail.contoso.com/OAB/c21c7bc2-53b3-4ddc-ad89-1219b486c37c/oab.xml", origins: []string{"EXCH OABUrl"},
			command: elementCmdlet["oab"], flags: []string{"-InternalUrl"}, version: "2013"},
		// An EcpUrl fragment is joined to EcpUrl; its longer path wins.
		{req: "https://mail.contoso.com/ecp/PersonalSettings/EditAccount.aspx", origins: []string{"EXCH EcpUrl-photo"},
			command: elementCmdlet["ecp"], flags: []string{"-InternalUrl"}, version: "2013"},
		{req: "https://mail.contoso.com/owa/", origins: []string{"WEB Internal/OWAUrl"},
			command: elementCmdlet["owa"], flags: []string{"-InternalUrl"}, version: "2013"},
		{req: "https://mail.contoso.com/rpc/rpcproxy.dll", origins: []string{"EXPR Server"},
			command: elementCmdlet["oa"], flags: []string{"-ExternalHostname"}, version: "2013"},
	}},
	{file: "real-msdocs-soap-ewsurls-2013.xml", wants: []corpusWant{
		// Exchange 2013 (SOAP header 15.0): the internal URL's host is the
		// server's FQDN by default, so the server is its first label.
		{req: "https://server.contoso.com/ews/exchange.asmx", origins: []string{"GetUserSettings InternalEwsUrl", "GetUserSettings ExternalEwsUrl"},
			command: elementCmdlet["ews"], flags: []string{"-InternalUrl", "-ExternalUrl"}, server: `"SERVER\EWS (Default Web Site)"`, version: "2013"},
	}},
	{file: "real-msdocs-soap-ewsurls-2013.xml", hdr: &record.ExchangeServers{FrontEnd: "EXCH13"}, wants: []corpusWant{
		// The same answer with the X-FEServer header the proxy recorded.
		{req: "https://server.contoso.com/ews/exchange.asmx", origins: []string{"GetUserSettings InternalEwsUrl", "GetUserSettings ExternalEwsUrl"},
			command: elementCmdlet["ews"], flags: []string{"-InternalUrl", "-ExternalUrl"}, server: `"EXCH13\EWS (Default Web Site)"`, version: "2013"},
	}},
	{file: "real-exchangelib-soap-settings.xml", wants: []corpusWant{
		{req: "https://expr.example.com/EWS/Exchange.asmx", origins: []string{"GetUserSettings ExternalEwsUrl"},
			command: elementCmdlet["ews"], flags: []string{"-ExternalUrl"}},
	}},
	{file: "real-mailinabox-pox-imap-smtp.xml", wants: []corpusWant{
		{req: "imap://box.example.com:993", origins: []string{"IMAP Server"}, command: elementCmdlet["imap"], server: "-"},
		// The name came from Autodiscover: the answer is what to change first.
		{req: "imap://box.example.com:993", origins: []string{"IMAP Server"}, command: "change the IMAP block's Server from box.example.com", server: "-"},
		{req: "smtp://box.example.com:587", origins: []string{"SMTP Server"}, command: elementCmdlet["smtp"], server: "-"},
		// The same host on another port or protocol is not the IMAP block's.
		{req: "smtp://box.example.com:25"},
		{req: "pop3://box.example.com:995"},
		// Nor is a web request to it.
		{req: "https://box.example.com/mail/"},
	}},
	{file: "real-mailinabox-mobilesync.xml", wants: []corpusWant{
		// The client appends the ActiveSync path to a Url that has none.
		{req: "https://box.example.com/Microsoft-Server-ActiveSync?Cmd=Sync", origins: []string{"MobileSync Url", "MobileSync Name"},
			command: elementCmdlet["activesync"], flags: []string{"-ExternalUrl"}},
	}},
	{file: "real-msdocs-soap-redirectaddress.xml", wants: []corpusWant{
		// A redirect by address: the client runs Autodiscover again for the new domain.
		{req: "https://autodiscover.mail.contoso.com/autodiscover/autodiscover.svc", kind: CauseRedirectAddr,
			command: "autodiscover.mail.contoso.com", server: "-"},
		{req: "https://mail.contoso.com/autodiscover/autodiscover.svc", kind: CauseRedirectAddr,
			command: "https://mail.contoso.com/autodiscover/", server: "-"},
	}},
}

// TestMailCulpritsByProtocol: an SMTP and an IMAP connection to one host
// that warn alike are two culprits, each with its own protocol's fix; two
// IMAP connections to it are one. No answer names the host, so nothing but
// the protocol and port tells the connections apart.
func TestMailCulpritsByProtocol(t *testing.T) {
	wants := []corpusWant{{req: "smtp://box.example.com:587"}, {req: "imap://box.example.com:993"}, {req: "imap://box.example.com:993"}}
	obs := corpusObs(readAD(t, "real-msdocs-pox-error-600.xml"), wants, nil)
	r := Analyze(obs, Options{Roots: scenarioCerts(t).roots, Now: scenarioDay})
	cs := r.Culprits()
	if len(cs) != 2 {
		t.Fatalf("%d culprits, want 2 (SMTP, IMAP)", len(cs))
	}
	for i, want := range []string{"Set-ReceiveConnector", "Set-ImapSettings"} {
		found := false
		for _, rm := range cs[i].Remedies {
			found = found || strings.Contains(rm.Command, want)
		}
		if !found {
			t.Errorf("culprit %d (%s): no %s fix in %+v", i, MailProtocol(cs[i].First.Obs), want, cs[i].Remedies)
		}
	}
	if cs[1].Requests != 2 {
		t.Errorf("IMAP culprit has %d requests, want 2", cs[1].Requests)
	}
}

// TestCorpusBodiesParse: every real answer parses.
func TestCorpusBodiesParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(adCorpusDir, "real-*"))
	if err != nil || len(files) < 9 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exchange.ParseAutodiscover("", string(b)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestCorpus: per real answer, every request a field names is traced to
// that field and gets that field's command, with the right -InternalUrl /
// -ExternalUrl and a real server name or the marked placeholder.
func TestCorpus(t *testing.T) {
	for i, tt := range corpus {
		t.Run(strconv.Itoa(i)+"-"+tt.file, func(t *testing.T) {
			got := checkCorpus(t, readAD(t, tt.file), tt.wants, tt.hdr)
			for j, w := range tt.wants {
				if got[j] != "" {
					t.Errorf("%s: %s", w.req, got[j])
				}
			}
		})
	}
}

// TestSameURLTwoSettings: when two settings' fields give the very same URL
// (Exchange 2016 and later return OWA's URL as EcpUrl), the request goes
// to the one whose virtual directory serves its path: /owa/ is OWA's. A
// field whose value is the URL beats one that is only a prefix of it.
func TestSameURLTwoSettings(t *testing.T) {
	body := `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>settings</Action>` +
		`<Protocol><Type>EXHTTP</Type><Server>mail.contoso.com</Server><EcpUrl>https://mail.contoso.com/owa/</EcpUrl><EcpUrl-photo>?path=/options/myaccount/action/photo</EcpUrl-photo></Protocol>` +
		`<Protocol><Type>WEB</Type><Internal><OWAUrl AuthenticationMethod="Fba">https://mail.contoso.com/owa/</OWAUrl></Internal>` +
		`<External><OWAUrl AuthenticationMethod="Fba">https://mail.contoso.com/owa/contoso.com/</OWAUrl></External></Protocol></Account></Response></Autodiscover>`
	wants := []corpusWant{
		{req: "https://mail.contoso.com/owa/", origins: []string{"WEB Internal/OWAUrl"}, command: elementCmdlet["owa"], flags: []string{"-InternalUrl"}, server: "-"},
		// The external OWAUrl is this URL; the internal one only a prefix of
		// it: not equal candidates, so only the external one is changed
		// (as Exchange Online answers: .../owa/<domain>/ outside, /owa/ inside).
		{req: "https://mail.contoso.com/owa/contoso.com/", origins: []string{"WEB External/OWAUrl"}, command: elementCmdlet["owa"], flags: []string{"-ExternalUrl"}, server: "-"},
		// The exact fragment URL is EcpUrl-photo's.
		{req: "https://mail.contoso.com/owa/?path=/options/myaccount/action/photo", origins: []string{"EXHTTP EcpUrl-photo"}, command: elementCmdlet["ecp"], flags: []string{"-InternalUrl"}, server: "-"},
	}
	for i, got := range checkCorpus(t, body, wants, nil) {
		if got != "" {
			t.Errorf("%s: %s", wants[i].req, got)
		}
	}
}

// TestNoAnswerKnownPath: a request whose URL no answer in the trace names
// still gets its virtual directory's fix when the path is one Exchange
// serves (issue 13 point 11: replay of a proxy trace that saw only the EWS
// request).
func TestNoAnswerKnownPath(t *testing.T) {
	body := readAD(t, "real-msdocs-pox-error-600.xml") // an answer with no URL in it
	wants := []corpusWant{
		{req: "https://exch01.contoso.local/EWS/Exchange.asmx", kind: CauseURLPath, command: `Set-WebServicesVirtualDirectory -Identity "EXCH01\EWS (Default Web Site)" -InternalUrl`, flags: []string{"-InternalUrl"}, server: "EXCH01"},
		{req: "https://mail.contoso.com/OAB/1b2c/oab.xml", kind: CauseURLPath, command: "Get-OabVirtualDirectory -Server <SERVER> | Set-OabVirtualDirectory -ExternalUrl", flags: []string{"-ExternalUrl"}},
		{req: "https://mail.contoso.com/mapi/emsmdb/?MailboxId=x@contoso.com", kind: CauseURLPath, command: "Set-MapiVirtualDirectory", flags: []string{"-ExternalUrl"}},
		{req: "https://mail.contoso.com/Microsoft-Server-ActiveSync?Cmd=Ping", kind: CauseURLPath, command: "Set-ActiveSyncVirtualDirectory", flags: []string{"-ExternalUrl"}},
		{req: "https://mail.contoso.com/rpc/rpcproxy.dll", kind: CauseURLPath, command: "Set-OutlookAnywhere", flags: []string{"-ExternalHostname"}},
		{req: "https://mail.contoso.com/owa/", kind: CauseURLPath, command: "Set-OwaVirtualDirectory", flags: []string{"-ExternalUrl"}},
		{req: "https://mail.contoso.com/ecp/", kind: CauseURLPath, command: "Set-EcpVirtualDirectory", flags: []string{"-ExternalUrl"}},
		// A path Exchange does not serve: no Exchange command.
		{req: "https://www.contoso.com/index.html", kind: CauseUnknown},
	}
	for i, got := range checkCorpus(t, body, wants, nil) {
		if got != "" {
			t.Errorf("%s: %s", wants[i].req, got)
		}
	}
}

// TestMicrosoft365Names: a warning on a Microsoft 365 name gets no
// on-premises command: the certificate is Microsoft's and the cause is
// local. A hybrid answer that redirects the mailbox to
// <tenant>.mail.onmicrosoft.com is named as such.
func TestMicrosoft365Names(t *testing.T) {
	hybrid := strings.Replace(readAD(t, "pox-redirectaddr.xml"), "alice@contoso.mail.example", "alice@contoso.mail.onmicrosoft.com", 1)
	if !strings.Contains(hybrid, "onmicrosoft") {
		t.Fatal("fixture changed: no redirect address to replace")
	}
	for _, tc := range []struct {
		body, req string
		want      []string
	}{
		{hybrid, "https://autodiscover.contoso.mail.onmicrosoft.com/autodiscover/autodiscover.xml",
			[]string{"a Microsoft 365 server", "no on-premises Exchange command fixes it", "hybrid Autodiscover answer redirected the mailbox to Exchange Online"}},
		{readAD(t, "real-msdocs-pox-error-600.xml"), "https://outlook.office365.com/EWS/Exchange.asmx",
			[]string{"a Microsoft 365 server", "TLS-inspecting proxy"}},
		{readAD(t, "real-msdocs-pox-error-600.xml"), "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml",
			[]string{"a Microsoft 365 server"}},
	} {
		obs := corpusObs(tc.body, []corpusWant{{req: tc.req}}, nil)
		r := Analyze(obs, Options{Roots: scenarioCerts(t).roots, Now: scenarioDay})
		cs := r.Culprits()
		if len(cs) != 1 {
			t.Fatalf("%s: %d culprits", tc.req, len(cs))
		}
		for _, w := range tc.want {
			if !strings.Contains(cs[0].Verdict, w) {
				t.Errorf("%s: verdict lacks %q: %s", tc.req, w, cs[0].Verdict)
			}
		}
		for _, rm := range cs[0].Remedies {
			if strings.Contains(rm.Command, "Set-") || strings.Contains(rm.Command, "Enable-") {
				t.Errorf("%s: on-premises command for a Microsoft 365 name: %s", tc.req, rm.Command)
			}
		}
	}
}

// TestDNSFixNamesTheClientsDomain: the autodiscover.<domain> fix names the
// domain of the warned host, not another domain the trace knows.
func TestDNSFixNamesTheClientsDomain(t *testing.T) {
	// The answer teaches contoso.com (its mailbox); the client then tries
	// autodiscover.fabrikam.com for another mailbox.
	body := readAD(t, "pox-2006a-full.xml")
	for _, tc := range []struct{ req, want, not string }{
		{"https://autodiscover.fabrikam.com/autodiscover/autodiscover.xml", "point autodiscover.fabrikam.com", "contoso.com"},
		{"https://autodiscover.contoso.com/autodiscover/autodiscover.xml", "point autodiscover.contoso.com", "fabrikam"},
	} {
		obs := corpusObs(body, []corpusWant{{req: tc.req}}, nil)
		obs[0].URL = "https://mail.tailspintoys.com/autodiscover/autodiscover.xml" // the answer came from elsewhere
		r := Analyze(obs, Options{Roots: scenarioCerts(t).roots, Now: scenarioDay})
		cs := r.Culprits()
		if len(cs) != 1 || len(cs[0].Remedies) == 0 {
			t.Fatalf("%s: %d culprits", tc.req, len(cs))
		}
		cmd := cs[0].Remedies[0].Command
		if !strings.Contains(cmd, tc.want) || strings.Contains(cmd, tc.not) {
			t.Errorf("%s: fix %q, want %q and no %q", tc.req, cmd, tc.want, tc.not)
		}
	}
}

// testSetting is the test's own reading of which setting produces a field,
// from its element name alone (reference D.6; KB 940726; Microsoft Learn
// "Set-UMVirtualDirectory" for UM from 2013 on), kept apart from the
// parser's table.
func testSetting(f exchange.ADField, release string) string {
	el := strings.ToLower(f.Element)
	if i := strings.LastIndexByte(el, '/'); i >= 0 {
		el = el[i+1:]
	}
	for _, p := range []string{"internal", "external", "interopexternal"} {
		if f.Form == exchange.FormSOAP {
			el = strings.TrimPrefix(el, p)
		}
	}
	switch {
	case f.Block == "IMAP":
		return "imap"
	case f.Block == "POP3":
		return "pop"
	case f.Block == "SMTP":
		return "smtp"
	case f.Block == "MobileSync":
		return "activesync"
	case f.Block == "mapiHttp":
		return "mapi"
	case el == "server" || el == "mailboxserver":
		return "oa"
	case el == "umurl" && release != "2007" && release != "2010":
		return "ews" // /EWS/UM2007Legacy.asmx from 2013 on
	case el == "umurl":
		return "um"
	case el == "oaburl":
		return "oab"
	case strings.HasPrefix(el, "ecp"):
		return "ecp"
	case el == "owaurl" || el == "webclienturls":
		return "owa"
	}
	return "ews" // ASUrl, EwsUrl, EmwsUrl, OOFUrl, SharingUrl, EwsPartnerUrl
}

// TestCorpusEveryField: every request any field of a real answer names is
// traced to a field with that value and gets that field's command, with
// -InternalUrl / -ExternalUrl exactly as the answer's fields with that
// value are internal or external.
func TestCorpusEveryField(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(adCorpusDir, "real-*"))
	n := 0
	for _, file := range files {
		body := readAD(t, filepath.Base(file))
		a, err := exchange.ParseAutodiscover("", body)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var wants []corpusWant
		seen := map[string]bool{}
		for _, f := range a.Fields {
			req := f.Value
			switch {
			case f.Port != 0:
				req = map[string]string{"IMAP": "imap", "POP3": "pop3", "SMTP": "smtp"}[f.Block] + "://" + f.Value + ":" + strconv.Itoa(f.Port)
			case !strings.Contains(f.Value, "://"):
				req = "https://" + f.Value + "/rpc/rpcproxy.dll"
			}
			if seen[req] {
				continue
			}
			seen[req] = true
			w := corpusWant{req: req, command: elementCmdlet[testSetting(f, a.Version)], server: "-"}
			flags := map[string]bool{}
			for _, g := range a.Fields {
				if !strings.EqualFold(fullURL(g.Value), fullURL(f.Value)) || g.Value == "" || testSetting(g, a.Version) != testSetting(f, a.Version) {
					if !(g.Port == 0 && f.Port == 0 && !strings.Contains(f.Value, "://") && strings.EqualFold(g.Value, f.Value)) {
						continue
					}
				}
				w.origins = append(w.origins, strings.TrimSpace(g.Block+" "+g.Element))
				switch set := testSetting(g, a.Version); {
				case set == "imap" || set == "pop" || set == "smtp":
				case set == "activesync" && g.Scope == exchange.ScopeNone:
					flags["-ExternalUrl"] = true
				case set == "oa" && g.Scope == exchange.ScopeInternal && a.Version != "2007" && a.Version != "2010":
					flags["-InternalHostname"] = true
				case set == "oa":
					flags["-ExternalHostname"] = true
				case g.Scope == exchange.ScopeInternal:
					flags["-InternalUrl"] = true
				default:
					flags["-ExternalUrl"] = true
				}
			}
			for fl := range flags {
				w.flags = append(w.flags, fl)
			}
			wants = append(wants, w)
		}
		for i, got := range checkCorpus(t, body, wants, nil) {
			n++
			if got != "" {
				t.Errorf("%s: %s: %s", filepath.Base(file), wants[i].req, got)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d requests checked", n)
	}
	t.Logf("%d requests, one per distinct field value", n)
}
