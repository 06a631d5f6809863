package analysis

import (
	"slices"
	"strings"
)

// MergeFindings keeps the findings of at least min severity, one per ID,
// with the profiles that share it joined by ", ".
func MergeFindings(fs []Finding, min Severity) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Severity.rank() < min.rank() {
			continue
		}
		// An item has a few distinct IDs: found by scanning, not a map
		// made per call (a cause's first request and examples are merged
		// as they come, and each cause once more when explained).
		i := slices.IndexFunc(out, func(o Finding) bool { return o.ID == f.ID })
		if i >= 0 {
			if out[i].Profile != AllProfiles && f.Profile != AllProfiles && !hasProfile(out[i].Profile, f.Profile) {
				out[i].Profile += ", " + f.Profile
			}
			continue
		}
		out = append(out, f)
	}
	return out
}

// hasProfile reports whether the ", "-joined list has p, as
// strings.Contains(", "+list+", ", ", "+p+", ") does, without making
// either.
func hasProfile(list, p string) bool {
	if strings.Contains(p, ", ") {
		return strings.Contains(", "+list+", ", ", "+p+", ") // p is a list itself
	}
	for rest := list; ; {
		item, after, more := strings.Cut(rest, ", ")
		if item == p {
			return true
		}
		if !more {
			return false
		}
		rest = after
	}
}

// Equal reports whether f and g have the same fields, their evidence
// compared item by item, and nil evidence apart from empty (they encode
// differently in JSON).
func (f *Finding) Equal(g *Finding) bool {
	return f.ID == g.ID && f.Severity == g.Severity && f.Profile == g.Profile && f.Summary == g.Summary &&
		f.Why == g.Why && f.Remedy == g.Remedy && f.Citation == g.Citation &&
		(f.Evidence == nil) == (g.Evidence == nil) && equalEvidence(f.Evidence, g.Evidence)
}
