package proxy

import (
	"crypto/tls"
	"crypto/x509"

	"github.com/certsleuth/certsleuth/record"
)

// EventType names what happened.
type EventType string

// The events a Server emits, in the order they happen on a tunnel.
const (
	// EventClientHello: the client's ClientHello arrived (Hello is set).
	EventClientHello EventType = "ClientHello"
	// EventUpstreamHandshake: the upstream TLS handshake finished, well or
	// not (Chain holds what the server sent, Err what went wrong).
	EventUpstreamHandshake EventType = "UpstreamHandshake"
	// EventLeafMinted: the leaf shown to the client was chosen (Leaf is set;
	// Untrusted when the throw-away CA signed it).
	EventLeafMinted EventType = "LeafMinted"
	// EventExchange: one HTTP request and its response are done (Obs is set).
	EventExchange EventType = "Exchange"
	// EventConnection: a tunnel ended without any HTTP exchange to show for
	// it (dead upstream, failed handshake, client rejected the certificate,
	// passthrough). Obs is set.
	EventConnection EventType = "Connection"
	// EventClosed: the tunnel is closed.
	EventClosed EventType = "Closed"
)

// Event is one thing that happened on a tunnel. Obs, when set, is the
// observation to record; observers must not modify it.
type Event struct {
	Type      EventType
	Conn      string // the tunnel's ID, as in record.Observation.Conn
	Connect   string // the CONNECT target
	Hello     *tls.ClientHelloInfo
	Chain     []*x509.Certificate
	Leaf      *x509.Certificate
	Untrusted bool
	Err       error
	Obs       *record.Observation
}
