package proxy

import (
	"bytes"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
)

// serverFlight is the first bytes a real crypto/tls server sends at
// maxVersion, up to the client's own flight being cut off.
func serverFlight(t testing.TB, maxVersion uint16, cert tls.Certificate) []byte {
	t.Helper()
	hello := clientHello(t, "mail.contoso.test")
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		tls.Server(b, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: maxVersion}).Handshake()
		b.Close()
	}()
	a.SetDeadline(time.Now().Add(5 * time.Second))
	go a.Write(hello)
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		if out.Len() > 0 {
			a.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) // the server's flight is complete
		}
		n, err := a.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return out.Bytes()
}

// TestFlight parses real server flights: the Certificate message for TLS
// 1.2, "encrypted" for TLS 1.3, whatever the write sizes.
func TestFlight(t *testing.T) {
	ca := testcert.NewCA(t, "Flight Root")
	cert := ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})
	for _, tc := range []struct {
		name    string
		max     uint16
		version uint16
		chain   int
		tls13   bool
	}{
		{"TLS 1.2", tls.VersionTLS12, tls.VersionTLS12, len(cert.Certificate), false},
		{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, 0, true},
	} {
		data := serverFlight(t, tc.max, cert)
		for _, step := range []int{1, 7, 1000, len(data)} {
			f := newFlight(true)
			for i := 0; i < len(data); i += step {
				f.Write(data[i:min(i+step, len(data))])
			}
			f.mu.Lock()
			if f.version != tc.version || len(f.chain) != tc.chain || f.tls13 != tc.tls13 || !f.finished {
				t.Errorf("%s, writes of %d: version %x chain %d tls13 %v finished %v", tc.name, step, f.version, len(f.chain), f.tls13, f.finished)
			}
			if tc.chain > 0 && !bytes.Equal(f.chain[0], cert.Certificate[0]) {
				t.Errorf("%s: chain is not the server's", tc.name)
			}
			f.mu.Unlock()
		}
	}
	// The client's alert, in the clear.
	f := newFlight(false)
	f.Write([]byte{21, 3, 3, 0, 2, 2, 42})
	if f.alert != "bad certificate" || !f.finished {
		t.Errorf("alert %q finished %v", f.alert, f.finished)
	}
	f = newFlight(true)
	f.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	if f.err == nil {
		t.Error("plain text taken for TLS")
	}
}

func TestReadClientHello(t *testing.T) {
	h, err := readClientHello(bytes.NewReader(clientHello(t, "autodiscover.contoso.test")))
	if err != nil || h.sni != "autodiscover.contoso.test" {
		t.Fatalf("%+v %v", h, err)
	}
	if _, err := readClientHello(bytes.NewReader([]byte("GET / HTTP/1.1\r\n\r\n"))); err == nil {
		t.Error("plain HTTP read as a ClientHello")
	}
}

// FuzzFlight: the stream parser never panics and never reports more than
// it was given.
func FuzzFlight(f *testing.F) {
	ca := testcert.NewCA(f, "Fuzz Root")
	cert := ca.Leaf(f, testcert.Spec{CN: "a.test", DNS: []string{"a.test"}})
	f.Add(serverFlight(f, tls.VersionTLS12, cert), true)
	f.Add(serverFlight(f, tls.VersionTLS13, cert), true)
	f.Add([]byte{21, 3, 3, 0, 2, 2, 42}, false)
	f.Add([]byte{22, 3, 3, 0, 4, 11, 0, 0, 0}, true)
	f.Fuzz(func(t *testing.T, data []byte, server bool) {
		fl := newFlight(server)
		fl.Write(data)
		fl.mu.Lock()
		defer fl.mu.Unlock()
		total := 0
		for _, c := range fl.chain {
			total += len(c)
		}
		if total > len(data) {
			t.Fatalf("chain of %d bytes from %d bytes of input", total, len(data))
		}
	})
}

// FuzzReadClientHello: the peek never panics.
func FuzzReadClientHello(f *testing.F) {
	f.Add(clientHello(f, "mail.contoso.test"))
	f.Add([]byte{22, 3, 1, 0, 5, 1, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		readClientHello(bytes.NewReader(data))
	})
}
