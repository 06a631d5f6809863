// Package record defines the observation record that certsleuth's
// producers (the proxy, the capture reader, check and the demo lab) write
// and its analysis reads, and the trace file that carries them: JSON
// Lines, one object per line.
//
// # The trace format
//
// The first line is a header:
//
//	{"type":"header","format":"certsleuth-trace","version":1,"created":"2026-11-22T10:00:00Z","producer":"certsleuth proxy"}
//
// Then come chain lines and observation lines, in any mix. A chain line
// holds a certificate chain exactly as a server sent it, leaf first, each
// certificate base64 DER; its id is ChainID of the chain (a SHA-256). It
// is written once, before the first observation that uses it, so a trace
// of 100,000 connections to one server holds that chain once:
//
//	{"type":"chain","id":"9f2c...","certs":["MIIC...","MIIB..."]}
//
// A trust line records the trust the producer judged chains with (see
// Trust): whether the machine's own roots were trusted, and the extra roots,
// each a chain line of one certificate, before it:
//
//	{"type":"trust","system":true,"roots":["4be1..."],"from":"--upstream-ca corp-root.pem"}
//
// An observation line is an Observation with "type":"obs"; its "chain"
// field is a chain line's id:
//
//	{"type":"obs","kind":"http","source":"proxy","time":"2026-11-22T10:00:01Z",
//	 "conn":"c12","client":"127.0.0.1:50522","server":"10.0.0.5:443",
//	 "connect":"exch01.contoso.local:443","sni":"exch01.contoso.local",
//	 "method":"POST","host":"exch01.contoso.local",
//	 "url":"https://exch01.contoso.local/EWS/Exchange.asmx",
//	 "tls_version":"TLS 1.2","status":200,"chain":"9f2c...","cert_visibility":"visible"}
//
// The Observation type documents every field and when it is set. The
// kinds are "tls" (a TLS connection), "http" (a request and its response,
// carrying its connection's TLS facts when it was made over TLS) and
// "dns" (a DNS answer). The sources are "proxy", "pcap", "probe" and
// "demo". cert_visibility is one of "visible", "probed", "encrypted",
// "truncated", "not-captured", "resumed", "failed" and "not-tls".
//
// # Compatibility
//
// Fields are added, never renamed or given a new meaning. Readers ignore
// fields and line types they do not know. The version in the header
// changes only when an old reader would misread a new trace.
//
// # Reading damaged traces
//
// Reader keeps going past a bad line (recording it, with its line number,
// in Reader.Errors) and treats a last line without a newline that does not
// parse as the mark of a recorder that was killed (Reader.Truncated), not
// as an error. An observation that names a chain no earlier line defined
// is a bad line.
package record
