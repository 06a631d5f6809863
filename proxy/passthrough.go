package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/probe"
	"github.com/certsleuth/certsleuth/record"
)

// passthrough tunnels the bytes unchanged and records what can be read
// from them: SNI and ALPN from the ClientHello, the chain from the
// server's Certificate message (TLS 1.2 and below) or, for TLS 1.3, from a
// side connection with the same SNI and ALPN.
func (t *tunnel) passthrough(note string) {
	s := t.s
	o := t.s.baseObs(t.id, t.client.RemoteAddr().String(), t.connect, t.start)
	o.Kind, o.Server, o.Note = record.KindTLS, t.upRaw.RemoteAddr().String(), note
	emit := func(err error) {
		o.Duration = time.Since(t.start)
		s.emit(Event{Type: EventConnection, Conn: t.id, Connect: t.connect, Err: err, Obs: o})
	}
	t.client.SetReadDeadline(time.Now().Add(s.cfg.RequestTimeout))
	first, err := t.cbr.Peek(1)
	if err != nil {
		o.Visibility, o.Error = record.VisFailed, t.silent(err).Error()
		emit(nil)
		return
	}
	t.client.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	if first[0] != 0x16 {
		t.client.SetReadDeadline(time.Time{})
		o.Visibility, o.Note = record.VisNone, joinNote(note, "not TLS: tunnelled as is")
		emit(nil)
		pipe(t.client, t.upRaw, t.cbr, t.upRaw)
		return
	}
	var hello bytes.Buffer
	h, err := readClientHello(io.TeeReader(t.cbr, &hello))
	t.client.SetReadDeadline(time.Time{})
	if err != nil {
		o.Visibility, o.Error = record.VisFailed, fmt.Sprintf("no ClientHello from the client: %v", err)
		emit(nil)
		return
	}
	o.SNI, o.NoSNI, o.ALPN = h.sni, h.sni == "", h.alpn
	if _, err := t.upRaw.Write(hello.Bytes()); err != nil {
		o.Visibility, o.Error = record.VisFailed, fmt.Sprintf("upstream %s: %v", t.connect, unwrapNet(err))
		emit(nil)
		return
	}
	sf, cf := newFlight(true), newFlight(false)
	ended := make(chan struct{})
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		select {
		case <-sf.done:
		case <-ended:
			sf.mu.Lock()
			sf.finish()
			sf.mu.Unlock()
		}
		t.describeServer(o, sf, h)
		if len(o.Chain) > 0 && !sf.tls13 && !sf.resumed {
			// TLS 1.2: wait for the client's verdict on the certificate.
			select {
			case <-cf.done:
			case <-ended:
			}
			cf.mu.Lock()
			alert, accepted := cf.alert, cf.accepted
			cf.mu.Unlock()
			if alert != "" {
				o.ClientAlert = alert
				o.Error = fmt.Sprintf("the client rejected the server's certificate (TLS alert %q)", alert)
			} else if !accepted && o.Error == "" {
				o.Error = "the client hung up after seeing the certificate (no alert)"
			}
		}
		emit(nil)
	}()
	pipe(t.client, t.upRaw, io.TeeReader(t.cbr, cf), io.TeeReader(t.upRaw, sf))
	close(ended)
	<-recorded
}

// describeServer fills o from the server's flight, probing for TLS 1.3.
func (t *tunnel) describeServer(o *record.Observation, sf *flight, h *helloInfo) {
	sf.mu.Lock()
	sf.mu.Unlock() // finished: the results no longer change
	if sf.version != 0 {
		o.TLSVersion = tls.VersionName(sf.version)
	}
	switch {
	case sf.alert != "":
		o.Visibility, o.Error = record.VisFailed, fmt.Sprintf("the server sent TLS alert %q", sf.alert)
	case sf.err != nil:
		o.Visibility, o.Error = record.VisFailed, fmt.Sprintf("server stream: %v", sf.err)
	case sf.tls13:
		t.probe(o, h)
	case sf.resumed:
		o.Visibility = record.VisResumed
	case len(sf.chain) > 0:
		o.Chain, o.Visibility = sf.chain, record.VisVisible
	default:
		o.Visibility, o.Error = record.VisFailed, "the connection ended before the server's certificate"
	}
}

// probe fetches the chain over a side connection with the client's SNI and
// ALPN, because TLS 1.3 encrypts the Certificate message.
func (t *tunnel) probe(o *record.Observation, h *helloInfo) {
	host, port, err := net.SplitHostPort(t.connect)
	if err != nil {
		host, port = t.connect, "443"
	}
	addr := t.upRaw.RemoteAddr().String() // the very address the client's bytes went to
	po := probe.Options{Resolve: map[string]string{strings.ToLower(host): addr, net.JoinHostPort(host, port): addr}, ALPN: h.alpn, ConnectTimeout: t.s.cfg.DialTimeout, HandshakeTimeout: t.s.cfg.HandshakeTimeout}
	if len(h.alpn) == 0 {
		po.ALPN = []string{}
	}
	// Not s.ctx: a probe under way when the proxy is closed still finishes
	// (bounded by the timeouts), so the last tunnels' chains are recorded.
	ctx, cancel := context.WithTimeout(context.Background(), t.s.cfg.DialTimeout+t.s.cfg.HandshakeTimeout)
	defer cancel()
	p := probe.Fetch(ctx, probe.Target{Host: host, Port: port}, h.sni, po)
	o.Chain = p.Chain
	if len(p.Chain) > 0 {
		o.Visibility = record.VisProbed
		o.Note = joinNote(o.Note, "TLS 1.3 encrypts the certificate: fetched by a side connection with the same SNI and ALPN")
	} else {
		o.Visibility = record.VisEncrypted
		o.Note = joinNote(o.Note, "TLS 1.3 encrypts the certificate and the side connection failed: "+p.Error)
	}
}
