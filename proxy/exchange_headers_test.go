package proxy

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// TestExchangeServerHeaders: the server names Exchange writes in its
// response headers (X-FEServer, X-BEServer, X-CalculatedBETarget) are
// recorded; a response without them records none, and a header that is
// not a name is dropped; over TLS (a CONNECT tunnel) and plain HTTP alike.
func TestExchangeServerHeaders(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/EWS/Exchange.asmx":
			// As Exchange 2016 answers (header names from its responses).
			w.Header().Set("X-FEServer", "EXCH01")
			w.Header().Set("X-BEServer", "EXCH02")
			w.Header().Set("X-CalculatedBETarget", "exch02.contoso.local")
		case "/odd":
			w.Header().Set("X-FEServer", "not a name/with spaces")
		}
		w.WriteHeader(200)
	})
	l := newLab(t)
	plain := httptest.NewServer(h)
	defer plain.Close()
	tlsUp := httptest.NewUnstartedServer(h)
	tlsUp.TLS = &tls.Config{Certificates: []tls.Certificate{l.originCA.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})}}
	tlsUp.StartTLS()
	defer tlsUp.Close()
	p := startProxy(t, Config{CA: l.proxyCA, Resolve: resolveAll("mail.contoso.test")})
	c := viaProxy(p.addr, l.clientRoots())
	var want []*record.ExchangeServers
	for _, base := range []string{"http://mail.contoso.test:" + portOf(plain.Listener.Addr().String()), "https://mail.contoso.test:" + portOf(tlsUp.Listener.Addr().String())} {
		for _, path := range []string{"/EWS/Exchange.asmx", "/plain", "/odd"} {
			if resp, _, err := get(c, base+path); err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %v %v", base+path, resp, err)
			}
		}
		want = append(want, &record.ExchangeServers{FrontEnd: "EXCH01", BackEnd: "EXCH02", BETarget: "exch02.contoso.local"}, nil, nil)
	}
	obs := p.trace(t)
	if len(obs) != len(want) {
		t.Fatalf("%d observations, want %d", len(obs), len(want))
	}
	for i, o := range obs {
		switch {
		case (o.Exchange == nil) != (want[i] == nil):
			t.Errorf("%s: recorded %+v, want %+v", o.URL, o.Exchange, want[i])
		case o.Exchange != nil && *o.Exchange != *want[i]:
			t.Errorf("%s: recorded %+v, want %+v", o.URL, *o.Exchange, *want[i])
		}
	}
}
