package analysis

// NoteTotal counts the items no client warns about that carry one check's
// note or information (a failed connection, a certificate cut by the snap
// length, a name matched through the CN), with the first of them, so that
// a report of any size can say what it saw without its item list.
type NoteTotal struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Count    int      `json:"count"`
	// Index, Request and Summary are the first such item's: its index,
	// what it was (Describe) and the finding's summary.
	Index   int    `json:"index"`
	Request string `json:"request"`
	Summary string `json:"summary"`
}

// maxNotes bounds Totals.Notes: one per check ID, and there are fewer
// checks than that.
const maxNotes = 100

// countNotes adds the notes and information of it (which no client warns
// about) to t.Notes, one per check ID.
func (t *Totals) countNotes(it *Item) {
	// Each ID once, as MergeFindings(it.Findings, SeverityInfo) lists
	// them (the first finding of each), without merging their profiles:
	// this runs for every item that warns of nothing.
	for k := range it.Findings {
		f := &it.Findings[k]
		if f.Severity.rank() < SeverityInfo.rank() || keptBefore(it.Findings, k, SeverityInfo) {
			continue
		}
		i := 0
		for i < len(t.Notes) && t.Notes[i].ID != f.ID {
			i++
		}
		if i == len(t.Notes) {
			if len(t.Notes) == maxNotes {
				continue
			}
			t.Notes = append(t.Notes, NoteTotal{ID: f.ID, Severity: f.Severity, Index: it.Index, Request: Describe(it.Obs), Summary: StripProfileTitle(f.Summary)})
		}
		t.Notes[i].Count++
	}
}
