package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/urfave/cli/v2"
)

func caDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "ca-dir", Usage: "the CA's `DIR` (default: certsleuth in your config directory, or $" + certs.CADirEnv + ")"}
}

// caDir is --ca-dir or the default CA directory.
func caDir(c *cli.Context) (string, error) {
	if d := c.String("ca-dir"); d != "" {
		return d, nil
	}
	d, err := certs.DefaultCADir()
	if err != nil {
		return "", inputErr(err)
	}
	return d, nil
}

// loadCA loads the CA or says how to make one.
func loadCA(c *cli.Context) (*certs.CA, error) {
	dir, err := caDir(c)
	if err != nil {
		return nil, err
	}
	ca, err := certs.LoadCA(dir)
	if errors.Is(err, certs.ErrNoCA) {
		return nil, inputErr(withHint(fmt.Errorf("no CA in %s", dir), "run 'certsleuth ca init --name-constraint YOUR-DOMAIN' first"))
	}
	if err != nil {
		return nil, inputErr(err)
	}
	return ca, nil
}

func caCommand() *cli.Command {
	return &cli.Command{
		Name:      "ca",
		Usage:     "manage the local CA that signs the proxy's certificates",
		ArgsUsage: "COMMAND",
		Description: `The proxy shows clients certificates signed by a CA made on this machine
for you alone (never a CA shipped with the program: its key would be public).
Its key is written readable by you only (0600).

Recommended: constrain the CA to your lab's domain(s). Windows, macOS, iOS,
Android and the browsers then refuse anything it signs for any other name, so
installing it on a lab PC cannot be abused for other sites:

   certsleuth ca init --name-constraint contoso.com --name-constraint contoso.local

EXAMPLES:
   certsleuth ca init --name-constraint contoso.com
   certsleuth ca show
   certsleuth ca export --format der -o certsleuth-ca.cer
   certsleuth ca install        (and 'certsleuth ca uninstall' when done)
   certsleuth ca path

EXIT CODES:
   0  done
   2  bad usage, no CA yet, or the trust store refused`,
		Subcommands: []*cli.Command{caInitCommand(), caShowCommand(), caExportCommand(), caInstallCommand(true), caInstallCommand(false), caPathCommand()},
	}
}

func caInitCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "make the CA (ECDSA P-256; --rsa for very old clients)",
		Description: `Makes a new CA in the CA directory. It refuses to replace an existing CA:
remove that one from the trust stores first ('certsleuth ca uninstall'), then
delete the directory 'certsleuth ca path --dir' prints.

--name-constraint DOMAIN (repeatable) limits the CA to DOMAIN and every name
below it (RFC 5280 name constraints, marked critical, no IP addresses). This
is the recommended setup. The proxy tunnels names outside the constraints
untouched instead of intercepting them.

EXAMPLES:
   certsleuth ca init --name-constraint contoso.com
   certsleuth ca init --rsa

EXIT CODES:
   0  made
   2  bad usage, or a CA already exists`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "name-constraint", Aliases: []string{"n"}, Usage: "only valid for `DOMAIN` and names below it (repeatable; recommended)"},
			&cli.BoolFlag{Name: "rsa", Usage: "RSA-2048 instead of ECDSA P-256 (Windows XP/2003-era clients)"},
			caDirFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErr("ca init: unexpected argument %q (flags go before arguments)", c.Args().First())
			}
			dir, err := caDir(c)
			if err != nil {
				return err
			}
			if old, err := certs.LoadCA(dir); err == nil {
				return usageErr("ca init: a CA already exists in %s (%s)\nhint: to replace it, run 'certsleuth ca uninstall', then delete %s", dir, old.Cert.Subject.CommonName, dir)
			}
			ca, err := certs.NewCA(certs.CAOptions{NameConstraints: c.StringSlice("name-constraint"), RSA: c.Bool("rsa")})
			if err != nil {
				return usageErr("ca init: %v", err)
			}
			if err := ca.Save(dir); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return usageErr("ca init: %v\nhint: the directory holds part of a CA; delete %s and try again", err, dir)
				}
				return inputErr(fmt.Errorf("ca init: %w", err))
			}
			w := c.App.Writer
			fmt.Fprintf(w, "created CA %q (%s)\n", ca.Cert.Subject.CommonName, certs.KeyDescription(ca.Cert))
			writeCAFacts(w, ca)
			fmt.Fprintf(w, "next: 'certsleuth ca install' on this machine; on phones open http://%s/ through the proxy\n", "certsleuth.local")
			if len(ca.Cert.PermittedDNSDomains) == 0 {
				fmt.Fprintln(c.App.ErrWriter, "certsleuth: hint: this CA can sign for any name; for a lab PC prefer 'certsleuth ca init --name-constraint YOUR-DOMAIN' (see 'certsleuth help ca')")
			}
			return nil
		},
	}
}

// writeCAFacts prints what a user checks about the CA.
func writeCAFacts(w io.Writer, ca *certs.CA) {
	fmt.Fprintf(w, "certificate: %s\n", ca.CertPath())
	fmt.Fprintf(w, "key:         %s (readable by you only)\n", ca.KeyPath())
	fmt.Fprintf(w, "SHA-256:     %s\n", certs.Fingerprint(ca.Cert.Raw))
	fmt.Fprintf(w, "valid:       %s to %s\n", ca.Cert.NotBefore.UTC().Format("2006-01-02"), ca.Cert.NotAfter.UTC().Format("2006-01-02"))
	if d := ca.Cert.PermittedDNSDomains; len(d) > 0 {
		fmt.Fprintf(w, "limited to:  %s (name constraints; no IP addresses)\n", strings.Join(d, ", "))
	} else {
		fmt.Fprintf(w, "limited to:  nothing (no name constraints)\n")
	}
}

func caShowCommand() *cli.Command {
	return &cli.Command{
		Name:  "show",
		Usage: "describe the CA: subject, key, fingerprint, validity, name constraints",
		Description: `EXAMPLES:
   certsleuth ca show

EXIT CODES:
   0  shown
   2  no CA yet`,
		Flags: []cli.Flag{caDirFlag()},
		Action: func(c *cli.Context) error {
			ca, err := loadCA(c)
			if err != nil {
				return err
			}
			w := c.App.Writer
			fmt.Fprintf(w, "subject:     %s\n", ca.Cert.Subject.String())
			fmt.Fprintf(w, "key:         %s\n", certs.KeyDescription(ca.Cert))
			writeCAFacts(w, ca)
			fmt.Fprintf(w, "path length: 0 (it signs leaves only)\n")
			return nil
		},
	}
}

func caExportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "write the CA certificate (never the key) as PEM or DER",
		Description: `Writes the CA certificate to standard output or to -o FILE. DER (.cer) is
what Windows and Android import; PEM what Linux, curl and Firefox take.

EXAMPLES:
   certsleuth ca export > certsleuth-ca.pem
   certsleuth ca export --format der -o certsleuth-ca.cer

EXIT CODES:
   0  written
   2  bad usage, no CA yet, or the file cannot be written`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "pem", Usage: "pem or der"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
			caDirFlag(),
		},
		Action: func(c *cli.Context) error {
			format := strings.ToLower(c.String("format"))
			if format != "pem" && format != "der" {
				return usageErr("ca export: unknown --format %q (use pem or der)", c.String("format"))
			}
			out := c.String("output")
			if format == "der" && out == "" && isTerminal(c.App.Writer) {
				return usageErr("ca export: DER is binary; give -o FILE or redirect standard output")
			}
			ca, err := loadCA(c)
			if err != nil {
				return err
			}
			data := ca.PEM()
			if format == "der" {
				data = ca.Cert.Raw
			}
			if out == "" {
				_, err := c.App.Writer.Write(data)
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return inputErr(fmt.Errorf("ca export: %w", err))
			}
			fmt.Fprintf(c.App.ErrWriter, "certsleuth: wrote the CA certificate (%s) to %s\n", strings.ToUpper(format), out)
			return nil
		},
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func caInstallCommand(install bool) *cli.Command {
	name, usage, verb := "install", "trust the CA in this machine's store for the current user", "Adds"
	if !install {
		name, usage, verb = "uninstall", "remove the CA from the trust store", "Removes"
	}
	return &cli.Command{
		Name:  name,
		Usage: usage,
		Description: verb + ` the CA certificate (never the key) and says exactly what was done
and how to undo it:

   Windows  the current user's Trusted Root store (certutil -user; Windows
            asks you to confirm). Used by Outlook, WinINet, WinHTTP, Edge, Chrome.
   macOS    the login keychain, trusted for SSL (security add-trusted-cert).
   Linux    the distribution's anchors directory and its refresh command
            (update-ca-certificates, update-ca-trust, trust extract-compat);
            this needs root. --anchors-dir writes elsewhere and runs no refresh.

Firefox keeps its own store; phones take the certificate from
http://certsleuth.local/ through the proxy (see docs/proxy.md).

EXAMPLES:
   certsleuth ca ` + name + `
   sudo certsleuth ca ` + name + ` --ca-dir ~/.config/certsleuth

EXIT CODES:
   0  done
   2  no CA yet, or the trust store refused (the steps done so far are listed)`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "anchors-dir", Usage: "Linux: use `DIR` as the anchors directory and run no refresh command"},
			&cli.BoolFlag{Name: "dry-run", Usage: "say what would be done, do nothing"},
			caDirFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.String("anchors-dir") != "" && runtime.GOOS != "linux" {
				return usageErr("ca %s: --anchors-dir is for Linux only", name)
			}
			ca, err := loadCA(c)
			if err != nil {
				return err
			}
			o := certs.TrustOptions{AnchorsDir: c.String("anchors-dir")}
			plan, err := certs.InstallPlan(ca, o)
			if !install {
				plan, err = certs.UninstallPlan(ca, o)
			}
			if err != nil {
				return inputErr(fmt.Errorf("ca %s: %w", name, err))
			}
			w := c.App.Writer
			if c.Bool("dry-run") {
				fmt.Fprintf(w, "would %s %q in %s:\n", name, ca.Cert.Subject.CommonName, plan.Store)
				for _, s := range plan.Steps {
					fmt.Fprintf(w, "  %s\n", strings.Replace(strings.Replace(s.String(), "wrote ", "write ", 1), "ran ", "run ", 1))
				}
				return nil
			}
			done, err := plan.Execute(ca, o)
			for _, s := range done {
				fmt.Fprintf(w, "%s\n", s)
			}
			if err != nil {
				return inputErr(fmt.Errorf("ca %s: %w", name, err))
			}
			if install {
				fmt.Fprintf(w, "installed %q (SHA-256 %s) in %s\n", ca.Cert.Subject.CommonName, certs.Fingerprint(ca.Cert.Raw)[:16], plan.Store)
			} else {
				fmt.Fprintf(w, "removed %q from %s\n", ca.Cert.Subject.CommonName, plan.Store)
			}
			if plan.Undo != "" {
				fmt.Fprintf(w, "undo: %s\n", plan.Undo)
			}
			if plan.Note != "" {
				fmt.Fprintf(c.App.ErrWriter, "certsleuth: note: %s\n", plan.Note)
			}
			return nil
		},
	}
}

func caPathCommand() *cli.Command {
	return &cli.Command{
		Name:  "path",
		Usage: "print where the CA certificate is (--dir: its directory)",
		Description: `Prints the CA certificate's file, the one to import by hand. With --dir,
the directory holding the certificate and the key (it may not exist yet).

EXAMPLES:
   certsleuth ca path
   certsleuth ca path --dir

EXIT CODES:
   0  printed
   2  no CA yet (without --dir)`,
		Flags: []cli.Flag{&cli.BoolFlag{Name: "dir", Usage: "print the CA directory"}, caDirFlag()},
		Action: func(c *cli.Context) error {
			if c.Bool("dir") {
				dir, err := caDir(c)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, dir)
				return nil
			}
			ca, err := loadCA(c)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, ca.CertPath())
			return nil
		},
	}
}
