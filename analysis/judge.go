package analysis

import "github.com/certsleuth/certsleuth/record"

// Judge gives observations, one at a time as they arrive, the verdicts and
// findings Analyze gives them in the whole trace: the same checks, the same
// roots, and the findings that need an earlier observation (the Outlook
// Anywhere principal an earlier Autodiscover answer required). It is the
// pipeline's judge and attribute stages (see Pipeline) without the look-ahead
// and without keeping the culprits. The proxy's live lines use it, so that
// they agree with its report and with replay of its trace. A Judge is not
// safe for concurrent use.
type Judge struct {
	j       *judger
	t       *OriginTrace
	n       int
	windows bool
}

// NewJudge returns a Judge with opts (as for Analyze; WhatIf is ignored).
func NewJudge(opts Options) *Judge {
	opts = opts.withDefaults()
	opts.WhatIf = nil
	jd := &Judge{j: newJudger(opts), t: newOriginTrace(false)}
	for _, p := range opts.Profiles {
		if p.Name == "windows" {
			jd.windows = true
		}
	}
	return jd
}

// Item judges o, which comes after every observation given before. The
// item's findings, verdicts and chain may be shared with other items: do
// not modify them.
func (j *Judge) Item(o *record.Observation) *Item {
	j.n++
	it := j.j.item(j.n, o)
	j.t.facts(j.n, o)
	it.Origin = attributeItem(j.t, it, j.windows)
	return it
}
