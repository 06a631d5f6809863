package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// A client of the proxy's listener whose request never reaches the
// handler (it sends nothing, half a CONNECT, or hangs up in the middle of
// its header block) is closed by net/http without a word. watchConn and
// Server.connState record it instead: net/http's ConnState hook says when
// such a connection closes, and watchConn keeps what the pending request
// had sent so far: how many bytes and the first watchKeep of them, enough
// for a request line and a User-Agent. Once a request reaches the
// handler its count starts again; a CONNECT tunnel unwraps the connection
// (handleConnect), so the relay reads the socket directly and an open
// tunnel holds no watchConn.

// watchKeep bounds the bytes a watchConn keeps of a pending request.
const watchKeep = 512

// watchConn is a client connection of the proxy's listener until it is
// hijacked (CONNECT).
type watchConn struct {
	net.Conn
	mu      sync.Mutex
	start   time.Time // when the pending request's first byte came (accept time before any)
	pending int64     // bytes of the request not yet handed to the handler
	head    []byte    // its first bytes, at most watchKeep
	served  int       // requests that reached the handler
	idleAt  time.Time // when the last one was answered
	err     error     // the last read error since then
	done    bool      // hijacked: nothing more to watch
}

func newWatchConn(c net.Conn) *watchConn { return &watchConn{Conn: c, start: time.Now()} }

func (c *watchConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if n > 0 && !c.done {
		if c.pending == 0 && c.served > 0 {
			c.start = time.Now()
		}
		c.pending += int64(n)
		if room := watchKeep - len(c.head); room > 0 {
			if c.head == nil {
				c.head = make([]byte, 0, watchKeep)
			}
			c.head = append(c.head, p[:min(n, room)]...)
		}
	}
	if err != nil {
		c.err = err
	}
	c.mu.Unlock()
	return n, err
}

// CloseWrite keeps net/http's half-close (it lets a client read an error
// answer before the connection closes).
func (c *watchConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// served is called when a request reaches the handler: it is complete.
func (c *watchConn) serve() {
	c.mu.Lock()
	c.served++
	c.pending, c.head, c.err = 0, c.head[:0], nil
	c.mu.Unlock()
}

type watchKey struct{}

// connContext gives a request's handler its watchConn (see serveWatched).
func connContext(ctx context.Context, c net.Conn) context.Context {
	if wc, ok := c.(*watchConn); ok {
		return context.WithValue(ctx, watchKey{}, wc)
	}
	return ctx
}

// serveWatched is the listener's handler: it tells the connection's
// watchConn that a request is complete, then serves it.
func (s *Server) serveWatched(w http.ResponseWriter, r *http.Request) {
	if wc, ok := r.Context().Value(watchKey{}).(*watchConn); ok {
		wc.serve()
	}
	s.gp.ServeHTTP(w, r)
}

// connState records a connection that closes with a request unfinished.
func (s *Server) connState(c net.Conn, st http.ConnState) {
	wc, ok := c.(*watchConn)
	if !ok {
		return
	}
	switch st {
	case http.StateIdle:
		// A request was answered. net/http has just cut its background
		// read short with a past deadline: that timeout is not the client's.
		wc.mu.Lock()
		wc.err, wc.idleAt = nil, time.Now()
		wc.mu.Unlock()
	case http.StateHijacked:
		wc.mu.Lock()
		wc.done, wc.head = true, nil
		wc.mu.Unlock()
	case http.StateClosed:
		wc.mu.Lock()
		u := unfinished{pending: wc.pending, head: bytes.Clone(wc.head), served: wc.served, err: wc.err, start: wc.start}
		// A timeout long before IdleTimeout is net/http's header timeout:
		// the next request's first bytes came in the same read as the one
		// before (pipelined), so they were counted with it.
		u.pipelined = u.served > 0 && u.pending == 0 && u.err != nil && isTimeout(u.err) && time.Since(wc.idleAt) < s.cfg.IdleTimeout/2
		if u.pipelined {
			u.start = wc.idleAt
		}
		done := wc.done
		wc.mu.Unlock()
		if done || !s.begin() {
			return
		}
		defer s.wg.Done()
		if o := s.unfinishedObs(wc.Conn, u); o != nil {
			s.emit(Event{Type: EventConnection, Conn: o.Conn, Connect: o.Connect, Err: errors.New(o.Error), Obs: o})
			s.emit(Event{Type: EventClosed, Conn: o.Conn, Connect: o.Connect})
		}
	}
}

// unfinishedObs is the observation of a connection that closed before its
// request was complete, or nil when there is nothing to say: it closed
// between requests or before sending anything (a browser's unused
// pre-connection), or its request was for a host --only leaves alone.
func (s *Server) unfinishedObs(c net.Conn, u unfinished) *record.Observation {
	timeout := u.err != nil && isTimeout(u.err)
	if u.pending == 0 && !u.pipelined && (u.served > 0 || !timeout) {
		return nil
	}
	req := parseHead(u.head)
	o := s.baseObs(s.newConnID(), c.RemoteAddr().String(), "", u.start)
	o.Kind, o.UserAgent = record.KindHTTP, req.ua
	switch {
	case req.method == http.MethodConnect:
		target := withPort(req.target)
		host := record.HostOnly(target)
		if !s.intercept(host) || host == HelperHost {
			return nil
		}
		o.Kind, o.Connect = record.KindTLS, target
	case req.method != "":
		o.Method, o.URL, o.Visibility = req.method, record.RedactURL(req.target), record.VisNone
		if h := record.HostOnly(hostOfURL(req.target)); h == HelperHost || (h != "" && !s.intercept(h)) {
			return nil
		}
	}
	o.Duration = time.Since(u.start)
	wait := s.cfg.RequestTimeout
	if u.served > 0 && o.Duration > 2*wait { // a kept-alive connection's next request waits IdleTimeout for its first bytes
		wait = o.Duration.Round(time.Second)
	}
	sent := fmt.Sprintf("%d bytes: %s", u.pending, req.describe())
	switch {
	case u.pipelined:
		o.Error = fmt.Sprintf("the client sent no complete request in %s (the start of it came with the request before, pipelined)", wait)
	case timeout && u.pending == 0:
		o.Error = fmt.Sprintf("the client sent no complete request in %s (it connected and sent nothing)", wait)
	case timeout:
		o.Error = fmt.Sprintf("the client sent no complete request in %s (it sent %s)", wait, sent)
	case u.err != nil && isClosed(u.err):
		o.Error = fmt.Sprintf("the client closed the connection after sending an incomplete request (%s)", sent)
	default:
		o.Error = fmt.Sprintf("the client sent what the proxy could not read as an HTTP request (%s); it was answered with an error status and the connection was closed", sent)
	}
	return o
}

// unfinished is what a watchConn knew when it closed.
type unfinished struct {
	pending   int64
	head      []byte
	served    int
	err       error
	start     time.Time
	pipelined bool
}

// headReq is what the first bytes of a request say.
type headReq struct {
	method, target, ua string
	tls                bool // a TLS record: the client speaks TLS to the proxy port
	line               bool // the request line is complete
}

// parseHead reads the request line and the User-Agent from the first bytes
// of a request, when they arrived whole. It keeps only what an HTTP request
// line may hold (a token method, a target of visible ASCII).
func parseHead(b []byte) headReq {
	var h headReq
	if len(b) > 0 && b[0] == 0x16 {
		h.tls = true
		return h
	}
	line, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return h
	}
	h.line = true
	f := bytes.Fields(line)
	if len(f) >= 2 && isToken(f[0]) && isVisible(f[1]) {
		h.method, h.target = string(f[0]), string(f[1])
	}
	for len(rest) > 0 {
		var l []byte
		if l, rest, ok = bytes.Cut(rest, []byte("\n")); !ok {
			break
		}
		k, v, ok := bytes.Cut(bytes.TrimSpace(l), []byte(":"))
		if ok && bytes.EqualFold(k, []byte("User-Agent")) {
			h.ua = record.RedactText(strings.Map(func(r rune) rune {
				if r < ' ' || r == 0x7f {
					return -1 // net/http refuses a header with control bytes; so does the trace
				}
				return r
			}, string(bytes.TrimSpace(v))))
		}
	}
	return h
}

// describe says what the pending bytes were, without their secrets.
func (h headReq) describe() string {
	switch {
	case h.tls:
		return "a TLS handshake: the client takes the proxy for an HTTPS proxy; set it as http://HOST:PORT, a plain-HTTP proxy that tunnels TLS"
	case h.method == http.MethodConnect:
		return "CONNECT " + withPort(h.target) + ", and no end of its header block"
	case h.method != "":
		return h.method + " " + record.RedactURL(h.target) + ", and no end of its header block"
	case h.line:
		return "not an HTTP request line"
	}
	return "not even a complete request line"
}

func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	return len(b) > 0 && len(b) <= 16
}

func isVisible(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return len(b) > 0
}

// hostOfURL is the host:port of an absolute URL, "" for another target.
func hostOfURL(u string) string {
	_, rest, ok := bytes.Cut([]byte(u), []byte("://"))
	if !ok {
		return ""
	}
	if i := bytes.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := bytes.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return string(rest)
}
