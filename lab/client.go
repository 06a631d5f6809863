package lab

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/proxy"
	"github.com/certsleuth/certsleuth/record"
)

// Outcome is what became of one step of the scripted client.
type Outcome string

// The outcomes of a step.
const (
	OutcomeOK      Outcome = "ok"           // the request was answered
	OutcomeWarned  Outcome = "warned"       // the client showed a certificate warning; the user declined
	OutcomeNoHost  Outcome = "no-such-host" // the name does not resolve
	OutcomeRefused Outcome = "refused"      // nothing listens on that port
	OutcomeFailed  Outcome = "failed"       // another error (HTTP status, bad answer)
	OutcomeInfo    Outcome = "info"         // a note in the story; no request
)

// Step is one thing the scripted client did: the request, why it made it
// (the setting that sent it there), the certificate it got and what the
// user saw.
type Step struct {
	N       int    // 1-based, within the act
	Purpose string // e.g. "Autodiscover: SCP URL from Active Directory"
	Method  string
	URL     string
	Host    string // the name the client checks the certificate against
	NoSNI   bool

	Origin      Setting // the setting that sent the client to this URL
	OriginWords string  // the same in words, naming where the URL came from

	Leaf      *x509.Certificate // the server's certificate, if TLS got that far
	CertLabel string            // which of the lab's certificates it is
	Verdict   *match.Verdict    // the client profile's name verdict
	Status    int
	Location  string

	Outcome Outcome
	Warning string  // the warning in the client's words (OutcomeWarned)
	Reason  string  // why it warned, technically
	Cause   Setting // the setting whose change removes the warning
	Then    string  // what the client did next
	Err     string

	Obs *record.Observation // what the client itself noted for this step (nil for most OutcomeInfo)
	// Recorded is what the proxy recorded for this step, when the client
	// went through a proxy (Options.Via from Proxy.Via).
	Recorded []*record.Observation

	body    []byte
	viaDial bool // the step opened a connection through Via
}

// Result is one act: the scripted client run against one configuration.
type Result struct {
	Scenario *Scenario
	Fixed    bool   // the scenario's changes were applied
	Config   Config // the configuration the lab ran
	Client   Client
	Profile  *match.Profile
	Steps    []*Step
	// Observations are the act's trace, in order: through a Proxy, what
	// the proxy recorded (source "proxy") with the client's DNS answers
	// (source "demo") between them; without one, the client's own records.
	// Trace is what the trace file holds; it replays with `certsleuth
	// replay --ca-file <lab CA>`.
	Observations []*record.Observation
	// Done says how the client's run ended, in words.
	Done string
	// CA is the lab CA the certificates chain to (trust it to replay).
	CA *x509.Certificate
	// ProxyCA is the CA of the proxy the client went through, or nil.
	ProxyCA *x509.Certificate
}

// Warnings returns the steps where the client warned, in order.
func (r *Result) Warnings() []*Step {
	var out []*Step
	for _, s := range r.Steps {
		if s.Outcome == OutcomeWarned {
			out = append(out, s)
		}
	}
	return out
}

// Culprit returns the first step that warned, or nil.
func (r *Result) Culprit() *Step {
	if w := r.Warnings(); len(w) > 0 {
		return w[0]
	}
	return nil
}

// Remedies returns the scenario's changes for the causes of the warnings,
// in the order the warnings appeared, each once.
func (r *Result) Remedies() []*Change {
	var out []*Change
	seen := map[Setting]bool{}
	for _, s := range r.Warnings() {
		if seen[s.Cause] {
			continue
		}
		seen[s.Cause] = true
		if ch := r.Scenario.ChangeFor(s.Cause); ch != nil {
			out = append(out, ch)
		}
	}
	return out
}

// Options control Run.
type Options struct {
	// Profile overrides the client's matching rules; nil uses the
	// scenario client's profile.
	Profile *match.Profile
	// CA issues the lab's certificates; nil generates a CA per run.
	CA *CA
	// Via, when set, carries the client's connections (for example through
	// the certsleuth proxy); nil dials the lab directly.
	Via Via
	// Roots are extra roots the client trusts besides the lab CA (the
	// proxy's CA when Via is a TLS-intercepting proxy).
	Roots []*x509.Certificate
	// KeyLog, when set, receives the client's TLS secrets in NSS key log
	// format (SSLKEYLOGFILE), so that a capture of the run can be read
	// with its TLS 1.3 certificates decrypted.
	KeyLog io.Writer
	// Proxy, for Run, puts the certsleuth proxy in mirror mode between the
	// client and the lab (StartProxy; Via and Roots are then set by Run),
	// so that the act's Observations are what the proxy recorded.
	Proxy bool
	// ProxyObservers receive the proxy's events (proxy.Recorder for a
	// trace file, proxy.Live); used with Proxy.
	ProxyObservers []func(proxy.Event)
}

// Via opens the client's connections to the lab some other way than
// directly, such as through an HTTP proxy (see ProxyVia).
type Via interface {
	// Dial returns a connection on which the client speaks to hostport
	// (TLS is started by the client), and the CONNECT target used, if any.
	Dial(ctx context.Context, hostport string) (net.Conn, string, error)
	// DialHTTP returns a connection for a plain HTTP request to hostport,
	// and whether the request must be sent in absolute (proxy) form.
	DialHTTP(ctx context.Context, hostport string) (net.Conn, bool, error)
}

// Run starts a lab for the scenario (its configuration as found, or fixed),
// runs the scenario's scripted client against it, and stops the lab.
func Run(ctx context.Context, s *Scenario, fixed bool, opts Options) (*Result, error) {
	cfg := s.Config
	if fixed {
		cfg = s.Fixed()
	}
	l, err := Start(cfg, opts.CA)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	if !opts.Proxy {
		return Drive(ctx, l, s, fixed, opts)
	}
	p, err := StartProxy(l, ProxyOptions{Observers: opts.ProxyObservers})
	if err != nil {
		return nil, err
	}
	opts.Via = p.Via()
	opts.Roots = append(append([]*x509.Certificate(nil), opts.Roots...), p.CA.Cert)
	res, err := Drive(ctx, l, s, fixed, opts)
	if cerr := p.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("demo proxy: %w", cerr)
	}
	if res != nil {
		res.ProxyCA = p.CA.Cert
	}
	return res, err
}

// Drive runs the scenario's scripted client against the running lab l.
func Drive(ctx context.Context, l *Lab, s *Scenario, fixed bool, opts Options) (*Result, error) {
	p := opts.Profile
	if p == nil {
		var err error
		if p, err = match.LookupProfile(s.Client.Profile); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
	}
	roots := l.CA.Pool()
	for _, r := range opts.Roots {
		roots.AddCert(r)
	}
	c := &client{ctx: ctx, lab: l, cli: s.Client, p: p, roots: roots, via: opts.Via, keyLog: opts.KeyLog,
		res: &Result{Scenario: s, Fixed: fixed, Config: l.Config(), Client: s.Client, Profile: p, CA: l.CA.Cert}}
	switch s.Client.Kind {
	case Outlook:
		c.outlook()
	case Phone:
		c.phone()
	default:
		return nil, fmt.Errorf("scenario %s: unknown client kind %q", s.Name, s.Client.Kind)
	}
	if err := ctx.Err(); err != nil {
		return c.res, err
	}
	return c.res, nil
}

type client struct {
	ctx    context.Context
	lab    *Lab
	cli    Client
	p      *match.Profile
	roots  *x509.CertPool
	via    Via
	keyLog io.Writer
	res    *Result
	conns  int
}

// request is one request the script makes.
type request struct {
	purpose     string
	method, url string
	header      http.Header
	body        string
	origin      Setting
	originWords string
	principal   string // the msstd: name Outlook Anywhere requires, if any
	keepBody    bool   // record the response body (Autodiscover)
}

func (c *client) userAgent() string {
	if c.cli.Kind == Phone {
		return "Apple-iPhone15C2/2104.215"
	}
	return "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"
}

func (c *client) add(st *Step) *Step {
	st.N = len(c.res.Steps) + 1
	c.res.Steps = append(c.res.Steps, st)
	s, recording := c.via.(settler)
	switch {
	case recording && st.viaDial:
		st.Recorded = s.settle()
		c.res.Observations = append(c.res.Observations, st.Recorded...)
		// The client saw the proxy's mirror; the proxy recorded the lab's own.
		if len(st.Recorded) > 0 && len(st.Recorded[0].Chain) > 0 {
			if l := c.lab.certLabelDER(st.Recorded[0].Chain[0]); l != "" {
				st.CertLabel = l
			}
		}
	case recording && st.Obs != nil && st.Obs.Kind == record.KindDNS:
		c.res.Observations = append(c.res.Observations, st.Obs)
	case !recording && st.Obs != nil:
		c.res.Observations = append(c.res.Observations, st.Obs)
	}
	return st
}

func (c *client) note(purpose, text string) {
	c.add(&Step{Purpose: purpose, Outcome: OutcomeInfo, Then: text})
}

// do performs one request the way the client would, judging the server's
// certificate first, and adds it to the act. It never returns nil.
func (c *client) do(rq request) *Step {
	// The connection is closed before the step is added, so that a proxy
	// in between has seen the whole connection when the step settles.
	return c.add(c.exchange(rq))
}

// exchange makes one request on its own connection and closes it.
func (c *client) exchange(rq request) *Step {
	st := &Step{Purpose: rq.purpose, Method: rq.method, URL: rq.url, Origin: rq.origin, OriginWords: rq.originWords, NoSNI: c.cli.NoSNI}
	u, err := url.Parse(rq.url)
	if err != nil {
		st.Outcome, st.Err = OutcomeFailed, err.Error()
		return st
	}
	host, port := u.Hostname(), u.Port()
	tlsOn := u.Scheme == "https"
	if port == "" {
		port = "80"
		if tlsOn {
			port = "443"
		}
	}
	st.Host = host
	hostport := net.JoinHostPort(host, port)
	c.conns++
	obs := &record.Observation{Kind: record.KindHTTP, Source: record.SourceDemo, Time: time.Now().UTC(), Conn: fmt.Sprintf("demo-%d", c.conns), URL: rq.url, Note: "requested because: " + rq.originWords}
	st.Obs = obs
	// The client's own DNS lookup comes first (Outlook and phones resolve
	// before connecting, even through a proxy).
	if _, err := c.lab.Resolver.LookupHost(host); err != nil {
		st.Outcome, st.Err = OutcomeNoHost, fmt.Sprintf("%s does not resolve (no DNS A record)", host)
		st.Obs = &record.Observation{Kind: record.KindDNS, Source: record.SourceDemo, Time: obs.Time, DNS: &record.DNS{Query: host, Type: "A", Rcode: "NXDOMAIN"}, Note: obs.Note}
		return st
	}
	start := time.Now()
	var conn net.Conn
	absolute := false
	st.viaDial = c.via != nil
	if tlsOn {
		var connect string
		conn, connect, err = c.dial(hostport)
		obs.Connect = connect
	} else {
		conn, absolute, err = c.dialHTTP(hostport)
	}
	if err != nil {
		st.Outcome, st.Err = OutcomeRefused, fmt.Sprintf("connect to %s: %v", hostport, unwrapOp(err))
		if errors.Is(err, errRefused) || strings.Contains(err.Error(), "refused") {
			st.Err = fmt.Sprintf("nothing answers on %s port %s (connection refused)", host, port)
		}
		obs.Error = st.Err
		obs.Visibility = record.VisFailed
		if !tlsOn {
			obs.Visibility = record.VisNone
		}
		return st
	}
	defer conn.Close()
	if deadline, ok := c.ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	} else {
		conn.SetDeadline(time.Now().Add(30 * time.Second))
	}
	obs.Client, obs.Server = conn.LocalAddr().String(), conn.RemoteAddr().String()
	if tlsOn {
		sni := host
		if c.cli.NoSNI {
			sni = ""
		}
		tc := tls.Client(conn, &tls.Config{
			ServerName:         sni,
			InsecureSkipVerify: true, // the client's rules are applied below, per profile
			NextProtos:         []string{"http/1.1"},
			MinVersion:         tls.VersionTLS12,
			KeyLogWriter:       c.keyLog,
		})
		obs.SNI, obs.NoSNI, obs.ALPN = sni, sni == "", []string{"http/1.1"}
		if err := tc.HandshakeContext(c.ctx); err != nil {
			st.Outcome, st.Err = OutcomeFailed, fmt.Sprintf("TLS handshake with %s: %v", hostport, err)
			obs.Kind, obs.Error, obs.Visibility = record.KindTLS, st.Err, record.VisFailed
			return st
		}
		cs := tc.ConnectionState()
		obs.TLSVersion, obs.Protocol, obs.Visibility = tls.VersionName(cs.Version), cs.NegotiatedProtocol, record.VisVisible
		for _, pc := range cs.PeerCertificates {
			obs.Chain = append(obs.Chain, pc.Raw)
		}
		st.Leaf = cs.PeerCertificates[0]
		st.CertLabel = c.lab.CertLabel(st.Leaf)
		if st.CertLabel == "" && c.via != nil {
			// Through a mirroring proxy the client sees the proxy's copy.
			st.CertLabel = "the proxy's mirror of the server certificate"
		}
		if c.judge(st, host, cs.PeerCertificates, rq.principal) {
			obs.Kind = record.KindTLS
			obs.Duration = time.Since(start)
			obs.Note += "; " + c.cli.App + " showed a certificate warning and the user declined, so no request was sent"
			return st
		}
		conn = tc
	}
	req, err := http.NewRequestWithContext(c.ctx, rq.method, rq.url, strings.NewReader(rq.body))
	if err != nil {
		st.Outcome, st.Err = OutcomeFailed, err.Error()
		return st
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.userAgent())
	if rq.body == "" {
		req.Body, req.ContentLength = nil, 0
	}
	obs.Method, obs.Host = rq.method, req.Host
	if absolute {
		err = req.WriteProxy(conn)
	} else {
		err = req.Write(conn)
	}
	if err != nil {
		st.Outcome, st.Err = OutcomeFailed, fmt.Sprintf("send %s %s: %v", rq.method, rq.url, err)
		obs.Error = st.Err
		return st
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		st.Outcome, st.Err = OutcomeFailed, fmt.Sprintf("read the answer to %s %s: %v", rq.method, rq.url, err)
		obs.Error = st.Err
		return st
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	obs.Duration = time.Since(start)
	st.Status, st.Location, st.body = resp.StatusCode, resp.Header.Get("Location"), body
	obs.Status, obs.Location = st.Status, st.Location
	if rq.keepBody && len(body) > 0 {
		obs.Body = &record.Body{ContentType: resp.Header.Get("Content-Type"), Text: string(body)}
	}
	st.Outcome = OutcomeOK
	if resp.StatusCode >= 400 {
		st.Outcome, st.Err = OutcomeFailed, fmt.Sprintf("HTTP %s", resp.Status)
	}
	return st
}

// judge applies the client's certificate rules; it reports whether the
// client warned, and fills in the step's verdict, warning and cause.
func (c *client) judge(st *Step, host string, chain []*x509.Certificate, principal string) bool {
	leaf := chain[0]
	v := match.Match(leaf, host, c.p)
	st.Verdict = &v
	inter := x509.NewCertPool()
	for _, ic := range chain[1:] {
		inter.AddCert(ic)
	}
	_, trustErr := leaf.Verify(x509.VerifyOptions{Roots: c.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	switch {
	case !v.Match:
		st.Outcome, st.Reason = OutcomeWarned, v.Reason
		st.Warning = c.nameWarning(host)
		st.Cause = st.Origin
		if c.cli.NoSNI && c.lab.exchange != c.lab.def && match.Match(c.lab.exchange.Leaf, host, c.p).Match {
			// With SNI the server would have chosen the right certificate.
			st.Cause = SettingDefaultBinding
			st.Reason += "; the client sent no SNI, so the server answered with its default binding's certificate"
		}
	case trustErr != nil:
		st.Outcome, st.Reason = OutcomeWarned, "the chain does not lead to a root the client trusts: "+trustErr.Error()
		st.Warning = c.trustWarning()
		st.Cause = st.Origin
	case principal != "" && !principalMatches(leaf, principal):
		st.Outcome = OutcomeWarned
		st.Reason = fmt.Sprintf("Outlook Anywhere requires the principal %s; the certificate's subject CN and SANs (%s) do not contain %q literally (no wildcard expansion)", principal, v.CertNames(), strings.TrimPrefix(strings.ToLower(principal), "msstd:"))
		st.Warning = fmt.Sprintf("\"There is a problem with the proxy server's security certificate. The name on the security certificate is invalid or does not match the name of the target site %s. Outlook is unable to connect to the proxy server. (Error Code 10)\"", host)
		st.Cause = SettingCertPrincipal
	}
	return st.Outcome == OutcomeWarned
}

// principalMatches is Outlook Anywhere's msstd: check (certprincipalname-pox.md;
// Vista and later): the name after "msstd:" must equal the subject CN or a
// SAN dNSName, case-insensitively and literally: *.contoso.com needs
// msstd:*.contoso.com.
func principalMatches(leaf *x509.Certificate, principal string) bool {
	p := strings.ToLower(strings.TrimSpace(principal))
	if p == "none" {
		return true
	}
	want := strings.TrimPrefix(p, "msstd:")
	if strings.EqualFold(leaf.Subject.CommonName, want) {
		return true
	}
	for _, n := range leaf.DNSNames {
		if strings.EqualFold(n, want) {
			return true
		}
	}
	return false
}

func (c *client) nameWarning(host string) string {
	switch c.cli.App {
	case "Outlook":
		// KB 940726, the Security Alert dialog.
		return fmt.Sprintf("Security Alert (%s): \"The name of the security certificate is invalid or does not match the name of the site.\" Do you want to proceed?", host)
	case "Mail":
		return fmt.Sprintf("Cannot Verify Server Identity: \"The identity of %q cannot be verified by Mail.\"", host)
	}
	return fmt.Sprintf("the certificate does not match %s", host)
}

func (c *client) trustWarning() string {
	switch c.cli.App {
	case "Outlook":
		return "Security Alert: \"The security certificate was issued by a company you have not chosen to trust.\""
	case "Mail":
		return "Cannot Verify Server Identity: \"Mail cannot verify the identity of the server.\""
	}
	return "the certificate is not trusted"
}

var errRefused = errors.New("connection refused")

// settler is a Via that records what passes through it (ProxyVia with a
// Proxy): settle returns what was recorded since the last call, once the
// connections opened so far are accounted for.
type settler interface {
	settle() []*record.Observation
}

func (c *client) dial(hostport string) (net.Conn, string, error) {
	if c.via != nil {
		return c.via.Dial(context.WithValue(c.ctx, userAgentKey{}, c.userAgent()), hostport)
	}
	conn, err := c.lab.Resolver.DialContext(c.ctx, "tcp", hostport)
	return conn, "", err
}

func (c *client) dialHTTP(hostport string) (net.Conn, bool, error) {
	if c.via != nil {
		return c.via.DialHTTP(c.ctx, hostport)
	}
	conn, err := c.lab.Resolver.DialContext(c.ctx, "tcp", hostport)
	return conn, false, err
}

func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// poxSettings is what Outlook reads from a POX Autodiscover response.
type poxSettings struct {
	Response struct {
		Error *struct {
			ErrorCode string
			Message   string
		}
		Account struct {
			Action      string
			RedirectUrl string
			Protocol    []struct {
				TypeAttr          string `xml:"Type,attr"`
				Type              string `xml:"Type"`
				Server            string
				CertPrincipalName string
				EwsUrl            string
				OABUrl            string
				MailStore         struct{ InternalUrl, ExternalUrl string }
			}
		}
		Action struct { // mobilesync
			Settings struct {
				Server []struct {
					Type string
					Url  string
				}
			}
		}
	}
}

func parseSettings(body []byte) (*poxSettings, error) {
	var s poxSettings
	if err := xml.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("not an Autodiscover response: %w", err)
	}
	if e := s.Response.Error; e != nil {
		return nil, fmt.Errorf("Autodiscover error %s: %s", e.ErrorCode, e.Message)
	}
	return &s, nil
}
