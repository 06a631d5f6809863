//go:build linux

package proxy

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/browser"
	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// BenchmarkLivePageBrowser measures what a headless Chromium with the live
// page open costs while lines arrive at 40 and 200 a second: the CPU time
// of its processes (browser-cpu-%, of one core), the renderer's layout
// count per second and the time its main thread spent in tasks, script,
// layout and style (in % of a core), from the DevTools protocol's
// Performance.getMetrics.
// Each iteration is one second of lines, each a new request (a new URL),
// or the same request repeated (200-same):
//
//	go test -run '^$' -bench LivePageBrowser -benchtime 10x ./proxy
func BenchmarkLivePageBrowser(b *testing.B) {
	for _, rate := range []int{40, 200} {
		b.Run(fmt.Sprintf("%d-lines-per-s", rate), func(b *testing.B) { benchPage(b, rate, false) })
	}
	// The same request again and again, as scripts/bench-proxy.sh sends:
	// nothing new for the culprits or the picture, only lines.
	b.Run("200-same", func(b *testing.B) { benchPage(b, 200, true) })
	// The page open and nothing to show: what the browser costs by itself.
	b.Run("idle", func(b *testing.B) { benchPage(b, 0, true) })
}

func benchPage(b *testing.B, rate int, repeat bool) {
	ca := testcert.NewCA(b, "Web Root")
	leaf := ca.Leaf(b, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	w := NewWeb(WebOptions{Roots: roots, Title: "bench"})
	b.Cleanup(w.Close)
	srv := httptest.NewServer(w)
	b.Cleanup(srv.Close) // after the browser's cleanup, which closes its stream
	br := browser.Start(b, browser.Options{})
	ctx := context.Background()
	if err := br.Navigate(ctx, srv.URL+"/live"); err != nil {
		b.Fatal(err)
	}
	if err := br.Call(ctx, "Performance.enable", nil, nil); err != nil {
		b.Fatal(err)
	}
	if _, ok := br.Settle(ctx, time.Second, 30*time.Second); !ok {
		b.Log("the browser was still busy starting up: its figures include some of it")
	}
	metrics := func() map[string]float64 {
		var r struct {
			Metrics []struct {
				Name  string
				Value float64
			}
		}
		br.Call(ctx, "Performance.getMetrics", nil, &r)
		m := map[string]float64{}
		for _, x := range r.Metrics {
			m[x.Name] = x.Value
		}
		return m
	}
	cpu := func() float64 { s, _ := br.CPU(); return s }
	m0, c0 := metrics(), cpu()
	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(max(rate, 1)))
	defer tick.Stop()
	b.ResetTimer()
	n := 0
	for range b.N {
		if rate == 0 {
			<-tick.C
		}
		for range rate {
			<-tick.C
			if !repeat {
				n++
			}
			w.Observe(Event{Obs: &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(), SNI: "mail.contoso.test", Connect: "mail.contoso.test:443",
				Method: "GET", URL: fmt.Sprintf("https://mail.contoso.test/owa/%d", n), Status: 200, Chain: leaf.Certificate, Visibility: record.VisVisible,
				UserAgent: "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"}})
		}
	}
	time.Sleep(300 * time.Millisecond) // the last batch is drawn
	el := time.Since(start).Seconds()
	b.StopTimer()
	b.ReportMetric(100*(cpu()-c0)/el, "browser-cpu-%")
	m1 := metrics()
	b.ReportMetric((m1["LayoutCount"]-m0["LayoutCount"])/el, "layouts/s")
	// The renderer's main thread, in % of a core: all its tasks, and the
	// script, layout and style recalculation among them.
	for _, k := range []string{"TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration"} {
		b.ReportMetric(100*(m1[k]-m0[k])/el, strings.TrimSuffix(k, "Duration")+"-%")
	}
}
