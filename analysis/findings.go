package analysis

import "strings"

// MergeFindings keeps the findings of at least min severity, one per ID,
// with the profiles that share it joined by ", ".
func MergeFindings(fs []Finding, min Severity) []Finding {
	var out []Finding
	idx := map[string]int{}
	for _, f := range fs {
		if f.Severity.rank() < min.rank() {
			continue
		}
		if i, ok := idx[f.ID]; ok {
			if out[i].Profile != AllProfiles && f.Profile != AllProfiles && !strings.Contains(", "+out[i].Profile+", ", ", "+f.Profile+", ") {
				out[i].Profile += ", " + f.Profile
			}
			continue
		}
		idx[f.ID] = len(out)
		out = append(out, f)
	}
	return out
}
