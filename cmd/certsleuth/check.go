package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/probe"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
	"github.com/urfave/cli/v2"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "connect to servers like a client and judge the certificate they present",
		ArgsUsage: "TARGET...",
		Description: `Connects to each TARGET (a URL, host, or host:port; port 443 by default)
the way a client would, never aborting on a bad certificate, and prints the
verdict per client profile. When the server leaves out an intermediate CA
and the certificate names an AIA caIssuers URL, check fetches it, as
Chromium, Windows and Apple do (OpenSSL, curl, Python and Go do not), and
says whether it answered. It also connects once without SNI, as old
ActiveSync devices and old Windows do, and says when the server's default
certificate differs. An unreachable target is reported, not waited on.

--resolve NAME=ADDR dials ADDR (an IP, or IP:port) for NAME, for lab names
that only exist in a hosts file.

EXAMPLES:
   certsleuth check https://mail.contoso.com/EWS/Exchange.asmx
   certsleuth check --resolve exch01.contoso.local=10.0.0.5 exch01.contoso.local
   certsleuth check --resolve mail.contoso.test=127.0.0.1:8443 --ca-file lab-ca.pem mail.contoso.test
   certsleuth check --record check.jsonl --format json mail.contoso.com autodiscover.contoso.com

EXIT CODES:
   0  no client would warn
   1  some client would warn (or a target could not be reached)
   2  bad usage
   3  nothing judged would warn, but a certificate could not be read`,
		Flags: []cli.Flag{
			profileFlag(),
			caFileFlag(),
			&cli.StringSliceFlag{Name: "resolve", Usage: "dial `NAME=ADDR` instead of resolving NAME (ADDR is an IP or IP:port; repeatable)"},
			&cli.BoolFlag{Name: "no-sni", Usage: "only connect without SNI (default: with SNI, and once more without)"},
			&cli.StringFlag{Name: "record", Usage: "also write the observations to trace `FILE` (for replay)"},
			&cli.DurationFlag{Name: "connect-timeout", Value: 5e9, Usage: "give up connecting after this long"},
			&cli.DurationFlag{Name: "timeout", Value: 10e9, Usage: "give up on the TLS handshake after this long"},
			formatFlag(report.Formats...),
			allFlag(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE`"},
		},
		Action: func(c *cli.Context) error {
			if err := report.CheckFormat(c.String("format")); err != nil {
				return usageErr("check: %v", err)
			}
			if c.NArg() == 0 {
				return usageErr("check: no TARGET given (a URL, host or host:port)")
			}
			if err := refuseLateFlags(c, "a target", "the targets", "certsleuth check [flags] TARGET..."); err != nil {
				return err
			}
			ps, err := profilesFrom(c)
			if err != nil {
				return err
			}
			roots, err := rootsFrom(c)
			if err != nil {
				return err
			}
			resolve, err := parseResolve(c.StringSlice("resolve"))
			if err != nil {
				return err
			}
			var targets []probe.Target
			for _, a := range c.Args().Slice() {
				t, err := probe.ParseTarget(a)
				if err != nil {
					return usageErr("check: %v", err)
				}
				targets = append(targets, t)
			}
			opts := probe.Options{Resolve: resolve, ConnectTimeout: c.Duration("connect-timeout"), HandshakeTimeout: c.Duration("timeout")}
			var obs []*record.Observation
			var notes []string
			for _, t := range targets {
				var withSNI *record.Observation
				if !c.Bool("no-sni") {
					sni := t.Host
					if isIP(sni) {
						sni = "" // clients never send an IP address as SNI (RFC 6066 §3)
					}
					withSNI = probe.Fetch(c.Context, t, sni, opts)
					obs = append(obs, withSNI)
					if withSNI.Visibility == record.VisFailed && withSNI.Server == "" {
						continue // unreachable: no point trying again without SNI
					}
					if sni == "" {
						continue
					}
				}
				noSNI := probe.Fetch(c.Context, t, "", opts)
				obs = append(obs, noSNI)
				if withSNI != nil && len(withSNI.Chain) > 0 && len(noSNI.Chain) > 0 && !bytes.Equal(withSNI.Chain[0], noSNI.Chain[0]) {
					n := fmt.Sprintf("%s presents a different certificate without SNI: clients that send no SNI (old ActiveSync devices, Windows XP) get the default one", t)
					noSNI.Note = n
					notes = append(notes, n)
				}
			}
			// The admin's PC fetches a missing intermediate like Chromium,
			// Windows and Apple would: the report says whether the URL answered.
			probe.FetchMissingIssuers(c.Context, obs, roots, c.Duration("timeout"))
			if f := c.String("record"); f != "" {
				if err := writeTrace(c, f, "certsleuth check", obs); err != nil {
					return err
				}
			}
			rep := analysis.Analyze(obs, analysis.Options{Profiles: ps, Roots: roots})
			failed := false
			for _, o := range obs {
				if o.Visibility == record.VisFailed && len(o.Chain) == 0 {
					failed = true
				}
			}
			err = writeReport(c, rep, "")
			for _, n := range notes {
				fmt.Fprintf(c.App.ErrWriter, "certsleuth: note: %s\n", n)
			}
			if (err == nil || err == errNotJudged) && failed {
				return errWarn
			}
			return err
		},
	}
}

func isIP(s string) bool {
	return strings.Count(s, ":") >= 2 || strings.Trim(s, "0123456789.") == "" && strings.Count(s, ".") == 3
}

// parseResolve reads NAME=ADDR pairs.
func parseResolve(pairs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range pairs {
		name, addr, ok := strings.Cut(p, "=")
		if !ok || name == "" || addr == "" {
			return nil, usageErr("--resolve %q: want NAME=ADDR, like mail.contoso.com=10.0.0.5 or mail.contoso.com=127.0.0.1:8443", p)
		}
		m[strings.ToLower(name)] = addr
	}
	return m, nil
}

// writeTrace writes observations to a new trace file.
func writeTrace(c *cli.Context, path, producer string, obs []*record.Observation) error {
	tw, err := createTrace(c, path, producer)
	if err != nil {
		return err
	}
	for _, o := range obs {
		if err := tw.Write(o); err != nil {
			tw.Close()
			return err
		}
	}
	return tw.Close()
}

// createTrace creates the trace file path (0600) and records the trust the
// command judges with (the machine's roots and --ca-file); Close on the
// writer closes it.
func createTrace(c *cli.Context, path, producer string) (*record.Writer, error) {
	cas, err := caFiles(c)
	if err != nil {
		return nil, err
	}
	tw, err := record.Create(path, producer)
	if err != nil {
		return nil, inputErr(fmt.Errorf("record: %w", err))
	}
	if err := tw.WriteTrust(traceTrust(cas, flagNames(c, "ca-file"))); err != nil {
		tw.Close()
		return nil, inputErr(fmt.Errorf("record: %w", err))
	}
	return tw, nil
}
