package capture

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// TestProxyHeader is the table of PROXY protocol headers (HAProxy's
// proxy-protocol.txt §2.1 and §2.2, its examples), whole and in every
// prefix.
func TestProxyHeader(t *testing.T) {
	v2 := func(cmd, fam byte, addr ...byte) string {
		return string(proxyV2Sig) + string([]byte{cmd, fam, byte(len(addr) >> 8), byte(len(addr))}) + string(addr)
	}
	for _, c := range []struct {
		name, in string
		n        int // 0: not a header
		from     string
	}{
		{"v1-tcp4", "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", 47, "192.168.0.1:56324 to 192.168.0.11:443"},
		{"v1-tcp6", "PROXY TCP6 2001:db8::1 2001:db8::25 56324 443\r\n", 47, "[2001:db8::1]:56324 to [2001:db8::25]:443"},
		{"v1-unknown", "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", 59, ""},
		{"v1-tcp4-with-v6", "PROXY TCP4 2001:db8::1 192.168.0.11 56324 443\r\n", 0, ""},
		{"v1-bad-port", "PROXY TCP4 192.168.0.1 192.168.0.11 70000 443\r\n", 0, ""},
		{"v1-too-long", "PROXY TCP4 " + strings.Repeat("1", 100) + "\r\n", 0, ""},
		{"v2-tcp4", v2(0x21, 0x11, 192, 0, 2, 10, 192, 0, 2, 25, 0xdc, 0x04, 1, 0xbb), 28, "192.0.2.10:56324 to 192.0.2.25:443"},
		{"v2-tcp6", v2(0x21, 0x21, append(append([]byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25), 0xdc, 0x04, 1, 0xbb)...), 52, "[2001:db8::1]:56324 to [2001:db8::25]:443"},
		{"v2-local", v2(0x20, 0x00), 16, ""},
		{"v2-bad-version", v2(0x11, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), 0, ""},
		{"tls", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0, ""},
		{"http", "PROXYFIND / HTTP/1.1\r\n", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in + "\x16\x03\x01") // the client's TLS follows
			n, from, wait := proxyHeader(in)
			if n != c.n || from != c.from || wait {
				t.Fatalf("proxyHeader = %d, %q, wait %v; want %d, %q", n, from, wait, c.n, c.from)
			}
			if c.n == 0 {
				return
			}
			for k := 0; k < c.n; k++ {
				if n, _, wait := proxyHeader(in[:k]); n != 0 || !wait {
					t.Fatalf("prefix of %d bytes: n %d, wait %v; want 0, wait", k, n, wait)
				}
			}
		})
	}
}

// TestProxyHeaderConn: TLS after a PROXY protocol header (a capture
// between a load balancer and its backend) is read, and the note names
// the original client; a POP3 client whose first command is AUTH (not a
// STARTTLS protocol's usual first word) is read once the server greeted.
func TestProxyHeaderConn(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	for _, c := range []struct {
		name, note, starttls string
		conv                 []chunk
	}{
		{"v1", "says the original connection is 198.51.100.7:61000 to 203.0.113.5:443", "",
			append([]chunk{{true, []byte("PROXY TCP4 198.51.100.7 203.0.113.5 61000 443\r\n")}}, conv...)},
		{"pop3-auth-first", "the server greeted: ready", "pop3",
			append([]chunk{{false, []byte("+OK ready\r\n")}, {true, []byte("AUTH\r\n")}, {false, []byte("-ERR Unrecognized command.\r\n")}, {true, []byte("STLS\r\n")}, {false, []byte("+OK Begin TLS\r\n")}}, conv...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, mss := range []int{0, 4} {
				res := readConvs(t, nil, func(f *capFile) { f.tcp(cliPort(64), mailIP+":443", 0, c.conv, segOpts{mss: mss}) })
				if len(res.Observations) != 1 {
					t.Fatalf("mss %d: %d observations, want 1", mss, len(res.Observations))
				}
				o := res.Observations[0]
				if o.Kind != record.KindTLS || o.SNI != "mail.contoso.test" || o.Visibility != record.VisVisible || o.StartTLS != c.starttls || !strings.Contains(o.Note, c.note) {
					t.Fatalf("mss %d: %s sni %q %s starttls %q note %q; want visible TLS to mail.contoso.test, starttls %q, note %q", mss, o.Kind, o.SNI, o.Visibility, o.StartTLS, o.Note, c.starttls, c.note)
				}
			}
		})
	}
}

// FuzzProxyHeader: never more than it is given, never a panic.
func FuzzProxyHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"))
	f.Add(append(append([]byte(nil), proxyV2Sig...), 0x21, 0x11, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, _, wait := proxyHeader(b)
		if n < 0 || n > len(b) || n > 0 && wait {
			t.Fatalf("n %d of %d bytes, wait %v", n, len(b), wait)
		}
	})
}
