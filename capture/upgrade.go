package capture

import (
	"bytes"
	"fmt"
	"strings"
)

// Binary protocols that turn to TLS on the same connection, and TLS that
// begins after bytes of a protocol certsleuth does not know.
//
//   - MySQL and MariaDB: the server's first packet is its greeting
//     (protocol version 10, a NUL-terminated server version, capability
//     flags of which CLIENT_SSL is 0x0800); a client that wants TLS
//     answers with an SSLRequest, a 32-byte packet with sequence number 1
//     whose capability flags hold CLIENT_SSL, and sends its ClientHello
//     right after it; the server's next bytes are its ServerHello. Every
//     packet is a 3-byte little-endian length and a sequence number
//     (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html,
//     page_protocol_connection_phase_packets_protocol_ssl_request.html).
//   - LDAP StartTLS (RFC 4511 §4.14): the client sends an ExtendedRequest
//     ([APPLICATION 23], tag 0x77) named 1.3.6.1.4.1.1466.20037, the server
//     an ExtendedResponse ([APPLICATION 24], 0x78) with resultCode 0
//     (success), and TLS begins. Each LDAPMessage is a BER SEQUENCE
//     (0x30, a definite length), its messageID an INTEGER, then the
//     operation, a tag of the APPLICATION class (RFC 4511 §4.1.1).
//   - Android Debug Bridge (AOSP packages/modules/adb, protocol.txt and
//     adb.h): every message is a 24-byte header of six little-endian
//     words (command, arg0, arg1, data length, data checksum, magic =
//     command XOR 0xffffffff) and its data; the device answers the host's
//     CNXN with STLS, the host sends STLS back, and TLS begins (Android 11
//     and later, wireless debugging).
//
// The plain part is read message by message; the direction turns to TLS
// at a message boundary where a TLS handshake record begins, once the
// upgrade was asked for (or granted) in that direction, or where a
// ClientHello or ServerHello begins (helloAt) in any case. A direction
// whose bytes stop fitting the protocol's framing, and any TCP stream no
// rule recognises, is scanned instead (scanHello): once per direction,
// over its first maxUpgradeScan bytes, for a TLS record that starts a
// ClientHello or ServerHello, and read as TLS from there.

// maxUpgradeScan bounds the bytes read before TLS in a direction of a
// binary upgrade or an unknown protocol.
const maxUpgradeScan = 64 << 10

// upHalf is the state of one direction before its TLS begins.
type upHalf struct {
	proto    string // "mysql", "ldap", "adb"; "" when scanned (unknown protocol)
	scan     bool   // scanning for a hello (no framing)
	ready    bool   // this direction asked for (or granted) the upgrade
	skipped  int    // bytes before the TLS began
	greeting string // MySQL: the server version
	openvpn  bool   // the stream began as OpenVPN over TCP (looksOpenVPN)
	tls      bool   // TLS began
	// tail holds the last bytes scanned when they may begin a hello
	// that the next bytes complete (fewer than 11), so that a scanned
	// direction keeps no buffer of its own; scratch joins them with the
	// next bytes.
	tail    [16]byte
	ntail   int
	scratch [32]byte
}

// Upgrade protocols' constants.
const (
	mysqlClientSSL     = 0x0800 // CLIENT_SSL
	mysqlClientProto41 = 0x0200 // CLIENT_PROTOCOL_41
	ldapExtendedReq    = 0x77   // [APPLICATION 23]
	ldapExtendedResp   = 0x78   // [APPLICATION 24]
	adbSTLS            = 0x534c5453
)

// ldapStartTLSOID is the StartTLS extended operation's name (RFC 4511 §4.14.1).
var ldapStartTLSOID = []byte("1.3.6.1.4.1.1466.20037")

// adbCommands are the ADB message commands (adb.h: A_SYNC, A_CNXN,
// A_AUTH, A_OPEN, A_OKAY, A_CLSE, A_WRTE, A_STLS).
var adbCommands = [...]uint32{0x434e5953, 0x4e584e43, 0x48545541, 0x4e45504f, 0x59414b4f, 0x45534c43, 0x45545257, adbSTLS}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// looksUpgrade reports which binary upgrade protocol b's first message
// belongs to ("" for none); more is true when b is too short to tell.
func looksUpgrade(b []byte) (proto string, more bool) {
	// ADB: a header whose magic is its command inverted.
	if len(b) >= 4 {
		cmd := le32(b)
		for _, c := range adbCommands {
			if cmd == c {
				if len(b) < 24 {
					return "", true
				}
				if le32(b[20:]) == ^cmd {
					return "adb", false
				}
			}
		}
	} else if len(b) > 0 && (b[0] == 'C' || b[0] == 'S' || b[0] == 'A') {
		more = true
	}
	if len(b) >= 4 {
		l, seq := int(b[0])|int(b[1])<<8|int(b[2])<<16, b[3]
		switch {
		case seq == 0 && l >= 30 && l <= 1024:
			// The greeting: protocol 10, then the version, which
			// starts with a digit.
			if len(b) < 6 {
				return "", true
			}
			if b[4] == 10 && '0' <= b[5] && b[5] <= '9' {
				return "mysql", false
			}
		case seq == 1 && l == 32:
			// SSLRequest: its capabilities hold CLIENT_PROTOCOL_41 and CLIENT_SSL.
			if len(b) < 8 {
				return "", true
			}
			if c := le32(b[4:]); c&mysqlClientProto41 != 0 && c&mysqlClientSSL != 0 {
				return "mysql", false
			}
		}
	} else if len(b) > 0 && b[0] >= 30 {
		more = true
	}
	// LDAP: SEQUENCE, length, messageID INTEGER, an APPLICATION tag.
	if len(b) > 0 && b[0] == 0x30 {
		hdr, _, ok := berLength(b[1:])
		if !ok {
			return "", more
		}
		i := 1 + hdr
		if hdr == 0 || len(b) < i+2 {
			return "", true
		}
		if b[i] != 0x02 || b[i+1] < 1 || b[i+1] > 4 {
			return "", more
		}
		i += 2 + int(b[i+1])
		if len(b) <= i {
			return "", true
		}
		if b[i]&0xc0 == 0x40 {
			return "ldap", false
		}
	}
	return "", more
}

// mysqlFrame returns the length of the MySQL packet b starts with (0
// when more bytes are needed); ok is false when b cannot start one.
func mysqlFrame(b []byte) (n int, ok bool) {
	if len(b) < 4 {
		return 0, true
	}
	n = 4 + (int(b[0]) | int(b[1])<<8 | int(b[2])<<16)
	if n == 4 || n > maxUpgradeScan {
		return 0, false
	}
	if len(b) < n {
		return 0, true
	}
	return n, true
}

// berSequence returns the length of the BER SEQUENCE (definite length)
// b starts with, 0 when more bytes are needed; ok is false when b does
// not start one.
func berSequence(b []byte) (n int, ok bool) {
	if len(b) == 0 {
		return 0, true
	}
	if b[0] != 0x30 {
		return 0, false
	}
	hdr, l, ok := berLength(b[1:])
	if !ok {
		return 0, false
	}
	if hdr == 0 {
		return 0, true
	}
	n = 1 + hdr + l
	if n > maxUpgradeScan {
		return 0, false
	}
	if len(b) < n {
		return 0, true
	}
	return n, true
}

// berLength reads a BER definite length (X.690 §8.1.3): hdr is the bytes
// it takes (0 when more are needed), ok false for the indefinite form or
// more than 4 length bytes.
func berLength(b []byte) (hdr, l int, ok bool) {
	if len(b) == 0 {
		return 0, 0, true
	}
	if b[0] < 0x80 {
		return 1, int(b[0]), true
	}
	k := int(b[0] & 0x7f)
	if k == 0 || k > 3 {
		return 0, 0, false
	}
	if len(b) < 1+k {
		return 0, 0, true
	}
	for _, c := range b[1 : 1+k] {
		l = l<<8 | int(c)
	}
	return 1 + k, l, true
}

// ldapOp returns the protocolOp tag of the whole LDAPMessage m and its
// contents (RFC 4511 §4.1.1: SEQUENCE { messageID INTEGER, protocolOp
// [APPLICATION n], ... }); 0 when m is not one.
func ldapOp(m []byte) (tag byte, content []byte) {
	hdr, _, ok := berLength(m[1:])
	if !ok || hdr == 0 {
		return 0, nil
	}
	b := m[1+hdr:]
	if len(b) < 3 || b[0] != 0x02 || b[1] < 1 || b[1] > 4 || len(b) < 2+int(b[1])+2 {
		return 0, nil
	}
	b = b[2+int(b[1]):]
	if b[0]&0xc0 != 0x40 { // the APPLICATION class
		return 0, nil
	}
	hdr, l, ok := berLength(b[1:])
	if !ok || hdr == 0 || len(b) < 1+hdr+l {
		return 0, nil
	}
	return b[0], b[1+hdr : 1+hdr+l]
}

// frame returns the length of the next message of u's protocol in b (0
// when more bytes are needed); ok is false when b does not start one.
func (u *upHalf) frame(b []byte) (n int, ok bool) {
	switch u.proto {
	case "mysql":
		return mysqlFrame(b)
	case "ldap":
		return berSequence(b)
	case "adb":
		if len(b) < 24 {
			return 0, true
		}
		cmd := le32(b)
		if le32(b[20:]) != ^cmd {
			return 0, false
		}
		n := 24 + int(le32(b[12:]))
		if n > maxUpgradeScan {
			return 0, false
		}
		if len(b) < n {
			return 0, true
		}
		return n, true
	}
	return 0, false
}

// message takes one whole message of u's protocol.
func (u *upHalf) message(m []byte) {
	switch u.proto {
	case "mysql":
		p := m[4:]
		switch {
		case m[3] == 0 && len(p) >= 30 && p[0] == 10 && u.skipped == 0:
			// Greeting (protocol 10): the version, then a 4-byte
			// connection ID, 8 bytes of salt, a filler and the lower
			// capability flags.
			if z := bytes.IndexByte(p[1:], 0); z > 0 {
				u.greeting = string(p[1 : 1+z])
				if c := 1 + z + 1 + 4 + 8 + 1; len(p) >= c+2 && (int(p[c])|int(p[c+1])<<8)&mysqlClientSSL != 0 {
					u.ready = true
				}
			}
		case len(p) == 32 && le32(p)&mysqlClientSSL != 0:
			u.ready = true // SSLRequest
		}
	case "ldap":
		switch op, c := ldapOp(m); op {
		case ldapExtendedReq:
			if bytes.Contains(c, ldapStartTLSOID) {
				u.ready = true
			}
		case ldapExtendedResp:
			if len(c) >= 3 && c[0] == 0x0a && c[1] == 1 && c[2] == 0 {
				u.ready = true // resultCode success
			}
		}
	case "adb":
		if le32(m) == adbSTLS {
			u.ready = true
		}
	}
}

// helloAt reports whether b starts with a TLS handshake record whose
// first message is a ClientHello (1) or ServerHello (2) that fits in it:
// record type 22, version 3.0-3.4, a length up to 2^14+2048 (RFC 5246
// §6.2.3), the message's length at least that of the shortest hello and
// within the record, its legacy_version 3.x. more is true when b ends
// before that can be told.
func helloAt(b []byte) (yes, more bool) {
	const minHello = 38 // version, random, session ID length, and a little more
	var need = [...]int{1, 2, 3, 5, 6, 9, 10, 11}
	for _, n := range need {
		if len(b) < n {
			return false, true
		}
		switch n {
		case 1:
			if b[0] != recHandshake {
				return false, false
			}
		case 2:
			if b[1] != 3 {
				return false, false
			}
		case 3:
			if b[2] > 4 {
				return false, false
			}
		case 5:
			if l := int(b[3])<<8 | int(b[4]); l < 4+minHello || l > maxRecord {
				return false, false
			}
		case 6:
			if b[5] != hsClientHello && b[5] != hsServerHello {
				return false, false
			}
		case 9:
			if l := int(b[6])<<16 | int(b[7])<<8 | int(b[8]); l < minHello || l+4 > int(b[3])<<8|int(b[4]) {
				return false, false
			}
		case 10:
			if b[9] != 3 {
				return false, false
			}
		case 11:
			if b[10] > 4 {
				return false, false
			}
		}
	}
	return true, false
}

// scanHello finds the first ClientHello or ServerHello record in b
// (helloAt): at is its offset, or where the bytes that may still start
// one begin when found is false (everything before at can be dropped).
func scanHello(b []byte) (at int, found bool) {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], recHandshake)
		if i < 0 {
			return len(b), false
		}
		off += i
		yes, more := helloAt(b[off:])
		if yes {
			return off, true
		}
		if more {
			return off, false
		}
		off++
	}
}

// parseUpgrade reads direction d's bytes before TLS: a binary upgrade
// protocol's messages, or any bytes scanned for a hello.
func (r *reader) parseUpgrade(f *flow, d int) {
	h := &f.h[d]
	u := h.up
	off := 0
	for !h.done {
		rest := h.buf[off:]
		if u.scan {
			if u.ntail > 0 {
				// The bytes kept from the last read, with these.
				t := u.ntail
				n := copy(u.scratch[:], u.tail[:t])
				n += copy(u.scratch[n:], rest)
				u.ntail = 0
				for i := 0; i < t; i++ {
					if u.scratch[i] != recHandshake {
						continue
					}
					yes, more := helloAt(u.scratch[i:n])
					if yes { // the hello began in the kept bytes
						u.skipped -= t - i
						h.consume(off)
						h.prepend(u.scratch[i:t])
						off = 0
						goto tlsBegins
					}
					if more { // still too few bytes to tell
						u.ntail = copy(u.tail[:], u.scratch[i:n])
						u.skipped += len(rest)
						h.consume(len(h.buf))
						return
					}
				}
			}
			at, found := scanHello(rest)
			u.skipped += at
			off += at
			if found {
				break
			}
			// What may begin a hello (fewer than 11 bytes) is kept
			// aside; the rest is dropped.
			u.ntail = copy(u.tail[:], rest[at:])
			u.skipped += u.ntail
			if u.skipped > maxUpgradeScan {
				h.stop(gapNone)
				return
			}
			h.consume(len(h.buf))
			return
		}
		if len(rest) > 0 && rest[0] == recHandshake {
			yes, more := helloAt(rest)
			if !yes && u.ready {
				y, ok := isTLSRecordStart(rest)
				yes, more = y, !ok
			}
			if yes {
				break // TLS begins here
			}
			if more {
				h.consume(off)
				return // wait for the record header
			}
		}
		n, ok := u.frame(rest)
		if !ok {
			u.scan = true // not (or no longer) this protocol: look for TLS
			continue
		}
		if n == 0 {
			if u.skipped+len(rest) > maxUpgradeScan {
				u.scan = true
				continue
			}
			h.consume(off)
			return
		}
		u.message(rest[:n])
		u.skipped += n
		off += n
		if u.skipped > maxUpgradeScan {
			h.stop(gapNone)
			return
		}
	}
	if h.done {
		return
	}
	// TLS begins at off.
	h.consume(off)
tlsBegins:
	u.tls = true
	h.proto = protoTLS
	h.tls = r.newTLSHalf()
	r.parseTLS(f, d)
}

// rescan turns direction d, whose parser met bytes that break its
// protocol (or 64 KiB of text without STARTTLS), to the scan for a hello
// from its unparsed bytes on: TLS may still begin after them.
func (r *reader) rescan(f *flow, d int) {
	h := &f.h[d]
	h.proto = protoUpgrade
	h.up = &upHalf{scan: true, skipped: max(h.bytes-len(h.buf), 0)}
	r.parseUpgrade(f, d)
}

// upgradeReport names the protocol whose upgrade began a flow's TLS
// (chh the client's direction, shh the server's; "" when none or
// unknown) and says in notes how the TLS began.
func upgradeReport(chh, shh *half) (proto string, notes []string) {
	cu, su := chh.up, shh.up
	if cu == nil && su == nil {
		return "", nil
	}
	for _, u := range []*upHalf{cu, su} {
		if u != nil && u.proto != "" && !u.scan && proto == "" {
			proto = u.proto
		}
	}
	if su != nil && su.greeting != "" {
		notes = append(notes, "the server greeted: "+strings.ToValidUTF8(trimTo(su.greeting, 120), "?"))
	}
	switch proto {
	case "mysql":
		notes = append(notes, "TLS began after the client's MySQL SSLRequest")
	case "ldap":
		notes = append(notes, "TLS began after LDAP StartTLS (extended operation 1.3.6.1.4.1.1466.20037, RFC 4511 §4.14)")
	case "adb":
		notes = append(notes, "TLS began after Android Debug Bridge STLS")
	}
	var mid []string
	for _, s := range []struct {
		u   *upHalf
		who string
	}{{cu, "the client"}, {su, "the server"}} {
		if s.u != nil && s.u.tls && (s.u.scan || s.u.proto == "") {
			mid = append(mid, fmt.Sprintf("%d bytes from %s", s.u.skipped, s.who))
		}
	}
	switch {
	case openVPN(chh, shh):
		notes = append(notes, "TLS inside OpenVPN's control channel: its records travel in pieces, each in a P_CONTROL packet behind an OpenVPN header, which certsleuth does not reassemble; what was read comes from the first hello found in the stream, and the server's certificate was not read whole")
	case len(mid) > 0:
		notes = append(notes, "TLS started mid-stream after "+strings.Join(mid, " and ")+" of a protocol certsleuth does not recognise (read from the first ClientHello or ServerHello found in the stream)")
	}
	return proto, notes
}

// openVPN reports whether a connection's scanned streams began as
// OpenVPN over TCP (looksOpenVPN).
func openVPN(chh, shh *half) bool {
	return chh.up != nil && chh.up.openvpn || shh.up != nil && shh.up.openvpn
}

// looksOpenVPN reports whether b begins as OpenVPN over TCP does: each
// packet behind a 2-byte length (OpenVPN's "packet length" framing on
// TCP), the first one a hard reset that opens a session (opcode in the
// top 5 bits: P_CONTROL_HARD_RESET_CLIENT_V1 1, _SERVER_V1 2,
// _CLIENT_V2 7, _SERVER_V2 8, _CLIENT_V3 10; key ID 0), with at least
// its 8-byte session ID and a message packet ID. Source: OpenVPN's
// src/openvpn/ssl_pkt.h and its protocol description
// (openvpn.github.io/openvpn-rfc); Wireshark's packet-openvpn.c reads
// the same fields.
func looksOpenVPN(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	n := int(b[0])<<8 | int(b[1])
	if n < 1+8+1+4 || n > 2048 || b[2]&0x07 != 0 {
		return false
	}
	switch b[2] >> 3 {
	case 1, 2, 7, 8, 10:
		return true
	}
	return false
}

// trimTo cuts s to n bytes and "...".
func trimTo(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
