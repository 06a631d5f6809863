package analysis

import (
	"crypto/x509"
	"sort"
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
	var out []string
	for _, p := range all {
		if it.Warns(p.Name) {
			out = append(out, p.Name)
		}
	}
	return out
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
	// Totals are the counts the headline needs (observations, requests,
	// warnings, not judged, per profile), kept without the item list.
	Totals Totals `json:"totals"`
	// Origins is the origin tracing over the observations (Autodiscover
	// answers, redirects, SRV targets); set by Analyze.
	Origins *OriginTrace `json:"-"`

	okHosts   []string        // see reachedHosts
	connHosts map[string]bool // see reached
}

// Warns reports whether any item would make any chosen client warn.
func (r *Report) Warns() bool {
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

// Analyze runs every observation through the matcher and the checks.
func Analyze(obs []*record.Observation, opts Options) *Report {
	if opts.Profiles == nil {
		opts.Profiles = match.Profiles()
	}
	if opts.Cache == nil {
		opts.Cache = &certs.Cache{}
	}
	if opts.Registry == nil {
		opts.Registry = DefaultRegistry
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	checks := opts.Registry.All()
	r := &Report{Profiles: opts.Profiles}
	for _, c := range opts.WhatIf {
		r.WhatIf = append(r.WhatIf, certs.Describe(c))
	}
	trust := map[string]*trustResult{}
	var whatIfTrust *trustResult
	sh := newSharing()
	r.Items = make([]*Item, 0, len(obs))
	block := make([]Item, len(obs)) // one allocation for every item
	for i, o := range obs {
		it := &block[i]
		*it = Item{Index: i + 1, Obs: o, Chain: []certs.Summary{}, Findings: []Finding{}}
		it.Name, it.NameFrom = o.AskedName()
		s := &Subject{Obs: o, Name: it.Name, NameFrom: it.NameFrom, At: o.Time}
		if s.At.IsZero() {
			s.At = now
		}
		switch {
		case opts.WhatIf != nil && isTLS(o):
			s.Chain, s.WhatIf, it.WhatIf = opts.WhatIf, true, true
			if whatIfTrust == nil {
				whatIfTrust = verifyTrust(opts.WhatIf, opts.Roots)
			}
			s.trust = whatIfTrust
			it.Chain = sh.summaries(s.Chain)
		case len(o.Chain) > 0:
			s.Chain, s.ChainErr = opts.Cache.ParseChain(o.Chain)
			if len(s.Chain) > 0 {
				id := o.ChainID
				if id == "" {
					id = record.ChainID(o.Chain)
				}
				t, ok := trust[id]
				if !ok {
					t = verifyTrust(s.Chain, opts.Roots)
					trust[id] = t
				}
				s.trust = t
				s.aia = judgeAIA(s, opts.Roots)
				it.Chain = sh.summaries(s.Chain)
			}
		}
		if o.Kind == record.KindDNS {
			r.Items = append(r.Items, it)
			continue
		}
		for _, c := range checks {
			if c.PerProfile {
				continue
			}
			if f := c.run(s); f != nil {
				it.Findings = append(it.Findings, *f)
			}
		}
		leaf := s.Leaf()
		if leaf != nil && it.Name != "" {
			it.Verdicts = sh.verdicts(leaf, it.Name, opts.Profiles)
		}
		for k, p := range opts.Profiles {
			ps := *s
			ps.Profile = p
			if it.Verdicts != nil {
				v := it.Verdicts[k] // a copy: checks never see the shared slice
				ps.Verdict = &v
			}
			for _, c := range checks {
				if !c.PerProfile {
					continue
				}
				if f := c.run(&ps); f != nil {
					it.Findings = append(it.Findings, *f)
				}
			}
		}
		sort.SliceStable(it.Findings, func(a, b int) bool {
			return it.Findings[a].Severity.rank() > it.Findings[b].Severity.rank()
		})
		it.Findings = sh.findings(it.Findings)
		r.Items = append(r.Items, it)
	}
	sh.itemsDone()
	explainTrace(r, obs, opts)
	sh.origins(r.Items)
	r.Totals = TotalsOf(r)
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
