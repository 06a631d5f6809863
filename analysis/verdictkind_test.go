package analysis

import (
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// TestVerdictKindChecks holds every check that declares the verdict kinds
// it fires for (Check.kinds, which the judge uses to skip it) to them: for
// every profile and every kind a verdict can have, on the checks' chains,
// Run finds something exactly when the kind is one of its kinds, and
// nothing without a verdict.
func TestVerdictKindChecks(t *testing.T) {
	allKinds := []match.Kind{
		match.KindExact, match.KindWildcard, match.KindPartialWildcard, match.KindCNFallback, match.KindIP,
		match.KindMismatch, match.KindCNOnly, match.KindWildcardTooDeep, match.KindWildcardBare, match.KindPartialRejected,
		match.KindWildcardSuffix, match.KindWildcardNumeric, match.KindIPNeedsIPSAN, match.KindTrailingDot, match.KindNoSAN,
		match.KindEmptyName, match.KindInvalidName, match.KindInvalidWildcardSAN,
	}
	var checks []*Check
	for _, c := range DefaultRegistry.All() {
		if c.kinds != nil {
			checks = append(checks, c)
		}
	}
	if len(checks) < 14 { // the name checks
		t.Fatalf("only %d checks declare their verdict kinds", len(checks))
	}
	p := newCheckPKI(t)
	for _, der := range [][][]byte{p.right, p.cnOnly, p.self} {
		chain, err := parseChainDER(der)
		if err != nil {
			t.Fatal(err)
		}
		o := &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: time.Now(), Client: "10.0.0.5:50000",
			Server: "10.0.0.9:443", SNI: "mail.contoso.com", Chain: der, Visibility: record.VisVisible, TLSVersion: "TLS 1.2"}
		for _, pr := range match.Profiles() {
			s := &Subject{Obs: o, Chain: chain, Name: "mail.contoso.com", NameFrom: record.FromSNI, At: o.Time, Profile: pr}
			for _, c := range checks {
				if f := c.Run(s); f != nil {
					t.Errorf("%s, %s, no verdict: found %q", c.ID, pr.Name, f.Summary)
				}
				for _, k := range allKinds {
					v := match.Match(chain[0], s.Name, pr)
					v.Kind, v.By, v.Reason = k, "mail.contoso.com", "reason"
					s.Verdict = &v
					f := c.Run(s)
					if want := slices.Contains(c.kinds, k); (f != nil) != want {
						t.Errorf("%s, %s, verdict kind %s: found %v, kinds %v", c.ID, pr.Name, k, f != nil, c.kinds)
					}
					if c.skips(s) == slices.Contains(c.kinds, k) {
						t.Errorf("%s, kind %s: skips %v", c.ID, k, c.skips(s))
					}
				}
				s.Verdict = nil
			}
		}
	}
}

func parseChainDER(der [][]byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, d := range der {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
