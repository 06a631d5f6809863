package capture

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
	"github.com/gopacket/gopacket/layers"
)

// wantTLS is what one TLS connection of a test capture must yield.
type wantTLS struct {
	sni     string // "" means no SNI
	version string
	vis     record.Visibility
	leafCN  string // when visible
	dnsName string // name attributed from DNS (no SNI)
	snaplen int
	resumed bool // ResumedFrom set
	// clientAlert is the TLS alert the client sent ("" for none).
	clientAlert string
}

// capCase is one committed test capture: how it is made, and what it holds.
type capCase struct {
	file   string // under testdata/
	keylog bool   // testdata/<file>.keylog is passed as the key log
	note   string // how it was made, for testdata/README.md
	build  func(t *testing.T, p *genPKI, kl *bytes.Buffer) (*capFile, fileSpec)
	tls    []wantTLS
	http   int
	dns    int
	report []string // text the text report must contain
}

const (
	cli1   = "192.0.2.10"
	mailIP = "192.0.2.25"
	dnsIP  = "192.0.2.53"
)

func cliPort(n int) string { return cli1 + ":" + strconv.Itoa(50000+n) }

func srvCfg(c tls.Certificate, maxv uint16) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12, MaxVersion: maxv}
}

func cliCfg(sni string, maxv uint16) *tls.Config {
	return &tls.Config{ServerName: sni, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: maxv}
}

var ethOnly = fileSpec{links: []link{linkEth}}

var capCases = []capCase{
	{
		file: "tls12-wrongname.pcap",
		note: "TLS 1.2; the client asks for autodiscover.contoso.test, the server's certificate names only mail.contoso.test. Ethernet, pcap (microseconds).",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp(cliPort(1), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, ethOnly
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
	},
	{
		file: "tls12-client-rejects.pcap",
		note: "TLS 1.2; a verifying Go client asks for autodiscover.contoso.test, gets a certificate for mail.contoso.test, and ends the handshake with a bad_certificate alert: the warning itself, on the wire.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			c := &tls.Config{ServerName: "autodiscover.contoso.test", RootCAs: p.roots(), MaxVersion: tls.VersionTLS12}
			f.tcp(cliPort(32), mailIP+":443", 0, tlsConvRejected(t, srvCfg(p.mailOnly, tls.VersionTLS12), c), segOpts{})
			return f, ethOnly
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test", clientAlert: "bad certificate"}},
	},
	{
		file: "tls13-client-rejects.pcapng", keylog: true,
		note: "TLS 1.3; a verifying Go client asks for autodiscover.contoso.test, gets a certificate for mail.contoso.test and rejects it with an alert that TLS 1.3 encrypts; the client's key log decrypts both the certificate and the alert.",
		build: func(t *testing.T, p *genPKI, kl *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			c := &tls.Config{ServerName: "autodiscover.contoso.test", RootCAs: p.roots(), MinVersion: tls.VersionTLS13, KeyLogWriter: kl}
			f.tcp(cliPort(33), mailIP+":443", 0, tlsConvRejected(t, srvCfg(p.mailOnly, tls.VersionTLS13), c), segOpts{})
			return f, fileSpec{ng: true, links: []link{linkEth}}
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisVisible, leafCN: "mail.contoso.test", clientAlert: "bad certificate"}},
	},
	{
		file: "tls12-sni-othername.pcap",
		note: "TLS 1.2; SNI mail.contoso.test, but the server presents its default certificate for exch01.corp.contoso.test.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp(cliPort(2), mailIP+":443", 0, tlsConv(t, srvCfg(p.defaultCert, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, ethOnly
		},
		tls: []wantTLS{{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "exch01.corp.contoso.test"}},
	},
	{
		file: "tls13-encrypted.pcap",
		note: "TLS 1.3 (Go client and server) without a key log: the certificate is encrypted.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp(cliPort(3), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS13), cliCfg("autodiscover.contoso.test", tls.VersionTLS13)), segOpts{})
			return f, ethOnly
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted}},
	},
	{
		file: "tls13-keylog-aes128.pcapng", keylog: true,
		note: "TLS 1.3, TLS_AES_128_GCM_SHA256 (Go client and server); the key log is the client's tls.Config.KeyLogWriter output. pcapng.",
		build: func(t *testing.T, p *genPKI, kl *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			c := cliCfg("autodiscover.contoso.test", tls.VersionTLS13)
			c.KeyLogWriter = kl
			f.tcp(cliPort(4), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS13), c), segOpts{})
			return f, fileSpec{ng: true, links: []link{linkEth}}
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
	},
	{
		file: "tls13-embedded-keylog.pcapng",
		note: "TLS 1.3, TLS_AES_128_GCM_SHA256 (Go client and server) with the client's key log (KeyLogWriter) embedded in the file as a pcapng Decryption Secrets Block (TLSK) after the interface block, as `editcap --inject-secrets tls,KEYLOG` writes it: decrypted with no --keylog. tshark 4.0 decrypts it too: `tshark -r tls13-embedded-keylog.pcapng -Y tls.handshake.type==11 -T fields -e x509ce.dNSName` prints mail.contoso.test (without the block it prints nothing).",
		build: func(t *testing.T, p *genPKI, kl *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			c := cliCfg("autodiscover.contoso.test", tls.VersionTLS13)
			c.KeyLogWriter = kl
			f.tcp(cliPort(4), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS13), c), segOpts{})
			return f, fileSpec{ng: true, links: []link{linkEth}, secrets: kl}
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
	},
	{
		file: "tls13-keylog-aes256.pcapng", keylog: true,
		note: "TLS 1.3, TLS_AES_256_GCM_SHA384: Go client (key log by KeyLogWriter) against openssl s_server -ciphersuites TLS_AES_256_GCM_SHA384.",
		build: func(t *testing.T, p *genPKI, kl *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			c := cliCfg("mail.contoso.test", tls.VersionTLS13)
			c.KeyLogWriter = kl
			f.tcp(cliPort(5), mailIP+":443", 0, opensslConv(t, p, "TLS_AES_256_GCM_SHA384", c), segOpts{})
			return f, fileSpec{ng: true, links: []link{linkEth}}
		},
		tls: []wantTLS{{sni: "mail.contoso.test", version: "TLS 1.3", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
	},
	{
		file: "tls13-keylog-chacha20.pcapng", keylog: true,
		note: "TLS 1.3, TLS_CHACHA20_POLY1305_SHA256: Go client (key log by KeyLogWriter) against openssl s_server -ciphersuites TLS_CHACHA20_POLY1305_SHA256.",
		build: func(t *testing.T, p *genPKI, kl *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			c := cliCfg("mail.contoso.test", tls.VersionTLS13)
			c.KeyLogWriter = kl
			f.tcp(cliPort(6), mailIP+":443", 0, opensslConv(t, p, "TLS_CHACHA20_POLY1305_SHA256", c), segOpts{})
			return f, fileSpec{ng: true, links: []link{linkEth}}
		},
		tls: []wantTLS{{sni: "mail.contoso.test", version: "TLS 1.3", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
	},
	{
		file: "tls13-hrr.pcapng", keylog: true,
		note: "TLS 1.3 with a HelloRetryRequest (the Go server accepts only P-256, the client's first key shares are X25519MLKEM768 and X25519), decrypted with the client's key log.",
		build: func(t *testing.T, p *genPKI, kl *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			c := cliCfg("autodiscover.contoso.test", tls.VersionTLS13)
			c.KeyLogWriter = kl
			s := srvCfg(p.mailOnly, tls.VersionTLS13)
			s.CurvePreferences = []tls.CurveID{tls.CurveP256}
			f.tcp(cliPort(31), mailIP+":443", 0, tlsConv(t, s, c), segOpts{})
			return f, fileSpec{ng: true, links: []link{linkEth}}
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
	},
	{
		file: "no-sni.pcap",
		note: "A DNS A lookup of mail.contoso.test, then a TLS 1.2 client that sends no SNI to that address (the name is attributed from DNS).",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.dns(cliPort(7), dnsIP+":53", 0, 0x1007, layers.DNSQuestion{Name: []byte("mail.contoso.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}, aRecord("mail.contoso.test", mailIP))
			f.tcp(cliPort(8), mailIP+":443", 0, tlsConv(t, srvCfg(p.defaultCert, tls.VersionTLS12), cliCfg("", tls.VersionTLS12)), segOpts{})
			return f, ethOnly
		},
		tls: []wantTLS{{version: "TLS 1.2", vis: record.VisVisible, leafCN: "exch01.corp.contoso.test", dnsName: "mail.contoso.test"}},
		dns: 1,
	},
	{
		file: "split-ooo.pcap",
		note: "TLS 1.2 with 90-byte segments: the handshake spans many segments, neighbours are swapped (out of order) and segments are retransmitted, some repacketized to overlap.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp(cliPort(9), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{mss: 90, reorder: true, retrans: true})
			return f, ethOnly
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
	},
	{
		file: "snaplen.pcap",
		note: "TLS 1.2 captured with a snap length of 400 bytes (tcpdump -s 400): the ClientHello fits, the server's certificate is cut off.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp(cliPort(10), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, fileSpec{links: []link{linkEth}, snaplen: 400}
		},
		tls:    []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisTruncated, snaplen: 400}},
		report: []string{"certificate not captured: packets cut at 400 bytes; capture with a larger snap length"},
	},
	{
		file: "vlan-qinq.pcap",
		note: "Two TLS 1.2 connections from a SPAN port: one with an 802.1Q tag (VLAN 100), one QinQ (802.1ad 200 outside 802.1Q 300).",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp(cliPort(11), mailIP+":443", 0, tlsConv(t, srvCfg(p.right, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12)), segOpts{})
			f.tcp(cliPort(12), mailIP+":443", 1, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, fileSpec{links: []link{{typ: layers.LinkTypeEthernet, vlan: []uint16{100}}, {typ: layers.LinkTypeEthernet, vlan: []uint16{200, 300}}}}
		},
		tls: []wantTLS{
			{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
			{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
		},
	},
	{
		file: "sll2.pcap",
		note: "TLS 1.2 as tcpdump -i any writes it with libpcap 1.10+: Linux cooked capture v2 (LINKTYPE_LINUX_SLL2).",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp(cliPort(13), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, fileSpec{links: []link{linkSLL2}}
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
	},
	{
		file: "ipv6.pcap",
		note: "IPv6: an AAAA lookup, then TLS 1.2 to [2001:db8::25]:443. pcap with nanosecond timestamps.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.dns("[2001:db8::10]:50014", "[2001:db8::53]:53", 0, 0x1014, layers.DNSQuestion{Name: []byte("autodiscover.contoso.test"), Type: layers.DNSTypeAAAA, Class: layers.DNSClassIN}, aRecord("autodiscover.contoso.test", "2001:db8::25"))
			f.tcp("[2001:db8::10]:50015", "[2001:db8::25]:443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, fileSpec{links: []link{linkEth}, nanos: true}
		},
		tls: []wantTLS{{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
		dns: 1,
	},
	{
		file: "two-ifaces.pcapng",
		note: "pcapng with two interfaces of different link types: Ethernet (a DNS lookup and a good TLS 1.2 connection) and Linux cooked SLL (a TLS 1.2 connection that gets the default certificate).",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.dns(cliPort(16), dnsIP+":53", 0, 0x1016, layers.DNSQuestion{Name: []byte("mail.contoso.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}, aRecord("mail.contoso.test", mailIP))
			f.tcp(cliPort(17), mailIP+":443", 0, tlsConv(t, srvCfg(p.right, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12)), segOpts{})
			f.tcp("198.51.100.7:50018", "198.51.100.25:443", 1, tlsConv(t, srvCfg(p.defaultCert, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, fileSpec{ng: true, links: []link{linkEth, linkSLL}}
		},
		tls: []wantTLS{
			{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
			{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "exch01.corp.contoso.test"},
		},
		dns: 1,
	},
	{
		file: "loopback.pcap.gz",
		note: "gzip-compressed pcap of BSD loopback (LINKTYPE_NULL, what macOS lo0 gives): TLS 1.2 whose certificate has the name only in the CN.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp("127.0.0.1:50019", "127.0.0.1:443", 0, tlsConv(t, srvCfg(p.cnOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, fileSpec{links: []link{linkNull}, gzip: true}
		},
		tls: []wantTLS{{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
	},
	{
		file: "http-302.pcap",
		note: "Plain HTTP (Go net/http client and server): GET http://autodiscover.contoso.test/autodiscover/autodiscover.xml answered 302 to https://mail.contoso.test/autodiscover/autodiscover.xml, then the TLS 1.2 connection that follows it.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp(cliPort(20), mailIP+":80", 0, httpConv(t, "autodiscover.contoso.test", "/autodiscover/autodiscover.xml", "https://mail.contoso.test/autodiscover/autodiscover.xml"), segOpts{})
			f.tcp(cliPort(21), mailIP+":443", 0, tlsConv(t, srvCfg(p.right, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, ethOnly
		},
		tls:  []wantTLS{{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
		http: 1,
	},
	{
		file: "dns-srv.pcap",
		note: "DNS SRV lookup of _autodiscover._tcp.contoso.test over UDP (answer: 0 0 443 mail.contoso.test), an A lookup over TCP, then TLS 1.2 to mail.contoso.test.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			srv := layers.DNSResourceRecord{Name: []byte("_autodiscover._tcp.contoso.test"), Type: layers.DNSTypeSRV, Class: layers.DNSClassIN, TTL: 3600,
				SRV: layers.DNSSRV{Priority: 0, Weight: 0, Port: 443, Name: []byte("mail.contoso.test")}}
			f.dns(cliPort(22), dnsIP+":53", 0, 0x1022, layers.DNSQuestion{Name: []byte("_autodiscover._tcp.contoso.test"), Type: layers.DNSTypeSRV, Class: layers.DNSClassIN}, srv)
			f.dnsTCP(cliPort(23), dnsIP+":53", 0, 0x1023, layers.DNSQuestion{Name: []byte("mail.contoso.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}, aRecord("mail.contoso.test", mailIP))
			f.tcp(cliPort(24), mailIP+":443", 0, tlsConv(t, srvCfg(p.right, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12)), segOpts{})
			return f, ethOnly
		},
		tls: []wantTLS{{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"}},
		dns: 2,
	},
	{
		file: "resumed.pcap",
		note: "Resumed sessions: two TLS 1.2 connections of one Go client with a session cache (a full handshake, then a resumed one: session ticket, no certificate sent), then the same in TLS 1.3 (the second resumes with a PSK).",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			c := cliCfg("autodiscover.contoso.test", tls.VersionTLS12)
			c.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			s := srvCfg(p.mailOnly, tls.VersionTLS12)
			f.tcp(cliPort(25), mailIP+":443", 0, tlsConv(t, s, c), segOpts{})
			f.tcp(cliPort(26), mailIP+":443", 0, tlsConv(t, s, c), segOpts{})
			c13 := cliCfg("mail.contoso.test", tls.VersionTLS13)
			c13.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			s13 := srvCfg(p.right, tls.VersionTLS13)
			f.tcp(cliPort(29), mailIP+":443", 0, tlsConv(t, s13, c13), segOpts{})
			f.tcp(cliPort(30), mailIP+":443", 0, tlsConv(t, s13, c13), segOpts{})
			return f, ethOnly
		},
		tls: []wantTLS{
			{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
			{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisResumed, resumed: true},
			{sni: "mail.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted},
			{sni: "mail.contoso.test", version: "TLS 1.3", vis: record.VisResumed, resumed: true},
		},
	},
	{
		file: "midconn.pcap",
		note: "A capture started mid-connection: the first connection's SYN, ClientHello and first server segment are missing (its handshake is not in the capture); the second lacks only the three-way handshake.",
		build: func(t *testing.T, p *genPKI, _ *bytes.Buffer) (*capFile, fileSpec) {
			f := newCapFile(t)
			f.tcp(cliPort(27), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{mss: 400, skip: 5})
			f.tcp(cliPort(28), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{noSYN: true})
			return f, ethOnly
		},
		tls: []wantTLS{
			{version: "", vis: record.VisMissing},
			{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
		},
	},
}

// readCase reads one committed test capture.
func readCase(t *testing.T, c capCase) (*Result, error) {
	t.Helper()
	var opts Options
	if c.keylog {
		kf, err := os.Open(filepath.Join("testdata", c.file+".keylog"))
		if err != nil {
			t.Fatal(err)
		}
		defer kf.Close()
		if opts.KeyLog, err = ReadKeyLog(kf); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(filepath.Join("testdata", c.file))
	if err != nil {
		t.Fatalf("%v (make it with go test ./capture -run TestGolden -regen)", err)
	}
	defer f.Close()
	return Read(f, c.file, opts)
}

func testRoots(t *testing.T) *x509.CertPool {
	t.Helper()
	pool, err := certs.LoadCertificates(filepath.Join("testdata", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	for _, c := range pool {
		p.AddCert(c)
	}
	return p
}

// TestGolden checks each committed test capture twice: the observations
// against the table above, and the text and JSON reports (the same
// analysis and renderer as certsleuth pcap, roots = testdata/ca.pem)
// against testdata/golden/. With -regen it first makes the captures anew.
func TestGolden(t *testing.T) {
	if *regen {
		*update = true
		generate(t)
	}
	roots := testRoots(t)
	for _, c := range capCases {
		t.Run(c.file, func(t *testing.T) {
			res, err := readCase(t, c)
			if err != nil {
				t.Fatal(err)
			}
			checkCase(t, c, res)
			rep := analysis.Analyze(res.Observations, analysis.Options{Roots: roots, Cache: &certs.Cache{}})
			rep.Problems = append(rep.Problems, res.Problems...)
			checkReports(t, rep, c.file, c.report)
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./capture -run TestGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (if the change is intended, run go test ./capture -run TestGolden -update):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func checkCase(t *testing.T, c capCase, res *Result) {
	t.Helper()
	var tlsObs []*record.Observation
	var nHTTP, nDNS int
	for _, o := range res.Observations {
		switch o.Kind {
		case record.KindTLS:
			tlsObs = append(tlsObs, o)
		case record.KindHTTP:
			nHTTP++
		case record.KindDNS:
			nDNS++
		}
		if _, err := netip.ParseAddrPort(o.Client); err != nil {
			t.Errorf("client %q is not ip:port: %v", o.Client, err)
		}
		if _, err := netip.ParseAddrPort(o.Server); err != nil {
			t.Errorf("server %q is not ip:port: %v", o.Server, err)
		}
	}
	if len(tlsObs) != len(c.tls) || nHTTP != c.http || nDNS != c.dns {
		t.Fatalf("%d TLS, %d HTTP, %d DNS observations; want %d, %d, %d", len(tlsObs), nHTTP, nDNS, len(c.tls), c.http, c.dns)
	}
	for i, w := range c.tls {
		o := tlsObs[i]
		if o.SNI != w.sni || o.NoSNI != (w.sni == "" && w.vis != record.VisMissing) {
			t.Errorf("TLS %d: SNI %q (no_sni %v), want %q", i, o.SNI, o.NoSNI, w.sni)
		}
		if o.TLSVersion != w.version || o.Visibility != w.vis {
			t.Errorf("TLS %d: %q %q (note %q), want %q %q", i, o.TLSVersion, o.Visibility, o.Note, w.version, w.vis)
		}
		if w.leafCN != "" {
			if len(o.Chain) == 0 {
				t.Errorf("TLS %d: no chain", i)
			} else if leaf, err := x509.ParseCertificate(o.Chain[0]); err != nil || leaf.Subject.CommonName != w.leafCN {
				t.Errorf("TLS %d: leaf %v (err %v), want CN %q", i, leaf.Subject.CommonName, err, w.leafCN)
			}
		} else if len(o.Chain) > 0 {
			t.Errorf("TLS %d: unexpected chain of %d", i, len(o.Chain))
		}
		if o.DNSName != w.dnsName {
			t.Errorf("TLS %d: name from DNS %q, want %q", i, o.DNSName, w.dnsName)
		}
		if o.Snaplen != w.snaplen {
			t.Errorf("TLS %d: snaplen %d, want %d", i, o.Snaplen, w.snaplen)
		}
		if o.ClientAlert != w.clientAlert {
			t.Errorf("TLS %d: client alert %q, want %q", i, o.ClientAlert, w.clientAlert)
		}
		if (o.ResumedFrom != "") != w.resumed {
			t.Errorf("TLS %d: resumed from %q, want resumed %v", i, o.ResumedFrom, w.resumed)
		}
	}
}

// generate makes every test capture anew from real connections.
func generate(t *testing.T) {
	p := newGenPKI(t)
	os.MkdirAll("testdata", 0o755)
	testcert.WritePEM(t, filepath.Join("testdata", "ca.pem"), p.ca.Cert.Raw)
	var notes strings.Builder
	notes.WriteString(readmeHead)
	for _, c := range capCases {
		var kl bytes.Buffer
		f, spec := c.build(t, p, &kl)
		f.write(filepath.Join("testdata", c.file), spec)
		if c.keylog {
			if err := os.WriteFile(filepath.Join("testdata", c.file+".keylog"), kl.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		notes.WriteString("- `" + c.file + "`")
		if c.keylog {
			notes.WriteString(" (+ `" + c.file + ".keylog`)")
		}
		notes.WriteString(": " + c.note + "\n")
	}
	notes.WriteString(startTLSReadme)
	notes.WriteString(encapReadme)
	if err := os.WriteFile(filepath.Join("testdata", "README.md"), []byte(notes.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const readmeHead = `# Test captures

Made by ` + "`go test ./capture -run TestGolden -regen`" + ` (see gen_test.go): every TLS
and HTTP conversation is a real connection on 127.0.0.1 between Go clients and
servers (openssl s_server for the AES-256 and ChaCha20 cipher suites), whose
bytes are recorded as each side writes them and then written as TCP segments
between documentation addresses (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32)
with fixed timestamps. DNS messages are built with gopacket's layers.DNS.
Certificates come from the test CA in ca.pem (fixed validity dates). The key
logs are the Go client's tls.Config.KeyLogWriter output (NSS format). The
reports certsleuth makes of each file are in golden/ (text and JSON;
` + "`go test ./capture -run TestGolden -update`" + ` rewrites them after a renderer change).

`

// checkReports renders rep as text and JSON, compares each with its golden
// file testdata/golden/FILE.FORMAT, and checks that the text report says
// each of says (white space folded).
func checkReports(t *testing.T, rep *analysis.Report, file string, says []string) {
	t.Helper()
	for _, format := range []string{"text", "json"} {
		var out bytes.Buffer
		if err := report.Render(&out, rep, format, report.RenderOptions{Title: file, Width: 100}); err != nil {
			t.Fatal(err)
		}
		if format == "text" {
			flat := strings.Join(strings.Fields(out.String()), " ")
			for _, s := range says {
				if !strings.Contains(flat, s) {
					t.Errorf("the text report does not say %q:\n%s", s, out.String())
				}
			}
		}
		golden(t, filepath.Join("testdata", "golden", file+"."+format), out.Bytes())
	}
}
