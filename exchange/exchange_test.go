package exchange

import (
	"strings"
	"testing"
)

// Every Exchange setting the issue names has a catalog row.
func TestCatalogHasEverySetting(t *testing.T) {
	for _, id := range []string{SettingSCP, SettingEWS, SettingOAB, SettingUM, SettingActiveSync, SettingMAPI, SettingOWA,
		SettingECP, SettingOutlookAnywhere, SettingOutlookProvider, SettingHostRecord,
		SettingAutodiscoverDNS, SettingRootDomain, SettingHTTPRedirect, SettingSRV, SettingADRedirect,
		SettingIMAP, SettingPOP, SettingSMTP} {
		if LookupSetting(id) == nil {
			t.Errorf("no catalog row %q", id)
		}
	}
	seen := map[string]bool{}
	for _, s := range Settings {
		if seen[s.ID] {
			t.Errorf("duplicate row %q", s.ID)
		}
		seen[s.ID] = true
		if s.Title == "" || s.Produces == "" || s.Citation == "" || s.command == nil {
			t.Errorf("%s: title, produces, citation and command are required", s.ID)
		}
	}
	if LookupSetting("nope") != nil {
		t.Error("LookupSetting(nope) != nil")
	}
}

// One row per catalog entry: the command for each Exchange release, filled
// in with the names seen ("" means the setting does not exist there).
func TestCatalogCommands(t *testing.T) {
	p := FixParams{Server: "EXCH01", Scope: ScopeInternal, NewHost: "mail.contoso.com", Domain: "contoso.com", Address: "10.0.0.5",
		OldURL: "https://exch01.contoso.local/autodiscover/autodiscover.xml"}
	all := func(cmd string) map[string]string {
		m := map[string]string{}
		for _, v := range Versions {
			m[v] = cmd
		}
		return m
	}
	scp := func(cmdlet string) string {
		return cmdlet + " -Identity EXCH01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml"
	}
	tests := []struct {
		id    string
		p     FixParams
		want  map[string]string // release -> command
		note  map[string]string // release -> text the note contains
		known bool              // nil Versions: the same command for any release
	}{
		{id: SettingSCP, p: p,
			want: map[string]string{"2007": scp("Set-ClientAccessServer"), "2010": scp("Set-ClientAccessServer"), "2013": scp("Set-ClientAccessServer"),
				"2016": scp("Set-ClientAccessService"), "2019": scp("Set-ClientAccessService"), "SE": scp("Set-ClientAccessService")},
			note: map[string]string{"2007": "MSExchangeAutodiscoverAppPool", "2010": "MSExchangeAutodiscoverAppPool"}},
		{id: SettingEWS, p: p, want: all(`Set-WebServicesVirtualDirectory -Identity "EXCH01\EWS (Default Web Site)" -InternalUrl https://mail.contoso.com/EWS/Exchange.asmx`)},
		{id: SettingEWS, p: FixParams{Scope: ScopeExternal, NewHost: "mail.contoso.com"},
			// No server in the trace: the Get- cmdlet for a server the admin names, piped.
			want: all(`Get-WebServicesVirtualDirectory -Server <SERVER> | Set-WebServicesVirtualDirectory -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx`)},
		{id: SettingOAB, p: p, want: all(`Set-OabVirtualDirectory -Identity "EXCH01\OAB (Default Web Site)" -InternalUrl https://mail.contoso.com/OAB`)},
		{id: SettingUM, p: p,
			want: map[string]string{
				"2007": `Set-UMVirtualDirectory -Identity "EXCH01\UnifiedMessaging (Default Web Site)" -InternalUrl https://mail.contoso.com/UnifiedMessaging/Service.asmx`,
				"2010": `Set-UMVirtualDirectory -Identity "EXCH01\UnifiedMessaging (Default Web Site)" -InternalUrl https://mail.contoso.com/UnifiedMessaging/Service.asmx`,
				// Applies to 2007 and 2010 only (see the citation).
				"2013": "", "2016": "", "2019": "", "SE": ""},
			note: map[string]string{"2010": "follows the EWS URL"}},
		{id: SettingECP, p: p,
			want: map[string]string{"2007": "",
				"2010": `Set-EcpVirtualDirectory -Identity "EXCH01\ecp (Default Web Site)" -InternalUrl https://mail.contoso.com/ecp`,
				"2013": `Set-EcpVirtualDirectory -Identity "EXCH01\ecp (Default Web Site)" -InternalUrl https://mail.contoso.com/ecp`,
				"2016": `Set-EcpVirtualDirectory -Identity "EXCH01\ecp (Default Web Site)" -InternalUrl https://mail.contoso.com/ecp`,
				"2019": `Set-EcpVirtualDirectory -Identity "EXCH01\ecp (Default Web Site)" -InternalUrl https://mail.contoso.com/ecp`,
				"SE":   `Set-EcpVirtualDirectory -Identity "EXCH01\ecp (Default Web Site)" -InternalUrl https://mail.contoso.com/ecp`}},
		{id: SettingOWA, p: p, want: all(`Set-OwaVirtualDirectory -Identity "EXCH01\owa (Default Web Site)" -InternalUrl https://mail.contoso.com/owa`)},
		{id: SettingActiveSync, p: FixParams{Server: "EXCH01", NewHost: "mail.contoso.com"}, // phones: external unless said
			want: all(`Set-ActiveSyncVirtualDirectory -Identity "EXCH01\Microsoft-Server-ActiveSync (Default Web Site)" -ExternalUrl https://mail.contoso.com/Microsoft-Server-ActiveSync`)},
		{id: SettingActiveSync, p: p,
			want: all(`Set-ActiveSyncVirtualDirectory -Identity "EXCH01\Microsoft-Server-ActiveSync (Default Web Site)" -InternalUrl https://mail.contoso.com/Microsoft-Server-ActiveSync`)},
		{id: SettingMAPI, p: p,
			want: map[string]string{"2007": "", "2010": "",
				"2013": `Set-MapiVirtualDirectory -Identity "EXCH01\mapi (Default Web Site)" -InternalUrl https://mail.contoso.com/mapi`,
				"2016": `Set-MapiVirtualDirectory -Identity "EXCH01\mapi (Default Web Site)" -InternalUrl https://mail.contoso.com/mapi`,
				"2019": `Set-MapiVirtualDirectory -Identity "EXCH01\mapi (Default Web Site)" -InternalUrl https://mail.contoso.com/mapi`,
				"SE":   `Set-MapiVirtualDirectory -Identity "EXCH01\mapi (Default Web Site)" -InternalUrl https://mail.contoso.com/mapi`}},
		{id: SettingOutlookAnywhere, p: p,
			want: map[string]string{
				"2007": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -ExternalHostname mail.contoso.com`,
				"2010": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -ExternalHostname mail.contoso.com`,
				"2013": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -InternalHostname mail.contoso.com -InternalClientsRequireSsl $true`,
				"2016": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -InternalHostname mail.contoso.com -InternalClientsRequireSsl $true`,
				"2019": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -InternalHostname mail.contoso.com -InternalClientsRequireSsl $true`,
				"SE":   `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -InternalHostname mail.contoso.com -InternalClientsRequireSsl $true`},
			note: map[string]string{"2010": "no -InternalHostname"}},
		{id: SettingOutlookAnywhere, p: FixParams{Server: "EXCH01", Scope: ScopeExternal, NewHost: "mail.contoso.com"},
			want: map[string]string{
				"2007": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -ExternalHostname mail.contoso.com`,
				"2010": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -ExternalHostname mail.contoso.com`,
				"2013": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -ExternalHostname mail.contoso.com -ExternalClientsRequireSsl $true`,
				"2016": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -ExternalHostname mail.contoso.com -ExternalClientsRequireSsl $true`,
				"2019": `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -ExternalHostname mail.contoso.com -ExternalClientsRequireSsl $true`,
				"SE":   `Set-OutlookAnywhere -Identity "EXCH01\Rpc (Default Web Site)" -ExternalHostname mail.contoso.com -ExternalClientsRequireSsl $true`}},
		{id: SettingOutlookProvider, p: p, want: all(`Set-OutlookProvider EXPR -CertPrincipalName "msstd:mail.contoso.com"`)},
		{id: SettingAutodiscoverDNS, p: p, known: true,
			want: all("point autodiscover.contoso.com (DNS A or CNAME) at the Exchange server, or add autodiscover.contoso.com to the Exchange certificate; then check with: certsleuth check https://autodiscover.contoso.com/autodiscover/autodiscover.xml")},
		{id: SettingRootDomain, p: p, known: true,
			want: all(`make https://contoso.com/autodiscover/ fail fast (no answer on port 443, or a 404 from a certificate that covers contoso.com), or on each Outlook client run: reg add HKCU\Software\Microsoft\Office\16.0\Outlook\AutoDiscover /v ExcludeHttpsRootDomain /t REG_DWORD /d 1 /f`)},
		{id: SettingHTTPRedirect, p: p, known: true,
			want: all("change the redirect on http://autodiscover.contoso.com/autodiscover/autodiscover.xml to Location: https://mail.contoso.com/Autodiscover/Autodiscover.xml (a name the certificate covers)")},
		{id: SettingSRV, p: p, known: true, want: all("_autodiscover._tcp.contoso.com. 3600 IN SRV 0 0 443 mail.contoso.com.")},
		{id: SettingADRedirect, p: p, known: true,
			want: all("make the Autodiscover server that answered with the redirect send https://mail.contoso.com/Autodiscover/Autodiscover.xml instead of https://exch01.contoso.local/autodiscover/autodiscover.xml")},
		{id: SettingHostRecord, p: p, known: true,
			want: all("if it does not resolve yet, in the internal DNS zone: mail.contoso.com. A 10.0.0.5 (so clients inside the network reach EXCH01 under the name on the certificate)")},
		{id: SettingHostRecord, p: FixParams{Server: "EXCH01", Scope: ScopeExternal, NewHost: "mail.contoso.com", Address: "198.51.100.5"}, known: true,
			want: all("if it does not resolve yet, in the public DNS zone: mail.contoso.com. A 198.51.100.5 (so clients outside the network reach EXCH01 under the name on the certificate)")},
		{id: SettingHostRecord, p: FixParams{}, known: true,
			want: all("if it does not resolve yet, in the internal DNS zone: <NAME ON CERTIFICATE>. A <address of the Exchange server> (so clients inside the network reach the server under the name on the certificate)")},
		// Mail protocols: OldURL is the name the client used (a host, or a URL).
		{id: SettingIMAP, p: FixParams{Server: "EXCH01", OldURL: "mail.contoso.com"}, want: map[string]string{
			"2007": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services IMAP; Set-ImapSettings -Server EXCH01 -X509CertificateName mail.contoso.com; Restart-Service MSExchangeIMAP4`,
			"2010": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services IMAP; Set-ImapSettings -Server EXCH01 -X509CertificateName mail.contoso.com; Restart-Service MSExchangeIMAP4`,
			"2013": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services IMAP; Set-ImapSettings -Server EXCH01 -X509CertificateName mail.contoso.com; Restart-Service MSExchangeIMAP4,MSExchangeIMAP4BE`,
			"2016": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services IMAP; Set-ImapSettings -Server EXCH01 -X509CertificateName mail.contoso.com; Restart-Service MSExchangeIMAP4,MSExchangeIMAP4BE`,
			"2019": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services IMAP; Set-ImapSettings -Server EXCH01 -X509CertificateName mail.contoso.com; Restart-Service MSExchangeIMAP4,MSExchangeIMAP4BE`,
			"SE":   `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services IMAP; Set-ImapSettings -Server EXCH01 -X509CertificateName mail.contoso.com; Restart-Service MSExchangeIMAP4,MSExchangeIMAP4BE`}},
		{id: SettingPOP, p: FixParams{OldURL: "https://Mail.Contoso.com/"}, want: map[string]string{
			"2007": `Enable-ExchangeCertificate -Server <SERVER> -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services POP; Set-PopSettings -Server <SERVER> -X509CertificateName mail.contoso.com; Restart-Service MSExchangePOP3`,
			"2010": `Enable-ExchangeCertificate -Server <SERVER> -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services POP; Set-PopSettings -Server <SERVER> -X509CertificateName mail.contoso.com; Restart-Service MSExchangePOP3`,
			"2013": `Enable-ExchangeCertificate -Server <SERVER> -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services POP; Set-PopSettings -Server <SERVER> -X509CertificateName mail.contoso.com; Restart-Service MSExchangePOP3,MSExchangePOP3BE`,
			"2016": `Enable-ExchangeCertificate -Server <SERVER> -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services POP; Set-PopSettings -Server <SERVER> -X509CertificateName mail.contoso.com; Restart-Service MSExchangePOP3,MSExchangePOP3BE`,
			"2019": `Enable-ExchangeCertificate -Server <SERVER> -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services POP; Set-PopSettings -Server <SERVER> -X509CertificateName mail.contoso.com; Restart-Service MSExchangePOP3,MSExchangePOP3BE`,
			"SE":   `Enable-ExchangeCertificate -Server <SERVER> -Thumbprint <thumbprint of a certificate that covers mail.contoso.com> -Services POP; Set-PopSettings -Server <SERVER> -X509CertificateName mail.contoso.com; Restart-Service MSExchangePOP3,MSExchangePOP3BE`}},
		{id: SettingSMTP, p: FixParams{Server: "EXCH01", OldURL: "smtp.contoso.com"}, want: map[string]string{
			"2007": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers smtp.contoso.com> -Services SMTP; Set-ReceiveConnector "EXCH01\Client EXCH01" -Fqdn smtp.contoso.com`,
			"2010": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers smtp.contoso.com> -Services SMTP; Set-ReceiveConnector "EXCH01\Client EXCH01" -Fqdn smtp.contoso.com`,
			"2013": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers smtp.contoso.com> -Services SMTP; Set-ReceiveConnector "EXCH01\Client Frontend EXCH01" -Fqdn smtp.contoso.com`,
			"2016": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers smtp.contoso.com> -Services SMTP; Set-ReceiveConnector "EXCH01\Client Frontend EXCH01" -Fqdn smtp.contoso.com`,
			"2019": `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers smtp.contoso.com> -Services SMTP; Set-ReceiveConnector "EXCH01\Client Frontend EXCH01" -Fqdn smtp.contoso.com`,
			"SE":   `Enable-ExchangeCertificate -Server EXCH01 -Thumbprint <thumbprint of a certificate that covers smtp.contoso.com> -Services SMTP; Set-ReceiveConnector "EXCH01\Client Frontend EXCH01" -Fqdn smtp.contoso.com`}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			s := LookupSetting(tt.id)
			if s == nil {
				t.Fatalf("no row %q", tt.id)
			}
			if (s.Versions == nil) != tt.known {
				t.Errorf("Versions = %v", s.Versions)
			}
			for _, v := range Versions {
				want, ok := tt.want[v]
				if !ok {
					t.Fatalf("test lacks release %s", v)
				}
				got, err := s.Command(v, tt.p)
				switch {
				case want == "" && err == nil:
					t.Errorf("Exchange %s: got %q, want an error (not in that release)", v, got)
				case want == "" && !strings.Contains(err.Error(), "not in Exchange "+v):
					t.Errorf("Exchange %s: error %q does not say so", v, err)
				case want != "" && err != nil:
					t.Errorf("Exchange %s: %v", v, err)
				case want != "" && got != want:
					t.Errorf("Exchange %s:\n got %s\nwant %s", v, got, want)
				}
				if n := tt.note[v]; n != "" && !strings.Contains(s.Note(v), n) {
					t.Errorf("Exchange %s: note %q lacks %q", v, s.Note(v), n)
				}
			}
			if got, _ := s.Command("", tt.p); got != tt.want[DefaultVersion] && tt.want[DefaultVersion] != "" {
				t.Errorf("no version: %q, want the %s command", got, DefaultVersion)
			}
		})
	}
}

func TestServerFromHost(t *testing.T) {
	for in, want := range map[string]string{
		"exch01.contoso.local": "EXCH01", "EXCH01": "EXCH01", "mail.contoso.com": "", "autodiscover.contoso.com": "",
		"*.contoso.com": "", "[::1]": "", "": "", "pop.contoso.com": "", "pop3.contoso.com": "", "imap.contoso.com": "", "smtp.contoso.com": "",
	} {
		if got := ServerFromHost(in); got != want {
			t.Errorf("ServerFromHost(%q) = %q, want %q", in, got, want)
		}
	}
}
