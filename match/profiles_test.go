package match

import (
	"slices"
	"strings"
	"testing"
)

// TestProfileCites checks that every row of the profiles table names its
// clients in a sentence (Word) and cites a source for each of its rules, and cites no rule that RuleNames does not
// know (analysis' TestProfileRules checks each rule against a certificate).
func TestProfileCites(t *testing.T) {
	for _, p := range profiles {
		if p.Word == "" {
			t.Errorf("profile %s has no Word to name its clients in a sentence", p.Name)
		}
		for _, r := range ruleNames {
			if strings.TrimSpace(p.cites[r]) == "" {
				t.Errorf("profile %s cites no source for its %q rule", p.Name, r)
			}
		}
		for r := range p.cites {
			if !slices.Contains(ruleNames, r) {
				t.Errorf("profile %s cites a rule %q that is not in ruleNames", p.Name, r)
			}
		}
	}
}
