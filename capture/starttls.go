package capture

import (
	"bytes"
	"strings"
)

// STARTTLS: mail clients (Outlook with an IMAP, POP or SMTP account,
// phones sending through port 587) talk plain text first and switch the
// same connection to TLS on a command: SMTP STARTTLS (RFC 3207), IMAP
// STARTTLS (RFC 9051 §6.2.1), POP3 STLS (RFC 2595 §4), FTP AUTH TLS
// (RFC 4217); so do chat clients: IRC STARTTLS answered by the numeric
// 670 RPL_STARTTLS (IRCv3 tls extension,
// https://ircv3.net/specs/deprecated/tls) and XMPP's <starttls/> answered
// by <proceed/> (RFC 6120 §5). The line protocols' plain-text part is read
// line by line; the direction turns to TLS where a line ends and a TLS
// handshake record begins (text lines never hold the byte 0x16), so no
// command and reply need pairing. XMPP is an XML stream, not lines: see
// parseXMPP.

// maxStartTLSText bounds the plain text read before the TLS handshake.
const maxStartTLSText = 64 << 10

// mailHalf is the plain-text state of one direction of a STARTTLS flow.
type mailHalf struct {
	proto    string // "smtp", "imap", "pop3", "ftp", "irc" or "xmpp", as far as known
	greeting string // the server's first line, without its reply code
	text     int    // plain-text bytes read
	xml      bool   // an XML stream (XMPP), read by parseXMPP
	xmppTLS  bool   // an XMPP <starttls/> or <proceed/> element was read
	streamTo string // XMPP: the domain the client's stream header asks for
}

// mailGreetings and mailCommands are the first bytes of a STARTTLS
// protocol's server and client directions.
var (
	mailGreetings = []struct{ prefix, proto string }{
		{"220 ", "smtp"}, {"220-", "smtp"}, // FTP greets with 220 too: told apart by the client's command
		{"* OK", "imap"}, {"* PREAUTH", "imap"},
		{"+OK", "pop3"},
		// XMPP: an XML declaration or the stream header (RFC 6120 §4.2);
		// named xmpp once the stream header is read.
		{"<?XML", ""}, {"<STREAM:STREAM", "xmpp"},
	}
	// A bare STARTTLS is SMTP's (after EHLO, RFC 3207 §4) or IRC's (a
	// client's first line, before registering): the rest of the
	// conversation tells which.
	mailCommands = []struct{ prefix, proto string }{
		{"EHLO ", "smtp"}, {"HELO ", "smtp"}, {"LHLO ", "smtp"}, {"STARTTLS", ""},
		{"STLS", "pop3"}, {"CAPA", "pop3"},
		{"AUTH TLS", "ftp"}, {"AUTH SSL", "ftp"},
		{"CAP LS", "irc"}, {"CAP REQ", "irc"}, {"NICK ", "irc"},
	}
)

// looksMail reports whether b starts like a STARTTLS protocol's greeting
// or client command (mail), with the protocol when the first bytes tell
// it; more is true when b is too short to tell.
func looksMail(b []byte) (mail bool, proto string, more bool) {
	short := len(b) < 16 // parse waits for 16 bytes at most
	if !short {
		b = b[:16]
	}
	u := asciiUpper(string(b))
	for _, set := range [][]struct{ prefix, proto string }{mailGreetings, mailCommands} {
		for _, m := range set {
			if strings.HasPrefix(u, m.prefix) {
				return true, m.proto, false
			}
			if len(u) < len(m.prefix) && strings.HasPrefix(m.prefix, u) {
				more = true
			}
		}
	}
	if t := imapTagged(u); t != "" {
		return true, "imap", false
	}
	if len(u) >= 2 && u[0] == ':' && hostChar(u[1]) {
		// An IRC server's line: ":prefix COMMAND ..." (RFC 2812 §2.3.1);
		// named irc by its numeric (ircServerLine).
		return true, "", false
	}
	return false, "", short && (more || imapTaggedSoFar(u) || u == ":")
}

// textStart reports whether b's first bytes (up to 16) are text: printable
// ASCII, tab, CR or LF.
func textStart(b []byte) bool {
	for i, c := range b {
		if i == 16 {
			break
		}
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return len(b) > 0
}

// ircServerLine reports whether l (upper case) is an IRC server's
// numeric reply ":server 670 nick :text" (RFC 2812 §2.3.1, §2.4), and
// its numeric.
func ircServerLine(l string) (numeric string, ok bool) {
	if len(l) < 2 || l[0] != ':' {
		return "", false
	}
	f := strings.Fields(l[1:])
	if len(f) < 2 || len(f[1]) != 3 {
		return "", false
	}
	for i := 0; i < 3; i++ {
		if f[1][i] < '0' || f[1][i] > '9' {
			return "", false
		}
	}
	for i := 0; i < len(f[0]); i++ {
		if !hostChar(f[0][i]) && f[0][i] != '!' && f[0][i] != '@' {
			return "", false
		}
	}
	return f[1], true
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
	if m.text == 0 && len(h.buf) > 0 && h.buf[0] == '<' {
		m.xml = true
	}
	if m.xml {
		r.parseXMPP(f, d)
		return
	}
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
				h.tls = r.newTLSHalf()
				r.parseTLS(f, d)
				return
			}
		}
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			if m.text+len(rest) > maxStartTLSText {
				h.consume(off)
				r.rescan(f, d) // no STARTTLS after 64 KiB of text
				return
			}
			break
		}
		line := strings.TrimRight(string(rest[:nl]), "\r")
		m.line(line)
		m.text += nl + 1
		off += nl + 1
		if m.text > maxStartTLSText {
			h.consume(off)
			r.rescan(f, d)
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
	case u == "STLS":
		m.proto = "pop3"
	case strings.HasPrefix(u, "AUTH TLS") || strings.HasPrefix(u, "AUTH SSL"):
		m.proto = "ftp"
	case strings.HasPrefix(u, "CAP LS") || strings.HasPrefix(u, "CAP REQ") || strings.HasPrefix(u, "NICK "):
		m.proto = "irc"
	case imapTagged(u) != "":
		m.proto = "imap"
	default:
		if len(u) > 1 && u[0] == ':' && m.greeting == "" {
			m.greeting = strings.TrimSpace(l[1:]) // an IRC server's first line
		}
		if _, ok := ircServerLine(u); ok {
			m.proto = "irc"
		}
	}
}

// xmppTLSNS is the namespace of XMPP's STARTTLS elements (RFC 6120 §5.4).
const xmppTLSNS = "urn:ietf:params:xml:ns:xmpp-tls"

// parseXMPP reads direction d's XML stream until TLS begins. RFC 6120
// §5.4.2: the client sends <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>,
// the server answers <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>
// (or <failure/>), and "the TLS negotiation begins immediately after the
// closing '>' character of the <proceed/> element" (§5.4.3.3); the
// client's ClientHello follows its <starttls/>. XML text never holds the
// byte 0x16 (XML 1.0 §2.2, Char), so a TLS handshake record after a '>'
// (and optional whitespace) ends the text, once this direction has sent
// one of those elements (the server's <stream:features> name starttls
// too). The text is read a tag at a time, so no tag is split between
// reads.
func (r *reader) parseXMPP(f *flow, d int) {
	h := &f.h[d]
	m := h.mail
	off := 0
	for !h.done {
		rest := h.buf[off:]
		ws := 0
		for ws < len(rest) && (rest[ws] == ' ' || rest[ws] == '\t' || rest[ws] == '\r' || rest[ws] == '\n') {
			ws++
		}
		if ws < len(rest) && rest[ws] == recHandshake {
			yes, ok := isTLSRecordStart(rest[ws:])
			if !ok {
				break // wait for the record header
			}
			if !yes || !m.xmppTLS {
				// Not XML, and not the TLS XMPP asked for.
				h.consume(off)
				r.rescan(f, d)
				return
			}
			h.consume(off + ws)
			h.proto = protoTLS
			h.tls = r.newTLSHalf()
			r.parseTLS(f, d)
			return
		}
		gt := bytes.IndexByte(rest, '>')
		if gt < 0 {
			if m.text+len(rest) > maxStartTLSText {
				h.consume(off)
				r.rescan(f, d)
				return
			}
			break
		}
		m.xmlTag(string(rest[:gt+1]))
		m.text += gt + 1
		off += gt + 1
		if m.text > maxStartTLSText {
			h.consume(off)
			r.rescan(f, d)
			return
		}
	}
	h.consume(off)
}

// xmlTag takes the XML text of one direction up to and including a '>'.
func (m *mailHalf) xmlTag(t string) {
	lt := strings.LastIndexByte(t, '<')
	if lt < 0 {
		return
	}
	tag := t[lt:]
	name := tag[1:]
	if i := strings.IndexAny(name, " \t\r\n/>"); i >= 0 {
		name = name[:i]
	}
	switch name {
	case "stream:stream":
		m.proto = "xmpp"
		if to := xmlAttr(tag, "to"); to != "" && m.streamTo == "" {
			m.streamTo = to
		}
		if from := xmlAttr(tag, "from"); from != "" && m.greeting == "" {
			m.greeting = "<stream:stream from='" + from + "'>"
		}
	case "starttls", "proceed":
		if xmlAttr(tag, "xmlns") == xmppTLSNS {
			m.xmppTLS = true
		}
	}
}

// xmlAttr returns the value of attribute name in tag ("" when absent);
// values are quoted with ' or " (XML 1.0 §3.1).
func xmlAttr(tag, name string) string {
	for i := 0; i < len(tag); {
		j := strings.Index(tag[i:], name+"=")
		if j < 0 {
			return ""
		}
		j += i
		i = j + len(name) + 1
		if j > 0 && tag[j-1] != ' ' && tag[j-1] != '\t' && tag[j-1] != '\n' && tag[j-1] != '\r' {
			continue // the end of another attribute's name (xml:lang=, xmlns:stream=)
		}
		if i >= len(tag) || tag[i] != '\'' && tag[i] != '"' {
			return ""
		}
		end := strings.IndexByte(tag[i+1:], tag[i])
		if end < 0 {
			return ""
		}
		v := tag[i+1 : i+1+end]
		if len(v) > 255 {
			v = v[:255]
		}
		return v
	}
	return ""
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
