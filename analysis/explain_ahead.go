package analysis

// explainAhead is how many causes ExplainAhead explains before they are
// asked for.
const explainAhead = 64

// ExplainAhead explains the causes cs (r's Causes, or a part of them) in
// another goroutine, in order, up to explainAhead of them before they
// are asked for, as ExplainBrief (or Explain when examples is set) would
// one at a time: a report written after the capture is read (the JSON
// summary) then explains the next causes on the second core while it
// writes one. explain is to be called with cs[0], cs[1], ... in turn
// (called otherwise, it stops the goroutine and explains each cause
// itself), from one goroutine, which must not call other methods of r
// until stop has returned; stop ends the goroutine (at once, whatever is
// left) and may be called more than once.
func (r *Report) ExplainAhead(cs []*Culprit, examples bool) (explain func(*Culprit) *Culprit, stop func()) {
	out := make(chan *Culprit, explainAhead)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		for _, c := range cs {
			select {
			case out <- r.explain(c, examples):
			case <-quit:
				return
			}
		}
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			close(quit)
			<-done
		}
	}
	explain = func(c *Culprit) *Culprit {
		if !stopped {
			if x, ok := <-out; ok && x.Index == c.Index && x.keyBase == c.keyBase {
				return x
			}
			stop() // called out of order, or past cs: one at a time from here on
		}
		return r.explain(c, examples)
	}
	return explain, stop
}
