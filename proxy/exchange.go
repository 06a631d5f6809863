package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/certsleuth/certsleuth/record"
	"github.com/elazarl/goproxy"
)

// MaxBody is the most of an Autodiscover response body kept in a trace.
const MaxBody = 1 << 20

// serveHTTP relays HTTP/1.1 requests from client to up, one at a time, in
// order, on the tunnel's one upstream connection. When either side closes,
// the tunnel ends: a keep-alive connection the server dropped is dropped
// for the client too, as it would be without the proxy. Header blocks are
// bounded (MaxHeaderBytes), bodies streamed, and the buffers given back
// between requests, so an idle tunnel holds none.
func (t *tunnel) serveHTTP(client, up net.Conn, scheme string, _ any) {
	s := t.s
	cr, ur := &connReader{r: client, left: -1}, &connReader{r: up, left: -1}
	var cbr, ubr *bufio.Reader
	defer func() {
		putReader(cbr)
		putReader(ubr)
	}()
	exchanged := false
	for {
		client.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		if cbr = putReader(cbr); cbr == nil {
			// Idle: wait for the next request's first byte without a buffer.
			if err := cr.wait(); err != nil {
				if !exchanged {
					t.noRequest(err)
				}
				return
			}
			cbr = getReader(cr)
		}
		client.SetReadDeadline(time.Now().Add(s.cfg.RequestTimeout)) // the rest of the header block
		cr.limit()
		req, err := http.ReadRequest(cbr)
		if err != nil {
			switch {
			case cr.hit:
				t.headerTooLarge(client, exchanged)
			case isTimeout(err):
				t.connectionObs(fmt.Errorf("the client sent no complete request in %s", s.cfg.RequestTimeout), "")
			case !exchanged:
				t.noRequest(err)
			}
			return
		}
		cr.unlimit()
		client.SetReadDeadline(time.Time{})
		exchanged = true
		start := time.Now()
		o := t.tunnelObs(record.KindHTTP)
		o.Time = start.UTC()
		if scheme == "http" {
			o.Visibility = record.VisNone
		}
		o.Method, o.Host = req.Method, req.Host
		if ua := req.Header.Get("User-Agent"); ua != "" {
			o.UserAgent = ua
		}
		host := req.Host
		if host == "" {
			host = t.connect
		}
		if req.URL.IsAbs() {
			o.URL = record.RedactURL(req.URL.String())
		} else {
			o.URL = record.RedactURL(scheme + "://" + host + req.URL.RequestURI())
		}
		winAuth := isWindowsAuth(req.Header.Get("Authorization"))
		prepareOutgoing(req.Header)
		werr := make(chan error, 1)
		ubw := getWriter(up)
		go func() {
			err := req.Write(ubw) // the body streams from cbr
			if err == nil {
				err = ubw.Flush()
			}
			werr <- err
		}()
		if ubr == nil {
			ubr = getReader(ur)
		}
		cbw := getWriter(client)
		var resp *http.Response
		ur.limit()
		for {
			resp, err = http.ReadResponse(ubr, req)
			if err != nil || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
				break
			}
			resp.Write(cbw) // 1xx (100 Continue): pass on, then read the final response
			cbw.Flush()
			ur.limit()
		}
		ur.unlimit()
		if err != nil {
			up.Close()
			<-werr
			o.Error = fmt.Sprintf("upstream %s closed or failed before answering: %v", t.connect, unwrapNet(err))
			if ur.hit {
				o.Status, o.Error = http.StatusBadGateway, fmt.Sprintf("upstream %s sent a response header larger than %d MiB: answered 502", t.connect, MaxHeaderBytes>>20)
				writeClose(client, http.StatusBadGateway, "certsleuth proxy: "+o.Error)
			}
			o.Duration = time.Since(start)
			s.emit(Event{Type: EventExchange, Conn: t.id, Connect: t.connect, Err: err, Obs: o})
			putWriter(ubw)
			putWriter(cbw)
			return
		}
		o.Status = resp.StatusCode
		o.Location = record.RedactURL(resp.Header.Get("Location"))
		o.Exchange = exchangeServers(resp.Header)
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
		putWriter(ubw)
		putWriter(cbw)
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
		ubr = putReader(ubr)
	}
}

// noRequest records a tunnel that ended before its first request: still
// the chain shown, and why there was no request.
func (t *tunnel) noRequest(err error) {
	var e error
	switch {
	case isTimeout(err):
		e = fmt.Errorf("the client sent no request in %s", t.s.cfg.IdleTimeout)
	case err != io.EOF && !isClosed(err):
		e = fmt.Errorf("no HTTP request from the client: %v", err)
	}
	t.connectionObs(e, "")
}

// headerTooLarge answers 431 to a request whose header block is over
// MaxHeaderBytes, records it, and lets the tunnel close.
func (t *tunnel) headerTooLarge(client net.Conn, exchanged bool) {
	msg := fmt.Sprintf("the client sent a request header larger than %d MiB: answered 431 and closed the tunnel", MaxHeaderBytes>>20)
	writeClose(client, http.StatusRequestHeaderFieldsTooLarge, "certsleuth proxy: "+msg)
	o := t.tunnelObs(record.KindHTTP)
	o.Time, o.Status, o.Error, o.Duration = time.Now().UTC(), http.StatusRequestHeaderFieldsTooLarge, msg, time.Since(t.start)
	t.s.emit(Event{Type: EventExchange, Conn: t.id, Connect: t.connect, Obs: o})
}

// writeClose writes a final plain-text HTTP/1.1 answer on a tunnel.
func writeClose(c net.Conn, code int, msg string) {
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	msg += "\n"
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", code, http.StatusText(code), len(msg), msg)
}

// isTimeout reports whether err is a deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// exchangeServers keeps the server names Exchange writes in its response
// headers (X-FEServer, X-BEServer, X-CalculatedBETarget); nil when there
// are none. Each is cut to a host name's length: they are names, not data.
func exchangeServers(h http.Header) *record.ExchangeServers {
	clean := func(v string) string {
		v = strings.TrimSpace(v)
		if len(v) > 255 || strings.ContainsAny(v, " \t/\\@") {
			return ""
		}
		return v
	}
	e := record.ExchangeServers{FrontEnd: clean(h.Get("X-FEServer")), BackEnd: clean(h.Get("X-BEServer")), BETarget: clean(h.Get("X-CalculatedBETarget"))}
	if e == (record.ExchangeServers{}) {
		return nil
	}
	return &e
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
	return record.KeptBody(contentType, b, trunc) // tokens redacted
}

// plainReq relays one absolute http:// request (Autodiscover's port-80
// redirect probe, for instance) for goproxy and records it. goproxy calls
// RoundTrip; the observation is emitted when the response body is closed
// (so an Autodiscover body is complete), or at once on an error.
type plainReq struct {
	s       *Server
	winAuth bool
}

func (p *plainReq) RoundTrip(r *http.Request, _ *goproxy.ProxyCtx) (*http.Response, error) {
	s := p.s
	tr := s.transport
	if !s.localClient(remoteAddr(r.RemoteAddr), localAddr(r)) {
		tr = s.remoteTr
	}
	if !s.intercept(r.URL.Hostname()) { // outside --only: relayed, not recorded
		return tr.RoundTrip(r)
	}
	if !s.begin() {
		return nil, errors.New("the proxy is shutting down")
	}
	start := time.Now()
	id := s.newConnID()
	o := s.baseObs(id, r.RemoteAddr, "", start)
	o.Visibility = record.VisNone
	o.Method, o.Host, o.URL = r.Method, r.Host, record.RedactURL(r.URL.String())
	o.UserAgent = r.Header.Get("User-Agent")
	if o.Host == "" {
		o.Host = r.URL.Host
	}
	o.Server = s.dialAddr(withPortDefault(r.URL.Host, "80"))
	if r.ContentLength == 0 {
		r.Body = nil
	}
	resp, err := tr.RoundTrip(r)
	if err != nil {
		o.Error = fmt.Sprintf("upstream %s: %v", r.URL.Host, unwrapNet(err))
		if rf := refused(err); rf != nil {
			o.Error = rf.Error()
		}
		o.Duration = time.Since(start)
		s.emit(Event{Type: EventExchange, Conn: id, Err: err, Obs: o})
		s.wg.Done()
		return nil, err
	}
	o.Status, o.Location = resp.StatusCode, record.RedactURL(resp.Header.Get("Location"))
	o.Exchange = exchangeServers(resp.Header)
	if p.winAuth && resp.StatusCode == http.StatusUnauthorized {
		o.Note = "Windows authentication (NTLM/Negotiate) over plain HTTP was refused through the proxy: plain-HTTP requests share pooled upstream connections, which breaks connection-bound authentication; Exchange Extended Protection may also refuse it"
	}
	pb := &plainBody{rc: resp.Body, o: o, s: s, start: start, ctype: resp.Header.Get("Content-Type"), enc: resp.Header.Get("Content-Encoding")}
	if isAutodiscover(r.URL.Path) {
		pb.capt = &capture{rc: resp.Body}
	}
	resp.Body = pb
	return resp, nil
}

// plainBody emits the plain-HTTP observation when goproxy closes the body.
type plainBody struct {
	rc         io.ReadCloser
	capt       *capture
	o          *record.Observation
	s          *Server
	start      time.Time
	ctype, enc string
	readErr    error
	once       sync.Once
}

func (b *plainBody) Read(p []byte) (int, error) {
	var n int
	var err error
	if b.capt != nil {
		n, err = b.capt.Read(p)
	} else {
		n, err = b.rc.Read(p)
	}
	if err != nil && err != io.EOF {
		b.readErr = err
	}
	return n, err
}

func (b *plainBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() {
		if b.readErr != nil {
			b.o.Error = fmt.Sprintf("relaying the response: %v", unwrapNet(b.readErr))
		}
		if b.capt != nil {
			b.o.Body = b.capt.body(b.ctype, b.enc)
		}
		b.o.Duration = time.Since(b.start)
		b.s.emit(Event{Type: EventExchange, Conn: b.o.Conn, Obs: b.o})
		b.s.wg.Done()
	})
	return err
}

func withPortDefault(hostport, port string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), port)
}
