package main

import (
	"fmt"
	"os"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/capture"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
	"github.com/urfave/cli/v2"
)

func replayCommand() *cli.Command {
	return &cli.Command{
		Name:      "replay",
		Usage:     "judge a recorded trace: which request would make which client warn",
		ArgsUsage: "TRACE",
		Description: `Runs every observation in TRACE (written by proxy, pcap or check with
--record) through the matcher and the checks. The report first lists the
request(s) that would make each client warn (time, URL, name asked for, the
certificate's names, the rule that failed), where the client got that name
from (an Autodiscover URL, a redirect, a DNS SRV record, the SCP) and the
Exchange command that fixes it, then every observation in order.

--format html -o report.html writes one self-contained file (no external
assets, prints well) whose first screen is the verdict, for people who
will not read a terminal; md is Markdown for a ticket; json is one object
per observation and a summary line.

--cert FILE is a what-if: every recorded TLS request is judged against the
proposed certificate instead, so you know before buying it whether it fixes
every warning. Use - as TRACE to read standard input.

EXAMPLES:
   certsleuth replay outlook.jsonl
   certsleuth replay --profile outlook --format json outlook.jsonl
   certsleuth replay --format html -o report.html outlook.jsonl
   certsleuth replay --cert proposed.pem outlook.jsonl

EXIT CODES:
   0  no request would make a client warn
   1  some request would
   2  bad usage or unreadable trace`,
		Flags: []cli.Flag{
			profileFlag(),
			&cli.StringFlag{Name: "cert", Usage: "what-if: judge every request against this certificate `FILE` (PEM or DER, leaf first)"},
			caFileFlag(),
			formatFlag(analysis.Formats...),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` instead of standard output"},
		},
		Action: func(c *cli.Context) error {
			if err := analysis.CheckFormat(c.String("format")); err != nil {
				return usageErr("replay: %v", err)
			}
			if c.NArg() != 1 {
				return usageErr("replay: want exactly one TRACE, got %d arguments (flags go before the trace)", c.NArg())
			}
			ps, err := profilesFrom(c)
			if err != nil {
				return err
			}
			roots, err := rootsFrom(c)
			if err != nil {
				return err
			}
			opts := analysis.Options{Profiles: ps, Roots: roots}
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
			obs, rd, err := record.ReadAll(in, name)
			if err != nil && len(obs) == 0 {
				return inputErr(err)
			}
			rep := analysis.Analyze(obs, opts)
			if err != nil {
				rep.Problems = append(rep.Problems, err.Error())
			}
			for _, le := range rd.Errors {
				rep.Problems = append(rep.Problems, le.Error())
			}
			if rd.Truncated {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s: the last line is cut short (the recorder was stopped mid-write); it was skipped", name))
			}
			return writeReport(c, rep, name)
		},
	}
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
	if err := analysis.Render(w, rep, c.String("format"), opts); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(c.App.ErrWriter, "certsleuth: warning: %s\n", p)
	}
	if rep.Warns() {
		return errWarn
	}
	return nil
}
