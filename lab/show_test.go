package lab

import (
	"bytes"
	"context"
	"crypto/x509"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/proxy"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
)

// traces records each act's proxy trace into a buffer, as --record does.
type traces struct {
	bufs map[int]*bytes.Buffer
	ws   map[int]*record.Writer
}

func newTraces() *traces {
	return &traces{bufs: map[int]*bytes.Buffer{}, ws: map[int]*record.Writer{}}
}

func (tr *traces) observers(t *testing.T) func(int) []func(proxy.Event) {
	return func(act int) []func(proxy.Event) {
		b := &bytes.Buffer{}
		w, err := record.NewWriter(b, "lab test")
		if err != nil {
			t.Fatal(err)
		}
		tr.bufs[act], tr.ws[act] = b, w
		return []func(proxy.Event){proxy.Recorder(w, func(err error) { t.Errorf("act %d: record: %v", act, err) })}
	}
}

func play(t *testing.T, s *Scenario, o ShowOptions) *Show {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sh, err := Play(ctx, s, o)
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	return sh
}

// TestShowThroughProxy plays every scenario end to end through the
// certsleuth proxy in mirror mode: certsleuth's analysis of the proxy's
// trace of act 1 must name the scenario's culprit host, origin and remedy
// (Expect), and act 2 (the fix applied) must give no warning and no
// finding. The recorded traces must replay to the same verdicts.
func TestShowThroughProxy(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			tr := newTraces()
			sh := play(t, s, ShowOptions{CA: ca, Observers: tr.observers(t)})
			if len(sh.Acts) != 2 {
				t.Fatalf("%d acts, want 2", len(sh.Acts))
			}
			act1, act2 := sh.Acts[0], sh.Acts[1]
			for _, o := range act1.Observations {
				if o.Kind != record.KindDNS && o.Source != record.SourceProxy {
					t.Errorf("act 1 observation %s has source %q, want the proxy's", analysis.Describe(o), o.Source)
				}
			}
			ex := s.Expect
			cs := act1.Culprits()
			switch {
			case ex.Culprit == "" && len(cs) > 0:
				t.Errorf("act 1: certsleuth found a culprit in a clean configuration: %s", cs[0].Verdict)
			case ex.Culprit == "":
			case len(cs) == 0:
				t.Fatalf("act 1: certsleuth found no culprit in the proxy's trace (%d observations)", len(act1.Observations))
			default:
				c := cs[0]
				if !strings.EqualFold(c.First.Name, ex.Host) {
					t.Errorf("culprit asked for %q, want %q", c.First.Name, ex.Host)
				}
				// The culprit is the request the client first warned at.
				if st := act1.Culprit(); st == nil || act1.CulpritFor(st) != c {
					t.Errorf("certsleuth's first culprit is not the client's first warning (step %v)", st)
				}
				if len(c.Origin) == 0 || Setting(c.Origin[0].Setting) != ex.Origin {
					t.Errorf("origin %+v, want setting %s first", c.Origin, ex.Origin)
				}
				found := false
				for _, r := range c.Remedies {
					found = found || strings.Contains(r.Command, ex.Command)
				}
				if !found {
					t.Errorf("remedies %+v, want one containing %q", c.Remedies, ex.Command)
				}
				if ex.Cause != SettingDefaultBinding && (len(c.Remedies) == 0 || Setting(c.Remedies[0].Setting) != ex.Cause) {
					t.Errorf("first remedy %+v, want setting %s", c.Remedies, ex.Cause)
				}
			}
			// No false culprit: every request certsleuth blames is one
			// the client warned at.
			for _, c := range cs {
				for _, st := range act1.StepsFor(c) {
					if st.Outcome != OutcomeWarned {
						t.Errorf("certsleuth blames step %d (%s %s, %s), where %s did not warn: %s", st.N, st.Method, st.URL, st.Outcome, s.Client.App, c.Verdict)
					}
				}
			}
			if w := act2.Warnings(); len(w) > 0 {
				t.Errorf("act 2 still warns at %s: %s", w[0].URL, w[0].Reason)
			}
			if act2.Report.Warns() {
				t.Errorf("act 2: certsleuth still finds a warning: %s", act2.Culprits()[0].Verdict)
			}
			if p := sh.Problems(); len(p) > 0 {
				t.Errorf("Problems() = %q, want none", p)
			}
			// Replay: the recorded traces give the same verdicts.
			for _, a := range sh.Acts {
				if err := tr.ws[a.N].Close(); err != nil {
					t.Fatal(err)
				}
				obs, _, err := record.ReadAll(tr.bufs[a.N], "act trace")
				if err != nil {
					t.Fatalf("act %d: read the recorded trace: %v", a.N, err)
				}
				roots := x509.NewCertPool()
				roots.AddCert(ca.Cert)
				rep := analysis.Analyze(obs, analysis.Options{Profiles: []*match.Profile{sh.Profile}, Roots: roots})
				if got, want := verdicts(rep), verdicts(a.Report); got != want {
					t.Errorf("act %d: the replayed trace says\n%s\nthe act said\n%s", a.N, got, want)
				}
				// The same report, observation numbers (#N) included.
				var got, want bytes.Buffer
				if err := report.Render(&got, rep, "text", report.RenderOptions{Title: "t"}); err != nil {
					t.Fatal(err)
				}
				if err := report.Render(&want, a.Report, "text", report.RenderOptions{Title: "t"}); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("act %d: replaying the recorded trace gives\n%s\nthe demo's report is\n%s", a.N, got.String(), want.String())
				}
			}
		})
	}
}

// verdicts sums up a report's culprits: name, origin, remedies.
func verdicts(r *analysis.Report) string {
	var b strings.Builder
	for _, c := range r.Culprits() {
		b.WriteString(c.First.Name)
		for _, o := range c.Origin {
			b.WriteString(" <- " + string(o.Kind) + ":" + o.Setting)
		}
		for _, rm := range c.Remedies {
			b.WriteString(" | " + rm.Command)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestShowDirectMatchesProxy checks that the proxy in mirror mode changes
// nothing the client sees: the same steps warn, for the same reasons,
// with and without it.
func TestShowDirectMatchesProxy(t *testing.T) {
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			via := play(t, s, ShowOptions{})
			direct := play(t, s, ShowOptions{Direct: true})
			for i := range via.Acts {
				a, b := outline(via.Acts[i]), outline(direct.Acts[i])
				if a != b {
					t.Errorf("act %d through the proxy:\n%s\ndirect:\n%s", via.Acts[i].N, a, b)
				}
			}
		})
	}
}

func outline(a *Act) string {
	var b strings.Builder
	for _, st := range a.Steps {
		b.WriteString(string(st.Outcome) + " " + st.Method + " " + st.URL + " " + st.Reason + "\n")
	}
	return b.String()
}

// TestShowProfileOverride: judged with another client's rules the
// expectation of act 1 is not held against the show, act 2's still is.
func TestShowProfileOverride(t *testing.T) {
	s, err := LookupScenario("outlook-anywhere-principal")
	if err != nil {
		t.Fatal(err)
	}
	p, err := match.LookupProfile("apple")
	if err != nil {
		t.Fatal(err)
	}
	sh := play(t, s, ShowOptions{Profile: p})
	if !sh.ProfileOverridden || sh.Profile.Name != "apple" {
		t.Fatalf("profile %s overridden %v", sh.Profile.Name, sh.ProfileOverridden)
	}
	if p := sh.Problems(); len(p) > 0 {
		t.Errorf("Problems() = %q, want none", p)
	}
}

// TestShowText checks the story's landmarks for the default scenario and
// that colour appears only when asked for.
func TestShowText(t *testing.T) {
	s, err := LookupScenario(DefaultScenario)
	if err != nil {
		t.Fatal(err)
	}
	sh := play(t, s, ShowOptions{})
	var plain, color bytes.Buffer
	if err := sh.WriteText(&plain, TextOptions{Width: 1000}); err != nil { // no wrapping: landmarks stay whole
		t.Fatal(err)
	}
	if err := sh.WriteText(&color, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	out := plain.String()
	for _, want := range []string{
		"ACT 1", "ACT 2", "POST https://exch01.contoso.local/Autodiscover/Autodiscover.xml",
		"The name of the security", "culprit", "service connection point",
		"Set-ClientAccessService -Identity EXCH01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml",
		"no request would make a client warn", "The fix works.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("story lacks %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without TextOptions.Color")
	}
	if !strings.Contains(color.String(), "\x1b[") {
		t.Error("no colour with TextOptions.Color")
	}
	var h bytes.Buffer
	if err := sh.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Act 1", "Act 2", "exch01.contoso.local", "Set-ClientAccessService"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("handout lacks %q", want)
		}
	}
}

// BenchmarkPlayDefault measures the default demo (both acts through the
// proxy, analysis included): the README promises well under 5 seconds.
func BenchmarkPlayDefault(b *testing.B) {
	s, err := LookupScenario(DefaultScenario)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Play(context.Background(), s, ShowOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestShowTextLayout reads every scenario's story as printed (80 columns,
// no colour): no line is wider than 80 columns unless it is a command or
// URL that must stay whole; every command is printed whole on one line;
// and the numbers it gives are the story's own step numbers ("step 3"),
// never the analysis's observation indexes ("#3"), which count the
// client's DNS notes and disagree with a replay of the recorded trace.
func TestShowTextLayout(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			sh := play(t, s, ShowOptions{CA: ca})
			var b bytes.Buffer
			if err := sh.WriteText(&b, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			var cmds []string
			for _, ch := range s.Changes {
				cmds = append(cmds, ch.Command)
			}
			for _, c := range sh.Acts[0].Culprits() {
				for _, r := range c.Remedies {
					if isCommand(r.Command) {
						cmds = append(cmds, r.Command)
					}
					for _, ov := range r.Other {
						cmds = append(cmds, ov.Command)
					}
				}
			}
			lines := strings.Split(out, "\n")
			for _, c := range cmds {
				whole := false
				for _, l := range lines {
					whole = whole || strings.HasSuffix(strings.TrimSpace(l), c)
				}
				if !whole {
					t.Errorf("command not printed whole on one line: %s", c)
				}
			}
			for i, l := range lines {
				if len(l) <= 80 {
					continue
				}
				ok := false
				for _, c := range cmds {
					ok = ok || strings.HasSuffix(l, c)
				}
				if f := strings.Fields(l); !ok && len(f) == 1 && strings.Contains(f[0], "://") {
					ok = true // a URL alone on its line
				}
				if !ok {
					t.Errorf("line %d is %d columns wide: %s", i+1, len(l), l)
				}
			}
			if m := regexp.MustCompile(`#\d+`).FindString(out); m != "" {
				t.Errorf("the story says %q, an analysis index, not a step", m)
			}
			// Every "step N" names a step of the act it is in.
			for _, act := range strings.Split(out, "\nACT ")[1:] {
				n := 0
				for _, l := range strings.Split(act, "\n") {
					if m := regexp.MustCompile(`^ *(\d+)\. `).FindStringSubmatch(l); m != nil && !strings.Contains(l, "culprit") {
						n = max(n, atoi(m[1]))
					}
				}
				for _, m := range regexp.MustCompile(`\bsteps? ((?:\d+(?:, | and )?)+)`).FindAllStringSubmatch(act, -1) {
					for _, d := range regexp.MustCompile(`\d+`).FindAllString(m[1], -1) {
						if k := atoi(d); k < 1 || k > n {
							t.Errorf("act says %q, but it has steps 1 to %d", m[0], n)
						}
					}
				}
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestShowDefaultVerdict: act 1 of the default demo ends with certsleuth's
// verdict giving all three commands, filled in with the server and the
// name on the certificate, each whole on one line; and its origin points
// at the steps that made the connections (the SCP request is step 1, the
// Autodiscover answer naming EWS and OAB is step 3).
func TestShowDefaultVerdict(t *testing.T) {
	s, err := LookupScenario(DefaultScenario)
	if err != nil {
		t.Fatal(err)
	}
	sh := play(t, s, ShowOptions{})
	var b bytes.Buffer
	if err := sh.WriteText(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	act1 := out[strings.Index(out, "ACT 1"):strings.Index(out, "ACT 2")]
	verdict := act1[strings.Index(act1, "certsleuth on the proxy"):]
	for _, want := range []string{
		"remedy       Set-ClientAccessService -Identity EXCH01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml\n",
		"remedy 2     Set-WebServicesVirtualDirectory -Identity \"EXCH01\\EWS (Default Web Site)\" -InternalUrl https://mail.contoso.com/EWS/Exchange.asmx\n",
		"remedy 3     Set-OabVirtualDirectory -Identity \"EXCH01\\OAB (Default Web Site)\" -InternalUrl https://mail.contoso.com/OAB\n",
		"steps 1, 5 and 6",
	} {
		if !strings.Contains(verdict, want) {
			t.Errorf("act 1's verdict lacks %q:\n%s", want, verdict)
		}
	}
	flat := strings.Join(strings.Fields(verdict), " ")
	for _, want := range []string{"what step 1 asked for", "EwsUrl (step 3)", "OABUrl (step 3)"} {
		if !strings.Contains(flat, want) {
			t.Errorf("act 1's verdict lacks %q:\n%s", want, verdict)
		}
	}
}

// TestShowCleanOnce: with nothing to change, act 2 is said in a sentence,
// not told step by step a second time.
func TestShowCleanOnce(t *testing.T) {
	s, err := LookupScenario("clean")
	if err != nil {
		t.Fatal(err)
	}
	sh := play(t, s, ShowOptions{})
	var b bytes.Buffer
	if err := sh.WriteText(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "Autodiscover: the SCP URL from Active Directory"); n != 1 {
		t.Errorf("the SCP step is told %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "ACT 2: nothing to change") || strings.Contains(out, "act 2:") {
		t.Errorf("act 2 of the clean scenario:\n%s", out)
	}
}

// TestHandoutHTML plays the scenarios whose reports hold prose remedies
// and checks the handout: every element id is unique and every in-page
// link has its target (the two acts' reports no longer share #verdict
// and #obs-1), both acts' pictures are there side by side, the page is
// centred in a <main> like the report, and a remedy in words is not set
// as code.
func TestHandoutHTML(t *testing.T) {
	for _, name := range []string{DefaultScenario, "root-domain-website", "http-redirect"} {
		t.Run(name, func(t *testing.T) {
			s, err := LookupScenario(name)
			if err != nil {
				t.Fatal(err)
			}
			sh, err := Play(context.Background(), s, ShowOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var h bytes.Buffer
			if err := sh.WriteHTML(&h); err != nil {
				t.Fatal(err)
			}
			page := h.String()
			ids := map[string]int{}
			for _, m := range regexp.MustCompile(`\bid="([^"]*)"`).FindAllStringSubmatch(page, -1) {
				ids[m[1]]++
			}
			for id, n := range ids {
				if n > 1 {
					t.Errorf("id %q is used %d times", id, n)
				}
			}
			for _, m := range regexp.MustCompile(`href="#([^"]*)"`).FindAllStringSubmatch(page, -1) {
				if ids[m[1]] == 0 {
					t.Errorf("link to #%s has no target", m[1])
				}
			}
			for _, want := range []string{`id="picture-act1"`, `id="picture-act2"`, `class="pictures"`, `<main class="handout">`, "act1-verdict", "act2-timeline"} {
				if !strings.Contains(page, want) {
					t.Errorf("handout lacks %s", want)
				}
			}
			if n := strings.Count(page, `<figure id="picture-act`); n != 2 {
				t.Errorf("%d pictures side by side, want 2", n)
			}
			if strings.Count(page, "<main") != 1 {
				t.Error("the embedded reports keep their <main>")
			}
			for _, m := range regexp.MustCompile(`(?s)<pre class="cmd">(.*?)</pre>`).FindAllStringSubmatch(page, -1) {
				if !isCommand(html.UnescapeString(m[1])) {
					t.Errorf("prose set as code: %s", m[1])
				}
			}
		})
	}
}
