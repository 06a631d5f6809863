package capture

import (
	"bytes"
	"strings"
)

// STARTTLS: mail clients (Outlook with an IMAP, POP or SMTP account,
// phones sending through port 587) talk plain text first and switch the
// same connection to TLS on a command: SMTP STARTTLS (RFC 3207), IMAP
// STARTTLS (RFC 9051 §6.2.1), POP3 STLS (RFC 2595 §4), FTP AUTH TLS
// (RFC 4217). Their plain-text part is read line by line; the direction
// turns to TLS where a line ends and a TLS handshake record begins (text
// lines never hold the byte 0x16), so no command and reply need pairing.

// maxStartTLSText bounds the plain text read before the TLS handshake.
const maxStartTLSText = 64 << 10

// mailHalf is the plain-text state of one direction of a STARTTLS flow.
type mailHalf struct {
	proto    string // "smtp", "imap", "pop3" or "ftp", as far as known
	greeting string // the server's first line, without its reply code
	text     int    // plain-text bytes read
}

// mailGreetings and mailCommands are the first bytes of a STARTTLS
// protocol's server and client directions.
var (
	mailGreetings = []struct{ prefix, proto string }{
		{"220 ", "smtp"}, {"220-", "smtp"}, // FTP greets with 220 too: told apart by the client's command
		{"* OK", "imap"}, {"* PREAUTH", "imap"},
		{"+OK", "pop3"},
	}
	mailCommands = []struct{ prefix, proto string }{
		{"EHLO ", "smtp"}, {"HELO ", "smtp"}, {"LHLO ", "smtp"}, {"STARTTLS", "smtp"},
		{"STLS", "pop3"}, {"CAPA", "pop3"},
		{"AUTH TLS", "ftp"}, {"AUTH SSL", "ftp"},
	}
)

// looksMail reports whether b starts like a STARTTLS protocol's greeting
// or client command, with the protocol; more is true when b is too short
// to tell.
func looksMail(b []byte) (proto string, more bool) {
	short := len(b) < 16 // parse waits for 16 bytes at most
	if !short {
		b = b[:16]
	}
	u := asciiUpper(string(b))
	for _, set := range [][]struct{ prefix, proto string }{mailGreetings, mailCommands} {
		for _, m := range set {
			if strings.HasPrefix(u, m.prefix) {
				return m.proto, false
			}
			if len(u) < len(m.prefix) && strings.HasPrefix(m.prefix, u) {
				more = true
			}
		}
	}
	if t := imapTagged(u); t != "" {
		return "imap", false
	}
	return "", short && (more || imapTaggedSoFar(u))
}

// imapTagged returns the command of an IMAP tagged line ("A1 CAPABILITY"),
// or "" when line (upper case) is not one of the commands a client sends
// before STARTTLS.
func imapTagged(line string) string {
	sp := strings.IndexByte(line, ' ')
	if sp <= 0 || sp > 20 || !validTag(line[:sp]) {
		return ""
	}
	rest := line[sp+1:]
	for _, cmd := range imapFirstCommands {
		if strings.HasPrefix(rest, cmd) {
			return strings.TrimSpace(cmd)
		}
	}
	return ""
}

// imapFirstCommands are the commands an IMAP client sends before STARTTLS.
var imapFirstCommands = []string{"CAPABILITY", "STARTTLS", "ID ", "NOOP"}

// validTag reports whether s is an IMAP tag (RFC 9051 §9: astring
// characters other than "+").
func validTag(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || c == '(' || c == ')' || c == '{' || c == '*' || c == '%' || c == '"' || c == '\\' || c == '+' {
			return false
		}
	}
	return s != ""
}

// imapTaggedSoFar reports whether s (upper case, all that has arrived)
// may still become a line imapTagged accepts.
func imapTaggedSoFar(s string) bool {
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return len(s) <= 20 && validTag(s)
	}
	if sp == 0 || sp > 20 || !validTag(s[:sp]) {
		return false
	}
	rest := s[sp+1:]
	for _, cmd := range imapFirstCommands {
		if len(rest) < len(cmd) && strings.HasPrefix(cmd, rest) {
			return true
		}
	}
	return false
}

// isTLSRecordStart reports whether b begins with a TLS handshake record
// header; ok is false when b is too short to tell.
func isTLSRecordStart(b []byte) (yes, ok bool) {
	if len(b) < 3 {
		return false, false
	}
	return b[0] == recHandshake && b[1] == 3 && b[2] <= 4, true
}

// parseMail reads direction d's plain-text lines until TLS begins.
func (r *reader) parseMail(f *flow, d int) {
	h := &f.h[d]
	m := h.mail
	off := 0
	for !h.done {
		rest := h.buf[off:]
		if len(rest) > 0 && rest[0] == recHandshake {
			yes, ok := isTLSRecordStart(rest)
			if !ok {
				break // wait for the record header
			}
			if yes {
				h.consume(off)
				h.proto = protoTLS
				h.tls = &tlsHalf{}
				r.parseTLS(f, d)
				return
			}
		}
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			if m.text+len(rest) > maxStartTLSText {
				h.stop(gapNone)
				return
			}
			break
		}
		line := strings.TrimRight(string(rest[:nl]), "\r")
		m.line(line)
		m.text += nl + 1
		off += nl + 1
		if m.text > maxStartTLSText {
			h.stop(gapNone)
			return
		}
	}
	h.consume(off)
}

// line takes one plain-text line of the direction.
func (m *mailHalf) line(l string) {
	u := asciiUpper(l)
	if m.text == 0 {
		for _, g := range mailGreetings {
			if strings.HasPrefix(u, g.prefix) {
				m.proto = g.proto
				m.greeting = strings.TrimSpace(l[len(strings.TrimRight(g.prefix, " -")):])
				return
			}
		}
	}
	switch {
	case strings.HasPrefix(u, "EHLO ") || strings.HasPrefix(u, "HELO ") || strings.HasPrefix(u, "LHLO "):
		m.proto = "smtp"
	case u == "STARTTLS" && m.proto != "imap":
		m.proto = "smtp"
	case u == "STLS":
		m.proto = "pop3"
	case strings.HasPrefix(u, "AUTH TLS") || strings.HasPrefix(u, "AUTH SSL"):
		m.proto = "ftp"
	case imapTagged(u) != "":
		m.proto = "imap"
	}
}

// startTLSProto names the protocol of a flow whose TLS began after plain
// text (chh the client's direction, shh the server's), or "".
func startTLSProto(chh, shh *half) string {
	if chh.mail == nil && shh.mail == nil {
		return ""
	}
	if chh.mail != nil && chh.mail.proto != "" {
		return chh.mail.proto
	}
	if shh.mail != nil {
		return shh.mail.proto
	}
	return ""
}

// asciiUpper upper-cases the ASCII letters of s only, so that byte
// offsets in the result are those of s (strings.ToUpper may change them).
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}
