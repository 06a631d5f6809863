package analysis

import (
	"encoding/json"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
)

// Judge gives observations, one at a time as they arrive, the verdicts and
// findings Analyze gives them in the whole trace: the same checks, the same
// roots, and the findings that need an earlier observation (the Outlook
// Anywhere principal an earlier Autodiscover answer required). The proxy's
// live lines use it, so that they agree with its report and with replay of
// its trace. A Judge is not safe for concurrent use.
type Judge struct {
	opts    Options
	answers []*record.Observation // observations with a body (Autodiscover answers), oldest first
	cache   map[string]*Item
}

// maxJudgeAnswers bounds the Autodiscover answers a Judge keeps (a client
// asks a few times an hour); past it the oldest are dropped.
const maxJudgeAnswers = 1000

// NewJudge returns a Judge with opts (as for Analyze; WhatIf is ignored).
func NewJudge(opts Options) *Judge {
	if opts.Cache == nil {
		opts.Cache = &certs.Cache{}
	}
	opts.WhatIf = nil
	return &Judge{opts: opts, cache: map[string]*Item{}}
}

// Item judges o, which comes after every observation given before. The
// item is shared with later calls for the same facts: do not modify it.
func (j *Judge) Item(o *record.Observation) *Item {
	defer j.remember(o)
	if len(j.answers) > 0 && outlookAnywhereConn(&Item{Obs: o}) {
		// It may be judged against a principal an answer required.
		rep := Analyze(append(j.answers[:len(j.answers):len(j.answers)], o), j.opts)
		return rep.Items[len(rep.Items)-1]
	}
	k := j.key(o)
	if it, ok := j.cache[k]; ok && k != "" {
		return it
	}
	it := Analyze([]*record.Observation{o}, j.opts).Items[0]
	if k != "" {
		if len(j.cache) > 50000 {
			clear(j.cache)
		}
		j.cache[k] = it
	}
	return it
}

// remember keeps o when later observations may be judged against it.
func (j *Judge) remember(o *record.Observation) {
	if o.Body == nil {
		return
	}
	if len(j.answers) >= maxJudgeAnswers {
		j.answers = append(j.answers[:0], j.answers[1:]...)
	}
	c := *o
	j.answers = append(j.answers, &c)
}

// key is what the checks of one observation depend on, or "" when o is not
// to be cached (it has a body to read). The time counts only as whether each
// certificate of the chain was within its dates.
func (j *Judge) key(o *record.Observation) string {
	if o.Body != nil {
		return ""
	}
	c := *o
	c.Time, c.Duration, c.Client, c.Conn, c.Chain = time.Time{}, 0, "", "", nil
	c.ChainID = record.ChainID(o.Chain)
	dates := make([]byte, 0, 8)
	if chain, _ := j.opts.Cache.ParseChain(o.Chain); len(chain) > 0 {
		at := o.Time
		if at.IsZero() {
			at = j.opts.Now
		}
		for _, x := range chain {
			switch {
			case at.IsZero():
				dates = append(dates, '?')
			case at.After(x.NotAfter):
				dates = append(dates, 'x')
			case at.Before(x.NotBefore):
				dates = append(dates, 'y')
			default:
				dates = append(dates, 'v')
			}
		}
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return ""
	}
	return string(dates) + "|" + string(b)
}
