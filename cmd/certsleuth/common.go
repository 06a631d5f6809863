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
