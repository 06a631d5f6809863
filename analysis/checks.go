package analysis

import (
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// Severity says how much a finding matters to the user of a client.
type Severity string

// The severities, most serious first.
const (
	// SeverityError: the client shows a certificate warning (or refuses to connect).
	SeverityError Severity = "error"
	// SeverityWarning: no warning today, but a client, a setting or a
	// future change will break, or the evidence is incomplete.
	SeverityWarning Severity = "warning"
	// SeverityInfo: worth knowing when reading the report.
	SeverityInfo Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 2
	case SeverityWarning:
		return 1
	}
	return 0
}

// AllProfiles is the Profile of a finding that does not depend on the
// client (an expired certificate is expired for every client).
const AllProfiles = "all"

// Evidence is one fact behind a finding: a name, where it was seen, and
// what it was.
type Evidence struct {
	Label string `json:"label"`          // e.g. "asked for", "certificate names"
	Value string `json:"value"`          // e.g. "exch01.contoso.local"
	From  string `json:"from,omitempty"` // where it was seen, e.g. "sni", "connect", "leaf SAN"
}

// Finding is one check that failed for one observation and one client
// profile. It explains itself from its fields; text, JSON and HTML are
// renderings of them.
type Finding struct {
	ID       string     `json:"id"`
	Severity Severity   `json:"severity"`
	Profile  string     `json:"profile"` // a profile name, or AllProfiles
	Summary  string     `json:"summary"`
	Evidence []Evidence `json:"evidence,omitempty"`
	Why      string     `json:"why,omitempty"`
	Remedy   string     `json:"remedy,omitempty"`
	Citation string     `json:"citation,omitempty"`
}

// Check is one rule certsleuth enforces. IDs are stable, lower case and
// namespaced ("name.cn-only", "chain.untrusted"): never renumbered, never
// reused.
type Check struct {
	ID       string
	Title    string
	Severity Severity
	Citation string
	Remedy   string
	// PerProfile checks run once per client profile; the others once per
	// observation, and their findings carry Profile AllProfiles.
	PerProfile bool
	// ChainOnly says Run reads only the chain (Subject.Chain, ChainErr,
	// the chain's trust and AIA result) and the profile: not the
	// observation, the name, the time or the verdict. The judge then runs
	// it once per chain and profile, not once per connection
	// (TestChainOnlyChecks holds each such check to it).
	ChainOnly bool
	// Run returns nil when the check passes, or a finding with at least
	// Summary set; ID, Severity, Profile, Remedy and Citation default to the
	// check's.
	Run func(s *Subject) *Finding
	// fill, when set, is Run writing into a finding the caller holds:
	// Run is then fill into a new finding. The judge uses it for the
	// checks that fire for every profile of almost every name that fails
	// (the name checks), to make no finding of its own per profile.
	fill func(s *Subject, f *Finding) bool
	// kinds, when set, are the only verdict kinds Run finds anything
	// for: with no verdict, or one of another kind, it returns nil, and
	// the judge does not call it (most of a name's checks, for every
	// profile of every connection; TestVerdictKindChecks holds each
	// check to its kinds).
	kinds []match.Kind
}

// skips reports whether c finds nothing in s for the kind of its verdict
// (kinds).
func (c *Check) skips(s *Subject) bool {
	return c.kinds != nil && (s.Verdict == nil || !slices.Contains(c.kinds, s.Verdict.Kind))
}

// Subject is what a check looks at: one observation, its parsed chain, the
// name the client asked for and, for per-profile checks, the profile and
// its verdict.
type Subject struct {
	Obs *record.Observation
	// Chain is the parsed chain, leaf first; empty when not visible. The
	// judge sets it for the ChainOnly checks only: the others read the
	// chain through view (chainView), which it keeps with the chain.
	Chain    []*x509.Certificate
	ChainErr error  // set when the recorded chain did not parse
	Name     string // the name the client validated against
	NameFrom record.NameSource
	At       time.Time      // when it happened: dates are judged then, not now
	Profile  *match.Profile // nil for observation-wide checks
	Verdict  *match.Verdict // nil when there is no leaf or no name
	WhatIf   bool           // Chain is a proposed certificate, not the recorded one
	trust    *trustResult
	aia      *aiaTrust // set when only a missing issuer stops the chain and the leaf names caIssuers URLs
	// chain is what the checks that are not ChainOnly may read of the
	// chain (view); nil without one, or until view makes it from Chain.
	chain *chainView
	// once holds what the checks of one observation work out alike for
	// every profile (the judge's per-profile subjects share it); nil: the
	// checks work it out each time.
	once *subjectOnce
}

// subjectOnce is what the checks of one observation work out once for
// all its profiles: the name evidence (nameEvidence), the verdicts of the
// whole profile table when the judge's are those (refusedBy), the leaf's
// issuer (leafIssuer).
type subjectOnce struct {
	nameEv    []Evidence
	hasNameEv bool
	// all is match.Match of the leaf and the name for every profile of
	// match.Profiles(), in its order, or nil when not known.
	all []match.Verdict
	// issuer is issuerOf's Issuer.String() (leafIssuer).
	issuer   string
	issuerOf *x509.Certificate
	// aiaMissing, when set, keeps chain.intermediate-missing's findings
	// from one observation to the next (the judger's).
	aiaMissing *aiaMissingMemo
}

// Leaf returns the server's certificate, or nil: nil too for the checks
// that are not ChainOnly, to which the judge gives no parsed chain (see
// Chain).
func (s *Subject) Leaf() *x509.Certificate {
	if len(s.Chain) == 0 {
		return nil
	}
	return s.Chain[0]
}

var checkID = regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9]+(-[a-z0-9]+)*)+$`)

// Registry holds checks by ID.
type Registry struct {
	mu     sync.Mutex
	checks map[string]*Check
}

// Register adds c. It refuses an empty or malformed ID, a duplicate ID, a
// missing severity, remedy or Run.
func (r *Registry) Register(c *Check) error {
	switch {
	case c == nil:
		return errors.New("register check: nil check")
	case c.ID == "":
		return errors.New("register check: empty ID")
	case !checkID.MatchString(c.ID):
		return fmt.Errorf("register check %q: ID must be lower case and namespaced, like name.cn-only", c.ID)
	case c.Severity.rank() == 0 && c.Severity != SeverityInfo:
		return fmt.Errorf("register check %q: unknown severity %q", c.ID, c.Severity)
	case c.Title == "" || c.Remedy == "" || c.Citation == "":
		return fmt.Errorf("register check %q: title, citation and remedy are required", c.ID)
	case c.Run == nil:
		return fmt.Errorf("register check %q: no Run function", c.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checks == nil {
		r.checks = map[string]*Check{}
	}
	if _, dup := r.checks[c.ID]; dup {
		return fmt.Errorf("register check %q: duplicate ID", c.ID)
	}
	r.checks[c.ID] = c
	return nil
}

// All returns the registered checks sorted by ID.
func (r *Registry) All() []*Check {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Check, 0, len(r.checks))
	for _, c := range r.checks {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the check with id, or nil.
func (r *Registry) Lookup(id string) *Check {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checks[id]
}

// DefaultRegistry holds certsleuth's built-in checks.
var DefaultRegistry = &Registry{}

// Checks returns the built-in checks sorted by ID: the catalog that
// `certsleuth checks` prints.
func Checks() []*Check { return DefaultRegistry.All() }

// LookupCheck returns the built-in check with id, or nil.
func LookupCheck(id string) *Check { return DefaultRegistry.Lookup(id) }

func mustRegister(cs ...*Check) {
	for _, c := range cs {
		if err := DefaultRegistry.Register(c); err != nil {
			panic(err)
		}
	}
}

// run applies c to s and fills in the finding's defaults.
func (c *Check) run(s *Subject) *Finding {
	f := c.Run(s)
	if f == nil {
		return nil
	}
	c.defaults(s, f)
	return f
}

// appendRun appends what c finds in s to fs: run's finding, or, for a
// check with fill, the finding filled in place.
func (c *Check) appendRun(fs []Finding, s *Subject) []Finding {
	if c.fill == nil {
		if f := c.run(s); f != nil {
			fs = append(fs, *f)
		}
		return fs
	}
	fs = append(fs, Finding{})
	f := &fs[len(fs)-1]
	if !c.fill(s, f) {
		*f = Finding{}
		return fs[:len(fs)-1]
	}
	c.defaults(s, f)
	return fs
}

// defaults fills in what f leaves to c: ID, severity, remedy, citation,
// profile.
func (c *Check) defaults(s *Subject, f *Finding) {
	if f.ID == "" {
		f.ID = c.ID
	}
	if f.Severity == "" {
		f.Severity = c.Severity
	}
	if f.Remedy == "" {
		f.Remedy = c.Remedy
	}
	if f.Citation == "" {
		f.Citation = c.Citation
	}
	if f.Profile == "" {
		if c.PerProfile && s.Profile != nil {
			f.Profile = s.Profile.Name
		} else {
			f.Profile = AllProfiles
		}
	}
}
