package analysis

import (
	"crypto/x509"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// Options control Analyze.
type Options struct {
	// Profiles are the clients to judge for; nil means every profile.
	Profiles []*match.Profile
	// Roots are the trusted roots; nil means the system's.
	Roots *x509.CertPool
	// WhatIf, when set, is a proposed certificate chain (leaf first): every
	// TLS observation is judged against it instead of the chain recorded.
	WhatIf []*x509.Certificate
	// Now is used for observations without a time; zero means time.Now().
	Now time.Time
	// Cache parses recorded certificates; nil means a new one.
	Cache *certs.Cache
	// Registry holds the checks to run; nil means DefaultRegistry.
	Registry *Registry
	// Window is how many observations a Pipeline looks at ahead of the
	// one it attributes (the email domains they name); 0 means
	// DefaultWindow. Analyze looks at the whole list.
	Window int
}

// Item is one observation with its verdicts and findings.
type Item struct {
	Index    int                 `json:"index"` // 1-based position in the input
	Obs      *record.Observation `json:"-"`
	Name     string              `json:"name"`      // the name the client validated against
	NameFrom record.NameSource   `json:"name_from"` // where that name was seen
	Chain    []certs.Summary     `json:"chain"`
	Verdicts []match.Verdict     `json:"verdicts,omitempty"`
	Findings []Finding           `json:"findings"`
	WhatIf   bool                `json:"what_if,omitempty"`
	// Origin is what sent the client to this request, nearest cause first
	// (see TraceOrigins); nil when nothing is known.
	Origin []Cause `json:"origin,omitempty"`

	leaf *chainView // the judged chain, until the item is attributed
}

// Warns reports whether the item has an error finding for profile (or for
// every profile when profile is "").
func (it *Item) Warns(profile string) bool {
	for _, f := range it.Findings {
		if f.Severity == SeverityError && (profile == "" || f.Profile == profile || f.Profile == AllProfiles) {
			return true
		}
	}
	return false
}

// WarningProfiles lists the profiles for which the item has an error finding.
func (it *Item) WarningProfiles(all []*match.Profile) []string {
	return it.AppendWarningProfiles(nil, all)
}

// AppendWarningProfiles appends WarningProfiles(all) to dst (a writer of
// every item reuses one slice).
func (it *Item) AppendWarningProfiles(dst []string, all []*match.Profile) []string {
	for _, p := range all {
		if it.Warns(p.Name) {
			dst = append(dst, p.Name)
		}
	}
	return dst
}

// Worst is the most serious severity among the item's findings, or "" when
// there are none.
func (it *Item) Worst() Severity {
	var w Severity
	for _, f := range it.Findings {
		if w == "" || f.Severity.rank() > w.rank() {
			w = f.Severity
		}
	}
	return w
}

// Report is the analysis of a trace or capture.
type Report struct {
	Profiles []*match.Profile `json:"-"`
	Items    []*Item          `json:"items"`
	// Problems are input problems that did not stop the analysis (bad
	// trace lines, a truncated capture), in words with their location.
	Problems []string `json:"problems,omitempty"`
	// Skipped counts input lines (of a trace) that were left out because
	// they could not be used; Problems says why. A report with skipped
	// input is never a clean bill.
	Skipped int `json:"skipped,omitempty"`
	// SkippedObservations counts, among Skipped, the lines that were
	// observations (one whose chain line was altered included).
	SkippedObservations int `json:"skipped_observations,omitempty"`
	WhatIf              []certs.Summary

	// UndecodedTLS counts the frames of a capture that were not decoded
	// though their bytes hold a TLS handshake record (capture's
	// Stats.UndecodedTLS): the headline says so beside what was judged.
	UndecodedTLS int64 `json:"undecoded_tls,omitempty"`
	// Totals are the counts the headline needs (observations, requests,
	// warnings, not judged, per profile), kept without the item list.
	Totals Totals `json:"totals"`
	// Origins is the origin tracing over the observations (Autodiscover
	// answers, redirects, SRV targets); set by Analyze.
	Origins *OriginTrace `json:"-"`

	// agg is what the pipeline kept of the items (culprits, hosts, the
	// certificate plan); nil for a report put together by hand, whose
	// Items are then walked.
	agg *aggregate
	// hosts is what the fixes need to know of the hosts: agg's, or made
	// from Items when first needed.
	hosts *hostFacts
	// spill holds the items a Spill wrote (EachItem).
	spill *Spill
	// hand groups the Items of a report put together by hand (Causes).
	hand *grouping
}

// Warns reports whether any item would make any chosen client warn.
func (r *Report) Warns() bool {
	if r.Items == nil && r.agg != nil {
		return r.Totals.Warning > 0
	}
	for _, it := range r.Items {
		if it.Warns("") {
			return true
		}
	}
	return false
}

// Incomplete reports whether the report cannot be a clean bill even when
// nothing warns: a connection was not judged or input was skipped.
func (r *Report) Incomplete() bool {
	return r.Skipped > 0 || r.NotJudged().Total() > 0
}

// Analyze runs every observation through the matcher and the checks,
// traces their origins and groups the warnings: the pipeline (see
// Pipeline) over a list, keeping every item in Report.Items and every
// cause in Report.Origins, with every observation looked at before the
// first is attributed. proxy, check and the tests use it on small lists;
// pcap and replay stream with a Pipeline.
func Analyze(obs []*record.Observation, opts Options) *Report {
	var all Collect
	all.Items = make([]*Item, 0, len(obs))
	p := newPipeline(opts, &all, true, len(obs))
	for _, o := range obs {
		p.Add(o) // Collect never fails
	}
	r, _ := p.Close()
	r.Items = all.Items
	return r
}

// isTLS reports whether o describes a TLS connection (or a request made on one).
func isTLS(o *record.Observation) bool {
	switch {
	case o.Kind == record.KindDNS:
		return false
	case o.Kind == record.KindTLS:
		return true
	case o.SNI != "" || o.NoSNI || o.TLSVersion != "" || len(o.Chain) > 0:
		return true
	case o.Visibility != "" && o.Visibility != record.VisNone:
		return true
	}
	return strings.HasPrefix(strings.ToLower(o.URL), "https://")
}
