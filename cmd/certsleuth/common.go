package main

import (
	"crypto/x509"
	"io"
	"os"
	"strings"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
	"github.com/urfave/cli/v2"
)

// Flags shared by the commands that judge certificates.
func profileFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "profile", Aliases: []string{"p"}, Usage: "judge for this client profile (repeatable; default all): " + strings.Join(match.ProfileNames(), ", ")}
}

// allFlag asks a report for every cause in full and every observation
// (report.RenderOptions.All).
func allFlag() cli.Flag {
	return &cli.BoolFlag{Name: "all", Usage: "show every cause in full, then every observation (text, md, html; without it the biggest causes in full and a count of the rest; json always has every observation)"}
}

func formatFlag(formats ...string) cli.Flag {
	return &cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: " + strings.Join(formats, ", ")}
}

func caFileFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "ca-file", Usage: "also trust the CA certificates in `FILE` (PEM or DER; lab or enterprise CA; repeatable)"}
}

func profilesFrom(c *cli.Context) ([]*match.Profile, error) {
	ps, err := match.SelectProfiles(c.StringSlice("profile"))
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return ps, nil
}

// rootsFrom returns nil (the system roots) or the system roots plus --ca-file.
func rootsFrom(c *cli.Context) (*x509.CertPool, error) {
	cas, err := caFiles(c)
	if err != nil || len(cas) == 0 {
		return nil, err
	}
	return rootPool(true, cas), nil
}

// caFiles reads the certificates of every --ca-file.
func caFiles(c *cli.Context) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, f := range c.StringSlice("ca-file") {
		cs, err := certs.LoadCertificates(f)
		if err != nil {
			return nil, inputErr(err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

// rootPool is the system roots (when system is set) plus cas.
func rootPool(system bool, cas []*x509.Certificate) *x509.CertPool {
	var pool *x509.CertPool
	if system {
		pool, _ = x509.SystemCertPool()
	}
	if pool == nil {
		pool = x509.NewCertPool()
	}
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	return pool
}

// traceTrust is the trust a trace records for roots (nil: the machine's
// roots alone), from says where they came from ("--ca-file lab.pem").
func traceTrust(roots []*x509.Certificate, from string) record.Trust {
	t := record.Trust{System: true}
	if len(roots) > 0 {
		t.From = from
	}
	for _, r := range roots {
		t.Roots = append(t.Roots, r.Raw)
	}
	return t
}

// flagNames lists the values of a repeatable flag for traceTrust's from:
// "--ca-file a.pem, --ca-file b.pem".
func flagNames(c *cli.Context, flag string) string {
	var fs []string
	for _, f := range c.StringSlice(flag) {
		fs = append(fs, "--"+flag+" "+f)
	}
	return strings.Join(fs, ", ")
}

// flagsAfterArgs is the message for a flag placed after the arguments
// (urfave/cli stops reading flags at the first argument): cmd names the
// command, arg the misplaced flag, what the kind of argument ("a file"),
// where what the flags go before ("the files") and usage the command line
// ("certsleuth pcap [flags] FILE...").
func flagsAfterArgs(cmd, arg, what, where, usage string) error {
	return usageErr("%s: %s is not %s: flags go before %s (%s)", cmd, arg, what, where, usage)
}

// rawArgs is the App.Metadata key of the command line as given.
const rawArgs = "args"

// refuseLateFlags returns flagsAfterArgs for the first argument after the
// first that is one of the command's flags ("--profile", "-p go",
// "--format=json", "-h"), up to a "--" (after which everything is an
// argument); nil when there is none. Other words that begin with a dash
// are arguments.
func refuseLateFlags(c *cli.Context, what, where, usage string) error {
	// The flag parser drops a "--" before the first argument: look for it
	// in the command line (the arguments are its tail).
	if raw, ok := c.App.Metadata[rawArgs].([]string); ok {
		if i := len(raw) - c.NArg() - 1; i >= 0 && raw[i] == "--" {
			return nil
		}
	}
	flags := map[string]bool{"h": true, "help": true}
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			flags[n] = true
		}
	}
	for i, a := range c.Args().Slice() {
		if a == "--" {
			return nil
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if i > 0 && strings.HasPrefix(a, "-") && flags[name] {
			return flagsAfterArgs(c.Command.Name, a, what, where, usage)
		}
	}
	return nil
}

// useColor reports whether w is a terminal and NO_COLOR is unset.
func useColor(w io.Writer) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

func renderOptions(c *cli.Context, title string) report.RenderOptions {
	return report.RenderOptions{Color: useColor(c.App.Writer), Title: title, All: c.Bool("all")}
}
