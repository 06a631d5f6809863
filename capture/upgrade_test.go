package capture

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// upDialog is the plain part of a binary protocol before TLS: messages
// in order, each from the client or the server, as the protocol's
// documents give them.
type upDialog struct {
	name  string
	proto string // StartTLS wanted ("" for an unknown protocol)
	port  int
	steps []chunk
	note  string // text the note must hold
}

// mysqlGreeting is a MariaDB server's first packet (protocol 10): length
// and sequence 0, the version, connection ID, 8 bytes of salt, a filler,
// capability flags with CLIENT_SSL (0x0800), charset, status, upper
// flags, auth data length, 10 reserved bytes, 12 more bytes of salt and
// the auth plugin's name (MySQL protocol docs, Protocol::HandshakeV10).
func mysqlGreeting(version string) []byte {
	p := []byte{10}
	p = append(p, version...)
	p = append(p, 0, 0x2a, 0, 0, 0)
	p = append(p, "abcdefgh"...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint16(p, 0xfffe) // includes CLIENT_SSL
	p = append(p, 0x2d)
	p = binary.LittleEndian.AppendUint16(p, 0x0002)
	p = binary.LittleEndian.AppendUint16(p, 0x81bf)
	p = append(p, 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, "ijklmnopqrst\x00mysql_native_password\x00"...)
	return append([]byte{byte(len(p)), byte(len(p) >> 8), 0, 0}, p...)
}

// mysqlSSLRequest is the client's SSLRequest: 32 bytes, sequence 1,
// capabilities with CLIENT_PROTOCOL_41 and CLIENT_SSL, max packet size,
// charset, 23 zero bytes (Protocol::SSLRequest).
func mysqlSSLRequest() []byte {
	p := binary.LittleEndian.AppendUint32(nil, 0x000aaa05|mysqlClientSSL|mysqlClientProto41)
	p = binary.LittleEndian.AppendUint32(p, 16<<20)
	p = append(p, 0x21)
	p = append(p, make([]byte, 23)...)
	return append([]byte{32, 0, 0, 1}, p...)
}

// adbMsg is an ADB message: six little-endian words and the data
// (AOSP adb protocol.txt: command, arg0, arg1, data length, data
// checksum, magic = command ^ 0xffffffff).
func adbMsg(cmd string, arg0, arg1 uint32, data string) []byte {
	c := binary.LittleEndian.Uint32([]byte(cmd))
	var sum uint32
	for i := 0; i < len(data); i++ {
		sum += uint32(data[i])
	}
	b := binary.LittleEndian.AppendUint32(nil, c)
	for _, w := range []uint32{arg0, arg1, uint32(len(data)), sum, ^c} {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return append(b, data...)
}

// ldapStartTLSRequest and ldapStartTLSResponse are RFC 4511 §4.14's
// ExtendedRequest (messageID 1, requestName the StartTLS OID) and a
// successful ExtendedResponse (resultCode 0, empty matchedDN and
// diagnosticMessage), BER-encoded.
var (
	ldapStartTLSRequest  = append([]byte{0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16}, "1.3.6.1.4.1.1466.20037"...)
	ldapStartTLSResponse = []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}
)

var upDialogs = []upDialog{
	{"mysql", "mysql", 3306, []chunk{{false, mysqlGreeting("5.5.5-10.11.19-MariaDB-0+deb12u1")}, {true, mysqlSSLRequest()}},
		"the server greeted: 5.5.5-10.11.19-MariaDB-0+deb12u1; TLS began after the client's MySQL SSLRequest"},
	{"ldap", "ldap", 389, []chunk{{true, ldapStartTLSRequest}, {false, ldapStartTLSResponse}},
		"TLS began after LDAP StartTLS"},
	// A bind before StartTLS (an anonymous simple bind and its success).
	{"ldap-bind-first", "ldap", 389, []chunk{{true, []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00}},
		{false, []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}},
		{true, append([]byte{0x30, 0x1d, 0x02, 0x01, 0x02}, ldapStartTLSRequest[5:]...)},
		{false, []byte{0x30, 0x0c, 0x02, 0x01, 0x02, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}}},
		"TLS began after LDAP StartTLS"},
	{"adb", "adb", 5555, []chunk{{true, adbMsg("CNXN", 0x01000001, 256<<10, "host::features=shell_v2,cmd,stat_v2,ls_v2\x00")},
		{false, adbMsg("STLS", 0x01000000, 0, "")}, {true, adbMsg("STLS", 0x01000000, 0, "")}},
		"TLS began after Android Debug Bridge STLS"},
	// A protocol certsleuth does not know: a binary hello each way.
	{"unknown", "", 7000, []chunk{{true, []byte("\x00\x00\x00\x0bHELLO\x01\x16\x03\x09\x00\x00")}, {false, []byte("\x00\x00\x00\x04OK\x16\x03")}},
		"TLS started mid-stream after 15 bytes from the client and 8 bytes from the server of a protocol certsleuth does not recognise"},
}

// upgradeConv runs one real conversation on 127.0.0.1: the dialog's
// messages, then a TLS handshake (Go's crypto/tls) on the same connection.
func upgradeConv(t *testing.T, dl upDialog, srv, cli *tls.Config) []chunk {
	t.Helper()
	rec := &recorder{}
	c, rc, done := serveOnce(t, rec, func(c net.Conn, w io.Writer) error {
		for _, st := range dl.steps {
			if st.fromClient {
				if _, err := io.ReadFull(c, make([]byte, len(st.data))); err != nil {
					return err
				}
			} else if _, err := w.Write(st.data); err != nil {
				return err
			}
		}
		tc := tls.Server(w.(net.Conn), srv)
		if err := tc.Handshake(); err != nil {
			return err
		}
		io.WriteString(tc, "after TLS")
		return tc.Close()
	})
	for _, st := range dl.steps {
		if st.fromClient {
			rc.Write(st.data)
		} else if _, err := io.ReadFull(c, make([]byte, len(st.data))); err != nil {
			t.Fatal(err)
		}
	}
	tc := tls.Client(rc, cli)
	if err := tc.Handshake(); err != nil {
		t.Fatalf("%s client: TLS: %v", dl.name, err)
	}
	io.ReadAll(tc)
	if err := <-done; err != nil {
		t.Fatalf("%s server: %v", dl.name, err)
	}
	return rec.chunks
}

// TestUpgrades reads MySQL, LDAP StartTLS, ADB and an unknown protocol
// that turn to TLS, whole and cut into 3- and 7-byte segments, TLS 1.2 and 1.3
// (with the key log): each gives one TLS observation with the protocol,
// the SNI and the server's certificate, and a note of how TLS began. The
// 3-byte segments cut every record header and hello between packets.
func TestUpgrades(t *testing.T) {
	p := newGenPKI(t)
	for _, dl := range upDialogs {
		for _, mss := range []int{0, 3, 7} {
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				t.Run(fmt.Sprintf("%s/mss%d/%x", dl.name, mss, v), func(t *testing.T) {
					var kl bytes.Buffer
					cli := cliCfg("db.contoso.test", v)
					cli.KeyLogWriter = &kl
					conv := upgradeConv(t, dl, srvCfg(p.mailOnly, v), cli)
					server := fmt.Sprintf("%s:%d", mailIP, dl.port)
					res := readConvs(t, &kl, func(f *capFile) { f.tcp(cliPort(80), server, 0, conv, segOpts{mss: mss}) })
					if len(res.Observations) != 1 {
						t.Fatalf("%d observations, want 1", len(res.Observations))
					}
					o := res.Observations[0]
					if o.Kind != record.KindTLS || o.StartTLS != dl.proto || o.SNI != "db.contoso.test" || o.Visibility != record.VisVisible || len(o.Chain) == 0 || o.Server != server {
						t.Fatalf("note %q: %s starttls %q sni %q %s chain %d server %s; want tls %q db.contoso.test visible at %s", o.Note, o.Kind, o.StartTLS, o.SNI, o.Visibility, len(o.Chain), o.Server, dl.proto, server)
					}
					if !strings.Contains(o.Note, dl.note) {
						t.Errorf("note %q, want %q", o.Note, dl.note)
					}
				})
			}
		}
	}
}

// TestUpgradeNot: streams that hold TLS-looking bytes but no ClientHello
// or ServerHello, and protocols that never turn to TLS, give no TLS
// observation; a refused upgrade neither.
func TestUpgradeNot(t *testing.T) {
	for _, c := range []struct {
		name string
		conv []chunk
	}{
		{"ssh", []chunk{{false, []byte("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")}, {true, []byte("SSH-2.0-OpenSSH_9.2p1\r\n\x00\x00\x05\xdc\x06\x14\x16\x03\x01\x00\x40\x14\x00\x00\x3c\x03\x03")}}},
		// A record header, a ClientHello type, but a length that does not fit.
		{"hello too long", []chunk{{true, []byte("\x00\x01\x16\x03\x01\x00\x30\x01\x00\x01\x00\x03\x03" + strings.Repeat("\x00", 60))}}},
		// MySQL: the server refuses (an error packet) and no TLS follows.
		{"mysql no ssl", []chunk{{false, mysqlGreeting("8.0.36")}, {true, append([]byte{40, 0, 0, 1}, make([]byte, 40)...)}, {false, []byte("\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00")}}},
		// LDAP: StartTLS refused (resultCode 2, protocolError).
		{"ldap refused", []chunk{{true, ldapStartTLSRequest}, {false, []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := readConvs(t, nil, func(f *capFile) { f.tcp(cliPort(81), mailIP+":3306", 0, c.conv, segOpts{mss: 5}) })
			if len(res.Observations) != 0 {
				t.Fatalf("%d observations, want none: %+v", len(res.Observations), res.Observations[0])
			}
		})
	}
}

// TestLooksUpgrade is the table of first bytes that start a binary
// upgrade protocol, and of those that do not.
func TestLooksUpgrade(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    []byte
		proto string
		more  bool
	}{
		{"mysql greeting", mysqlGreeting("8.0.36"), "mysql", false},
		{"mysql SSLRequest", mysqlSSLRequest(), "mysql", false},
		{"mysql greeting, first bytes", mysqlGreeting("8.0.36")[:6], "mysql", false},
		{"mysql greeting, 5 bytes", mysqlGreeting("8.0.36")[:5], "", true},
		{"ldap StartTLS", ldapStartTLSRequest, "ldap", false},
		{"ldap response", ldapStartTLSResponse, "ldap", false},
		{"ldap, first bytes", ldapStartTLSRequest[:6], "ldap", false},
		{"ldap, 5 bytes", ldapStartTLSRequest[:5], "", true},
		{"adb CNXN", adbMsg("CNXN", 1, 2, "host::\x00"), "adb", false},
		{"adb STLS", adbMsg("STLS", 1, 0, ""), "adb", false},
		{"adb, first bytes", adbMsg("CNXN", 1, 2, "")[:16], "", true},
		{"adb, bad magic", append(adbMsg("CNXN", 1, 2, "")[:20], 0, 0, 0, 0), "", false},
		{"BER, not LDAP", []byte{0x30, 0x03, 0x04, 0x01, 0x00}, "", false},
		{"text", []byte("SSH-2.0-OpenSSH_9.2p1\r\n"), "", false},
	} {
		proto, more := looksUpgrade(c.in)
		if proto != c.proto || more != c.more {
			t.Errorf("%s: %q more %v; want %q more %v", c.name, proto, more, c.proto, c.more)
		}
	}
}

// TestHelloAt is the table of TLS hello signatures the scan accepts.
func TestHelloAt(t *testing.T) {
	hello := []byte{0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03}
	for _, c := range []struct {
		name      string
		in        []byte
		yes, more bool
	}{
		{"ClientHello", hello, true, false},
		{"ServerHello", []byte{0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00, 0x00, 0x3c, 0x03, 0x03}, true, false},
		{"short", hello[:7], false, true},
		{"Certificate", []byte{0x16, 0x03, 0x03, 0x00, 0x40, 0x0b, 0x00, 0x00, 0x3c, 0x03, 0x03}, false, false},
		{"does not fit", []byte{0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3d, 0x03, 0x03}, false, false},
		{"record too long", []byte{0x16, 0x03, 0x01, 0x48, 0x01, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03}, false, false},
		{"version 3.5", []byte{0x16, 0x03, 0x05, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03}, false, false},
		{"hello version 2", []byte{0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x02, 0x00}, false, false},
	} {
		yes, more := helloAt(c.in)
		if yes != c.yes || more != c.more {
			t.Errorf("%s: %v %v; want %v %v", c.name, yes, more, c.yes, c.more)
		}
	}
}

// FuzzUpgrade feeds arbitrary client and server bytes after a MySQL
// greeting, an LDAP or ADB message, or nothing, through the reader as
// one TCP connection cut into segments: no panic, at most one
// observation; and the framing and scanning functions stay within their
// input.
func FuzzUpgrade(f *testing.F) {
	for i, dl := range upDialogs {
		var cli, srv []byte
		for _, st := range dl.steps {
			if st.fromClient {
				cli = append(cli, st.data...)
			} else {
				srv = append(srv, st.data...)
			}
		}
		f.Add(append(cli, "\x16\x03\x01\x00\x2a\x01\x00\x00\x26\x03\x03"+strings.Repeat("r", 38)...), append(srv, "\x16\x03\x03\x00\x2a\x02\x00\x00\x26\x03\x03"...), uint8(i), uint8(7))
	}
	f.Fuzz(func(t *testing.T, cli, srv []byte, first, mss uint8) {
		for _, b := range [][]byte{cli, srv} {
			looksUpgrade(b)
			looksOpenVPN(b)
			if at, _ := scanHello(b); at < 0 || at > len(b) {
				t.Fatalf("scanHello at %d of %d", at, len(b))
			}
			tlsSignature(b)
			for _, proto := range []string{"mysql", "ldap", "adb"} {
				u := &upHalf{proto: proto}
				rest := b
				for {
					n, ok := u.frame(rest)
					if !ok || n == 0 {
						break
					}
					if n > len(rest) {
						t.Fatalf("%s frame of %d bytes in %d", proto, n, len(rest))
					}
					u.message(rest[:n])
					rest = rest[n:]
				}
			}
		}
		var pre []chunk
		if dl := upDialogs[int(first)%len(upDialogs)]; first < 128 {
			pre = dl.steps[:1]
		}
		fc := newCapFile(t)
		fc.tcp(cliPort(82), mailIP+":3306", 0, append(pre[:len(pre):len(pre)], chunk{true, cli}, chunk{false, srv}), segOpts{mss: int(mss)%64 + 1})
		res, err := Read(bytes.NewReader(fc.encode(ethOnly)), "fuzz.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) > 1 {
			t.Fatalf("%d observations from one connection", len(res.Observations))
		}
	})
}

// TestUpgradeDoesNotHoldBack: a connection read as a binary upgrade
// protocol or scanned for a hello (an SSH session, a MySQL connection
// without TLS) that stays open does not hold back the observations of
// the connections after it: with Live, a later TLS connection is handed
// over while the file is still being read.
func TestUpgradeDoesNotHoldBack(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	for _, c := range []struct {
		name string
		open []chunk
	}{
		{"ssh", []chunk{{false, []byte("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")}, {true, []byte("SSH-2.0-OpenSSH_9.2p1\r\n\x00\x00\x05\xdc\x06\x14" + strings.Repeat("k", 64))}}},
		{"mysql", []chunk{{false, mysqlGreeting("8.0.36")}, {true, append([]byte{40, 0, 0, 1}, make([]byte, 40)...)}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newCapFile(t)
			f.tcp(cliPort(83), mailIP+":3306", 0, c.open, segOpts{})
			n := len(f.pkts)
			f.pkts = f.pkts[:n-4] // no FIN: the connection stays open
			f.tcp(cliPort(84), mailIP+":443", 0, conv, segOpts{})
			f.pause(5 * time.Second)
			f.tcp(cliPort(85), mailIP+":443", 0, conv, segOpts{})
			total := len(f.pkts)
			stop := errors.New("stop")
			res, err := Stream(bytes.NewReader(f.encode(ethOnly)), "open.pcap", Options{Live: true}, func(*record.Observation) error { return stop })
			if !errors.Is(err, stop) {
				t.Fatalf("error %v; want the first observation handed over", err)
			}
			if res.Stats.Packets >= int64(total) {
				t.Errorf("the first TLS observation came after all %d packets: held back by the open connection", total)
			}
		})
	}
}
