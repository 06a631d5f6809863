package proxy

import (
	"bufio"
	"errors"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// MaxHeaderBytes bounds the header block of a request inside a tunnel (and
// of the server's response), as net/http's server bounds requests on the
// plain proxy path (http.DefaultMaxHeaderBytes, 1 MiB, plus the same 4 KiB
// of slack). A request over it is answered 431 Request Header Fields Too
// Large (RFC 6585 §5) and the tunnel closed; a response over it, 502.
// Bodies are streamed, never held whole.
const MaxHeaderBytes = 1 << 20

// errHeaderTooLarge is what a connReader returns past its limit.
var errHeaderTooLarge = errors.New("header block larger than 1 MiB")

// connReader reads a connection for one side of a tunnel's HTTP relay. It
// counts the bytes read while a header block is being read (limit), and
// can wait for the next request's first byte without holding a buffer
// (wait), so an idle keep-alive tunnel keeps no 16 KiB buffers.
type connReader struct {
	r      io.Reader
	left   int64 // bytes still allowed; < 0: no limit (a body is being read)
	hit    bool  // the limit stopped a read
	peeked [1]byte
	has    bool // peeked holds the next byte
}

// limit starts counting a header block; unlimit stops.
func (c *connReader) limit()   { c.left, c.hit = MaxHeaderBytes+4096, false }
func (c *connReader) unlimit() { c.left = -1 }

func (c *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.left == 0 {
		c.hit = true
		return 0, errHeaderTooLarge
	}
	if c.left > 0 && int64(len(p)) > c.left {
		p = p[:c.left]
	}
	var n int
	var err error
	if c.has {
		p[0], c.has, n = c.peeked[0], false, 1
	} else {
		n, err = c.r.Read(p)
	}
	if c.left > 0 {
		c.left -= int64(n)
	}
	return n, err
}

// wait blocks until the peer sends a byte, and keeps it for Read.
func (c *connReader) wait() error {
	if c.has {
		return nil
	}
	for {
		n, err := c.r.Read(c.peeked[:])
		if n == 1 {
			c.has = true
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// The relay's 16 KiB buffers are taken for a request and given back once
// it is answered, so idle tunnels hold none.
var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}
	// lent counts the buffers taken and not given back (for the tests: an
	// idle tunnel must hold none).
	lent atomic.Int64
)

func getReader(r io.Reader) *bufio.Reader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	lent.Add(1)
	return br
}

func getWriter(w io.Writer) *bufio.Writer {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(w)
	lent.Add(1)
	return bw
}

// putReader gives br back if it holds nothing; it returns the reader to use
// from now on (nil when given back).
func putReader(br *bufio.Reader) *bufio.Reader {
	if br == nil || br.Buffered() > 0 {
		return br
	}
	br.Reset(nil)
	readers.Put(br)
	lent.Add(-1)
	return nil
}

func putWriter(bw *bufio.Writer) {
	if bw == nil || bw.Buffered() > 0 {
		return
	}
	bw.Reset(nil)
	writers.Put(bw)
	lent.Add(-1)
}

// trimEvery is how often the proxy checks whether many tunnels have closed.
const trimEvery = 5 * time.Second

// tunnelOpened and tunnelClosed count open tunnels and their peak.
func (s *Server) tunnelOpened() {
	n := s.open.Add(1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
}

func (s *Server) tunnelClosed() { s.open.Add(-1) }

// trimLoop gives memory back to the system once many tunnels have closed
// (at least 64, and half of the peak): Go's runtime returns freed memory
// only gradually, and not at all while nothing allocates (an idle proxy
// after a burst), so without this the proxy would keep the burst's memory
// for minutes. It runs until the Server is closed.
func (s *Server) trimLoop() {
	tk := time.NewTicker(trimEvery)
	defer tk.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tk.C:
		}
		n, p := s.open.Load(), s.peak.Load()
		if p-n >= 64 && n <= p/2 {
			s.peak.Store(n)
			debug.FreeOSMemory()
		}
	}
}
