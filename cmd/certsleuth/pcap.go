package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/capture"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/proxy"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
	"github.com/urfave/cli/v2"
)

func pcapCommand() *cli.Command {
	return &cli.Command{
		Name:      "pcap",
		Usage:     "read pcap/pcapng captures: which connection got the wrong certificate",
		ArgsUsage: "FILE...",
		Description: `Reads capture files (tcpdump's pcap, Wireshark's pcapng, pktmon or netsh
output converted with etl2pcapng; gzip-compressed or not; Ethernet with VLAN
tags, Linux cooked SLL/SLL2, raw IP, loopback, PPP/PPPoE, and one level of
MPLS, GRE/ERSPAN, VXLAN, Geneve, CAPWAP or IP in IP), follows every TCP connection
and reports each TLS handshake (SNI, version, the server's certificate chain;
also after STARTTLS in SMTP, IMAP, POP3 and FTP, MySQL's SSLRequest, LDAP
StartTLS, ADB's STLS, and after bytes of a protocol it does not know; frames
it cannot decode are counted, and those holding TLS make the capture not
judged, exit 3), each plain HTTP request and
response (an Autodiscover redirect), and each DNS answer (A, AAAA, CNAME,
SRV). The observations go through the same analysis as replay, so the report
names the connection whose certificate would make a client warn: the causes
first, the biggest first, each once with a few examples (--all: every cause
in full, then every observation).

TLS 1.3 encrypts the server's certificate. Give the key log the client wrote
(SSLKEYLOGFILE, NSS format) with --keylog to decrypt it; a key log embedded
in a pcapng file (editcap --inject-secrets) is used without the flag.
Otherwise the report says the certificate is encrypted, and still shows a
client that ended the handshake with an alert (it refused the certificate).
Gaps are reported, never skipped: packets cut by the snap length, handshakes
that began before the capture, resumed sessions. A file cut short or corrupt partway is reported with the
packet number and byte offset, after the report of everything before it.
Ctrl-C while a file is read stops there and reports what was read.

With --live, a line per TLS connection, HTTP exchange and DNS answer goes
to standard error as soon as it is read, with its verdict: pipe a running
capture in (tcpdump -U -w - ... | certsleuth pcap --live -), reproduce the
warning, stop the capture with Ctrl-C, and the report follows. With --web ADDR
(e.g. 127.0.0.1:8081) the same lines, the culprit and its fix show in a
browser at http://ADDR/live as they are read (loopback only unless
--web-allow CIDR).

Several FILEs are read as one capture, their packets merged by time (as
mergecap does): ring-buffer files (tcpdump -C or -G), or one file per
interface. Use - as FILE to read standard input. See docs/capture.md for
how to capture on Windows, macOS and Linux.

EXAMPLES:
   certsleuth pcap outlook.pcapng
   certsleuth pcap --profile outlook --format json capture.pcap.gz
   certsleuth pcap --keylog sslkeys.log --record trace.jsonl browser.pcapng
   tcpdump -i any -U -w - port 443 or port 80 or port 53 | certsleuth pcap --live -
   tcpdump -i any -U -w - port 443 or port 80 or port 53 | certsleuth pcap --live --web 127.0.0.1:8081 -

EXIT CODES:
   0  no connection would make a client warn
   1  some connection would
   2  bad usage, an unreadable file, or a file corrupt partway (the report
      still covers the packets before the damage)
   3  nothing judged would warn, but some connection could not be judged
      (certificate not in the capture, encrypted, or not readable)`,
		Flags: append([]cli.Flag{
			profileFlag(),
			formatFlag(report.Formats...),
			allFlag(),
			&cli.StringFlag{Name: "record", Usage: "also write the observations as a trace to `TRACE` (for replay)"},
			&cli.StringFlag{Name: "keylog", Usage: "decrypt TLS 1.3 certificates with this NSS key log `FILE` (SSLKEYLOGFILE)"},
			&cli.BoolFlag{Name: "live", Usage: "print a line per connection, exchange and DNS answer to standard error as soon as it is read (for a capture piped in as it is made)"},
			caFileFlag(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` instead of standard output"},
		}, webFlags()...),
		Action: func(c *cli.Context) error {
			if err := report.CheckFormat(c.String("format")); err != nil {
				return usageErr("pcap: %v", err)
			}
			if c.NArg() == 0 {
				return usageErr("pcap: want at least one capture FILE (flags go before the files)")
			}
			stdin := 0
			for _, a := range c.Args().Slice() {
				if a == "-" {
					stdin++
				}
			}
			if stdin > 1 {
				return usageErr("pcap: standard input (-) can be read only once")
			}
			ps, err := profilesFrom(c)
			if err != nil {
				return err
			}
			roots, err := rootsFrom(c)
			if err != nil {
				return err
			}
			opts := capture.Options{}
			var problems []string
			if kf := c.String("keylog"); kf != "" {
				kl, err := readKeyLog(kf)
				if err != nil {
					return inputErr(err)
				}
				if len(kl.Bad) > 0 {
					problems = append(problems, fmt.Sprintf("%s: %d lines are not key log lines (first: line %d); they were skipped", kf, len(kl.Bad), kl.Bad[0]))
				}
				if kl.Len() == 0 {
					problems = append(problems, fmt.Sprintf("%s: no SERVER_HANDSHAKE_TRAFFIC_SECRET lines: it decrypts no TLS 1.3 certificate", kf))
				}
				opts.KeyLog = kl
			}
			// The trace is written as the observations come, so that it
			// holds everything read even if the analysis runs out of room.
			var tw *record.Writer
			if f := c.String("record"); f != "" {
				if tw, err = createTrace(c, f, "certsleuth pcap"); err != nil {
					return err
				}
				defer tw.Close()
			}
			var live *proxy.Live
			if c.Bool("live") {
				opts.Live = true
				live = proxy.NewLive(c.App.ErrWriter, proxy.LiveOptions{Profiles: ps, Roots: roots, Color: useColor(c.App.ErrWriter), MaxKept: -1})
			}
			var web *proxy.Web
			if c.String("web") != "" {
				title := strings.Join(c.Args().Slice(), " ")
				if title == "-" {
					title = "the capture on standard input"
				}
				web = proxy.NewWeb(proxy.WebOptions{Profiles: ps, Roots: roots, Title: "certsleuth pcap " + title})
				defer web.Close()
				stopWeb, err := startWeb(c, "pcap", web, "", c.App.ErrWriter)
				if err != nil {
					return err
				}
				defer stopWeb()
			} else if c.IsSet("web-allow") {
				return usageErr("pcap: --web-allow goes with --web")
			}
			var pipe *analysis.Pipeline // made once the inputs are open
			emit := func(o *record.Observation) error {
				if tw != nil {
					if err := tw.Write(o); err != nil {
						return &traceError{err}
					}
				}
				if live != nil {
					live.Observe(proxy.Event{Obs: o})
				}
				if web != nil {
					web.Observe(proxy.Event{Obs: o})
				}
				if err := pipe.Add(o); err != nil {
					return &sinkError{err}
				}
				return nil
			}
			var inputs []capture.Input
			for _, name := range c.Args().Slice() {
				in, done, err := openCapture(c, name)
				if err != nil {
					return inputErr(err)
				}
				defer done()
				inputs = append(inputs, capture.Input{R: in, Name: name})
			}
			// The analysis streams: each observation is judged, attributed
			// and counted into its cause as it is read, and the report
			// written as it comes (JSON) or at the end.
			rs, err := newReportStream(c, ps)
			if err != nil {
				return err
			}
			defer rs.close()
			pipe = analysis.NewPipeline(analysis.Options{Profiles: ps, Roots: roots, Cache: &certs.Cache{}}, rs.sink())
			// The soft limit holds through the analysis and the report
			// too: what they keep follows the causes and hosts, and
			// without it the collector lets the heap grow to twice that.
			defer capture.LimitMemory()()
			// Several files are read as one capture, merged by time.
			res, err := capture.StreamFiles(inputs, opts, emit)
			if res != nil {
				problems = append(problems, res.Problems...)
			}
			var readErr error
			if err != nil {
				var te *traceError
				var se *sinkError
				switch {
				case errors.As(err, &te):
					return inputErr(fmt.Errorf("record: %w", te.err))
				case errors.As(err, &se):
					return fmt.Errorf("write report: %w", se.err)
				case res == nil:
					return inputErr(err)
				}
				for _, e := range eachError(err) {
					var ce *capture.CorruptError
					if !errors.As(e, &ce) {
						return inputErr(e)
					}
					if errors.Is(e, errInterrupted) {
						problems = append(problems, fmt.Sprintf("%s: interrupted (Ctrl-C) at packet %d: the report covers the packets before it", ce.Name, ce.Packet))
						continue
					}
					readErr = errors.Join(readErr, e)
				}
			}
			if tw != nil {
				if err := tw.Close(); err != nil {
					return inputErr(fmt.Errorf("record: %w", err))
				}
			}
			rep, err := pipe.Close()
			if err != nil {
				return fmt.Errorf("write report: %w", err)
			}
			rep.Problems = append(rep.Problems, problems...)
			if res != nil {
				rep.UndecodedTLS = res.Stats.UndecodedTLS
			}
			title := c.Args().First()
			if title == "-" {
				title = "the capture on standard input"
			}
			if c.NArg() > 1 {
				title = fmt.Sprintf("%d capture files", c.NArg())
			}
			err = rs.write(rep, title)
			if readErr != nil {
				return inputErr(readErr)
			}
			return err
		},
	}
}

func readKeyLog(name string) (*capture.KeyLog, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("key log: %w", err)
	}
	defer f.Close()
	kl, err := capture.ReadKeyLog(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return kl, nil
}

// errInterrupted ends the reading of a capture file on Ctrl-C.
var errInterrupted = errors.New("interrupted")

// ctxReader reads r until ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, errInterrupted
	}
	return c.r.Read(p)
}

// traceError is a failure to write the --record trace, passed through
// capture.StreamFiles.
type traceError struct{ err error }

func (e *traceError) Error() string { return e.err.Error() }

// openCapture opens one capture file (- is standard input). done closes it.
func openCapture(c *cli.Context, name string) (in io.Reader, done func(), err error) {
	if name == "-" {
		in = c.App.Reader
		if in == nil {
			in = os.Stdin
		}
		return in, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		if strings.HasPrefix(name, "-") && errors.Is(err, os.ErrNotExist) {
			return nil, nil, flagsAfterArgs("pcap", name, "a file", "the files", "certsleuth pcap [flags] FILE...")
		}
		return nil, nil, fmt.Errorf("pcap: %w", err)
	}
	// Ctrl-C stops reading a file and reports what was read. Standard
	// input is read to its end: the capturing program (tcpdump -w -) gets
	// the Ctrl-C too, writes what it has and closes the pipe.
	return ctxReader{c.Context, f}, func() { f.Close() }, nil
}

// eachError is err, or the errors it joins.
func eachError(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
