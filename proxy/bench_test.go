package proxy

import (
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// BenchmarkProxy loads an origin on 127.0.0.1 with 16 concurrent clients
// and 1 KiB responses, directly and through the proxy (mirror mode,
// recording to a trace, live verdicts on), over kept-alive connections
// and with a new TLS connection per request. It reports requests/s and
// the p50 latency; scripts/bench-proxy.sh runs the same load against
// mitmdump in the same run.
func BenchmarkProxy(b *testing.B) {
	ca := testcert.NewCA(b, "Bench Root")
	origin := newOrigin(b, ca.Leaf(b, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}}), 0)
	l := &lab{originCA: ca}
	var err error
	if l.proxyCA, err = newBenchCA(); err != nil {
		b.Fatal(err)
	}
	roots := l.clientRoots()
	u := "https://mail.contoso.test:" + portOf(origin) + "/"
	for _, via := range []string{"direct", "mirror"} {
		for _, keep := range []bool{true, false} {
			name := via + "/keepalive"
			if !keep {
				name = via + "/newconn"
			}
			b.Run(name, func(b *testing.B) {
				var clients []*http.Client
				for range 16 {
					var c *http.Client
					if via == "direct" {
						c = direct(origin, roots)
					} else {
						c = viaProxy(benchProxy(b, l), roots)
					}
					c.Transport.(*http.Transport).DisableKeepAlives = !keep
					clients = append(clients, c)
				}
				benchLoad(b, clients, u)
			})
		}
	}
}

var (
	benchOnce sync.Once
	benchAddr string
)

// benchProxy is one proxy shared by every client of a benchmark run,
// recording to a trace (discarded) with the live analyzer on.
func benchProxy(b *testing.B, l *lab) string {
	benchOnce.Do(func() {
		w, err := record.NewWriter(io.Discard, "bench")
		if err != nil {
			b.Fatal(err)
		}
		live := NewLive(io.Discard, LiveOptions{Roots: x509.NewCertPool()})
		srv, err := New(Config{CA: l.proxyCA, ExtraRoots: []*x509.Certificate{l.originCA.Cert}, Resolve: resolveAll("mail.contoso.test"),
			Observers: []func(Event){Recorder(w, nil), live.Observe}})
		if err != nil {
			b.Fatal(err)
		}
		ln := mustListen(b)
		go srv.Serve(ln)
		benchAddr = ln.Addr().String()
	})
	return benchAddr
}

// benchLoad runs b.N requests spread over the clients, 16 at a time.
func benchLoad(b *testing.B, clients []*http.Client, u string) {
	next := make(chan struct{}, 1024)
	go func() {
		for range b.N {
			next <- struct{}{}
		}
		close(next)
	}()
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for range next {
				t0 := time.Now()
				_, body, err := get(c, u)
				if err != nil || len(body) != 1024 {
					b.Errorf("%d bytes, %v", len(body), err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/el.Seconds(), "req/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	}
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

func newBenchCA() (*certs.CA, error) { return certs.NewCA(certs.CAOptions{}) }

func mustListen(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return ln
}

// BenchmarkMint is the cost of minting a leaf with the default ECDSA CA
// (a cache miss); the issue asks for well under a millisecond.
func BenchmarkMint(b *testing.B) {
	ca, err := certs.NewCA(certs.CAOptions{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := certs.NewMinter(ca, 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := m.Leaf(certs.SpecFor("host" + strconv.Itoa(i) + ".contoso.test")); err != nil {
			b.Fatal(err)
		}
	}
}
