package main

import (
	"fmt"
	"io"
	"os"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/report"
	"github.com/urfave/cli/v2"
)

// reportStream is where pcap and replay write their report while the
// analysis streams (analysis.Pipeline): the JSON lines as the items come,
// the --all list of the other formats spilled to a temporary file and
// read back after the causes, and otherwise nothing until the end. No
// list of every observation is held.
type reportStream struct {
	c     *cli.Context
	w     io.Writer
	f     *os.File // --output, or nil
	json  *report.JSONWriter
	spill *analysis.Spill
	items analysis.ItemSink
}

// newReportStream opens --output and the sink the format needs.
func newReportStream(c *cli.Context, profiles []*match.Profile) (*reportStream, error) {
	s := &reportStream{c: c, w: c.App.Writer, items: analysis.Discard}
	if out := c.String("output"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			return nil, inputErr(fmt.Errorf("write report: %w", err))
		}
		s.f, s.w = f, f
	}
	switch {
	case c.String("format") == "json":
		s.json = report.NewJSONWriter(s.w, profiles)
		s.items = s.json
	case c.Bool("all"):
		sp, err := analysis.NewSpill("")
		if err != nil {
			s.close()
			return nil, inputErr(err)
		}
		s.spill, s.items = sp, sp
	}
	return s, nil
}

// sink is where the pipeline hands each final item.
func (s *reportStream) sink() analysis.ItemSink { return s.items }

// write writes what is left of the report (JSON: the summary line; else
// the whole report, the spilled items read back for --all), prints the
// problems, closes, and maps the verdict to the exit code.
func (s *reportStream) write(rep *analysis.Report, title string) error {
	defer s.close()
	defer rep.Close() // the causes' requests a big report kept in a file
	var err error
	switch {
	case s.json != nil:
		err = s.json.Finish(rep)
	default:
		if s.spill != nil {
			err = s.spill.Attach(rep)
		}
		if err == nil {
			opts := renderOptions(s.c, title)
			if s.f != nil {
				opts.Color = false
			}
			err = report.Render(s.w, rep, s.c.String("format"), opts)
		}
	}
	if err == nil && s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(s.c.App.ErrWriter, "certsleuth: warning: %s\n", p)
	}
	return verdictErr(rep)
}

// close removes the spill file and closes --output.
func (s *reportStream) close() {
	if s.spill != nil {
		s.spill.Close()
		s.spill = nil
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// sinkError is an error of the report's sink (writing the JSON lines, the
// spill file) while the input is read.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }
