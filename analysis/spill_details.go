package analysis

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"sync"
	"unsafe"

	"github.com/certsleuth/certsleuth/internal/memo"
)

// detailMemory is how many requests a culprits' detail store keeps in
// memory before it moves them to a temporary file (about 3 KB each in
// a streamed report: findings with every profile's texts, chain
// summaries, origin): a report of a few thousand causes stays in memory,
// one of a capture with 10,000 causes or more goes to disk. A variable so
// that tests can make every store a file.
var detailMemory = 2048

// details holds the requests a culprit shows in full (its first request
// and its examples: Culprit.First, Examples, the findings Explain merges),
// so that a culprit in memory is only its counts and references (see
// docs/analysis-memory.md). A store keeps its items in memory until it
// holds more than limit of them (limit < 0: never), then writes them, and
// every later one, to a temporary file in a binary form (appendSpilled,
// spill_codec.go), and reads one back when a report explains its culprit.
// A ref is the item's ordinal in the store.
//
// put is called by one goroutine (the pipeline); get may be called by
// several (a proxy's pages).
type details struct {
	limit int

	mu   sync.Mutex
	mem  []*Item // the items while in memory (nil once in the file)
	n    int     // items stored
	f    *os.File
	name string
	bw   *bufio.Writer
	size int64  // bytes written
	buf  []byte // reused for each item
	// scratch holds the copies an item is encoded from.
	scratch spillScratch
	offs    []int64 // offs[ref]: where ref's item starts in the file
	// win is the part of the file from winAt read ahead (readAt), last
	// where the last read started.
	win         []byte
	winAt, last int64
	err         error
	// closed: the file is gone (close)
	closed bool
	// lists are the findings lists that the requests written to the file
	// share (putCompact), each kept once in memory, in its binary form:
	// listsSeen finds them by identity (index+1), listBlob holds them one
	// after the other (list i ends at listEnd[i]), listDec decoded (nil
	// until read back).
	listsSeen memo.Ident[Finding, int32]
	listBlob  []byte
	listEnd   []int
	listDec   [][]Finding
	// keepList adds pending to the kept lists (listsSeen's keep).
	keepList func(int32) int32
	pending  []Finding
}

// maxListBlob bounds the memory of the lists the file's requests share
// (details.lists): past it, a request that shares a list not kept is
// written with its findings.
const maxListBlob = 1 << 20

// findingsType is the type of an item's findings (the lists' codec).
var findingsType = reflect.TypeFor[[]Finding]()

// newDetails returns a store that moves to a file past limit items
// (limit < 0: never).
func newDetails(limit int) *details { return &details{limit: limit} }

// put stores it (which the store may keep: it must not change afterwards)
// and returns its ref.
func (d *details) put(it *Item) int32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	ref := int32(d.n)
	d.n++
	if d.f == nil && (d.limit < 0 || len(d.mem) < d.limit || !d.open()) {
		d.mem = append(d.mem, it)
		return ref
	}
	d.write(it)
	return ref
}

// putCompact stores compactItem(it), whose merged error findings are
// merged (which the store takes), and returns its ref: in memory the
// compact copy, in the file its binary form, written without making the
// copy.
func (d *details) putCompact(it *Item, merged []Finding) int32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	ref := int32(d.n)
	d.n++
	if d.f == nil && (d.limit < 0 || len(d.mem) < d.limit || !d.open()) {
		d.mem = append(d.mem, compactWith(it, merged))
		return ref
	}
	d.writeWith(it, compactFindings(it, merged), true)
	return ref
}

// listOf returns the index+1 of the kept list fs is (0: none, written
// with its request), keeping fs the second time its identity is seen.
// The grouping gives every request with the same judged findings one
// merged list (mergedErrors), the same for the items the judge shares a
// list between: 10,224 of hs.pcap's 13,810 stored requests (a list is
// 1.2 KB of their 2.4).
func (d *details) listOf(fs []Finding) int32 {
	if len(fs) == 0 {
		return 0
	}
	if i, ok := d.listsSeen.Get(fs); ok {
		return i
	}
	if d.keepList == nil {
		d.keepList = func(int32) int32 { return d.addList(d.pending) } // made once, not per call
	}
	d.pending = fs
	d.listsSeen.Saw(fs, 0, d.keepList)
	d.pending = nil
	i, _ := d.listsSeen.Get(fs)
	return i
}

// addList appends fs to the kept lists and returns its index+1, or 0
// when the lists hold maxListBlob bytes already (or fs cannot be written).
func (d *details) addList(fs []Finding) int32 {
	if len(d.listBlob) >= maxListBlob {
		return 0
	}
	start := len(d.listBlob)
	var err error
	if d.listBlob, err = codecFor(findingsType).enc(d.listBlob, unsafe.Pointer(&fs)); err != nil {
		d.listBlob = d.listBlob[:start]
		return 0
	}
	d.listEnd, d.listDec = append(d.listEnd, len(d.listBlob)), append(d.listDec, nil)
	return int32(len(d.listEnd))
}

// list returns kept list i (0-based), decoded once: its strings share
// listBlob, which is never written over. Its readers must not modify it.
func (d *details) list(i int) ([]Finding, error) {
	if i < 0 || i >= len(d.listEnd) {
		return nil, fmt.Errorf("no kept findings list %d", i)
	}
	if l := d.listDec[i]; l != nil {
		return l, nil
	}
	start := 0
	if i > 0 {
		start = d.listEnd[i-1]
	}
	r := codecReader{b: d.listBlob[start:d.listEnd[i]:d.listEnd[i]]}
	var l []Finding
	if err := codecFor(findingsType).dec(&r, unsafe.Pointer(&l)); err != nil {
		return nil, err
	}
	if len(r.b) > 0 || l == nil {
		return nil, errors.New("a kept findings list read back wrong")
	}
	d.listDec[i] = l
	return l, nil
}

// open creates the file and moves the items in memory to it; false (the
// store then stays in memory) when it cannot.
func (d *details) open() bool {
	f, err := os.CreateTemp("", "certsleuth-causes-*.bin")
	if err != nil {
		// The report is the same, only bigger in memory.
		d.limit = -1
		return false
	}
	d.f, d.name = f, f.Name()
	if runtime.GOOS != "windows" {
		// Gone with the process whatever happens; the descriptor still
		// reads it. Windows cannot remove an open file: close removes it.
		if os.Remove(d.name) == nil {
			d.name = ""
		}
	}
	d.bw = bufio.NewWriterSize(f, 64<<10)
	d.offs = make([]int64, 0, 2*len(d.mem))
	for _, it := range d.mem {
		d.write(it)
	}
	d.mem = nil
	return true
}

// write appends it to the file.
func (d *details) write(it *Item) { d.writeWith(it, nil, false) }

// writeWith appends it to the file; with compact, as compactItem(it)
// whose findings are findings (spillScratch.append). A request is written
// as the index+1 of the kept list its findings are (a uvarint; 0: none,
// they are written with it), then its binary form.
func (d *details) writeWith(it *Item, findings []Finding, compact bool) {
	d.offs = append(d.offs, d.size)
	if d.err != nil {
		return
	}
	var li int32
	if compact {
		if li = d.listOf(findings); li > 0 {
			findings = nil // read back from the kept list
		}
	}
	var err error
	if d.buf, err = d.scratch.append(binary.AppendUvarint(d.buf[:0], uint64(li)), it, findings, compact); err == nil {
		var n int
		n, err = d.bw.Write(d.buf)
		d.size += int64(n)
	}
	if cap(d.buf) > 1<<20 {
		d.buf = nil
	}
	if err != nil {
		d.err = fmt.Errorf("write the causes' example requests to a temporary file: %w", err)
	}
}

// get returns the item ref: the one stored while in memory, else a new
// one read back from the file.
func (d *details) get(ref int32) (*Item, error) {
	return d.getInto(ref, nil)
}

// readSlot is what the requests of one explained culprit are read back
// from the file into (details.getInto) when its memory can be reused
// once the culprit is gone (ExplainAhead): its bytes (the items' strings
// share them) and the items decoded, in the order read.
type readSlot struct {
	buf []byte
	sp  []*spilled
	n   int // sp[:n] hold the current culprit's items
	// text holds the culprit's verdict (verdictWords writes it there).
	text []byte
	// c and d are the culprit explained and its Detail (explainInto),
	// rem the array of its fixes.
	c   Culprit
	d   Detail
	rem []Remedy
}

// reset makes s ready for the next culprit: what it holds must be gone.
func (s *readSlot) reset() {
	s.buf, s.n, s.text = s.buf[:0], 0, s.text[:0]
}

// getInto is get, the item read from the file into s (nil: into new
// memory): its bytes after s.buf's, in its spare capacity when they fit,
// else in a new buffer (what was read before stays where it is), and the
// item decoded over the next of s.sp.
func (d *details) getInto(ref int32, s *readSlot) (*Item, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ref < 0 || int(ref) >= d.n {
		return nil, fmt.Errorf("no stored request %d", ref)
	}
	if d.closed {
		return nil, fmt.Errorf("the report was closed")
	}
	if d.f == nil {
		return d.mem[ref], nil
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.bw.Buffered() > 0 {
		if err := d.bw.Flush(); err != nil {
			d.err = fmt.Errorf("write the causes' example requests to a temporary file: %w", err)
			return nil, d.err
		}
	}
	start, end := d.offs[ref], d.size
	if int(ref)+1 < len(d.offs) {
		end = d.offs[ref+1]
	}
	n := int(end - start)
	var b []byte // the item's strings share it
	var sp *spilled
	if s == nil {
		b, sp = make([]byte, n), &spilled{}
	} else {
		if cap(s.buf)-len(s.buf) < n {
			s.buf = make([]byte, 0, max(n, 2*cap(s.buf)))
		}
		b = s.buf[len(s.buf) : len(s.buf)+n : len(s.buf)+n]
		s.buf = s.buf[:len(s.buf)+n]
		if s.n == len(s.sp) {
			s.sp = append(s.sp, &spilled{})
		}
		sp = s.sp[s.n]
		s.n++
	}
	if err := d.readAt(b, start); err != nil {
		return nil, fmt.Errorf("read a cause's example request back from its temporary file: %w", err)
	}
	li, k := binary.Uvarint(b)
	if k <= 0 || li > uint64(len(d.listEnd)) {
		return nil, fmt.Errorf("read a cause's example request back from its temporary file: a findings list of %d (%d kept)", li, len(d.listEnd))
	}
	var own []Finding // the array sp's findings were decoded into, to reuse
	if sp.Item != nil {
		own = sp.Item.Findings
		if sp.shared {
			// Its findings are a kept list: not to be decoded over.
			own, sp.Item.Findings, sp.shared = sp.own, sp.own, false
		}
	}
	it, err := readSpilledInto(b[k:], sp)
	if err == nil && li > 0 {
		if it.Findings != nil {
			err = errors.New("findings with a kept list")
		} else if it.Findings, err = d.list(int(li - 1)); err == nil {
			sp.own, sp.shared = own, true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read a cause's example request back from its temporary file: %w", err)
	}
	return it, nil
}

// readAhead is how much of the file details.get reads at once when the
// causes are explained in the order of their first requests (the JSON
// summary): a read per request was a third of the time spent explaining
// hs.pcap's 9,656 causes.
const readAhead = 256 << 10

// readAt fills b from the file at off: from the window read ahead when it
// holds b, else, when off is a little past the last read (the requests
// asked for in file order), through a new window, else alone.
func (d *details) readAt(b []byte, off int64) error {
	last := d.last
	d.last = off
	if off >= d.winAt && off+int64(len(b)) <= d.winAt+int64(len(d.win)) {
		copy(b, d.win[off-d.winAt:])
		return nil
	}
	if off < last || off-last > readAhead || len(b) > readAhead/4 {
		_, err := d.f.ReadAt(b, off)
		return err
	}
	if d.win == nil {
		d.win = make([]byte, readAhead)
	}
	n, err := d.f.ReadAt(d.win[:readAhead], off)
	d.win, d.winAt = d.win[:n], off
	if n < len(b) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	copy(b, d.win)
	return nil
}

// close closes and removes the file, if there is one.
func (d *details) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	d.closed = true
	err := d.f.Close()
	if d.name != "" {
		if rerr := os.Remove(d.name); err == nil {
			err = rerr
		}
	}
	d.f, d.bw, d.buf, d.offs, d.win = nil, nil, nil, nil, nil
	return err
}
