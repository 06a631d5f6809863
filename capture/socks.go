package capture

import (
	"net"
	"net/netip"
	"strconv"
)

// SOCKS tunnels: a client behind a SOCKS proxy (ssh -D, dante, Tor,
// corporate SOCKS gateways) opens a TCP connection to the proxy, asks it
// to CONNECT to a target, and once the proxy grants it speaks TLS to the
// target through the same connection. The negotiation is binary:
//
//   - SOCKS 4 (https://www.openssh.com/txt/socks4.protocol): the client
//     sends VN=4 CD=1 DSTPORT(2) DSTIP(4) USERID NUL; the proxy answers
//     VN=0 CD DSTPORT(2) DSTIP(4), CD 90 (0x5a) granted, 91-93 refused.
//   - SOCKS 4a (https://www.openssh.com/txt/socks4a.protocol): DSTIP
//     0.0.0.x (x not 0) and the target's domain name, NUL-terminated,
//     after the USERID.
//   - SOCKS 5 (RFC 1928): the client offers methods (VER=5 NMETHODS
//     METHODS), the proxy chooses one (VER=5 METHOD; 0xff none), then for
//     username/password (RFC 1929) the client sends VER=1 ULEN UNAME PLEN
//     PASSWD and the proxy answers VER=1 STATUS (0 success); then the
//     client's request VER=5 CMD=1 RSV=0 ATYP DST.ADDR DST.PORT (ATYP 1
//     IPv4, 3 a length-prefixed domain name, 4 IPv6) and the proxy's reply
//     VER=5 REP RSV=0 ATYP BND.ADDR BND.PORT, REP 0 succeeded.
//
// The parse is strict and bounded: every field is checked against these
// definitions, only the CONNECT command is followed, and a direction
// whose bytes break any rule is not SOCKS (it is dropped as unknown
// bytes, as before). The password is skipped, never kept. After the
// negotiation each direction's bytes are classified again (TLS most
// often; plain HTTP and STARTTLS protocols are read too).

// SOCKS versions and codes (RFC 1928 §3-6, RFC 1929 §2, socks4.protocol).
const (
	socks4           = 4
	socks5           = 5
	socksConnect     = 1    // CMD / CD: CONNECT
	socks4Granted    = 0x5a // CD 90: request granted
	socks5NoAuth     = 0x00 // METHOD: no authentication required
	socks5UserPass   = 0x02 // METHOD: username/password (RFC 1929)
	socks5NoMethods  = 0xff // METHOD: no acceptable methods
	socks5Succeeded  = 0x00 // REP: succeeded
	socksUserPassVer = 1    // RFC 1929 sub-negotiation version
	socksATYPv4      = 1
	socksATYPDomain  = 3
	socksATYPv6      = 4
	// maxSOCKSField bounds a SOCKS 4 USERID or 4a domain name (SOCKS 5's
	// are length-prefixed in one byte, so 255 at most).
	maxSOCKSField = 255
)

// socksHalf is the SOCKS negotiation of one direction of a connection.
type socksHalf struct {
	client bool
	ver    byte // 4 or 5
	// SOCKS 5 client: its greeting was read; it offered username/password;
	// the sub-negotiation was read.
	greeted, offeredUserPass, authSent bool
	offered                            [256]bool // SOCKS 5 client: the methods offered
	method                             int       // SOCKS 5 server: the method chosen; -1 before
	authOK                             bool      // SOCKS 5 server: its RFC 1929 status was read
	target                             string    // client: the host:port it asked the proxy for
	reply                              int       // server: CD (SOCKS 4) or REP (SOCKS 5); -1 before
	tunnel                             bool      // the negotiation of this direction is over
	err                                string    // why the bytes are not SOCKS, or the proxy refused
}

// looksSOCKSClient reports whether b may start a SOCKS 4 or 5 CONNECT
// request (more: too short to tell). The full check is parseSOCKS's.
func looksSOCKSClient(b []byte) (yes, more bool) {
	switch {
	case len(b) == 0:
		return false, true
	case b[0] == socks4:
		if len(b) < 2 {
			return false, true
		}
		return b[1] == socksConnect, false
	case b[0] == socks5:
		if len(b) < 2 {
			return false, true
		}
		if b[1] == 0 {
			return false, false
		}
		if len(b) < 2+int(b[1]) {
			return false, true
		}
		for _, m := range b[2 : 2+int(b[1])] {
			if m == socks5NoMethods {
				return false, false
			}
		}
		return true, false
	}
	return false, false
}

// looksSOCKSServer reports whether b may start the answer of a SOCKS
// proxy to a client of version ver.
func looksSOCKSServer(b []byte, ver byte) bool {
	if len(b) == 0 {
		return false
	}
	if ver == socks4 {
		return b[0] == 0
	}
	return b[0] == socks5
}

// clientMsg reads the client's next message from b. It returns the
// bytes it took (0 and ok: wait for more) or !ok when b breaks the
// protocol.
func (s *socksHalf) clientMsg(b []byte) (n int, ok bool) {
	if s.ver == socks4 {
		// VN CD DSTPORT(2) DSTIP(4) USERID NUL [DOMAIN NUL]
		if len(b) < 9 {
			return 0, true
		}
		if b[0] != socks4 || b[1] != socksConnect {
			return 0, false
		}
		port := int(b[2])<<8 | int(b[3])
		ip := netip.AddrFrom4([4]byte(b[4:8]))
		user, k, ok := nulField(b[8:], printable)
		if !ok || k == 0 {
			return 0, ok
		}
		_ = user // never kept: a USERID may be a name or a secret
		n = 8 + k
		host := ip.String()
		if b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0 { // SOCKS 4a
			name, k, ok := nulField(b[n:], hostChar)
			if !ok || k == 0 {
				return 0, ok
			}
			if len(name) == 0 {
				return 0, false
			}
			host, n = name, n+k
		} else if b[4] == 0 || port == 0 {
			return 0, false
		}
		s.target = net.JoinHostPort(host, strconv.Itoa(port))
		s.tunnel = true
		return n, true
	}
	switch {
	case !s.greeted:
		// VER NMETHODS METHODS
		if len(b) < 2 {
			return 0, true
		}
		k := int(b[1])
		if b[0] != socks5 || k == 0 {
			return 0, false
		}
		if len(b) < 2+k {
			return 0, true
		}
		for _, m := range b[2 : 2+k] {
			if m == socks5NoMethods {
				return 0, false
			}
			s.offered[m] = true
		}
		s.offeredUserPass = s.offered[socks5UserPass]
		s.greeted = true
		return 2 + k, true
	case len(b) == 0:
		return 0, true
	case b[0] == socksUserPassVer && s.offeredUserPass && !s.authSent:
		// VER ULEN UNAME PLEN PASSWD (RFC 1929 §2): skipped, never kept.
		if len(b) < 2 {
			return 0, true
		}
		ul := int(b[1])
		if ul == 0 {
			return 0, false
		}
		if len(b) < 3+ul {
			return 0, true
		}
		pl := int(b[2+ul])
		if pl == 0 {
			return 0, false
		}
		if len(b) < 3+ul+pl {
			return 0, true
		}
		s.authSent = true
		return 3 + ul + pl, true
	case b[0] == socks5:
		// VER CMD RSV ATYP DST.ADDR DST.PORT
		if len(b) < 5 {
			return 0, true
		}
		if b[1] != socksConnect || b[2] != 0 {
			return 0, false
		}
		host, k, ok := socksAddr(b[3:])
		if !ok || k == 0 {
			return 0, ok
		}
		if len(b) < 3+k+2 {
			return 0, true
		}
		port := int(b[3+k])<<8 | int(b[4+k])
		if port == 0 {
			return 0, false
		}
		s.target = net.JoinHostPort(host, strconv.Itoa(port))
		s.tunnel = true
		return 3 + k + 2, true
	}
	return 0, false
}

// serverMsg reads the proxy's next message from b (peer: the client's
// half), as clientMsg does.
func (s *socksHalf) serverMsg(b []byte, peer *socksHalf) (n int, ok bool) {
	if s.ver == socks4 {
		// VN=0 CD DSTPORT(2) DSTIP(4)
		if len(b) < 8 {
			return 0, true
		}
		if b[0] != 0 || b[1] < socks4Granted || b[1] > socks4Granted+3 {
			return 0, false
		}
		s.reply = int(b[1])
		s.tunnel = true
		return 8, true
	}
	switch {
	case s.method == -1:
		// VER METHOD: one the client offered, or none acceptable.
		if len(b) < 2 {
			return 0, true
		}
		if b[0] != socks5 || b[1] != socks5NoMethods && (peer == nil || !peer.offered[b[1]]) {
			return 0, false
		}
		s.method = int(b[1])
		return 2, true
	case s.method == socks5UserPass && !s.authOK:
		// VER STATUS (RFC 1929 §2)
		if len(b) < 2 {
			return 0, true
		}
		if b[0] != socksUserPassVer {
			return 0, false
		}
		s.authOK = true
		if b[1] != 0 {
			s.err = "the SOCKS 5 proxy refused the username and password (RFC 1929 status " + strconv.Itoa(int(b[1])) + ")"
		}
		return 2, true
	}
	// VER REP RSV ATYP BND.ADDR BND.PORT
	if len(b) < 5 {
		return 0, true
	}
	if b[0] != socks5 || b[1] > 8 || b[2] != 0 {
		return 0, false
	}
	_, k, ok := socksAddr(b[3:])
	if !ok || k == 0 {
		return 0, ok
	}
	if len(b) < 3+k+2 {
		return 0, true
	}
	s.reply = int(b[1])
	s.tunnel = true
	return 3 + k + 2, true
}

// granted reports whether the proxy granted the client's request.
func (s *socksHalf) granted() bool {
	if s == nil || s.err != "" {
		return false
	}
	if s.ver == socks4 {
		return s.reply == socks4Granted
	}
	return s.reply == socks5Succeeded && (s.method == socks5NoAuth || s.method == socks5UserPass && s.authOK)
}

// refusal says why the proxy did not grant the request, or "".
func (s *socksHalf) refusal() string {
	switch {
	case s == nil || s.granted():
		return ""
	case s.err != "":
		return s.err
	case s.ver == socks5 && s.method == socks5NoMethods:
		return "the SOCKS 5 proxy accepted none of the client's authentication methods"
	case s.ver == socks4 && s.reply > 0:
		return "the SOCKS 4 proxy refused the request (CD " + strconv.Itoa(s.reply) + ")"
	case s.ver == socks5 && s.reply > 0:
		return "the SOCKS 5 proxy refused the request (REP " + strconv.Itoa(s.reply) + ", RFC 1928 §6)"
	}
	return ""
}

// socksAddr reads ATYP and the address after it; k is the bytes read
// (0 and ok: wait for more).
func socksAddr(b []byte) (host string, k int, ok bool) {
	if len(b) < 1 {
		return "", 0, true
	}
	switch b[0] {
	case socksATYPv4:
		if len(b) < 5 {
			return "", 0, true
		}
		return netip.AddrFrom4([4]byte(b[1:5])).String(), 5, true
	case socksATYPv6:
		if len(b) < 17 {
			return "", 0, true
		}
		return netip.AddrFrom16([16]byte(b[1:17])).String(), 17, true
	case socksATYPDomain:
		if len(b) < 2 {
			return "", 0, true
		}
		l := int(b[1])
		if l == 0 {
			return "", 0, false
		}
		if len(b) < 2+l {
			return "", 0, true
		}
		for _, c := range b[2 : 2+l] {
			if !hostChar(c) {
				return "", 0, false
			}
		}
		return string(b[2 : 2+l]), 2 + l, true
	}
	return "", 0, false
}

// nulField reads a NUL-terminated field of at most maxSOCKSField bytes,
// each accepted by allowed; k counts the NUL (0 and ok: wait for more).
func nulField(b []byte, allowed func(byte) bool) (s string, k int, ok bool) {
	for i, c := range b {
		switch {
		case c == 0:
			return string(b[:i]), i + 1, true
		case i >= maxSOCKSField || !allowed(c):
			return "", 0, false
		}
	}
	return "", 0, len(b) <= maxSOCKSField
}

func printable(c byte) bool { return c >= 0x20 && c < 0x7f }

// hostChar accepts the bytes of a host name or address literal as
// clients send them to a proxy (letters, digits, "-", ".", "_", and ":"
// for IPv6 literals); anything else means the bytes are not SOCKS.
func hostChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == ':'
}

// parseSOCKS reads direction d's SOCKS negotiation. When it is over the
// direction's remaining bytes are classified anew (the tunnel's
// protocol); when they break the protocol the direction is scanned for a
// TLS hello (upgrade.go).
func (r *reader) parseSOCKS(f *flow, d int) {
	h := &f.h[d]
	s := h.socks
	off := 0
	for !s.tunnel {
		var n int
		var ok bool
		if s.client {
			n, ok = s.clientMsg(h.buf[off:])
		} else {
			n, ok = s.serverMsg(h.buf[off:], f.h[1-d].socks)
		}
		if !ok {
			if s.err == "" {
				s.err = "not a SOCKS " + strconv.Itoa(int(s.ver)) + " message"
			}
			h.consume(off)
			r.rescan(f, d) // TLS may still follow what is not SOCKS
			return
		}
		if n == 0 {
			h.consume(off)
			return
		}
		off += n
		if !s.client && (s.method == socks5NoMethods || s.err != "") {
			h.stop(gapNone) // refused: no tunnel follows
			return
		}
	}
	h.consume(off)
	if !s.client && !s.granted() {
		h.stop(gapNone)
		return
	}
	h.proto = protoUnknown
	if len(h.buf) > 0 {
		r.parse(f, d, r.ts)
	}
}

// socksNote is what the observation's note says of a SOCKS tunnel (c
// the client's half, s the proxy's; answered: the proxy's direction has
// bytes in the capture).
func socksNote(c, s *socksHalf, answered bool) string {
	v := "SOCKS " + strconv.Itoa(int(c.ver))
	if c.ver == socks4 && c.target != "" && !isIPHostPort(c.target) {
		v = "SOCKS 4a"
	}
	switch {
	case s.granted():
		return "TLS through a " + v + " proxy: the client asked it to CONNECT to " + c.target
	case !answered:
		return "TLS through a " + v + " proxy: the client asked it to CONNECT to " + c.target + " (the proxy's answer is not in the capture)"
	case s == nil:
		return "the client began with a " + v + " request to CONNECT to " + c.target + ", but the server's answer is not a SOCKS reply"
	}
	why := s.refusal()
	if why == "" {
		why = "the proxy's answer is cut short"
	}
	return "the client began with a " + v + " request to CONNECT to " + c.target + ", which was not granted: " + why
}

func isIPHostPort(hp string) bool {
	h, _, err := net.SplitHostPort(hp)
	if err != nil {
		return false
	}
	_, err = netip.ParseAddr(h)
	return err == nil
}
