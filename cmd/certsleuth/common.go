package main

import (
	"crypto/x509"
	"io"
	"os"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/urfave/cli/v2"
)

// Flags shared by the commands that judge certificates.
func profileFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "profile", Aliases: []string{"p"}, Usage: "judge for this client profile (repeatable; default all): " + strings.Join(analysis.ProfileNames(), ", ")}
}

func formatFlag(formats ...string) cli.Flag {
	return &cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: " + strings.Join(formats, ", ")}
}

func caFileFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "ca-file", Usage: "also trust the CA certificates in `FILE` (PEM or DER; lab or enterprise CA; repeatable)"}
}

func profilesFrom(c *cli.Context) ([]*analysis.Profile, error) {
	ps, err := analysis.SelectProfiles(c.StringSlice("profile"))
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return ps, nil
}

// rootsFrom returns nil (the system roots) or the system roots plus --ca-file.
func rootsFrom(c *cli.Context) (*x509.CertPool, error) {
	files := c.StringSlice("ca-file")
	if len(files) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		cs, err := certs.LoadCertificates(f)
		if err != nil {
			return nil, inputErr(err)
		}
		for _, ca := range cs {
			pool.AddCert(ca)
		}
	}
	return pool, nil
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

func renderOptions(c *cli.Context, title string) analysis.RenderOptions {
	return analysis.RenderOptions{Color: useColor(c.App.Writer), Title: title}
}
