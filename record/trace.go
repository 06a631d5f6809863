package record

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Line types: the "type" field of every line.
const (
	lineHeader = "header"
	lineChain  = "chain"
	lineObs    = "obs"
)

// MaxLine is the longest line a Reader accepts; longer lines are reported
// as bad lines and skipped.
const MaxLine = 32 << 20

// Header is the first line of every trace.
type Header struct {
	Type     string    `json:"type"`     // always "header"
	Format   string    `json:"format"`   // always FormatName
	Version  int       `json:"version"`  // the format version, see Version
	Created  time.Time `json:"created"`  // when the trace was started
	Producer string    `json:"producer"` // e.g. "certsleuth proxy"
}

type chainLine struct {
	Type  string   `json:"type"`
	ID    string   `json:"id"`
	Certs []string `json:"certs"` // base64 (standard, padded) DER, leaf first
}

type obsLine struct {
	Type string `json:"type"`
	*Observation
}

// Writer writes a trace: a header line, then chain and observation lines.
// A chain is written once, before the first observation that uses it.
// Writer is safe for concurrent use.
type Writer struct {
	mu     sync.Mutex
	w      *bufio.Writer
	seen   map[string]bool
	err    error
	closer io.Closer
	// last is the most recent chain written and its ID: observations of
	// one connection share their chain slices, so the hash is skipped when
	// the same DER buffers come again.
	last   [][]byte
	lastID string
	bg     *background // set by Background: lines go to memory, a goroutine writes them
}

// background is the state of a Writer in background mode; guarded by the
// Writer's mu, except out, which only the writing goroutine uses.
type background struct {
	out     io.Writer
	pending []byte // encoded lines not yet handed to out
	spare   []byte // the other buffer, reused
	writing bool   // the goroutine is writing a batch
	cond    *sync.Cond
	kick    chan struct{}
	quit    chan struct{}
	done    chan struct{}
}

// MaxPending is how many bytes of encoded lines a background Writer holds
// before Write waits for the disk: lines are never dropped.
const MaxPending = 16 << 20

// Create creates (or truncates) the trace file name, readable and
// writable by its owner only (0600: a trace names internal hosts and
// URLs), and starts a trace on it. An existing file's mode is set to 0600
// too. Close closes the file.
func Create(name, producer string) (*Writer, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err // "open NAME: why"
	}
	if runtime.GOOS != "windows" { // Windows has no group/other bits to clear
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("create trace %s: make it private (0600): %w", name, err)
		}
	}
	tw, err := NewWriter(f, producer)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("create trace %s: %w", name, err)
	}
	return tw, nil
}

// Background moves the writing to a goroutine of the Writer's own, so that
// a slow or stalled disk never holds up the caller of Write: Write then
// only encodes the line into memory. What is buffered is written at least
// every `every` (0: one second), at Flush and at Close, so a process that
// is killed loses at most that much. When MaxPending bytes are waiting,
// Write waits for the disk rather than drop lines. Call it once, before
// the first Write; it writes out the header.
func (tw *Writer) Background(every time.Duration) error {
	if every <= 0 {
		every = time.Second
	}
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.bg != nil {
		return nil
	}
	if tw.err == nil {
		if err := tw.w.Flush(); err != nil {
			tw.err = fmt.Errorf("write trace: %w", err)
		}
	}
	b := &background{out: tw.w, cond: sync.NewCond(&tw.mu), kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	tw.bg = b
	go tw.writeLoop(b, every)
	return tw.err
}

// writeLoop hands pending lines to the file every tick, when kicked, and
// once more when told to quit.
func (tw *Writer) writeLoop(b *background, every time.Duration) {
	defer close(b.done)
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		quit := false
		select {
		case <-tk.C:
		case <-b.kick:
		case <-b.quit:
			quit = true
		}
		tw.mu.Lock()
		for len(b.pending) > 0 && tw.err == nil {
			batch := b.pending
			b.pending, b.spare = b.spare[:0], nil
			b.writing = true
			tw.mu.Unlock()
			_, err := b.out.Write(batch)
			if err == nil {
				err = tw.w.Flush()
			}
			tw.mu.Lock()
			b.writing = false
			if err != nil && tw.err == nil {
				tw.err = fmt.Errorf("write trace: %w", err)
			}
			if cap(batch) <= 1<<20 { // keep a buffer of ordinary size, not a burst's
				b.spare = batch[:0]
			}
		}
		b.cond.Broadcast()
		tw.mu.Unlock()
		if quit {
			return
		}
	}
}

func (b *background) poke() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// NewWriter starts a trace on w and writes its header. producer names the
// program part writing it ("certsleuth proxy"). If w is an io.Closer,
// Close closes it.
func NewWriter(w io.Writer, producer string) (*Writer, error) {
	tw := &Writer{w: bufio.NewWriterSize(w, 64<<10), seen: map[string]bool{}}
	if c, ok := w.(io.Closer); ok {
		tw.closer = c
	}
	h := Header{Type: lineHeader, Format: FormatName, Version: Version, Created: time.Now().UTC(), Producer: producer}
	if err := tw.line(h); err != nil {
		return nil, err
	}
	return tw, nil
}

func (tw *Writer) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write trace: encode %T: %w", v, err)
	}
	b = append(b, '\n')
	if bg := tw.bg; bg != nil {
		for len(bg.pending) >= MaxPending && tw.err == nil { // the disk is behind: wait, never drop
			bg.poke()
			bg.cond.Wait()
		}
		if tw.err != nil {
			return tw.err
		}
		bg.pending = append(bg.pending, b...)
		if len(bg.pending) >= 256<<10 {
			bg.poke()
		}
		return nil
	}
	if _, err := tw.w.Write(b); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	return nil
}

// Write appends one observation. It sets o.ChainID from o.Chain and writes
// the chain line first if this trace has not seen that chain yet. The
// chain's DER bytes must not be modified after they have been written
// (the writer recognises a chain it has just hashed by its buffers).
func (tw *Writer) Write(o *Observation) error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.err != nil {
		return tw.err
	}
	if len(o.Chain) > 0 {
		if sameBuffers(o.Chain, tw.last) {
			o.ChainID = tw.lastID
		} else {
			o.ChainID = ChainID(o.Chain)
			tw.last, tw.lastID = o.Chain, o.ChainID
		}
		if !tw.seen[o.ChainID] {
			if tw.writeChain(o.ChainID, o.Chain); tw.err != nil {
				return tw.err
			}
		}
	}
	tw.err = tw.line(obsLine{Type: lineObs, Observation: o})
	return tw.err
}

// writeChain writes the chain line of chain, whose ID is id.
func (tw *Writer) writeChain(id string, chain [][]byte) {
	cl := chainLine{Type: lineChain, ID: id, Certs: make([]string, len(chain))}
	for i, c := range chain {
		cl.Certs[i] = base64.StdEncoding.EncodeToString(c)
	}
	if tw.err = tw.line(cl); tw.err == nil {
		tw.seen[id] = true
	}
}

// chainLine writes chain's line unless the trace has it, and returns its ID.
func (tw *Writer) chainLine(chain [][]byte) string {
	id := ChainID(chain)
	if !tw.seen[id] {
		tw.writeChain(id, chain)
	}
	return id
}

// sameBuffers reports whether a and b hold the very same byte slices
// (same arrays and lengths), not merely equal contents.
func sameBuffers(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) || len(a[i]) == 0 || unsafe.SliceData(a[i]) != unsafe.SliceData(b[i]) {
			return false
		}
	}
	return true
}

// Flush writes buffered lines to the underlying writer (in background
// mode: waits until the goroutine has).
func (tw *Writer) Flush() error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.err != nil {
		return tw.err
	}
	if bg := tw.bg; bg != nil {
		for (len(bg.pending) > 0 || bg.writing) && tw.err == nil {
			bg.poke()
			bg.cond.Wait()
		}
		return tw.err
	}
	if err := tw.w.Flush(); err != nil {
		tw.err = fmt.Errorf("write trace: %w", err)
	}
	return tw.err
}

// Close flushes the trace and closes the underlying writer if it is an
// io.Closer.
func (tw *Writer) Close() error {
	err := tw.Flush()
	tw.mu.Lock()
	bg := tw.bg
	tw.mu.Unlock()
	if bg != nil {
		select {
		case <-bg.quit:
		default:
			close(bg.quit)
		}
		<-bg.done
	}
	if tw.closer != nil {
		if cerr := tw.closer.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close trace: %w", cerr)
		}
	}
	return err
}

// LineError is a line of a trace that could not be used.
type LineError struct {
	File string // the trace's name as given to NewReader
	Line int    // 1-based line number
	Err  error
	// Reason is the kind of problem in a few stable words, the same for
	// every line with that problem (one of the Skip* constants).
	Reason string
}

// The reasons a line is skipped (LineError.Reason, Skip.Reason).
const (
	SkipTooLong      = "longer than the reader keeps"
	SkipBadJSON      = "not valid JSON"
	SkipBadChain     = "a chain line that does not decode"
	SkipAlteredChain = "a chain line whose content does not match its ID (altered)"
	SkipNoChain      = "an observation whose chain line is missing or was skipped"
	SkipBadObs       = "an observation that does not decode"
	SkipOther        = "a line this reader cannot use"
	SkipBadUTF8      = "not valid UTF-8 (altered or converted)"
)

// Skip counts the lines skipped for one reason.
type Skip struct {
	Reason       string
	Lines        int   // how many lines
	Observations int   // how many of them were observations
	First        []int // the first few line numbers (at most MaxErrors)
}

// MaxErrors bounds Reader.Errors and Skip.First: a trace of a million bad
// lines gives one count per reason, not a million messages.
const MaxErrors = 10

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrNotTrace is returned (wrapped) when the input does not start with a
// certsleuth trace header.
var ErrNotTrace = errors.New("not a certsleuth trace")

// Reader reads a trace written by Writer. Bad lines do not stop it: each is
// recorded in Errors and skipped. A last line cut short (the recorder was
// killed) sets Truncated instead.
type Reader struct {
	name   string
	br     *bufio.Reader
	line   int
	chains map[string][][]byte
	// Header is the trace's header, valid after the first call to Next.
	Header Header
	// Errors lists the first MaxErrors lines that were skipped, in order.
	Errors []*LineError
	// Skips counts every skipped line by reason, in the order the
	// reasons were first met.
	Skips []Skip
	// badChains are the IDs of chain lines that were skipped.
	badChains map[string]bool
	// Truncated is set when the last line had no newline and did not parse.
	Truncated bool
	// Trust is the trust the producer recorded (see Writer.WriteTrust), or
	// nil when the trace has none (older traces, or a producer that judged
	// with the system roots alone and said nothing).
	Trust   *Trust
	started bool
}

// NewReader returns a Reader for the trace in r; name is used in messages.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{name: name, br: bufio.NewReaderSize(r, 256<<10), chains: map[string][][]byte{}}
}

// readLine returns the next line without its newline; complete is false
// when the input ended without one. Lines longer than MaxLine are skipped
// and reported.
func (r *Reader) readLine() (line []byte, complete bool, err error) {
	var buf []byte
	tooLong := false
	for {
		frag, err := r.br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(frag) > MaxLine {
				tooLong = true
				buf = nil
			} else {
				buf = append(buf, frag...)
			}
		}
		switch {
		case err == nil:
			r.line++
			if tooLong {
				r.skip(&LineError{r.name, r.line, fmt.Errorf("line longer than %d bytes, skipped", MaxLine), SkipTooLong}, false)
				buf, tooLong = nil, false
				continue
			}
			return buf[:len(buf)-1], true, nil
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if len(buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			r.line++
			if tooLong {
				r.Truncated = true
				return nil, false, io.EOF
			}
			return buf, false, nil
		default:
			return nil, false, fmt.Errorf("read trace %s: line %d: %w", r.name, r.line+1, err)
		}
	}
}

// Next returns the next observation, with Chain filled in from the trace's
// chain lines. It returns io.EOF at the end. Other errors are fatal: the
// input is not a trace, its version is too new, or reading failed.
func (r *Reader) Next() (*Observation, error) {
	if !r.started {
		r.started = true
		if err := r.readHeader(); err != nil {
			return nil, err
		}
	}
	for {
		line, complete, err := r.readLine()
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := checkUTF8(line); err != nil && complete {
			// encoding/json would put U+FFFD in its place, silently, and the
			// damaged name could end up in a suggested command.
			r.skip(&LineError{File: r.name, Line: r.line, Err: err, Reason: SkipBadUTF8}, bytes.HasPrefix(line, obsPrefix))
			continue
		}
		o, lerr := r.parse(line)
		if lerr != nil {
			if !complete {
				r.Truncated = true
				return nil, io.EOF
			}
			le := &LineError{File: r.name, Line: r.line, Err: lerr, Reason: SkipOther}
			var re *reasonError
			if errors.As(lerr, &re) {
				le.Reason = re.reason
			}
			r.skip(le, le.Reason == SkipNoChain || le.Reason == SkipBadObs || bytes.HasPrefix(line, obsPrefix))
			continue
		}
		if o != nil {
			return o, nil
		}
	}
}

// skip records a skipped line.
func (r *Reader) skip(le *LineError, obs bool) {
	if len(r.Errors) < MaxErrors {
		r.Errors = append(r.Errors, le)
	}
	for i := range r.Skips {
		if sk := &r.Skips[i]; sk.Reason == le.Reason {
			sk.Lines++
			if obs {
				sk.Observations++
			}
			if len(sk.First) < MaxErrors {
				sk.First = append(sk.First, le.Line)
			}
			return
		}
	}
	sk := Skip{Reason: le.Reason, Lines: 1, First: []int{le.Line}}
	if obs {
		sk.Observations = 1
	}
	r.Skips = append(r.Skips, sk)
}

// Skipped is the number of lines skipped, and how many of them were
// observations (an observation whose chain line was altered included).
func (r *Reader) Skipped() (lines, observations int) {
	for _, sk := range r.Skips {
		lines += sk.Lines
		observations += sk.Observations
	}
	return lines, observations
}

// reasonError is a line's error with its Skip reason.
type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }

func because(reason string, err error) error { return &reasonError{reason, err} }

func (r *Reader) readHeader() error {
	for {
		line, _, err := r.readLine()
		if err == io.EOF {
			return fmt.Errorf("read trace %s: %w: the file is empty", r.name, ErrNotTrace)
		}
		if err != nil {
			return err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := json.Unmarshal(line, &r.Header); err != nil || r.Header.Type != lineHeader || r.Header.Format != FormatName {
			return fmt.Errorf("read trace %s: line %d: %w: the first line is not a %q header (make traces with --record)", r.name, r.line, ErrNotTrace, FormatName)
		}
		if r.Header.Version > Version || r.Header.Version < 1 {
			return fmt.Errorf("read trace %s: trace format version %d is not supported (this certsleuth reads up to %d): upgrade certsleuth", r.name, r.Header.Version, Version)
		}
		return nil
	}
}

var (
	obsPrefix   = []byte(`{"type":"` + lineObs + `",`)
	chainPrefix = []byte(`{"type":"` + lineChain + `",`)
)

// parse decodes one line. It returns (nil, nil) for lines that define
// chains or are of a type this version does not know.
func (r *Reader) parse(line []byte) (*Observation, error) {
	// The writer puts "type" first; recognising it saves decoding every
	// line twice. Other producers' lines take the general path.
	var t struct {
		Type string `json:"type"`
	}
	switch {
	case bytes.HasPrefix(line, obsPrefix):
		t.Type = lineObs
	case bytes.HasPrefix(line, chainPrefix):
		t.Type = lineChain
	default:
		if err := json.Unmarshal(line, &t); err != nil {
			return nil, because(SkipBadJSON, fmt.Errorf("bad JSON: %w", err))
		}
	}
	switch t.Type {
	case lineChain:
		var cl chainLine
		if err := json.Unmarshal(line, &cl); err != nil {
			if err := json.Unmarshal(line, &t); err != nil {
				return nil, because(SkipBadJSON, fmt.Errorf("bad JSON: %w", err))
			}
			return nil, because(SkipBadChain, fmt.Errorf("bad chain line: %w", err))
		}
		if cl.Type != lineChain {
			return nil, fmt.Errorf("line has two \"type\" keys")
		}
		chain := make([][]byte, len(cl.Certs))
		for i, s := range cl.Certs {
			der, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				r.badChain(cl.ID)
				return nil, because(SkipBadChain, fmt.Errorf("chain %.12s: certificate %d: bad base64: %w", cl.ID, i, err))
			}
			chain[i] = der
		}
		if id := ChainID(chain); id != cl.ID {
			r.badChain(cl.ID)
			return nil, because(SkipAlteredChain, fmt.Errorf("chain %.12s: content does not match its ID (the line was altered)", cl.ID))
		}
		r.chains[cl.ID] = chain
		return nil, nil
	case lineObs:
		ol := obsLine{Observation: new(Observation)}
		if err := json.Unmarshal(line, &ol); err != nil {
			if err := json.Unmarshal(line, &t); err != nil {
				return nil, because(SkipBadJSON, fmt.Errorf("bad JSON: %w", err))
			}
			return nil, because(SkipBadObs, fmt.Errorf("bad observation: %w", err))
		}
		if ol.Type != lineObs {
			return nil, fmt.Errorf("line has two \"type\" keys")
		}
		o := ol.Observation
		if o.ChainID != "" {
			c, ok := r.chains[o.ChainID]
			if !ok {
				if r.badChains[o.ChainID] {
					return nil, because(SkipNoChain, fmt.Errorf("observation refers to chain %.12s, whose line was skipped", o.ChainID))
				}
				return nil, because(SkipNoChain, fmt.Errorf("observation refers to chain %.12s, which no earlier line defines", o.ChainID))
			}
			o.Chain = c
		}
		return o, nil
	case lineTrust:
		return nil, r.parseTrust(line)
	case lineHeader:
		return nil, errors.New("a second header line")
	case "":
		return nil, errors.New(`line has no "type"`)
	default:
		return nil, nil // a line type from a newer minor revision: ignore
	}
}

func (r *Reader) badChain(id string) {
	if r.badChains == nil {
		r.badChains = map[string]bool{}
	}
	r.badChains[id] = true
}

// checkUTF8 reports invalid UTF-8 in a line, with its byte offset.
func checkUTF8(line []byte) error {
	if utf8.Valid(line) {
		return nil
	}
	for i := 0; i < len(line); {
		r, n := utf8.DecodeRune(line[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("invalid UTF-8 at byte %d (%q): line skipped; traces are UTF-8, so the file was altered or converted", i+1, line[i:min(i+4, len(line))])
		}
		i += n
	}
	return nil
}

// ReadAll reads a whole trace. It returns the observations read so far
// together with a fatal error, if any; skipped lines are in rd.Errors.
func ReadAll(r io.Reader, name string) (obs []*Observation, rd *Reader, err error) {
	rd = NewReader(r, name)
	for {
		o, err := rd.Next()
		if err == io.EOF {
			return obs, rd, nil
		}
		if err != nil {
			return obs, rd, err
		}
		obs = append(obs, o)
	}
}
