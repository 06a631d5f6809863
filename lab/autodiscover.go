package lab

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Autodiscover namespaces (MS-OXDSCLI §4.4; the wire values are http://).
const (
	nsPOXRequest     = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	nsResponse       = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	nsOutlookResp    = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
	nsMobileRequest  = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
	nsMobileResponse = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
	nsSOAPAutodisc   = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
)

// Fixed identifiers of the lab mailbox and OAB, so responses are stable.
const (
	mailboxGUID  = "5b9e1c2d-0000-4a1b-9c3d-112233445566"
	deploymentID = "3f0c2a8e-1d4b-4c55-9e21-7a6b0c9d1e22"
	oabGUID      = "0d6f7c1e-aaaa-4bbb-8ccc-123456789abc"
)

// adRequest is a POX or mobilesync Autodiscover request body.
type adRequest struct {
	XMLName xml.Name
	Request struct {
		EMailAddress             string
		AcceptableResponseSchema string
	}
}

// parseADRequest reads a POX or mobilesync request; mobile reports which.
func parseADRequest(r io.Reader) (email string, mobile bool, err error) {
	var req adRequest
	if err := xml.NewDecoder(io.LimitReader(r, 64<<10)).Decode(&req); err != nil {
		return "", false, fmt.Errorf("autodiscover request: %w", err)
	}
	mobile = req.XMLName.Space == nsMobileRequest || strings.Contains(req.Request.AcceptableResponseSchema, "/mobilesync/")
	return strings.TrimSpace(req.Request.EMailAddress), mobile, nil
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// el writes <name>value</name> when value is not empty.
func el(b *strings.Builder, indent, name, value string) {
	if value != "" {
		fmt.Fprintf(b, "%s<%s>%s</%s>\n", indent, name, esc(value), name)
	}
}

func (c *Config) legacyDN() string {
	user, _, _ := strings.Cut(c.Mailbox, "@")
	return "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + user
}

func oabURL(base string) string {
	if base == "" {
		return ""
	}
	return strings.TrimSuffix(base, "/") + "/" + oabGUID + "/"
}

func mapiURL(base, kind, mailbox string) string {
	if base == "" {
		return ""
	}
	_, domain, _ := strings.Cut(mailbox, "@")
	return strings.TrimSuffix(base, "/") + "/" + kind + "/?MailboxId=" + mailboxGUID + "@" + domain
}

// poxResponse is the Outlook (2006a) Autodiscover answer for the config
// (protocol-pox.md, type-pox.md). mapiHTTP adds the mapiHttp block, which
// Exchange returns only to clients that send X-MapiHttpCapability.
func (c *Config) poxResponse(mapiHTTP bool) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	fmt.Fprintf(&b, "<Autodiscover xmlns=%q>\n  <Response xmlns=%q>\n    <User>\n", nsResponse, nsOutlookResp)
	el(&b, "      ", "DisplayName", c.DisplayName)
	el(&b, "      ", "LegacyDN", c.legacyDN())
	el(&b, "      ", "AutoDiscoverSMTPAddress", c.Mailbox)
	el(&b, "      ", "DeploymentId", deploymentID)
	b.WriteString("    </User>\n    <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n")
	_, domain, _ := strings.Cut(c.Mailbox, "@")
	if mapiHTTP && c.MapiHTTP {
		b.WriteString("      <Protocol Type=\"mapiHttp\" Version=\"1\">\n        <MailStore>\n")
		el(&b, "          ", "InternalUrl", mapiURL(c.MAPI.Internal, "emsmdb", c.Mailbox))
		el(&b, "          ", "ExternalUrl", mapiURL(c.MAPI.External, "emsmdb", c.Mailbox))
		b.WriteString("        </MailStore>\n        <AddressBook>\n")
		el(&b, "          ", "InternalUrl", mapiURL(c.MAPI.Internal, "nspi", c.Mailbox))
		el(&b, "          ", "ExternalUrl", mapiURL(c.MAPI.External, "nspi", c.Mailbox))
		b.WriteString("        </AddressBook>\n      </Protocol>\n")
	}
	b.WriteString("      <Protocol>\n        <Type>EXCH</Type>\n")
	el(&b, "        ", "Server", mailboxGUID+"@"+domain)
	el(&b, "        ", "ServerVersion", "73C18880")
	el(&b, "        ", "ASUrl", c.EWS.Internal)
	el(&b, "        ", "EwsUrl", c.EWS.Internal)
	el(&b, "        ", "OOFUrl", c.EWS.Internal)
	el(&b, "        ", "OABUrl", oabURL(c.OAB.Internal))
	el(&b, "        ", "EcpUrl", urlJoin(c.OWA.Internal, "../ecp/"))
	b.WriteString("      </Protocol>\n")
	if c.OutlookAnywhere != "" {
		b.WriteString("      <Protocol>\n        <Type>EXPR</Type>\n")
		el(&b, "        ", "Server", c.OutlookAnywhere)
		el(&b, "        ", "SSL", "On")
		el(&b, "        ", "AuthPackage", "Basic")
		el(&b, "        ", "CertPrincipalName", c.CertPrincipalName)
		el(&b, "        ", "ASUrl", c.EWS.External)
		el(&b, "        ", "EwsUrl", c.EWS.External)
		el(&b, "        ", "OOFUrl", c.EWS.External)
		el(&b, "        ", "OABUrl", oabURL(c.OAB.External))
		el(&b, "        ", "EcpUrl", urlJoin(c.OWA.External, "../ecp/"))
		b.WriteString("      </Protocol>\n")
	}
	if c.OWA.Internal != "" || c.OWA.External != "" {
		b.WriteString("      <Protocol>\n        <Type>WEB</Type>\n")
		if c.OWA.Internal != "" {
			fmt.Fprintf(&b, "        <Internal><OWAUrl AuthenticationMethod=\"Basic, Fba\">%s</OWAUrl></Internal>\n", esc(c.OWA.Internal))
		}
		if c.OWA.External != "" {
			fmt.Fprintf(&b, "        <External><OWAUrl AuthenticationMethod=\"Fba\">%s</OWAUrl></External>\n", esc(c.OWA.External))
		}
		b.WriteString("      </Protocol>\n")
	}
	b.WriteString("    </Account>\n  </Response>\n</Autodiscover>\n")
	return b.String()
}

// easURL is the URL mobilesync Autodiscover returns: the ActiveSync
// ExternalUrl, else its InternalUrl.
func (c *Config) easURL() string {
	if c.EAS.External != "" {
		return c.EAS.External
	}
	return c.EAS.Internal
}

// mobileResponse is the mobilesync (2006) answer (MS-ASCMD §2.2.1.1, §4.2.4).
func (c *Config) mobileResponse() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	fmt.Fprintf(&b, "<Autodiscover xmlns=%q>\n  <Response xmlns=%q>\n    <Culture>en:us</Culture>\n    <User>\n", nsResponse, nsMobileResponse)
	el(&b, "      ", "DisplayName", c.DisplayName)
	el(&b, "      ", "EMailAddress", c.Mailbox)
	b.WriteString("    </User>\n    <Action>\n      <Settings>\n        <Server>\n          <Type>MobileSync</Type>\n")
	el(&b, "          ", "Url", c.easURL())
	el(&b, "          ", "Name", c.easURL())
	b.WriteString("        </Server>\n      </Settings>\n    </Action>\n  </Response>\n</Autodiscover>\n")
	return b.String()
}

// errorResponse is the POX error answer (MS-OXDSCLI §2.2.4.1.1.3).
func errorResponse(code, message string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns=%q>
  <Response>
    <Error Time="00:00:00.0000000" Id="2477272013">
      <ErrorCode>%s</ErrorCode>
      <Message>%s</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
`, nsResponse, esc(code), esc(message))
}

// soapSettings are the GetUserSettings values the lab knows (setting-soap.md).
func (c *Config) soapSettings() map[string]string {
	_, domain, _ := strings.Cut(c.Mailbox, "@")
	mapi := "False"
	if c.MapiHTTP {
		mapi = "True"
	}
	return map[string]string{
		"UserDisplayName":         c.DisplayName,
		"UserDN":                  c.legacyDN(),
		"UserDeploymentId":        deploymentID,
		"AutoDiscoverSMTPAddress": c.Mailbox,
		"InternalMailboxServer":   mailboxGUID + "@" + domain,
		"InternalEwsUrl":          c.EWS.Internal,
		"ExternalEwsUrl":          c.EWS.External,
		"InternalOABUrl":          oabURL(c.OAB.Internal),
		"ExternalOABUrl":          oabURL(c.OAB.External),
		"ExternalMailboxServer":   c.OutlookAnywhere,
		"InternalWebClientUrls":   c.OWA.Internal,
		"ExternalWebClientUrls":   c.OWA.External,
		"MapiHttpEnabled":         mapi,
		"CasVersion":              "15.2.1544.4",
	}
}

// soapRequest is the part of a GetUserSettings request the lab reads.
type soapRequest struct {
	Body struct {
		Msg struct {
			Request struct {
				Users struct {
					User []struct {
						Mailbox string
					}
				}
				RequestedSettings struct {
					Setting []string
				}
			}
		} `xml:"GetUserSettingsRequestMessage"`
	}
}

// soapResponse answers a GetUserSettings request (MS-OXWSADISC; the
// response shape of docs/web-service-reference/getusersettingsresponsemessage-soap.md).
func (c *Config) soapResponse(r io.Reader) (string, error) {
	var req soapRequest
	if err := xml.NewDecoder(io.LimitReader(r, 64<<10)).Decode(&req); err != nil {
		return "", fmt.Errorf("SOAP autodiscover request: %w", err)
	}
	mailbox := ""
	if u := req.Body.Msg.Request.Users.User; len(u) > 0 {
		mailbox = strings.TrimSpace(u[0].Mailbox)
	}
	known := c.soapSettings()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing">
  <s:Header>
    <a:Action s:mustUnderstand="1">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action>
    <h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
      <h:MajorVersion>15</h:MajorVersion><h:MinorVersion>2</h:MinorVersion><h:MajorBuildNumber>1544</h:MajorBuildNumber><h:MinorBuildNumber>4</h:MinorBuildNumber><h:Version>Exchange2019</h:Version>
    </h:ServerVersionInfo>
  </s:Header>
  <s:Body>
`)
	fmt.Fprintf(&b, "    <GetUserSettingsResponseMessage xmlns=%q>\n      <Response xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\n", nsSOAPAutodisc)
	b.WriteString("        <ErrorCode>NoError</ErrorCode>\n        <ErrorMessage />\n        <UserResponses>\n          <UserResponse>\n")
	if !strings.EqualFold(mailbox, c.Mailbox) {
		b.WriteString("            <ErrorCode>InvalidUser</ErrorCode>\n")
		fmt.Fprintf(&b, "            <ErrorMessage>Invalid user: '%s'</ErrorMessage>\n", esc(mailbox))
		b.WriteString("            <UserSettingErrors />\n            <UserSettings />\n")
	} else {
		b.WriteString("            <ErrorCode>NoError</ErrorCode>\n            <ErrorMessage>No error.</ErrorMessage>\n")
		var errs, sets strings.Builder
		for _, s := range req.Body.Msg.Request.RequestedSettings.Setting {
			s = strings.TrimSpace(s)
			v, ok := known[s]
			switch {
			case !ok:
				fmt.Fprintf(&errs, "              <UserSettingError><ErrorCode>InvalidSetting</ErrorCode><ErrorMessage>The requested setting is invalid.</ErrorMessage><SettingName>%s</SettingName></UserSettingError>\n", esc(s))
			case v == "":
				fmt.Fprintf(&errs, "              <UserSettingError><ErrorCode>SettingIsNotAvailable</ErrorCode><ErrorMessage>User setting '%s' is not available.</ErrorMessage><SettingName>%s</SettingName></UserSettingError>\n", esc(s), esc(s))
			default:
				fmt.Fprintf(&sets, "              <UserSetting i:type=\"StringSetting\"><Name>%s</Name><Value>%s</Value></UserSetting>\n", esc(s), esc(v))
			}
		}
		b.WriteString("            <UserSettingErrors>\n" + errs.String() + "            </UserSettingErrors>\n")
		b.WriteString("            <UserSettings>\n" + sets.String() + "            </UserSettings>\n")
	}
	b.WriteString("          </UserResponse>\n        </UserResponses>\n      </Response>\n    </GetUserSettingsResponseMessage>\n  </s:Body>\n</s:Envelope>\n")
	return b.String(), nil
}

// jsonProtocols are the Autodiscover v2 protocols the lab answers.
var jsonProtocols = []string{"AutodiscoverV1", "ActiveSync", "Ews"}

// jsonResponse answers an Autodiscover v2 request (D.5): the status and
// the JSON body.
func (c *Config) jsonResponse(protocol, host string) (int, string) {
	var url string
	switch strings.ToLower(protocol) {
	case "autodiscoverv1":
		protocol, url = "AutodiscoverV1", "https://"+host+"/autodiscover/autodiscover.xml"
	case "activesync":
		protocol, url = "ActiveSync", c.easURL()
	case "ews":
		protocol, url = "Ews", c.EWS.External
		if url == "" {
			url = c.EWS.Internal
		}
	default:
		b, _ := json.Marshal(map[string]string{
			"ErrorCode":    "InvalidProtocol",
			"ErrorMessage": fmt.Sprintf("The given protocol value '%s' is invalid. Supported values are '%s'", protocol, strings.Join(jsonProtocols, ",")),
		})
		return 400, string(b)
	}
	b, _ := json.Marshal(struct {
		Protocol string
		Url      string
	}{protocol, url})
	return 200, string(b)
}

// urlJoin resolves ref against base ("https://x/owa" + "../ecp/" -> "https://x/ecp/").
func urlJoin(base, ref string) string {
	if base == "" {
		return ""
	}
	i := strings.Index(base, "://")
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(base[i+3:], '/')
	if j < 0 {
		return base + "/" + strings.TrimPrefix(ref, "../")
	}
	return base[:i+3+j] + "/" + strings.TrimPrefix(ref, "../")
}
