package lab

import (
	"crypto/x509"

	"github.com/certsleuth/certsleuth/analysis"
)

// Analyze runs certsleuth's analysis over the act's observations, for the
// client's profile, trusting the lab CA: the same verdicts `certsleuth
// replay --profile P --ca-file lab-ca.pem` reaches on the act's trace.
func (r *Result) Analyze() *analysis.Report {
	roots := x509.NewCertPool()
	if r.CA != nil {
		roots.AddCert(r.CA)
	}
	return analysis.Analyze(r.Observations, analysis.Options{Profiles: []*analysis.Profile{r.Profile}, Roots: roots})
}
