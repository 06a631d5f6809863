package exchange

import (
	"fmt"
	"strings"
)

// Catalog keys of the settings that send a client to a host name. Each key
// is one row in Settings; keys are stable (they appear in JSON reports).
const (
	SettingSCP             = "autodiscover-scp"      // AD service connection point
	SettingEWS             = "ews"                   // EWS virtual directory
	SettingOAB             = "oab"                   // OAB virtual directory
	SettingUM              = "um"                    // UM virtual directory (2007-2016)
	SettingECP             = "ecp"                   // ECP virtual directory
	SettingOWA             = "owa"                   // OWA virtual directory
	SettingActiveSync      = "activesync"            // ActiveSync virtual directory
	SettingMAPI            = "mapi"                  // MAPI/HTTP virtual directory
	SettingOutlookAnywhere = "outlook-anywhere"      // Outlook Anywhere host names
	SettingOutlookProvider = "outlook-provider-expr" // EXPR CertPrincipalName
	SettingAutodiscoverDNS = "autodiscover-dns"      // the autodiscover.<domain> DNS record
	SettingRootDomain      = "root-domain"           // the web site on https://<domain>
	SettingHTTPRedirect    = "http-redirect"         // the redirect on http://autodiscover.<domain>
	SettingSRV             = "dns-srv"               // _autodiscover._tcp.<domain>
	SettingADRedirect      = "autodiscover-redirect" // a POX/SOAP redirectUrl from another Autodiscover server
	SettingHostRecord      = "dns-host"              // the A record the new name needs
	SettingIMAP            = "imap"                  // the certificate Exchange's IMAP4 service presents
	SettingPOP             = "pop"                   // the certificate Exchange's POP3 service presents
	SettingSMTP            = "smtp"                  // the certificate Exchange's SMTP service presents (port 587, 25)
)

// Versions are the Exchange Server releases the catalog knows, oldest first.
var Versions = []string{"2007", "2010", "2013", "2016", "2019", "SE"}

// DefaultVersion is assumed when the trace does not say.
const DefaultVersion = "2019"

// PrincipalCheckID is the ID of the check that Outlook Anywhere's msstd:
// principal is literally on the certificate; the error-code table points
// at it.
const PrincipalCheckID = "exchange.principal-mismatch"

// PrincipalCitation names the sources of the Outlook Anywhere principal
// rules: the Autodiscover element (default msstd:<Server>), the cmdlet that
// sets it, the RPC msstd: format, and the practitioner report on wildcards.
const PrincipalCitation = `Microsoft Learn, Autodiscover POX reference "CertPrincipalName (POX)" (absent, it is msstd:<Server>); ` +
	`Microsoft Learn, Exchange PowerShell "Set-OutlookProvider" -CertPrincipalName (Outlook Anywhere clients only); ` +
	`Microsoft Learn, Win32 RPC "Principal Names" (the msstd: format); ` +
	`Exchange Team blog "Outlook 2007, Exchange with Wildcard Certificate" (literal compare: msstd:*.contoso.com); ` +
	`Microsoft Remote Connectivity Analyzer ("doesn't validate against the mutual authentication string")`

// FixParams are the names a remedy is filled in with.
type FixParams struct {
	Version string // Exchange release; "" means DefaultVersion
	Server  string // Exchange server name for -Identity ("EXCH01"); "" gives <SERVER>
	Scope   Scope  // which URL: internal or external ("" means internal)
	NewHost string // the name to use instead (on the certificate)
	OldURL  string // the URL or host seen (for messages)
	Domain  string // the email domain, when known
	Address string // the server's address, when known (for DNS records)
}

// Setting is one catalog row: a setting that puts a host name in
// front of clients, and how to change it.
type Setting struct {
	ID       string
	Title    string   // what it is, for people
	Produces string   // what the client sees it as
	Versions []string // Exchange releases where the command applies; nil for non-Exchange settings
	Citation string
	// command builds the fix; it is only called for a version in Versions
	// (or any version when Versions is nil).
	command func(v string, p FixParams) string
	// note, when set, adds a version-specific remark.
	note func(v string) string
	// successor is the setting that does this one's job in the releases
	// that lack it (the UM URL lives in the EWS virtual directory from
	// Exchange 2013 on); "" when none.
	successor string
}

// Successor returns the ID of the setting that does this one's job in the
// releases that lack it (the UM URL lives in the EWS virtual directory from
// Exchange 2013 on), or "" when there is none.
func (s *Setting) Successor() string { return s.successor }

// AppliesTo reports whether the setting's command exists in Exchange release v.
func (s *Setting) AppliesTo(v string) bool {
	if s.Versions == nil {
		return true
	}
	for _, x := range s.Versions {
		if x == v {
			return true
		}
	}
	return false
}

// Command returns the fix for release v filled in with p, or an error when
// the setting does not exist in that release.
func (s *Setting) Command(v string, p FixParams) (string, error) {
	if v == "" {
		v = DefaultVersion
	}
	if !s.AppliesTo(v) {
		return "", fmt.Errorf("%s: not in Exchange %s (exists in %s)", s.ID, v, versionRange(s.Versions))
	}
	return s.command(v, p), nil
}

// Note returns a version-specific remark, or "".
func (s *Setting) Note(v string) string {
	if s.note == nil {
		return ""
	}
	return s.note(v)
}

func versionRange(vs []string) string {
	if len(vs) == 0 {
		return "any release"
	}
	if len(vs) == 1 {
		return vs[0]
	}
	return vs[0] + "-" + vs[len(vs)-1]
}

func versionsFrom(first string) []string {
	for i, v := range Versions {
		if v == first {
			return append([]string(nil), Versions[i:]...)
		}
	}
	return nil
}

func orPlaceholder(s, ph string) string {
	if s == "" {
		return ph
	}
	return s
}

func identity(p FixParams, vdir string) string {
	return fmt.Sprintf(`"%s\%s (Default Web Site)"`, orPlaceholder(p.Server, "<SERVER>"), vdir)
}

func urlParam(p FixParams) string {
	if p.Scope == ScopeExternal {
		return "-ExternalUrl"
	}
	return "-InternalUrl"
}

func newURL(p FixParams, path string) string {
	return "https://" + orPlaceholder(p.NewHost, "<NAME ON CERTIFICATE>") + path
}

// vdirTarget is how a Set-*VirtualDirectory (or Set-OutlookAnywhere)
// command names its object: -Identity "EXCH01\EWS (Default Web Site)" when
// the trace names the server, else the matching Get- cmdlet for a server
// the admin fills in, piped into it, so the command runs as pasted once
// <SERVER> is replaced (Microsoft Learn "Get-WebServicesVirtualDirectory"
// -Server: the Get-*VirtualDirectory cmdlets return the Client Access,
// Default Web Site, directories unless -ShowMailboxVirtualDirectories is
// given).
func vdirTarget(cmdlet, vdir string, p FixParams) string {
	if p.Server == "" {
		return fmt.Sprintf("Get-%s -Server <SERVER> | %s", strings.TrimPrefix(cmdlet, "Set-"), cmdlet)
	}
	return fmt.Sprintf("%s -Identity %s", cmdlet, identity(p, vdir))
}

func vdirSetting(id, title, produces, cmdlet, vdir, path, citation string, versions []string) *Setting {
	return &Setting{
		ID: id, Title: title, Produces: produces, Versions: versions, Citation: citation,
		command: func(v string, p FixParams) string {
			return fmt.Sprintf("%s %s %s", vdirTarget(cmdlet, vdir, p), urlParam(p), newURL(p, path))
		},
	}
}

// shortNames say settings in a few words, for a sentence.
var shortNames = map[string]string{
	SettingEWS: "EWS URL", SettingOAB: "OAB URL", SettingUM: "UM URL", SettingECP: "ECP URL", SettingOWA: "OWA URL",
	SettingActiveSync: "ActiveSync URL", SettingMAPI: "MAPI URL", SettingOutlookAnywhere: "Outlook Anywhere host name",
	SettingIMAP: "IMAP server", SettingPOP: "POP3 server", SettingSMTP: "SMTP server",
}

// ShortName says the setting with catalog key id in a few words, for a
// sentence ("EWS URL", "IMAP server"); "" for a setting that has none.
func ShortName(id string) string { return shortNames[id] }

// mailSettings maps a mail protocol to the catalog row of the certificate
// its Exchange service presents.
var mailSettings = map[string]string{"imap": SettingIMAP, "pop3": SettingPOP, "smtp": SettingSMTP}

// MailSetting returns the catalog key of the certificate the Exchange
// service of mail protocol proto ("imap", "pop3", "smtp") presents, or "".
func MailSetting(proto string) string { return mailSettings[proto] }

// MailProtocolOf is the mail protocol ("imap", "pop3", "smtp") whose
// certificate the setting with catalog key id is; "" for any other.
func MailProtocolOf(id string) string {
	for proto, s := range mailSettings {
		if s == id {
			return proto
		}
	}
	return ""
}

// Settings is the catalog, one row per setting (reference D.6; KB 940726).
var Settings = []*Setting{
	{
		ID: SettingSCP, Title: "Autodiscover service connection point (SCP) in Active Directory",
		Produces: "the first Autodiscover URL of domain-joined Outlook (serviceBindingInformation)",
		Versions: Versions, Citation: `KB 940726 step 2; MS-OXDISCO §3.1.5; Microsoft Learn "Set-ClientAccessService" (applies to Exchange Server 2016, 2019, SE), "Set-ClientAccessServer" (2010-SE; "in Exchange 2013 or later use Set-ClientAccessService", which 2013 lacks), Exchange 2007 reference bb125157 (2007 SP1-SP3)`,
		command: func(v string, p FixParams) string {
			cmdlet := "Set-ClientAccessService"
			if v == "2007" || v == "2010" || v == "2013" {
				cmdlet = "Set-ClientAccessServer"
			}
			return fmt.Sprintf("%s -Identity %s -AutoDiscoverServiceInternalUri %s", cmdlet, orPlaceholder(p.Server, "<SERVER>"), newURL(p, "/Autodiscover/Autodiscover.xml"))
		},
		note: func(v string) string {
			if v == "2007" || v == "2010" {
				return "then recycle MSExchangeAutodiscoverAppPool in IIS Manager (KB 940726 step 8)"
			}
			return ""
		},
	},
	vdirSetting(SettingEWS, "EWS virtual directory URL", "Autodiscover ASUrl, EwsUrl, EmwsUrl, OOFUrl; SOAP Internal/ExternalEwsUrl",
		"Set-WebServicesVirtualDirectory", "EWS", "/EWS/Exchange.asmx", `KB 940726 step 3; Microsoft Learn "Set-WebServicesVirtualDirectory" (applies to Exchange Server 2010-SE), Exchange 2007 reference aa997233 (2007 SP1-SP3)`, Versions),
	vdirSetting(SettingOAB, "Offline Address Book virtual directory URL", "Autodiscover OABUrl; SOAP Internal/ExternalOABUrl",
		"Set-OabVirtualDirectory", "OAB", "/OAB", `KB 940726 step 4; Microsoft Learn "Set-OabVirtualDirectory" (applies to Exchange Server 2010-SE), Exchange 2007 reference bb124707 (2007 SP1-SP3)`, Versions),
	func() *Setting {
		s := vdirSetting(SettingUM, "Unified Messaging web service URL", "Autodiscover UMUrl; SOAP Internal/ExternalUMUrl",
			"Set-UMVirtualDirectory", "UnifiedMessaging", "/UnifiedMessaging/Service.asmx", `KB 940726 step 5 (Exchange 2007); Exchange 2007 reference bb124335 "Set-UMVirtualDirectory" (2007 SP1-SP3) and the Exchange 2010 reference; absent from the Exchange 2013-SE reference, where UMUrl is /EWS/UM2007Legacy.asmx in the EWS virtual directory`,
			[]string{"2007", "2010"})
		s.successor = SettingEWS
		s.note = func(v string) string {
			if v != "2007" {
				return "from Exchange 2010 on the UM web service follows the EWS URL (KB 940726 step 5); if Set-UMVirtualDirectory is not found, change the EWS URL instead (Set-WebServicesVirtualDirectory)"
			}
			return ""
		}
		return s
	}(),
	vdirSetting(SettingECP, "Exchange Control Panel virtual directory URL", "Autodiscover EcpUrl; SOAP Internal/ExternalEcpUrl",
		"Set-EcpVirtualDirectory", "ecp", "/ecp", `Microsoft Learn "Set-EcpVirtualDirectory" (applies to Exchange Server 2010-SE; the ECP is new in 2010)`, versionsFrom("2010")),
	vdirSetting(SettingOWA, "Outlook on the web virtual directory URL", "Autodiscover WEB OWAUrl; SOAP Internal/ExternalWebClientUrls",
		"Set-OwaVirtualDirectory", "owa", "/owa", `Microsoft Learn "Set-OwaVirtualDirectory" (applies to Exchange Server 2010-SE; 2007 not checked against a reference page)`, Versions),
	func() *Setting {
		s := vdirSetting(SettingActiveSync, "ActiveSync virtual directory URL", "mobilesync Url/Name; Autodiscover v2 Protocol=ActiveSync",
			"Set-ActiveSyncVirtualDirectory", "Microsoft-Server-ActiveSync", "/Microsoft-Server-ActiveSync", `MS-ASCMD §2.2.1.1; Microsoft Learn "Set-ActiveSyncVirtualDirectory" (applies to Exchange Server 2010-SE; 2007 not checked against a reference page)`, Versions)
		inner := s.command
		s.command = func(v string, p FixParams) string {
			// Phones use the external URL unless the answer said otherwise.
			if p.Scope == ScopeNone {
				p.Scope = ScopeExternal
			}
			return inner(v, p)
		}
		return s
	}(),
	vdirSetting(SettingMAPI, "MAPI over HTTP virtual directory URL", "Autodiscover mapiHttp MailStore/AddressBook Internal/ExternalUrl",
		"Set-MapiVirtualDirectory", "mapi", "/mapi", `Microsoft Learn "Set-MapiVirtualDirectory" (applies to Exchange Server 2013-SE; MAPI over HTTP from 2013 SP1)`, versionsFrom("2013")),
	{
		ID: SettingOutlookAnywhere, Title: "Outlook Anywhere host name", Produces: "Autodiscover EXPR/EXHTTP Server; SOAP ExternalMailboxServer",
		Versions: Versions, Citation: `Microsoft Learn "Set-OutlookAnywhere" (applies to Exchange Server 2010-SE; -InternalHostname from 2013), Exchange 2007 reference bb123545 (2007 SP1-SP3, -ExternalHostname only)`,
		command: func(v string, p FixParams) string {
			host := orPlaceholder(p.NewHost, "<NAME ON CERTIFICATE>")
			set := vdirTarget("Set-OutlookAnywhere", "Rpc", p)
			if p.Scope == ScopeInternal && v != "2007" && v != "2010" {
				return fmt.Sprintf("%s -InternalHostname %s -InternalClientsRequireSsl $true", set, host)
			}
			if v == "2007" || v == "2010" {
				return fmt.Sprintf("%s -ExternalHostname %s", set, host)
			}
			return fmt.Sprintf("%s -ExternalHostname %s -ExternalClientsRequireSsl $true", set, host)
		},
		note: func(v string) string {
			if v == "2007" || v == "2010" {
				return "Exchange 2007 and 2010 have no -InternalHostname: inside the network Outlook uses RPC, not Outlook Anywhere"
			}
			return ""
		},
	},
	{
		ID: SettingOutlookProvider, Title: "Outlook Anywhere certificate principal name (EXPR CertPrincipalName)",
		Produces: "Autodiscover EXPR/EXHTTP CertPrincipalName (default msstd:<Server>)",
		Versions: Versions, Citation: PrincipalCitation,
		command: func(v string, p FixParams) string {
			return fmt.Sprintf(`Set-OutlookProvider EXPR -CertPrincipalName "msstd:%s"`, orPlaceholder(p.NewHost, "<NAME ON CERTIFICATE>"))
		},
	},
	{
		ID: SettingAutodiscoverDNS, Title: "The autodiscover.<domain> DNS record",
		Produces: "Autodiscover candidate https://autodiscover.<domain>/autodiscover/autodiscover.xml",
		Citation: "MS-OXDISCO §3.1.5 step 3; KB 2772058",
		command: func(v string, p FixParams) string {
			d := orPlaceholder(p.Domain, "<domain>")
			return fmt.Sprintf("point autodiscover.%s (DNS A or CNAME) at the Exchange server, or add autodiscover.%s to the Exchange certificate; then check with: certsleuth check https://autodiscover.%s/autodiscover/autodiscover.xml", d, d, d)
		},
	},
	{
		ID: SettingRootDomain, Title: "The web site on the bare email domain",
		Produces: "Autodiscover candidate https://<domain>/autodiscover/autodiscover.xml (tried before autodiscover.<domain>)",
		Citation: "MS-OXDISCO §3.1.5 step 2; KB 3211279 (ExcludeHttpsRootDomain)",
		command: func(v string, p FixParams) string {
			d := orPlaceholder(p.Domain, "<domain>")
			return fmt.Sprintf("make https://%s/autodiscover/ fail fast (no answer on port 443, or a 404 from a certificate that covers %s), or on each Outlook client run: reg add HKCU\\Software\\Microsoft\\Office\\16.0\\Outlook\\AutoDiscover /v ExcludeHttpsRootDomain /t REG_DWORD /d 1 /f", d, d)
		},
	},
	{
		ID: SettingHTTPRedirect, Title: "The HTTP redirect on http://autodiscover.<domain>",
		Produces: "the 302 Location the Autodiscover HTTP probe follows",
		Citation: "MS-OXDISCO §3.1.5 step 4",
		command: func(v string, p FixParams) string {
			return fmt.Sprintf("change the redirect on http://autodiscover.%s/autodiscover/autodiscover.xml to Location: %s (a name the certificate covers)", orPlaceholder(p.Domain, "<domain>"), newURL(p, "/Autodiscover/Autodiscover.xml"))
		},
	},
	{
		ID: SettingSRV, Title: "The _autodiscover._tcp DNS SRV record",
		Produces: "Autodiscover candidate https://<SRV target>/autodiscover/autodiscover.xml",
		Citation: "MS-OXDSCLI \"Locations Found from SRV DNS Records\"; RFC 2782",
		command: func(v string, p FixParams) string {
			return fmt.Sprintf("_autodiscover._tcp.%s. 3600 IN SRV 0 0 443 %s.", orPlaceholder(p.Domain, "<domain>"), orPlaceholder(p.NewHost, "<NAME ON CERTIFICATE>"))
		},
	},
	{
		ID: SettingADRedirect, Title: "A redirectUrl sent by another Autodiscover server",
		Produces: "POX Action redirectUrl / SOAP RedirectUrl",
		Citation: `Microsoft Learn, Autodiscover POX reference "RedirectUrl (POX)"; MS-OXDISCO §3.1.5 (at most 10 redirects)`,
		command: func(v string, p FixParams) string {
			return fmt.Sprintf("make the Autodiscover server that answered with the redirect send %s instead of %s", newURL(p, "/Autodiscover/Autodiscover.xml"), orPlaceholder(p.OldURL, "the current URL"))
		},
	},
	{
		ID: SettingHostRecord, Title: "The DNS record the new name needs",
		Produces: "the address clients reach under the new name",
		Citation: "KB 940726 (Important: a host record for the new name)",
		command: func(v string, p FixParams) string {
			addr := orPlaceholder(p.Address, "<address of "+orPlaceholder(p.Server, "the Exchange server")+">")
			if p.Scope == ScopeExternal {
				return fmt.Sprintf("if it does not resolve yet, in the public DNS zone: %s. A %s (so clients outside the network reach %s under the name on the certificate)", orPlaceholder(p.NewHost, "<NAME ON CERTIFICATE>"), addr, orPlaceholder(p.Server, "the server"))
			}
			return fmt.Sprintf("if it does not resolve yet, in the internal DNS zone: %s. A %s (so clients inside the network reach %s under the name on the certificate)", orPlaceholder(p.NewHost, "<NAME ON CERTIFICATE>"), addr, orPlaceholder(p.Server, "the server"))
		},
	},
	mailSetting(SettingIMAP, "The certificate Exchange's IMAP4 service presents (X509CertificateName)",
		"the certificate an IMAP client gets after STARTTLS on port 143, or on port 993",
		`Microsoft Learn, Exchange PowerShell "Set-ImapSettings" -X509CertificateName, "Enable-ExchangeCertificate" -Services (both apply to Exchange Server 2010-SE; 2007 not checked against a reference page)`,
		popImapCommand("Set-ImapSettings", "MSExchangeIMAP4", "IMAP")),
	mailSetting(SettingPOP, "The certificate Exchange's POP3 service presents (X509CertificateName)",
		"the certificate a POP3 client gets after STLS on port 110, or on port 995",
		`Microsoft Learn, Exchange PowerShell "Set-PopSettings" -X509CertificateName, "Enable-ExchangeCertificate" -Services (both apply to Exchange Server 2010-SE; 2007 not checked against a reference page)`,
		popImapCommand("Set-PopSettings", "MSExchangePOP3", "POP")),
	mailSetting(SettingSMTP, "The certificate Exchange's SMTP service presents",
		"the certificate a mail client gets after STARTTLS on port 587 (or 25)",
		`Microsoft Learn, Exchange PowerShell "Enable-ExchangeCertificate" -Services SMTP, "Set-ReceiveConnector" -Fqdn, -TlsCertificateName (both apply to Exchange Server 2010-SE; 2007 not checked against a reference page); RFC 3207`,
		func(v string, p FixParams) string {
			name := orPlaceholder(hostOf(p.OldURL), "<NAME CLIENTS USE>")
			server := orPlaceholder(p.Server, "<SERVER>")
			connector := fmt.Sprintf(`"%s\Client Frontend %s"`, server, server)
			if v == "2007" || v == "2010" {
				connector = fmt.Sprintf(`"%s\Client %s"`, server, server)
			}
			return fmt.Sprintf("Enable-ExchangeCertificate -Server %s -Thumbprint <thumbprint of a certificate that covers %s> -Services SMTP; Set-ReceiveConnector %s -Fqdn %s", server, name, connector, name)
		}),
}

// mailSetting is the catalog row of a mail protocol's certificate: the
// name clients use for IMAP, POP or SMTP is typed into their account
// settings (or handed out by Autodiscover's IMAP/POP/SMTP blocks), and the
// service presents the certificate chosen by X509CertificateName (IMAP,
// POP) or by the certificates enabled for SMTP.
func mailSetting(id, title, produces, citation string, command func(v string, p FixParams) string) *Setting {
	return &Setting{ID: id, Title: title, Produces: produces, Versions: Versions, Citation: citation, command: command}
}

// popImapCommand is the fix for IMAP4 or POP3 (cmdlet Set-ImapSettings or
// Set-PopSettings; service MSExchangeIMAP4 or MSExchangePOP3).
func popImapCommand(cmdlet, service, enable string) func(v string, p FixParams) string {
	return func(v string, p FixParams) string {
		name := orPlaceholder(hostOf(p.OldURL), "<NAME CLIENTS USE>")
		restart := service
		if v != "2007" && v != "2010" {
			restart += "," + service + "BE" // the back-end service since Exchange 2013
		}
		return fmt.Sprintf("Enable-ExchangeCertificate -Server %s -Thumbprint <thumbprint of a certificate that covers %s> -Services %s; %s -Server %s -X509CertificateName %s; Restart-Service %s",
			orPlaceholder(p.Server, "<SERVER>"), name, enable, cmdlet, orPlaceholder(p.Server, "<SERVER>"), name, restart)
	}
}

// hostOf is the host of a URL, or s itself when it is a bare host name.
func hostOf(s string) string {
	if h, _, _ := URLHostPath(s); h != "" {
		return h
	}
	return NormHost(s)
}

// LookupSetting returns the catalog row with id, or nil.
func LookupSetting(id string) *Setting {
	for _, s := range Settings {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// IsExchangeURLSetting reports whether id is a virtual-directory URL or
// host name Exchange itself hands out (so the fix also needs a DNS record
// for the new name).
func IsExchangeURLSetting(id string) bool {
	switch id {
	case SettingSCP, SettingEWS, SettingOAB, SettingUM, SettingECP, SettingOWA, SettingActiveSync, SettingMAPI, SettingOutlookAnywhere:
		return true
	}
	return false
}

// ServerFromHost guesses the Exchange server name from an internal host
// name: "exch01.contoso.local" gives "EXCH01". Names that look like
// service names (mail, autodiscover, owa, ...) give "".
func ServerFromHost(h string) string {
	first := strings.ToLower(strings.SplitN(h, ".", 2)[0])
	switch first {
	case "", "mail", "autodiscover", "owa", "webmail", "outlook", "exchange", "remote", "smtp", "imap", "pop", "pop3", "ews", "legacy", "www", "*":
		return ""
	}
	if strings.ContainsAny(first, ":[]") {
		return ""
	}
	return strings.ToUpper(first)
}
