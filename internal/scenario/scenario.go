// Package scenario holds the scenario traces the tests of analysis and
// report share: short lists of observations, as the proxy would record
// them, with certificates minted from fixed seeds so that every run (and
// every golden report) is the same. It is test support, not a library.
package scenario

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// Keys come from fixed seeds and Ed25519 signatures are deterministic, so
// the certificates (and their fingerprints in the golden reports) are the
// same on every run; validity periods and timestamps are fixed dates.

// The fixed dates: every leaf is valid from NotBefore to NotAfter, and the
// requests happen on Day (At gives a time on it).
var (
	NotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	NotAfter  = time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	Day       = time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC)
)

// PKI is the scenario CA and the leaves it signed.
type PKI struct {
	CA    *x509.Certificate
	CAKey ed25519.PrivateKey
	Roots *x509.CertPool // CA alone
	leafs map[string][]byte
}

var (
	pkiOnce sync.Once
	pki     *PKI
)

// SeedKey is the Ed25519 key of a fixed seed made from label.
func SeedKey(label string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("certsleuth scenario key: " + label))
	return ed25519.NewKeyFromSeed(s[:])
}

// Certs returns the scenario PKI, made once.
func Certs(t testing.TB) *PKI {
	pkiOnce.Do(func() {
		key := SeedKey("ca")
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Contoso Scenario Root CA", Organization: []string{"certsleuth tests"}},
			NotBefore: NotBefore, NotAfter: NotAfter.AddDate(5, 0, 0),
			IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
		der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
		if err != nil {
			panic(err)
		}
		ca, _ := x509.ParseCertificate(der)
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		pki = &PKI{CA: ca, CAKey: key, Roots: roots, leafs: map[string][]byte{}}
	})
	return pki
}

// Leaf returns the DER of a leaf for cn and sans, signed by the scenario CA.
func (p *PKI) Leaf(cn string, sans ...string) [][]byte {
	key := cn + "|" + strings.Join(sans, ",")
	if der, ok := p.leafs[key]; ok {
		return [][]byte{der}
	}
	sum := sha256.Sum256([]byte(key))
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(sum[:8]), Subject: pkix.Name{CommonName: cn},
		DNSNames: sans, NotBefore: NotBefore, NotAfter: NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(nil, tmpl, p.CA, SeedKey(key).Public(), p.CAKey)
	if err != nil {
		panic(err)
	}
	p.leafs[key] = der
	return [][]byte{der}
}

// Scenario is one trace with what its report must say.
type Scenario struct {
	Name     string
	Title    string
	Profiles []string // nil: every profile
	Obs      []*record.Observation
	// Culprits is the number of culprit groups the report must have.
	Culprits int
	// Want are strings the text report must contain.
	Want []string
	// Absent are strings it must not contain.
	Absent []string
	// WantAll are strings the text report with every observation
	// (report.RenderOptions.All) must contain besides Want.
	WantAll []string
}

// At is sec seconds after 08:00 on Day.
func At(sec int) time.Time { return Day.Add(time.Duration(sec) * time.Second) }

// HTTPSObs is a request the proxy intercepted: u through a CONNECT to its
// host, with the chain the server sent.
func HTTPSObs(sec int, method, u string, status int, chain [][]byte, server string) *record.Observation {
	host := u[len("https://"):]
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	return &record.Observation{
		Kind: record.KindHTTP, Source: record.SourceProxy, Time: At(sec), Client: "10.0.0.20:50000",
		Server: server, Connect: host + ":443", SNI: host, Method: method, Host: host, URL: u,
		TLSVersion: "TLS 1.2", Status: status, Chain: chain, Visibility: record.VisVisible,
	}
}

// WithBody sets the answer's body (XML, or JSON when it starts with "{").
func WithBody(o *record.Observation, body string) *record.Observation {
	ct := "text/xml; charset=utf-8"
	if strings.HasPrefix(body, "{") {
		ct = "application/json"
	}
	o.Body = &record.Body{ContentType: ct, Text: body}
	return o
}

// POXAnswer builds a POX 2006a answer. internal and external are the hosts
// of the EXCH and EXPR URLs; principal is EXPR CertPrincipalName ("" for none).
func POXAnswer(internal, external, exprServer, principal string) string {
	cpn := ""
	if principal != "" {
		cpn = "\n        <CertPrincipalName>" + principal + "</CertPrincipalName>"
	}
	return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>Alice Example</DisplayName>
      <AutoDiscoverSMTPAddress>alice@contoso.com</AutoDiscoverSMTPAddress>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type>
        <Server>5b9e1c2d-0000-4a1b-9c3d-112233445566@contoso.com</Server>
        <ServerDN>/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=EXCH01</ServerDN>
        <ServerVersion>73C18880</ServerVersion>
        <ASUrl>https://` + internal + `/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>https://` + internal + `/EWS/Exchange.asmx</EwsUrl>
        <OOFUrl>https://` + internal + `/EWS/Exchange.asmx</OOFUrl>
        <OABUrl>https://` + internal + `/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/</OABUrl>
        <EcpUrl>https://` + internal + `/ecp/</EcpUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>` + exprServer + `</Server>
        <SSL>On</SSL>
        <AuthPackage>Negotiate</AuthPackage>` + cpn + `
        <ASUrl>https://` + external + `/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>https://` + external + `/EWS/Exchange.asmx</EwsUrl>
        <OABUrl>https://` + external + `/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/</OABUrl>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal><OWAUrl AuthenticationMethod="Basic, Fba">https://` + internal + `/owa/</OWAUrl></Internal>
        <External><OWAUrl AuthenticationMethod="Fba">https://` + external + `/owa/</OWAUrl></External>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
`
}

// TLSOnly is a TLS connection the proxy saw without a request: the client
// refused the certificate before sending one (mirror mode).
func TLSOnly(sec int, host string, chain [][]byte, server string) *record.Observation {
	return &record.Observation{
		Kind: record.KindTLS, Source: record.SourceProxy, Time: At(sec), Client: "10.0.0.20:50000",
		Server: server, Connect: host + ":443", SNI: host, TLSVersion: "TLS 1.2", Chain: chain, Visibility: record.VisVisible,
		ClientAlert: "bad certificate",
	}
}

// AsOutlook sets the User-Agent Outlook for Windows sends (as the proxy
// records it) on every request of obs.
func AsOutlook(obs []*record.Observation) []*record.Observation {
	for _, o := range obs {
		if o.Kind != record.KindDNS {
			o.UserAgent = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"
		}
	}
	return obs
}

// ProbeObs is a connection certsleuth check made to u, with SNI or without.
func ProbeObs(sec int, u string, sni bool, chain [][]byte, server string) *record.Observation {
	o := &record.Observation{Kind: record.KindTLS, Source: record.SourceProbe, Time: At(sec), Client: "10.0.0.20:50100",
		Server: server, URL: u, TLSVersion: "TLS 1.3", ALPN: []string{"http/1.1"}, Chain: chain, Visibility: record.VisVisible}
	if sni {
		o.SNI = strings.SplitN(strings.TrimPrefix(u, "https://"), "/", 2)[0]
	} else {
		o.NoSNI = true
	}
	return o
}

// MobileSyncAnswer is the mobilesync Autodiscover answer that sends a
// phone to url.
func MobileSyncAnswer(url string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">
    <Culture>en:us</Culture>
    <User><DisplayName>Alice Example</DisplayName><EMailAddress>alice@contoso.com</EMailAddress></User>
    <Action>
      <Settings>
        <Server>
          <Type>MobileSync</Type>
          <Url>` + url + `</Url>
          <Name>` + url + `</Name>
        </Server>
      </Settings>
    </Action>
  </Response>
</Autodiscover>
`
}

// ExchAddr is the Exchange server's address in the scenarios.
const ExchAddr = "10.0.0.5:443"

// List returns the scenarios, in a fixed order (KB 940726 first).
func List(t testing.TB) []Scenario {
	p := Certs(t)
	exch := p.Leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com")
	web := p.Leaf("www.contoso.com", "www.contoso.com")
	wild := p.Leaf("*.contoso.com", "*.contoso.com", "contoso.com")
	dnsA := &record.Observation{Kind: record.KindDNS, Source: record.SourcePcap, Time: At(-1),
		DNS: &record.DNS{Query: "exch01.contoso.local", Type: "A", Rcode: "NOERROR", Answers: []record.DNSAnswer{{Type: "A", Name: "exch01.contoso.local", Value: "10.0.0.5"}}}}
	return []Scenario{
		{
			Name: "kb940726", Title: "KB 940726: SCP, EWS and OAB internal URLs on the internal name",
			Obs: AsOutlook([]*record.Observation{
				dnsA,
				WithBody(HTTPSObs(0, "POST", "https://exch01.contoso.local/autodiscover/autodiscover.xml", 200, exch, ExchAddr),
					POXAnswer("exch01.contoso.local", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				HTTPSObs(2, "POST", "https://exch01.contoso.local/EWS/Exchange.asmx", 200, exch, ExchAddr),
				HTTPSObs(3, "GET", "https://exch01.contoso.local/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/oab.xml", 200, exch, ExchAddr),
				WithBody(HTTPSObs(3600, "POST", "https://exch01.contoso.local/autodiscover/autodiscover.xml", 200, exch, ExchAddr),
					POXAnswer("exch01.contoso.local", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				HTTPSObs(3602, "POST", "https://exch01.contoso.local/EWS/Exchange.asmx", 200, exch, ExchAddr),
			}),
			Culprits: 3,
			Want: []string{
				"Set-ClientAccessService -Identity EXCH01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml",
				`Set-WebServicesVirtualDirectory -Identity "EXCH01\EWS (Default Web Site)" -InternalUrl https://mail.contoso.com/EWS/Exchange.asmx`,
				`Set-OabVirtualDirectory -Identity "EXCH01\OAB (Default Web Site)" -InternalUrl https://mail.contoso.com/OAB`,
				"mail.contoso.com. A 10.0.0.5",
				"service connection point",
			},
		},
		{
			Name: "root-domain", Title: "Root-domain probe lands on the web site's certificate",
			Obs: []*record.Observation{
				HTTPSObs(0, "POST", "https://contoso.com/autodiscover/autodiscover.xml", 404, web, "203.0.113.80:443"),
				WithBody(HTTPSObs(1, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					POXAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				HTTPSObs(3, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200, exch, "198.51.100.5:443"),
			},
			Culprits: 1,
			Want:     []string{"ExcludeHttpsRootDomain", "bare email domain"},
		},
		{
			Name: "http-redirect", Title: "HTTP 302 redirect to a host the certificate lacks",
			Obs: []*record.Observation{
				{Kind: record.KindHTTP, Source: record.SourceProxy, Time: At(0), Client: "10.0.0.20:50001", Server: "198.51.100.5:80",
					Method: "GET", Host: "autodiscover.contoso.com", URL: "http://autodiscover.contoso.com/autodiscover/autodiscover.xml",
					Status: 302, Location: "https://exchange.contoso.com/autodiscover/autodiscover.xml", Visibility: record.VisNone},
				WithBody(HTTPSObs(1, "POST", "https://exchange.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					POXAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
			},
			Culprits: 1,
			Want:     []string{"HTTP 302 redirect", "Location: https://mail.contoso.com/Autodiscover/Autodiscover.xml"},
		},
		{
			Name: "activesync", Title: "ActiveSync phone sent to the wrong mobilesync Url", Profiles: []string{"apple", "chromium"},
			Obs: []*record.Observation{
				WithBody(HTTPSObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					MobileSyncAnswer("https://exch01.contoso.com/Microsoft-Server-ActiveSync")),
				HTTPSObs(1, "OPTIONS", "https://exch01.contoso.com/Microsoft-Server-ActiveSync", 200, exch, "198.51.100.5:443"),
				HTTPSObs(2, "POST", "https://exch01.contoso.com/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=ABC&DeviceType=iPhone", 200, exch, "198.51.100.5:443"),
			},
			Culprits: 1,
			// exch01.contoso.com is an external name: a service name as likely as a server's, so <SERVER>.
			Want: []string{`Get-ActiveSyncVirtualDirectory -Server <SERVER> | Set-ActiveSyncVirtualDirectory -ExternalUrl https://mail.contoso.com/Microsoft-Server-ActiveSync`},
		},
		{
			Name: "principal-mismatch", Title: "Outlook Anywhere principal names a host the certificate lacks",
			Obs: []*record.Observation{
				WithBody(HTTPSObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					POXAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:exch01.contoso.com")),
				HTTPSObs(1, "RPC_IN_DATA", "https://mail.contoso.com/rpc/rpcproxy.dll?exch01.contoso.local:6001", 200, exch, "198.51.100.5:443"),
				// EWS on the same host: Outlook checks only the name there.
				HTTPSObs(2, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200, exch, "198.51.100.5:443"),
			},
			Culprits: 1,
			Want: []string{`Set-OutlookProvider EXPR -CertPrincipalName "msstd:mail.contoso.com"`,
				"Outlook Anywhere (RPC over HTTP): Autodiscover's external EXPR block sends Outlook to mail.contoso.com and requires the principal msstd:exch01.contoso.com (its CertPrincipalName, set with Set-OutlookProvider EXPR -CertPrincipalName)"},
			Absent: []string{"Set-WebServicesVirtualDirectory"},
		},
		{
			Name: "wildcard-principal", Title: "Wildcard certificate with msstd:mail.contoso.com",
			Obs: []*record.Observation{
				WithBody(HTTPSObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, wild, "198.51.100.5:443"),
					POXAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				HTTPSObs(1, "RPC_IN_DATA", "https://mail.contoso.com/rpc/rpcproxy.dll?exch01.contoso.local:6001", 200, wild, "198.51.100.5:443"),
				HTTPSObs(2, "GET", "https://mail.contoso.com/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/oab.xml", 200, wild, "198.51.100.5:443"),
			},
			Culprits: 1,
			Want:     []string{`Set-OutlookProvider EXPR -CertPrincipalName "msstd:*.contoso.com"`, "without wildcard expansion"},
		},
		{
			// The demo's shape: Outlook through the proxy in mirror mode
			// refuses exch01.contoso.local's certificate, so the proxy
			// records TLS connections without URLs for the SCP request and
			// for EWS and OAB, which the Autodiscover answer names.
			Name: "proxy-refused", Title: "Mirror-mode proxy: URL-less connections to a host several settings name",
			Obs: []*record.Observation{
				TLSOnly(0, "exch01.contoso.local", exch, ExchAddr),
				WithBody(HTTPSObs(1, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, ExchAddr),
					strings.NewReplacer("https://exch01.contoso.local/ecp/", "https://mail.contoso.com/ecp/", "https://exch01.contoso.local/owa/", "https://mail.contoso.com/owa/").
						Replace(POXAnswer("exch01.contoso.local", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com"))),
				TLSOnly(3, "exch01.contoso.local", exch, ExchAddr),
				TLSOnly(4, "exch01.contoso.local", exch, ExchAddr),
			},
			Culprits: 1,
			Want: []string{
				"the proxy saw only 3 TLS connections, not which request each carried",
				"AutodiscoverServiceInternalUri (most likely what #1 asked for); Autodiscover's internal EXCH EwsUrl (#2); Autodiscover's internal EXCH OABUrl (#2)",
				"Set-ClientAccessService -Identity EXCH01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml",
				`Set-WebServicesVirtualDirectory -Identity "EXCH01\EWS (Default Web Site)" -InternalUrl https://mail.contoso.com/EWS/Exchange.asmx`,
				`Set-OabVirtualDirectory -Identity "EXCH01\OAB (Default Web Site)" -InternalUrl https://mail.contoso.com/OAB`,
				"change every one of those URLs",
			},
			WantAll: []string{"<- the same as #3"}, // the long origin is said once in the timeline
			Absent:  []string{"Set-EcpVirtualDirectory", "Set-OwaVirtualDirectory"},
		},
		{
			// certsleuth check, as in: check --resolve ... https://mail.contoso.com/
			// https://exch01.contoso.local/EWS/Exchange.asmx (each target with
			// SNI, then again without).
			Name: "check", Title: "certsleuth check of two targets, one not on the certificate",
			Obs: []*record.Observation{
				ProbeObs(0, "https://mail.contoso.com/", true, exch, ExchAddr),
				ProbeObs(0, "https://mail.contoso.com/", false, exch, ExchAddr),
				ProbeObs(1, "https://exch01.contoso.local/EWS/Exchange.asmx", true, exch, ExchAddr),
				ProbeObs(1, "https://exch01.contoso.local/EWS/Exchange.asmx", false, exch, ExchAddr),
			},
			Culprits: 1,
			Want: []string{
				"Every client would warn on exch01.contoso.local: the server's certificate only covers mail.contoso.com and autodiscover.contoso.com",
				"<- you asked certsleuth check to connect to https://exch01.contoso.local/EWS/Exchange.asmx",
				"#4 the same without SNI",
				`if Exchange hands clients this URL, change it with Set-WebServicesVirtualDirectory -Identity "EXCH01\EWS (Default Web Site)" -InternalUrl https://mail.contoso.com/EWS/Exchange.asmx`,
			},
			Absent:  []string{"configured or cached", "Last Known Good", "typed in", "asked for exch01.contoso.local because"},
			WantAll: []string{"certsleuth check's second connection to the same target, without SNI, as old clients connect (#3)"},
		},
		{
			Name: "clean", Title: "Clean configuration: every URL on the certificate",
			Obs: []*record.Observation{
				{Kind: record.KindDNS, Source: record.SourcePcap, Time: At(-1), DNS: &record.DNS{Query: "_autodiscover._tcp.contoso.com", Type: "SRV", Rcode: "NOERROR",
					Answers: []record.DNSAnswer{{Type: "SRV", Name: "_autodiscover._tcp.contoso.com", Value: "autodiscover.contoso.com.", Port: 443}}}},
				WithBody(HTTPSObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					POXAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				HTTPSObs(1, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200, exch, "198.51.100.5:443"),
				HTTPSObs(2, "GET", "https://mail.contoso.com/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/oab.xml", 200, exch, "198.51.100.5:443"),
				HTTPSObs(3, "RPC_IN_DATA", "https://mail.contoso.com/rpc/rpcproxy.dll?exch01.contoso.local:6001", 200, exch, "198.51.100.5:443"),
			},
			Culprits: 0,
			Want:     []string{"no request would make a client warn"},
		},
	}
}

// Repeat is obs n times over, each copy an hour later: a big trace in
// which most connections repeat earlier ones.
func Repeat(obs []*record.Observation, n int) []*record.Observation {
	var out []*record.Observation
	for k := 0; k < n; k++ {
		for _, o := range obs {
			c := *o
			c.Time = o.Time.Add(time.Duration(k) * time.Hour)
			out = append(out, &c)
		}
	}
	return out
}
