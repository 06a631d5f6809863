package proxy

import (
	"sync"
	"sync/atomic"
)

// Feed hands values to any number of subscribers without ever making the
// publisher wait. Each subscriber has a bounded buffer of its own; when a
// subscriber falls behind and its buffer is full, the value is dropped for
// that subscriber alone and counted (Sub.Dropped). A stalled reader (a
// terminal nobody reads, a browser tab in the background) therefore costs
// at most its buffer and never slows the tunnels.
//
// The live lines (Live with LiveOptions.Queue) go through a Feed, and a
// Feed of Events serves other live views:
//
//	f := proxy.NewFeed[proxy.Event]()
//	cfg.Observers = append(cfg.Observers, f.Publish) // after the Recorder: it sets Obs.ChainID
//	sub := f.Subscribe(256)
//	defer sub.Close()
//	for ev := range sub.C() { ... } // ends at sub.Close() or f.Close()
//
// Values are shared, not copied: subscribers must not modify them, and an
// Event's Obs must not be modified once it has been published. The zero
// Feed is not usable; use NewFeed. Feed is safe for concurrent use.
type Feed[T any] struct {
	mu     sync.RWMutex
	subs   map[*Sub[T]]struct{}
	closed bool
}

// NewFeed makes an empty Feed.
func NewFeed[T any]() *Feed[T] { return &Feed[T]{subs: map[*Sub[T]]struct{}{}} }

// Publish hands v to every subscriber whose buffer has room and counts a
// drop for the others. It never blocks; after Close it does nothing. Its
// signature fits Config.Observers for a Feed[Event].
func (f *Feed[T]) Publish(v T) {
	f.mu.RLock()
	for s := range f.subs {
		select {
		case s.ch <- v:
		default:
			s.dropped.Add(1)
		}
	}
	f.mu.RUnlock()
}

// Len is how many subscribers there are now.
func (f *Feed[T]) Len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.subs)
}

// Subscribe adds a subscriber that buffers up to n values (n < 1 means 1).
// After Close, the returned Sub's channel is already closed.
func (f *Feed[T]) Subscribe(n int) *Sub[T] {
	s := &Sub[T]{f: f, ch: make(chan T, max(n, 1))}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(s.ch)
		s.gone = true
		return s
	}
	f.subs[s] = struct{}{}
	return s
}

// Close ends the feed: every subscriber's channel is closed once its
// buffered values have been received, and later Publish calls do nothing.
func (f *Feed[T]) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	for s := range f.subs {
		s.gone = true
		close(s.ch)
	}
	clear(f.subs)
}

// Sub is one subscription to a Feed.
type Sub[T any] struct {
	f       *Feed[T]
	ch      chan T
	dropped atomic.Uint64
	gone    bool // guarded by f.mu
}

// C is the channel the subscriber receives from. It is closed by Close or
// by the Feed's Close.
func (s *Sub[T]) C() <-chan T { return s.ch }

// Dropped is how many values were not delivered because the buffer was
// full, since the subscription began.
func (s *Sub[T]) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription and closes its channel (values still
// buffered can be received). Calling it more than once is harmless.
func (s *Sub[T]) Close() {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if s.gone {
		return
	}
	s.gone = true
	delete(s.f.subs, s)
	close(s.ch)
}
