package capture

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// headSeeds are message heads plainHead reads and heads it leaves to
// net/http: folded lines, bare LF, duplicate and odd headers, CONNECT,
// chunked bodies, bad escapes.
var headSeeds = []string{
	"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET /a/b?c=%zz HTTP/1.1\r\nHost: a.example\r\nUser-Agent: x\r\n\r\n",
	"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nhost:  mail.example.com \r\nContent-Length: 0012\r\n\r\n",
	"GET /%41%2 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://example.com/x HTTP/1.1\r\nHost: other\r\n\r\n",
	"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\n\n\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
	"GET / HTTP/1.1\r\nBad Key: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: \x01\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n",
	"G@T / HTTP/1.1\r\n\r\n",
	"GET /  HTTP/1.1\r\n\r\n",
	"GET / HTTP/2.0\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: 10\r\n\r\n",
	"HTTP/1.1 302 Found\r\nLocation: https://mail.example.com/owa/\r\nLocation: https://other/\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 302 Found\r\nLocation:\r\nLocation: https://other/\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
	"HTTP/1.0 200\r\n\r\n",
	"HTTP/1.1   200   spaced\r\n\r\n",
	"HTTP/1.1 +20 OK\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
	"HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Type: a\r\n\tb\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: " + strings.Repeat("v", 70000) + "\r\n\r\n",
	"\r\n\r\n",
}

// FuzzPlainHead checks plainHead against net/http (readHead): a head it
// reads gives what net/http gives, field for field.
func FuzzPlainHead(f *testing.F) {
	for _, s := range headSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
			b = b[:i]
		}
		head := append(b, "\r\n\r\n"...)
		for _, response := range []bool{false, true} {
			var fast, slow httpMsg
			fb, fte, ok := plainHead(head, response, &fast)
			if !ok {
				continue
			}
			sb, ste, err := readHead(head, response, &slow)
			if err != nil {
				t.Fatalf("plainHead read %q (response %v), net/http: %v", head, response, err)
			}
			if fb != sb || fte != ste || !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%q (response %v): plainHead %+v (body %d, te %v), net/http %+v (body %d, te %v)", head, response, fast, fb, fte, slow, sb, ste)
			}
		}
	})
}

// TestHeadsNotPlain reads heads plainHead leaves to net/http (and a huge
// one it reads), as a connection's parser does: the result is net/http's.
func TestHeadsNotPlain(t *testing.T) {
	cases := []struct {
		response bool
		in       string
		want     httpMsg
		fails    bool
		plain    bool // plainHead reads it (a huge header is plain)
	}{
		{in: "GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\nHost: a.example\r\n\r\n", want: httpMsg{method: "GET", uri: "/", host: "a.example"}},
		{in: "GET /x HTTP/1.1\nHost: lf.example\r\n\r\n", want: httpMsg{method: "GET", uri: "/x", host: "lf.example"}},
		{in: "GET http://abs.example/p HTTP/1.1\r\nHost: other\r\n\r\n", want: httpMsg{method: "GET", uri: "http://abs.example/p", host: "abs.example"}},
		{in: "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", fails: true},
		{in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", fails: true},
		{in: "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", 70000) + "\r\nHost: big.example\r\n\r\n", want: httpMsg{method: "GET", uri: "/", host: "big.example"}, plain: true},
		{response: true, in: "HTTP/1.1 302 Found\r\nLocation: https://a.example/\r\n  continued\r\nContent-Length: 0\r\n\r\n", want: httpMsg{status: 302, location: "https://a.example/ continued"}},
	}
	at := time.Unix(0, 0)
	for _, c := range cases {
		p := &httpHalf{response: c.response}
		n, done := p.parse([]byte(c.in), at, false)
		switch {
		case c.fails:
			if len(p.msgs) != 0 || !done || p.err == "" {
				t.Errorf("%.40q: %d messages, done %v, err %q; want net/http's error", c.in, len(p.msgs), done, p.err)
			}
			continue
		case len(p.msgs) != 1 || p.err != "":
			t.Errorf("%.40q: %d messages, err %q", c.in, len(p.msgs), p.err)
			continue
		}
		got := p.msgs[0]
		got.at = time.Time{}
		if !reflect.DeepEqual(got, c.want) || n != len(c.in) {
			t.Errorf("%.40q: read %+v (%d bytes), want %+v", c.in, got, n, c.want)
		}
		var m httpMsg
		if _, _, ok := plainHead([]byte(c.in), c.response, &m); ok != c.plain {
			t.Errorf("%.40q: plainHead reads it: %v, want %v", c.in, ok, c.plain)
		}
	}
}
