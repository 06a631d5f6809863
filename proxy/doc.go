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
// # Built on goproxy, with its own tunnels
//
// A goproxy.ProxyHttpServer (github.com/elazarl/goproxy) serves the
// listener: it parses the proxy's HTTP, relays plain-HTTP (absolute-form)
// proxy requests through a transport that never chains to HTTP(S)_PROXY
// (recorded by a per-request RoundTripper, Autodiscover bodies captured as
// they stream), answers the helper pages for http://certsleuth.local/ (an
// OnRequest handler with a host condition, and NonproxyHandler for requests
// to the proxy's own address), and hands every CONNECT to
// OnRequest().HijackConnect, which gives the raw client connection to this
// package's tunnel code.
//
// goproxy's own MITM (ConnectMitm with TLSConfigFromCA) is not used, and
// neither is its built-in CA (GoproxyCa, whose private key is public).
// The tunnel code terminates TLS itself because:
//
//   - mirror mode must finish the upstream handshake before it can choose
//     the client's certificate, and goproxy asks for the client's TLS
//     config before any upstream connection exists;
//   - each tunnel must use exactly one upstream connection, dialled to the
//     CONNECT target the client asked for (goproxy 1.9.1 and later
//     re-target requests to the inner Host header, and pool upstream
//     connections, which breaks NTLM/Negotiate);
//   - a client that rejects the certificate it was shown sends a TLS alert,
//     which is evidence to record, while goproxy logs and drops handshake
//     errors.
//
// The tunnel code answers the CONNECT itself (200, or 502 when the
// upstream is down) in the client's HTTP version, as goproxy does.
//
// Key exchange on both legs prefers X25519 over Go's default hybrid
// post-quantum group: it does not change what certificate a client sees
// and it nearly doubles new tunnels per second.
package proxy
