package proxy

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

type sseEvent struct{ name, data string }

// readEvents opens the page's event stream and sends each event on the
// returned channel until ctx ends.
func readEvents(t *testing.T, ctx context.Context, url string) <-chan sseEvent {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/live/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events served as %q", ct)
	}
	ch := make(chan sseEvent, 10000)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev sseEvent
		for sc.Scan() {
			l := sc.Text()
			switch {
			case strings.HasPrefix(l, "event: "):
				ev.name = l[7:]
			case strings.HasPrefix(l, "data: "):
				ev.data = l[6:]
			case l == "" && ev.name != "":
				ch <- ev
				ev = sseEvent{}
			}
		}
	}()
	return ch
}

// next waits for the next event called name.
func next(t *testing.T, ch <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended before a %q event", name)
			}
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %q event in 10 s", name)
		}
	}
}

// TestWeb: the page is served with a strict CSP; each observation comes
// down the event stream with its client, request, certificate names and
// a badge per profile; a warning brings the culprit panel (request,
// origin, fix) and the picture; a page opened late gets the window.
func TestWeb(t *testing.T) {
	ca := testcert.NewCA(t, "Web Root")
	leaf := ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	w := NewWeb(WebOptions{Roots: roots, Title: "test"})
	defer w.Close()
	srv := httptest.NewServer(LocalHostOnly(w))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/live")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	if !strings.Contains(string(page), `<script src="/live/app.js"`) || strings.Contains(string(page), "http://") || strings.Contains(string(page), "https://") {
		t.Errorf("the page loads something not its own:\n%s", page)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := readEvents(t, ctx, srv.URL)
	next(t, ch, "hello")
	obs := func(sni, path, ua string) *record.Observation {
		return &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(), SNI: sni, Connect: sni + ":443",
			Method: "GET", URL: "https://" + sni + path, Status: 200, Chain: leaf.Certificate, Visibility: record.VisVisible, UserAgent: ua}
	}
	w.Observe(Event{Obs: obs("mail.contoso.test", "/owa/", "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)")})
	w.Observe(Event{Obs: obs("exch01.contoso.test", "/EWS/Exchange.asmx?token=x", "Apple-iPhone14C2/2104.123")})
	var evs []webEvent
	for range 2 {
		var ev webEvent
		if err := json.Unmarshal([]byte(next(t, ch, "req").data), &ev); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if evs[0].Client != "Outlook" || evs[0].Warns || len(evs[0].Badges) != len(match.Profiles()) || evs[0].Names[0] != "mail.contoso.test" || evs[0].What != "GET https://mail.contoso.test/owa/ → 200" {
		t.Errorf("first line %+v", evs[0])
	}
	if evs[1].Client != "iOS Mail" || !evs[1].Warns || evs[1].Rule != "name.mismatch" || !evs[1].Badges[0].Warns || evs[1].Seen != 2 || evs[1].Warned != 1 {
		t.Errorf("warning line %+v", evs[1])
	}
	var cs []webCulprit
	if err := json.Unmarshal([]byte(next(t, ch, "culprits").data), &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || !strings.Contains(cs[0].Request, "exch01.contoso.test") || len(cs[0].Fixes) == 0 || cs[0].Verdict == "" {
		t.Errorf("culprits %+v", cs)
	}
	next(t, ch, "picture")
	resp, err = http.Get(srv.URL + "/live/picture.svg")
	if err != nil {
		t.Fatal(err)
	}
	pic, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(pic), "exch01.contoso.test") {
		t.Errorf("picture %s: %.300s", resp.Header.Get("Content-Type"), pic)
	}

	// A page opened now gets both lines and the panel at once.
	ch2 := readEvents(t, ctx, srv.URL)
	next(t, ch2, "req")
	next(t, ch2, "req")
	next(t, ch2, "culprits")

	// Another Host (DNS rebinding) is refused; so is a POST.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/live", nil)
	req.Host = "attacker.example"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("Host attacker.example: %v %v", resp.Status, err)
	}
	if resp, err := http.Post(srv.URL+"/live/events", "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", resp.Status, err)
	}
}

// TestWebBounded: with 3,000 distinct requests the page keeps its window
// and its distinct requests within bounds, and a page opened late is sent
// the window only.
func TestWebBounded(t *testing.T) {
	w := NewWeb(WebOptions{Window: 50, MaxKept: 100})
	defer w.Close()
	for i := range 3000 {
		w.Observe(Event{Obs: &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(), Method: "GET",
			URL: fmt.Sprintf("http://h%d.example/", i), Visibility: record.VisNone}})
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		w.mu.Lock()
		n := w.seq
		w.mu.Unlock()
		if n+w.Dropped() == 3000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 3000 processed, %d dropped", n, w.Dropped())
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.Close() // run's goroutine is done: its fields can be read
	if len(w.window) != 50 {
		t.Errorf("window holds %d lines, want 50", len(w.window))
	}
	if len(w.kept) > 100 || len(w.keys) > 100 {
		t.Errorf("kept %d requests (%d keys), want at most 100", len(w.kept), len(w.keys))
	}
}

// TestWebNeverBlocks: a browser that does not read its stream costs the
// proxy nothing: Observe returns at once for 20,000 events.
func TestWebNeverBlocks(t *testing.T) {
	w := NewWeb(WebOptions{})
	defer w.Close()
	srv := httptest.NewServer(w)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/live/events") // opened, never read
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	o := &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Method: "GET", URL: "http://x.example/" + strings.Repeat("a", 2000), Visibility: record.VisNone}
	for range 20000 {
		w.Observe(Event{Obs: o})
	}
}

func TestClientName(t *testing.T) {
	for ua, want := range map[string]string{
		"": "",
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)": "Outlook",
		"Outlook-iOS/709.2189947.prod.iphone (3.24.0)":                               "Outlook",
		"Apple-iPhone14C2/2104.123":                                                  "iOS Mail",
		"Android-Mail/2023.01.01.123":                                                "Android",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36":           "browser (Chrome)",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0": "browser (Edge)",
		"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0":                                                    "browser (Firefox)",
		"curl/8.5.0":             "curl",
		"SomeAgent/1.0 (x)":      "SomeAgent",
		"Go-http-client/1.1":     "Go-http-client",
		"certsleuth-demo":        "certsleuth-demo",
		"MSRPC":                  "MSRPC",
		"Microsoft WinRM Client": "Microsoft",
	} {
		if got := ClientName(ua); got != want {
			t.Errorf("ClientName(%q) = %q, want %q", ua, got, want)
		}
	}
}

// TestWebFlood: a flood of requests reaches a browser at most webBurst
// lines per webTick; the rest are counted in a "skipped" event.
func TestWebFlood(t *testing.T) {
	w := NewWeb(WebOptions{})
	defer w.Close()
	srv := httptest.NewServer(w)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := readEvents(t, ctx, srv.URL)
	next(t, ch, "hello")
	for i := range 1000 {
		w.Observe(Event{Obs: &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Method: "GET", URL: fmt.Sprintf("http://x.example/%d", i), Visibility: record.VisNone}})
	}
	var sk struct{ Skipped int }
	if err := json.Unmarshal([]byte(next(t, ch, "skipped").data), &sk); err != nil || sk.Skipped == 0 {
		t.Fatalf("skipped event %+v %v", sk, err)
	}
}

// batchWriter is an http.ResponseWriter that notes when each write
// carrying request lines was flushed, and how many lines it carried.
type batchWriter struct {
	mu      sync.Mutex
	h       http.Header
	pending int
	writes  []batchWrite
}

type batchWrite struct {
	at    time.Time
	lines int
}

func (b *batchWriter) Header() http.Header { return b.h }
func (b *batchWriter) WriteHeader(int)     {}
func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.pending += strings.Count(string(p), "event: req\n")
	b.mu.Unlock()
	return len(p), nil
}
func (b *batchWriter) Flush() {
	b.mu.Lock()
	if b.pending > 0 {
		b.writes = append(b.writes, batchWrite{time.Now(), b.pending})
		b.pending = 0
	}
	b.mu.Unlock()
}

// TestWebBatches: lines that come one after the other reach a browser in
// batches, one write and flush per webBatch at most (webTick once busy,
// webFloodBatch under a flood),
// so that it draws once per batch, and none is lost; the first line after
// a quiet spell goes at once.
func TestWebBatches(t *testing.T) {
	w := NewWeb(WebOptions{})
	defer w.Close()
	bw := &batchWriter{h: http.Header{}}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/live/events", nil)
	done := make(chan struct{})
	go func() { w.ServeHTTP(bw, req); close(done) }()
	time.Sleep(50 * time.Millisecond) // subscribed; the quiet spell is over
	obs := func(i int) Event {
		return Event{Obs: &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Method: "GET", URL: fmt.Sprintf("http://x.example/%d", i), Visibility: record.VisNone}}
	}
	const n = 60
	first := time.Now()
	for i := range n { // 20 lines a second: under webBurst, none skipped
		w.Observe(obs(i))
		time.Sleep(time.Second / 20)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		bw.mu.Lock()
		got := 0
		for _, wr := range bw.writes {
			got += wr.lines
		}
		bw.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	bw.mu.Lock()
	defer bw.mu.Unlock()
	got := 0
	for i, wr := range bw.writes {
		got += wr.lines
		if i == 0 {
			if d := wr.at.Sub(first); d > webBatch {
				t.Errorf("the first line after a quiet spell was sent after %s, want at once", d)
			}
			continue
		}
		gap, want := wr.at.Sub(bw.writes[i-1].at), webBatch
		switch prev := bw.writes[i-1].lines; {
		case prev >= webFlood:
			want = webFloodBatch
		case prev >= webBusy:
			want = webTick
		}
		if gap < want-time.Millisecond {
			t.Errorf("write %d came %s after the one before, want at least %s", i, gap, want)
		}
	}
	if got != n {
		t.Errorf("%d lines sent, want %d", got, n)
	}
	t.Logf("%d lines in %d writes", got, len(bw.writes))
}

// gateWriter is an http.ResponseWriter whose first Flush waits until gate
// is closed: the page's first write is on its way while lines come.
type gateWriter struct {
	mu      sync.Mutex
	h       http.Header
	b       strings.Builder
	gate    chan struct{}
	flushed bool
}

func (g *gateWriter) Header() http.Header { return g.h }
func (g *gateWriter) WriteHeader(int)     {}
func (g *gateWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.b.Write(p)
}
func (g *gateWriter) Flush() {
	g.mu.Lock()
	first := !g.flushed
	g.flushed = true
	g.mu.Unlock()
	if first {
		<-g.gate
	}
}
func (g *gateWriter) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.b.String()
}

// TestWebSkippedTold: lines skipped (past the page's budget) while the
// page's first write is still on its way are told to that page too: a
// flood that begins as a page opens is said, not hidden.
func TestWebSkippedTold(t *testing.T) {
	w := NewWeb(WebOptions{})
	defer w.Close()
	gw := &gateWriter{h: http.Header{}, gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/live/events", nil)
	done := make(chan struct{})
	go func() { w.ServeHTTP(gw, req); close(done) }()
	defer func() { cancel(); <-done }()
	// The gate opens on every way out, a failed wait too (deferred calls
	// run last first): shut, it holds ServeHTTP in Flush, and the wait for
	// done above would hang the test instead of reporting its failure.
	var open sync.Once
	openGate := func() { open.Do(func() { close(gw.gate) }) }
	defer openGate()
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s in 10 s", what)
			}
		}
	}
	waitUntil("hello", func() bool { return strings.Contains(gw.String(), "event: hello") })
	const n = 1000
	for i := range n {
		w.Observe(Event{Obs: &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Method: "GET", URL: fmt.Sprintf("http://x.example/%d", i), Visibility: record.VisNone}})
	}
	waitUntil("line skipped", func() bool { return w.skipped.Load() >= n-webBurst })
	openGate()
	waitUntil(`"skipped" event`, func() bool { return strings.Contains(gw.String(), "event: skipped") })
	total := 0
	for _, l := range strings.Split(gw.String(), "\n") {
		var sk struct{ Skipped int }
		if strings.HasPrefix(l, "data: {\"skipped\"") && json.Unmarshal([]byte(l[6:]), &sk) == nil {
			total += sk.Skipped
		}
	}
	if total < n-webBurst {
		t.Errorf("the page was told of %d skipped lines, want %d or more", total, n-webBurst)
	}
}

// floodWriter is an http.ResponseWriter that notes, for each write, when
// it came, how many request lines it carried and how old the oldest of
// them was (from its "observed" time), and adds up the skipped lines the
// page was told of.
type floodWriter struct {
	mu      sync.Mutex
	h       http.Header
	writes  []floodWrite
	skipped int
}

type floodWrite struct {
	at     time.Time
	lines  int
	oldest time.Duration
}

func (f *floodWriter) Header() http.Header { return f.h }
func (f *floodWriter) WriteHeader(int)     {}
func (f *floodWriter) Flush()              {}
func (f *floodWriter) Write(p []byte) (int, error) {
	now := time.Now()
	fw := floodWrite{at: now}
	for _, l := range strings.Split(string(p), "\n") {
		data, ok := strings.CutPrefix(l, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Observed int64
			Skipped  int
		}
		if json.Unmarshal([]byte(data), &ev) != nil {
			continue
		}
		f.mu.Lock()
		f.skipped += ev.Skipped
		f.mu.Unlock()
		if ev.Observed > 0 {
			fw.lines++
			fw.oldest = max(fw.oldest, now.Sub(time.UnixMilli(ev.Observed)))
		}
	}
	f.mu.Lock()
	if fw.lines > 0 {
		f.writes = append(f.writes, fw)
	}
	f.mu.Unlock()
	return len(p), nil
}

// TestWebFloodNewest: under a flood (200 new requests a second for 4 s) a
// browser is sent a screenful of the newest lines every webFloodBatch, at
// most webFloodLines, none older than webFloodFresh, so that every line
// the page shows still shows within a second of its request; every other
// line is told as skipped, none is lost without a word.
func TestWebFloodNewest(t *testing.T) {
	w := NewWeb(WebOptions{})
	defer w.Close()
	fw := &floodWriter{h: http.Header{}}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/live/events", nil)
	done := make(chan struct{})
	go func() { w.ServeHTTP(fw, req); close(done) }()
	time.Sleep(50 * time.Millisecond) // subscribed
	const n = 800
	tick := time.NewTicker(time.Second / 200)
	for i := range n {
		<-tick.C
		w.Observe(Event{Obs: &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(), Method: "GET",
			URL: fmt.Sprintf("http://x.example/%d", i), Visibility: record.VisNone}})
	}
	tick.Stop()
	told := func() int {
		fw.mu.Lock()
		defer fw.mu.Unlock()
		sent := fw.skipped
		for _, wr := range fw.writes {
			sent += wr.lines
		}
		return sent
	}
	for deadline := time.Now().Add(webFloodBatch + 5*time.Second); told() < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := told(); got != n {
		t.Errorf("the page was sent or told of %d lines, want all %d", got, n)
	}
	floods := 0
	for i, wr := range fw.writes {
		// The age is read when the write comes: the batch was cut just
		// before (a scheduler's delay in between is allowed for).
		if wr.oldest > webFloodFresh+250*time.Millisecond {
			t.Errorf("write %d carried a line %v old, want at most %v", i, wr.oldest, webFloodFresh)
		}
		// After a write of webFlood lines or more (as many came for it at
		// least), the page is flooded: the next write is a screenful,
		// webFloodBatch later.
		if i == 0 || fw.writes[i-1].lines < webFlood {
			continue
		}
		floods++
		if wr.lines > webFloodLines {
			t.Errorf("write %d carried %d lines under a flood, want at most %d", i, wr.lines, webFloodLines)
		}
		if gap := wr.at.Sub(fw.writes[i-1].at); gap < webFloodBatch {
			t.Errorf("write %d came %v after the one before under a flood, want %v or more", i, gap, webFloodBatch)
		}
	}
	if floods == 0 {
		t.Errorf("no write under a flood: %+v", fw.writes)
	}
	t.Logf("%d writes of lines, %d under a flood; %d lines told as skipped", len(fw.writes), floods, fw.skipped)
}

// TestWebPictureVersion: a picture redrawn with no new line since (the
// analysis of the last lines came after the picture's turn) is a new
// version, so that the pages load it again; the same picture is not.
func TestWebPictureVersion(t *testing.T) {
	w := NewWeb(WebOptions{})
	defer w.Close()
	sub := w.out.Subscribe(16)
	defer sub.Close()
	obs := func(host string) *record.Observation {
		return &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(), Method: "GET",
			URL: "http://" + host + "/", Status: 200, Visibility: record.VisNone}
	}
	one := analysis.Analyze([]*record.Observation{obs("a.example")}, analysis.Options{})
	two := analysis.Analyze([]*record.Observation{obs("a.example"), obs("b.example")}, analysis.Options{})
	var vs []uint64
	for _, rep := range []*analysis.Report{one, one, two} {
		w.draw(rep)
		select {
		case o := <-sub.C():
			var p struct{ V uint64 }
			_, data, _ := strings.Cut(string(o.b), "data: ")
			if err := json.Unmarshal([]byte(strings.TrimSpace(data)), &p); err != nil {
				t.Fatalf("picture event %q: %v", o.b, err)
			}
			vs = append(vs, p.V)
		default:
		}
	}
	if len(vs) != 2 || vs[0] == vs[1] {
		t.Errorf("picture events' versions %v, want two different ones (the same picture twice is one event)", vs)
	}
}

// TestWebPictureClient: the picture's client column and title name the
// client the User-Agent headers stand for when they all stand for one
// (as the demo handout's do), and say "client" when they differ or none
// says.
func TestWebPictureClient(t *testing.T) {
	obs := func(host, ua string) *record.Observation {
		return &record.Observation{Kind: record.KindHTTP, Source: record.SourceProxy, Time: time.Now(), Method: "GET",
			URL: "http://" + host + "/", Status: 200, Visibility: record.VisNone, UserAgent: ua}
	}
	const outlook = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"
	const iphone = "Apple-iPhone15C2/2104.190"
	for _, c := range []struct {
		name   string
		obs    []*record.Observation
		column string // the client column's text
		title  string
	}{
		{"one client", []*record.Observation{obs("a.example", outlook), obs("b.example", ""), obs("c.example", outlook)}, ">Outlook<", "What sent Outlook where: "},
		{"two clients", []*record.Observation{obs("a.example", outlook), obs("b.example", iphone)}, ">client<", "What sent the client where: "},
		{"none says", []*record.Observation{obs("a.example", "")}, ">client<", "What sent the client where: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := NewWeb(WebOptions{})
			defer w.Close()
			w.draw(analysis.Analyze(c.obs, analysis.Options{}))
			w.mu.Lock()
			pic := string(w.picture)
			w.mu.Unlock()
			if !strings.Contains(pic, c.column) || !strings.Contains(pic, c.title) {
				t.Errorf("picture without %q or %q: %.600s", c.column, c.title, pic)
			}
		})
	}
}
