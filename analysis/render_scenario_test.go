package analysis

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

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// The scenario traces: each is a short list of observations, as the proxy
// would record them, built here with certificates minted at test time.
// Keys come from fixed seeds and Ed25519 signatures are deterministic, so
// the certificates (and their fingerprints in the golden reports) are the
// same on every run; validity periods and timestamps are fixed dates.

var (
	scenarioNotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	scenarioNotAfter  = time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	scenarioDay       = time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC)
)

type scenarioPKI struct {
	ca    *x509.Certificate
	caKey ed25519.PrivateKey
	roots *x509.CertPool
	leafs map[string][]byte
}

var (
	pkiOnce sync.Once
	pki     *scenarioPKI
)

func seedKey(label string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("certsleuth scenario key: " + label))
	return ed25519.NewKeyFromSeed(s[:])
}

func scenarioCerts(t testing.TB) *scenarioPKI {
	pkiOnce.Do(func() {
		key := seedKey("ca")
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Contoso Scenario Root CA", Organization: []string{"certsleuth tests"}},
			NotBefore: scenarioNotBefore, NotAfter: scenarioNotAfter.AddDate(5, 0, 0),
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
		pki = &scenarioPKI{ca: ca, caKey: key, roots: roots, leafs: map[string][]byte{}}
	})
	return pki
}

// leaf returns the DER of a leaf for cn and sans, signed by the scenario CA.
func (p *scenarioPKI) leaf(cn string, sans ...string) [][]byte {
	key := cn + "|" + strings.Join(sans, ",")
	if der, ok := p.leafs[key]; ok {
		return [][]byte{der}
	}
	sum := sha256.Sum256([]byte(key))
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(sum[:8]), Subject: pkix.Name{CommonName: cn},
		DNSNames: sans, NotBefore: scenarioNotBefore, NotAfter: scenarioNotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(nil, tmpl, p.ca, seedKey(key).Public(), p.caKey)
	if err != nil {
		panic(err)
	}
	p.leafs[key] = der
	return [][]byte{der}
}

type scenario struct {
	name     string
	title    string
	profiles []string // nil: every profile
	obs      []*record.Observation
	// culprits is the number of culprit groups the report must have.
	culprits int
	// want are strings the text report must contain.
	want []string
	// absent are strings it must not contain.
	absent []string
}

func at(sec int) time.Time { return scenarioDay.Add(time.Duration(sec) * time.Second) }

func httpsObs(sec int, method, u string, status int, chain [][]byte, server string) *record.Observation {
	host := u[len("https://"):]
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	return &record.Observation{
		Kind: record.KindHTTP, Source: record.SourceProxy, Time: at(sec), Client: "10.0.0.20:50000",
		Server: server, Connect: host + ":443", SNI: host, Method: method, Host: host, URL: u,
		TLSVersion: "TLS 1.2", Status: status, Chain: chain, Visibility: record.VisVisible,
	}
}

func withBody(o *record.Observation, body string) *record.Observation {
	ct := "text/xml; charset=utf-8"
	if strings.HasPrefix(body, "{") {
		ct = "application/json"
	}
	o.Body = &record.Body{ContentType: ct, Text: body}
	return o
}

// poxAnswer builds a POX 2006a answer. internal and external are the hosts
// of the EXCH and EXPR URLs; principal is EXPR CertPrincipalName ("" for none).
func poxAnswer(internal, external, exprServer, principal string) string {
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

// tlsOnly is a TLS connection the proxy saw without a request: the client
// refused the certificate before sending one (mirror mode).
func tlsOnly(sec int, host string, chain [][]byte, server string) *record.Observation {
	return &record.Observation{
		Kind: record.KindTLS, Source: record.SourceProxy, Time: at(sec), Client: "10.0.0.20:50000",
		Server: server, Connect: host + ":443", SNI: host, TLSVersion: "TLS 1.2", Chain: chain, Visibility: record.VisVisible,
		ClientAlert: "bad certificate",
	}
}

// asOutlook sets the User-Agent Outlook for Windows sends (as the proxy
// records it) on every request of obs.
func asOutlook(obs []*record.Observation) []*record.Observation {
	for _, o := range obs {
		if o.Kind != record.KindDNS {
			o.UserAgent = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"
		}
	}
	return obs
}

// probeObs is a connection certsleuth check made to u, with SNI or without.
func probeObs(sec int, u string, sni bool, chain [][]byte, server string) *record.Observation {
	o := &record.Observation{Kind: record.KindTLS, Source: record.SourceProbe, Time: at(sec), Client: "10.0.0.20:50100",
		Server: server, URL: u, TLSVersion: "TLS 1.3", ALPN: []string{"http/1.1"}, Chain: chain, Visibility: record.VisVisible}
	if sni {
		o.SNI = strings.SplitN(strings.TrimPrefix(u, "https://"), "/", 2)[0]
	} else {
		o.NoSNI = true
	}
	return o
}

func mobileSyncAnswer(url string) string {
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

const exchAddr = "10.0.0.5:443"

func scenarioList(t testing.TB) []scenario {
	p := scenarioCerts(t)
	exch := p.leaf("mail.contoso.com", "mail.contoso.com", "autodiscover.contoso.com")
	web := p.leaf("www.contoso.com", "www.contoso.com")
	wild := p.leaf("*.contoso.com", "*.contoso.com", "contoso.com")
	dnsA := &record.Observation{Kind: record.KindDNS, Source: record.SourcePcap, Time: at(-1),
		DNS: &record.DNS{Query: "exch01.contoso.local", Type: "A", Rcode: "NOERROR", Answers: []record.DNSAnswer{{Type: "A", Name: "exch01.contoso.local", Value: "10.0.0.5"}}}}
	return []scenario{
		{
			name: "kb940726", title: "KB 940726: SCP, EWS and OAB internal URLs on the internal name",
			obs: asOutlook([]*record.Observation{
				dnsA,
				withBody(httpsObs(0, "POST", "https://exch01.contoso.local/autodiscover/autodiscover.xml", 200, exch, exchAddr),
					poxAnswer("exch01.contoso.local", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				httpsObs(2, "POST", "https://exch01.contoso.local/EWS/Exchange.asmx", 200, exch, exchAddr),
				httpsObs(3, "GET", "https://exch01.contoso.local/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/oab.xml", 200, exch, exchAddr),
				withBody(httpsObs(3600, "POST", "https://exch01.contoso.local/autodiscover/autodiscover.xml", 200, exch, exchAddr),
					poxAnswer("exch01.contoso.local", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				httpsObs(3602, "POST", "https://exch01.contoso.local/EWS/Exchange.asmx", 200, exch, exchAddr),
			}),
			culprits: 3,
			want: []string{
				"Set-ClientAccessService -Identity EXCH01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml",
				`Set-WebServicesVirtualDirectory -Identity "EXCH01\EWS (Default Web Site)" -InternalUrl https://mail.contoso.com/EWS/Exchange.asmx`,
				`Set-OabVirtualDirectory -Identity "EXCH01\OAB (Default Web Site)" -InternalUrl https://mail.contoso.com/OAB`,
				"mail.contoso.com. A 10.0.0.5",
				"service connection point",
			},
		},
		{
			name: "root-domain", title: "Root-domain probe lands on the web site's certificate",
			obs: []*record.Observation{
				httpsObs(0, "POST", "https://contoso.com/autodiscover/autodiscover.xml", 404, web, "203.0.113.80:443"),
				withBody(httpsObs(1, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					poxAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				httpsObs(3, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200, exch, "198.51.100.5:443"),
			},
			culprits: 1,
			want:     []string{"ExcludeHttpsRootDomain", "bare email domain"},
		},
		{
			name: "http-redirect", title: "HTTP 302 redirect to a host the certificate lacks",
			obs: []*record.Observation{
				{Kind: record.KindHTTP, Source: record.SourceProxy, Time: at(0), Client: "10.0.0.20:50001", Server: "198.51.100.5:80",
					Method: "GET", Host: "autodiscover.contoso.com", URL: "http://autodiscover.contoso.com/autodiscover/autodiscover.xml",
					Status: 302, Location: "https://exchange.contoso.com/autodiscover/autodiscover.xml", Visibility: record.VisNone},
				withBody(httpsObs(1, "POST", "https://exchange.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					poxAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
			},
			culprits: 1,
			want:     []string{"HTTP 302 redirect", "Location: https://mail.contoso.com/Autodiscover/Autodiscover.xml"},
		},
		{
			name: "activesync", title: "ActiveSync phone sent to the wrong mobilesync Url", profiles: []string{"apple", "chromium"},
			obs: []*record.Observation{
				withBody(httpsObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					mobileSyncAnswer("https://exch01.contoso.com/Microsoft-Server-ActiveSync")),
				httpsObs(1, "OPTIONS", "https://exch01.contoso.com/Microsoft-Server-ActiveSync", 200, exch, "198.51.100.5:443"),
				httpsObs(2, "POST", "https://exch01.contoso.com/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=ABC&DeviceType=iPhone", 200, exch, "198.51.100.5:443"),
			},
			culprits: 1,
			// exch01.contoso.com is an external name: a service name as likely as a server's, so <SERVER>.
			want: []string{`Get-ActiveSyncVirtualDirectory -Server <SERVER> | Set-ActiveSyncVirtualDirectory -ExternalUrl https://mail.contoso.com/Microsoft-Server-ActiveSync`},
		},
		{
			name: "principal-mismatch", title: "Outlook Anywhere principal names a host the certificate lacks",
			obs: []*record.Observation{
				withBody(httpsObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					poxAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:exch01.contoso.com")),
				httpsObs(1, "RPC_IN_DATA", "https://mail.contoso.com/rpc/rpcproxy.dll?exch01.contoso.local:6001", 200, exch, "198.51.100.5:443"),
				// EWS on the same host: Outlook checks only the name there.
				httpsObs(2, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200, exch, "198.51.100.5:443"),
			},
			culprits: 1,
			want: []string{`Set-OutlookProvider EXPR -CertPrincipalName "msstd:mail.contoso.com"`,
				"Outlook Anywhere (RPC over HTTP): Autodiscover's external EXPR block sends Outlook to mail.contoso.com and requires the principal msstd:exch01.contoso.com (its CertPrincipalName, set with Set-OutlookProvider EXPR -CertPrincipalName)"},
			absent: []string{"Set-WebServicesVirtualDirectory"},
		},
		{
			name: "wildcard-principal", title: "Wildcard certificate with msstd:mail.contoso.com",
			obs: []*record.Observation{
				withBody(httpsObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, wild, "198.51.100.5:443"),
					poxAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				httpsObs(1, "RPC_IN_DATA", "https://mail.contoso.com/rpc/rpcproxy.dll?exch01.contoso.local:6001", 200, wild, "198.51.100.5:443"),
				httpsObs(2, "GET", "https://mail.contoso.com/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/oab.xml", 200, wild, "198.51.100.5:443"),
			},
			culprits: 1,
			want:     []string{`Set-OutlookProvider EXPR -CertPrincipalName "msstd:*.contoso.com"`, "without wildcard expansion"},
		},
		{
			// The demo's shape: Outlook through the proxy in mirror mode
			// refuses exch01.contoso.local's certificate, so the proxy
			// records TLS connections without URLs for the SCP request and
			// for EWS and OAB, which the Autodiscover answer names.
			name: "proxy-refused", title: "Mirror-mode proxy: URL-less connections to a host several settings name",
			obs: []*record.Observation{
				tlsOnly(0, "exch01.contoso.local", exch, exchAddr),
				withBody(httpsObs(1, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, exchAddr),
					strings.NewReplacer("https://exch01.contoso.local/ecp/", "https://mail.contoso.com/ecp/", "https://exch01.contoso.local/owa/", "https://mail.contoso.com/owa/").
						Replace(poxAnswer("exch01.contoso.local", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com"))),
				tlsOnly(3, "exch01.contoso.local", exch, exchAddr),
				tlsOnly(4, "exch01.contoso.local", exch, exchAddr),
			},
			culprits: 1,
			want: []string{
				"the proxy saw only 3 TLS connections, not which request each carried",
				"AutodiscoverServiceInternalUri (most likely what #1 asked for); Autodiscover's internal EXCH EwsUrl (#2); Autodiscover's internal EXCH OABUrl (#2)",
				"Set-ClientAccessService -Identity EXCH01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml",
				`Set-WebServicesVirtualDirectory -Identity "EXCH01\EWS (Default Web Site)" -InternalUrl https://mail.contoso.com/EWS/Exchange.asmx`,
				`Set-OabVirtualDirectory -Identity "EXCH01\OAB (Default Web Site)" -InternalUrl https://mail.contoso.com/OAB`,
				"change every one of those URLs",
				"<- the same as #3", // the long origin is said once in the timeline
			},
			absent: []string{"Set-EcpVirtualDirectory", "Set-OwaVirtualDirectory"},
		},
		{
			// certsleuth check, as in: check --resolve ... https://mail.contoso.com/
			// https://exch01.contoso.local/EWS/Exchange.asmx (each target with
			// SNI, then again without).
			name: "check", title: "certsleuth check of two targets, one not on the certificate",
			obs: []*record.Observation{
				probeObs(0, "https://mail.contoso.com/", true, exch, exchAddr),
				probeObs(0, "https://mail.contoso.com/", false, exch, exchAddr),
				probeObs(1, "https://exch01.contoso.local/EWS/Exchange.asmx", true, exch, exchAddr),
				probeObs(1, "https://exch01.contoso.local/EWS/Exchange.asmx", false, exch, exchAddr),
			},
			culprits: 1,
			want: []string{
				"Every client would warn on exch01.contoso.local: the server's certificate only covers mail.contoso.com and autodiscover.contoso.com",
				"<- you asked certsleuth check to connect to https://exch01.contoso.local/EWS/Exchange.asmx",
				"(#3; the same without SNI, #4)",
				"certsleuth check's second connection to the same target, without SNI, as old clients connect (#3)",
				`if Exchange hands clients this URL, change it with Set-WebServicesVirtualDirectory -Identity "EXCH01\EWS (Default Web Site)" -InternalUrl https://mail.contoso.com/EWS/Exchange.asmx`,
			},
			absent: []string{"configured or cached", "Last Known Good", "typed in", "asked for exch01.contoso.local because"},
		},
		{
			name: "clean", title: "Clean configuration: every URL on the certificate",
			obs: []*record.Observation{
				{Kind: record.KindDNS, Source: record.SourcePcap, Time: at(-1), DNS: &record.DNS{Query: "_autodiscover._tcp.contoso.com", Type: "SRV", Rcode: "NOERROR",
					Answers: []record.DNSAnswer{{Type: "SRV", Name: "_autodiscover._tcp.contoso.com", Value: "autodiscover.contoso.com.", Port: 443}}}},
				withBody(httpsObs(0, "POST", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", 200, exch, "198.51.100.5:443"),
					poxAnswer("mail.contoso.com", "mail.contoso.com", "mail.contoso.com", "msstd:mail.contoso.com")),
				httpsObs(1, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200, exch, "198.51.100.5:443"),
				httpsObs(2, "GET", "https://mail.contoso.com/OAB/0d6f7c1e-aaaa-4bbb-8ccc-123456789abc/oab.xml", 200, exch, "198.51.100.5:443"),
				httpsObs(3, "RPC_IN_DATA", "https://mail.contoso.com/rpc/rpcproxy.dll?exch01.contoso.local:6001", 200, exch, "198.51.100.5:443"),
			},
			culprits: 0,
			want:     []string{"no request would make a client warn"},
		},
	}
}

// analyzeScenario runs Analyze the way replay does, with the scenario CA
// trusted and a fixed clock.
func analyzeScenario(t testing.TB, sc scenario) *Report {
	t.Helper()
	ps, err := match.SelectProfiles(sc.profiles)
	if err != nil {
		t.Fatal(err)
	}
	return Analyze(sc.obs, Options{Profiles: ps, Roots: scenarioCerts(t).roots, Now: scenarioDay})
}

func TestScenarios(t *testing.T) {
	for _, sc := range scenarioList(t) {
		t.Run(sc.name, func(t *testing.T) {
			r := analyzeScenario(t, sc)
			cs := r.Culprits()
			if len(cs) != sc.culprits {
				for _, c := range cs {
					t.Logf("culprit #%d %s: %v", c.First.Index, c.First.Name, c.Findings)
				}
				t.Fatalf("%d culprits, want %d", len(cs), sc.culprits)
			}
			if sc.culprits == 0 {
				for _, it := range r.Items {
					if len(it.Findings) > 0 {
						t.Errorf("clean scenario: item #%d has findings %v", it.Index, it.Findings)
					}
				}
			}
			var b strings.Builder
			if err := Render(&b, r, "text", RenderOptions{Title: sc.name}); err != nil {
				t.Fatal(err)
			}
			flat := strings.Join(strings.Fields(b.String()), " ")
			for _, w := range sc.want {
				if !strings.Contains(flat, w) {
					t.Errorf("text report lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range sc.absent {
				if strings.Contains(flat, w) {
					t.Errorf("text report says %q:\n%s", w, b.String())
				}
			}
		})
	}
}
