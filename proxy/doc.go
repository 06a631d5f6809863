// Package proxy is certsleuth's intercepting HTTP proxy: clients (Outlook,
// phones, browsers) are pointed at it, and it records which request got
// which certificate while showing the client the verdict it would see
// without the proxy.
//
// # Modes
//
//   - ModeMirror (default): for each CONNECT tunnel the proxy dials exactly
//     the CONNECT target with the client's own SNI, reads the chain the
//     server really sent, and presents a leaf with exactly the upstream
//     leaf's subject CN, SANs, validity dates and EKU. A chain the clients
//     would not trust is re-signed by a second, throw-away CA that nobody
//     trusts, so "not trusted" reproduces too. The client therefore shows
//     the same name, date and trust warning as without the proxy.
//   - ModeClean: the leaf carries the name the client asked for (SNI, else
//     the CONNECT host), so the client sees no warning; the real upstream
//     chain is still recorded.
//   - ModePassthrough: no interception. The bytes are tunnelled unchanged;
//     the SNI and ALPN come from the ClientHello, the chain from the
//     server's Certificate message (TLS 1.2 and below) or, for TLS 1.3, from
//     a side connection with the same SNI and ALPN (marked "probed").
//
// Each client tunnel gets its own upstream connection (Windows NTLM and
// Negotiate authenticate a connection, not a request), and when the
// upstream closes, the client's connection closes too.
//
// # Events
//
// The proxy emits named events (ClientHello, UpstreamHandshake,
// LeafMinted, Exchange, Connection, Closed) to observers. The trace
// recorder and the live analyzer (Live) are observers; Exchange and
// Connection events carry the record.Observation to keep.
//
// # Why not goproxy
//
// Mirror mode needs the upstream handshake to finish before the client's
// certificate is chosen, a 1:1 upstream connection per tunnel dialled to
// the CONNECT target (goproxy ≥ 1.9.1 re-targets to the Host header), and
// the client's own TLS alert when it rejects the leaf (goproxy logs and
// drops handshake errors). A small CONNECT + TLS + HTTP/1.1 loop over
// crypto/tls and net/http does all three directly.
package proxy
