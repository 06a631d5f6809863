package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// maxFlight is how many bytes of a handshake the stream parsers buffer.
const maxFlight = 256 << 10

// flight parses one direction of a TLS stream as it is relayed, up to the
// point where it stops being readable (TLS 1.3 after ServerHello,
// ChangeCipherSpec or application data). RFC 8446 §5.1 record layer;
// RFC 5246 §7.4 handshake messages. Write never fails: relaying must go on
// whatever the parser thinks.
type flight struct {
	server bool // parse as the server's flight (else the client's)

	mu       sync.Mutex
	buf      []byte
	hs       []byte
	finished bool
	done     chan struct{}

	// Results, read after done is closed.
	version  uint16   // negotiated (server flight)
	tls13    bool     // the Certificate message is encrypted
	chain    [][]byte // server Certificate, TLS 1.2 and below
	resumed  bool     // abbreviated handshake: ChangeCipherSpec before any Certificate
	alert    string   // an alert this side sent in the clear
	accepted bool     // client flight: it went on to ChangeCipherSpec / application data
	err      error    // not TLS, or too long
	at       time.Time
}

func newFlight(server bool) *flight { return &flight{server: server, done: make(chan struct{})} }

func (f *flight) finish() {
	if !f.finished {
		f.finished, f.at = true, time.Now()
		f.buf, f.hs = nil, nil
		close(f.done)
	}
}

func (f *flight) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.finished {
		return len(p), nil
	}
	f.buf = append(f.buf, p...)
	for !f.finished && len(f.buf) >= 5 {
		typ, n := f.buf[0], int(f.buf[3])<<8|int(f.buf[4])
		if typ < 20 || typ > 24 || f.buf[1] != 3 {
			f.err = errors.New("not a TLS stream")
			f.finish()
			break
		}
		if len(f.buf) < 5+n {
			break
		}
		payload := f.buf[5 : 5+n]
		f.buf = f.buf[5+n:]
		switch typ {
		case 22:
			if f.server {
				f.hs = append(f.hs, payload...)
				f.serverHandshake()
			}
		case 21:
			if len(payload) >= 2 {
				f.alert = alertName(payload[1])
			}
			f.finish()
		case 20:
			if f.server && f.chain == nil {
				f.resumed = true
			}
			f.accepted = true
			f.finish()
		default:
			f.accepted = true
			f.finish()
		}
	}
	if !f.finished && len(f.buf)+len(f.hs) > maxFlight {
		f.err = errors.New("handshake longer than the parser keeps")
		f.finish()
	}
	return len(p), nil
}

// serverHandshake reads complete handshake messages from f.hs.
func (f *flight) serverHandshake() {
	for !f.finished && len(f.hs) >= 4 {
		mt, n := f.hs[0], int(f.hs[1])<<16|int(f.hs[2])<<8|int(f.hs[3])
		if len(f.hs) < 4+n {
			return
		}
		msg := f.hs[4 : 4+n]
		f.hs = f.hs[4+n:]
		switch mt {
		case 2: // ServerHello
			f.version = serverHelloVersion(msg)
			if f.version == tls.VersionTLS13 {
				f.tls13 = true
				f.finish()
			}
		case 11: // Certificate (TLS 1.2 and below: certificate_list<0..2^24-1>)
			f.chain = parseCertificateList(msg)
			f.finish()
		case 14: // ServerHelloDone without a Certificate (anonymous or PSK suites)
			f.finish()
		}
	}
}

func serverHelloVersion(m []byte) uint16 {
	if len(m) < 38 {
		return 0
	}
	v := uint16(m[0])<<8 | uint16(m[1])
	i := 34
	i += 1 + int(m[i]) // session id
	i += 3             // cipher suite, compression
	if i+2 > len(m) {
		return v
	}
	end := i + 2 + (int(m[i])<<8 | int(m[i+1]))
	i += 2
	for i+4 <= end && end <= len(m) {
		typ, l := int(m[i])<<8|int(m[i+1]), int(m[i+2])<<8|int(m[i+3])
		i += 4
		if typ == 43 && l == 2 && i+2 <= len(m) { // supported_versions (RFC 8446 §4.2.1)
			return uint16(m[i])<<8 | uint16(m[i+1])
		}
		i += l
	}
	return v
}

func parseCertificateList(m []byte) [][]byte {
	if len(m) < 3 {
		return nil
	}
	total := int(m[0])<<16 | int(m[1])<<8 | int(m[2])
	m = m[3:]
	if total < len(m) {
		m = m[:total]
	}
	var out [][]byte
	for len(m) >= 3 {
		n := int(m[0])<<16 | int(m[1])<<8 | int(m[2])
		if len(m) < 3+n {
			break
		}
		out = append(out, append([]byte(nil), m[3:3+n]...))
		m = m[3+n:]
	}
	return out
}

// alertName names a TLS alert description (RFC 8446 §6) the way crypto/tls does.
func alertName(d byte) string {
	names := map[byte]string{
		0: "close notify", 10: "unexpected message", 20: "bad record MAC", 40: "handshake failure",
		42: "bad certificate", 43: "unsupported certificate", 44: "revoked certificate", 45: "expired certificate",
		46: "unknown certificate", 47: "illegal parameter", 48: "unknown certificate authority", 50: "error decoding message",
		51: "error decrypting message", 70: "protocol version not supported", 71: "insufficient security level",
		80: "internal error", 90: "user canceled", 112: "unrecognized name", 120: "no application protocol",
	}
	if n, ok := names[d]; ok {
		return n
	}
	return fmt.Sprintf("alert(%d)", d)
}

// helloInfo is what the proxy keeps of a ClientHello.
type helloInfo struct {
	sni      string
	alpn     []string
	versions []uint16
}

var errStopHandshake = errors.New("stop after ClientHello")

// readClientHello parses the ClientHello from r with crypto/tls's own
// parser and stops right after it. Every byte read is also in the tee the
// caller passed in r, so nothing is lost.
func readClientHello(r interface{ Read([]byte) (int, error) }) (*helloInfo, error) {
	var h *helloInfo
	c := tls.Server(readOnlyConn{r: r}, &tls.Config{GetConfigForClient: func(ch *tls.ClientHelloInfo) (*tls.Config, error) {
		h = &helloInfo{sni: ch.ServerName, alpn: append([]string(nil), ch.SupportedProtos...), versions: append([]uint16(nil), ch.SupportedVersions...)}
		return nil, errStopHandshake
	}})
	err := c.Handshake()
	if h != nil {
		return h, nil
	}
	return nil, err
}

// readOnlyConn is a net.Conn that reads from r and discards writes (the
// alert crypto/tls sends when the peek is aborted).
type readOnlyConn struct {
	net.Conn
	r interface{ Read([]byte) (int, error) }
}

func (c readOnlyConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c readOnlyConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c readOnlyConn) Close() error                     { return nil }
func (c readOnlyConn) SetDeadline(time.Time) error      { return nil }
func (c readOnlyConn) SetReadDeadline(time.Time) error  { return nil }
func (c readOnlyConn) SetWriteDeadline(time.Time) error { return nil }
func (c readOnlyConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c readOnlyConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
