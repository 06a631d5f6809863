package proxy

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// TestFeed: every subscriber gets what fits in its buffer, the rest is
// counted as dropped for it alone; Close ends the channels after the
// buffered values; Publish after Close and Subscribe after Close are safe.
func TestFeed(t *testing.T) {
	f := NewFeed[int]()
	small, big := f.Subscribe(2), f.Subscribe(10)
	for i := range 5 {
		f.Publish(i)
	}
	if d := small.Dropped(); d != 3 {
		t.Errorf("small subscriber dropped %d, want 3", d)
	}
	if d := big.Dropped(); d != 0 {
		t.Errorf("big subscriber dropped %d, want 0", d)
	}
	small.Close()
	small.Close() // twice: harmless
	var got []int
	for v := range small.C() {
		got = append(got, v)
	}
	if fmt.Sprint(got) != "[0 1]" {
		t.Errorf("small subscriber received %v, want the first two [0 1]", got)
	}
	f.Publish(5) // small is gone: only big gets it
	f.Close()
	f.Close()
	f.Publish(6) // after Close: nothing, no panic
	got = nil
	for v := range big.C() {
		got = append(got, v)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 5]" {
		t.Errorf("big subscriber received %v, want [0 1 2 3 4 5]", got)
	}
	late := f.Subscribe(1)
	if _, ok := <-late.C(); ok {
		t.Error("a subscription made after Close has an open channel")
	}
	late.Close()
}

// TestFeedConcurrent publishes from many goroutines while subscribers come
// and go (run with -race): nothing blocks, every value is delivered or
// counted.
func TestFeedConcurrent(t *testing.T) {
	f := NewFeed[int]()
	keep := f.Subscribe(1 << 16)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				f.Publish(g*1000 + i)
				if i%100 == 0 {
					s := f.Subscribe(1)
					f.Publish(-1)
					s.Close()
				}
			}
		}()
	}
	wg.Wait()
	f.Close()
	n := 0
	for v := range keep.C() {
		if v >= 0 {
			n++
		}
	}
	if n != 8000 || keep.Dropped() != 0 {
		t.Errorf("received %d values (dropped %d), want all 8000", n, keep.Dropped())
	}
}

// TestLiveUnreadOutput: with a queue, an output nobody reads (a pipe with
// no reader, like `| less` when the user scrolls) never blocks Observe;
// the lines that did not fit are dropped, counted, and said once the
// output moves again; the report still counts every request.
func TestLiveUnreadOutput(t *testing.T) {
	pr, pw := io.Pipe()
	l := NewLive(pw, LiveOptions{Queue: 4, Recording: true})
	const n = 100
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			l.Observe(Event{Obs: &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(),
				Method: "GET", URL: fmt.Sprintf("http://mail.contoso.test/%d", i), Status: 200, Visibility: record.VisNone}})
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Observe blocked on an output nobody reads")
	}
	if seen, _ := l.Counts(); seen != n {
		t.Errorf("counted %d requests, want %d: dropping a line must not drop the request", seen, n)
	}
	var lines []string
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}()
	l.Close()
	pw.Close()
	<-read
	// At most one batch (as many lines as the queue holds) was in the
	// writer's hands when the output stalled and 4 were queued: 4 to 8
	// printed, the rest dropped and said in one or more notes (the first
	// may come before the stalled write).
	printed, dropped := 0, 0
	for _, ln := range lines {
		var d int
		if _, err := fmt.Sscanf(ln, "certsleuth: %d live lines dropped (the output was not read in time); the trace has them all", &d); err == nil {
			dropped += d
			continue
		}
		if !strings.Contains(ln, "GET http://mail.contoso.test/") {
			t.Errorf("unexpected line %q", ln)
		}
		printed++
	}
	if printed < 4 || printed > 8 || printed+dropped != n || l.Dropped() != uint64(dropped) {
		t.Errorf("%d lines printed, %d said dropped (Dropped() %d), want 4 to 8 printed and the rest of %d said dropped:\n%s", printed, dropped, l.Dropped(), n, strings.Join(lines, "\n"))
	}
}
