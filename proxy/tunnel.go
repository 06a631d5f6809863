package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
)

// tunnel is one client CONNECT tunnel and its upstream connection.
type tunnel struct {
	s       *Server
	id      string
	connect string // CONNECT target, host:port
	ua      string // the CONNECT's User-Agent
	client  net.Conn
	cbr     *bufio.Reader // buffered client reader (bytes may precede TLS)
	upRaw   net.Conn
	start   time.Time

	mu        sync.Mutex
	hello     *tls.ClientHelloInfo
	up        *tls.Conn
	upState   tls.ConnectionState
	chain     []*x509.Certificate
	upErr     error
	untrusted bool
	trustNote string
	// held is the client side of the mitm handshake; divert is set when
	// the upstream chain cannot be mirrored (see unmirrorable.go).
	held   *heldConn
	divert error
}

// handleConnect runs one CONNECT tunnel on the raw client connection that
// goproxy hijacked. It dials exactly the CONNECT target (after --resolve),
// answers the CONNECT itself (502 when the upstream is down), and closes
// the client connection when the tunnel ends.
func (s *Server) handleConnect(r *http.Request, client net.Conn) {
	if wc, ok := client.(*watchConn); ok {
		client = wc.Conn // the request is complete: the tunnel reads the socket itself
	}
	if !s.begin() {
		writeStatus(client, r, http.StatusServiceUnavailable, "certsleuth proxy: shutting down")
		client.Close()
		return
	}
	// The tunnel runs on a goroutine of its own and net/http's connection
	// goroutine ends now, freeing its buffers (8 KiB and more per tunnel)
	// and its stack; the tunnel keeps only what it needs of the request.
	r = &http.Request{Method: r.Method, URL: r.URL, Host: r.Host, Header: r.Header, Proto: r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor}
	s.tunnelOpened()
	go func() {
		defer s.wg.Done()
		defer s.tunnelClosed()
		s.tunnelConnect(r, client)
	}()
}

// tunnelConnect is handleConnect's tunnel, on its own goroutine.
func (s *Server) tunnelConnect(r *http.Request, client net.Conn) {
	authority := r.URL.Host
	if authority == "" {
		authority = r.Host
	}
	target := withPort(authority)
	host := record.HostOnly(target)
	if strings.EqualFold(host, HelperHost) { // a device trying https://certsleuth.local/: not an upstream, not recorded
		writeStatus(client, r, http.StatusBadGateway, "certsleuth proxy: the helper page is served over plain HTTP: open http://"+HelperHost+"/")
		client.Close()
		return
	}
	start := time.Now()
	id := s.newConnID()
	blind := !s.intercept(host)
	mode := s.cfg.Mode
	outside := !blind && mode != ModePassthrough && s.minter != nil && !s.minter.CA().Permits(host)
	if !s.track(client) {
		client.Close()
		return
	}
	up, addr, err := s.dialFor(s.ctx, s.localClient(client.RemoteAddr(), client.LocalAddr()), target)
	if err != nil {
		code, msg := http.StatusBadGateway, fmt.Sprintf("upstream %s is down: connect to %s: %v", target, addr, unwrapNet(err))
		if rf := refused(err); rf != nil {
			code, msg = http.StatusForbidden, rf.Error()
		}
		writeStatus(client, r, code, "certsleuth proxy: "+msg)
		client.Close()
		s.untrack(client)
		if !blind {
			o := s.baseObs(id, client.RemoteAddr().String(), target, start)
			o.Kind, o.Visibility = record.KindTLS, record.VisFailed
			o.Error = msg
			o.Duration = time.Since(start)
			s.emit(Event{Type: EventConnection, Conn: id, Connect: target, Err: err, Obs: o})
			s.emit(Event{Type: EventClosed, Conn: id, Connect: target})
		}
		return
	}
	if !s.track(up) {
		client.Close()
		up.Close()
		s.untrack(client)
		return
	}
	defer func() {
		client.Close()
		up.Close()
		s.untrack(client)
		s.untrack(up)
		s.emit(Event{Type: EventClosed, Conn: id, Connect: target})
	}()
	if err := writeStatus(client, r, http.StatusOK, ""); err != nil {
		return
	}
	t := &tunnel{s: s, id: id, connect: target, ua: r.Header.Get("User-Agent"), client: client, cbr: getReader(client), upRaw: up, start: start}
	var note string
	if outside {
		// The CONNECT host is outside the CA's constraints, but the name
		// the client checks is its SNI (a CONNECT to an address, say).
		name := host
		if sni := t.peekSNI(); sni != "" {
			name = sni
		}
		if !s.minter.CA().Permits(name) {
			mode, note = ModePassthrough, fmt.Sprintf("%s is outside the CA's name constraints, so no client would accept a leaf for it: tunnelled, not intercepted", name)
		}
	}
	switch {
	case blind:
		pipe(client, up, t.cbr, up)
	case mode == ModePassthrough:
		t.passthrough(note)
	default:
		t.mitm(mode)
	}
}

// peekSNI reads the client's ClientHello without consuming it and returns
// its SNI ("" when there is none or it is not TLS).
func (t *tunnel) peekSNI() string {
	t.client.SetReadDeadline(time.Now().Add(t.s.cfg.HandshakeTimeout))
	defer t.client.SetReadDeadline(time.Time{})
	hdr, err := t.cbr.Peek(5)
	if err != nil || hdr[0] != 0x16 {
		return ""
	}
	n := 5 + (int(hdr[3])<<8 | int(hdr[4]))
	if n > t.cbr.Size() {
		return ""
	}
	rec, err := t.cbr.Peek(n)
	if err != nil {
		return ""
	}
	h, err := readClientHello(bytes.NewReader(rec))
	if err != nil {
		return ""
	}
	return h.sni
}

// writeStatus answers a CONNECT on the raw connection, in the client's
// HTTP version (as goproxy does since 1.9.1). A non-200 answer carries msg
// as a text body and closes the connection.
func writeStatus(c net.Conn, r *http.Request, code int, msg string) error {
	major, minor := r.ProtoMajor, r.ProtoMinor
	if major == 0 {
		major, minor = 1, 1
	}
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	defer c.SetWriteDeadline(time.Time{})
	if code == http.StatusOK {
		_, err := fmt.Fprintf(c, "HTTP/%d.%d 200 Connection established\r\n\r\n", major, minor)
		return err
	}
	msg += "\n"
	_, err := fmt.Fprintf(c, "HTTP/%d.%d %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		major, minor, code, http.StatusText(code), len(msg), msg)
	return err
}

// baseObs is an observation with the tunnel-wide fields filled in.
func (s *Server) baseObs(id, client, connect string, start time.Time) *record.Observation {
	return &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: start.UTC(), Conn: id, Client: client, Connect: connect}
}

// mitm terminates the client's TLS with a minted leaf and relays HTTP/1.1
// requests over the tunnel's own upstream connection.
func (t *tunnel) mitm(mode Mode) {
	s := t.s
	t.client.SetDeadline(time.Now().Add(s.cfg.RequestTimeout))
	first, err := t.cbr.Peek(1)
	if err != nil {
		t.connectionObs(t.silent(err), "")
		return
	}
	t.client.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	bc := &bufConn{Conn: t.client, r: t.cbr}
	t.cbr = nil           // bc gives the buffer back once it is drained
	if first[0] != 0x16 { // not a TLS handshake record: plain HTTP inside the tunnel
		t.client.SetDeadline(time.Time{})
		t.serveHTTP(bc, t.upRaw, "http", nil)
		return
	}
	cfg := s.clientTLSBase()
	cfg.GetCertificate = func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return t.certificate(mode, h) }
	t.held = &heldConn{Conn: bc}
	tc := tls.Server(t.held, cfg)
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandshakeTimeout)
	err = tc.HandshakeContext(ctx)
	cancel()
	if t.divert != nil {
		t.passUnchanged(t.held.held, t.divert)
		return
	}
	t.held.release()
	if err != nil {
		t.handshakeFailed(err)
		return
	}
	t.client.SetDeadline(time.Time{})
	t.serveHTTP(tc, t.up, "https", tc)
}

// certificate runs on the client's ClientHello: it completes the upstream
// handshake with the client's SNI, then picks the leaf to show.
func (t *tunnel) certificate(mode Mode, h *tls.ClientHelloInfo) (*tls.Certificate, error) {
	s := t.s
	t.mu.Lock()
	t.hello = h
	t.mu.Unlock()
	s.emit(Event{Type: EventClientHello, Conn: t.id, Connect: t.connect, Hello: h})
	up := tls.Client(t.upRaw, s.upstreamTLS(h.ServerName)) // "" sends no SNI, as the client did
	// Less than the client's own handshake time: an upstream that accepts
	// TCP and never answers still gets the client a TLS alert (internal
	// error, from crypto/tls) before the client's handshake times out.
	t.upRaw.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout * 4 / 5))
	err := up.HandshakeContext(h.Context())
	t.upRaw.SetDeadline(time.Time{})
	st := up.ConnectionState()
	t.mu.Lock()
	t.up, t.upState, t.chain = up, st, st.PeerCertificates
	if err != nil {
		t.upErr = err
	}
	t.mu.Unlock()
	s.emit(Event{Type: EventUpstreamHandshake, Conn: t.id, Connect: t.connect, Chain: st.PeerCertificates, Err: err})
	if mode == ModeMirror && unmirrorable(err) && t.held != nil && t.held.mute() {
		t.divert = err
		return nil, errUnmirrorable
	}
	if err != nil {
		return nil, fmt.Errorf("upstream TLS handshake: %w", err)
	}
	if len(st.PeerCertificates) == 0 {
		t.upErr = errors.New("the server sent no certificate")
		return nil, t.upErr
	}
	var spec certs.LeafSpec
	m := s.minter
	switch mode {
	case ModeClean:
		name := h.ServerName
		if name == "" {
			name = record.HostOnly(t.connect)
		}
		spec = certs.SpecFor(name)
	default:
		spec = certs.MirrorSpec(st.PeerCertificates[0])
		v := s.judgeTrust(st.PeerCertificates)
		t.mu.Lock()
		t.untrusted, t.trustNote = !v.trusted, v.note
		t.mu.Unlock()
		if !v.trusted {
			m = s.untrusted
		} else if c, dropped := m.CA().Constrain(spec); len(dropped) > 0 {
			spec = c
			t.mu.Lock()
			t.trustNote = joinNote(t.trustNote, fmt.Sprintf("the mirrored leaf leaves out %s: outside the CA's name constraints, clients would refuse the whole leaf for them", strings.Join(dropped, ", ")))
			t.mu.Unlock()
		}
	}
	leaf, err := m.Leaf(spec)
	if err != nil {
		return nil, err
	}
	s.emit(Event{Type: EventLeafMinted, Conn: t.id, Connect: t.connect, Leaf: leaf.Leaf, Untrusted: m == s.untrusted})
	return leaf, nil
}

// tunnelObs fills an observation with what the tunnel knows so far.
func (t *tunnel) tunnelObs(kind record.Kind) *record.Observation {
	o := t.s.baseObs(t.id, t.client.RemoteAddr().String(), t.connect, t.start)
	o.Kind = kind
	o.Server = t.upRaw.RemoteAddr().String()
	o.UserAgent = t.ua
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := t.hello; h != nil {
		o.SNI, o.NoSNI, o.ALPN = h.ServerName, h.ServerName == "", h.SupportedProtos
	}
	if t.upState.Version != 0 {
		o.TLSVersion, o.Protocol = tls.VersionName(t.upState.Version), t.upState.NegotiatedProtocol
	}
	for _, c := range t.chain {
		o.Chain = append(o.Chain, c.Raw)
	}
	switch {
	case len(o.Chain) > 0:
		o.Visibility = record.VisVisible
	case t.hello != nil:
		o.Visibility = record.VisFailed
	}
	var notes []string
	if t.trustNote != "" {
		notes = append(notes, t.trustNote)
	}
	if t.untrusted {
		notes = append(notes, "mirrored through the untrusted CA: the client sees the chain as untrusted, as it would without the proxy")
	}
	o.Note = strings.Join(notes, "; ")
	return o
}

// connectionObs records a tunnel that produced no HTTP exchange.
func (t *tunnel) connectionObs(err error, alert string) {
	o := t.tunnelObs(record.KindTLS)
	if err != nil {
		o.Error = err.Error()
	}
	o.ClientAlert = alert
	o.Duration = time.Since(t.start)
	t.s.emit(Event{Type: EventConnection, Conn: t.id, Connect: t.connect, Err: err, Obs: o})
}

// handshakeFailed says why the client's handshake failed: the upstream's
// fault, the client rejecting our leaf (its alert is evidence), or the
// client hanging up.
func (t *tunnel) handshakeFailed(err error) {
	t.mu.Lock()
	upErr, hello := t.upErr, t.hello
	t.mu.Unlock()
	switch {
	case upErr != nil && isTimeout(upErr):
		t.connectionObs(fmt.Errorf("upstream %s accepted the connection but did not complete the TLS handshake in %s: the client was sent a TLS alert (internal error)", t.connect, t.s.cfg.HandshakeTimeout*4/5), "")
	case upErr != nil:
		t.connectionObs(fmt.Errorf("upstream TLS handshake with %s failed: %v", t.connect, upErr), "")
	case hello == nil && isClosed(err):
		t.connectionObs(errors.New("the client hung up during the TLS handshake, before its ClientHello"), "")
	case hello == nil && !t.s.cfg.LegacyTLS && strings.Contains(err.Error(), "unsupported versions"):
		t.connectionObs(fmt.Errorf("client TLS handshake: %v (an old client: run the proxy with --legacy-tls)", err), "")
	case hello == nil:
		t.connectionObs(fmt.Errorf("client TLS handshake: %v", err), "")
	default:
		if a := clientAlert(err); a != "" {
			t.connectionObs(fmt.Errorf("the client rejected the certificate it was shown (TLS alert %q)", a), a)
			return
		}
		if isClosed(err) {
			t.connectionObs(errors.New("the client hung up during the TLS handshake after seeing the certificate (no alert)"), "")
			return
		}
		t.connectionObs(fmt.Errorf("client TLS handshake: %v", err), "")
	}
}

// clientAlert extracts the alert from crypto/tls's "remote error: tls: X".
func clientAlert(err error) string {
	const p = "remote error: tls: "
	msg := err.Error()
	if i := strings.Index(msg, p); i >= 0 {
		return msg[i+len(p):]
	}
	return ""
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// bufConn reads through a bufio.Reader that may already hold bytes (the
// ClientHello, peeked), then, once it is drained, from the connection
// itself: the reader goes back to the pool, so an open tunnel keeps no
// 16 KiB buffer for it.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(p)
		}
		c.r = putReader(c.r)
	}
	return c.Conn.Read(p)
}

// silent says why a new tunnel ended before its first byte: the client
// closed it, or sent nothing within RequestTimeout.
func (t *tunnel) silent(err error) error {
	if isTimeout(err) {
		return fmt.Errorf("the client sent no complete request in %s (the tunnel was open, nothing came)", t.s.cfg.RequestTimeout)
	}
	return errors.New("the client closed the tunnel before sending anything")
}
