package capture

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
)

// realCase is one capture of real software: in testdata/real (made by
// testdata/real/make.sh, which README.md there describes) or testdata/public
// (other projects' test captures, see README.md there), with what its TLS
// connections must yield. file is relative to testdata/.
type realCase struct {
	file   string
	keylog bool // testdata/<file>.keylog is passed as the key log
	tls    []wantReal
	// report is text the text report must contain.
	report []string
	// findings are check IDs that must fire on some connection.
	findings []string
}

// wantReal is what one TLS connection of a real capture must yield,
// beyond what wantTLS checks.
type wantReal struct {
	wantTLS
	leafNames []string // the leaf's DNS names, when visible
	connect   string
	proxy     bool // Proxy is the server end
	warnings  []string
	ech       bool
	clientReq bool   // the server asked for a client certificate
	client    string // the client certificate's subject
	note      string // text the note must contain
	errText   string // text the error must contain
}

var realCases = []realCase{
	{
		file: "real/frag-records.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
			leafNames: []string{"mail.contoso.test", "autodiscover.contoso.test"}}},
	},
	{
		file: "real/big-certificate.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test", clientAlert: "illegal parameter"},
			leafNames: []string{"mail.contoso.test"}}},
		findings: []string{"cert.list-too-long"},
		// curl refused this list: the verdict gives each client its own reason.
		report: []string{"Apple warns on mail.contoso.test: the certificate is valid for 3650 days", "each of OpenSSL, curl and Python warns too: the server's certificate list is 116289 bytes"},
	},
	{
		file: "real/connect-squid.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
			leafNames: []string{"mail.contoso.test"}, connect: "autodiscover.contoso.test:18445", proxy: true}},
		report: []string{"CONNECT autodiscover.contoso.test:18445", "certificate is valid for mail.contoso.test, not autodiscover.contoso.test"},
	},
	{
		// Dante: SOCKS 5 with the name, SOCKS 5 with the address, SOCKS 4a
		// (Dante refuses it: no TLS, no observation), SOCKS 4.
		file: "real/socks-dante.pcap",
		tls: []wantReal{
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
				leafNames: []string{"mail.contoso.test"}, connect: "autodiscover.contoso.test:18446", proxy: true, note: "TLS through a SOCKS 5 proxy"},
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
				leafNames: []string{"mail.contoso.test"}, connect: "127.0.0.1:18446", proxy: true, note: "TLS through a SOCKS 5 proxy"},
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
				leafNames: []string{"mail.contoso.test"}, connect: "127.0.0.1:18446", proxy: true, note: "TLS through a SOCKS 4 proxy"},
		},
		report: []string{"CONNECT autodiscover.contoso.test:18446", "certificate is valid for mail.contoso.test, not autodiscover.contoso.test"},
	},
	{
		// OpenSSH's ssh -D: SOCKS 4a and SOCKS 5, both with the name.
		file: "real/socks-ssh.pcap",
		tls: []wantReal{
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
				leafNames: []string{"mail.contoso.test"}, connect: "autodiscover.contoso.test:18447", proxy: true, note: "TLS through a SOCKS 4a proxy"},
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
				leafNames: []string{"mail.contoso.test"}, connect: "autodiscover.contoso.test:18447", proxy: true, note: "TLS through a SOCKS 5 proxy"},
		},
		report: []string{"certificate is valid for mail.contoso.test, not autodiscover.contoso.test"},
	},
	{
		file: "real/client-cert.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
			leafNames: []string{"mail.contoso.test"}, clientReq: true, client: "CN=user@contoso.test"}},
		findings: []string{"tls.client-cert"},
	},
	{
		file: "real/chromium-ech-grease.pcap", keylog: true,
		tls: []wantReal{
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisVisible, leafCN: "mail.contoso.test"}, leafNames: []string{"mail.contoso.test"}, ech: true},
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisVisible, leafCN: "mail.contoso.test"}, leafNames: []string{"mail.contoso.test"}, ech: true},
		},
		report:   []string{"certificate is valid for mail.contoso.test, not autodiscover.contoso.test"},
		findings: []string{"tls.ech"},
	},
	{
		file: "real/tfo.pcap",
		tls: []wantReal{
			{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"}, leafNames: []string{"mail.contoso.test"}},
			{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"}, leafNames: []string{"mail.contoso.test"}},
		},
	},
	{
		file: "real/tls13-closes.pcap",
		tls: []wantReal{
			{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted}}, // curl, with a request
			{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted}}, // openssl s_client, nothing to send
			// Python's unwrap() sends close_notify at once, before the
			// server's NewSessionTicket: it looks like curl refusing
			// (docs/capture.md says so).
			{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted, clientAlert: record.AlertEncryptedAfter}},
			{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted}, ech: true}, // Chromium
			{wantTLS: wantTLS{sni: "mail.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted}, ech: true}, // Chromium's second connection
			// curl refuses after the handshake; on loopback the server's
			// NewSessionTicket (0.2 ms) beat its alert (1.3 ms), so it
			// counts as a close (docs/capture.md).
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted}},
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted, clientAlert: "bad certificate"}},                // openssl s_client -verify_return_error
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted, clientAlert: "bad certificate"}},                // Python
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted, clientAlert: record.AlertEncrypted}, ech: true}, // Chromium
			{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.3", vis: record.VisEncrypted, clientAlert: record.AlertEncrypted}, ech: true},
		},
	},
	{
		file: "real/warning-alert.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "autodiscover.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "exch01.corp.contoso.test"},
			leafNames: []string{"exch01.corp.contoso.test"}, warnings: []string{"unrecognized name"}, note: "unrecognized name"}},
	},
	{
		// MariaDB 10.11 with TLS 1.2 only: openssl s_client -starttls
		// mysql asks for db.contoso.test, the mariadb client connects by
		// address. The server asks for a client certificate (--ssl-ca),
		// neither client sends one. s_client's close_notify on end of input, encrypted
		// right after the handshake, is read as a refusal (the TLS 1.2
		// heuristic cannot tell the two apart).
		file: "real/mysql-starttls.pcap",
		tls: []wantReal{
			{wantTLS: wantTLS{sni: "db.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test", clientAlert: record.AlertEncryptedAfter},
				leafNames: []string{"mail.contoso.test"}, clientReq: true, client: record.ClientCertNone, note: "the server greeted: 5.5.5-10.11.19-MariaDB-0+deb12u1; TLS began after the client's MySQL SSLRequest"},
			{wantTLS: wantTLS{version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test"},
				leafNames: []string{"mail.contoso.test"}, clientReq: true, client: record.ClientCertNone, note: "TLS began after the client's MySQL SSLRequest"},
		},
		report: []string{"db.contoso.test at 127.0.0.1:18452 (MYSQL STARTTLS)", "certificate is valid for mail.contoso.test, not db.contoso.test"},
	},
	{
		// OpenLDAP's slapd: openssl s_client -starttls ldap -tls1_2 asks
		// for ldap.contoso.test; ldapsearch -ZZ negotiates TLS 1.3, so its
		// certificate is encrypted (not judged).
		file: "real/ldap-starttls.pcap",
		tls: []wantReal{
			{wantTLS: wantTLS{sni: "ldap.contoso.test", version: "TLS 1.2", vis: record.VisVisible, leafCN: "mail.contoso.test", clientAlert: record.AlertEncryptedAfter},
				leafNames: []string{"mail.contoso.test"}, note: "TLS began after LDAP StartTLS"},
			{wantTLS: wantTLS{version: "TLS 1.3", vis: record.VisEncrypted}, note: "TLS began after LDAP StartTLS"},
		},
		report: []string{"ldap.contoso.test at 127.0.0.1:18453 (LDAP STARTTLS)", "certificate is valid for mail.contoso.test, not ldap.contoso.test", "could not be judged"},
	},
	// Zeek's test traces (testdata/public/README.md); what Zeek's own
	// baselines say of them is quoted where it is the oracle.
	{
		file: "public/zeek-tls-fragmented-handshake.pcap.gz",
		// Zeek's ssl.log: subject CN=Bro, 10000 names; tshark 4.0 cannot
		// reassemble this 332 KiB Certificate message.
		tls:      []wantReal{{wantTLS: wantTLS{sni: "104.236.167.107", version: "TLS 1.2", vis: record.VisVisible, leafCN: "Bro"}}},
		findings: []string{"cert.list-too-long"},
	},
	{
		file: "public/zeek-tls-early-alert.pcap",
		tls: []wantReal{{wantTLS: wantTLS{sni: "jeffbryner.com", version: "TLS 1.2", vis: record.VisVisible, leafCN: "www.jeffbryner.com"},
			leafNames: []string{"www.jeffbryner.com", "jeffbryner.com"}, warnings: []string{"unrecognized name"}}},
		findings: []string{"tls.server-warning"},
	},
	{
		file:     "public/zeek-ssl-v2.pcap",
		tls:      []wantReal{{wantTLS: wantTLS{version: "SSL 2.0", vis: record.VisVisible, leafCN: "plesk"}, note: "SSL 2.0 format"}},
		findings: []string{"tls.old-version"},
	},
	{
		file: "public/zeek-tls13draft16-chrome55.0.2879.0-canary.pcap",
		tls: []wantReal{
			{wantTLS: wantTLS{version: "TLS 1.3 (draft 14)", vis: record.VisEncrypted}},
			{wantTLS: wantTLS{version: "TLS 1.3 (draft 14)", vis: record.VisEncrypted}},
		},
	},
	{
		file: "public/zeek-tls-13draft19-early-data.pcap",
		tls: []wantReal{
			{wantTLS: wantTLS{version: "TLS 1.3 (draft 19)", vis: record.VisEncrypted}},
			{wantTLS: wantTLS{version: "TLS 1.3 (draft 19)", vis: record.VisResumed, resumed: true}},
		},
	},
	{
		file: "public/zeek-tls13draft23-chrome67.0.3368.0-canary.pcap",
		tls:  []wantReal{{wantTLS: wantTLS{sni: "tls13.crypto.mozilla.org", version: "TLS 1.3 (draft 23)", vis: record.VisEncrypted}}},
	},
	{
		file: "public/zeek-chrome-63.0.3211.0-canary-tls_experiment.pcap",
		tls:  []wantReal{{wantTLS: wantTLS{sni: "tls.ctf.network", version: "TLS 1.3 (Google experiment 1)", vis: record.VisEncrypted}}},
	},
	{
		file: "public/zeek-tls13-ech.pcap",
		tls: []wantReal{
			{wantTLS: wantTLS{vis: record.VisMissing}},
			{wantTLS: wantTLS{sni: "cloudflare-ech.com", version: "TLS 1.3", vis: record.VisEncrypted}, ech: true},
			{wantTLS: wantTLS{sni: "cloudflare-ech.com", version: "TLS 1.3", vis: record.VisEncrypted}, ech: true},
		},
		findings: []string{"tls.ech"},
	},
}

// TestRealCaptures reads each capture of real software in testdata/real
// and testdata/public and checks its TLS connections against the table,
// and its text and JSON reports (roots: testdata/real/ca.pem) against
// testdata/golden/real/ and golden/public/ (-update rewrites them).
func TestRealCaptures(t *testing.T) {
	pool, err := certs.LoadCertificates(filepath.Join("testdata", "real", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	for _, c := range pool {
		roots.AddCert(c)
	}
	for _, c := range realCases {
		t.Run(c.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatalf("%v (make it with capture/testdata/real/make.sh)", err)
			}
			defer f.Close()
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
			res, err := Read(f, c.file, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkReal(t, c, res)
			rep := analysis.Analyze(res.Observations, analysis.Options{Roots: roots, Cache: &certs.Cache{}})
			rep.Problems = append(rep.Problems, res.Problems...)
			for _, id := range c.findings {
				found := false
				for _, it := range rep.Items {
					for _, f := range it.Findings {
						found = found || f.ID == id
					}
				}
				if !found {
					t.Errorf("no %s finding", id)
				}
			}
			checkReports(t, rep, c.file, c.report)
		})
	}
}

func checkReal(t *testing.T, c realCase, res *Result) {
	t.Helper()
	var tlsObs []*record.Observation
	for _, o := range res.Observations {
		if o.Kind == record.KindTLS {
			tlsObs = append(tlsObs, o)
		}
	}
	if len(tlsObs) != len(c.tls) {
		t.Fatalf("%d TLS observations, want %d", len(tlsObs), len(c.tls))
	}
	var base []wantTLS
	for _, w := range c.tls {
		base = append(base, w.wantTLS)
	}
	checkCase(t, capCase{tls: base}, &Result{Observations: tlsObs})
	for i, w := range c.tls {
		o := tlsObs[i]
		if len(w.leafNames) > 0 {
			if leaf, err := x509.ParseCertificate(o.Chain[0]); err != nil || strings.Join(leaf.DNSNames, " ") != strings.Join(w.leafNames, " ") {
				t.Errorf("TLS %d: leaf names %v (err %v), want %v", i, leaf.DNSNames, err, w.leafNames)
			}
		}
		if o.Connect != w.connect || (o.Proxy != "") != w.proxy || w.proxy && o.Proxy != o.Server {
			t.Errorf("TLS %d: connect %q proxy %q (server %q), want connect %q proxy %v", i, o.Connect, o.Proxy, o.Server, w.connect, w.proxy)
		}
		if o.ECH != w.ech || o.ClientCertRequested != w.clientReq || o.ClientCert != w.client {
			t.Errorf("TLS %d: ech %v, client certificate requested %v, sent %q; want %v, %v, %q", i, o.ECH, o.ClientCertRequested, o.ClientCert, w.ech, w.clientReq, w.client)
		}
		if strings.Join(o.ServerWarnings, ",") != strings.Join(w.warnings, ",") {
			t.Errorf("TLS %d: server warnings %v, want %v", i, o.ServerWarnings, w.warnings)
		}
		if !strings.Contains(o.Note, w.note) {
			t.Errorf("TLS %d: note %q, want it to say %q", i, o.Note, w.note)
		}
		if !strings.Contains(o.Error, w.errText) {
			t.Errorf("TLS %d: error %q, want it to say %q", i, o.Error, w.errText)
		}
	}
}
