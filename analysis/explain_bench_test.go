package analysis

import (
	"fmt"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

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
