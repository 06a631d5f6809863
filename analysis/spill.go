package analysis

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"

	"github.com/certsleuth/certsleuth/record"
)

// Spill is an ItemSink that writes each item to a temporary file as it
// comes, so that a report of any size can list every observation after
// its causes (--all) without holding them: Report.EachItem reads them back
// in order. The certificates' DER is not kept (the items' chain summaries
// are), nor response bodies. Close removes the file.
type Spill struct {
	f   *os.File
	bw  *bufio.Writer
	enc *json.Encoder
	n   int
	err error
}

// spilled is one item in the file (JSON keeps empty lists apart from
// absent ones, as the renderers do).
type spilled struct {
	Item  *Item               `json:"i"`
	Obs   *record.Observation `json:"o"`
	Chain int                 `json:"n,omitempty"` // certificates recorded (their DER is not kept)
	// shared: Item.Findings is a list the detail store keeps (details.list),
	// not to be decoded over; own is then the array decoded into before.
	shared bool
	own    []Finding
	// chain is the observation's empty certificates (item), reused by an
	// item decoded over this one.
	chain [][]byte
}

// encodeSpilled writes it as one line of a spill file: the item, its
// observation without the certificates' DER and the body, and how many
// certificates it had. (The culprits' detail store, details, writes the
// same in a binary form: appendSpilled.)
func encodeSpilled(enc *json.Encoder, it *Item) error {
	o := *it.Obs
	o.Chain, o.Body = nil, nil
	return enc.Encode(spilled{Item: it, Obs: &o, Chain: len(it.Obs.Chain)})
}

// item is the item a spilled line holds: its observation has as many
// (empty) certificates as were recorded.
func (sp *spilled) item() (*Item, error) {
	it := sp.Item
	if it == nil || sp.Obs == nil {
		return nil, errors.New("an empty line")
	}
	it.Obs = sp.Obs
	if sp.Chain > 0 {
		if cap(sp.chain) < sp.Chain {
			sp.chain = make([][]byte, sp.Chain)
		}
		it.Obs.Chain = sp.chain[:sp.Chain:sp.Chain] // empty certificates, as many as recorded
	}
	return it, nil
}

// NewSpill creates the temporary file in dir ("" means os.TempDir()).
func NewSpill(dir string) (*Spill, error) {
	f, err := os.CreateTemp(dir, "certsleuth-items-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("spill the observations for the full list: %w (set TMPDIR to a writable directory)", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	return &Spill{f: f, bw: bw, enc: json.NewEncoder(bw)}, nil
}

// Item writes it to the file.
func (s *Spill) Item(it *Item) error {
	if s.err != nil {
		return s.err
	}
	if s.err = encodeSpilled(s.enc, it); s.err != nil {
		s.err = fmt.Errorf("spill observation %d to %s: %w", it.Index, s.f.Name(), s.err)
	}
	s.n++
	return s.err
}

// Attach makes r's EachItem read the spilled items (once the pipeline that
// made r is closed).
func (s *Spill) Attach(r *Report) error {
	if s.err == nil {
		s.err = s.bw.Flush()
	}
	r.spill = s
	return s.err
}

// Close removes the file.
func (s *Spill) Close() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); err == nil {
		err = rerr
	}
	return err
}

// EachItem yields the report's items in order: Items when the report
// kept them, else those a Spill attached to it wrote; nothing when
// neither (a pipeline whose items went to another sink). An item yielded
// from a spill is new at each step: keep it only as long as needed.
func (r *Report) EachItem() iter.Seq[*Item] {
	return func(yield func(*Item) bool) {
		if r.Items != nil || r.spill == nil {
			for _, it := range r.Items {
				if !yield(it) {
					return
				}
			}
			return
		}
		s := r.spill
		if s.err != nil {
			r.addSpillProblem(s.err)
			return
		}
		f, err := os.Open(s.f.Name())
		if err != nil {
			r.addSpillProblem(err)
			return
		}
		defer f.Close()
		dec := json.NewDecoder(bufio.NewReaderSize(f, 256<<10))
		for range s.n {
			var sp spilled
			if err := dec.Decode(&sp); err != nil {
				if !errors.Is(err, io.EOF) {
					r.addSpillProblem(err)
				}
				return
			}
			it, err := sp.item()
			if err != nil {
				r.addSpillProblem(fmt.Errorf("%s: %w", s.f.Name(), err))
				return
			}
			if !yield(it) {
				return
			}
		}
	}
}

func (r *Report) addSpillProblem(err error) {
	r.Problems = append(r.Problems, fmt.Sprintf("the list of every observation is incomplete: reading them back failed: %v", err))
}
