package capture

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Bounds on HTTP extraction.
const (
	maxHTTPMessages = 64       // per direction of a connection
	maxBodyKept     = 64 << 10 // Autodiscover response bodies kept
)

// httpMsg is one HTTP/1.x request or response head.
type httpMsg struct {
	at        time.Time
	method    string
	host      string
	uri       string
	status    int
	location  string
	ctype     string
	body      []byte
	bodyTrunc bool
}

// httpHalf extracts message heads from one direction of a plain HTTP/1.x
// connection, skipping bodies by Content-Length.
type httpHalf struct {
	response bool
	msgs     []httpMsg
	skip     int // body bytes still to skip
	keep     bool
	err      string
	// peer is the other direction's parser, when it is HTTP too: a
	// response to CONNECT is told by the request it answers.
	peer *httpHalf
	// tunnel is set after a CONNECT request, or a 2xx response to one
	// (RFC 9110 §9.3.6): the bytes that follow belong to the tunnel
	// (most often TLS to the CONNECT target), not to HTTP.
	tunnel bool
}

// connecting reports whether the last request of this (client) direction
// was CONNECT.
func (p *httpHalf) connecting() bool {
	return p != nil && !p.response && len(p.msgs) > 0 && p.msgs[len(p.msgs)-1].method == "CONNECT"
}

// connectTarget is the authority of the CONNECT request that opened the
// tunnel ("host:port"), or "".
func (p *httpHalf) connectTarget() string {
	if p.connecting() && p.tunnel {
		m := p.msgs[len(p.msgs)-1]
		if m.uri != "" {
			return m.uri
		}
		return m.host
	}
	return ""
}

// headReaders recycles the bufio.Readers that net/http parses heads from.
var headReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

var httpMethods = []string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// looksHTTP reports whether b starts like an HTTP/1.x request (or, with
// response, a response). more is true when b is too short to tell.
func looksHTTP(b []byte) (req, resp, more bool) {
	if bytes.HasPrefix(b, []byte("HTTP/1.")) {
		return false, true, false
	}
	if len(b) < 8 && bytes.HasPrefix([]byte("HTTP/1."), b) {
		more = true
	}
	for _, m := range httpMethods {
		if bytes.HasPrefix(b, []byte(m)) {
			return true, false, false
		}
		if len(b) < len(m) && bytes.HasPrefix([]byte(m), b) {
			more = true
		}
	}
	return false, false, more
}

// parse consumes whole message heads (and skips bodies) from buf.
// It returns the bytes consumed and whether the direction is finished.
func (p *httpHalf) parse(buf []byte, at time.Time, closing bool) (n int, done bool) {
	for {
		if p.skip > 0 {
			k := min(p.skip, len(buf)-n)
			if p.keep && len(p.msgs) > 0 {
				m := &p.msgs[len(p.msgs)-1]
				room := maxBodyKept - len(m.body)
				if room > 0 {
					m.body = append(m.body, buf[n:n+min(k, room)]...)
				}
				if k > room {
					m.bodyTrunc = true
				}
			}
			p.skip -= k
			n += k
			if p.skip > 0 {
				return n, false
			}
		}
		if len(p.msgs) >= maxHTTPMessages {
			return n, true
		}
		rest := buf[n:]
		end := bytes.Index(rest, []byte("\r\n\r\n"))
		if end < 0 {
			if len(rest) > 64<<10 {
				p.err = "HTTP header longer than 64 KiB"
				return n, true
			}
			return n, false
		}
		head := rest[:end+4]
		m := httpMsg{at: at}
		body, te, ok := plainHead(head, p.response, &m)
		if !ok {
			var err error
			if body, te, err = readHead(head, p.response, &m); err != nil {
				p.err = err.Error()
				return n, true
			}
		}
		if p.response {
			if m.status/100 == 2 && p.peer.connecting() {
				// RFC 9110 §9.3.6: a 2xx answer to CONNECT has no
				// content; the tunnel starts after its head.
				p.msgs = append(p.msgs, m)
				p.tunnel = true
				return n + len(head), false
			}
			if te {
				p.msgs = append(p.msgs, m)
				return n + len(head), true // chunked: stop after this head
			}
			if m.status/100 == 1 || m.status == 204 || m.status == 304 {
				body = 0
			}
			if body < 0 {
				p.msgs = append(p.msgs, m)
				return n + len(head), true // body runs to the end of the connection
			}
			ct := strings.ToLower(m.ctype)
			p.keep = strings.Contains(ct, "xml") || strings.Contains(ct, "json")
		} else {
			if m.method == "CONNECT" {
				// What follows goes through the tunnel (clients wait for
				// the proxy's 200, a few send at once).
				p.msgs = append(p.msgs, m)
				p.tunnel = true
				return n + len(head), false
			}
			if te {
				p.msgs = append(p.msgs, m)
				return n + len(head), true
			}
			if body < 0 {
				body = 0
			}
			p.keep = false
		}
		p.msgs = append(p.msgs, m)
		n += len(head)
		p.skip = int(body)
	}
}

// readHead reads a request or response head with net/http into m: the
// request's method, Host and URI, the response's status, Location and
// Content-Type. It returns the content length (-1: not given) and
// whether a Transfer-Encoding applies.
func readHead(head []byte, response bool, m *httpMsg) (body int64, te bool, err error) {
	br := headReaders.Get().(*bufio.Reader)
	br.Reset(bytes.NewReader(head))
	defer headReaders.Put(br) // the body is never read
	if response {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return 0, false, errors.New("unreadable HTTP response: " + err.Error())
		}
		m.status = resp.StatusCode
		m.location = resp.Header.Get("Location")
		m.ctype = resp.Header.Get("Content-Type")
		return resp.ContentLength, len(resp.TransferEncoding) > 0, nil
	}
	req, err := http.ReadRequest(br)
	if err != nil {
		return 0, false, errors.New("unreadable HTTP request: " + err.Error())
	}
	m.method, m.host, m.uri = req.Method, req.Host, req.RequestURI
	return req.ContentLength, len(req.TransferEncoding) > 0, nil
}

// plainHead reads a head as readHead does, without net/http's
// allocations (hs.pcap's 1,818 exchanges allocated 4 MB a read in it),
// when the head is plain: every line ends with CRLF and holds no other
// CR or LF; a request line "METHOD /path HTTP/1.x" (not CONNECT, the
// path without control bytes or bad %-escapes) or a status line
// "HTTP/1.x NNN ..."; header names of token characters, values of the
// bytes RFC 9110 allows, no folded line, no Transfer-Encoding, at most
// one Host and one Content-Length, of 1 to 18 digits. ok is false for
// anything else, which readHead reads (FuzzPlainHead compares the two).
func plainHead(head []byte, response bool, m *httpMsg) (body int64, te, ok bool) {
	lines := head[:len(head)-4] // the head ends with its empty line
	line, lines, _ := bytes.Cut(lines, crlf)
	if bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line, '\n') >= 0 {
		return 0, false, false
	}
	if response {
		status, ok := plainStatusLine(line)
		if !ok {
			return 0, false, false
		}
		m.status = status
	} else {
		method, uri, ok := plainRequestLine(line)
		if !ok {
			return 0, false, false
		}
		m.method, m.uri = method, string(uri)
	}
	body = -1
	var host []byte
	hosts, locations, ctypes := 0, 0, 0
	for len(lines) > 0 {
		line, lines, _ = bytes.Cut(lines, crlf)
		k, v, found := bytes.Cut(line, []byte(":"))
		if !found || len(k) == 0 {
			return 0, false, false
		}
		for _, c := range k {
			if !validHeaderFieldByte(c) {
				return 0, false, false
			}
		}
		for _, c := range v {
			if !(c == '\t' || c >= 0x20 && c != 0x7f) {
				return 0, false, false
			}
		}
		v = bytes.Trim(v, " \t")
		switch {
		case asciiEqualFold(k, "transfer-encoding"), asciiEqualFold(k, "content-length") && body >= 0:
			return 0, false, false
		case asciiEqualFold(k, "content-length"):
			if len(v) == 0 || len(v) > 18 {
				return 0, false, false
			}
			body = 0
			for _, c := range v {
				if c < '0' || c > '9' {
					return 0, false, false
				}
				body = body*10 + int64(c-'0')
			}
		case response && asciiEqualFold(k, "location"):
			if locations++; locations == 1 { // Header.Get's: the first
				m.location = string(v)
			}
		case response && asciiEqualFold(k, "content-type"):
			if ctypes++; ctypes == 1 {
				m.ctype = string(v)
			}
		case !response && asciiEqualFold(k, "host"):
			host = v
			hosts++
		}
	}
	switch {
	case !response:
		if hosts > 1 {
			return 0, false, false
		}
		m.host = string(host)
		body = max(body, 0) // a request without Content-Length has none
	case m.status/100 == 1 || m.status == 204 || m.status == 304:
		body = 0 // RFC 9110 §6.4.1
	}
	return body, false, true
}

var crlf = []byte("\r\n")

// plainRequestLine splits "METHOD /path HTTP/1.x" as net/http does, for
// a method of token characters other than CONNECT and a path that
// url.ParseRequestURI takes: printable ASCII, every '%' before the
// query followed by two hex digits.
func plainRequestLine(line []byte) (method string, uri []byte, ok bool) {
	mb, rest, ok1 := bytes.Cut(line, []byte(" "))
	uri, proto, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 || len(mb) == 0 || len(uri) == 0 || uri[0] != '/' ||
		string(proto) != "HTTP/1.1" && string(proto) != "HTTP/1.0" {
		return "", nil, false
	}
	for _, c := range mb {
		if !validHeaderFieldByte(c) { // the token characters
			return "", nil, false
		}
	}
	path := uri
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		path = uri[:i]
	}
	for i, c := range uri {
		if c <= ' ' || c >= 0x7f {
			return "", nil, false
		}
		if c == '%' && i < len(path) && (i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2])) {
			return "", nil, false
		}
	}
	switch string(mb) {
	case "GET":
		method = "GET"
	case "POST":
		method = "POST"
	case "HEAD":
		method = "HEAD"
	case "CONNECT":
		return "", nil, false // its target is an authority, not a path
	default:
		method = string(mb)
	}
	return method, uri, true
}

// plainStatusLine reads "HTTP/1.x NNN reason" as net/http does, for a
// code of three digits.
func plainStatusLine(line []byte) (status int, ok bool) {
	proto, rest, found := bytes.Cut(line, []byte(" "))
	if !found || string(proto) != "HTTP/1.1" && string(proto) != "HTTP/1.0" {
		return 0, false
	}
	rest = bytes.TrimLeft(rest, " ")
	code, _, _ := bytes.Cut(rest, []byte(" "))
	if len(code) != 3 {
		return 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, false
		}
		status = status*10 + int(c-'0')
	}
	return status, true
}

// validHeaderFieldByte reports whether c may be in a header field name
// (RFC 9110 §5.6.2's token characters), as net/textproto checks it.
func validHeaderFieldByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// asciiEqualFold reports whether b is s (lower case) but for the case of
// ASCII letters.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// requestURL is the full URL of a request: scheme and host included.
func (m *httpMsg) requestURL() string {
	if strings.HasPrefix(m.uri, "http://") || strings.HasPrefix(m.uri, "https://") {
		return m.uri
	}
	if m.method == "CONNECT" || m.host == "" {
		return ""
	}
	return "http://" + m.host + m.uri
}
