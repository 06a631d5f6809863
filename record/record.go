package record

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/url"
	"strings"
	"time"
)

// FormatName is the value of the header line's "format" field.
const FormatName = "certsleuth-trace"

// Version is the trace format version this package writes. Readers accept
// any version up to and including this one and ignore unknown fields.
const Version = 1

// Source says which part of certsleuth produced an observation.
type Source string

// The sources of observations.
const (
	SourceProxy Source = "proxy" // the intercepting proxy saw it
	SourcePcap  Source = "pcap"  // read from a capture file
	SourceProbe Source = "probe" // certsleuth connected itself (check, passthrough side probe)
	SourceDemo  Source = "demo"  // the built-in demo lab
)

// Kind says what an observation describes.
type Kind string

// The kinds of observations.
const (
	// KindTLS is one TLS connection: what the client asked for in its
	// ClientHello (and CONNECT) and what the server presented.
	KindTLS Kind = "tls"
	// KindHTTP is one HTTP request and its response. Inside TLS (proxy, or a
	// decrypted capture) it also carries the TLS facts of its connection.
	KindHTTP Kind = "http"
	// KindDNS is one DNS answer (or an unanswered query).
	KindDNS Kind = "dns"
)

// Visibility says whether the server's certificate chain was seen.
type Visibility string

// The certificate visibility states.
const (
	VisVisible   Visibility = "visible"      // the chain is in Chain
	VisProbed    Visibility = "probed"       // not seen on the client's connection; fetched by a side connection with the same SNI
	VisEncrypted Visibility = "encrypted"    // TLS 1.3 encrypts the Certificate message and no key was available
	VisTruncated Visibility = "truncated"    // the capture cut the packets short (snap length)
	VisMissing   Visibility = "not-captured" // the handshake was not in the capture (it began before the capture, or packets were lost)
	VisResumed   Visibility = "resumed"      // an abbreviated (resumed) handshake: the server sent no certificate
	VisFailed    Visibility = "failed"       // the connection or handshake failed before a certificate arrived
	VisNone      Visibility = "not-tls"      // plain HTTP: there is no certificate
	VisUnknown   Visibility = ""             // not stated
)

// CarrierOpenVPN is Observation.Carrier for TLS in OpenVPN's control
// channel.
const CarrierOpenVPN = "openvpn"

// DNSAnswer is one resource record in a DNS answer.
type DNSAnswer struct {
	Type   string `json:"type"`             // "A", "AAAA", "CNAME" or "SRV"
	Name   string `json:"name"`             // the owner name
	Value  string `json:"value"`            // address, CNAME target or SRV target
	Port   int    `json:"port,omitempty"`   // SRV only
	Prio   int    `json:"prio,omitempty"`   // SRV only
	Weight int    `json:"weight,omitempty"` // SRV only
	TTL    uint32 `json:"ttl,omitempty"`
}

// DNS holds a DNS query and its answers.
type DNS struct {
	Query   string      `json:"query"`             // the name asked for
	Type    string      `json:"qtype"`             // "A", "AAAA", "SRV", ...
	Rcode   string      `json:"rcode,omitempty"`   // "NOERROR", "NXDOMAIN", ...
	Answers []DNSAnswer `json:"answers,omitempty"` // in the order of the answer section
}

// Body is a response body kept in the trace. Only Autodiscover responses
// are kept (the explain analysis parses them); everything else is dropped.
type Body struct {
	ContentType string `json:"content_type,omitempty"`
	Text        string `json:"text"`
	Truncated   bool   `json:"truncated,omitempty"` // the body was longer than the recorder keeps
}

// Observation is one thing a client did and what the server answered:
// a TLS connection, an HTTP exchange, or a DNS answer. Fields that do not
// apply are left zero and omitted from the JSON encoding.
type Observation struct {
	// Kind and provenance.
	Kind   Kind      `json:"kind"`
	Source Source    `json:"source"`
	Time   time.Time `json:"time"` // when the connection (or request) started
	// Conn identifies the connection within the trace, so the HTTP
	// exchanges on one TLS connection can be tied to its handshake.
	Conn string `json:"conn,omitempty"`

	// Endpoints, as net.JoinHostPort writes them ("[::1]:443" for IPv6).
	Client string `json:"client,omitempty"`
	Server string `json:"server,omitempty"`

	// What the client asked for, each from where it was seen.
	Connect string `json:"connect,omitempty"` // CONNECT target "host:port" (proxy; a capture of a tunnel through an HTTP proxy)
	// Proxy is the explicit HTTP proxy ("ip:port") through whose CONNECT
	// tunnel a captured TLS connection ran; Server is then that proxy too,
	// and Connect the target the client asked it for.
	Proxy string `json:"proxy,omitempty"`
	SNI   string `json:"sni,omitempty"` // TLS server_name as sent
	// NoSNI is true when the ClientHello was seen and carried no server_name.
	NoSNI   bool     `json:"no_sni,omitempty"`
	ALPN    []string `json:"alpn,omitempty"`     // protocols the client offered
	Method  string   `json:"method,omitempty"`   // HTTP method
	Host    string   `json:"host,omitempty"`     // HTTP Host header
	URL     string   `json:"url,omitempty"`      // full request URL, scheme and host included
	DNSName string   `json:"dns_name,omitempty"` // name the client resolved to reach Server (capture only)
	// StartTLS names the plain-text protocol whose command turned the
	// connection to TLS: "smtp", "imap", "pop3" or "ftp" (capture only);
	// "" when TLS began with the connection.
	StartTLS string `json:"starttls,omitempty"`
	// Carrier names the protocol whose packets carry this connection's
	// TLS records piecewise, each piece behind a header of its own, when
	// the producer does not reassemble them (capture only): "openvpn",
	// TLS in OpenVPN's control channel (P_CONTROL packets). The
	// certificate is then in the capture but was not read.
	Carrier string `json:"carrier,omitempty"`
	// UserAgent is the client's User-Agent header (of the request, else of
	// its CONNECT): it says which client it was (Outlook, a phone).
	UserAgent string `json:"user_agent,omitempty"`

	// What was negotiated and answered.
	TLSVersion string `json:"tls_version,omitempty"` // "TLS 1.2", "TLS 1.3", ...
	Protocol   string `json:"protocol,omitempty"`    // negotiated ALPN
	Status     int    `json:"status,omitempty"`      // HTTP status
	Location   string `json:"location,omitempty"`    // HTTP Location header

	// The server's certificate chain exactly as sent, leaf first. In the
	// encoding it is the SHA-256 ID of a chain line (see ChainID).
	Chain      [][]byte   `json:"-"`
	ChainID    string     `json:"chain,omitempty"`
	Visibility Visibility `json:"cert_visibility,omitempty"`

	// Snaplen is the capture's snap length when packets were cut short.
	Snaplen int `json:"snaplen,omitempty"`
	// ResumedFrom names the connection whose full handshake a resumed
	// session most likely continues (same client and server name).
	ResumedFrom string `json:"resumed_from,omitempty"`

	// Error is what went wrong, in words: a dead upstream, a handshake
	// failure, a TLS alert the client sent (the client rejected the
	// certificate it was shown).
	Error       string `json:"error,omitempty"`
	ClientAlert string `json:"client_alert,omitempty"` // TLS alert the client sent, e.g. "bad certificate", or AlertEncrypted
	// ECH is true when the ClientHello carried encrypted_client_hello
	// (draft-ietf-tls-esni): real ECH, whose SNI is the cover name of the
	// server's ECH configuration and not the name the client wants, or
	// Chrome's GREASE placeholder, whose SNI is the real name. The wire
	// does not tell them apart (by design, §6.2 of the draft); a
	// certificate seen in clear is checked by the client against the SNI
	// either way (ECH not accepted: the public name,
	// draft-ietf-tls-esni-25 §6.1.7).
	ECH bool `json:"ech,omitempty"`
	// ECHRequired is true when the client ended the connection with the
	// alert ech_required after its Finished (decrypted with the key log):
	// the server did not accept its ECH, the certificate was valid for
	// the public name, and the client retries with the server's new ECH
	// configuration (§6.1.6). Not a refusal of the certificate.
	ECHRequired bool `json:"ech_required,omitempty"`
	// HelloFormat is HelloSSL2 when the ClientHello came in the SSL 2.0
	// record format (capture only).
	HelloFormat string `json:"hello_format,omitempty"`
	// ClientCertRequested is true when the server asked the client for a
	// certificate (a CertificateRequest: Exchange, ADFS and IIS
	// certificate authentication).
	ClientCertRequested bool `json:"client_cert_requested,omitempty"`
	// ClientCert is the subject of the certificate the client sent, or
	// ClientCertNone when it answered with an empty list (capture only).
	ClientCert string `json:"client_cert,omitempty"`
	// ServerWarnings are the warning-level TLS alerts the server sent
	// before its certificate, which did not end the handshake: most often
	// "unrecognized name" (RFC 6066 §3), a server that knows no
	// certificate for the SNI and presents its default one (capture only).
	ServerWarnings []string `json:"server_warnings,omitempty"`

	// Duration is how long the request (or handshake) took.
	Duration time.Duration `json:"duration_ns,omitempty"`

	// Body is kept for Autodiscover responses only.
	Body *Body `json:"body,omitempty"`

	// DNS is set on KindDNS observations.
	DNS *DNS `json:"dns,omitempty"`

	// Note carries free text from the producer (for example "probed with
	// the same SNI and ALPN").
	Note string `json:"note,omitempty"`

	// Exchange holds the server names Exchange put in its response
	// headers (proxy, HTTP responses only); nil when it sent none.
	Exchange *ExchangeServers `json:"exchange,omitempty"`

	// AIA is what fetching the leaf's Authority Information Access
	// caIssuers URLs gave, one entry per URL, when the producer fetched
	// them: `check` does when the chain sent does not lead to a root.
	// Empty when nobody fetched (a capture, the proxy).
	AIA []AIAFetch `json:"aia,omitempty"`
}

// ExchangeServers are the server names an Exchange response carries in its
// headers: not secrets, and the only place a trace of Exchange 2013 or
// later shows which server answered (from Exchange 2013 on Autodiscover's
// ServerDN names a mailbox GUID, not a server).
type ExchangeServers struct {
	FrontEnd string `json:"fe,omitempty"`        // X-FEServer: NetBIOS name of the Client Access (front end) server
	BackEnd  string `json:"be,omitempty"`        // X-BEServer: NetBIOS name of the mailbox (back end) server
	BETarget string `json:"be_target,omitempty"` // X-CalculatedBETarget: FQDN of the back end server
}

// AIAFetch is one fetch of a leaf's caIssuers URL (RFC 5280 §4.2.2.1), as
// Chromium, Windows and Apple make to find an intermediate a server did
// not send.
type AIAFetch struct {
	URL string `json:"url"`
	// Certs are the DER certificates the URL answered with (base64 in
	// JSON); empty when it gave none.
	Certs [][]byte `json:"certs,omitempty"`
	// Error says why it gave no certificate: no answer, an HTTP error, a
	// body that is not a certificate.
	Error string `json:"error,omitempty"`
}

// HelloSSL2 is Observation.HelloFormat for a ClientHello in the SSL 2.0
// record format.
const HelloSSL2 = "sslv2"

// ClientCertNone is Observation.ClientCert when the server asked for a
// certificate and the client sent an empty list.
const ClientCertNone = "none"

// AlertEncrypted is ClientAlert for an alert a capture shows but cannot
// read: a TLS 1.3 client's first encrypted record had the size of an
// alert, not of its Finished, and no key log decrypted it.
const AlertEncrypted = "encrypted alert"

// AlertEncryptedAfter is ClientAlert when a client finished the handshake
// and at once sent an alert, before any request (curl checks the name
// only after the handshake, then closes with an alert), and no key log
// decrypted it: in TLS 1.2 the record type says alert, in TLS 1.3 only
// its size does.
const AlertEncryptedAfter = "encrypted alert after the handshake"

// NameSource says where a name the client used was seen.
type NameSource string

// The places a client's name can come from, in the order AskedName prefers them.
const (
	FromSNI     NameSource = "sni"
	FromConnect NameSource = "connect"
	FromURL     NameSource = "url"
	FromHost    NameSource = "host"
	FromDNS     NameSource = "dns"
)

// NameRef is a name the client used and where it was seen.
type NameRef struct {
	Name string     `json:"name"`
	From NameSource `json:"from"`
}

// Names lists every host name the client used in this observation, each
// with where it was seen, in the order AskedName prefers them. Ports are
// removed; IPv6 brackets are removed.
func (o *Observation) Names() []NameRef {
	var out []NameRef
	add := func(n string, from NameSource) {
		if n != "" {
			out = append(out, NameRef{Name: n, From: from})
		}
	}
	add(o.SNI, FromSNI)
	add(HostOnly(o.Connect), FromConnect)
	if o.URL != "" {
		if u, err := url.Parse(o.URL); err == nil {
			add(u.Hostname(), FromURL)
		}
	}
	add(HostOnly(o.Host), FromHost)
	add(o.DNSName, FromDNS)
	return out
}

// AskedName returns the name the client validated the server's certificate
// against: the SNI it sent, else the CONNECT target it asked the proxy for,
// else the URL's host, else the Host header, else the name it resolved.
// It returns "" when nothing names the server.
func (o *Observation) AskedName() (string, NameSource) {
	// The first of Names, without parsing the URL when an earlier name
	// answers (every request the proxy sees has an SNI or a CONNECT target).
	if o.SNI != "" {
		return o.SNI, FromSNI
	}
	if h := HostOnly(o.Connect); h != "" {
		return h, FromConnect
	}
	n := o.Names()
	if len(n) == 0 {
		return "", ""
	}
	return n[0].Name, n[0].From
}

// HostOnly strips a port and IPv6 brackets from a host or host:port.
func HostOnly(hostport string) string {
	if hostport == "" {
		return ""
	}
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// ChainID returns the hex SHA-256 that identifies a chain in a trace: the
// digest of each certificate's DER, in order, each preceded by its length
// as four big-endian bytes. It returns "" for an empty chain.
func ChainID(chain [][]byte) string {
	if len(chain) == 0 {
		return ""
	}
	h := sha256.New()
	var n [4]byte
	for _, c := range chain {
		l := len(c)
		n[0], n[1], n[2], n[3] = byte(l>>24), byte(l>>16), byte(l>>8), byte(l)
		h.Write(n[:])
		h.Write(c)
	}
	return hex.EncodeToString(h.Sum(nil))
}
