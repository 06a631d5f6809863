package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/capture"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
	"github.com/urfave/cli/v2"
)

func replayCommand() *cli.Command {
	return &cli.Command{
		Name:      "replay",
		Usage:     "judge a recorded trace: which request would make which client warn",
		ArgsUsage: "TRACE",
		Description: `Runs every observation in TRACE (written by proxy, pcap or check with
--record) through the matcher and the checks. The report leads with the
causes, the one that hits the most requests first, each once: the rule
that failed and the certificate against the name asked for, how many
requests, connections and clients it hit and when, a few example requests,
where the client got that name from (an Autodiscover URL, a redirect, a DNS
SRV record, the SCP) and the Exchange command that fixes it. The biggest
causes are in full, the next ones a line each, the rest counted, so the
report stays short whatever the trace; --all shows every cause in full and
then every observation in order.

--format html -o report.html writes one self-contained file (no external
assets, prints well) whose first screen is the verdict, for people who
will not read a terminal; md is Markdown for a ticket; json is one object
per observation and a summary line.

Trust is judged as the recording did: the trace records the roots its
producer trusted besides the machine's own (the proxy's --upstream-ca, the
--ca-file of pcap or check), and replay trusts them too, with the roots of
the machine it runs on and any --ca-file; --ignore-trace-trust leaves the
recorded roots out. Give the --profile the recording used to get the same
report.

--cert FILE is a what-if: every recorded TLS request is judged against the
proposed certificate instead, so you know before buying it whether it fixes
every warning. Use - as TRACE to read standard input.

EXAMPLES:
   certsleuth replay outlook.jsonl
   certsleuth replay --profile outlook --format json outlook.jsonl
   certsleuth replay --format html -o report.html outlook.jsonl
   certsleuth replay --all outlook.jsonl
   certsleuth replay --cert proposed.pem outlook.jsonl

EXIT CODES:
   0  no request would make a client warn, and every connection was judged
   1  some request would
   2  bad usage or unreadable trace
   3  nothing judged would warn, but some connection could not be judged
      (its certificate not seen or not readable) or trace lines were skipped`,
		Flags: []cli.Flag{
			profileFlag(),
			&cli.StringFlag{Name: "cert", Usage: "what-if: judge every request against this certificate `FILE` (PEM or DER, leaf first)"},
			caFileFlag(),
			&cli.BoolFlag{Name: "ignore-trace-trust", Usage: "judge trust with this machine's roots and --ca-file only, not the roots the trace recorded (the proxy's --upstream-ca, a --ca-file)"},
			formatFlag(report.Formats...),
			allFlag(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` instead of standard output"},
		},
		Action: func(c *cli.Context) error {
			if err := report.CheckFormat(c.String("format")); err != nil {
				return usageErr("replay: %v", err)
			}
			if c.NArg() != 1 {
				return usageErr("replay: want exactly one TRACE, got %d arguments (flags go before the trace)", c.NArg())
			}
			ps, err := profilesFrom(c)
			if err != nil {
				return err
			}
			cas, err := caFiles(c)
			if err != nil {
				return err
			}
			opts := analysis.Options{Profiles: ps}
			if f := c.String("cert"); f != "" {
				chain, err := certs.LoadCertificates(f)
				if err != nil {
					return inputErr(err)
				}
				opts.WhatIf = chain
			}
			name := c.Args().First()
			in := os.Stdin
			if name != "-" {
				f, err := os.Open(name)
				if err != nil {
					return inputErr(fmt.Errorf("replay: %w", err))
				}
				defer f.Close()
				in = f
			}
			defer capture.LimitMemory()() // as pcap: see capture.LimitMemory
			rs, err := newReportStream(c, ps)
			if err != nil {
				return err
			}
			defer rs.close()
			rep, err := traceReport(in, name, opts, cas, c.Bool("ignore-trace-trust"), rs.sink())
			if err != nil {
				return err
			}
			return rs.write(rep, name)
		},
	}
}

// traceReport reads the trace in (called name) and judges it as it is
// read (analysis.Pipeline; each final item goes to sink, nil for none):
// with the trust the trace recorded (the proxy's --upstream-ca, a
// --ca-file) unless ignoreTrust, plus cas. The trust lines come before
// the observations (record.Writer.WriteTrust). replay and the proxy's own
// report at Ctrl-C both use it, so they agree.
func traceReport(in io.Reader, name string, opts analysis.Options, cas []*x509.Certificate, ignoreTrust bool, sink analysis.ItemSink) (*analysis.Report, error) {
	if sink == nil {
		sink = analysis.Discard
	}
	rd := record.NewReader(in, name)
	o, err := rd.Next() // the header and the trust lines are read by then
	if err != nil && err != io.EOF {
		return nil, inputErr(err)
	}
	var problems []string
	trusted := 0
	switch tr := rd.Trust; {
	case tr != nil && !ignoreTrust:
		var roots []*x509.Certificate
		for i, der := range tr.Roots {
			x, perr := x509.ParseCertificate(der)
			if perr != nil {
				problems = append(problems, fmt.Sprintf("%s: recorded root %d (%s) does not parse, so it is not trusted: %v", name, i+1, tr.From, perr))
				continue
			}
			roots = append(roots, x)
		}
		trusted = len(tr.Roots)
		opts.Roots = rootPool(tr.System, append(roots, cas...))
	case len(cas) > 0:
		opts.Roots = rootPool(true, cas)
	}
	p := analysis.NewPipeline(opts, sink)
	for err == nil {
		if aerr := p.Add(o); aerr != nil {
			return nil, fmt.Errorf("write report: %w", aerr)
		}
		o, err = rd.Next()
	}
	rep, perr := p.Close()
	if perr != nil {
		return nil, fmt.Errorf("write report: %w", perr)
	}
	rep.Problems = append(rep.Problems, problems...)
	if err != io.EOF {
		rep.Problems = append(rep.Problems, err.Error())
	}
	if tr := rd.Trust; tr != nil && !ignoreTrust && len(tr.Roots) > trusted {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %d recorded roots come after the first observation; they were not trusted", name, len(tr.Roots)-trusted))
	}
	// One line per reason, however many lines were skipped.
	for _, sk := range rd.Skips {
		rep.Problems = append(rep.Problems, skipWords(name, sk))
	}
	rep.Skipped, rep.SkippedObservations = rd.Skipped()
	if rd.Truncated {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s: the last line is cut short (the recorder was stopped mid-write); it was skipped", name))
	}
	return rep, nil
}

// skipWords says how many trace lines were skipped for one reason, and
// where the first ones are.
func skipWords(name string, sk record.Skip) string {
	lines := make([]string, len(sk.First))
	for i, l := range sk.First {
		lines[i] = fmt.Sprint(l)
	}
	where := "line " + lines[0]
	if sk.Lines > 1 {
		where = "lines " + strings.Join(lines, ", ")
		if sk.Lines > len(sk.First) {
			where += ", ..."
		}
	}
	what := fmt.Sprintf("%d lines skipped", sk.Lines)
	if sk.Lines == 1 {
		what = "1 line skipped"
	}
	switch {
	case sk.Observations == 1:
		what += " (an observation)"
	case sk.Observations > 1:
		what += fmt.Sprintf(" (%d observations)", sk.Observations)
	}
	return fmt.Sprintf("%s: %s: %s (%s)", name, what, sk.Reason, where)
}

// writeReport renders rep to --output or standard output and maps the
// verdict to the exit code.
func writeReport(c *cli.Context, rep *analysis.Report, title string) error {
	w := c.App.Writer
	opts := renderOptions(c, title)
	if out := c.String("output"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			return inputErr(fmt.Errorf("write report: %w", err))
		}
		defer f.Close()
		w = f
		opts.Color = false
	}
	if err := report.Render(w, rep, c.String("format"), opts); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(c.App.ErrWriter, "certsleuth: warning: %s\n", p)
	}
	return verdictErr(rep)
}

// verdictErr maps a report to the exit code: 1 when a request would
// warn, else 3 when something was not judged (a certificate not seen or
// not readable, input skipped), else 0.
func verdictErr(rep *analysis.Report) error {
	switch {
	case rep.Warns():
		return errWarn
	case rep.Incomplete():
		return errNotJudged
	}
	return nil
}
