package lab

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/proxy"
	"github.com/certsleuth/certsleuth/record"
)

// Show is a scenario told in acts: act 1 runs the client against the
// configuration as found, act 2 against it with the scenario's Changes
// applied. Each act runs a fresh lab and a fresh certsleuth proxy, and
// certsleuth's analysis judges what the proxy recorded.
type Show struct {
	Scenario *Scenario
	// Profile is the client profile the scripted client judged with.
	Profile *match.Profile
	// ProfileOverridden: the profile is not the scenario client's own, so
	// act 1 need not warn where Expect says.
	ProfileOverridden bool
	// Direct: the client connected to the lab without the proxy.
	Direct bool
	Acts   []*Act
}

// Act is one run of the scenario's client.
type Act struct {
	N int // 1 or 2
	// Applied are the changes made to the configuration before this act.
	Applied []Change
	*Result
	// Report is certsleuth's analysis of the act's trace
	// (Result.Observations), for the client's profile, trusting the lab CA.
	Report   *analysis.Report
	culprits []*analysis.Culprit
}

// ShowOptions control Play.
type ShowOptions struct {
	// Profile overrides the scenario client's profile; nil keeps it.
	Profile *match.Profile
	// OnlyFixed plays act 2 alone (the configuration with the fix).
	OnlyFixed bool
	// Direct connects the client to the lab without the proxy; the trace
	// is then the client's own record (source "demo").
	Direct bool
	// Observers returns extra proxy observers for act n (1 or 2), such as
	// proxy.Recorder writing a trace; nil means none.
	Observers func(act int) []func(proxy.Event)
	// CA issues the lab's certificates; nil generates one for the show.
	CA *CA
}

// Play runs the show for s: act 1 and act 2, or act 2 alone.
func Play(ctx context.Context, s *Scenario, o ShowOptions) (*Show, error) {
	ca := o.CA
	if ca == nil {
		var err error
		if ca, err = NewCA(); err != nil {
			return nil, err
		}
	}
	sh := &Show{Scenario: s, Direct: o.Direct, Profile: o.Profile}
	if sh.Profile == nil {
		p, err := match.LookupProfile(s.Client.Profile)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		sh.Profile = p
	} else {
		sh.ProfileOverridden = sh.Profile.Name != s.Client.Profile
	}
	acts := []int{1, 2}
	if o.OnlyFixed {
		acts = []int{2}
	}
	for _, n := range acts {
		opts := Options{Profile: sh.Profile, CA: ca, Proxy: !o.Direct}
		if o.Observers != nil && !o.Direct {
			opts.ProxyObservers = o.Observers(n)
		}
		res, err := Run(ctx, s, n == 2, opts)
		if err != nil {
			return sh, fmt.Errorf("scenario %s, act %d: %w", s.Name, n, err)
		}
		a := &Act{N: n, Result: res, Report: res.Analyze()}
		if n == 2 {
			a.Applied = s.Changes
		}
		a.culprits = a.Report.Culprits()
		sh.Acts = append(sh.Acts, a)
	}
	return sh, nil
}

// Culprits returns certsleuth's culprits for the act, first occurrence first.
func (a *Act) Culprits() []*analysis.Culprit { return a.culprits }

// CulpritFor returns the analysis culprit whose requests include what was
// recorded for st, or nil.
func (a *Act) CulpritFor(st *Step) *analysis.Culprit {
	recorded := st.Recorded
	if len(recorded) == 0 && st.Obs != nil {
		recorded = []*record.Observation{st.Obs}
	}
	for _, it := range a.Report.Items {
		for _, o := range recorded {
			if it.Obs != o {
				continue
			}
			if cause := a.Report.CauseOf(it.Index); cause != nil {
				for _, c := range a.culprits {
					if c.Index == cause.Index {
						return c
					}
				}
			}
		}
	}
	return nil
}

// StepsFor returns the steps whose recorded requests belong to c, in order.
func (a *Act) StepsFor(c *analysis.Culprit) []*Step {
	var out []*Step
	for _, st := range a.Steps {
		if a.CulpritFor(st) == c {
			out = append(out, st)
		}
	}
	return out
}

// Problems lists where the show differs from what its scenario expects, in
// words; none means the story ran as expected. Act 1 must warn first at
// Expect.Culprit for Expect.Host, and certsleuth's analysis of its trace
// must name Expect.Host with a remedy containing Expect.Command; act 2 must
// not warn, and its analysis must find nothing. With an overridden profile
// only act 2 is held to this.
func (sh *Show) Problems() []string {
	var out []string
	ex := sh.Scenario.Expect
	for _, a := range sh.Acts {
		switch {
		case a.N == 2 || ex.Culprit == "":
			if w := a.Warnings(); len(w) > 0 {
				out = append(out, fmt.Sprintf("act %d: %s still warns at %s: %s", a.N, a.Client.App, w[0].URL, w[0].Reason))
			}
			if cs := a.Culprits(); len(cs) > 0 {
				out = append(out, fmt.Sprintf("act %d: certsleuth still finds a culprit: %s", a.N, cs[0].Verdict))
			}
		case sh.ProfileOverridden:
		default:
			out = append(out, a.expectProblems(ex)...)
		}
	}
	return out
}

func (a *Act) expectProblems(ex Expect) []string {
	var out []string
	c := a.Culprit()
	switch {
	case c == nil:
		return append(out, fmt.Sprintf("act 1: %s did not warn; expected a warning at %s", a.Client.App, ex.Culprit))
	case c.URL != ex.Culprit || !strings.EqualFold(c.Host, ex.Host):
		out = append(out, fmt.Sprintf("act 1: %s first warned at %s (%s); expected %s (%s)", a.Client.App, c.URL, c.Host, ex.Culprit, ex.Host))
	}
	cs := a.Culprits()
	if len(cs) == 0 {
		return append(out, "act 1: certsleuth found no culprit in the proxy's trace")
	}
	if !strings.EqualFold(cs[0].First.Name, ex.Host) {
		out = append(out, fmt.Sprintf("act 1: certsleuth's first culprit is %s; expected %s", cs[0].First.Name, ex.Host))
	}
	found := false
	for _, r := range cs[0].Remedies {
		found = found || strings.Contains(r.Command, ex.Command)
	}
	if !found {
		out = append(out, fmt.Sprintf("act 1: certsleuth's remedy does not mention %s", ex.Command))
	}
	return out
}

// certLabel names the lab certificate whose DER is der ("" if none).
func (l *Lab) certLabelDER(der []byte) string {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return ""
	}
	return l.CertLabel(c)
}
