package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/proxy"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
	"github.com/urfave/cli/v2"
)

func proxyCommand() *cli.Command {
	return &cli.Command{
		Name:  "proxy",
		Usage: "intercepting HTTP proxy that shows clients the warning they would get anyway, and records why",
		Description: `Point Outlook, a phone or a browser at this proxy (HTTP proxy, host and port
of --listen). Each request is printed as it happens: method, URL, the name the
client asked for, and the verdict (warnings highlighted). Ctrl-C stops it,
flushes --record and prints the report (the one 'certsleuth replay' gives).

The same requests show in a browser as they happen, with each client
profile's verdict, the culprit, where the client was sent from and the fix,
and the picture of it all: open http://certsleuth.local/live through the
proxy, or http://127.0.0.1:8080/live (the --listen address); --web ADDR
serves the page on an address of its own (loopback only unless --web-allow).

Modes:
   mirror       (default) the client is shown a certificate with exactly the
                server's names and dates, signed by certsleuth's CA, or by a CA
                nobody trusts when the client would not trust the server. The
                client warns exactly when it would without the proxy.
   clean        the certificate carries the name the client asked for: no
                warning, everything captured; the real chain is still recorded.
   passthrough  no interception: bytes tunnelled as they are; SNI and the
                server's chain recorded (TLS 1.3: fetched by a side connection).

The CA lives in your config directory ('certsleuth ca path'). If there is none,
the proxy makes one on first run and says where; for lab PCs make a
name-constrained one first: 'certsleuth ca init --name-constraint contoso.com'.
Trust it with 'certsleuth ca install', or on devices open http://certsleuth.local/
through the proxy.

It listens on loopback only unless --listen names another address, which also
needs --allow CIDR (the devices' network), so it is never an open proxy.
Clients on other machines cannot reach this host's loopback, link-local
(169.254.0.0/16, fe80::/10) or listening addresses through it, unless
--resolve maps a name there or --allow-target CIDR allows it.

EXAMPLES:
   certsleuth proxy --record outlook.jsonl
   certsleuth proxy --mode clean --only '*.contoso.com' --record all.jsonl
   certsleuth proxy --listen 0.0.0.0:8080 --allow 192.168.1.0/24     phones on the lab Wi-Fi
   certsleuth proxy --resolve exch01.contoso.local=10.0.0.5 --upstream-ca corp-root.pem

EXIT CODES:
   0  stopped; no request would make a client warn
   1  stopped; some request would
   2  bad usage, no CA, or the address is in use
   3  stopped; nothing judged would warn, but some connection could not
      be judged (its certificate not seen or not readable)`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "listen", Aliases: []string{"l"}, Value: "127.0.0.1:8080", Usage: "listen on `ADDR` (host:port)"},
			&cli.StringFlag{Name: "record", Aliases: []string{"r"}, Usage: "write every request to the trace `FILE` (for 'certsleuth replay')"},
			&cli.StringFlag{Name: "mode", Aliases: []string{"m"}, Value: "mirror", Usage: "mirror, clean or passthrough"},
			&cli.StringSliceFlag{Name: "upstream-ca", Usage: "CA certificates `FILE` your clients trust (AD CS root, lab CA): judged as trusted (repeatable)"},
			&cli.StringSliceFlag{Name: "only", Usage: "intercept only hosts matching `GLOB` (e.g. '*.contoso.com'); others are tunnelled unrecorded (repeatable)"},
			profileFlag(),
			&cli.StringSliceFlag{Name: "resolve", Usage: "dial `NAME=ADDR` instead of resolving NAME (ADDR is an IP or IP:port; repeatable)"},
			&cli.StringSliceFlag{Name: "allow", Usage: "also serve clients in `CIDR` (needed for a non-loopback --listen; repeatable)"},
			&cli.StringSliceFlag{Name: "allow-target", Usage: "let clients on other machines reach `CIDR` even though it is this host's loopback, link-local or listening address (repeatable; see 'who can reach what' in docs/proxy.md)"},
			&cli.BoolFlag{Name: "legacy-tls", Usage: "accept TLS 1.0/1.1 and old cipher suites on both sides (Outlook 2010, Windows 7, Exchange 2010)"},
			caDirFlag(),
		}, webFlags()...),
		Action: runProxy,
	}
}

// parseNets reads the repeatable CIDR flag name; a bare address is a
// network of one.
func parseNets(c *cli.Context, name string) ([]*net.IPNet, error) {
	return parseAllow("proxy: --"+name, c.StringSlice(name))
}

func runProxy(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("proxy: unexpected argument %q (flags go before arguments)", c.Args().First())
	}
	mode, err := proxy.ParseMode(c.String("mode"))
	if err != nil {
		return usageErr("proxy: --mode: %v", err)
	}
	listen := c.String("listen")
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return usageErr("proxy: --listen %q: want host:port, e.g. 127.0.0.1:8080", listen)
	}
	allow, err := parseNets(c, "allow")
	if err != nil {
		return err
	}
	allowTarget, err := parseNets(c, "allow-target")
	if err != nil {
		return err
	}
	if _, err := checkWeb(c, "proxy"); err != nil {
		return err
	}
	for _, n := range allow {
		if ones, _ := n.Mask.Size(); ones == 0 {
			fmt.Fprintf(c.App.ErrWriter, "certsleuth: warning: --allow %s lets any address on any network use this proxy: it is an open proxy to whoever can reach %s; give the devices' network instead, e.g. --allow 192.168.1.0/24\n", n, listen)
		}
	}
	if !proxy.IsLoopbackListen(listen) && len(allow) == 0 {
		return usageErr("proxy: --listen %s is reachable from the network; refusing to run an open proxy\nhint: add --allow CIDR for the devices that may use it, e.g. --allow 192.168.1.0/24", listen)
	}
	resolve := map[string]string{}
	for _, r := range c.StringSlice("resolve") {
		name, addr, ok := strings.Cut(r, "=")
		if !ok || name == "" || addr == "" {
			return usageErr("proxy: --resolve %q: want NAME=ADDR, e.g. exch01.contoso.local=10.0.0.5", r)
		}
		host := addr
		if h, _, err := net.SplitHostPort(addr); err == nil {
			host = h
		}
		if net.ParseIP(host) == nil {
			return usageErr("proxy: --resolve %q: %q is not an IP address (or IP:port)", r, addr)
		}
		resolve[strings.ToLower(name)] = addr
	}
	ps, err := profilesFrom(c)
	if err != nil {
		return err
	}
	var extra []*x509.Certificate
	for _, f := range c.StringSlice("upstream-ca") {
		cs, err := certs.LoadCertificates(f)
		if err != nil {
			return inputErr(fmt.Errorf("proxy: --upstream-ca: %w", err))
		}
		extra = append(extra, cs...)
	}
	var roots *x509.CertPool
	if len(extra) > 0 {
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		for _, x := range extra {
			roots.AddCert(x)
		}
	}
	stderr := c.App.ErrWriter

	// The CA: made on first run (and said where) except in passthrough,
	// which needs none.
	dir, err := caDir(c)
	if err != nil {
		return err
	}
	var ca *certs.CA
	if mode == proxy.ModePassthrough {
		if ca, err = certs.LoadCA(dir); err != nil && !errors.Is(err, certs.ErrNoCA) {
			return inputErr(fmt.Errorf("proxy: %w", err))
		}
	} else {
		var created bool
		ca, created, err = certs.LoadOrCreateCA(dir, certs.CAOptions{})
		if err != nil {
			return inputErr(fmt.Errorf("proxy: %w", err))
		}
		if created {
			fmt.Fprintf(stderr, "certsleuth: created a CA in %s (first run); clients must trust %s\n", dir, ca.CertPath())
			fmt.Fprintf(stderr, "certsleuth: hint: it is not name-constrained; for a lab PC prefer 'certsleuth ca init --name-constraint YOUR-DOMAIN' (after deleting %s)\n", dir)
		}
	}

	// Every request goes to a trace: --record, or else a temporary file
	// (readable by this user only, deleted when the proxy stops). The report
	// at Ctrl-C is made from it, exactly as 'certsleuth replay' makes it.
	tracePath := c.String("record")
	var tw *record.Writer
	if tracePath != "" {
		tw, err = record.Create(tracePath, "certsleuth proxy")
	} else if fh, terr := os.CreateTemp("", "certsleuth-proxy-*.jsonl"); terr != nil {
		err = terr
	} else {
		tracePath = fh.Name()
		defer os.Remove(tracePath)
		if tw, err = record.NewWriter(fh, "certsleuth proxy"); err != nil {
			fh.Close()
		}
	}
	if err != nil {
		return inputErr(fmt.Errorf("proxy: --record: %w", err))
	}
	// The trust the verdicts use: this machine's roots and --upstream-ca.
	err = tw.WriteTrust(traceTrust(extra, flagNames(c, "upstream-ca")))
	// Written by a goroutine of its own, at least every second (a killed
	// proxy loses at most a second of trace): a slow disk never holds
	// up a tunnel.
	if err == nil {
		err = tw.Background(time.Second)
	}
	if err != nil {
		tw.Close()
		return inputErr(fmt.Errorf("proxy: --record: %w", err))
	}

	// Live lines go through a bounded queue: an output nobody reads (a
	// paused terminal, '| less') drops lines, counted, and never stalls a
	// tunnel. They keep nothing for the report: it is made from the trace.
	live := proxy.NewLive(c.App.Writer, proxy.LiveOptions{Profiles: ps, Roots: roots, Color: useColor(c.App.Writer), Queue: 1024,
		Recording: c.String("record") != "", MaxKept: -1})
	rec := proxy.Recorder(tw, func(err error) {
		fmt.Fprintf(stderr, "certsleuth: error: writing %s: %v\n", tracePath, err)
	})
	// The live page is fed from the same events, after the recorder,
	// through a bounded buffer of its own (it never holds up a tunnel).
	web := proxy.NewWeb(proxy.WebOptions{Profiles: ps, Roots: roots, Title: "certsleuth proxy on " + listen})
	defer web.Close()
	// One observation at a time into both, so the live lines judge them in
	// the trace's order, as replay will.
	var obsMu sync.Mutex
	observers := []func(proxy.Event){func(ev proxy.Event) {
		if ev.Obs == nil {
			return
		}
		obsMu.Lock()
		defer obsMu.Unlock()
		rec(ev)
		live.Observe(ev)
		web.Observe(ev)
	}}
	var logMu sync.Mutex
	srv, err := proxy.New(proxy.Config{
		Mode: mode, CA: ca, ExtraRoots: extra, Only: c.StringSlice("only"), Resolve: resolve,
		LegacyTLS: c.Bool("legacy-tls"), Allow: allow, AllowTarget: allowTarget, Observers: observers, Web: web,
		Logf: func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			fmt.Fprintf(stderr, "certsleuth: proxy: "+format+"\n", args...)
		},
	})
	if err != nil {
		return usageErr("proxy: %v", err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return inputErr(fmt.Errorf("proxy: listen on %s: %w", listen, err))
	}
	fmt.Fprintf(stderr, "certsleuth: proxy on %s, %s mode", ln.Addr(), mode)
	if c.String("record") != "" {
		fmt.Fprintf(stderr, ", recording to %s", c.String("record"))
	}
	fmt.Fprintln(stderr)
	if ca != nil {
		lim := "any name"
		if d := ca.Cert.PermittedDNSDomains; len(d) > 0 {
			lim = strings.Join(d, ", ")
		}
		fmt.Fprintf(stderr, "certsleuth: CA %s (valid for %s); devices: http://%s/; Ctrl-C stops and reports\n", ca.CertPath(), lim, proxy.HelperHost)
	}
	stopWeb, err := startWeb(c, "proxy", web, ln.Addr().String(), stderr)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopWeb()

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	stop()
	srv.Close()
	if serveErr == nil {
		<-served
	}
	live.Close()
	if err := tw.Close(); err != nil {
		fmt.Fprintf(stderr, "certsleuth: error: writing %s: %v\n", tracePath, err)
	}
	if serveErr != nil {
		return inputErr(fmt.Errorf("proxy: %w", serveErr))
	}
	seen, warned := live.Counts()
	fmt.Fprintf(stderr, "certsleuth: stopped after %d requests (%d would warn)\n", seen, warned)
	in, err := os.Open(tracePath)
	if err != nil {
		return inputErr(fmt.Errorf("proxy: read back the trace: %w", err))
	}
	defer in.Close()
	rep, err := traceReport(in, tracePath, analysis.Options{Profiles: ps}, nil, false, nil)
	if err != nil {
		return err
	}
	if err := report.Render(c.App.Writer, rep, "text", renderOptions(c, "certsleuth proxy on "+ln.Addr().String())); err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stderr, "certsleuth: warning: %s\n", p)
	}
	return verdictErr(rep)
}
