package lab

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/certsleuth/certsleuth/record"
)

const maxRedirects = 10 // action-pox.md, redirecturl-pox.md: stop after 10 redirects

func poxRequest(mailbox string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="` + nsPOXRequest + `">
  <Request>
    <EMailAddress>` + esc(mailbox) + `</EMailAddress>
    <AcceptableResponseSchema>` + nsOutlookResp + `</AcceptableResponseSchema>
  </Request>
</Autodiscover>
`
}

func mobileRequest(mailbox string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="` + nsMobileRequest + `">
  <Request>
    <EMailAddress>` + esc(mailbox) + `</EMailAddress>
    <AcceptableResponseSchema>` + nsMobileResponse + `</AcceptableResponseSchema>
  </Request>
</Autodiscover>
`
}

// candidate is one Autodiscover URL to try and where it came from.
type candidate struct {
	url, purpose string
	origin       Setting
	words        string
}

// autodiscover runs the Autodiscover lookup in the client's order:
// the candidates (SCP, root domain, autodiscover.<domain>), then the HTTP
// redirect, then DNS SRV (MS-OXDISCO §3.1.5; KB 3211279 for Outlook;
// MS-ASCMD §2.2.1.1 for phones). It returns the first settings answer.
func (c *client) autodiscover(cands []candidate) *poxSettings {
	cfg := c.lab.config()
	declined := c.declineWords()
	try := func(cd candidate) *poxSettings {
		for hops := 0; hops <= maxRedirects; hops++ {
			st := c.do(c.adRequest(cd))
			switch st.Outcome {
			case OutcomeWarned:
				st.Then = declined
				return nil
			case OutcomeOK:
			default:
				st.Then = "this Autodiscover URL failed; " + c.cli.App + " tries the next method"
				return nil
			}
			s, err := parseSettings(st.body)
			if err != nil {
				st.Outcome, st.Err, st.Then = OutcomeFailed, err.Error(), "the answer is unusable; "+c.cli.App+" tries the next method"
				return nil
			}
			if strings.EqualFold(s.Response.Account.Action, "redirectUrl") && s.Response.Account.RedirectUrl != "" {
				st.Then = "Autodiscover answered redirectUrl " + s.Response.Account.RedirectUrl
				cd = candidate{url: s.Response.Account.RedirectUrl, purpose: "Autodiscover: the redirectUrl the previous answer gave", origin: cd.origin,
					words: "the Autodiscover redirectUrl answered by " + cd.url}
				continue
			}
			st.Then = "Autodiscover answered with the account's settings"
			return s
		}
		return nil
	}
	for _, cd := range cands {
		if s := try(cd); s != nil {
			return s
		}
	}
	// HTTP redirect method: an unauthenticated GET on port 80; follow a 302 only to https.
	redirURL := "http://autodiscover." + cfg.Domain + "/autodiscover/autodiscover.xml"
	st := c.do(request{purpose: "Autodiscover: HTTP redirect method (plain HTTP GET)", method: http.MethodGet, url: redirURL,
		origin: SettingHTTPRedirect, originWords: "Autodiscover's HTTP redirect method: GET http://autodiscover.<domain>/autodiscover/autodiscover.xml"})
	if st.Outcome == OutcomeOK && (st.Status == http.StatusFound || st.Status == http.StatusMovedPermanently) && strings.HasPrefix(strings.ToLower(st.Location), "https://") {
		st.Then = "the server redirects to " + st.Location
		if c.cli.App == "Outlook" {
			st.Then += "; Outlook asks \"Allow this website to configure " + cfg.Mailbox + " server settings?\" and the user clicks Allow"
		}
		if s := try(candidate{url: st.Location, purpose: "Autodiscover: the target of the HTTP redirect", origin: SettingHTTPRedirect,
			words: "the HTTP 302 Location from " + redirURL + " (IIS HTTP Redirect on the Autodiscover redirect site)"}); s != nil {
			return s
		}
	} else {
		if st.Then == "" {
			st.Then = "no usable redirect; " + c.cli.App + " tries DNS SRV"
		}
	}
	// DNS SRV _autodiscover._tcp.<domain> (MS-OXDSCLI "Locations Found from SRV DNS Records").
	q := "_autodiscover._tcp." + cfg.Domain
	srvs, err := c.lab.Resolver.LookupSRV("autodiscover", "tcp", cfg.Domain)
	dns := &record.Observation{Kind: record.KindDNS, Source: record.SourceDemo, DNS: &record.DNS{Query: q, Type: "SRV", Rcode: "NOERROR"},
		Note: "requested because: Autodiscover's DNS SRV method"}
	if err != nil {
		dns.DNS.Rcode = "NXDOMAIN"
	}
	for _, s := range srvs {
		dns.DNS.Answers = append(dns.DNS.Answers, record.DNSAnswer{Type: "SRV", Name: q, Value: strings.TrimSuffix(s.Target, "."), Port: int(s.Port), Prio: int(s.Priority), Weight: int(s.Weight)})
	}
	srvStep := c.add(&Step{Purpose: "Autodiscover: DNS SRV " + q, Outcome: OutcomeInfo, Obs: dns})
	if err != nil || len(srvs) == 0 {
		srvStep.Then = "no SRV record; Autodiscover has no method left"
		return nil
	}
	for _, s := range srvs {
		if s.Port != 443 {
			continue
		}
		target := strings.TrimSuffix(s.Target, ".")
		srvStep.Then = fmt.Sprintf("the SRV record points at %s:443", target)
		if c.cli.App == "Outlook" {
			srvStep.Then += "; Outlook asks \"Allow this website to configure " + cfg.Mailbox + " server settings?\" and the user clicks Allow"
		}
		return try(candidate{url: "https://" + target + "/autodiscover/autodiscover.xml", purpose: "Autodiscover: the SRV record's target", origin: SettingSRV,
			words: "the DNS SRV record " + q + " -> " + target})
	}
	srvStep.Then = "no SRV record points at port 443"
	return nil
}

func (c *client) declineWords() string {
	if c.cli.App == "Mail" {
		return "the user taps Cancel; Mail treats this Autodiscover URL as failed and tries the next one"
	}
	return "the user clicks No; " + c.cli.App + " treats this Autodiscover URL as failed and tries the next method"
}

func (c *client) adRequest(cd candidate) request {
	cfg := c.lab.config()
	h := http.Header{"Content-Type": {"text/xml; charset=utf-8"}}
	body := poxRequest(cfg.Mailbox)
	if c.cli.Kind == Phone {
		body = mobileRequest(cfg.Mailbox)
	} else if c.cli.MapiHTTP {
		h.Set("X-MapiHttpCapability", "1")
	}
	return request{purpose: cd.purpose, method: http.MethodPost, url: cd.url, header: h, body: body, origin: cd.origin, originWords: cd.words, keepBody: true}
}

// outlook plays Outlook: Autodiscover in Outlook's order, then the mailbox
// connection, EWS and the OAB with the URLs Autodiscover returned.
func (c *client) outlook() {
	cfg := c.lab.config()
	var cands []candidate
	switch {
	case !c.cli.DomainJoined:
		c.note("Autodiscover: no SCP lookup", "the PC is not domain-joined, so there is no Active Directory to ask")
	case cfg.SCP == "":
		c.note("Autodiscover: SCP lookup", "Active Directory holds no Autodiscover SCP")
	default:
		cands = append(cands, candidate{url: cfg.SCP, purpose: "Autodiscover: the SCP URL from Active Directory", origin: SettingSCP,
			words: "the Autodiscover service connection point in Active Directory (serviceBindingInformation, set by Set-ClientAccessService -AutoDiscoverServiceInternalUri)"})
	}
	if cfg.Client.ExcludeHTTPSRootDomain {
		c.note("Autodiscover: root domain", "policy ExcludeHttpsRootDomain=1: Outlook skips https://"+cfg.Domain+"/autodiscover/autodiscover.xml")
	} else {
		cands = append(cands, candidate{url: "https://" + cfg.Domain + "/autodiscover/autodiscover.xml", purpose: "Autodiscover: the root domain", origin: SettingRootDomain,
			words: "Outlook's root-domain Autodiscover probe, https://<e-mail domain>/autodiscover/autodiscover.xml; the DNS A record for " + cfg.Domain + " decides who answers"})
	}
	cands = append(cands, candidate{url: "https://autodiscover." + cfg.Domain + "/autodiscover/autodiscover.xml", purpose: "Autodiscover: autodiscover.<domain>", origin: SettingAutodiscover,
		words: "Outlook's autodiscover.<e-mail domain> Autodiscover probe (DNS A record for autodiscover." + cfg.Domain + ")"})
	s := c.autodiscover(cands)
	if s == nil {
		c.res.Done = "Autodiscover failed: Outlook cannot set up or update the account"
		return
	}
	want := "EXPR"
	if c.cli.Inside {
		want = "EXCH"
	}
	var mapiURL, ews, oab, server, principal string
	for _, p := range s.Response.Account.Protocol {
		switch {
		case strings.EqualFold(p.TypeAttr, "mapiHttp"):
			mapiURL = p.MailStore.ExternalUrl
			if c.cli.Inside {
				mapiURL = p.MailStore.InternalUrl
			}
		case strings.EqualFold(p.Type, want):
			ews, oab = p.EwsUrl, p.OABUrl
			if want == "EXPR" {
				server, principal = p.Server, p.CertPrincipalName
				if principal == "" {
					principal = "msstd:" + p.Server // certprincipalname-pox.md: the default
				}
			}
		}
	}
	block := "the " + want + " block of the Autodiscover answer"
	ok := true
	switch {
	case mapiURL != "":
		st := c.do(request{purpose: "Mailbox: MAPI over HTTP Connect", method: http.MethodPost, url: mapiURL,
			header: http.Header{"X-RequestType": {"Connect"}, "Content-Type": {"application/mapi-http"}, "X-ClientApplication": {"Outlook/16.0.17928.20114"}},
			body:   "\x00", origin: SettingMAPI, originWords: "the mapiHttp MailStore " + map[bool]string{true: "InternalUrl", false: "ExternalUrl"}[c.cli.Inside] + " in the Autodiscover answer (Set-MapiVirtualDirectory)"})
		ok = c.after(st, "the mailbox does not connect") && ok
	case server != "":
		st := c.do(request{purpose: "Mailbox: Outlook Anywhere (RPC over HTTP)", method: "RPC_IN_DATA", url: "https://" + server + "/rpc/rpcproxy.dll",
			header: http.Header{"Content-Length": {"0"}}, origin: SettingOutlookAnywhere, principal: principal,
			originWords: "the EXPR Server in the Autodiscover answer (Set-OutlookAnywhere -ExternalHostname); principal " + principal + " (Set-OutlookProvider EXPR -CertPrincipalName)"})
		ok = c.after(st, "Outlook keeps prompting for the password and stays disconnected") && ok
	default:
		c.note("Mailbox", "connects with RPC over TCP inside the network: no TLS, no certificate")
	}
	if ews != "" {
		st := c.do(request{purpose: "EWS: free/busy and Out of Office", method: http.MethodPost, url: ews,
			header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}, body: ewsRequest,
			origin: SettingEWS, originWords: "EwsUrl in " + block + " (Set-WebServicesVirtualDirectory -" + map[bool]string{true: "InternalUrl", false: "ExternalUrl"}[c.cli.Inside] + ")"})
		ok = c.after(st, "free/busy and Out of Office are unavailable") && ok
	}
	if oab != "" {
		st := c.do(request{purpose: "OAB: offline address book download", method: http.MethodGet, url: strings.TrimSuffix(oab, "/") + "/oab.xml",
			origin: SettingOAB, originWords: "OABUrl in " + block + " (Set-OabVirtualDirectory -" + map[bool]string{true: "InternalUrl", false: "ExternalUrl"}[c.cli.Inside] + ")"})
		ok = c.after(st, "the offline address book is not downloaded") && ok
	}
	if ok {
		c.res.Done = "Outlook is connected: mailbox, free/busy and address book work"
	} else {
		c.res.Done = "Outlook is configured, but some services fail"
	}
}

// after sets what the client does after a service request and reports
// whether it succeeded.
func (c *client) after(st *Step, failed string) bool {
	switch st.Outcome {
	case OutcomeOK:
		return true
	case OutcomeWarned:
		if c.cli.App == "Mail" {
			st.Then = "the user taps Cancel: " + failed
		} else {
			st.Then = "the user clicks No: " + failed
		}
	default:
		st.Then = failed
	}
	return false
}

const ewsRequest = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header><t:RequestServerVersion Version="Exchange2013"/></soap:Header>
  <soap:Body>
    <m:GetUserAvailabilityRequest>
      <m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.com</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData></m:MailboxDataArray>
      <t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-11-23T00:00:00</t:StartTime><t:EndTime>2026-11-24T00:00:00</t:EndTime></t:TimeWindow><t:RequestedView>FreeBusy</t:RequestedView></t:FreeBusyViewOptions>
    </m:GetUserAvailabilityRequest>
  </soap:Body>
</soap:Envelope>
`

// phone plays an ActiveSync device (MS-ASCMD §2.2.1.1): mobilesync
// Autodiscover on the root domain and autodiscover.<domain>, the HTTP
// redirect and SRV; then OPTIONS and FolderSync on the returned URL.
func (c *client) phone() {
	cfg := c.lab.config()
	s := c.autodiscover([]candidate{
		{url: "https://" + cfg.Domain + "/autodiscover/autodiscover.xml", purpose: "Autodiscover (mobilesync): the root domain", origin: SettingRootDomain,
			words: "the ActiveSync root-domain Autodiscover probe, https://<e-mail domain>/autodiscover/autodiscover.xml"},
		{url: "https://autodiscover." + cfg.Domain + "/autodiscover/autodiscover.xml", purpose: "Autodiscover (mobilesync): autodiscover.<domain>", origin: SettingAutodiscover,
			words: "the ActiveSync autodiscover.<e-mail domain> probe (DNS A record for autodiscover." + cfg.Domain + ")"},
	})
	if s == nil {
		c.res.Done = "Autodiscover failed: the account is not added"
		return
	}
	eas := ""
	for _, sv := range s.Response.Action.Settings.Server {
		if strings.EqualFold(sv.Type, "MobileSync") {
			eas = sv.Url
		}
	}
	if eas == "" {
		c.note("ActiveSync", "the Autodiscover answer has no MobileSync server")
		c.res.Done = "the account is not added"
		return
	}
	words := "the MobileSync Url in the mobilesync Autodiscover answer (Set-ActiveSyncVirtualDirectory -ExternalUrl)"
	st := c.do(request{purpose: "ActiveSync: OPTIONS (protocol versions)", method: http.MethodOptions, url: eas, origin: SettingEAS, originWords: words,
		header: http.Header{"MS-ASProtocolVersion": {"16.1"}}})
	if !c.after(st, "the account is not added") {
		c.res.Done = "the account is not added"
		return
	}
	st = c.do(request{purpose: "ActiveSync: FolderSync", method: http.MethodPost, url: eas + "?Cmd=FolderSync&User=alice&DeviceId=LAB0001&DeviceType=iPhone", origin: SettingEAS, originWords: words,
		header: http.Header{"MS-ASProtocolVersion": {"16.1"}, "Content-Type": {"application/vnd.ms-sync.wbxml"}}, body: "\x03\x01\x6a\x00"})
	if !c.after(st, "mail does not sync") {
		c.res.Done = "the account is added, but mail does not sync"
		return
	}
	c.res.Done = "the account is added and mail syncs"
}
