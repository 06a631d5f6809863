package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in         string
		host, port string
		path       string
		err        string
	}{
		{in: "https://mail.contoso.com/EWS/Exchange.asmx", host: "mail.contoso.com", port: "443", path: "/EWS/Exchange.asmx"},
		{in: "https://mail.contoso.com:8443", host: "mail.contoso.com", port: "8443"},
		{in: "mail.contoso.com", host: "mail.contoso.com", port: "443"},
		{in: "  mail.contoso.com  ", host: "mail.contoso.com", port: "443"},
		{in: "mail.contoso.com:444", host: "mail.contoso.com", port: "444"},
		{in: "10.0.0.5", host: "10.0.0.5", port: "443"},
		{in: "[::1]:8443", host: "::1", port: "8443"},
		{in: "[fe80::1]", host: "fe80::1", port: "443"},
		{in: "https://[::1]:8443/x", host: "::1", port: "8443", path: "/x"},
		{in: "", err: "empty target"},
		{in: "http://mail.contoso.com/", err: "only https URLs"},
		{in: "https:///EWS", err: "no host"},
		{in: "mail.contoso.com:0", err: "bad port"},
		{in: "mail.contoso.com:70000", err: "bad port"},
		{in: ":443", err: "no host"},
		{in: "mail contoso", err: "not a URL, host or host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseTarget(%q) = %+v, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Host != tt.host || got.Port != tt.port || got.Path != tt.path {
				t.Fatalf("ParseTarget(%q) = %+v, want host %q port %q path %q", tt.in, got, tt.host, tt.port, tt.path)
			}
		})
	}
}

func leafNames(t *testing.T, o *record.Observation) []string {
	t.Helper()
	if len(o.Chain) == 0 {
		t.Fatalf("no chain recorded: %+v", o)
	}
	c, err := x509.ParseCertificate(o.Chain[0])
	if err != nil {
		t.Fatal(err)
	}
	return c.DNSNames
}

func TestFetch(t *testing.T) {
	ca := testcert.NewCA(t, "Probe Test CA")
	def := ca.Leaf(t, testcert.Spec{CN: "default", DNS: []string{"default.contoso.local"}})
	mail := ca.Leaf(t, testcert.Spec{CN: "mail.contoso.com", DNS: []string{"mail.contoso.com"}})
	addr := testcert.Serve(t, def, map[string]tls.Certificate{"mail.contoso.com": mail})
	_, port, _ := net.SplitHostPort(addr)
	opts := Options{Resolve: map[string]string{"mail.contoso.com": "127.0.0.1"}}
	target := Target{Host: "mail.contoso.com", Port: port, Path: "/EWS/Exchange.asmx"}

	t.Run("with SNI", func(t *testing.T) {
		o := Fetch(context.Background(), target, "mail.contoso.com", opts)
		if o.Error != "" || o.Visibility != record.VisVisible {
			t.Fatalf("fetch failed: %+v", o)
		}
		if got := leafNames(t, o); len(got) != 1 || got[0] != "mail.contoso.com" {
			t.Errorf("leaf names %v, want the SNI certificate", got)
		}
		if len(o.Chain) != 2 {
			t.Errorf("chain has %d certificates, want leaf and CA as sent", len(o.Chain))
		}
		if o.Source != record.SourceProbe || o.SNI != "mail.contoso.com" || o.NoSNI || o.Server != addr ||
			o.URL != "https://mail.contoso.com:"+port+"/EWS/Exchange.asmx" || o.TLSVersion != "TLS 1.3" {
			t.Errorf("observation fields wrong: %+v", o)
		}
	})
	t.Run("without SNI gets the default certificate", func(t *testing.T) {
		o := Fetch(context.Background(), target, "", opts)
		if got := leafNames(t, o); len(got) != 1 || got[0] != "default.contoso.local" {
			t.Errorf("leaf names %v, want the default certificate", got)
		}
		if !o.NoSNI || o.SNI != "" {
			t.Errorf("no-SNI not recorded: %+v", o)
		}
	})
	t.Run("resolve by host:port", func(t *testing.T) {
		o := Fetch(context.Background(), Target{Host: "exch01.contoso.local", Port: "443"}, "exch01.contoso.local",
			Options{Resolve: map[string]string{"exch01.contoso.local:443": addr}})
		if o.Error != "" || o.Server != addr {
			t.Fatalf("fetch through host:port resolve failed: %+v", o)
		}
	})
	t.Run("refused", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		dead := ln.Addr().String()
		ln.Close()
		o := Fetch(context.Background(), Target{Host: "mail.contoso.com", Port: "443"}, "mail.contoso.com",
			Options{Resolve: map[string]string{"mail.contoso.com": dead}})
		if o.Visibility != record.VisFailed || !strings.Contains(o.Error, "connect to "+dead) {
			t.Errorf("dead server: got visibility %q error %q", o.Visibility, o.Error)
		}
	})
	t.Run("server that never answers times out", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close() // hold the connection open, say nothing
			}
		}()
		start := time.Now()
		o := Fetch(context.Background(), Target{Host: "mail.contoso.com", Port: "443"}, "mail.contoso.com",
			Options{Resolve: map[string]string{"mail.contoso.com": ln.Addr().String()}, HandshakeTimeout: 200 * time.Millisecond})
		if o.Visibility != record.VisFailed || !strings.Contains(o.Error, "TLS handshake with") {
			t.Errorf("silent server: got visibility %q error %q", o.Visibility, o.Error)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("handshake timeout of 200ms took %v", d)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		o := Fetch(ctx, target, "mail.contoso.com", opts)
		if o.Visibility != record.VisFailed || o.Error == "" {
			t.Errorf("cancelled fetch: %+v", o)
		}
	})
}

// FuzzParseTarget: any input gives a target with a host and a valid port,
// or an error; never a panic.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"https://mail.contoso.com/EWS/Exchange.asmx", "[::1]:8443", "mail:0", "https://[::1", "a b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		if tg.Host == "" {
			t.Fatalf("ParseTarget(%q) gave an empty host", s)
		}
		if err := validPort(s, tg); err != nil {
			t.Fatalf("ParseTarget(%q) gave a bad port: %v", s, err)
		}
	})
}

// TestFetchMalformed: a certificate crypto/tls refuses to parse is still
// read, in TLS 1.2 (plain Certificate message) and TLS 1.3 (decrypted
// with the connection's own handshake secret), byte for byte as served.
func TestFetchMalformed(t *testing.T) {
	ca := testcert.NewCA(t, "certsleuth probe malformed CA")
	for _, kind := range []string{testcert.MalformedNegativeSerial, testcert.MalformedDuplicateExt, testcert.MalformedFlippedLength} {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			t.Run(kind+"/"+tls.VersionName(v), func(t *testing.T) {
				cert := ca.Malformed(t, kind)
				addr := testcert.ServeConfig(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: v, MaxVersion: v})
				_, port, _ := net.SplitHostPort(addr)
				o := Fetch(context.Background(), Target{Host: testcert.MalformedName, Port: port}, testcert.MalformedName,
					Options{Resolve: map[string]string{testcert.MalformedName: "127.0.0.1"}})
				if o.Visibility != record.VisVisible || len(o.Chain) != 2 {
					t.Fatalf("visibility %q, %d certificates, error %q; want the chain read", o.Visibility, len(o.Chain), o.Error)
				}
				if string(o.Chain[0]) != string(cert.Certificate[0]) || string(o.Chain[1]) != string(ca.Cert.Raw) {
					t.Fatal("the chain read differs from the one served")
				}
				if o.Error != "" || !strings.Contains(o.Note, "failed to parse certificate") || o.TLSVersion != tls.VersionName(v) {
					t.Fatalf("error %q note %q version %q", o.Error, o.Note, o.TLSVersion)
				}
			})
		}
	}
}

func TestFetchIssuers(t *testing.T) {
	ca := testcert.NewCA(t, "AIA Test CA")
	mux := http.NewServeMux()
	mux.HandleFunc("/ca.cer", func(w http.ResponseWriter, r *http.Request) { w.Write(ca.Cert.Raw) })
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>maintenance</html>")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String() + "/ca.cer"
	dead.Close()
	tests := []struct {
		url, err string
		certs    int
	}{
		{url: srv.URL + "/ca.cer", certs: 1},
		{url: srv.URL + "/missing.cer", err: "HTTP 404"},
		{url: srv.URL + "/page.html", err: "not a DER or PEM certificate"},
		{url: deadURL, err: "no answer"},
		{url: "ldap:///CN=CA,CN=AIA", err: "not a URL"},
		{url: "ldap://dc01/CN=CA,CN=AIA", err: "ldap URLs are not fetched"},
	}
	for _, tt := range tests {
		got := FetchIssuers(context.Background(), []string{tt.url}, 5*time.Second)
		if len(got) != 1 || got[0].URL != tt.url {
			t.Fatalf("%s: got %+v, want one entry for the URL", tt.url, got)
		}
		if len(got[0].Certs) != tt.certs || !strings.Contains(got[0].Error, tt.err) || (tt.err == "") != (got[0].Error == "") {
			t.Errorf("%s: %d certificates, error %q; want %d, error containing %q", tt.url, len(got[0].Certs), got[0].Error, tt.certs, tt.err)
		}
	}
}
