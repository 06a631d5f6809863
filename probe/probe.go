// Package probe connects to a TLS server the way a client would, never
// aborting on a bad certificate, and records what the server presented as
// observations (source "probe"). `certsleuth check` and the proxy's
// passthrough mode use it.
package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/capture"
	"github.com/certsleuth/certsleuth/record"
)

// Target is a server to probe.
type Target struct {
	Host string // the name the client uses (DNS name or IP address)
	Port string
	Path string // URL path, if the target was a URL
}

// String renders the target as host:port.
func (t Target) String() string { return net.JoinHostPort(t.Host, t.Port) }

// ParseTarget accepts a URL ("https://mail.contoso.com/EWS/Exchange.asmx"),
// a host name or address, or host:port ("[::1]:8443"). The port defaults
// to 443.
func ParseTarget(s string) (Target, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Target{}, errors.New("empty target: give a URL, a host name or host:port")
	}
	if strings.Contains(in, "://") {
		u, err := url.Parse(in)
		if err != nil {
			return Target{}, fmt.Errorf("target %q: %w", s, err)
		}
		if u.Scheme != "https" {
			return Target{}, fmt.Errorf("target %q: only https URLs carry a certificate", s)
		}
		if u.Hostname() == "" {
			return Target{}, fmt.Errorf("target %q: the URL has no host", s)
		}
		t := Target{Host: u.Hostname(), Port: u.Port(), Path: u.EscapedPath()}
		if t.Port == "" {
			t.Port = "443"
		}
		return t, validPort(s, t)
	}
	if h, p, err := net.SplitHostPort(in); err == nil {
		t := Target{Host: h, Port: p}
		if h == "" {
			return Target{}, fmt.Errorf("target %q: no host before the port", s)
		}
		return t, validPort(s, t)
	}
	h := strings.TrimSuffix(strings.TrimPrefix(in, "["), "]")
	if h == "" || strings.ContainsAny(h, "/ []") {
		return Target{}, fmt.Errorf("target %q is not a URL, host or host:port", s)
	}
	return Target{Host: h, Port: "443"}, nil
}

func validPort(s string, t Target) error {
	n, err := strconv.Atoi(t.Port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("target %q: bad port %q", s, t.Port)
	}
	return nil
}

// Options control a probe.
type Options struct {
	// Resolve maps host names (or host:port) to the address to dial
	// instead of asking DNS ("mail.contoso.com" -> "127.0.0.1" or
	// "127.0.0.1:8443"), like curl --resolve.
	Resolve map[string]string
	// ConnectTimeout bounds the TCP connect; HandshakeTimeout the TLS
	// handshake. Zero means 5s and 10s.
	ConnectTimeout   time.Duration
	HandshakeTimeout time.Duration
	// ALPN is offered in the ClientHello; nil offers http/1.1.
	ALPN []string
	// MinVersion is the lowest TLS version offered; zero means TLS 1.0, so
	// that old Exchange servers still answer.
	MinVersion uint16
}

// Dial address for t after applying Resolve.
func (o *Options) address(t Target) string {
	if a, ok := o.Resolve[t.String()]; ok {
		return a
	}
	if a, ok := o.Resolve[strings.ToLower(t.Host)]; ok {
		if _, _, err := net.SplitHostPort(a); err == nil {
			return a
		}
		return net.JoinHostPort(a, t.Port)
	}
	return t.String()
}

// Fetch connects to t once, sending sni as the server name ("" sends no
// SNI), and returns an observation of what the server presented. A failed
// connection is an observation too, with Error and Visibility "failed";
// the returned error is set only when the context was cancelled.
func Fetch(ctx context.Context, t Target, sni string, o Options) *record.Observation {
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.MinVersion == 0 {
		o.MinVersion = tls.VersionTLS10
	}
	alpn := o.ALPN
	if alpn == nil {
		alpn = []string{"http/1.1"}
	}
	obs := &record.Observation{Kind: record.KindTLS, Source: record.SourceProbe, Time: time.Now().UTC(), SNI: sni, NoSNI: sni == "", ALPN: alpn}
	obs.URL = "https://" + t.String() + "/"
	if t.Path != "" {
		obs.URL = "https://" + t.String() + t.Path
	}
	addr := o.address(t)
	start := time.Now()
	d := net.Dialer{Timeout: o.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		obs.Visibility, obs.Error = record.VisFailed, fmt.Sprintf("connect to %s: %v", addr, unwrapNet(err))
		return obs
	}
	defer conn.Close()
	obs.Client, obs.Server = conn.LocalAddr().String(), conn.RemoteAddr().String()
	// crypto/tls refuses a certificate crypto/x509 cannot parse before the
	// handshake ends, so the server's bytes and the handshake secrets are
	// kept to read the chain anyway (capture.ServerChain); they stay in
	// memory and are dropped with the connection.
	rec := &recordingConn{Conn: conn}
	var keys bytes.Buffer
	cfg := &tls.Config{
		ServerName:         sni,
		InsecureSkipVerify: true, // certsleuth judges the certificate itself, per client profile
		MinVersion:         o.MinVersion,
		NextProtos:         alpn,
		KeyLogWriter:       &keys,
	}
	tc := tls.Client(rec, cfg)
	hctx, cancel := context.WithTimeout(ctx, o.HandshakeTimeout)
	defer cancel()
	err = tc.HandshakeContext(hctx)
	obs.Duration = time.Since(start)
	st := tc.ConnectionState()
	for _, c := range st.PeerCertificates {
		obs.Chain = append(obs.Chain, c.Raw)
	}
	if err != nil && len(obs.Chain) == 0 && strings.Contains(err.Error(), "failed to parse certificate") {
		// Go refused to parse it; other clients may not (docs/malformed-certs.md).
		if chain, cerr := capture.ServerChain(rec.read.Bytes(), keys.Bytes()); cerr == nil && len(chain) > 0 {
			obs.Chain = chain
			obs.Note = fmt.Sprintf("Go's crypto/tls stopped the handshake (%v); certsleuth read the certificate from the handshake records", err)
			err = nil
		}
	}
	if st.Version != 0 {
		obs.TLSVersion = tls.VersionName(st.Version)
	}
	obs.Protocol = st.NegotiatedProtocol
	switch {
	case err != nil && len(obs.Chain) == 0:
		obs.Visibility, obs.Error = record.VisFailed, fmt.Sprintf("TLS handshake with %s: %v", addr, err)
	case err != nil:
		obs.Visibility, obs.Error = record.VisVisible, fmt.Sprintf("TLS handshake with %s: %v", addr, err)
	default:
		obs.Visibility = record.VisVisible
	}
	return obs
}

// recordingConn keeps the first maxRecorded bytes the server sent.
type recordingConn struct {
	net.Conn
	read bytes.Buffer
}

// maxRecorded bounds what recordingConn keeps: a handshake up to the
// Certificate message (capture's own bound on a handshake message).
const maxRecorded = 256 << 10

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if room := maxRecorded - c.read.Len(); room > 0 {
		c.read.Write(p[:min(n, room)])
	}
	return n, err
}

func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
