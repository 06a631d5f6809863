package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/certsleuth/certsleuth/proxy"
	"github.com/urfave/cli/v2"
)

// webFlags are the live page's flags (proxy, pcap --live, demo --serve).
func webFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "web", Usage: "also serve the live page at http://`ADDR`/live (e.g. 127.0.0.1:8081; loopback only unless --web-allow)"},
		&cli.StringSliceFlag{Name: "web-allow", Usage: "let browsers in `CIDR` open the --web page (repeatable)"},
	}
}

// parseAllow reads CIDR flags; a bare address stands for itself.
func parseAllow(flag string, vals []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, a := range vals {
		_, n, err := net.ParseCIDR(a)
		if err != nil {
			ip := net.ParseIP(a)
			if ip == nil {
				return nil, usageErr("%s %q: want a network like 192.168.1.0/24 or an address", flag, a)
			}
			bits := 32
			if ip.To4() == nil {
				bits = 128
			}
			n = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
		}
		out = append(out, n)
	}
	return out, nil
}

// checkWeb checks --web and --web-allow (before any work is done) and
// returns the networks allowed.
func checkWeb(c *cli.Context, cmd string) ([]*net.IPNet, error) {
	addr := c.String("web")
	allow, err := parseAllow(cmd+": --web-allow", c.StringSlice("web-allow"))
	if err != nil || addr == "" {
		return allow, err
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, usageErr("%s: --web %q: want host:port, e.g. 127.0.0.1:8081", cmd, addr)
	}
	if !proxy.IsLoopbackListen(addr) && len(allow) == 0 {
		return nil, usageErr("%s: --web %s is reachable from the network, and the page shows every request\nhint: add --web-allow CIDR for the machines that may open it", cmd, addr)
	}
	return allow, nil
}

// startWeb serves web on --web when it is given and says where the page
// is (with via, the proxy's own address, when the page is also there).
// stop closes the listener; it is safe to call when --web was not given.
func startWeb(c *cli.Context, cmd string, web *proxy.Web, via string, out io.Writer) (stop func(), err error) {
	stop = func() {}
	addr := c.String("web")
	if addr == "" {
		if via != "" {
			fmt.Fprintf(out, "certsleuth: live page: http://%s/live (or http://%s/live through the proxy)\n", via, proxy.HelperHost)
		}
		return stop, nil
	}
	allow, err := checkWeb(c, cmd)
	if err != nil {
		return stop, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return stop, inputErr(fmt.Errorf("%s: --web: listen on %s: %w", cmd, addr, err))
	}
	srv := &http.Server{Handler: proxy.LocalHostOnly(web), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(proxy.AllowListener(ln, allow)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(c.App.ErrWriter, "certsleuth: %s: --web: %v\n", cmd, err)
		}
	}()
	fmt.Fprintf(out, "certsleuth: live page: http://%s/live", ln.Addr())
	if via != "" {
		fmt.Fprintf(out, " (also http://%s/live through the proxy)", proxy.HelperHost)
	}
	fmt.Fprintln(out)
	return func() { srv.Close() }, nil
}
