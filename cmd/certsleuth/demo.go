package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/certsleuth/certsleuth/lab"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/proxy"
	"github.com/certsleuth/certsleuth/record"
	"github.com/urfave/cli/v2"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "stage a certificate-warning story on this machine, then show the fix working",
		Description: `Starts, on 127.0.0.1 and in this process, a fake Exchange server with a
lab CA and certificates, the certsleuth proxy in mirror mode, and a scripted
Outlook (or ActiveSync phone) that goes through the proxy. No network, nothing
installed, nothing written unless asked.

Act 1 runs the client against the configuration as found and tells each
step: what the client requested and why, the certificate that came back,
the warning in the client's words. Then certsleuth reads the proxy's trace
and names the culprit, its origin and the remedy, filled in. Act 2 applies
the remedy to the lab's configuration and runs the same client again: no
warning. --fixed plays act 2 alone.

--serve keeps a lab and the proxy up for a real Outlook or phone on a lab
PC, prints the settings to use there and every request as it happens,
until Ctrl-C. The requests also show on the live page, for a stakeholder
to watch in a browser: http://PROXY/live, http://certsleuth.local/live
through the proxy, or --web ADDR.

SCENARIOS (--list says the same):
` + indent(lab.Listing(), "   ") + `

EXAMPLES:
   certsleuth demo
   certsleuth demo --list
   certsleuth demo --scenario activesync-phone
   certsleuth demo --scenario http-redirect --fixed
   certsleuth demo --format html -o handout.html
   certsleuth demo --record demo.jsonl     then: certsleuth replay --ca-file demo.lab-ca.pem demo.jsonl
   certsleuth demo --serve --listen 0.0.0.0:8080 --allow 192.168.1.0/24

EXIT CODES:
   0  the story ran as expected (act 1 warns where the scenario says, the fix removes every warning)
   1  it did not (the text says where)
   2  bad usage, or the lab could not start`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "list", Usage: "list the scenarios and the Exchange configuration each stands for"},
			&cli.StringFlag{Name: "scenario", Aliases: []string{"s"}, Value: lab.DefaultScenario, Usage: "the scenario to play (see --list)"},
			&cli.BoolFlag{Name: "fixed", Usage: "play act 2 alone: the configuration with the fix applied"},
			&cli.StringFlag{Name: "profile", Aliases: []string{"p"}, Usage: "judge with this client `PROFILE` instead of the scenario client's (" + strings.Join(match.ProfileNames(), ", ") + ")"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: text, html (the two-act handout)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the story to `FILE` instead of standard output"},
			&cli.StringFlag{Name: "record", Usage: "write the proxy's trace of act 1 to `TRACE`, act 2 to TRACE with .fixed before the extension, and the lab CA to TRACE with .lab-ca.pem"},
			&cli.BoolFlag{Name: "direct", Usage: "connect the client to the lab directly, without the proxy"},
			&cli.BoolFlag{Name: "serve", Usage: "keep the lab and the proxy up for a real Outlook or phone until Ctrl-C"},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "with --serve: the proxy's `ADDRESS`"},
			&cli.StringSliceFlag{Name: "allow", Usage: "with --serve: also accept proxy clients from `CIDR` (a lab PC's network; repeatable)"},
		}, webFlags()...),
		Action: runDemo,
	}
}

func indent(lines []string, pad string) string {
	return pad + strings.ReplaceAll(strings.Join(lines, "\n"), "\n", "\n"+pad)
}

func runDemo(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("demo: unexpected argument %q (flags only; see 'certsleuth help demo')", c.Args().First())
	}
	if c.Bool("list") {
		for _, l := range lab.Listing() {
			fmt.Fprintln(c.App.Writer, l)
		}
		return nil
	}
	format := c.String("format")
	if format != "text" && format != "html" {
		return usageErr("demo: unknown format %q (use text or html)", format)
	}
	if c.Bool("serve") && (c.IsSet("format") || c.IsSet("output") || c.Bool("direct")) {
		return usageErr("demo: --serve prints settings and live requests; it takes no --format, --output or --direct")
	}
	if !c.Bool("serve") && (c.IsSet("listen") || c.IsSet("allow") || c.IsSet("web") || c.IsSet("web-allow")) {
		return usageErr("demo: --listen and --allow go with --serve (so do --web and --web-allow)")
	}
	if c.Bool("direct") && c.IsSet("record") {
		return usageErr("demo: --record writes the proxy's trace; it cannot go with --direct")
	}
	s, err := lab.LookupScenario(c.String("scenario"))
	if err != nil {
		return usageErr("demo: %v", err)
	}
	var prof *match.Profile
	if p := c.String("profile"); p != "" {
		if prof, err = match.LookupProfile(p); err != nil {
			return usageErr("demo: %v", err)
		}
	}
	if c.Bool("serve") {
		return serveDemo(c, s, prof)
	}
	ca, err := lab.NewCA()
	if err != nil {
		return inputErr(err)
	}
	opts := lab.ShowOptions{Profile: prof, OnlyFixed: c.Bool("fixed"), Direct: c.Bool("direct"), CA: ca}
	var rec *demoRecorder
	if t := c.String("record"); t != "" {
		rec = &demoRecorder{base: t, stderr: c.App.ErrWriter, ca: ca}
		opts.Observers = rec.observers
	}
	ctx, cancel := context.WithTimeout(c.Context, 30*time.Second)
	defer cancel()
	sh, err := lab.Play(ctx, s, opts)
	if rerr := rec.close(); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return inputErr(fmt.Errorf("demo: %w", err))
	}
	if rec != nil {
		if err := rec.writeCA(ca); err != nil {
			return inputErr(err)
		}
	}
	w := c.App.Writer
	color := useColor(w)
	if out := c.String("output"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			return inputErr(fmt.Errorf("demo: %w", err))
		}
		defer f.Close()
		w, color = f, false
	}
	if format == "html" {
		err = sh.WriteHTML(w)
	} else {
		err = sh.WriteText(w, lab.TextOptions{Color: color})
	}
	if err != nil {
		return fmt.Errorf("demo: write: %w", err)
	}
	if rec != nil {
		rec.hint()
	}
	if p := sh.Problems(); len(p) > 0 {
		return &exitError{code: exitWarn, err: fmt.Errorf("demo: the story did not run as expected: %s", strings.Join(p, "; "))}
	}
	return nil
}

// demoRecorder writes each act's proxy trace to its own file.
type demoRecorder struct {
	base    string
	stderr  io.Writer
	ca      *lab.CA // the lab's CA: the only root the demo's verdicts trust
	files   []string
	acts    []int
	writers []*record.Writer
	mu      sync.Mutex // errs: the proxy reports write errors from its goroutines
	errs    []error
}

func (r *demoRecorder) fail(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

func (r *demoRecorder) name(act int, onlyAct bool) string {
	if act == 1 || onlyAct {
		return r.base
	}
	ext := filepath.Ext(r.base)
	return strings.TrimSuffix(r.base, ext) + ".fixed" + ext
}

func (r *demoRecorder) caName() string {
	return strings.TrimSuffix(r.base, filepath.Ext(r.base)) + ".lab-ca.pem"
}

// observers opens the trace of act n and returns its recorder.
func (r *demoRecorder) observers(act int) []func(proxy.Event) {
	name := r.name(act, act == 2 && len(r.files) == 0)
	tw, err := record.Create(name, "certsleuth demo (proxy, act "+fmt.Sprint(act)+")")
	if err == nil && r.ca != nil {
		err = tw.WriteTrust(demoTrust(r.ca))
	}
	if err != nil {
		r.fail(fmt.Errorf("demo: --record: %w", err))
		return nil
	}
	r.files, r.acts, r.writers = append(r.files, name), append(r.acts, act), append(r.writers, tw)
	return []func(proxy.Event){proxy.Recorder(tw, func(err error) {
		r.fail(fmt.Errorf("demo: --record %s: %w", name, err))
	})}
}

func (r *demoRecorder) close() error {
	if r == nil {
		return nil
	}
	for i, w := range r.writers {
		if err := w.Close(); err != nil {
			r.fail(fmt.Errorf("demo: --record %s: %w", r.files[i], err))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// demoTrust is the trust the demo judges with, for its traces: the lab's
// CA alone (replay then needs no --ca-file).
func demoTrust(ca *lab.CA) record.Trust {
	return record.Trust{Roots: [][]byte{ca.Cert.Raw}, From: "the demo lab's CA"}
}

func (r *demoRecorder) writeCA(ca *lab.CA) error {
	if err := os.WriteFile(r.caName(), ca.PEM(), 0o644); err != nil {
		return fmt.Errorf("demo: --record: lab CA: %w", err)
	}
	return nil
}

func (r *demoRecorder) hint() {
	for i, f := range r.files {
		fmt.Fprintf(r.stderr, "certsleuth: recorded act %d's proxy trace in %s; replay it with: certsleuth replay --ca-file %s %s\n", r.acts[i], f, r.caName(), f)
	}
}

// serveDemo keeps a lab and the proxy up for a real client until Ctrl-C.
func serveDemo(c *cli.Context, s *lab.Scenario, prof *match.Profile) error {
	listen := c.String("listen")
	var allow []*net.IPNet
	for _, a := range c.StringSlice("allow") {
		_, n, err := net.ParseCIDR(a)
		if err != nil {
			return usageErr("demo: --allow %q: want a network like 192.168.1.0/24", a)
		}
		allow = append(allow, n)
	}
	if !proxy.IsLoopbackListen(listen) && len(allow) == 0 {
		return usageErr("demo: --listen %s accepts other machines only with --allow CIDR (their network)", listen)
	}
	if _, err := checkWeb(c, "demo"); err != nil {
		return err
	}
	cfg := s.Config
	act := "as found"
	if c.Bool("fixed") {
		cfg, act = s.Fixed(), "with the fix applied"
	}
	l, err := lab.Start(cfg, nil)
	if err != nil {
		return inputErr(fmt.Errorf("demo: %w", err))
	}
	defer l.Close()
	roots := x509.NewCertPool()
	roots.AddCert(l.CA.Cert)
	var profiles []*match.Profile
	if prof != nil {
		profiles = []*match.Profile{prof}
	}
	live := proxy.NewLive(c.App.Writer, proxy.LiveOptions{Profiles: profiles, Roots: roots, Color: useColor(c.App.Writer), Queue: 1024, Recording: c.String("record") != ""})
	defer live.Close() // after the proxy's Close (defers run last first)
	web := proxy.NewWeb(proxy.WebOptions{Profiles: profiles, Roots: roots, Title: "certsleuth demo --serve: " + s.Name + " (" + act + ")"})
	defer web.Close()
	observers := []func(proxy.Event){live.Observe}
	var tw *record.Writer
	if t := c.String("record"); t != "" {
		if tw, err = record.Create(t, "certsleuth demo --serve (proxy)"); err == nil {
			err = tw.WriteTrust(demoTrust(l.CA))
		}
		if err != nil {
			return inputErr(fmt.Errorf("demo: --record: %w", err))
		}
		defer tw.Close()
		observers = append(observers, proxy.Recorder(tw, func(err error) {
			fmt.Fprintf(c.App.ErrWriter, "certsleuth: error: --record %s: %v\n", t, err)
		}))
		rec := &demoRecorder{base: t}
		if err := rec.writeCA(l.CA); err != nil {
			return inputErr(err)
		}
	}
	observers = append(observers, web.Observe) // after the recorder, as in proxy
	p, err := lab.StartProxy(l, lab.ProxyOptions{Listen: listen, Allow: allow, Observers: observers, Web: web})
	if err != nil {
		return inputErr(fmt.Errorf("demo: %w", err))
	}
	defer p.Close()
	caFile := filepath.Join(os.TempDir(), fmt.Sprintf("certsleuth-demo-ca-%d.pem", os.Getpid()))
	if err := os.WriteFile(caFile, p.CA.PEM(), 0o644); err != nil {
		return inputErr(fmt.Errorf("demo: write the proxy CA: %w", err))
	}
	defer os.Remove(caFile)
	writeServeSettings(c.App.Writer, s, act, l, p, caFile)
	stopWeb, err := startWeb(c, "demo", web, p.Addr, c.App.Writer)
	if err != nil {
		return err
	}
	defer stopWeb()
	<-c.Context.Done()
	fmt.Fprintln(c.App.ErrWriter, "certsleuth: stopping the demo lab")
	return nil
}

// writeServeSettings prints what to set on a lab PC or phone.
func writeServeSettings(w io.Writer, s *lab.Scenario, act string, l *lab.Lab, p *lab.Proxy, caFile string) {
	host, port, _ := net.SplitHostPort(p.Addr)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = outboundIP()
	}
	addr := net.JoinHostPort(host, port)
	cfg := l.Config()
	fmt.Fprintf(w, "certsleuth demo lab: %s (%s), %s\n", s.Name, act, s.Title)
	fmt.Fprintf(w, "proxy        %s (certsleuth proxy, mirror mode)\n", addr)
	fmt.Fprintf(w, "proxy CA     %s\n             (or browse to http://%s/ through the proxy: DER, PEM and an iPhone profile)\n", caFile, proxy.HelperHost)
	fmt.Fprintf(w, "mailbox      %s (any password)\n\n", cfg.Mailbox)
	fmt.Fprintf(w, "On a Windows lab PC:\n")
	fmt.Fprintf(w, "  1. proxy: Settings > Network & Internet > Proxy > Manual: %s\n     (Outlook uses WinINet; for services also: netsh winhttp set proxy %s)\n", addr, addr)
	fmt.Fprintf(w, "  2. trust: import the proxy CA into Current User > Trusted Root Certification Authorities\n     (certutil -user -addstore Root %s); remove it afterwards\n", filepath.Base(caFile))
	fmt.Fprintf(w, "  3. hosts: if the PC cannot resolve the lab's names (some Outlook steps resolve\n     before using the proxy), add to C:\\Windows\\System32\\drivers\\etc\\hosts:\n")
	for _, line := range strings.Split(strings.TrimSpace(l.HostsEntries(host)), "\n") {
		fmt.Fprintf(w, "       %s\n", line)
	}
	fmt.Fprintf(w, "  4. Outlook: File > Add Account > %s; Autodiscover runs through the proxy.\n     (A PC outside the contoso.local domain skips the SCP step of the story.)\n", cfg.Mailbox)
	fmt.Fprintf(w, "On a phone: Wi-Fi > proxy > manual %s, install and trust the CA from http://%s/,\n  then add an Exchange account %s.\n\n", addr, proxy.HelperHost, cfg.Mailbox)
	fmt.Fprintf(w, "Each request is printed below as it happens. Ctrl-C stops the lab.\n")
}

// outboundIP guesses this machine's address on the LAN for the settings.
func outboundIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
