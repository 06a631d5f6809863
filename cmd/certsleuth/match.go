package main

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/report"
	"github.com/urfave/cli/v2"
)

func matchCommand() *cli.Command {
	return &cli.Command{
		Name:      "match",
		Usage:     "does this certificate cover these names, for these clients?",
		ArgsUsage: "[--] NAME...",
		Description: `Matches each NAME against the certificate's names the way each client
profile does, and says why it matches or not. FILE is PEM (one or more
certificates, leaf first) or DER. Put -- before names that are empty or begin
with a dash.

EXAMPLES:
   certsleuth match --cert mail.pem exch01.contoso.local mail.contoso.com
   certsleuth match --cert wildcard.pem --profile chrome --profile outlook www.contoso.com
   certsleuth match --cert mail.pem --format json -- ""

EXIT CODES:
   0  every name matches under every chosen profile
   1  some name does not match under some profile
   2  bad usage or unreadable certificate`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "cert", Aliases: []string{"c"}, Usage: "certificate `FILE` (PEM or DER, leaf first)", Required: true},
			profileFlag(),
			formatFlag("text", "json"),
		},
		Action: func(c *cli.Context) error {
			format := c.String("format")
			if format != "text" && format != "json" {
				return usageErr("match: unknown --format %q (use text or json)", format)
			}
			if err := refuseLateFlags(c, "a name", "the names", "certsleuth match [flags] [--] NAME..."); err != nil {
				return err
			}
			ps, err := profilesFrom(c)
			if err != nil {
				return err
			}
			names := c.Args().Slice()
			// "--" ends the flags wherever it stands; urfave/cli only drops
			// it before the first name.
			if i := slices.Index(names, "--"); i >= 0 {
				names = slices.Delete(names, i, i+1)
			}
			if len(names) == 0 {
				return usageErr("match: no NAME given (certsleuth match --cert FILE NAME...)")
			}
			chain, err := certs.LoadCertificates(c.String("cert"))
			if err != nil {
				return inputErr(err)
			}
			leaf := chain[0]
			w := c.App.Writer
			all := true
			enc := json.NewEncoder(w)
			if format == "text" {
				writeLeaf(w, leaf)
			}
			for _, n := range names {
				if format == "text" {
					fmt.Fprintf(w, "\n%q:\n", n)
				}
				for _, p := range ps {
					v := match.Match(leaf, n, p)
					all = all && v.Match
					if format == "json" {
						if err := enc.Encode(v); err != nil {
							return err
						}
						continue
					}
					res := fmt.Sprintf("%-10s", "match")
					if !v.Match {
						res = "NO MATCH  "
					}
					if useColor(w) { // pad first: escapes have no width
						if v.Match {
							res = "\x1b[32m" + res + "\x1b[0m"
						} else {
							res = "\x1b[31m" + res + "\x1b[0m"
						}
					}
					lines := report.Wrap(fmt.Sprintf("[%s] %s", v.Kind, v.Reason), 80-24)
					fmt.Fprintf(w, "  %-9s %s  %s\n", p.Name, res, lines[0])
					for _, l := range lines[1:] {
						fmt.Fprintf(w, "%24s%s\n", "", l)
					}
				}
			}
			if !all {
				return errWarn
			}
			return nil
		},
	}
}

// writeLeaf prints a certificate's names, issuer and dates, wrapped to 80
// columns.
func writeLeaf(w io.Writer, leaf *x509.Certificate) {
	d := certs.Describe(leaf)
	names := append(append([]string(nil), d.DNSNames...), d.IPAddresses...)
	san := strings.Join(names, ", ")
	if san == "" {
		san = "none"
	}
	issuer := d.IssuerCN
	if d.SelfSigned {
		issuer = "self-signed"
	}
	field := func(label, value string) {
		lines := report.Wrap(value, 80-14)
		fmt.Fprintf(w, "%-14s%s\n", label, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%14s%s\n", "", l)
		}
	}
	fmt.Fprintln(w, "certificate")
	field("  subject CN", fmt.Sprintf("%q", d.SubjectCN))
	field("  SAN", san)
	field("  issuer", issuer)
	field("  valid", d.NotBefore.Format("2006-01-02")+" to "+d.NotAfter.Format("2006-01-02"))
}
