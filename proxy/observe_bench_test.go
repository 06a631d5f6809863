package proxy

import (
	"crypto/x509"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// BenchmarkObservers is what `certsleuth proxy` spends per request on its
// observers, on the tunnel's goroutine and on their own goroutines, for a
// keep-alive tunnel's requests (the same request again and again, as
// scripts/bench-proxy.sh sends): the trace's recorder (to io.Discard),
// the live lines (through their queue, to io.Discard) and the live page
// with no page open, each alone and all three as the proxy command chains
// them. ns/op is the tunnel goroutine's time; the observers' own
// goroutines are waited for (Flush, Close) before the timer stops, so
// their work is in ns/op too.
func BenchmarkObservers(b *testing.B) {
	ca := testcert.NewCA(b, "Bench Root")
	leaf := ca.Leaf(b, testcert.Spec{CN: "localhost", DNS: []string{"localhost"}, IPs: []string{"127.0.0.1"}})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	chain := append([][]byte{}, leaf.Certificate...)
	obs := func(i int) *record.Observation {
		return &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(), Conn: "c" + strconv.Itoa(i%16),
			Client: "127.0.0.1:4" + strconv.Itoa(1000+i%16), Server: "127.0.0.1:38211", Connect: "127.0.0.1:38211", NoSNI: true,
			Method: "GET", Host: "127.0.0.1:38211", URL: "https://127.0.0.1:38211/", UserAgent: "Go-http-client/1.1",
			TLSVersion: "TLS 1.3", Protocol: "http/1.1", Status: 200, Chain: chain, Visibility: record.VisVisible, Duration: 300 * time.Microsecond}
	}
	for _, which := range []string{"recorder", "live", "web", "all"} {
		b.Run(which, func(b *testing.B) {
			w, err := record.NewWriter(io.Discard, "bench")
			if err != nil {
				b.Fatal(err)
			}
			rec := Recorder(w, nil)
			live := NewLive(io.Discard, LiveOptions{Roots: roots, Queue: 1024, Recording: true, MaxKept: -1})
			web := NewWeb(WebOptions{Roots: roots})
			var mu sync.Mutex
			var observe func(Event)
			switch which {
			case "recorder":
				observe = rec
			case "live":
				observe = live.Observe
			case "web":
				observe = web.Observe
			default:
				observe = func(ev Event) { // as cmd/certsleuth/proxy.go chains them
					mu.Lock()
					defer mu.Unlock()
					rec(ev)
					live.Observe(ev)
					web.Observe(ev)
				}
			}
			evs := make([]Event, 1024)
			for i := range evs {
				evs[i] = Event{Type: EventExchange, Obs: obs(i)}
				if which == "live" || which == "web" {
					evs[i].Obs.ChainID = record.ChainID(chain) // as the recorder, which runs first, sets it
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ev := evs[i%len(evs)]
				c := *ev.Obs // each request its own observation, as the proxy makes them
				ev.Obs = &c
				observe(ev)
			}
			live.Flush()
			live.Close()
			web.Close()
			w.Close()
			b.StopTimer()
			if seen, _ := live.Counts(); which != "recorder" && which != "web" && seen != b.N {
				b.Fatalf("the live lines saw %d requests of %d", seen, b.N)
			}
		})
	}
}
