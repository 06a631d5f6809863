package proxy

import (
	"bufio"
	"fmt"
	"io"
	"sync"
)

// liveQueue writes Live's lines to out from a goroutine of its own,
// through a Feed with one subscriber: when out is not read (a paused
// terminal, `| less`, a console in selection mode), lines are dropped and
// counted instead of blocking the tunnels that produce them.
type liveQueue struct {
	out   io.Writer
	bw    *bufio.Writer // to out (run's goroutine only)
	feed  *Feed[string]
	sub   *Sub[string]
	flush chan chan struct{}
	done  chan struct{}
	once  sync.Once
	told  uint64 // drops already reported (run's goroutine only)
	where string // where the dropped lines can still be found
}

func newLiveQueue(out io.Writer, n int, recording bool) *liveQueue {
	q := &liveQueue{out: out, bw: bufio.NewWriterSize(out, 32<<10), feed: NewFeed[string](), flush: make(chan chan struct{}), done: make(chan struct{}),
		where: "the report at the end counts them all"}
	if recording {
		q.where = "the trace has them all"
	}
	q.sub = q.feed.Subscribe(n)
	go q.run()
	return q
}

// run writes the lines as they come, through a buffer emptied whenever
// no line is waiting or it holds as many lines as the queue: under load
// one system call carries many lines, a line never waits in the buffer
// for the next one, and a stalled output holds at most twice the queue.
func (q *liveQueue) run() {
	defer close(q.done)
	defer q.bw.Flush()
	c := q.sub.C()
	batch := 0
	for {
		select {
		case line, ok := <-c:
			if !ok {
				q.tell()
				return
			}
			q.write(line)
			if batch++; len(c) == 0 || batch >= cap(c) {
				q.bw.Flush()
				batch = 0
			}
		case ack := <-q.flush:
			for n := len(c); n > 0; n-- {
				if line, ok := <-c; ok {
					q.write(line)
				}
			}
			q.tell()
			q.bw.Flush()
			batch = 0
			close(ack)
		}
	}
}

func (q *liveQueue) write(line string) {
	q.tell()
	q.bw.WriteString(line)
	q.bw.WriteByte('\n')
}

// tell prints how many lines were dropped since it last did.
func (q *liveQueue) tell() {
	if d := q.sub.Dropped(); d > q.told {
		fmt.Fprintf(q.bw, "certsleuth: %d live lines dropped (the output was not read in time); %s\n", d-q.told, q.where)
		q.told = d
	}
}

// print queues a line, or prints it at once when l has no queue.
func (l *Live) print(line string) {
	if l.q == nil {
		fmt.Fprintln(l.out, line)
		return
	}
	l.q.feed.Publish(line)
}

// Flush waits until every line observed so far has been written (or
// counted as dropped, and that count printed).
func (l *Live) Flush() {
	if l.q == nil {
		return
	}
	ack := make(chan struct{})
	select {
	case l.q.flush <- ack:
		<-ack
	case <-l.q.done:
	}
}

// Close writes the queued lines, says how many were dropped, and stops the
// queue's goroutine; lines observed afterwards are not printed. It does
// nothing without LiveOptions.Queue.
func (l *Live) Close() {
	if l.q == nil {
		return
	}
	l.q.once.Do(l.q.feed.Close)
	<-l.q.done
}

// Dropped is how many live lines were dropped because the output was not
// read in time (always 0 without LiveOptions.Queue).
func (l *Live) Dropped() uint64 {
	if l.q == nil {
		return 0
	}
	return l.q.sub.Dropped()
}
