package lab

import (
	"strings"

	"github.com/certsleuth/certsleuth/exchange"
)

// VDir is an Exchange virtual directory's pair of URLs.
type VDir struct {
	Internal string // -InternalUrl: what clients inside the network use (EXCH block)
	External string // -ExternalUrl: what clients outside use (EXPR block)
}

// Role is what answers for a lab host name.
type Role string

// The lab's machines.
const (
	RoleCAS      Role = "cas"      // the Exchange Client Access server: HTTPS (SNI bindings) and HTTP
	RoleWebsite  Role = "website"  // the public web site (root domain): HTTPS and HTTP
	RoleRedirect Role = "redirect" // an HTTP-only host that runs the Autodiscover redirect
)

// HostRecord is a DNS A record of the lab: Name resolves to the machine
// playing Role.
type HostRecord struct {
	Name string
	Role Role
}

// SRVRecord is a DNS SRV answer for _autodiscover._tcp.<domain>.
type SRVRecord struct {
	Target   string
	Port     int
	Priority int
	Weight   int
}

// ClientPolicy holds the client-side settings a scenario depends on
// (registry values under HKCU\Software\Microsoft\Office\16.0\Outlook\AutoDiscover).
type ClientPolicy struct {
	ExcludeHTTPSRootDomain bool // ExcludeHttpsRootDomain = 1
}

// Config is the Exchange configuration (and the DNS, IIS and client
// policy around it) a lab stands for. The zero value is not useful; the
// scenarios build complete ones.
type Config struct {
	Domain      string // the users' e-mail domain, e.g. contoso.com
	Mailbox     string // the demo user's address
	DisplayName string
	Server      string // the Client Access server's name, e.g. EXCH01

	// SCP is the Autodiscover service connection point URL in Active
	// Directory (Set-ClientAccessService -AutoDiscoverServiceInternalUri).
	// "" means no SCP is published.
	SCP string

	// Virtual directories (Set-WebServicesVirtualDirectory,
	// Set-OabVirtualDirectory, Set-MapiVirtualDirectory,
	// Set-ActiveSyncVirtualDirectory, Set-OwaVirtualDirectory).
	EWS, OAB, MAPI, EAS, OWA VDir

	// OutlookAnywhere is Outlook Anywhere's external host name
	// (Set-OutlookAnywhere -ExternalHostname): the EXPR Server.
	OutlookAnywhere string
	// CertPrincipalName is the EXPR provider's principal name
	// (Set-OutlookProvider EXPR -CertPrincipalName); "" means the default,
	// msstd:<OutlookAnywhere>.
	CertPrincipalName string
	// MapiHTTP: Outlook connects with MAPI over HTTP (Exchange 2013 SP1+);
	// false means RPC over HTTP (Outlook Anywhere), where the msstd
	// principal name is checked.
	MapiHTTP bool

	// ExchangeCert is the certificate assigned to IIS for the names it
	// lists (SNI bindings).
	ExchangeCert CertSpec
	// DefaultCert is the certificate on IIS's default (non-SNI) binding;
	// nil means ExchangeCert.
	DefaultCert *CertSpec
	// WebsiteCert is the certificate of the public web site; used when a
	// HostRecord has RoleWebsite.
	WebsiteCert *CertSpec

	// Hosts are the lab's DNS A records. Names not listed do not resolve.
	Hosts []HostRecord
	// SRV are the answers for _autodiscover._tcp.<Domain>.
	SRV []SRVRecord
	// RedirectTo is the Location the HTTP redirect responder sends for
	// /autodiscover/autodiscover.xml (IIS HTTP Redirect); "" means the
	// responder answers 404.
	RedirectTo string

	Client ClientPolicy
}

// Clone returns a deep copy of c, for a fix to change.
func (c Config) Clone() Config {
	out := c
	out.ExchangeCert.DNSNames = append([]string(nil), c.ExchangeCert.DNSNames...)
	if c.DefaultCert != nil {
		d := *c.DefaultCert
		d.DNSNames = append([]string(nil), d.DNSNames...)
		out.DefaultCert = &d
	}
	if c.WebsiteCert != nil {
		w := *c.WebsiteCert
		w.DNSNames = append([]string(nil), w.DNSNames...)
		out.WebsiteCert = &w
	}
	out.Hosts = append([]HostRecord(nil), c.Hosts...)
	out.SRV = append([]SRVRecord(nil), c.SRV...)
	return out
}

// principal returns the EXPR CertPrincipalName in effect.
func (c *Config) principal() string {
	if c.CertPrincipalName != "" {
		return c.CertPrincipalName
	}
	// certprincipalname-pox.md: absent, it defaults to msstd:<Server>.
	return "msstd:" + c.OutlookAnywhere
}

// role returns the role of name, or "" when it does not resolve.
func (c *Config) role(name string) Role {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, h := range c.Hosts {
		if strings.EqualFold(h.Name, name) {
			return h.Role
		}
	}
	return ""
}

// Setting names a place in the configuration that sent a client to a
// host, or that decided which certificate it got. Changes and the client's
// steps refer to the same settings.
type Setting string

// The settings the scenarios involve. Their values are the keys of
// analysis's Exchange settings catalog (analysis.Settings), so that what
// the scripted client knows and what analysis infers from a trace can be
// compared; SettingDefaultBinding has no catalog entry.
const (
	SettingSCP             Setting = exchange.SettingSCP             // Set-ClientAccessService -AutoDiscoverServiceInternalUri
	SettingRootDomain      Setting = exchange.SettingRootDomain      // Outlook's https://<domain>/autodiscover probe (DNS A for the domain)
	SettingAutodiscover    Setting = exchange.SettingAutodiscoverDNS // https://autodiscover.<domain> (DNS A record)
	SettingHTTPRedirect    Setting = exchange.SettingHTTPRedirect    // IIS HTTP Redirect on http://autodiscover.<domain>
	SettingSRV             Setting = exchange.SettingSRV             // DNS SRV _autodiscover._tcp.<domain>
	SettingEWS             Setting = exchange.SettingEWS             // Set-WebServicesVirtualDirectory
	SettingOAB             Setting = exchange.SettingOAB             // Set-OabVirtualDirectory
	SettingMAPI            Setting = exchange.SettingMAPI            // Set-MapiVirtualDirectory
	SettingEAS             Setting = exchange.SettingActiveSync      // Set-ActiveSyncVirtualDirectory
	SettingOutlookAnywhere Setting = exchange.SettingOutlookAnywhere // Set-OutlookAnywhere -ExternalHostname
	SettingCertPrincipal   Setting = exchange.SettingOutlookProvider // Set-OutlookProvider EXPR -CertPrincipalName
	SettingDefaultBinding  Setting = "default-binding"               // the certificate on IIS's non-SNI binding (Enable-ExchangeCertificate -Services IIS)
)

// Change is one setting changed to fix a scenario: the Exchange (or DNS,
// IIS, client policy) setting, its value before and after, and the command
// that makes the change.
type Change struct {
	Setting Setting
	What    string // the setting in words, e.g. "EWS InternalUrl"
	From    string
	To      string
	Command string // Exchange Management Shell (or other) command
	Apply   func(*Config)
}
