package capture

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/proxy"

	"github.com/certsleuth/certsleuth/record"
)

// socksServe is a SOCKS 4/4a/5 proxy's side of one connection, written
// from the specifications (socks4.protocol, socks4a.protocol, RFC 1928,
// RFC 1929), that grants (or with refuse, refuses) the CONNECT and then
// answers TLS itself with srv: the capture between client and proxy is
// what certsleuth reads. It returns what the client asked for.
func socksServe(c net.Conn, w io.Writer, srv *tls.Config, refuse bool) (string, error) {
	br := bufio.NewReader(c)
	ver, err := br.ReadByte()
	if err != nil {
		return "", err
	}
	var target string
	switch ver {
	case socks4:
		hdr := make([]byte, 7)
		if _, err := io.ReadFull(br, hdr); err != nil {
			return "", err
		}
		if _, err := br.ReadString(0); err != nil { // USERID
			return "", err
		}
		host := net.IP(hdr[3:7]).String()
		if hdr[3] == 0 && hdr[4] == 0 && hdr[5] == 0 && hdr[6] != 0 {
			name, err := br.ReadString(0)
			if err != nil {
				return "", err
			}
			host = strings.TrimSuffix(name, "\x00")
		}
		target = net.JoinHostPort(host, strconv.Itoa(int(hdr[1])<<8|int(hdr[2])))
		cd := byte(socks4Granted)
		if refuse {
			cd = socks4Granted + 1
		}
		w.Write([]byte{0, cd, hdr[1], hdr[2], hdr[3], hdr[4], hdr[5], hdr[6]})
	case socks5:
		n, _ := br.ReadByte()
		methods := make([]byte, n)
		if _, err := io.ReadFull(br, methods); err != nil {
			return "", err
		}
		if bytes.IndexByte(methods, socks5UserPass) >= 0 {
			w.Write([]byte{5, socks5UserPass})
			var b [2]byte
			io.ReadFull(br, b[:])
			io.ReadFull(br, make([]byte, b[1]))
			l, _ := br.ReadByte()
			io.ReadFull(br, make([]byte, l))
			w.Write([]byte{1, 0})
		} else {
			w.Write([]byte{5, socks5NoAuth})
		}
		req := make([]byte, 4)
		if _, err := io.ReadFull(br, req); err != nil {
			return "", err
		}
		var host string
		switch req[3] {
		case socksATYPv4, socksATYPv6:
			a := make([]byte, map[byte]int{socksATYPv4: 4, socksATYPv6: 16}[req[3]])
			io.ReadFull(br, a)
			host = net.IP(a).String()
		case socksATYPDomain:
			l, _ := br.ReadByte()
			a := make([]byte, l)
			io.ReadFull(br, a)
			host = string(a)
		}
		var p [2]byte
		if _, err := io.ReadFull(br, p[:]); err != nil {
			return "", err
		}
		target = net.JoinHostPort(host, strconv.Itoa(int(p[0])<<8|int(p[1])))
		rep := byte(socks5Succeeded)
		if refuse {
			rep = 5 // connection refused
		}
		w.Write([]byte{5, rep, 0, socksATYPv4, 192, 0, 2, 25, 0x9c, 0x40})
	default:
		return "", fmt.Errorf("version %d", ver)
	}
	if refuse {
		return target, nil
	}
	tc := tls.Server(&bufConn{c, br, w}, srv)
	if err := tc.Handshake(); err != nil {
		return target, err
	}
	io.WriteString(tc, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	return target, tc.Close()
}

// bufConn reads through the proxy's bufio.Reader and writes through the
// recorder.
type bufConn struct {
	net.Conn
	r io.Reader
	w io.Writer
}

func (c *bufConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *bufConn) Write(b []byte) (int, error) { return c.w.Write(b) }

// connDialer hands the SOCKS client the recorded connection.
type connDialer struct{ c net.Conn }

func (d connDialer) Dial(network, addr string) (net.Conn, error) { return d.c, nil }

// socksConv runs one real conversation through socksServe: with
// socks5 set, golang.org/x/net/proxy's SOCKS 5 client (auth may be nil)
// asks for target; else the client sends hello (a SOCKS 4 request) by
// hand. Then a Go TLS client asks for sni.
func socksConv(t *testing.T, srv, cli *tls.Config, socks5 bool, auth *proxy.Auth, target string, hello []byte, refuse bool) []chunk {
	t.Helper()
	rec := &recorder{}
	c, rc, done := serveOnce(t, rec, func(c net.Conn, w io.Writer) error {
		_, err := socksServe(c, w, srv, refuse)
		return err
	})
	var tun net.Conn
	if socks5 {
		d, err := proxy.SOCKS5("tcp", "192.0.2.80:1080", auth, connDialer{rc})
		if err != nil {
			t.Fatal(err)
		}
		tun, err = d.Dial("tcp", target)
		if refuse {
			if err == nil {
				t.Fatal("the SOCKS 5 client took a refusal for a grant")
			}
			<-done
			return rec.chunks
		}
		if err != nil {
			t.Fatal(err)
		}
	} else {
		rc.Write(hello)
		reply := make([]byte, 8)
		if _, err := io.ReadFull(c, reply); err != nil {
			t.Fatal(err)
		}
		if refuse {
			<-done
			return rec.chunks
		}
		tun = rc
	}
	tc := tls.Client(tun, cli)
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS through SOCKS: %v", err)
	}
	io.ReadAll(tc)
	if err := <-done; err != nil {
		t.Fatalf("proxy: %v", err)
	}
	return rec.chunks
}

// socks4Req builds a SOCKS 4 CONNECT (4a when host is a name).
func socks4Req(host string, port int, user string) []byte {
	b := []byte{socks4, socksConnect, byte(port >> 8), byte(port)}
	ip := net.ParseIP(host).To4()
	if ip == nil {
		ip = net.IPv4(0, 0, 0, 1).To4()
	}
	b = append(append(append(b, ip...), user...), 0)
	if net.ParseIP(host) == nil {
		b = append(append(b, host...), 0)
	}
	return b
}

// TestSOCKS reads TLS through SOCKS 4, 4a and 5 proxies (Go's x/net/proxy
// SOCKS 5 client, with and without a password; SOCKS 4 requests built by
// hand), whole and cut into 3-byte segments: the observation is the TLS
// connection to the target, its connect the target, its proxy the proxy.
func TestSOCKS(t *testing.T) {
	p := newGenPKI(t)
	const proxyAddr = "192.0.2.80:1080"
	for _, c := range []struct {
		name    string
		socks5  bool
		auth    *proxy.Auth
		target  string
		hello   []byte
		sni     string
		connect string
		note    string
	}{
		{name: "socks5-domain", socks5: true, target: "autodiscover.contoso.test:443", sni: "autodiscover.contoso.test", connect: "autodiscover.contoso.test:443", note: "SOCKS 5 proxy"},
		{name: "socks5-password", socks5: true, auth: &proxy.Auth{User: "alice", Password: "s3cret-Pa55"}, target: "mail.contoso.test:443", sni: "mail.contoso.test", connect: "mail.contoso.test:443", note: "SOCKS 5 proxy"},
		{name: "socks5-ipv4", socks5: true, target: "192.0.2.25:443", sni: "mail.contoso.test", connect: "192.0.2.25:443", note: "SOCKS 5 proxy"},
		{name: "socks5-ipv6", socks5: true, target: "[2001:db8::25]:8443", connect: "[2001:db8::25]:8443", note: "SOCKS 5 proxy"},
		{name: "socks4", hello: socks4Req("192.0.2.25", 443, "bob"), sni: "mail.contoso.test", connect: "192.0.2.25:443", note: "SOCKS 4 proxy"},
		{name: "socks4a", hello: socks4Req("autodiscover.contoso.test", 443, ""), connect: "autodiscover.contoso.test:443", note: "SOCKS 4a proxy"},
	} {
		for _, mss := range []int{0, 3} {
			t.Run(fmt.Sprintf("%s/mss%d", c.name, mss), func(t *testing.T) {
				conv := socksConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg(c.sni, tls.VersionTLS12), c.socks5, c.auth, c.target, c.hello, false)
				res := readConvs(t, nil, func(f *capFile) { f.tcp(cliPort(60), proxyAddr, 0, conv, segOpts{mss: mss}) })
				if len(res.Observations) != 1 {
					t.Fatalf("%d observations, want 1: %+v", len(res.Observations), res.Observations)
				}
				o := res.Observations[0]
				if o.Kind != record.KindTLS || o.SNI != c.sni || o.Connect != c.connect || o.Proxy != proxyAddr || o.Server != proxyAddr || o.Visibility != record.VisVisible || o.TLSVersion != "TLS 1.2" {
					t.Fatalf("got kind %s sni %q connect %q proxy %q server %q %s %s; want tls sni %q connect %q proxy %s visible TLS 1.2", o.Kind, o.SNI, o.Connect, o.Proxy, o.Server, o.Visibility, o.TLSVersion, c.sni, c.connect, proxyAddr)
				}
				if leaf, err := x509.ParseCertificate(o.Chain[0]); err != nil || leaf.Subject.CommonName != "mail.contoso.test" {
					t.Errorf("leaf %v, %v; want mail.contoso.test", leaf, err)
				}
				if !strings.Contains(o.Note, c.note) || !strings.Contains(o.Note, "CONNECT to "+c.connect) {
					t.Errorf("note %q; want %q and the target", o.Note, c.note)
				}
				if c.auth != nil {
					js, _ := json.Marshal(o)
					if bytes.Contains(js, []byte(c.auth.Password)) || bytes.Contains(js, []byte(c.auth.User)) {
						t.Errorf("the observation holds the SOCKS username or password: %s", js)
					}
				}
			})
		}
	}
}

// TestSOCKSNot: a proxy that refuses, and streams that begin like SOCKS
// but break its rules, give no TLS observation with a target; TLS or HTTP
// after a granted request that is not TLS is read for what it is.
func TestSOCKSNot(t *testing.T) {
	p := newGenPKI(t)
	srv, cli := srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12)
	hello := tlsConv(t, srv, cli)[0].data // a real ClientHello
	socks5OK := []chunk{{true, []byte{5, 1, 0}}, {false, []byte{5, 0}}, {true, []byte{5, 1, 0, 3, 4, 'm', 'a', 'i', 'l', 1, 0xbb}}, {false, []byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}}}
	for _, c := range []struct {
		name  string
		conv  []chunk
		kinds []record.Kind
	}{
		{"socks5-refused", socksConv(t, srv, cli, true, nil, "mail.contoso.test:443", nil, true), nil},
		{"socks4-refused", socksConv(t, srv, cli, false, nil, "", socks4Req("mail.contoso.test", 443, ""), true), nil},
		{"socks5-no-acceptable-method", []chunk{{true, []byte{5, 1, 2}}, {false, []byte{5, 0xff}}}, nil},
		// The server's answer chooses a method the client did not offer.
		{"socks5-method-not-offered", []chunk{{true, []byte{5, 1, 0}}, {false, []byte{5, 2}}, {true, []byte{5, 1, 0, 1, 192, 0, 2, 25, 1, 0xbb}}, {false, []byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}}, {true, hello}}, []record.Kind{record.KindTLS}},
		// Not SOCKS: 0x05 then a method list with 0xff; a SOCKS 4 BIND; a
		// SOCKS 4a name with a space; a SOCKS 5 UDP ASSOCIATE. No rule
		// reads them, but the ClientHello after them is found by the
		// scan for a hello (upgrade.go) and read, with no target.
		{"no-method-ff", []chunk{{true, append([]byte{5, 2, 0, 0xff}, hello...)}}, []record.Kind{record.KindTLS}},
		{"socks4-bind", []chunk{{true, append([]byte{4, 2, 1, 0xbb, 192, 0, 2, 25, 0}, hello...)}}, []record.Kind{record.KindTLS}},
		{"socks4a-bad-name", []chunk{{true, append([]byte("\x04\x01\x01\xbb\x00\x00\x00\x01\x00mail contoso\x00"), hello...)}}, []record.Kind{record.KindTLS}},
		{"socks5-udp", []chunk{{true, []byte{5, 1, 0}}, {false, []byte{5, 0}}, {true, append([]byte{5, 3, 0, 1, 192, 0, 2, 25, 1, 0xbb}, hello...)}}, []record.Kind{record.KindTLS}},
		// The server answers a SOCKS-looking request with HTTP.
		{"server-not-socks", []chunk{{true, []byte{5, 1, 0}}, {false, []byte("HTTP/1.1 400 Bad Request\r\n\r\n")}, {true, append([]byte{5, 1, 0, 1, 192, 0, 2, 25, 1, 0xbb}, hello...)}}, []record.Kind{record.KindTLS}},
		// Plain HTTP through a granted tunnel is read as HTTP.
		{"http-through-socks", append(socks5OK[:4:4], chunk{true, []byte("GET /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: mail\r\n\r\n")}, chunk{false, []byte("HTTP/1.1 302 Found\r\nLocation: https://mail/\r\nContent-Length: 0\r\n\r\n")}), []record.Kind{record.KindHTTP}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := readConvs(t, nil, func(f *capFile) { f.tcp(cliPort(61), "192.0.2.80:1080", 0, c.conv, segOpts{}) })
			var kinds []record.Kind
			for _, o := range res.Observations {
				kinds = append(kinds, o.Kind)
				if o.Kind == record.KindTLS {
					// The client's ClientHello is read, but the server did
					// not grant a SOCKS request: no target, and the note
					// says why.
					want := "the client began with a SOCKS 5 request to CONNECT to 192.0.2.25:443"
					if n := len(c.conv[len(c.conv)-1].data) - len(hello); strings.HasPrefix(c.name, "no-method") || strings.HasPrefix(c.name, "socks4") || c.name == "socks5-udp" {
						if c.name == "socks5-udp" {
							n += 3 // the greeting before the request
						}
						want = "TLS started mid-stream after " + strconv.Itoa(n) + " bytes from the client of a protocol certsleuth does not recognise"
					}
					if o.Connect != "" || o.Proxy != "" || !strings.Contains(o.Note, want) {
						t.Errorf("connect %q proxy %q note %q; want no target and a note that the request was not granted", o.Connect, o.Proxy, o.Note)
					}
				}
			}
			if fmt.Sprint(kinds) != fmt.Sprint(c.kinds) {
				t.Fatalf("observations %v, want %v: %+v", kinds, c.kinds, res.Observations)
			}
		})
	}
}

// TestSOCKSParse is the table of SOCKS messages, whole and in every
// prefix: a prefix waits for more, the whole message is taken, and bytes
// that break the rules are refused.
func TestSOCKSParse(t *testing.T) {
	for _, c := range []struct {
		name   string
		client bool
		ver    byte
		peer   *socksHalf
		msg    []byte
		ok     bool
		target string
	}{
		{"socks4", true, 4, nil, []byte("\x04\x01\x01\xbb\xc0\x00\x02\x19bob\x00"), true, "192.0.2.25:443"},
		{"socks4a", true, 4, nil, []byte("\x04\x01\x01\xbb\x00\x00\x00\x07\x00mail.contoso.test\x00"), true, "mail.contoso.test:443"},
		{"socks4-port0", true, 4, nil, []byte("\x04\x01\x00\x00\xc0\x00\x02\x19\x00"), false, ""},
		{"socks4-ip0", true, 4, nil, []byte("\x04\x01\x01\xbb\x00\x00\x00\x00\x00"), false, ""},
		{"socks4-userid-control", true, 4, nil, []byte("\x04\x01\x01\xbb\xc0\x00\x02\x19b\x01b\x00"), false, ""},
		{"socks4a-empty-name", true, 4, nil, []byte("\x04\x01\x01\xbb\x00\x00\x00\x07\x00\x00"), false, ""},
		{"socks5-greeting", true, 5, nil, []byte{5, 2, 0, 2}, true, ""},
		{"socks5-greeting-0", true, 5, nil, []byte{5, 0}, false, ""},
		{"socks4-server", false, 4, nil, []byte{0, 0x5a, 1, 0xbb, 192, 0, 2, 25}, true, ""},
		{"socks4-server-bad-cd", false, 4, nil, []byte{0, 0x10, 1, 0xbb, 192, 0, 2, 25}, false, ""},
		{"socks5-method", false, 5, &socksHalf{offered: [256]bool{0: true}}, []byte{5, 0}, true, ""},
		{"socks5-method-not-offered", false, 5, &socksHalf{offered: [256]bool{0: true}}, []byte{5, 1}, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for n := 0; n <= len(c.msg); n++ {
				s := &socksHalf{client: c.client, ver: c.ver, method: -1, reply: -1}
				var k int
				var ok bool
				if c.client {
					k, ok = s.clientMsg(c.msg[:n])
				} else {
					k, ok = s.serverMsg(c.msg[:n], c.peer)
				}
				switch {
				case n < len(c.msg) && k != 0:
					t.Fatalf("prefix of %d bytes: took %d", n, k)
				case n < len(c.msg) && !ok && c.ok:
					t.Fatalf("prefix of %d bytes refused", n)
				case n == len(c.msg) && c.ok && (k != n || !ok):
					t.Fatalf("whole message: took %d, ok %v; want %d", k, ok, n)
				case n == len(c.msg) && !c.ok && ok:
					t.Fatalf("whole message accepted (took %d); want refused", k)
				case n == len(c.msg) && s.target != c.target:
					t.Fatalf("target %q, want %q", s.target, c.target)
				}
			}
		})
	}
}

// FuzzSOCKS feeds arbitrary client and server bytes through the reader as
// one TCP connection to a SOCKS port, after a SOCKS 5 greeting or a SOCKS
// 4 request: no panic, at most one observation, and one with a target has
// the proxy as its server.
func FuzzSOCKS(f *testing.F) {
	f.Add([]byte{5, 1, 0}, []byte{5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0}, []byte{5, 1, 0, 3, 4, 'm', 'a', 'i', 'l', 1, 0xbb, 0x16, 3, 1, 0, 5, 'h', 'e', 'l', 'l', 'o'}, uint8(7))
	f.Add([]byte("\x04\x01\x01\xbb\x00\x00\x00\x01\x00mail\x00"), []byte{0, 0x5a, 1, 0xbb, 0, 0, 0, 0, 0x16, 3, 3, 0, 2, 'h', 'i'}, []byte{0x16, 3, 1, 0, 1, 1}, uint8(1))
	f.Add([]byte{5, 2, 0, 2}, []byte{5, 2, 1, 0}, []byte{1, 1, 'u', 1, 'p', 5, 1, 0, 4, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25, 1, 0xbb}, uint8(3))
	f.Fuzz(func(t *testing.T, first, srv, cli []byte, mss uint8) {
		fc := newCapFile(t)
		fc.tcp(cliPort(62), "192.0.2.80:1080", 0, []chunk{{true, first}, {false, srv}, {true, cli}}, segOpts{mss: int(mss)%64 + 1})
		res, err := Read(bytes.NewReader(fc.encode(ethOnly)), "fuzz.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) > 1 && res.Observations[0].Kind == record.KindTLS {
			t.Fatalf("%d observations from one connection", len(res.Observations))
		}
		for _, o := range res.Observations {
			if o.Connect != "" && o.Proxy != "192.0.2.80:1080" {
				t.Fatalf("a SOCKS target without its proxy: %+v", o)
			}
		}
	})
}

// FuzzSOCKSMsg: the message parsers never take more than they are given
// and never panic, whatever the bytes and the state.
func FuzzSOCKSMsg(f *testing.F) {
	f.Add([]byte("\x04\x01\x01\xbb\x00\x00\x00\x01\x00mail\x00"), true, uint8(4), uint8(0))
	f.Add([]byte{5, 0, 0, 3, 4, 'm', 'a', 'i', 'l', 1, 0xbb}, false, uint8(5), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, client bool, ver, steps uint8) {
		s := &socksHalf{client: client, ver: 4 + ver%2, method: -1, reply: -1}
		peer := &socksHalf{client: true, ver: s.ver, method: -1, reply: -1}
		peer.offered[0], peer.offered[2] = true, true
		for i := 0; i <= int(steps%4) && !s.tunnel && len(b) > 0; i++ {
			var n int
			var ok bool
			if client {
				n, ok = s.clientMsg(b)
			} else {
				n, ok = s.serverMsg(b, peer)
			}
			if n < 0 || n > len(b) {
				t.Fatalf("took %d of %d bytes", n, len(b))
			}
			if !ok || n == 0 {
				return
			}
			b = b[n:]
		}
	})
}
