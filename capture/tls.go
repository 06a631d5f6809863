package capture

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// TLS record content types (RFC 8446 §5.1).
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
)

// TLS handshake message types (RFC 8446 §4).
const (
	hsClientHello         = 1
	hsServerHello         = 2
	hsEncryptedExtensions = 8
	hsCertificate         = 11
	hsServerHelloDone     = 14
	hsCertificateRequest  = 13
	hsFinished            = 20
)

// TLS extension numbers.
const (
	extServerName        = 0
	extALPN              = 16
	extPreSharedKey      = 41
	extEarlyData         = 42
	extSupportedVersions = 43
	extSessionTicket     = 35
	// extECH is encrypted_client_hello (draft-ietf-tls-esni-22 §11.1).
	extECH = 0xfe0d
)

// maxRecord is the longest TLS record accepted: 2^14 plus the largest
// expansion allowed (RFC 5246 §6.2.3: 2048 bytes).
const maxRecord = 1<<14 + 2048

// ClientHello holds what certsleuth reads from a ClientHello.
type ClientHello struct {
	Version       uint16   // legacy_version
	Random        []byte   // 32 bytes
	SessionID     []byte   // legacy_session_id
	ServerName    string   // the host_name in server_name; "" when absent
	HasServerName bool     // the server_name extension was present
	ALPN          []string // offered protocols
	Versions      []uint16 // supported_versions, if sent
	Ticket        bool     // a non-empty session_ticket (resumption attempt)
	PSK           bool     // pre_shared_key (TLS 1.3 resumption attempt)
	EarlyData     bool     // early_data: 0-RTT data may follow the ClientHello
	ECH           bool     // encrypted_client_hello (real, or Chrome's GREASE)
	SSL2          bool     // sent in the SSL 2.0 record format (no extensions, no SNI)
}

// ServerHello holds what certsleuth reads from a ServerHello.
type ServerHello struct {
	Version     uint16 // the negotiated version: supported_versions if sent, else legacy_version
	Random      []byte
	SessionID   []byte
	CipherSuite uint16
	ALPN        string // selected protocol
	PSK         bool   // pre_shared_key accepted: a resumed TLS 1.3 session
	HRR         bool   // this is a HelloRetryRequest
}

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3).
var helloRetryRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

var errMalformed = errors.New("malformed")

// copyRandomSID copies a hello's random and session ID (each nil when
// empty) into one allocation instead of two.
func copyRandomSID(random, sid []byte) (r, id []byte) {
	buf := make([]byte, len(random)+len(sid))
	copy(buf, random)
	copy(buf[len(random):], sid)
	if len(random) > 0 {
		r = buf[:len(random):len(random)]
	}
	if len(sid) > 0 {
		id = buf[len(random):]
	}
	return r, id
}

// ParseClientHello parses the body of a ClientHello handshake message (the
// bytes after the 4-byte message header). RFC 8446 §4.1.2, RFC 5246 §7.4.1.2.
func ParseClientHello(body []byte) (*ClientHello, error) {
	ch := &ClientHello{}
	if err := parseClientHello(ch, body, nil); err != nil {
		return nil, err
	}
	ch.Random, ch.SessionID = copyRandomSID(ch.Random, ch.SessionID)
	return ch, nil
}

// parseClientHello is ParseClientHello into ch, whose Random and
// SessionID are left pointing into body (nil when empty) and whose
// Versions are appended to what ch holds; its ALPN protocols come from
// in (nil: allocated, as ParseClientHello returns them).
func parseClientHello(ch *ClientHello, body []byte, in *interner) error {
	s := cryptobyte.String(body)
	var random, sid, suites, comp cryptobyte.String
	if !s.ReadUint16(&ch.Version) || !s.ReadBytes((*[]byte)(&random), 32) ||
		!s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16LengthPrefixed(&suites) ||
		!s.ReadUint8LengthPrefixed(&comp) {
		return fmt.Errorf("ClientHello: %w header", errMalformed)
	}
	ch.Random, ch.SessionID = nilIfEmpty(random), nilIfEmpty(sid)
	if s.Empty() {
		return nil // no extensions (SSL 3.0 style)
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return fmt.Errorf("ClientHello: %w extensions", errMalformed)
	}
	for !exts.Empty() {
		var typ uint16
		var ext cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&ext) {
			return fmt.Errorf("ClientHello: %w extension", errMalformed)
		}
		switch typ {
		case extServerName:
			// RFC 6066 §3: a list of {name_type, HostName<1..2^16-1>}.
			ch.HasServerName = true
			var list cryptobyte.String
			if !ext.ReadUint16LengthPrefixed(&list) {
				return fmt.Errorf("ClientHello: %w server_name", errMalformed)
			}
			for !list.Empty() {
				var nt uint8
				var name cryptobyte.String
				if !list.ReadUint8(&nt) || !list.ReadUint16LengthPrefixed(&name) {
					return fmt.Errorf("ClientHello: %w server_name", errMalformed)
				}
				if nt == 0 && ch.ServerName == "" {
					ch.ServerName = string(name)
				}
			}
		case extALPN:
			var list cryptobyte.String
			if !ext.ReadUint16LengthPrefixed(&list) {
				return fmt.Errorf("ClientHello: %w ALPN", errMalformed)
			}
			for l := list; !l.Empty(); {
				var p cryptobyte.String
				if !l.ReadUint8LengthPrefixed(&p) {
					return fmt.Errorf("ClientHello: %w ALPN", errMalformed)
				}
			}
			if ch.ALPN == nil {
				ch.ALPN = in.alpnList(list)
			} else {
				// A second ALPN extension (malformed, but read) adds
				// its protocols; an interned list is full (len = cap),
				// so append copies it.
				ch.ALPN = append(ch.ALPN, in.alpnList(list)...)
			}
		case extSupportedVersions:
			var list cryptobyte.String
			if !ext.ReadUint8LengthPrefixed(&list) {
				return fmt.Errorf("ClientHello: %w supported_versions", errMalformed)
			}
			for !list.Empty() {
				var v uint16
				if !list.ReadUint16(&v) {
					return fmt.Errorf("ClientHello: %w supported_versions", errMalformed)
				}
				ch.Versions = append(ch.Versions, v)
			}
		case extSessionTicket:
			ch.Ticket = len(ext) > 0
		case extPreSharedKey:
			ch.PSK = true
		case extEarlyData:
			ch.EarlyData = true
		case extECH:
			ch.ECH = true
		}
	}
	if ch.HasServerName && ch.ServerName == "" {
		ch.HasServerName = false
	}
	return nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// SSL 2.0 message types (the SSL 2.0 specification, draft-hickman-netscape-ssl-00 §2.5).
const (
	ssl2ClientHello = 1
	ssl2ServerHello = 4
)

// looksSSL2 reports whether b starts with an SSL 2.0 record (two-byte
// header, high bit set) holding a CLIENT-HELLO that offers SSL 2.0, 3.0
// or TLS (the "version 2 compatible" hello of RFC 5246 §E.2), or a
// SERVER-HELLO with an X.509 certificate.
func looksSSL2(b []byte) bool {
	if len(b) < 7 || b[0]&0x80 == 0 {
		return false
	}
	switch b[2] {
	case ssl2ClientHello:
		return b[3] == 0 && b[4] == 2 || b[3] == 3 && b[4] <= 4
	case ssl2ServerHello:
		return b[3] <= 1 && b[4] == 1 && b[5] == 0 && b[6] == 2
	}
	return false
}

// ParseSSL2ClientHello parses an SSL 2.0 CLIENT-HELLO message (msg is the
// record's content, starting with the message type): version, cipher
// specs, session ID and challenge. The challenge is kept as Random.
func ParseSSL2ClientHello(msg []byte) (*ClientHello, error) {
	s := cryptobyte.String(msg)
	var typ uint8
	var csLen, sidLen, chLen uint16
	ch := &ClientHello{SSL2: true}
	if !s.ReadUint8(&typ) || typ != ssl2ClientHello || !s.ReadUint16(&ch.Version) ||
		!s.ReadUint16(&csLen) || !s.ReadUint16(&sidLen) || !s.ReadUint16(&chLen) ||
		csLen%3 != 0 || !s.Skip(int(csLen)) {
		return nil, fmt.Errorf("SSL 2.0 CLIENT-HELLO: %w header", errMalformed)
	}
	var sid, challenge []byte
	if !s.ReadBytes(&sid, int(sidLen)) || !s.ReadBytes(&challenge, int(chLen)) {
		return nil, fmt.Errorf("SSL 2.0 CLIENT-HELLO: %w session ID or challenge", errMalformed)
	}
	ch.Random, ch.SessionID = copyRandomSID(challenge, sid)
	return ch, nil
}

// ParseSSL2ServerHello parses an SSL 2.0 SERVER-HELLO message and returns
// its version and certificate (DER; nil when session_id_hit resumed a
// session and none was sent).
func ParseSSL2ServerHello(msg []byte) (version uint16, cert []byte, err error) {
	s := cryptobyte.String(msg)
	var typ, hit, certType uint8
	var certLen, csLen, idLen uint16
	if !s.ReadUint8(&typ) || typ != ssl2ServerHello || !s.ReadUint8(&hit) || !s.ReadUint8(&certType) ||
		!s.ReadUint16(&version) || !s.ReadUint16(&certLen) || !s.ReadUint16(&csLen) || !s.ReadUint16(&idLen) ||
		!s.ReadBytes(&cert, int(certLen)) {
		return 0, nil, fmt.Errorf("SSL 2.0 SERVER-HELLO: %w", errMalformed)
	}
	if len(cert) == 0 {
		cert = nil
	}
	return version, cert, nil
}

// ParseServerHello parses the body of a ServerHello handshake message.
// RFC 8446 §4.1.3, RFC 5246 §7.4.1.3.
func ParseServerHello(body []byte) (*ServerHello, error) {
	sh := &ServerHello{}
	if err := parseServerHelloAny(sh, body, nil); err != nil {
		return nil, err
	}
	sh.Random, sh.SessionID = copyRandomSID(sh.Random, sh.SessionID)
	return sh, nil
}

// parseServerHelloAny is ParseServerHello into sh, whose Random and
// SessionID are left pointing into body (nil when empty); its ALPN
// protocol comes from in (nil: allocated unless a common one).
func parseServerHelloAny(sh *ServerHello, body []byte, in *interner) error {
	err := parseServerHello(sh, body, false, in)
	if err != nil && len(body) >= 2 && body[0] == 3 && body[1] == 4 {
		// 0x0304 in the version field: RFC 8446 §4.1.3 puts 0x0303
		// there, so this is an early TLS 1.3 draft implementation
		// (NSS at draft 14, say), in the draft format without session
		// ID and compression (draft-ietf-tls-tls13-14 §6.3.1.3).
		var d ServerHello
		if derr := parseServerHello(&d, body, true, in); derr == nil {
			*sh = d
			return nil
		}
	}
	return err
}

// parseServerHello parses a ServerHello body into sh (see
// parseServerHelloAny), in the format of TLS 1.3 drafts before 22 when
// draft is set or its version says so.
func parseServerHello(sh *ServerHello, body []byte, draft bool, in *interner) error {
	s := cryptobyte.String(body)
	*sh = ServerHello{}
	var random, sid cryptobyte.String
	var comp uint8
	if !s.ReadUint16(&sh.Version) || !s.ReadBytes((*[]byte)(&random), 32) {
		return fmt.Errorf("ServerHello: %w header", errMalformed)
	}
	if draft || draftHelloFormat(sh.Version) {
		if !s.ReadUint16(&sh.CipherSuite) {
			return fmt.Errorf("ServerHello: %w header", errMalformed)
		}
	} else if !s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16(&sh.CipherSuite) || !s.ReadUint8(&comp) {
		return fmt.Errorf("ServerHello: %w header", errMalformed)
	}
	sh.Random, sh.SessionID = nilIfEmpty(random), nilIfEmpty(sid)
	sh.HRR = string(random) == string(helloRetryRandom)
	if s.Empty() {
		return nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return fmt.Errorf("ServerHello: %w extensions", errMalformed)
	}
	for !exts.Empty() {
		var typ uint16
		var ext cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&ext) {
			return fmt.Errorf("ServerHello: %w extension", errMalformed)
		}
		switch typ {
		case extSupportedVersions:
			var v uint16
			if !ext.ReadUint16(&v) {
				return fmt.Errorf("ServerHello: %w supported_versions", errMalformed)
			}
			sh.Version = v
		case extALPN:
			var list, p cryptobyte.String
			if !ext.ReadUint16LengthPrefixed(&list) || !list.ReadUint8LengthPrefixed(&p) {
				return fmt.Errorf("ServerHello: %w ALPN", errMalformed)
			}
			sh.ALPN = in.protocol(p)
		case extPreSharedKey:
			sh.PSK = true
		}
	}
	return nil
}

// ParseEncryptedExtensions returns the ALPN protocol selected in a TLS 1.3
// EncryptedExtensions message body (RFC 8446 §4.3.1).
func ParseEncryptedExtensions(body []byte) (alpn string, err error) {
	s := cryptobyte.String(body)
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return "", fmt.Errorf("EncryptedExtensions: %w", errMalformed)
	}
	for !exts.Empty() {
		var typ uint16
		var ext cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&ext) {
			return "", fmt.Errorf("EncryptedExtensions: %w extension", errMalformed)
		}
		if typ == extALPN {
			var list, p cryptobyte.String
			if !ext.ReadUint16LengthPrefixed(&list) || !list.ReadUint8LengthPrefixed(&p) {
				return "", fmt.Errorf("EncryptedExtensions: %w ALPN", errMalformed)
			}
			alpn = string(p)
		}
	}
	return alpn, nil
}

// ParseCertificate parses the body of a Certificate handshake message and
// returns the DER certificates, leaf first. tls13 selects the TLS 1.3 form
// (RFC 8446 §4.4.2: a request context and per-entry extensions) over the
// TLS 1.0-1.2 form (RFC 5246 §7.4.2). The returned slices alias body.
func ParseCertificate(body []byte, tls13 bool) ([][]byte, error) {
	return parseCertificate(nil, body, tls13)
}

// parseCertificate is ParseCertificate appending the certificates to
// chain (empty: its capacity is reused).
func parseCertificate(chain [][]byte, body []byte, tls13 bool) ([][]byte, error) {
	s := cryptobyte.String(body)
	if tls13 {
		var ctx cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&ctx) {
			return nil, fmt.Errorf("Certificate: %w request context", errMalformed)
		}
	}
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) || !s.Empty() {
		return nil, fmt.Errorf("Certificate: %w certificate_list", errMalformed)
	}
	for !list.Empty() {
		var der cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) || len(der) == 0 {
			return nil, fmt.Errorf("Certificate: %w entry %d", errMalformed, len(chain))
		}
		if tls13 {
			var exts cryptobyte.String
			if !list.ReadUint16LengthPrefixed(&exts) {
				return nil, fmt.Errorf("Certificate: %w entry %d extensions", errMalformed, len(chain))
			}
		}
		chain = append(chain, der)
	}
	return chain, nil
}

// VersionName names a TLS protocol version the way record.Observation
// writes it ("TLS 1.2").
func VersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	case 0x0002:
		return "SSL 2.0"
	}
	switch {
	case v>>8 == 0x7f:
		return fmt.Sprintf("TLS 1.3 (draft %d)", v&0xff)
	case v == 0x7e01, v == 0x7e02:
		return fmt.Sprintf("TLS 1.3 (Google experiment %d)", v&0xff)
	case v == 0xfb17, v == 0xfb1a:
		return fmt.Sprintf("TLS 1.3 (Facebook draft %d)", v&0xff)
	}
	return fmt.Sprintf("0x%04x", v)
}

// isTLS13 reports whether v is TLS 1.3 or one of its drafts and
// experiments, judged as TLS 1.3: 0x7f0e-0x7f1c carry the number of
// draft-ietf-tls-tls13-NN in their low byte (each draft's §4.2.1 / §9.2
// version field); 0x7e01 and 0x7e02 are the experimental variants Chrome
// and Google's servers used in 2017 (BoringSSL's tls13_experiment),
// 0xfb17 and 0xfb1a Facebook's drafts 23 and 26 (Wireshark's
// packet-tls-utils.c ssl_versions lists both families).
func isTLS13(v uint16) bool {
	return v == 0x0304 || v>>8 == 0x7f || v == 0x7e01 || v == 0x7e02 || v == 0xfb17 || v == 0xfb1a
}

// draftHelloFormat reports whether a ServerHello whose version field is
// v has the form of TLS 1.3 drafts before 22: version, random, cipher
// suite and extensions, without legacy_session_id or compression
// (draft-ietf-tls-tls13-21 §4.1.3; draft 22 brought both back).
func draftHelloFormat(v uint16) bool {
	return v>>8 == 0x7f && v&0xff < 22
}

// TLS alert levels and the descriptions that end a connection even as
// warnings (RFC 5246 §7.2.1).
const (
	alertWarning      = 1
	alertFatal        = 2
	alertECHRequired  = 121 // draft-ietf-tls-esni-25 §11.2
	alertCloseNotify  = 0
	alertUserCanceled = 90
)

// alertNames are the TLS alert descriptions (RFC 8446 §6).
var alertNames = map[uint8]string{
	0: "close notify", 10: "unexpected message", 20: "bad record mac", 22: "record overflow",
	40: "handshake failure", 42: "bad certificate", 43: "unsupported certificate",
	44: "certificate revoked", 45: "certificate expired", 46: "certificate unknown",
	47: "illegal parameter", 48: "unknown ca", 49: "access denied", 50: "decode error",
	51: "decrypt error", 70: "protocol version", 71: "insufficient security", 80: "internal error",
	86: "inappropriate fallback", 90: "user canceled", 109: "missing extension",
	110: "unsupported extension", 112: "unrecognized name", 113: "bad certificate status response",
	115: "unknown psk identity", 116: "certificate required", 120: "no application protocol",
	121: "ech required", // draft-ietf-tls-esni-25 §11.2
}

func alertName(d uint8) string {
	if n, ok := alertNames[d]; ok {
		return n
	}
	return fmt.Sprintf("alert %d", d)
}
