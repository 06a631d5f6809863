package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// MaxBody is the most of an Autodiscover response body kept in a trace.
const MaxBody = 1 << 20

// serveHTTP relays HTTP/1.1 requests from client to up, one at a time, in
// order, on the tunnel's one upstream connection. When either side closes,
// the tunnel ends: a keep-alive connection the server dropped is dropped
// for the client too, as it would be without the proxy.
func (t *tunnel) serveHTTP(client, up net.Conn, scheme string, _ any) {
	s := t.s
	cbr := bufio.NewReaderSize(client, 16<<10)
	cbw := bufio.NewWriterSize(client, 16<<10)
	ubr := bufio.NewReaderSize(up, 16<<10)
	ubw := bufio.NewWriterSize(up, 16<<10)
	exchanged := false
	for {
		client.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		req, err := http.ReadRequest(cbr)
		if err != nil {
			if !exchanged {
				// A handshake and no request: still record the chain shown.
				var e error
				if err != io.EOF && !isClosed(err) {
					e = fmt.Errorf("no HTTP request from the client: %v", err)
				}
				t.connectionObs(e, "")
			}
			return
		}
		client.SetReadDeadline(time.Time{})
		exchanged = true
		start := time.Now()
		o := t.tunnelObs(record.KindHTTP)
		o.Time = start.UTC()
		if scheme == "http" {
			o.Visibility = record.VisNone
		}
		o.Method, o.Host = req.Method, req.Host
		host := req.Host
		if host == "" {
			host = t.connect
		}
		if req.URL.IsAbs() {
			o.URL = redactURL(req.URL.String())
		} else {
			o.URL = redactURL(scheme + "://" + host + req.URL.RequestURI())
		}
		winAuth := isWindowsAuth(req.Header.Get("Authorization"))
		prepareOutgoing(req.Header)
		werr := make(chan error, 1)
		go func() {
			err := req.Write(ubw)
			if err == nil {
				err = ubw.Flush()
			}
			werr <- err
		}()
		var resp *http.Response
		for {
			resp, err = http.ReadResponse(ubr, req)
			if err != nil || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
				break
			}
			resp.Write(cbw) // 1xx (100 Continue): pass on, then read the final response
			cbw.Flush()
		}
		if err != nil {
			up.Close()
			<-werr
			o.Error = fmt.Sprintf("upstream %s closed or failed before answering: %v", t.connect, unwrapNet(err))
			o.Duration = time.Since(start)
			s.emit(Event{Type: EventExchange, Conn: t.id, Connect: t.connect, Err: err, Obs: o})
			return
		}
		o.Status = resp.StatusCode
		o.Location = redactURL(resp.Header.Get("Location"))
		if winAuth && resp.StatusCode == http.StatusUnauthorized {
			o.Note = joinNote(o.Note, "Windows authentication (NTLM/Negotiate) was refused through the proxy: this is likely Exchange Extended Protection (channel binding to the proxy's certificate), not the certificate name; the certificate facts are still valid")
		}
		var capt *capture
		if isAutodiscover(req.URL.Path) {
			capt = &capture{rc: resp.Body}
			resp.Body = capt
		}
		err = resp.Write(cbw)
		if err == nil {
			err = cbw.Flush()
		}
		if err != nil {
			o.Error = fmt.Sprintf("the client went away during the response: %v", unwrapNet(err))
		}
		var wErr error
		select {
		case wErr = <-werr:
		default:
			up.SetWriteDeadline(time.Now().Add(5 * time.Second))
			wErr = <-werr
			up.SetWriteDeadline(time.Time{})
		}
		o.Duration = time.Since(start)
		if capt != nil {
			o.Body = capt.body(resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
		}
		s.emit(Event{Type: EventExchange, Conn: t.id, Connect: t.connect, Obs: o})
		if err != nil {
			return
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			pipe(client, up, cbr, ubr)
			return
		}
		if resp.Close || req.Close || wErr != nil {
			return
		}
	}
}

// prepareOutgoing removes what is for the proxy and stops net/http from
// adding a User-Agent the client did not send.
func prepareOutgoing(h http.Header) {
	h.Del("Proxy-Connection")
	h.Del("Proxy-Authorization")
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // present but empty: net/http writes none
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// isWindowsAuth reports whether an Authorization header is NTLM or Negotiate.
func isWindowsAuth(v string) bool {
	v = strings.ToLower(v)
	return strings.HasPrefix(v, "ntlm ") || strings.HasPrefix(v, "negotiate ")
}

// isAutodiscover reports whether a request path is an Autodiscover
// endpoint (POX /autodiscover/autodiscover.xml, mobilesync, SOAP
// autodiscover.svc, v2 autodiscover.json): the only bodies a trace keeps.
func isAutodiscover(p string) bool {
	return strings.Contains(strings.ToLower(p), "/autodiscover")
}

// sensitiveParams are query parameters whose values never go into a trace.
var sensitiveParams = []string{"pass", "pwd", "token", "secret", "auth", "key", "sig", "code"}

// redactURL drops user:password@ and the values of query parameters that
// look like credentials.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.User = nil
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			lk := strings.ToLower(k)
			for _, p := range sensitiveParams {
				if strings.Contains(lk, p) {
					q[k] = []string{"REDACTED"}
					changed = true
					break
				}
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// capture keeps the first MaxBody bytes of a body as it streams past.
type capture struct {
	rc    io.ReadCloser
	buf   bytes.Buffer
	trunc bool
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if n > 0 {
		room := MaxBody - c.buf.Len()
		if room < n {
			c.trunc = true
			if room > 0 {
				c.buf.Write(p[:room])
			}
		} else {
			c.buf.Write(p[:n])
		}
	}
	return n, err
}

func (c *capture) Close() error { return c.rc.Close() }

func (c *capture) body(contentType, encoding string) *record.Body {
	b := c.buf.Bytes()
	trunc := c.trunc
	if strings.EqualFold(encoding, "gzip") && !trunc {
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if d, err := io.ReadAll(io.LimitReader(zr, MaxBody+1)); err == nil {
				b, trunc = d, len(d) > MaxBody
				if trunc {
					b = b[:MaxBody]
				}
			}
		}
	}
	if len(b) == 0 {
		return nil
	}
	return &record.Body{ContentType: contentType, Text: string(b), Truncated: trunc}
}

// hopHeaders are removed when relaying plain HTTP through the pooled transport.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHop(h http.Header) {
	for _, f := range h.Values("Connection") {
		for _, k := range strings.Split(f, ",") {
			h.Del(strings.TrimSpace(k))
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

// handlePlain relays an absolute http:// request (Autodiscover's port-80
// redirect probe, for instance) and records it.
func (s *Server) handlePlain(w http.ResponseWriter, r *http.Request) {
	if !s.begin() {
		http.Error(w, "certsleuth proxy: shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	start := time.Now()
	id := s.newConnID()
	o := s.baseObs(id, r.RemoteAddr, "", start)
	o.Visibility = record.VisNone
	o.Method, o.Host, o.URL = r.Method, r.Host, redactURL(r.URL.String())
	winAuth := isWindowsAuth(r.Header.Get("Authorization"))
	out := r.Clone(r.Context())
	out.RequestURI = ""
	removeHop(out.Header)
	prepareOutgoing(out.Header)
	if r.ContentLength == 0 {
		out.Body = nil
	}
	resp, err := s.transport.RoundTrip(out)
	if err != nil {
		http.Error(w, fmt.Sprintf("certsleuth proxy: %s: %v", r.URL.Host, unwrapNet(err)), http.StatusBadGateway)
		o.Error = fmt.Sprintf("upstream %s: %v", r.URL.Host, unwrapNet(err))
		o.Duration = time.Since(start)
		s.emit(Event{Type: EventExchange, Conn: id, Err: err, Obs: o})
		return
	}
	defer resp.Body.Close()
	if resp.Request != nil && resp.Request.URL != nil {
		o.Server = s.dialAddr(withPortDefault(resp.Request.URL.Host, "80"))
	}
	o.Status, o.Location = resp.StatusCode, redactURL(resp.Header.Get("Location"))
	if winAuth && resp.StatusCode == http.StatusUnauthorized {
		o.Note = "Windows authentication over plain HTTP through a proxy: the pooled upstream connection may not keep NTLM on one connection"
	}
	removeHop(resp.Header)
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	var body io.Reader = resp.Body
	var capt *capture
	if isAutodiscover(r.URL.Path) {
		capt = &capture{rc: resp.Body}
		body = capt
	}
	if _, err := io.Copy(w, body); err != nil {
		o.Error = fmt.Sprintf("relaying the response: %v", unwrapNet(err))
	}
	if capt != nil {
		o.Body = capt.body(resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
	}
	o.Duration = time.Since(start)
	s.emit(Event{Type: EventExchange, Conn: id, Obs: o})
}

func withPortDefault(hostport, port string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), port)
}
