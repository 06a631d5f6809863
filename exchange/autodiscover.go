package exchange

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/certsleuth/certsleuth/record"
)

// AutodiscoverForm names the form of an Autodiscover answer.
type AutodiscoverForm string

// The Autodiscover answer forms certsleuth reads.
const (
	FormPOX        AutodiscoverForm = "pox"        // Outlook POX, responseschema 2006/2006a (MS-OXDSCLI)
	FormMobileSync AutodiscoverForm = "mobilesync" // ActiveSync, mobilesync responseschema 2006 (MS-ASCMD §2.2.1.1)
	FormSOAP       AutodiscoverForm = "soap"       // SOAP GetUserSettings (MS-OXWSADISC)
	FormV2         AutodiscoverForm = "v2"         // Autodiscover v2 JSON ({"Protocol","Url"})
)

// Scope says whether a URL is meant for clients inside or outside the network.
type Scope string

// The scopes.
const (
	ScopeInternal Scope = "internal"
	ScopeExternal Scope = "external"
	ScopeNone     Scope = "" // not stated (mobilesync, v2)
)

// ADField is one URL or host name an Autodiscover answer gave the client:
// where in the answer it was, and the Exchange setting that produces it.
type ADField struct {
	Form    AutodiscoverForm `json:"form"`
	Block   string           `json:"block"`           // protocol block: EXCH, EXPR, WEB, EXHTTP, mapiHttp, MobileSync, GetUserSettings, v2 protocol
	Element string           `json:"element"`         // e.g. "EwsUrl", "MailStore/InternalUrl", "Internal/OWAUrl", "InternalEwsUrl", "Url", "Server"
	Scope   Scope            `json:"scope,omitempty"` // internal or external, when the answer says
	Value   string           `json:"value"`           // the URL, or the host name for Server elements
	Setting string           `json:"setting"`         // catalog key of the Exchange setting (see Settings); "" when none
	// Port is the port a mail block (IMAP, POP3, SMTP) names; 0 otherwise.
	Port int `json:"port,omitempty"`
}

// Host returns the host name the field sends the client to, lower case,
// without port; "" when it names none.
func (f ADField) Host() string {
	if !strings.Contains(f.Value, "://") {
		return strings.ToLower(record.HostOnly(strings.TrimSpace(f.Value)))
	}
	u, err := url.Parse(strings.TrimSpace(f.Value))
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// Label is the field in words: "EXCH EwsUrl (internal)".
func (f ADField) Label() string {
	s := f.Block + " " + f.Element
	if f.Block == "" {
		s = f.Element
	}
	if f.Scope != ScopeNone && !strings.Contains(strings.ToLower(f.Element), string(f.Scope)) {
		s += " (" + string(f.Scope) + ")"
	}
	return s
}

// ADPrincipal is an Outlook Anywhere server and the certificate principal
// Outlook will require of it (EXPR or EXHTTP block).
type ADPrincipal struct {
	Block     string `json:"block"`                         // EXPR or EXHTTP
	Server    string `json:"server"`                        // the Outlook Anywhere host name
	Principal string `json:"cert_principal_name,omitempty"` // CertPrincipalName as sent; "" when absent
	SSL       string `json:"ssl,omitempty"`
	Scope     Scope  `json:"scope,omitempty"`
}

// Effective returns the principal Outlook checks: CertPrincipalName, or
// msstd:<Server> when it is absent (Microsoft Learn "CertPrincipalName (POX)"). It returns ""
// for "none" (Windows does its own check).
func (p ADPrincipal) Effective() string {
	v := strings.TrimSpace(p.Principal)
	switch {
	case v == "":
		return "msstd:" + p.Server
	case strings.EqualFold(v, "none"):
		return ""
	}
	return v
}

// Autodiscover is one parsed Autodiscover answer.
type Autodiscover struct {
	Form   AutodiscoverForm `json:"form"`
	Action string           `json:"action,omitempty"` // settings, redirectUrl, redirectAddr (POX); Redirect (mobilesync); RedirectUrl/RedirectAddress (SOAP)
	// RedirectURL and RedirectAddr are set for redirect answers.
	RedirectURL  string `json:"redirect_url,omitempty"`
	RedirectAddr string `json:"redirect_addr,omitempty"`
	// Email is the mailbox the answer is for, when it says.
	Email string `json:"email,omitempty"`
	// Fields are the URLs and hosts, in document order.
	Fields []ADField `json:"fields,omitempty"`
	// Principals are the Outlook Anywhere servers with their principal names.
	Principals []ADPrincipal `json:"principals,omitempty"`
	// ServerVersion is the EXCH block's ServerVersion (hex) or the SOAP
	// CasVersion; Version is the Exchange release it decodes to.
	ServerVersion string `json:"server_version,omitempty"`
	Version       string `json:"exchange_version,omitempty"`
	// ServerName is the Exchange server's name when the answer gives it
	// (EXCH ServerDN's last cn=, or an EXCH Server that is a host name).
	ServerName string `json:"server_name,omitempty"`
	// ErrorCode and ErrorMessage are set for error answers.
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
}

// maxAutodiscoverBody bounds what the parsers read.
const maxAutodiscoverBody = 4 << 20

// ParseAutodiscover parses an Autodiscover answer of any form. contentType
// may be empty; the form is recognised from the body. It never panics; a
// body that is not an Autodiscover answer gives an error saying why.
func ParseAutodiscover(contentType, body string) (*Autodiscover, error) {
	b := strings.TrimSpace(strings.TrimPrefix(body, "\ufeff"))
	if b == "" {
		return nil, errors.New("parse autodiscover: empty body")
	}
	if len(b) > maxAutodiscoverBody {
		return nil, fmt.Errorf("parse autodiscover: body of %d bytes is larger than %d", len(b), maxAutodiscoverBody)
	}
	if b[0] == '{' || strings.Contains(strings.ToLower(contentType), "json") {
		return parseV2(b)
	}
	root, err := parseXMLTree(b)
	if err != nil {
		return nil, fmt.Errorf("parse autodiscover: %w", err)
	}
	switch root.name {
	case "Envelope":
		return parseSOAP(root)
	case "Autodiscover":
		resp := root.child("Response")
		if resp == nil {
			if root.child("Request") != nil {
				return nil, errors.New("parse autodiscover: this is a request, not a response")
			}
			return nil, errors.New("parse autodiscover: no Response element")
		}
		if strings.Contains(strings.ToLower(resp.space), "mobilesync") || resp.child("Action") != nil {
			return parseMobileSync(resp)
		}
		return parsePOX(resp)
	}
	return nil, fmt.Errorf("parse autodiscover: root element <%s> is neither Autodiscover nor a SOAP Envelope", root.name)
}

// xnode is a namespace-agnostic XML element.
type xnode struct {
	name, space string
	attr        map[string]string
	kids        []*xnode
	text        strings.Builder
}

func (n *xnode) child(name string) *xnode {
	for _, k := range n.kids {
		if strings.EqualFold(k.name, name) {
			return k
		}
	}
	return nil
}

func (n *xnode) children(name string) []*xnode {
	var out []*xnode
	for _, k := range n.kids {
		if strings.EqualFold(k.name, name) {
			out = append(out, k)
		}
	}
	return out
}

// path follows child names; nil when any is missing.
func (n *xnode) path(names ...string) *xnode {
	for _, nm := range names {
		if n == nil {
			return nil
		}
		n = n.child(nm)
	}
	return n
}

func (n *xnode) value() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.text.String())
}

const (
	maxXMLDepth = 64
	maxXMLNodes = 20000
)

func parseXMLTree(s string) (*xnode, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		// Exchange writes utf-8; accept the common labels that are ASCII-compatible.
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "windows-1252":
			return r, nil
		}
		return nil, fmt.Errorf("unsupported charset %q", label)
	}
	var stack []*xnode
	var root *xnode
	nodes := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			nodes++
			if nodes > maxXMLNodes {
				return nil, fmt.Errorf("malformed XML: more than %d elements", maxXMLNodes)
			}
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("malformed XML: nested deeper than %d", maxXMLDepth)
			}
			n := &xnode{name: t.Name.Local, space: t.Name.Space, attr: map[string]string{}}
			for _, a := range t.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("malformed XML: more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("malformed XML: no element")
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("malformed XML: <%s> is not closed", stack[len(stack)-1].name)
	}
	return root, nil
}

// poxURLSetting maps the URL elements of EXCH/EXPR blocks to the Exchange
// setting that produces them (reference D.6).
var poxURLSetting = map[string]string{
	"asurl": SettingEWS, "ewsurl": SettingEWS, "emwsurl": SettingEWS, "oofurl": SettingEWS,
	"ewspartnerurl": SettingEWS, "sharingurl": SettingEWS,
	"oaburl": SettingOAB, "umurl": SettingUM, "ecpurl": SettingECP,
}

func parsePOX(resp *xnode) (*Autodiscover, error) {
	a := &Autodiscover{Form: FormPOX}
	if e := resp.child("Error"); e != nil {
		a.ErrorCode = e.child("ErrorCode").value()
		a.ErrorMessage = e.child("Message").value()
		if a.ErrorCode == "" {
			a.ErrorCode = "error"
		}
		return a, nil
	}
	if u := resp.child("User"); u != nil {
		a.Email = u.child("AutoDiscoverSMTPAddress").value()
	}
	acct := resp.child("Account")
	if acct == nil {
		return nil, errors.New("parse autodiscover: POX response has neither Account nor Error")
	}
	a.Action = acct.child("Action").value()
	switch strings.ToLower(a.Action) {
	case "redirecturl":
		a.RedirectURL = acct.child("RedirectUrl").value()
		if a.RedirectURL == "" {
			return a, errors.New("parse autodiscover: Action redirectUrl without a RedirectUrl")
		}
		return a, nil
	case "redirectaddr":
		a.RedirectAddr = acct.child("RedirectAddr").value()
		if a.RedirectAddr == "" {
			return a, errors.New("parse autodiscover: Action redirectAddr without a RedirectAddr")
		}
		return a, nil
	}
	var exprServer string
	var exhttp []*xnode
	for _, p := range acct.children("Protocol") {
		switch strings.ToUpper(p.child("Type").value()) {
		case "EXPR":
			exprServer = p.child("Server").value()
		case "EXHTTP":
			exhttp = append(exhttp, p)
		}
	}
	// exhttpScope says which EXHTTP block is which. Exchange 2013 and later
	// write one per Outlook Anywhere host name, the internal one first
	// (InternalHostname is set at setup, ExternalHostname only when the
	// admin sets it): a lone block is the internal one, unless it names
	// the EXPR server (reference D.2).
	exhttpScope := func(p *xnode) Scope {
		srv := p.child("Server").value()
		if exprServer != "" && strings.EqualFold(srv, exprServer) {
			return ScopeExternal
		}
		if len(exhttp) >= 2 && p != exhttp[0] {
			return ScopeExternal
		}
		return ScopeInternal
	}
	for _, p := range acct.children("Protocol") {
		typ := p.child("Type").value()
		if typ == "" {
			typ = p.attr["Type"]
		}
		switch strings.ToUpper(typ) {
		case "EXCH", "EXPR", "EXHTTP":
			block := strings.ToUpper(typ)
			scope := ScopeInternal
			switch block {
			case "EXPR":
				scope = ScopeExternal
			case "EXHTTP":
				scope = exhttpScope(p)
			}
			a.Fields = append(a.Fields, poxURLFields(p, block, scope)...)
			if block == "EXCH" {
				if v := p.child("ServerVersion").value(); v != "" {
					a.ServerVersion = v
					a.Version = VersionFromHex(v)
				}
				// From Exchange 2013 on, Server and ServerDN name the
				// mailbox's GUID (<guid>@<domain>), not a server: only a
				// 2007 or 2010 answer names the server there.
				if a.Version == "2007" || a.Version == "2010" || a.Version == "" {
					if dn := lastCN(p.child("ServerDN").value()); IsServerName(dn) {
						a.ServerName = dn
					}
					if srv := p.child("Server").value(); a.ServerName == "" && IsServerName(srv) {
						a.ServerName = strings.ToUpper(strings.SplitN(srv, ".", 2)[0])
					}
				}
			}
			if block == "EXPR" || block == "EXHTTP" {
				if srv := p.child("Server").value(); srv != "" {
					a.Fields = append(a.Fields, ADField{Form: FormPOX, Block: block, Element: "Server", Scope: scope, Value: srv, Setting: SettingOutlookAnywhere})
					a.Principals = append(a.Principals, ADPrincipal{Block: block, Server: srv, Principal: p.child("CertPrincipalName").value(), SSL: p.child("SSL").value(), Scope: scope})
				}
			}
		case "IMAP", "POP3", "SMTP":
			// Internet mail blocks ([MS-OXDSCLI] Protocol element, Type; Server,
			// Port): the client connects to Server on Port with that protocol.
			srv := p.child("Server").value()
			if srv == "" || strings.ContainsAny(srv, "/@ ") {
				continue
			}
			port, _ := strconv.Atoi(p.child("Port").value())
			if port < 0 || port > 65535 {
				port = 0
			}
			a.Fields = append(a.Fields, ADField{Form: FormPOX, Block: strings.ToUpper(typ), Element: "Server", Value: srv, Port: port, Setting: poxMailSetting[strings.ToUpper(typ)]})
		case "WEB":
			for _, sc := range []Scope{ScopeInternal, ScopeExternal} {
				blk := p.child(string(sc))
				if blk == nil {
					continue
				}
				for _, k := range blk.kids {
					if strings.EqualFold(k.name, "OWAUrl") && isAbsURL(k.value()) {
						a.Fields = append(a.Fields, ADField{Form: FormPOX, Block: "WEB", Element: blk.name + "/OWAUrl", Scope: sc, Value: k.value(), Setting: SettingOWA})
					}
					if strings.EqualFold(k.name, "Protocol") {
						if u := k.child("ASUrl").value(); isAbsURL(u) {
							a.Fields = append(a.Fields, ADField{Form: FormPOX, Block: "WEB", Element: blk.name + "/Protocol/ASUrl", Scope: sc, Value: u, Setting: SettingEWS})
						}
					}
				}
			}
		case "MAPIHTTP":
			for _, part := range []string{"MailStore", "AddressBook"} {
				blk := p.child(part)
				if blk == nil {
					continue
				}
				for _, el := range []string{"InternalUrl", "ExternalUrl"} {
					if u := blk.child(el).value(); isAbsURL(u) {
						sc := ScopeInternal
						if el == "ExternalUrl" {
							sc = ScopeExternal
						}
						a.Fields = append(a.Fields, ADField{Form: FormPOX, Block: "mapiHttp", Element: part + "/" + el, Scope: sc, Value: u, Setting: SettingMAPI})
					}
				}
			}
		}
	}
	return a, nil
}

// poxMailSetting maps a POX mail block's Type to the catalog row of the
// certificate that service presents.
var poxMailSetting = map[string]string{"IMAP": SettingIMAP, "POP3": SettingPOP, "SMTP": SettingSMTP}

// poxURLFields reads the URL elements of an EXCH, EXPR or EXHTTP block.
func poxURLFields(p *xnode, block string, scope Scope) []ADField {
	var out []ADField
	ecp := p.child("EcpUrl").value()
	for _, k := range p.kids {
		lk := strings.ToLower(k.name)
		if set, ok := poxURLSetting[lk]; ok && isAbsURL(k.value()) {
			out = append(out, ADField{Form: FormPOX, Block: block, Element: k.name, Scope: scope, Value: k.value(), Setting: urlSetting(set, k.value())})
		}
		// EcpUrl-um, EcpUrl-photo, ...: fragments appended to EcpUrl
		// (Microsoft Learn "Protocol (POX)"), so they send the client to EcpUrl's host.
		if strings.HasPrefix(lk, "ecpurl-") && isAbsURL(ecp) && k.value() != "" && !isAbsURL(k.value()) && isAbsURL(ecp+k.value()) {
			out = append(out, ADField{Form: FormPOX, Block: block, Element: k.name, Scope: scope, Value: ecp + k.value(), Setting: SettingECP})
		}
	}
	return out
}

// urlSetting corrects a field's setting from its URL: from Exchange 2013
// on, UMUrl points into the EWS virtual directory (/EWS/UM2007Legacy.asmx)
// and Set-UMVirtualDirectory no longer exists (Microsoft Learn
// "Set-UMVirtualDirectory": Exchange Server 2010 only), so a UM URL under
// /EWS/ is the EWS virtual directory's.
func urlSetting(set, u string) string {
	if set != SettingUM {
		return set
	}
	if _, p, _ := URLHostPath(u); strings.HasPrefix(p, "/ews/") {
		return SettingEWS
	}
	return set
}

// IsServerName reports whether s can be an Exchange server's name (a
// NetBIOS name or host name), not a mailbox GUID (<guid>@<domain>, Exchange
// 2013 and later) or an address.
func IsServerName(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "@/\\ ") {
		return false
	}
	first := strings.SplitN(s, ".", 2)[0]
	return !looksLikeGUID(first)
}

// looksLikeGUID reports whether s is a GUID (8-4-4-4-12 hex digits).
func looksLikeGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func parseMobileSync(resp *xnode) (*Autodiscover, error) {
	a := &Autodiscover{Form: FormMobileSync}
	if u := resp.child("User"); u != nil {
		a.Email = u.child("EMailAddress").value()
	}
	act := resp.child("Action")
	if act == nil {
		if e := resp.child("Error"); e != nil {
			a.ErrorCode = cmp.Or(e.child("ErrorCode").value(), e.child("Status").value(), "error")
			a.ErrorMessage = e.child("Message").value()
			return a, nil
		}
		return nil, errors.New("parse autodiscover: mobilesync response has no Action")
	}
	if r := act.child("Redirect"); r != nil {
		a.Action = "Redirect"
		a.RedirectAddr = r.value()
		return a, nil
	}
	if e := act.child("Error"); e != nil {
		a.ErrorCode = cmp.Or(e.child("ErrorCode").value(), e.child("Status").value(), "error")
		a.ErrorMessage = e.child("Message").value()
		return a, nil
	}
	set := act.child("Settings")
	if set == nil {
		return nil, errors.New("parse autodiscover: mobilesync Action has no Settings, Redirect or Error")
	}
	a.Action = "settings"
	for _, s := range set.children("Server") {
		typ := s.child("Type").value()
		if !strings.EqualFold(typ, "MobileSync") {
			continue
		}
		for _, el := range []string{"Url", "Name"} {
			if u := s.child(el).value(); isAbsURL(u) {
				a.Fields = append(a.Fields, ADField{Form: FormMobileSync, Block: "MobileSync", Element: el, Value: u, Setting: SettingActiveSync})
			}
		}
	}
	return a, nil
}

// soapSetting maps GetUserSettings names to Exchange settings (reference D.4, D.6).
func soapSetting(name string) (string, Scope) {
	n := strings.ToLower(name)
	sc := ScopeNone
	switch {
	case strings.HasPrefix(n, "internal"):
		sc, n = ScopeInternal, strings.TrimPrefix(n, "internal")
	case strings.HasPrefix(n, "external"):
		sc, n = ScopeExternal, strings.TrimPrefix(n, "external")
	case strings.HasPrefix(n, "interopexternal"):
		sc, n = ScopeExternal, strings.TrimPrefix(n, "interopexternal")
	}
	switch {
	case n == "ewsurl":
		return SettingEWS, sc
	case n == "oaburl":
		return SettingOAB, sc
	case n == "umurl":
		return SettingUM, sc
	case strings.HasPrefix(n, "ecp") && strings.HasSuffix(n, "url"):
		return SettingECP, sc
	case n == "webclienturls":
		return SettingOWA, sc
	case n == "mailboxserver" && sc == ScopeExternal:
		return SettingOutlookAnywhere, sc
	case n == "mapihttpurl" || n == "mailboxserverurl":
		return SettingMAPI, sc
	}
	return "", sc
}

func parseSOAP(env *xnode) (*Autodiscover, error) {
	a := &Autodiscover{Form: FormSOAP}
	// The SOAP header's ServerVersionInfo names the release that answered
	// (MS-OXWSADISC ServerVersionInfo: MajorVersion, MinorVersion,
	// MajorBuildNumber); a CasVersion setting, when asked for, overrides it.
	if v := env.path("Header", "ServerVersionInfo"); v != nil {
		maj, err1 := strconv.Atoi(v.child("MajorVersion").value())
		min, err2 := strconv.Atoi(v.child("MinorVersion").value())
		build, _ := strconv.Atoi(v.child("MajorBuildNumber").value())
		if err1 == nil && err2 == nil {
			a.ServerVersion = fmt.Sprintf("%d.%d.%d", maj, min, build)
			a.Version = exchangeRelease(maj, min, build)
		}
	}
	body := env.child("Body")
	if body == nil {
		return nil, errors.New("parse autodiscover: SOAP envelope has no Body")
	}
	if f := body.child("Fault"); f != nil {
		a.ErrorCode = cmp.Or(f.child("faultcode").value(), f.path("Code", "Value").value(), "Fault")
		a.ErrorMessage = cmp.Or(f.child("faultstring").value(), f.path("Reason", "Text").value())
		return a, nil
	}
	msg := body.child("GetUserSettingsResponseMessage")
	if msg == nil {
		return nil, errors.New("parse autodiscover: SOAP body has no GetUserSettingsResponseMessage")
	}
	resp := msg.child("Response")
	if resp == nil {
		return nil, errors.New("parse autodiscover: GetUserSettingsResponseMessage has no Response")
	}
	if ec := resp.child("ErrorCode").value(); ec != "" && ec != "NoError" {
		a.ErrorCode, a.ErrorMessage = ec, resp.child("ErrorMessage").value()
		return a, nil
	}
	users := resp.path("UserResponses")
	if users == nil {
		return nil, errors.New("parse autodiscover: GetUserSettings response has no UserResponses")
	}
	a.Action = "settings"
	for _, ur := range users.children("UserResponse") {
		switch ec := ur.child("ErrorCode").value(); ec {
		case "", "NoError":
		case "RedirectUrl":
			a.Action, a.RedirectURL = "redirectUrl", ur.child("RedirectTarget").value()
			return a, nil
		case "RedirectAddress":
			a.Action, a.RedirectAddr = "redirectAddr", ur.child("RedirectTarget").value()
			return a, nil
		default:
			a.Action, a.ErrorCode, a.ErrorMessage = "", ec, ur.child("ErrorMessage").value()
			return a, nil
		}
		us := ur.child("UserSettings")
		if us == nil {
			continue
		}
		for _, s := range us.children("UserSetting") {
			name := s.child("Name").value()
			switch name {
			case "CasVersion":
				a.ServerVersion = s.child("Value").value()
				a.Version = VersionFromDotted(a.ServerVersion)
				continue
			case "AutoDiscoverSMTPAddress":
				a.Email = s.child("Value").value()
				continue
			}
			set, sc := soapSetting(name)
			if set == "" {
				continue
			}
			vals := []string{s.child("Value").value()}
			if wc := s.child("WebClientUrls"); wc != nil {
				vals = nil
				for _, w := range wc.children("WebClientUrl") {
					vals = append(vals, w.child("Url").value())
				}
			}
			for _, v := range vals {
				if set == SettingOutlookAnywhere {
					if v != "" {
						a.Fields = append(a.Fields, ADField{Form: FormSOAP, Block: "GetUserSettings", Element: name, Scope: sc, Value: v, Setting: set})
						a.Principals = append(a.Principals, ADPrincipal{Block: "GetUserSettings", Server: v, Scope: sc})
					}
					continue
				}
				if isAbsURL(v) {
					a.Fields = append(a.Fields, ADField{Form: FormSOAP, Block: "GetUserSettings", Element: name, Scope: sc, Value: v, Setting: urlSetting(set, v)})
				}
			}
		}
	}
	return a, nil
}

// v2Setting maps Autodiscover v2 protocols to Exchange settings.
var v2Setting = map[string]string{
	"activesync": SettingActiveSync, "ews": SettingEWS, "rest": SettingEWS,
	"autodiscoverv1": SettingAutodiscoverDNS,
}

func parseV2(b string) (*Autodiscover, error) {
	var v struct {
		Protocol     string `json:"Protocol"`
		URL          string `json:"Url"`
		ErrorCode    string `json:"ErrorCode"`
		ErrorMessage string `json:"ErrorMessage"`
	}
	dec := json.NewDecoder(strings.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parse autodiscover: malformed v2 JSON: %w", err)
	}
	a := &Autodiscover{Form: FormV2}
	if v.ErrorCode != "" {
		a.ErrorCode, a.ErrorMessage = v.ErrorCode, v.ErrorMessage
		return a, nil
	}
	if v.URL == "" {
		return nil, errors.New("parse autodiscover: v2 JSON has neither Url nor ErrorCode")
	}
	if !isAbsURL(v.URL) {
		return nil, fmt.Errorf("parse autodiscover: v2 Url %q is not an absolute URL", v.URL)
	}
	a.Action = "settings"
	a.Fields = append(a.Fields, ADField{Form: FormV2, Block: v.Protocol, Element: "Url", Value: v.URL, Setting: v2Setting[strings.ToLower(v.Protocol)]})
	return a, nil
}

func isAbsURL(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// lastCN returns the value of the last cn= in an Exchange legacy DN
// ("/o=.../cn=Servers/cn=EXCH01" gives "EXCH01").
func lastCN(dn string) string {
	i := strings.LastIndex(strings.ToLower(dn), "cn=")
	if i < 0 {
		return ""
	}
	v := dn[i+3:]
	if j := strings.IndexAny(v, "/,"); j >= 0 {
		v = v[:j]
	}
	return strings.TrimSpace(v)
}

// VersionFromHex decodes the POX ServerVersion (hex; major in bits
// 22-27, minor in bits 16-21, build in the low 15 bits) to a release name:
// "2007", "2010", "2013", "2016", "2019" or "SE"; "" when unknown.
func VersionFromHex(h string) string {
	v, err := strconv.ParseUint(strings.TrimSpace(h), 16, 32)
	if err != nil {
		return ""
	}
	major, minor, build := (v>>22)&0x3f, (v>>16)&0x3f, v&0x7fff
	return exchangeRelease(int(major), int(minor), int(build))
}

// VersionFromDotted decodes "15.01.2507.006" (SOAP CasVersion).
func VersionFromDotted(s string) string {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 {
		return ""
	}
	var n [3]int
	for i := 0; i < 3 && i < len(parts); i++ {
		x, err := strconv.Atoi(parts[i])
		if err != nil {
			return ""
		}
		n[i] = x
	}
	return exchangeRelease(n[0], n[1], n[2])
}

func exchangeRelease(major, minor, build int) string {
	switch {
	case major == 8:
		return "2007"
	case major == 14:
		return "2010"
	case major == 15 && minor == 0:
		return "2013"
	case major == 15 && minor == 1:
		return "2016"
	case major == 15 && minor == 2 && build >= 2562:
		// Exchange Server Subscription Edition RTM is 15.2.2562.
		return "SE"
	case major == 15 && minor == 2:
		return "2019"
	}
	return ""
}

// IsAutodiscoverURL reports whether u is an Autodiscover endpoint
// (/autodiscover/autodiscover.xml, .svc or .json), and which.
func IsAutodiscoverURL(u string) (bool, string) {
	if u == "" {
		return false, "" // as url.Parse's empty URL, without its allocation
	}
	p, err := url.Parse(u)
	if err != nil {
		return false, ""
	}
	l := strings.ToLower(p.Path)
	switch {
	case strings.HasSuffix(l, "/autodiscover/autodiscover.xml"):
		return true, "xml"
	case strings.HasSuffix(l, "/autodiscover/autodiscover.svc") || strings.Contains(l, "/autodiscover/autodiscover.svc/"):
		return true, "svc"
	case strings.Contains(l, "/autodiscover/autodiscover.json"):
		return true, "json"
	}
	return false, ""
}

// Redirect is an HTTP redirect an observation answered with.
type Redirect struct {
	From   string // the URL requested
	To     string // the Location, made absolute
	Status int
}

// ParseRedirect returns the redirect o answered with, or nil when o is not
// a 3xx with a usable Location.
func ParseRedirect(o *record.Observation) *Redirect {
	if o == nil || o.Status < 300 || o.Status > 399 || o.Location == "" {
		return nil
	}
	loc, err := url.Parse(strings.TrimSpace(o.Location))
	if err != nil {
		return nil
	}
	if !loc.IsAbs() && o.URL != "" {
		if base, err := url.Parse(o.URL); err == nil {
			loc = base.ResolveReference(loc)
		}
	}
	if loc.Host == "" {
		return nil
	}
	return &Redirect{From: o.URL, To: loc.String(), Status: o.Status}
}

// SRVTarget is one target of an SRV answer.
type SRVTarget struct {
	Owner  string // _autodiscover._tcp.contoso.com
	Target string // mail.contoso.com (no trailing dot)
	Port   int
	Prio   int
	Weight int
}

// SRVTargets returns the SRV targets in o's answer, best first: lowest
// priority, then highest weight (RFC 2782; MS-OXDSCLI uses the best one on
// port 443).
func SRVTargets(o *record.Observation) []SRVTarget {
	if o == nil || o.DNS == nil {
		return nil
	}
	var out []SRVTarget
	for _, a := range o.DNS.Answers {
		if !strings.EqualFold(a.Type, "SRV") || a.Value == "" {
			continue
		}
		out = append(out, SRVTarget{Owner: strings.TrimSuffix(strings.ToLower(cmp.Or(a.Name, o.DNS.Query)), "."),
			Target: strings.TrimSuffix(strings.ToLower(a.Value), "."), Port: a.Port, Prio: a.Prio, Weight: a.Weight})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Prio != out[j].Prio {
			return out[i].Prio < out[j].Prio
		}
		return out[i].Weight > out[j].Weight
	})
	return out
}

// AutodiscoverOf parses the Autodiscover answer o carries, if any. It
// returns (nil, nil) when o carries no body or is not an Autodiscover
// exchange, and an error when the body is there but does not parse.
func AutodiscoverOf(o *record.Observation) (*Autodiscover, error) {
	if o == nil || o.Body == nil || strings.TrimSpace(o.Body.Text) == "" {
		return nil, nil
	}
	ok, _ := IsAutodiscoverURL(o.URL)
	looks := bytes.Contains([]byte(o.Body.Text), []byte("autodiscover")) || strings.HasPrefix(strings.TrimSpace(o.Body.Text), "{")
	if !ok && !looks {
		return nil, nil
	}
	if o.Status != 0 && o.Status != 200 && !strings.HasPrefix(strings.TrimSpace(o.Body.Text), "{") {
		return nil, nil
	}
	a, err := parseCached(o.Body.ContentType, o.Body.Text)
	if err != nil && o.Body.Truncated {
		err = fmt.Errorf("%w (the recorder kept only the start of the body)", err)
	}
	return a, err
}

// adCache remembers recent parses: several checks and origin tracing look
// at the same body. Keyed by content, so it is never stale; bounded.
var adCache = struct {
	sync.Mutex
	m     map[string]adResult
	bytes int
}{m: map[string]adResult{}}

type adResult struct {
	a   *Autodiscover
	err error
}

// The cache holds at most adCacheMax answers and adCacheBytes of bodies;
// bodies over adCacheBody are not cached.
const (
	adCacheMax   = 256
	adCacheBytes = 8 << 20
	adCacheBody  = 256 << 10
)

// parseCached is ParseAutodiscover with a small cache. The answer it
// returns is shared: callers must not modify it.
func parseCached(contentType, body string) (*Autodiscover, error) {
	if len(body) > adCacheBody {
		return ParseAutodiscover(contentType, body)
	}
	key := contentType + "\x00" + body
	adCache.Lock()
	r, ok := adCache.m[key]
	adCache.Unlock()
	if ok {
		return r.a, r.err
	}
	a, err := ParseAutodiscover(contentType, body)
	adCache.Lock()
	if len(adCache.m) >= adCacheMax || adCache.bytes+len(key) > adCacheBytes {
		clear(adCache.m)
		adCache.bytes = 0
	}
	adCache.m[key] = adResult{a, err}
	adCache.bytes += len(key)
	adCache.Unlock()
	return a, err
}
