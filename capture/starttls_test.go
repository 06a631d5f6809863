package capture

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
)

// mailDialog is one STARTTLS protocol's plain-text part: the server's
// greeting, and per client command the server's reply.
type mailDialog struct {
	proto    string
	port     int
	greeting string
	// steps are (client line, server reply) pairs; the last client line
	// starts TLS when the reply to it is positive.
	steps [][2]string
}

var mailDialogs = []mailDialog{
	{"smtp", 587, "220 exch01.contoso.test Microsoft ESMTP MAIL Service ready at Fri, 20 Nov 2026 09:00:00 +0000\r\n", [][2]string{
		{"EHLO laptop", "250-exch01.contoso.test Hello [192.0.2.10]\r\n250-SIZE 37748736\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 CHUNKING\r\n"},
		{"STARTTLS", "220 2.0.0 SMTP server ready\r\n"},
	}},
	{"imap", 143, "* OK The Microsoft Exchange IMAP4 service is ready.\r\n", [][2]string{
		{"a1 CAPABILITY", "* CAPABILITY IMAP4 IMAP4rev1 LOGINDISABLED STARTTLS SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+\r\na1 OK CAPABILITY completed.\r\n"},
		{"a2 STARTTLS", "a2 OK Begin TLS negotiation now.\r\n"},
	}},
	{"pop3", 110, "+OK The Microsoft Exchange POP3 service is ready.\r\n", [][2]string{
		{"CAPA", "+OK\r\nTOP\r\nUIDL\r\nSASL NTLM GSSAPI PLAIN\r\nSTLS\r\nUSER\r\n.\r\n"},
		{"STLS", "+OK Begin TLS negotiation.\r\n"},
	}},
	{"ftp", 21, "220 Microsoft FTP Service\r\n", [][2]string{
		{"AUTH TLS", "234 AUTH command ok. Expecting TLS Negotiation.\r\n"},
	}},
	// IRCv3 tls extension (https://ircv3.net/specs/deprecated/tls): a bare
	// STARTTLS, answered by the numeric 670 RPL_STARTTLS (as in Zeek's
	// irc-starttls.pcap, from irc.joulunet.org).
	{"irc", 6667, ":irc.contoso.test NOTICE * :*** Looking up your hostname...\r\n", [][2]string{
		{"STARTTLS", ":irc.contoso.test 670 * :STARTTLS successful, go ahead with TLS handshake\r\n"},
	}},
	// XMPP (RFC 6120 §5.4, example 9.1): the client's stream header, the
	// server's with features offering starttls, <starttls/>, <proceed/>;
	// TLS begins right after the '>' of <proceed/>.
	{"xmpp", 5222, "", [][2]string{
		{"<?xml version='1.0'?><stream:stream to='mail.contoso.test' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
			"<?xml version='1.0'?><stream:stream from='mail.contoso.test' id='t7AMCin9zjMNwQKDnplntZPIDEI=' to='juliet@contoso.test' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" +
				"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"},
		{"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"},
	}},
}

// mailRefusal is the server's answer to STARTTLS when startTLSConv refuses.
const mailRefusal = "454 4.7.0 TLS not available due to local problem\r\n"

// serveOnce accepts one connection on 127.0.0.1 and runs serve on it
// (its writes recorded in rec, 10 s deadline), and dials it for the
// client: it returns the client's connection (its writes recorded too)
// and serve's result.
func serveOnce(t *testing.T, rec *recorder, serve func(c net.Conn, rc io.Writer) error) (client net.Conn, rc *recConn, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			ch <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		ch <- serve(c, &recConn{c, rec, false})
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, &recConn{c, rec, true}, ch
}

// startTLSConv runs one real plain-text-then-TLS conversation on
// 127.0.0.1: the dialog's lines, then a TLS handshake on the same
// connection. With refuse, the server answers the last command 454 and no
// TLS follows.
func startTLSConv(t *testing.T, dl mailDialog, srv, cli *tls.Config, refuse bool) []chunk {
	t.Helper()
	rec := &recorder{}
	c, rc, done := serveOnce(t, rec, func(c net.Conn, w io.Writer) error {
		br := bufio.NewReader(c)
		io.WriteString(w, dl.greeting)
		for i, st := range dl.steps {
			if _, err := br.ReadString('\n'); err != nil {
				return err
			}
			if refuse && i == len(dl.steps)-1 {
				io.WriteString(w, mailRefusal)
				return nil
			}
			io.WriteString(w, st[1])
		}
		tc := tls.Server(w.(net.Conn), srv)
		if err := tc.Handshake(); err != nil {
			return err
		}
		io.WriteString(tc, "after TLS\r\n")
		return tc.Close()
	})
	br := bufio.NewReader(c)
	readReply := func(want string) {
		// Exactly the server's bytes: XMPP's <proceed/> ends with no newline.
		if _, err := io.ReadFull(br, make([]byte, len(want))); err != nil {
			t.Fatalf("%s client: %v", dl.proto, err)
		}
	}
	readReply(dl.greeting)
	for i, st := range dl.steps {
		io.WriteString(rc, st[0]+"\r\n")
		if refuse && i == len(dl.steps)-1 {
			readReply(mailRefusal)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			return rec.chunks
		}
		readReply(st[1])
	}
	tc := tls.Client(rc, cli)
	if err := tc.Handshake(); err != nil {
		t.Fatalf("%s client: TLS: %v", dl.proto, err)
	}
	io.ReadAll(tc)
	if err := <-done; err != nil {
		t.Fatalf("%s server: %v", dl.proto, err)
	}
	return rec.chunks
}

// smtpGoConv is SMTP STARTTLS with Go's own net/smtp client against the
// dialog's server side.
func smtpGoConv(t *testing.T, srv *tls.Config, cli *tls.Config) []chunk {
	t.Helper()
	rec := &recorder{}
	_, rc, done := serveOnce(t, rec, func(c net.Conn, w io.Writer) error {
		br := bufio.NewReader(c)
		io.WriteString(w, mailDialogs[0].greeting)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return err
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(l)); {
			case strings.HasPrefix(cmd, "EHLO"):
				io.WriteString(w, mailDialogs[0].steps[0][1])
			case cmd == "STARTTLS":
				io.WriteString(w, "220 2.0.0 SMTP server ready\r\n")
				tc := tls.Server(w.(net.Conn), srv)
				if err := tc.Handshake(); err != nil {
					return err
				}
				// net/smtp says EHLO again over TLS, then QUIT.
				tr := bufio.NewReader(tc)
				for {
					l, err := tr.ReadString('\n')
					if err != nil {
						return err
					}
					if strings.HasPrefix(strings.ToUpper(l), "QUIT") {
						io.WriteString(tc, "221 2.0.0 Service closing transmission channel\r\n")
						return tc.Close()
					}
					io.WriteString(tc, "250 exch01.contoso.test Hello\r\n")
				}
			default:
				io.WriteString(w, "500 unrecognized command\r\n")
			}
		}
	})
	sc, err := smtp.NewClient(rc, cli.ServerName)
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.StartTLS(cli); err != nil {
		t.Fatalf("net/smtp StartTLS: %v (server: %v)", err, <-done)
	}
	if err := sc.Quit(); err != nil {
		t.Fatalf("net/smtp QUIT: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("SMTP server: %v", err)
	}
	return rec.chunks
}

// readConvs writes the conversations as one capture and reads it back.
func readConvs(t *testing.T, kl *bytes.Buffer, convs ...func(f *capFile)) *Result {
	t.Helper()
	f := newCapFile(t)
	for _, c := range convs {
		c(f)
	}
	in := bytes.NewReader(f.encode(ethOnly))
	var opts Options
	var err error
	if kl != nil {
		if opts.KeyLog, err = ReadKeyLog(bytes.NewReader(kl.Bytes())); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Read(in, "starttls.pcap", opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestStartTLS reads real SMTP, IMAP, POP3 and FTP conversations that turn
// to TLS on a command, whole and cut into 7-byte segments (text lines and
// TLS record headers split across packets), in TLS 1.2 and in TLS 1.3
// with the client's key log: each gives a TLS observation with the
// protocol, the SNI and the server's certificate.
func TestStartTLS(t *testing.T) {
	p := newGenPKI(t)
	for _, dl := range mailDialogs {
		for _, mss := range []int{0, 7} {
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				t.Run(fmt.Sprintf("%s/mss%d/%x", dl.proto, mss, v), func(t *testing.T) {
					var kl bytes.Buffer
					cli := cliCfg("mail.contoso.test", v)
					cli.KeyLogWriter = &kl
					conv := startTLSConv(t, dl, srvCfg(p.defaultCert, v), cli, false)
					res := readConvs(t, &kl, func(f *capFile) {
						f.tcp(cliPort(40), fmt.Sprintf("%s:%d", mailIP, dl.port), 0, conv, segOpts{mss: mss})
					})
					if len(res.Observations) != 1 {
						t.Fatalf("%d observations, want 1: %+v", len(res.Observations), res.Observations)
					}
					o := res.Observations[0]
					if o.Kind != record.KindTLS || o.StartTLS != dl.proto || o.SNI != "mail.contoso.test" || o.Visibility != record.VisVisible || len(o.Chain) == 0 {
						t.Fatalf("got kind %s starttls %q sni %q visibility %s chain %d; want tls %s mail.contoso.test visible", o.Kind, o.StartTLS, o.SNI, o.Visibility, len(o.Chain), dl.proto)
					}
					leaf, err := x509.ParseCertificate(o.Chain[0])
					if err != nil || leaf.Subject.CommonName != "exch01.corp.contoso.test" {
						t.Fatalf("leaf %v, %v; want exch01.corp.contoso.test", leaf, err)
					}
					if o.Client != cliPort(40) || o.Server != fmt.Sprintf("%s:%d", mailIP, dl.port) {
						t.Errorf("client %s server %s", o.Client, o.Server)
					}
					greet := strings.TrimSpace(strings.SplitN(dl.greeting, "\r\n", 2)[0])
					if dl.proto == "xmpp" {
						greet = "<stream:stream from='mail.contoso.test'>; the client's XMPP stream is to mail.contoso.test"
					}
					if !strings.Contains(o.Note, "the server greeted: ") || !strings.Contains(greet, strings.TrimPrefix(o.Note, "the server greeted: ")[:10]) {
						t.Errorf("note %q does not give the greeting %q", o.Note, greet)
					}
				})
			}
		}
	}
}

// TestStartTLSRefused: a server that answers STARTTLS with 454 leaves a
// plain-text connection: no TLS observation (there is no certificate).
func TestStartTLSRefused(t *testing.T) {
	p := newGenPKI(t)
	conv := startTLSConv(t, mailDialogs[0], srvCfg(p.right, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12), true)
	res := readConvs(t, nil, func(f *capFile) { f.tcp(cliPort(41), mailIP+":587", 0, conv, segOpts{}) })
	if len(res.Observations) != 0 {
		t.Fatalf("%d observations, want none: %+v", len(res.Observations), res.Observations[0])
	}
}

// TestStartTLSReport: Go's net/smtp client sends mail through
// smtp.contoso.test:587, whose certificate names only mail.contoso.test;
// the report names that connection as SMTP STARTTLS and the client that
// would warn.
func TestStartTLSReport(t *testing.T) {
	p := newGenPKI(t)
	conv := smtpGoConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("smtp.contoso.test", tls.VersionTLS12))
	res := readConvs(t, nil, func(f *capFile) { f.tcp(cliPort(42), mailIP+":587", 0, conv, segOpts{}) })
	if len(res.Observations) != 1 || res.Observations[0].StartTLS != "smtp" || res.Observations[0].SNI != "smtp.contoso.test" {
		t.Fatalf("observations %+v; want one SMTP STARTTLS connection to smtp.contoso.test", res.Observations)
	}
	rep := analysis.Analyze(res.Observations, analysis.Options{Roots: p.roots(), Cache: &certs.Cache{}})
	var out bytes.Buffer
	if err := report.Render(&out, rep, "text", report.RenderOptions{Title: "starttls.pcap", Width: 100}); err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"1 of 1 requests would make a client warn",
		"TLS 1.2 smtp.contoso.test at 192.0.2.25:587 (SMTP STARTTLS)",
		"in the mail account's settings, change the SMTP server from smtp.contoso.test to mail.contoso.test (a name the certificate covers)",
		`Enable-ExchangeCertificate -Server <SERVER> -Thumbprint <thumbprint of a certificate that covers smtp.contoso.test> -Services SMTP; Set-ReceiveConnector "<SERVER>\Client Frontend <SERVER>" -Fqdn smtp.contoso.test`,
		"certificate is valid for mail.contoso.test, not smtp.contoso.test",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the report does not say %q:\n%s", want, out.String())
		}
	}
}

// TestLooksMail is the table of first bytes that start a STARTTLS
// protocol, and of those that do not.
func TestLooksMail(t *testing.T) {
	for _, c := range []struct {
		in    string
		mail  bool
		proto string
		more  bool
	}{
		{"220 exch01.contoso.test ESMTP", true, "smtp", false},
		{"220-first line", true, "smtp", false},
		{"ehlo laptop\r\n", true, "smtp", false},
		{"STARTTLS\r\n", true, "", false}, // SMTP after EHLO, or IRC: the conversation tells
		{"* OK IMAP4 ready", true, "imap", false},
		{"a001 capability\r\n", true, "imap", false},
		{"A1 STARTTLS\r\n", true, "imap", false},
		{"+OK POP3 ready", true, "pop3", false},
		{"STLS\r\n", true, "pop3", false},
		{"AUTH TLS\r\n", true, "ftp", false},
		{"CAP LS 302\r\n", true, "irc", false},
		{":irc.example.net NOTICE * :*** Looking up your hostname", true, "", false},
		{"<stream:stream xmlns='jabber:client'", true, "xmpp", false},
		{"<?xml version='1.0'?>", true, "", false},
		{"22", false, "", true},
		{"EH", false, "", true},
		{"* O", false, "", true},
		{":", false, "", true},
		{"<st", false, "", true},
		{"SSH-2.0-OpenSSH_9.6\r\n", false, "", false},
		{"\x00\x01binary", false, "", false},
		{"(x) CAPABILITY", false, "", false},
		{": not irc", false, "", false},
		{"<html><head><title>", false, "", false},
	} {
		mail, proto, more := looksMail([]byte(c.in))
		if mail != c.mail || proto != c.proto || more != c.more {
			t.Errorf("looksMail(%q) = %v, %q, %v; want %v, %q, %v", c.in, mail, proto, more, c.mail, c.proto, c.more)
		}
	}
}

// TestStartTLSNot: a STARTTLS whose TLS comes mid-line gives no TLS
// observation; a bare STARTTLS answered by an SMTP server is SMTP, by an
// IRC server IRC. An XML stream that never sent XMPP's <starttls/> or
// <proceed/>, or a server that said <failure/>, does not turn to TLS as
// XMPP, but a ClientHello or ServerHello after it is still read (the scan
// for a hello, upgrade.go: a certificate in clear is never left unjudged),
// with a note that TLS started mid-stream.
func TestStartTLSNot(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	withText := func(cli, srv string) []chunk {
		return append([]chunk{{true, []byte(cli)}, {false, []byte(srv)}}, conv...)
	}
	for _, c := range []struct {
		name     string
		conv     []chunk
		starttls string // "" no TLS observation
	}{
		{"xml-without-starttls", withText("<stream:stream to='mail.contoso.test'>", "<stream:stream from='mail.contoso.test'>"), "xmpp mid-stream"},
		// The server said <failure/>, not <proceed/>: its bytes are not
		// read as XMPP's TLS, but its ServerHello is found by the scan.
		{"xmpp-failure", withText("<stream:stream to='mail.contoso.test'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "<stream:stream from='mail.contoso.test'><failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"), "xmpp mid-stream"},
		{"xmpp-other-namespace", withText("<stream:stream to='a'><starttls xmlns='urn:example:other'/>", "<stream:stream from='a'><proceed xmlns='urn:example:other'/>"), "xmpp mid-stream"},
		{"tls-mid-line", withText("STARTTLS", "220 go ahead"), ""},
		{"xmpp", withText("<stream:stream to='mail.contoso.test'><starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>", "<stream:stream from='mail.contoso.test'><proceed xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>"), "xmpp"},
		{"bare-starttls-smtp", append([]chunk{{false, []byte("220 mail.contoso.test ESMTP\r\n")}, {true, []byte("STARTTLS\r\n")}, {false, []byte("220 2.0.0 Ready\r\n")}}, conv...), "smtp"},
		{"bare-starttls-irc", withText("STARTTLS\r\n", ":irc.contoso.test 670 * :STARTTLS successful\r\n"), "irc"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := readConvs(t, nil, func(f *capFile) { f.tcp(cliPort(63), mailIP+":5222", 0, c.conv, segOpts{mss: 5}) })
			got := "none"
			for _, o := range res.Observations {
				if o.Kind == record.KindTLS {
					got = o.StartTLS
					if len(o.Chain) == 0 {
						got += " client-only"
					}
					if strings.Contains(o.Note, "TLS started mid-stream after") {
						got += " mid-stream"
					}
				}
			}
			if want := c.starttls; (want == "" && got != "none") || (want != "" && got != want) {
				t.Fatalf("got %s, want %q (none if empty): %+v", got, want, res.Observations)
			}
		})
	}
}

// FuzzStartTLS feeds arbitrary client and server bytes, after a real
// SMTP STARTTLS greeting, through the reader as one TCP connection cut
// into segments: no panic, at most one observation.
func FuzzStartTLS(f *testing.F) {
	f.Add([]byte("EHLO x\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05hello"), []byte("250 ok\r\n220 go\r\n\x16\x03\x03\x00\x02hi"), uint8(7))
	f.Add([]byte("a1 STARTTLS\r\n\x16\x03"), []byte("* OK\r\na1 OK\r\n\x16"), uint8(1))
	f.Add([]byte("STLS\r\n"), []byte("+OK\r\n"+strings.Repeat("x", 70000)), uint8(200))
	f.Add([]byte("<stream:stream to='a'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\x16\x03\x01\x00\x05hello"), []byte("<stream:stream from='a'><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\x16\x03\x03\x00\x02hi"), uint8(5))
	f.Add([]byte("STARTTLS\r\n\x16\x03\x01\x00\x05hello"), []byte(":irc.x 670 * :go ahead\r\n\x16\x03\x03\x00\x02hi"), uint8(9))
	f.Fuzz(func(t *testing.T, cli, srv []byte, mss uint8) {
		fc := newCapFile(t)
		fc.tcp(cliPort(43), mailIP+":587", 0, []chunk{{false, []byte("220 mail ESMTP\r\n")}, {true, cli}, {false, srv}}, segOpts{mss: int(mss)%64 + 1})
		res, err := Read(bytes.NewReader(fc.encode(ethOnly)), "fuzz.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) > 1 {
			t.Fatalf("%d observations from one connection", len(res.Observations))
		}
	})
}

var regenStartTLS = flag.Bool("regen-starttls", false, "remake testdata/starttls.pcap and testdata/starttls-ca.pem from real conversations on 127.0.0.1")

// TestStartTLSFile checks the committed STARTTLS capture, which the CLI
// tests read (cmd/certsleuth/testdata/script/pcap_starttls.txtar): Go's
// net/smtp client through smtp.contoso.test:587 to a server whose
// certificate names mail.contoso.test; an IMAP client to mail.contoso.test
// that gets the right certificate; a POP3 client (STLS) to
// mail.contoso.test that gets the server's default certificate for
// exch01.corp.contoso.test; an SMTP server that refuses STARTTLS. Its CA
// is starttls-ca.pem (a CA of its own: the other captures' CA key is not
// kept). Make it anew with -regen-starttls.
func TestStartTLSFile(t *testing.T) {
	path := filepath.Join("testdata", "starttls.pcap")
	if *regenStartTLS {
		p := newGenPKI(t)
		smtpWrong := smtpGoConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("smtp.contoso.test", tls.VersionTLS12))
		imapRight := startTLSConv(t, mailDialogs[1], srvCfg(p.right, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12), false)
		popDefault := startTLSConv(t, mailDialogs[2], srvCfg(p.defaultCert, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12), false)
		refused := startTLSConv(t, mailDialogs[0], srvCfg(p.right, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12), true)
		f := newCapFile(t)
		f.tcp(cliPort(50), mailIP+":587", 0, smtpWrong, segOpts{})
		f.tcp(cliPort(51), mailIP+":143", 0, imapRight, segOpts{mss: 100})
		f.tcp(cliPort(52), mailIP+":110", 0, popDefault, segOpts{})
		f.tcp(cliPort(53), mailIP+":25", 0, refused, segOpts{})
		f.write(path, ethOnly)
		testcert.WritePEM(t, filepath.Join("testdata", "starttls-ca.pem"), p.ca.Cert.Raw)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (make it with go test ./capture -run TestStartTLSFile -regen-starttls)", err)
	}
	defer in.Close()
	res, err := Read(in, "starttls.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ proto, sni, leafCN, server string }
	wants := []want{
		{"smtp", "smtp.contoso.test", "mail.contoso.test", mailIP + ":587"},
		{"imap", "mail.contoso.test", "mail.contoso.test", mailIP + ":143"},
		{"pop3", "mail.contoso.test", "exch01.corp.contoso.test", mailIP + ":110"},
	}
	if len(res.Observations) != len(wants) {
		t.Fatalf("%d observations, want %d (the refused STARTTLS gives none)", len(res.Observations), len(wants))
	}
	for i, w := range wants {
		o := res.Observations[i]
		if o.StartTLS != w.proto || o.SNI != w.sni || o.Server != w.server || len(o.Chain) == 0 {
			t.Fatalf("observation %d: starttls %q sni %q server %s chain %d; want %+v", i, o.StartTLS, o.SNI, o.Server, len(o.Chain), w)
		}
		leaf, err := x509.ParseCertificate(o.Chain[0])
		if err != nil || leaf.Subject.CommonName != w.leafCN {
			t.Errorf("observation %d: leaf %v (%v), want %s", i, leaf.Subject, err, w.leafCN)
		}
	}
}

// startTLSReadme is starttls.pcap's line in testdata/README.md (generate
// writes the README anew from capCases and this).
const startTLSReadme = "- `starttls.pcap` (+ `starttls-ca.pem`, its own CA): made by `go test ./capture -run TestStartTLSFile -regen-starttls` (starttls_test.go), not by -regen: Go's net/smtp client through smtp.contoso.test:587 with STARTTLS gets a certificate for mail.contoso.test; an IMAP client (a2 STARTTLS, 100-byte segments) to mail.contoso.test gets the right certificate; a POP3 client (STLS) to mail.contoso.test gets the default certificate for exch01.corp.contoso.test; an SMTP server on port 25 answers STARTTLS with 454 (no TLS). The servers are small Go servers speaking the Exchange greetings.\n"

// TestStartTLSFTPReport: an FTP client (AUTH TLS) gets its own words, not
// the mail account's, and no Exchange command.
func TestStartTLSFTPReport(t *testing.T) {
	p := newGenPKI(t)
	conv := startTLSConv(t, mailDialogs[3], srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("ftp.contoso.test", tls.VersionTLS12), false)
	res := readConvs(t, nil, func(f *capFile) { f.tcp(cliPort(45), mailIP+":21", 0, conv, segOpts{}) })
	rep := analysis.Analyze(res.Observations, analysis.Options{Roots: p.roots(), Cache: &certs.Cache{}})
	var out bytes.Buffer
	if err := report.Render(&out, rep, "text", report.RenderOptions{Title: "ftp.pcap", Width: 1000}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(FTP STARTTLS)", "in the FTP client's settings, change the FTP server from ftp.contoso.test to mail.contoso.test"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Enable-ExchangeCertificate") {
		t.Errorf("an Exchange command for FTP:\n%s", out.String())
	}
}
