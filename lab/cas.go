package lab

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// casHandler is the fake Exchange Client Access server: Autodiscover (POX,
// mobilesync, SOAP, v2 JSON), EWS, OAB, MAPI/HTTP, RPC/HTTP, ActiveSync
// and OWA, answering plausibly. Authentication is not modelled: every
// request is treated as alice's.
func (l *Lab) casHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := l.config()
		p := strings.ToLower(r.URL.Path)
		w.Header().Set("Server", "Microsoft-IIS/10.0")
		w.Header().Set("X-FEServer", cfg.Server)
		switch {
		case p == "/autodiscover/autodiscover.xml":
			l.pox(w, r, cfg)
		case p == "/autodiscover/autodiscover.svc":
			if r.Method != http.MethodPost {
				http.Error(w, "POST a GetUserSettings request", http.StatusMethodNotAllowed)
				return
			}
			body, err := cfg.soapResponse(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			io.WriteString(w, body)
		case p == "/autodiscover/autodiscover.json" || strings.HasPrefix(p, "/autodiscover/autodiscover.json/"):
			// D.5: /autodiscover.json/v1.0/<smtp>?Protocol=P or ?Email=<smtp>&Protocol=P; unauthenticated.
			status, body := cfg.jsonResponse(r.URL.Query().Get("Protocol"), hostOnly(r.Host))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			io.WriteString(w, body)
		case p == "/ews/exchange.asmx":
			ews(w, r)
		case strings.HasPrefix(p, "/oab/"):
			oab(w, r, cfg)
		case strings.HasPrefix(p, "/mapi/emsmdb") || strings.HasPrefix(p, "/mapi/nspi"):
			mapi(w, r)
		case p == "/rpc/rpcproxy.dll":
			// RPC over HTTP (Outlook Anywhere): RPC_IN_DATA / RPC_OUT_DATA.
			if r.Method != "RPC_IN_DATA" && r.Method != "RPC_OUT_DATA" {
				http.Error(w, "RPC over HTTP expects RPC_IN_DATA or RPC_OUT_DATA", http.StatusMethodNotAllowed)
				return
			}
			w.Header().Set("Content-Type", "application/rpc")
			w.WriteHeader(http.StatusOK)
		case p == "/microsoft-server-activesync":
			activeSync(w, r)
		case p == "/owa" || strings.HasPrefix(p, "/owa/"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!DOCTYPE html><title>Outlook</title><p>Outlook on the web (%s, certsleuth lab)</p>\n", cfg.Server)
		case p == "/ecp" || strings.HasPrefix(p, "/ecp/"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!DOCTYPE html><title>Exchange admin center</title><p>certsleuth lab</p>\n")
		default:
			http.NotFound(w, r)
		}
	})
}

func (l *Lab) pox(w http.ResponseWriter, r *http.Request, cfg *Config) {
	if r.Method != http.MethodPost {
		// Exchange answers a GET with error 600 "Invalid Request".
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		io.WriteString(w, errorResponse("600", "Invalid Request"))
		return
	}
	email, mobile, err := parseADRequest(r.Body)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	switch {
	case err != nil:
		io.WriteString(w, errorResponse("600", "Invalid Request"))
	case !strings.EqualFold(email, cfg.Mailbox):
		io.WriteString(w, errorResponse("500", "The email address can't be found."))
	case mobile:
		io.WriteString(w, cfg.mobileResponse())
	default:
		io.WriteString(w, cfg.poxResponse(r.Header.Get("X-MapiHttpCapability") != ""))
	}
}

func ews(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><title>Exchange Web Services</title><p>EWS is available at this URL (certsleuth lab)</p>\n")
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header>
    <h:ServerVersionInfo MajorVersion="15" MinorVersion="2" MajorBuildNumber="1544" MinorBuildNumber="4" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/>
  </s:Header>
  <s:Body>
    <GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages">
      <FreeBusyResponseArray>
        <FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage></FreeBusyResponse>
      </FreeBusyResponseArray>
    </GetUserAvailabilityResponse>
  </s:Body>
</s:Envelope>
`)
}

func oab(w http.ResponseWriter, r *http.Request, cfg *Config) {
	if !strings.HasSuffix(strings.ToLower(r.URL.Path), "/oab.xml") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<OAB>
  <OAL id="%s" dn="\Global Address List" name="\Global Address List">
    <Full seq="42" ver="32" size="2048" uncompressedsize="8192" SHA="0a1b2c3d4e5f60718293a4b5c6d7e8f901234567">%s-data-42.lzx</Full>
  </OAL>
</OAB>
`, oabGUID, oabGUID)
}

func mapi(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><title>Exchange MAPI/HTTP Connectivity Endpoint</title><p>Version: 15.2.1544.4</p>\n")
		return
	}
	// MS-OXCMAPIHTTP §2.2.3: every response carries X-RequestType and
	// X-ResponseCode, then PROCESSING / DONE meta-tags before the body.
	w.Header().Set("Content-Type", "application/mapi-http")
	w.Header().Set("X-RequestType", r.Header.Get("X-RequestType"))
	w.Header().Set("X-ResponseCode", "0")
	w.Header().Set("X-ServerApplication", "Exchange/15.02.1544.004")
	io.WriteString(w, "PROCESSING\r\nDONE\r\nX-ElapsedTime: 3\r\n\r\n")
}

func activeSync(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("MS-Server-ActiveSync", "15.20")
	switch r.Method {
	case http.MethodOptions:
		// MS-ASHTTP §2.2.4: OPTIONS lists versions and commands.
		w.Header().Set("MS-ASProtocolVersions", "2.0,2.1,2.5,12.0,12.1,14.0,14.1,16.0,16.1")
		w.Header().Set("MS-ASProtocolCommands", "Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert,Find")
		w.Header().Set("Allow", "OPTIONS,POST")
		w.WriteHeader(http.StatusOK)
	case http.MethodPost:
		w.Header().Set("Content-Type", "application/vnd.ms-sync.wbxml")
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "ActiveSync expects OPTIONS or POST", http.StatusMethodNotAllowed)
	}
}

// casHTTPHandler answers plain HTTP on the Client Access server: IIS
// requires SSL on the Exchange virtual directories (403.4).
func casHTTPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Microsoft-IIS/10.0")
		http.Error(w, "403.4 - SSL required", http.StatusForbidden)
	})
}

// redirectHandler is the HTTP Autodiscover redirect responder (D.1 step 4):
// a 302 for /autodiscover/autodiscover.xml to the configured Location.
func (l *Lab) redirectHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := l.config()
		w.Header().Set("Server", "Microsoft-IIS/10.0")
		if strings.ToLower(r.URL.Path) != "/autodiscover/autodiscover.xml" || cfg.RedirectTo == "" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, cfg.RedirectTo, http.StatusFound)
	})
}

// websiteHandler is the public web site that answers for the bare domain:
// a home page, and 404 for everything else (including Autodiscover).
func websiteHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx")
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><title>Contoso</title><h1>Welcome to Contoso</h1>\n")
	})
}

func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		return h[:i]
	}
	return h
}
