package analysis

import (
	"slices"
	"strings"
	"unsafe"
)

// MergeFindings keeps the findings of at least min severity, one per ID,
// with the profiles that share it joined by ", ". The slice is made once,
// full, and a joined list once per ID (joined one profile at a time, a
// list of 8 profiles was 7 strings, each longer than the one before: a
// cause's first request and examples are merged as they come, and each
// cause once more when explained).
func MergeFindings(fs []Finding, min Severity) []Finding {
	n := 0 // the IDs kept
	for i := range fs {
		if fs[i].Severity.rank() >= min.rank() && !keptBefore(fs, i, min) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Finding, 0, n)
	var lists [][]byte // out[i]'s profiles as joined so far, once more than one
	for _, f := range fs {
		if f.Severity.rank() < min.rank() {
			continue
		}
		// An item has a few distinct IDs: found by scanning, not a map
		// made per call.
		i := slices.IndexFunc(out, func(o Finding) bool { return o.ID == f.ID })
		if i < 0 {
			out = append(out, f)
			continue
		}
		list := out[i].Profile
		if lists != nil && lists[i] != nil {
			list = unsafe.String(unsafe.SliceData(lists[i]), len(lists[i])) // read before the next append
		}
		if list == AllProfiles || f.Profile == AllProfiles || hasProfile(list, f.Profile) {
			continue
		}
		if lists == nil {
			lists = make([][]byte, n)
		}
		if lists[i] == nil {
			lists[i] = append(make([]byte, 0, max(64, 2*(len(list)+2+len(f.Profile)))), list...)
		}
		lists[i] = append(append(lists[i], ", "...), f.Profile...)
	}
	for i, l := range lists {
		if l != nil {
			out[i].Profile = string(l)
		}
	}
	return out
}

// keptBefore reports whether a finding before fs[i] of at least min
// severity has its ID.
func keptBefore(fs []Finding, i int, min Severity) bool {
	for j := range i {
		if fs[j].ID == fs[i].ID && fs[j].Severity.rank() >= min.rank() {
			return true
		}
	}
	return false
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
