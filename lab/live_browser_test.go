package lab

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/browser"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/proxy"
	"github.com/certsleuth/certsleuth/record"
)

// pageRow is a request line of the live page, as the DOM holds it.
type pageRow struct {
	Seq      int    `json:"seq"`
	Observed int64  `json:"observed"` // when the proxy finished the request, Unix ms
	Received int64  `json:"received"` // when the page received it, Unix ms
	Shown    int64  `json:"shown"`    // when the page drew it, Unix ms
	Text     string `json:"text"`
	Warn     bool   `json:"warn"`
}

const rowsJS = `Array.from(document.querySelectorAll("#rows tr")).map(function (tr) {
  return {seq: +tr.dataset.seq, observed: +tr.dataset.observed, received: +tr.dataset.received, shown: +tr.dataset.shown, text: tr.textContent, warn: tr.classList.contains("warn")};
})`

// TestLivePageInBrowser runs the default demo scenario's Outlook through
// the certsleuth proxy with the live page open in headless Chromium
// (http://certsleuth.local/live, through the proxy), and reads the DOM:
// every request the proxy recorded is a line of the page, shown within
// 1 s of the proxy finishing it (timed once the browser has finished
// starting: Browser.Settle); the culprit panel names the culprit host
// and the fix, with a copy button; the page shows the picture of every
// request (a column per host asked for); nothing breaks the
// Content-Security-Policy; a hostile URL is shown as text. With
// CERTSLEUTH_SCREENSHOTS=DIR it saves the page and the picture at
// 1280x800 there (docs/live-page.png and docs/live-picture.png are made so).
func TestLivePageInBrowser(t *testing.T) {
	s, err := LookupScenario(DefaultScenario)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := match.LookupProfile(s.Client.Profile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Start(s.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	roots := x509.NewCertPool()
	roots.AddCert(l.CA.Cert)
	web := proxy.NewWeb(proxy.WebOptions{Profiles: []*match.Profile{prof}, Roots: roots, Title: "certsleuth demo --serve: " + s.Name})
	defer web.Close()
	var mu sync.Mutex
	var recorded []*record.Observation
	rec := func(ev proxy.Event) {
		if ev.Obs != nil {
			mu.Lock()
			recorded = append(recorded, ev.Obs)
			mu.Unlock()
		}
	}
	px, err := StartProxy(l, ProxyOptions{Observers: []func(proxy.Event){rec, web.Observe}, Web: web})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()

	b := browser.Start(t, browser.Options{Proxy: px.Addr, ProxyHosts: []string{proxy.HelperHost}, Width: 1280, Height: 800})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.Navigate(ctx, "http://"+proxy.HelperHost+"/live"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, b, `document.body && document.body.dataset.state === "live"`, "the page to connect to its event stream")
	if err := b.Eval(ctx, `window.__csp = []; document.addEventListener("securitypolicyviolation", function (e) { window.__csp.push(e.violatedDirective + " " + e.blockedURI); }); true`, nil); err != nil {
		t.Fatal(err)
	}

	// The clock starts once the browser has finished starting: its start-up
	// (profile, fonts, network service) takes seconds of CPU on a busy
	// machine and delayed the first lines by as much (a watched page is
	// timed, not a browser starting).
	if waited, ok := b.Settle(ctx, time.Second, 30*time.Second); !ok {
		t.Logf("the browser was still busy %v after the page opened; timing the lines all the same", waited.Round(time.Millisecond))
	} else {
		t.Logf("the browser settled %v after the page opened", waited.Round(time.Millisecond))
	}
	start := time.Now().UnixMilli()
	res, err := Drive(ctx, l, s, false, Options{Via: px.Via(), Roots: []*x509.Certificate{px.CA.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings()) == 0 {
		t.Fatal("the scenario's client did not warn: nothing for the culprit panel")
	}
	mu.Lock() // Drive returns once the proxy has recorded every request

	n := len(recorded)
	obs := append([]*record.Observation(nil), recorded...)
	mu.Unlock()
	waitFor(t, ctx, b, `document.querySelectorAll("#rows tr").length >= `+itoa(n), itoa(n)+" request lines")
	waitFor(t, ctx, b, `!document.getElementById("culprits").hidden && document.getElementById("culprits").textContent.indexOf(`+strconv.Quote(s.Expect.Command)+`) >= 0`, "the culprit panel with the fix")

	var rows []pageRow
	if err := b.Eval(ctx, rowsJS, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != n {
		t.Errorf("the page shows %d lines, the proxy recorded %d requests", len(rows), n)
	}
	checked, maxLag, slowest := 0, int64(-1), pageRow{}
	for _, r := range rows {
		if r.Observed == 0 || r.Shown == 0 {
			t.Errorf("line %d has no times: %+v", r.Seq, r)
			continue
		}
		if r.Observed < start {
			continue // before the page was open: sent with the window
		}
		checked++
		if r.Shown-r.Observed > maxLag {
			maxLag, slowest = r.Shown-r.Observed, r
		}
		if lag := r.Shown - r.Observed; lag > 1000 {
			t.Errorf("line %d (%s) showed %d ms after the proxy recorded it (%d ms to reach the page, %d ms to be drawn), want within 1 s", r.Seq, r.Text, lag, r.Received-r.Observed, r.Shown-r.Received)
		}
	}
	t.Logf("%d requests; the slowest showed %d ms after the proxy recorded it (%d ms to reach the page, %d ms to be drawn)", checked, maxLag, slowest.Received-slowest.Observed, slowest.Shown-slowest.Received)
	if checked != n {
		t.Errorf("%d lines were shown after the client started, want the %d requests the proxy recorded", checked, n)
	}
	all := ""
	warned := 0
	for _, r := range rows {
		all += r.Text + "\n"
		if r.Warn {
			warned++
		}
	}
	for _, o := range obs {
		want := o.URL
		if want == "" {
			want = "CONNECT " + o.Connect
		}
		if !strings.Contains(all, want) {
			t.Errorf("no line of the page shows %s", want)
		}
	}
	if warned == 0 {
		t.Error("no line is marked as a warning")
	}

	var panel struct {
		Text    string `json:"text"`
		Request string `json:"request"`
		Fix     string `json:"fix"`
		Buttons int    `json:"buttons"`
	}
	if err := b.Eval(ctx, `(function () { var c = document.getElementById("culprits");
  return {text: c.textContent, request: (c.querySelector(".culprit-request") || {}).textContent || "",
    fix: (c.querySelector(".fix pre, .fix p") || {}).textContent || "", buttons: c.querySelectorAll("button.copy").length}; })()`, &panel); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(panel.Request, s.Expect.Host) {
		t.Errorf("the culprit panel names %q, want the culprit host %s", panel.Request, s.Expect.Host)
	}
	if !strings.Contains(panel.Text, s.Expect.Command) || panel.Fix == "" || panel.Buttons == 0 {
		t.Errorf("the culprit panel does not give the fix %q with a copy button: fix %q, %d buttons\n%s", s.Expect.Command, panel.Fix, panel.Buttons, panel.Text)
	}
	// The picture of every request: the server's has each host the client
	// asked for (it is redrawn at most every 2 s), and the page loads it.
	var pic string
	for {
		rr := httptest.NewRecorder()
		web.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/live/picture.svg", nil))
		pic = rr.Body.String()
		missing := ""
		for _, o := range obs {
			// A host's column is headed by its name in bold.
			if name, _ := o.AskedName(); !strings.Contains(pic, `font-weight="bold"><tspan>`+name+`</tspan>`) {
				missing = name
			}
		}
		if missing == "" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the picture never showed %s:\n%s", missing, pic)
		case <-time.After(50 * time.Millisecond):
		}
	}
	m := regexp.MustCompile(`^<svg [^>]*?width="(\d+)"`).FindStringSubmatch(pic)
	if m == nil {
		t.Fatalf("the picture has no width: %.200s", pic)
	}
	waitFor(t, ctx, b, `(function () { var i = document.getElementById("picture"); return !!i && i.complete && i.naturalWidth === `+m[1]+`; })()`, "the page to show the picture of every request ("+m[1]+" px wide)")

	var csp []string
	if err := b.Eval(ctx, `window.__csp`, &csp); err != nil {
		t.Fatal(err)
	}
	if len(csp) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", csp)
	}
	if dir := os.Getenv("CERTSLEUTH_SCREENSHOTS"); dir != "" {
		// The page as a stakeholder sees it: the culprit panel, then the
		// requests (the picture folded away; it has its own screenshot).
		if err := b.Eval(ctx, `document.getElementById("picture-box").open = false; window.scrollTo(0, 0); true`, nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Screenshot(ctx, filepath.Join(dir, "live-page.png")); err != nil {
			t.Fatal(err)
		}
		if err := b.Navigate(ctx, "http://"+proxy.HelperHost+"/live/picture.svg"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, b, `document.readyState === "complete" && !!document.querySelector("svg")`, "the picture")
		if err := b.Screenshot(ctx, filepath.Join(dir, "live-picture.png")); err != nil {
			t.Fatal(err)
		}
		if err := b.Navigate(ctx, "http://"+proxy.HelperHost+"/live"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, b, `document.body && document.body.dataset.state === "live"`, "the page to connect again")
		if err := b.Eval(ctx, `window.__csp = []; document.addEventListener("securitypolicyviolation", function (e) { window.__csp.push(e.violatedDirective + " " + e.blockedURI); }); true`, nil); err != nil {
			t.Fatal(err)
		}
	}

	// A hostile URL is a line of text, not markup.
	web.Observe(proxy.Event{Obs: &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(), Method: "GET",
		URL: `http://evil.example/<img src=x id=pwned onerror=alert(1)>`, Status: 200, Visibility: record.VisNone, UserAgent: `<b id=pwned2>`}})
	waitFor(t, ctx, b, `document.querySelectorAll("#rows tr").length >= `+itoa(n+1), "the hostile line")
	var hostile struct {
		Injected bool   `json:"injected"`
		Text     string `json:"text"`
	}
	if err := b.Eval(ctx, `({injected: !!(document.getElementById("pwned") || document.getElementById("pwned2")), text: document.querySelector("#rows tr").textContent})`, &hostile); err != nil {
		t.Fatal(err)
	}
	if hostile.Injected || !strings.Contains(hostile.Text, "<img src=x id=pwned") {
		t.Errorf("a hostile URL became markup (injected %v): %q", hostile.Injected, hostile.Text)
	}

}

// waitFor polls a JavaScript condition in the page until it holds.
func waitFor(t *testing.T, ctx context.Context, b *browser.Browser, cond, what string) {
	t.Helper()
	for {
		var ok bool
		err := b.Eval(ctx, "!!("+cond+")", &ok)
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited in vain for %s (%s): %v", what, cond, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
