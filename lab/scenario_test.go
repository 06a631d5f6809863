package lab

import (
	"context"
	"strings"
	"testing"
	"time"
)

func runScenario(t *testing.T, s *Scenario, fixed bool, ca *CA) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, s, fixed, Options{CA: ca})
	if err != nil {
		t.Fatalf("%s (fixed %v): %v", s.Name, fixed, err)
	}
	for _, st := range res.Steps {
		t.Logf("%2d %-8s %s %s [%s] %s %s", st.N, st.Outcome, st.Method, st.URL, st.Origin, st.Err, st.Then)
	}
	return res
}

// TestScenarios runs every scenario as found and fixed: act 1 must warn at
// the expected request for the expected reason, act 2 must not warn.
func TestScenarios(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			res := runScenario(t, s, false, ca)
			c := res.Culprit()
			switch {
			case s.Expect.Culprit == "" && c != nil:
				t.Fatalf("act 1 warned at %s, want no warning", c.URL)
			case s.Expect.Culprit == "":
			case c == nil:
				t.Fatalf("act 1 did not warn, want a warning at %s", s.Expect.Culprit)
			default:
				if c.URL != s.Expect.Culprit || !strings.EqualFold(c.Host, s.Expect.Host) {
					t.Errorf("culprit %s (host %s), want %s (host %s)", c.URL, c.Host, s.Expect.Culprit, s.Expect.Host)
				}
				if c.Origin != s.Expect.Origin || c.Cause != s.Expect.Cause {
					t.Errorf("origin %s cause %s, want %s and %s", c.Origin, c.Cause, s.Expect.Origin, s.Expect.Cause)
				}
				rem := res.Remedies()
				if len(rem) == 0 || !strings.Contains(rem[0].Command, s.Expect.Command) {
					t.Errorf("remedies %+v, want the first to contain %q", rem, s.Expect.Command)
				}
			}
			fixed := runScenario(t, s, true, ca)
			if w := fixed.Warnings(); len(w) > 0 {
				t.Errorf("act 2 (fixed) still warns at %s: %s", w[0].URL, w[0].Reason)
			}
		})
	}
}
