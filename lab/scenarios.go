package lab

import (
	"fmt"
	"sort"
	"strings"
)

// ClientKind is the kind of program the scripted client plays.
type ClientKind string

// The scripted clients.
const (
	// Outlook runs Autodiscover in Outlook's order, then connects to the
	// mailbox (MAPI/HTTP or RPC/HTTP), EWS and the OAB.
	Outlook ClientKind = "outlook"
	// Phone is an ActiveSync device: mobilesync Autodiscover, then OPTIONS
	// and FolderSync on the ActiveSync URL.
	Phone ClientKind = "activesync"
)

// Client describes the scripted client of a scenario.
type Client struct {
	Kind ClientKind
	// Name says which program on which system, for people.
	Name string
	// App is what the warning dialog calls the program ("Outlook", "Mail").
	App string
	// Profile is the analysis client profile whose matching rules it uses.
	Profile string
	// DomainJoined clients look up the Autodiscover SCP in Active Directory.
	DomainJoined bool
	// Inside clients are on the LAN and use the internal URLs (EXCH);
	// others use the external ones (EXPR).
	Inside bool
	// NoSNI clients send no server_name (Windows XP SChannel, old phones).
	NoSNI bool
	// MapiHTTP clients ask for the mapiHttp block (X-MapiHttpCapability)
	// and use MAPI over HTTP when it is there (Outlook 2013 SP1 and later).
	MapiHTTP bool
}

// Expect is what act 1 of a scenario must show: the first request that
// makes the client warn, where its host name came from, and the setting
// and command that fix it. A zero Expect means no warning.
type Expect struct {
	Culprit string  // the URL of the first request that warns
	Host    string  // the name the client checked against the certificate
	Origin  Setting // the setting that sent the client there
	Cause   Setting // the setting whose change removes the warning
	Command string  // text the remedy command contains, e.g. "Set-ClientAccessService"
}

// Scenario is one story: the client, the Exchange configuration it runs
// against, and the changes that fix it.
type Scenario struct {
	Name  string
	Title string
	// Setup is the Exchange configuration the scenario stands for, in one
	// line (what `certsleuth demo --list` prints).
	Setup   string
	Summary string // a paragraph for people: what is wrong and why it warns
	Cite    string // where the case is described
	Client  Client
	Config  Config   // the configuration as found (act 1)
	Changes []Change // the fix (act 2 applies them in order)
	Expect  Expect
}

// Fixed returns the scenario's configuration with every change applied.
func (s *Scenario) Fixed() Config {
	c := s.Config.Clone()
	for _, ch := range s.Changes {
		ch.Apply(&c)
	}
	return c
}

// ChangeFor returns the change that fixes setting, or nil.
func (s *Scenario) ChangeFor(setting Setting) *Change {
	for i := range s.Changes {
		if s.Changes[i].Setting == setting {
			return &s.Changes[i]
		}
	}
	return nil
}

// DefaultScenario is the scenario `certsleuth demo` runs without --scenario.
const DefaultScenario = "ews-internal-url"

// Lab names, shared by the scenarios.
const (
	domain   = "contoso.com"
	mailName = "mail.contoso.com"
	adName   = "autodiscover.contoso.com"
	internal = "exch01.contoso.local"
)

func mailURL(host, path string) string { return "https://" + host + path }

// contoso is the healthy configuration every scenario starts from: one
// Exchange 2019 server, EXCH01, whose certificate names mail.contoso.com
// and autodiscover.contoso.com, with every URL on mail.contoso.com.
func contoso() Config {
	both := func(path string) VDir {
		return VDir{Internal: mailURL(mailName, path), External: mailURL(mailName, path)}
	}
	return Config{
		Domain: domain, Mailbox: "alice@" + domain, DisplayName: "Alice Example", Server: "EXCH01",
		SCP:  mailURL(mailName, "/Autodiscover/Autodiscover.xml"),
		EWS:  both("/EWS/Exchange.asmx"),
		OAB:  both("/OAB"),
		MAPI: both("/mapi"),
		EAS:  both("/Microsoft-Server-ActiveSync"),
		OWA:  both("/owa"),

		OutlookAnywhere: mailName,
		MapiHTTP:        true,
		ExchangeCert:    CertSpec{Label: "the Exchange certificate (mail.contoso.com, autodiscover.contoso.com)", DNSNames: []string{mailName, adName}},
		Hosts: []HostRecord{
			{Name: mailName, Role: RoleCAS},
			{Name: adName, Role: RoleCAS},
			{Name: internal, Role: RoleCAS},
		},
	}
}

var (
	outlookInside = Client{Kind: Outlook, Name: "Outlook 2016 on a domain-joined Windows 10 PC in the office", App: "Outlook", Profile: "windows", DomainJoined: true, Inside: true, MapiHTTP: true}
	outlookHome   = Client{Kind: Outlook, Name: "Outlook 2016 on a home PC (not domain-joined)", App: "Outlook", Profile: "windows", MapiHTTP: true}
)

func ewsInternalURL() *Scenario {
	c := contoso()
	c.SCP = mailURL(internal, "/Autodiscover/Autodiscover.xml")
	c.EWS.Internal = mailURL(internal, "/EWS/Exchange.asmx")
	c.OAB.Internal = mailURL(internal, "/OAB")
	return &Scenario{
		Name:  "ews-internal-url",
		Setup: "SCP and EWS/OAB InternalUrl on exch01.contoso.local, certificate for mail.contoso.com and autodiscover.contoso.com (KB 940726)",
		Title: "KB 940726: the certificate was replaced, the SCP and internal URLs still name the server",
		Summary: "The self-signed certificate was replaced by one for mail.contoso.com and autodiscover.contoso.com, " +
			"but the Autodiscover SCP and the EWS and OAB InternalUrl still point at the server's own name, exch01.contoso.local. " +
			"Outlook inside the network follows them and warns.",
		Cite:   "KB 940726",
		Client: outlookInside,
		Config: c,
		Changes: []Change{
			{Setting: SettingSCP, What: "Autodiscover SCP (AutoDiscoverServiceInternalUri)", From: c.SCP, To: mailURL(mailName, "/Autodiscover/Autodiscover.xml"),
				Command: `Set-ClientAccessService -Identity EXCH01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml`,
				Apply:   func(c *Config) { c.SCP = mailURL(mailName, "/Autodiscover/Autodiscover.xml") }},
			{Setting: SettingEWS, What: "EWS InternalUrl", From: c.EWS.Internal, To: mailURL(mailName, "/EWS/Exchange.asmx"),
				Command: `Set-WebServicesVirtualDirectory -Identity "EXCH01\EWS (Default Web Site)" -InternalUrl https://mail.contoso.com/EWS/Exchange.asmx`,
				Apply:   func(c *Config) { c.EWS.Internal = mailURL(mailName, "/EWS/Exchange.asmx") }},
			{Setting: SettingOAB, What: "OAB InternalUrl", From: c.OAB.Internal, To: mailURL(mailName, "/OAB"),
				Command: `Set-OabVirtualDirectory -Identity "EXCH01\OAB (Default Web Site)" -InternalUrl https://mail.contoso.com/OAB`,
				Apply:   func(c *Config) { c.OAB.Internal = mailURL(mailName, "/OAB") }},
		},
		Expect: Expect{Culprit: mailURL(internal, "/Autodiscover/Autodiscover.xml"), Host: internal, Origin: SettingSCP, Cause: SettingSCP, Command: "Set-ClientAccessService"},
	}
}

func rootDomainWebsite() *Scenario {
	c := contoso()
	c.Hosts = append(c.Hosts, HostRecord{Name: domain, Role: RoleWebsite})
	c.WebsiteCert = &CertSpec{Label: "the public web site's certificate (www.contoso.com)", DNSNames: []string{"www." + domain}}
	return &Scenario{
		Name:  "root-domain-website",
		Setup: "contoso.com is the public web site (certificate www.contoso.com), probed first by Outlook outside the domain",
		Title: "Outlook's root-domain Autodiscover probe reaches the public web site",
		Summary: "Outside the domain Outlook first tries https://contoso.com/autodiscover/autodiscover.xml. " +
			"contoso.com is the public web site, whose certificate names only www.contoso.com, so Outlook warns before it ever reaches autodiscover.contoso.com.",
		Cite:   "MS-OXDISCO §3.1.5; KB 3211279 (ExcludeHttpsRootDomain)",
		Client: outlookHome,
		Config: c,
		Changes: []Change{
			{Setting: SettingRootDomain, What: "Outlook policy ExcludeHttpsRootDomain (skip the root-domain probe; by Group Policy or the registry)", From: "0 (not set)", To: "1",
				Command: `reg add HKCU\Software\Microsoft\Office\16.0\Outlook\AutoDiscover /v ExcludeHttpsRootDomain /t REG_DWORD /d 1 /f`,
				Apply:   func(c *Config) { c.Client.ExcludeHTTPSRootDomain = true }},
		},
		Expect: Expect{Culprit: "https://" + domain + "/autodiscover/autodiscover.xml", Host: domain, Origin: SettingRootDomain, Cause: SettingRootDomain, Command: "ExcludeHttpsRootDomain"},
	}
}

func httpRedirect() *Scenario {
	c := contoso()
	c.Hosts = []HostRecord{
		{Name: mailName, Role: RoleCAS},
		{Name: "webmail." + domain, Role: RoleCAS},
		{Name: adName, Role: RoleRedirect},
	}
	c.RedirectTo = mailURL("webmail."+domain, "/Autodiscover/Autodiscover.xml")
	c.SRV = []SRVRecord{{Target: mailName, Port: 443, Priority: 10, Weight: 10}}
	good := mailURL(mailName, "/Autodiscover/Autodiscover.xml")
	return &Scenario{
		Name:  "http-redirect",
		Setup: "autodiscover.contoso.com answers on port 80 only and redirects to webmail.contoso.com, which the certificate lacks",
		Title: "The HTTP Autodiscover redirect sends Outlook to a name the certificate lacks",
		Summary: "autodiscover.contoso.com answers only on port 80, where IIS redirects to the old name webmail.contoso.com. " +
			"Outlook follows the 302 and checks the certificate against the redirect target's name, which the certificate does not list.",
		Cite:   "MS-OXDISCO §3.1.5.3 (HTTP redirect method); KB 2772058",
		Client: outlookHome,
		Config: c,
		Changes: []Change{
			{Setting: SettingHTTPRedirect, What: "IIS HTTP Redirect destination on the Autodiscover redirect site", From: c.RedirectTo, To: good,
				Command: `%windir%\system32\inetsrv\appcmd set config "Autodiscover Redirect" /section:httpRedirect /enabled:true /destination:` + good + ` /httpResponseStatus:Found`,
				Apply:   func(c *Config) { c.RedirectTo = good }},
		},
		Expect: Expect{Culprit: c.RedirectTo, Host: "webmail." + domain, Origin: SettingHTTPRedirect, Cause: SettingHTTPRedirect, Command: good},
	}
}

func activeSyncPhone() *Scenario {
	c := contoso()
	c.EAS.External = mailURL(internal, "/Microsoft-Server-ActiveSync")
	good := mailURL(mailName, "/Microsoft-Server-ActiveSync")
	return &Scenario{
		Name:  "activesync-phone",
		Setup: "ActiveSync ExternalUrl on exch01.contoso.local, handed to an iPhone by mobilesync Autodiscover",
		Title: "mobilesync Autodiscover gives the phone an internal ActiveSync URL",
		Summary: "The ActiveSync virtual directory's ExternalUrl names exch01.contoso.local, so mobilesync Autodiscover hands the phone that URL. " +
			"The certificate does not list the internal name, and iOS refuses it.",
		Cite:   "MS-ASCMD §2.2.1.1; remote connectivity analyzer \"SSL Certificate Name Mismatch\"",
		Client: Client{Kind: Phone, Name: "iPhone Mail (Exchange ActiveSync account), iOS 17", App: "Mail", Profile: "apple"},
		Config: c,
		Changes: []Change{
			{Setting: SettingEAS, What: "ActiveSync ExternalUrl", From: c.EAS.External, To: good,
				Command: `Set-ActiveSyncVirtualDirectory -Identity "EXCH01\Microsoft-Server-ActiveSync (Default Web Site)" -ExternalUrl ` + good,
				Apply:   func(c *Config) { c.EAS.External = good }},
		},
		Expect: Expect{Culprit: c.EAS.External, Host: internal, Origin: SettingEAS, Cause: SettingEAS, Command: "Set-ActiveSyncVirtualDirectory"},
	}
}

func outlookAnywherePrincipal() *Scenario {
	c := contoso()
	c.ExchangeCert = CertSpec{Label: "the wildcard certificate (*.contoso.com)", CN: "*." + domain, DNSNames: []string{"*." + domain}}
	c.MapiHTTP = false
	return &Scenario{
		Name:  "outlook-anywhere-principal",
		Setup: "certificate *.contoso.com, Outlook Anywhere (RPC over HTTP) with the default principal msstd:mail.contoso.com",
		Title: "Outlook Anywhere's msstd: principal name does not match the wildcard certificate",
		Summary: "The server has a *.contoso.com wildcard certificate. Outlook Anywhere (RPC over HTTP) requires the certificate to carry the principal msstd:mail.contoso.com literally, " +
			"without wildcard expansion, so the name check passes but the principal check fails: endless password prompts and a proxy certificate error.",
		Cite:   "certprincipalname-pox.md; Exchange analyzer \"certificate principal mismatch\"",
		Client: Client{Kind: Outlook, Name: "Outlook 2010 on a laptop outside the office (Outlook Anywhere, RPC over HTTP)", App: "Outlook", Profile: "windows"},
		Config: c,
		Changes: []Change{
			{Setting: SettingCertPrincipal, What: "EXPR CertPrincipalName", From: "(not set: msstd:mail.contoso.com)", To: "msstd:*.contoso.com",
				Command: `Set-OutlookProvider EXPR -CertPrincipalName "msstd:*.contoso.com"`,
				Apply:   func(c *Config) { c.CertPrincipalName = "msstd:*." + domain }},
		},
		// The refused RPC tunnel carries no URL through the proxy, and
		// mail.contoso.com is the EwsUrl host as well as the EXPR Server:
		// certsleuth must still name Outlook Anywhere, whose principal
		// Outlook checks on RPC over HTTP only (EWS and OAB pass).
		Expect: Expect{Culprit: mailURL(mailName, "/rpc/rpcproxy.dll"), Host: mailName, Origin: SettingOutlookAnywhere, Cause: SettingCertPrincipal, Command: "Set-OutlookProvider"},
	}
}

func noSNIDefaultCert() *Scenario {
	c := contoso()
	c.MapiHTTP = false
	c.DefaultCert = &CertSpec{Label: "the server's old certificate on IIS's default (non-SNI) binding (exch01.contoso.local)", CN: internal, DNSNames: []string{internal, "exch01"}}
	return &Scenario{
		Name:  "no-sni-default-cert",
		Setup: "new certificate on the SNI bindings, the old exch01.contoso.local one on IIS's default binding; Outlook 2007 on XP sends no SNI",
		Title: "A client without SNI gets the certificate on IIS's default binding",
		Summary: "The new certificate is bound to mail.contoso.com and autodiscover.contoso.com with SNI, but the default binding still holds the old exch01.contoso.local certificate. " +
			"Outlook 2007 on Windows XP sends no SNI, so it gets the old certificate for every name.",
		Cite:   "RFC 6066 §3; Enable-ExchangeCertificate",
		Client: Client{Kind: Outlook, Name: "Outlook 2007 on a domain-joined Windows XP PC (SChannel sends no SNI)", App: "Outlook", Profile: "windows", DomainJoined: true, Inside: true, NoSNI: true},
		Config: c,
		Changes: []Change{
			{Setting: SettingDefaultBinding, What: "certificate on IIS's default (non-SNI) binding", From: "exch01.contoso.local certificate", To: "the Exchange certificate (mail.contoso.com, autodiscover.contoso.com)",
				Command: `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of the mail.contoso.com certificate> -Services IIS`,
				Apply:   func(c *Config) { c.DefaultCert = nil }},
		},
		Expect: Expect{Culprit: mailURL(mailName, "/Autodiscover/Autodiscover.xml"), Host: mailName, Origin: SettingSCP, Cause: SettingDefaultBinding, Command: "Enable-ExchangeCertificate -Server EXCH01"},
	}
}

func clean() *Scenario {
	return &Scenario{
		Name:    "clean",
		Setup:   "every URL on mail.contoso.com, certificate for mail.contoso.com and autodiscover.contoso.com: nothing to fix",
		Title:   "Everything right: every URL names a host the certificate lists",
		Summary: "The SCP and every virtual directory use mail.contoso.com, which the certificate lists. Outlook connects without a warning.",
		Cite:    "KB 940726 (the configuration after the fix)",
		Client:  outlookInside,
		Config:  contoso(),
	}
}

// Scenarios returns every scenario, the default first.
func Scenarios() []*Scenario {
	return []*Scenario{ewsInternalURL(), rootDomainWebsite(), httpRedirect(), activeSyncPhone(), outlookAnywherePrincipal(), noSNIDefaultCert(), clean()}
}

// ScenarioNames lists the scenarios' names in order.
func ScenarioNames() []string {
	var out []string
	for _, s := range Scenarios() {
		out = append(out, s.Name)
	}
	return out
}

// LookupScenario finds a scenario by name (case-insensitive).
func LookupScenario(name string) (*Scenario, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, s := range Scenarios() {
		if s.Name == n {
			return s, nil
		}
	}
	names := ScenarioNames()
	sort.Strings(names)
	return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(names, ", "))
}
