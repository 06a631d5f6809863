package capture

import (
	"bufio"
	"bytes"
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
		br := headReaders.Get().(*bufio.Reader)
		br.Reset(bytes.NewReader(head))
		m := httpMsg{at: at}
		var body int64
		if p.response {
			resp, err := http.ReadResponse(br, nil)
			headReaders.Put(br) // resp.Body is never read
			if err != nil {
				p.err = "unreadable HTTP response: " + err.Error()
				return n, true
			}
			m.status = resp.StatusCode
			m.location = resp.Header.Get("Location")
			m.ctype = resp.Header.Get("Content-Type")
			body = resp.ContentLength
			if resp.StatusCode/100 == 2 && p.peer.connecting() {
				// RFC 9110 §9.3.6: a 2xx answer to CONNECT has no
				// content; the tunnel starts after its head.
				p.msgs = append(p.msgs, m)
				p.tunnel = true
				return n + len(head), false
			}
			if len(resp.TransferEncoding) > 0 {
				p.msgs = append(p.msgs, m)
				return n + len(head), true // chunked: stop after this head
			}
			if resp.StatusCode/100 == 1 || resp.StatusCode == 204 || resp.StatusCode == 304 {
				body = 0
			}
			if body < 0 {
				p.msgs = append(p.msgs, m)
				return n + len(head), true // body runs to the end of the connection
			}
			ct := strings.ToLower(m.ctype)
			p.keep = strings.Contains(ct, "xml") || strings.Contains(ct, "json")
		} else {
			req, err := http.ReadRequest(br)
			headReaders.Put(br) // req.Body is never read
			if err != nil {
				p.err = "unreadable HTTP request: " + err.Error()
				return n, true
			}
			m.method, m.host, m.uri = req.Method, req.Host, req.RequestURI
			body = req.ContentLength
			if req.Method == "CONNECT" {
				// What follows goes through the tunnel (clients wait for
				// the proxy's 200, a few send at once).
				p.msgs = append(p.msgs, m)
				p.tunnel = true
				return n + len(head), false
			}
			if len(req.TransferEncoding) > 0 {
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
