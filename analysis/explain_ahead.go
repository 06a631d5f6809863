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
//
// A culprit explain returns is the caller's until the next call of
// explain or stop, no longer: it is made of the memory its requests were
// read back into (their bytes, which its texts share, and the items
// decoded), which the causes explained after it reuse (read back into
// new memory, they were half of what explaining hs.pcap's 9,656 causes
// allocated). Copy what is to be kept (the JSON summary writes each cause
// before it asks for the next).
func (r *Report) ExplainAhead(cs []*Culprit, examples bool) (explain func(*Culprit) *Culprit, stop func()) {
	type explained struct {
		c *Culprit
		s *readSlot // what c's requests were read into
	}
	out := make(chan explained, explainAhead)
	// free holds the slots of the culprits the caller is done with.
	free := make(chan *readSlot, explainAhead+2)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		for _, c := range cs {
			var s *readSlot
			select {
			case s = <-free:
				s.reset()
			default:
				s = &readSlot{}
			}
			select {
			case out <- explained{r.explainInto(c, examples, s), s}:
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
	var held *readSlot // the slot of the culprit last returned
	explain = func(c *Culprit) *Culprit {
		if held != nil {
			select {
			case free <- held:
			default:
			}
			held = nil
		}
		if !stopped {
			if x, ok := <-out; ok && x.c.Index == c.Index && x.c.keyBase == c.keyBase {
				held = x.s
				return x.c
			}
			stop() // called out of order, or past cs: one at a time from here on
		}
		return r.explain(c, examples)
	}
	return explain, stop
}
