package analysis

import (
	"fmt"
	"io"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// BenchmarkExplainScenario analyses the KB 940726 trace (origins, culprits,
// remedies) and renders it in each format.
func BenchmarkExplainScenario(b *testing.B) {
	sc := scenarioList(b)[0]
	for _, f := range goldenFormats {
		b.Run(f.format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := analyzeScenario(b, sc)
				if err := Render(io.Discard, r, f.format, RenderOptions{Title: sc.name}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTraceOriginsURLLess traces 10,000 and 20,000 connections without
// URLs to a host an Autodiscover answer names in several settings, after one
// inferred to be the SCP request (a capture where every request is
// encrypted): origin tracing must stay linear in the connections.
func BenchmarkTraceOriginsURLLess(b *testing.B) {
	var sc scenario
	for _, s := range scenarioList(b) {
		if s.name == "proxy-refused" {
			sc = s
		}
	}
	for _, n := range []int{10000, 20000} {
		obs := append([]*record.Observation(nil), sc.obs[:2]...)
		for i := 0; i < n; i++ {
			obs = append(obs, sc.obs[2])
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tr := TraceOrigins(obs)
				if c := tr.Causes[len(obs)]; c == nil || c.Kind != CauseSameHost {
					b.Fatalf("last cause %+v", c)
				}
			}
		})
	}
}
