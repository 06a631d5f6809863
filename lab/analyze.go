package lab

import (
	"crypto/x509"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// Analyze runs certsleuth's analysis over the act's trace (Trace), for the
// client's profile, trusting the lab CA: the same verdicts, with the same
// observation numbers (#N), that `certsleuth replay --profile P --ca-file
// lab-ca.pem` reaches on the recorded trace.
func (r *Result) Analyze() *analysis.Report {
	roots := x509.NewCertPool()
	if r.CA != nil {
		roots.AddCert(r.CA)
	}
	return analysis.Analyze(r.Trace(), analysis.Options{Profiles: []*match.Profile{r.Profile}, Roots: roots})
}

// Trace returns what the act's trace file holds: through a proxy, what
// the proxy recorded (without the client's own DNS notes, which only the
// story uses); without one, the client's own records.
func (r *Result) Trace() []*record.Observation {
	if r.ProxyCA == nil {
		return r.Observations
	}
	var out []*record.Observation
	for _, o := range r.Observations {
		if o.Source == record.SourceProxy {
			out = append(out, o)
		}
	}
	return out
}
