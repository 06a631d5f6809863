package proxy

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/internal/livepage"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
	"github.com/certsleuth/certsleuth/report"
)

// WebOptions control NewWeb.
type WebOptions struct {
	Profiles []*match.Profile // nil: every profile
	Roots    *x509.CertPool   // nil: the system's
	// Title says what is watched ("certsleuth proxy on 127.0.0.1:8080").
	Title string
	// Window is how many request lines a page shows, and a page opened
	// late is sent (0: 200).
	Window int
	// MaxKept bounds the distinct requests kept to find the culprits and
	// draw the picture (0: 5000); past it only warning requests are kept,
	// up to as many again.
	MaxKept int
}

// Web is the live page: an observer that turns each observation into a
// line of the page (time, client, request, the certificate's names, a
// verdict badge per client profile) and, once a request warns, a culprit
// panel (where the client was sent from and the fix), and an http.Handler
// that serves the page under /live: the page, its script and style sheet
// (embedded in the binary), the events as Server-Sent Events and the
// sequence picture.
//
// It never holds up traffic: Observe hands the event to a Feed whose
// buffer, when the page's goroutine falls behind, drops and counts; each
// browser has its own bounded buffer in turn. Its memory is bounded: the
// last Window lines, the distinct requests up to MaxKept, a verdict cache.
// What it shows is what the trace holds (URLs redacted as in the trace;
// no body, cookie or header but the User-Agent).
type Web struct {
	opts  WebOptions
	in    *Feed[webIn]
	inSub *Sub[webIn]
	out   *Feed[webOut]
	done  chan struct{}
	once  sync.Once

	// Owned by run's goroutine.
	cache    *certs.Cache
	verdicts map[string]webVerdict
	vkey     []byte // verdict's key buffer
	keys     map[string]bool
	key      []byte // appendKeepKey's buffer
	kept     []*record.Observation
	extra    int // warnings kept past MaxKept
	dirty    bool
	lastCalc time.Time
	timer    *time.Timer
	recalc   chan struct{}
	budget   int       // lines that may still be sent to the pages this webTick
	budgetAt time.Time // when it was last refilled
	skipped  atomic.Uint64
	calcIn   chan []*record.Observation // the kept requests, to calcLoop
	calcDone chan struct{}

	mu       sync.Mutex // what a newly opened page is sent, and the picture
	window   []webLine  // ring of the last Window lines
	head     int
	seq      uint64
	seen     int
	warned   int
	culprits []byte // the last "culprits" event, or nil
	picture  []byte
	picSeq   uint64 // the line the picture was drawn after
	picVer   uint64 // the picture's version: one more at each change
}

// webLine is a line of the window: made into an event and encoded only
// once a page needs it (under a flood with no page open, most lines never
// are).
type webLine struct {
	o        *record.Observation
	v        webVerdict
	host     string
	observed int64 // webEvent.Observed
	seq      uint64
	seen     int
	warned   int
	b        []byte
}

// webOut is an event as the pages are sent it.
type webOut struct {
	b        []byte
	seq      uint64
	observed int64 // a request line's webEvent.Observed; 0 for other events
}

// encoded is the line as an event (w.mu held).
func (l *webLine) encoded(cache *certs.Cache) []byte {
	if l.b != nil {
		return l.b
	}
	o := l.o
	ev := &webEvent{Seq: l.seq, Time: o.Time.Local().Format("15:04:05"), Observed: l.observed, Client: ClientName(o.UserAgent),
		What: liveWhat(o), Host: l.host, Seen: l.seen, Warned: l.warned, webVerdict: l.v}
	if o.Kind == record.KindDNS {
		ev.What = analysis.Describe(o)
	}
	if len(o.Chain) > 0 {
		if c, err := cache.Parse(o.Chain[0]); err == nil {
			ev.Names = append(append(ev.Names, c.DNSNames...), ipStrings(c.IPAddresses)...)
		}
	}
	l.b = sse("req", l.seq, ev)
	return l.b
}

type webIn struct {
	obs *record.Observation
	at  time.Time
}

type webVerdict struct {
	Badges []webBadge `json:"badges"`
	Warns  bool       `json:"warns"`
	Rule   string     `json:"rule,omitempty"`
	Text   string     `json:"text"`
}

type webBadge struct {
	Profile string `json:"profile"`
	Warns   bool   `json:"warns"`
}

// webEvent is one line of the page, as sent to it.
type webEvent struct {
	Seq      uint64   `json:"seq"`
	Time     string   `json:"time"`     // when the request started, 15:04:05 local
	Observed int64    `json:"observed"` // when the proxy finished it, Unix ms
	Client   string   `json:"client"`
	What     string   `json:"what"` // method and URL, or the tunnel
	Host     string   `json:"host"`
	Names    []string `json:"names,omitempty"` // the certificate's names
	Seen     int      `json:"seen"`            // requests seen so far
	Warned   int      `json:"warned"`          // of which would warn
	webVerdict
}

type webCulprit struct {
	Request  string      `json:"request"`
	Verdict  string      `json:"verdict"`
	Profiles []string    `json:"profiles"`
	Rules    []string    `json:"rules"`
	Origin   []string    `json:"origin"`
	Fixes    []webRemedy `json:"fixes"`
	Count    int         `json:"count"`
}

type webRemedy struct {
	Title   string `json:"title"`
	Command string `json:"command"`
	IsCmd   bool   `json:"is_command"`
}

// NewWeb starts the page's goroutine; Close stops it.
func NewWeb(o WebOptions) *Web {
	if o.Profiles == nil {
		o.Profiles = match.Profiles()
	}
	if o.Window <= 0 {
		o.Window = 200
	}
	if o.MaxKept <= 0 {
		o.MaxKept = 5000
	}
	w := &Web{opts: o, in: NewFeed[webIn](), out: NewFeed[webOut](), done: make(chan struct{}),
		cache: &certs.Cache{}, verdicts: map[string]webVerdict{}, keys: map[string]bool{}, recalc: make(chan struct{}, 1),
		calcIn: make(chan []*record.Observation, 1), calcDone: make(chan struct{})}
	w.window = make([]webLine, 0, o.Window)
	w.inSub = w.in.Subscribe(4096)
	go w.run()
	go w.calcLoop()
	return w
}

// Observe is the observer function: it never blocks.
func (w *Web) Observe(ev Event) {
	if ev.Obs == nil {
		return
	}
	c := *ev.Obs // a copy: other observers (the recorder) may still set ChainID
	w.in.Publish(webIn{obs: &c, at: time.Now()})
}

// Close stops the page's goroutine and ends every open page's stream.
func (w *Web) Close() {
	w.once.Do(func() {
		w.in.Close()
		<-w.done
		close(w.calcIn)
		<-w.calcDone
		w.out.Close()
	})
}

// Dropped is how many observations the page dropped because its goroutine
// fell behind (the trace and the report still have them).
func (w *Web) Dropped() uint64 { return w.inSub.Dropped() }

func (w *Web) run() {
	defer close(w.done)
	c := w.inSub.C()
	for {
		select {
		case in, ok := <-c:
			if !ok {
				return
			}
			w.add(in)
		case <-w.recalc:
			w.handOver()
		}
	}
}

// add turns one observation into a line of the page.
func (w *Web) add(in webIn) {
	o := in.obs
	name, from := o.AskedName()
	v := w.verdict(o, name, from)
	// Kept for the culprit panel and the picture: each distinct request once.
	w.key = appendKeepKey(w.key[:0], o)
	if !w.keys[string(w.key)] {
		keep := true
		switch {
		case len(w.kept) < w.opts.MaxKept:
		case v.Warns && w.extra < w.opts.MaxKept:
			w.extra++
		default:
			keep = false
		}
		if keep {
			w.keys[string(w.key)] = true
			w.kept = append(w.kept, o)
			w.dirty = true
		}
	}
	line := webLine{o: o, v: v, host: name, observed: in.at.UnixMilli()}
	w.mu.Lock()
	w.seq++
	w.seen++
	if v.Warns {
		w.warned++
	}
	line.seq, line.seen, line.warned = w.seq, w.seen, w.warned
	// Encoded now only if a page is open; else when one opens. A page
	// that subscribes after this check finds the line in the window.
	// Pages are sent at most webBurst lines per webTick: the lines past it
	// are neither encoded nor sent, only counted (and kept in the window).
	if w.out.Len() > 0 {
		if now := in.at; now.Sub(w.budgetAt) >= webTick {
			w.budget, w.budgetAt = webBurst, now
		}
		if w.budget > 0 {
			w.budget--
			line.encoded(w.cache)
		} else {
			w.skipped.Add(1)
		}
	}
	if len(w.window) < w.opts.Window {
		w.window = append(w.window, line)
	} else {
		w.window[w.head] = line
		w.head = (w.head + 1) % len(w.window)
	}
	w.mu.Unlock()
	if line.b != nil {
		w.out.Publish(webOut{b: line.b, seq: line.seq, observed: line.observed})
	}
	if w.dirty {
		w.schedule()
	}
}

// schedule recomputes the culprits and the picture at most every 250 ms.
func (w *Web) schedule() {
	if w.timer != nil {
		return
	}
	wait := time.Until(w.lastCalc.Add(250 * time.Millisecond))
	if wait <= 0 {
		w.handOver()
		return
	}
	w.timer = time.AfterFunc(wait, func() {
		select {
		case w.recalc <- struct{}{}:
		default:
		}
	})
}

// handOver gives calcLoop the kept requests as they are now. The lines
// never wait for the analysis: it runs on a goroutine of its own, on a
// snapshot (kept only grows; the snapshot ends at today's length), and a
// snapshot it has not begun yet is replaced by the newer one.
func (w *Web) handOver() {
	w.timer, w.dirty, w.lastCalc = nil, false, time.Now()
	select {
	case <-w.calcIn:
	default:
	}
	w.calcIn <- w.kept[:len(w.kept):len(w.kept)]
}

// webPictureEvery is how often at most the picture is redrawn and a page
// told to load it again: a page reloads and lays out the whole picture
// each time, and under load that cost more than drawing the lines.
const webPictureEvery = 2 * time.Second

// calcLoop analyses the kept requests: the culprit panel at once, the
// picture at most every webPictureEvery.
func (w *Web) calcLoop() {
	defer close(w.calcDone)
	var (
		rep     *analysis.Report
		lastPic time.Time
		picT    *time.Timer
		picC    <-chan time.Time
	)
	for {
		select {
		case kept, ok := <-w.calcIn:
			if !ok {
				if picT != nil {
					picT.Stop()
				}
				return
			}
			rep = w.calc(kept)
			if picC != nil {
				continue // the picture is due already
			}
			if wait := webPictureEvery - time.Since(lastPic); wait > 0 {
				picT = time.NewTimer(wait)
				picC = picT.C
				continue
			}
		case <-picC:
			picT, picC = nil, nil
		}
		w.draw(rep)
		lastPic = time.Now()
	}
}

// calc finds the culprits among the kept requests and sends the panel.
func (w *Web) calc(kept []*record.Observation) *analysis.Report {
	rep := analysis.Analyze(kept, analysis.Options{Profiles: w.opts.Profiles, Roots: w.opts.Roots, Cache: w.cache})
	var cs []webCulprit
	for i, c := range rep.Culprits() {
		if i == 5 {
			break
		}
		wc := webCulprit{Request: analysis.Describe(c.First.Obs), Verdict: c.Verdict, Profiles: c.Profiles, Count: c.Requests}
		for _, f := range c.Findings {
			wc.Rules = append(wc.Rules, f.ID+": "+f.Summary)
		}
		for _, cause := range c.Origin {
			wc.Origin = append(wc.Origin, cause.Text)
		}
		for _, rm := range c.Remedies {
			wc.Fixes = append(wc.Fixes, webRemedy{Title: rm.Title, Command: rm.Command, IsCmd: report.IsCommand(rm.Command)})
		}
		cs = append(cs, wc)
	}
	w.mu.Lock()
	var cb []byte
	if len(cs) > 0 {
		cb = sse("culprits", w.seq, cs)
	}
	changed := !bytes.Equal(cb, w.culprits)
	w.culprits = cb
	w.mu.Unlock()
	if changed && cb != nil {
		w.out.Publish(webOut{b: cb})
	}
	return rep
}

// draw draws the picture of rep and tells the pages when it changed.
func (w *Web) draw(rep *analysis.Report) {
	if rep == nil {
		return
	}
	who := pictureClient(rep)
	label := who
	if label == "" {
		label = "the client"
	}
	pic := report.SequenceSVG(rep, report.SequenceOptions{Client: who, Title: "What sent " + label + " where: " + w.opts.Title})
	w.mu.Lock()
	seq := w.seq
	changed := pic != string(w.picture)
	if changed {
		// Versioned by change, not by line: a picture redrawn with no
		// new line since (the analysis of the last lines came after the
		// picture's turn) is loaded again too.
		w.picVer++
		w.picture, w.picSeq = []byte(pic), seq
	}
	ver := w.picVer
	w.mu.Unlock()
	if changed {
		w.out.Publish(webOut{b: sse("picture", seq, map[string]uint64{"v": ver})})
	}
}

// verdict judges o once per chain, name and day, for each profile.
func (w *Web) verdict(o *record.Observation, name string, from record.NameSource) webVerdict {
	if len(o.Chain) == 0 {
		switch {
		case o.Kind == record.KindDNS:
			return webVerdict{Text: "DNS"}
		case o.Visibility == record.VisNone:
			return webVerdict{Text: "plain http"}
		case o.Error != "":
			return webVerdict{Text: "no certificate"}
		}
		return webVerdict{Text: "certificate not seen (" + string(o.Visibility) + ")"}
	}
	b := append(append(append(append(append(w.vkey[:0], chainID(o)...), '|'), name...), '|'), from...)
	b = o.Time.AppendFormat(append(strconv.AppendBool(append(b, '|'), o.NoSNI), '|'), "2006-01-02")
	w.vkey = b
	if v, ok := w.verdicts[string(b)]; ok {
		return v
	}
	k := string(b)
	rep := analysis.Analyze([]*record.Observation{o}, analysis.Options{Profiles: w.opts.Profiles, Roots: w.opts.Roots, Cache: w.cache})
	v := webVerdict{Text: "ok"}
	if len(rep.Items) == 1 {
		it := rep.Items[0]
		for _, p := range w.opts.Profiles {
			b := webBadge{Profile: p.Name, Warns: it.Warns(p.Name)}
			v.Warns = v.Warns || b.Warns
			v.Badges = append(v.Badges, b)
		}
		if v.Warns {
			v.Text = "WARN"
			for _, f := range it.Findings {
				if f.Severity == analysis.SeverityError {
					v.Rule, v.Text = f.ID, f.Summary
					break
				}
			}
		} else if it.Worst() == analysis.SeverityWarning {
			v.Text = "ok (with warnings)"
		}
	}
	if len(w.verdicts) > 50000 {
		clear(w.verdicts)
	}
	w.verdicts[k] = v
	return v
}

// liveWhat is the request in a few words: method and URL, or the tunnel.
func liveWhat(o *record.Observation) string {
	what := strings.TrimSpace(o.Method + " " + o.URL)
	if what == "" {
		switch {
		case o.Connect != "":
			what = "CONNECT " + o.Connect
		default:
			what = analysis.Describe(o)
		}
		if o.ClientAlert != "" {
			what += " (the client refused the certificate: " + o.ClientAlert + ")"
		} else if o.Error != "" {
			what += " (" + o.Error + ")"
		}
	}
	if o.Status != 0 {
		what += " → " + strconv.Itoa(o.Status)
	}
	return what
}

func ipStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

// pictureClient names the picture's client column after the client the
// requests' User-Agent headers stand for when they all stand for one (the
// demo's Outlook, as in its handout); "" when none says or they differ
// (the picture then says "client").
func pictureClient(rep *analysis.Report) string {
	name := ""
	for it := range rep.EachItem() {
		switch n := ClientName(it.Obs.UserAgent); {
		case n == "" || n == name:
		case name == "":
			name = n
		default:
			return ""
		}
	}
	return name
}

// ClientName names the client a User-Agent header stands for, as the live
// page shows it: Outlook, iOS Mail, Android, a browser; "" for none.
func ClientName(ua string) string {
	l := strings.ToLower(ua)
	switch {
	case ua == "":
		return ""
	case strings.Contains(l, "outlook") || strings.Contains(l, "microsoft office") || strings.Contains(l, "ms-office"):
		return "Outlook"
	case strings.HasPrefix(l, "apple-iphone") || strings.HasPrefix(l, "apple-ipad") || strings.Contains(l, "ios mail") || (strings.Contains(l, "iphone") && !strings.Contains(l, "mozilla")):
		return "iOS Mail"
	case strings.Contains(l, "android") && !strings.Contains(l, "chrome/"):
		return "Android"
	case strings.Contains(l, "edg/"):
		return "browser (Edge)"
	case strings.Contains(l, "firefox/"):
		return "browser (Firefox)"
	case strings.Contains(l, "chrome/") || strings.Contains(l, "chromium/"):
		if strings.Contains(l, "android") {
			return "Android (Chrome)"
		}
		return "browser (Chrome)"
	case strings.Contains(l, "safari/"):
		return "browser (Safari)"
	case strings.HasPrefix(l, "curl/"):
		return "curl"
	}
	if i := strings.IndexAny(ua, " /("); i > 0 {
		ua = ua[:i]
	}
	if len(ua) > 24 {
		ua = ua[:24]
	}
	return ua
}

// sse encodes one Server-Sent Event.
func sse(event string, id uint64, v any) []byte {
	data, _ := json.Marshal(v)
	b := make([]byte, 0, len(event)+len(data)+32)
	b = append(append(append(b, "event: "...), event...), "\nid: "...)
	b = strconv.AppendUint(b, id, 10)
	b = append(append(append(b, "\ndata: "...), data...), "\n\n"...)
	return b
}

// The page's Content-Security-Policy: its own script and style sheet, its
// own event stream and picture, nothing else.
const webCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// ServeHTTP serves the page under /live.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Set("Content-Security-Policy", webCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(rw, "certsleuth live page: read-only (GET)", http.StatusMethodNotAllowed)
		return
	}
	switch p := strings.TrimSuffix(r.URL.Path, "/"); p {
	case "", "/live", "/live/index.html":
		h.Set("Content-Type", "text/html; charset=utf-8")
		rw.Write(livepage.Index)
	case "/live/app.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		rw.Write(livepage.Script)
	case "/live/app.css":
		h.Set("Content-Type", "text/css; charset=utf-8")
		rw.Write(livepage.Style)
	case "/live/picture.svg":
		w.mu.Lock()
		pic := w.picture
		w.mu.Unlock()
		if len(pic) == 0 {
			pic = []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="400" height="30"><text x="8" y="20" font-family="monospace" font-size="12" fill="#475467">no request yet</text></svg>`)
		}
		h.Set("Content-Type", "image/svg+xml")
		rw.Write(pic)
	case "/live/events":
		w.stream(rw, r)
	default:
		http.NotFound(rw, r)
	}
}

// stream sends the page its events: a hello, the last Window lines, the
// culprit panel, then each new event as it comes. A page that does not
// read fast enough loses events (counted, and said) instead of holding
// the page's goroutine.
func (w *Web) stream(rw http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(rw)
	h := rw.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	sub := w.out.Subscribe(1024)
	defer sub.Close()
	w.mu.Lock()
	var buf bytes.Buffer
	buf.Write(sse("hello", w.seq, map[string]any{"title": w.opts.Title, "window": w.opts.Window, "profiles": w.profileNames()}))
	for i := range w.window {
		buf.Write(w.window[(w.head+i)%len(w.window)].encoded(w.cache))
	}
	last := w.seq
	// The lines skipped from now on are this page's to be told of: read
	// with the window, under w.mu, as add counts them. (Read after the
	// hello, a line skipped in between was never told.)
	toldSkipped := w.skipped.Load()
	if w.culprits != nil {
		buf.Write(w.culprits)
	}
	if w.picture != nil {
		buf.Write(sse("picture", w.picSeq, map[string]uint64{"v": w.picVer}))
	}
	w.mu.Unlock()
	rw.WriteHeader(http.StatusOK)
	if _, err := rw.Write(buf.Bytes()); err != nil {
		return
	}
	rc.Flush()
	var told uint64
	idle := 0
	// At most webBurst lines per webTick go to a browser: under a flood it
	// shows the rate and the newest lines, and costs the machine (and the
	// proxy sharing it) a bounded amount of drawing. skipped counts the rest.
	budget, skipped := webBurst, 0
	tick := time.NewTicker(webTick)
	defer tick.Stop()
	// Events are sent in batches: the first event after a quiet spell goes
	// at once, the ones after it wait for the batch's end, webBatch after
	// the last write (webTick once webBusy request lines or more came for
	// the last batch). The browser then lays out and paints once per batch
	// instead of once per line, and the proxy makes one system call for
	// many events. Under a flood (webFlood lines or more came for the last
	// batch) a batch ends webFloodBatch after the last write and carries
	// only the newest lines, at most webFloodLines, none observed more than
	// webFloodFresh before it is sent: the list moves every webFloodBatch,
	// each line it shows still within a second of the request, and the
	// browser draws a screenful, not every line that came.
	buf.Reset()
	var lastSent time.Time
	var reqs []webOut // this batch's request lines, in order
	reqBytes := 0
	lines, lastLines := 0, 0 // request lines that came for this batch and the last one
	hold := time.NewTimer(time.Hour)
	hold.Stop()
	defer hold.Stop()
	holding := false
	send := func() bool {
		if lastLines >= webFlood && len(reqs) > 0 {
			fresh := time.Now().Add(-webFloodFresh).UnixMilli()
			i := max(len(reqs)-webFloodLines, 0)
			for i < len(reqs) && reqs[i].observed < fresh {
				i++
			}
			skipped += i
			reqs = reqs[i:]
		}
		if skipped > 0 {
			buf.Write(sse("skipped", 0, map[string]int{"skipped": skipped}))
			skipped, idle = 0, 0
		}
		for _, o := range reqs {
			buf.Write(o.b)
		}
		clear(reqs)
		reqs, reqBytes = reqs[:0], 0
		if buf.Len() == 0 {
			return true
		}
		if _, err := rw.Write(buf.Bytes()); err != nil {
			return false
		}
		rc.Flush()
		buf.Reset()
		lastSent = time.Now()
		lines, lastLines = 0, lines
		return true
	}
	// sendOrHold sends what is waiting now, or when the batch ends.
	sendOrHold := func() bool {
		if holding || buf.Len()+len(reqs)+skipped == 0 {
			return true
		}
		batch := webBatch
		switch {
		case lastLines >= webFlood:
			batch = webFloodBatch
		case lastLines >= webBusy:
			batch = webTick
		}
		if wait := batch - time.Since(lastSent); wait > 0 {
			hold.Reset(wait)
			holding = true
			return true
		}
		return send()
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-hold.C:
			holding = false
			if !send() {
				return
			}
		case <-tick.C:
			budget = webBurst
			idle++
			if n := w.skipped.Load(); n > toldSkipped {
				skipped += int(n - toldSkipped)
				toldSkipped = n
			}
			// The skipped lines are told with the next batch (send).
			if skipped == 0 && buf.Len()+len(reqs) == 0 && !holding && idle >= int(15*time.Second/webTick) {
				buf.Write([]byte(": ping\n\n"))
				idle = 0
			}
			if !sendOrHold() {
				return
			}
		case o, ok := <-sub.C():
			if !ok {
				send()
				return
			}
			idle = 0
			// What else is already waiting goes in the same batch.
			for more := true; more; {
				switch {
				case o.observed == 0:
					buf.Write(o.b)
				case o.seq <= last: // already sent in the window
				case budget > 0:
					budget--
					lines++
					reqs = append(reqs, o)
					reqBytes += len(o.b)
				default:
					skipped++
				}
				if buf.Len()+reqBytes > 256<<10 {
					break
				}
				select {
				case o, more = <-sub.C():
				default:
					more = false
				}
			}
			if d := sub.Dropped(); d > told {
				buf.Write(sse("dropped", 0, map[string]uint64{"dropped": d}))
				told = d
			}
			if buf.Len()+reqBytes > 256<<10 { // a batch is bounded: send it whatever the time
				holding = false
				hold.Stop()
				if !send() {
					return
				}
			} else if !sendOrHold() {
				return
			}
		}
	}
}

// A browser is sent at most webBurst request lines per webTick (100 a
// second: more than anyone reads); the lines past it are counted in a
// "skipped" event.
const (
	webBurst = 25
	webTick  = 250 * time.Millisecond
	// A batch of events ends webBatch after the last write, webTick when
	// webBusy request lines or more came for the last batch, webFloodBatch
	// when webFlood or more came: under a flood the browser lays out and
	// paints the list every 2 s, a screenful of the newest lines
	// (webFloodLines, none older than webFloodFresh when sent). Drawing a
	// batch cost the browser about 70 ms of CPU whatever its size, plus
	// about 0.5 ms a line (BenchmarkLivePageBrowser): 100 lines a second in
	// one batch took 13 % of a core.
	webBatch      = 100 * time.Millisecond
	webBusy       = 3
	webFlood      = 20
	webFloodBatch = 2 * time.Second
	webFloodLines = 25
	webFloodFresh = 500 * time.Millisecond
)

// LocalHostOnly wraps the page for its own listener (--web): requests
// whose Host is neither an IP address, localhost nor certsleuth.local are
// refused, so that a web site cannot read the page through DNS
// rebinding; the listener's address check (loopback unless --web-allow)
// is the caller's.
func LocalHostOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(record.HostOnly(r.Host))
		if net.ParseIP(host) == nil && host != "localhost" && host != HelperHost {
			http.Error(rw, "certsleuth live page: open it as http://127.0.0.1:PORT/live (Host "+strconv.Quote(r.Host)+" refused)", http.StatusForbidden)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

func (w *Web) profileNames() []string {
	var out []string
	for _, p := range w.opts.Profiles {
		out = append(out, p.Name)
	}
	return out
}

// AllowListener drops the clients of ln that are neither loopback nor in
// allow, as the proxy does with Config.Allow: the page's own listener
// (--web) is loopback-only unless --web-allow.
func AllowListener(ln net.Listener, allow []*net.IPNet) net.Listener {
	return &webListener{Listener: ln, allow: allow}
}

type webListener struct {
	net.Listener
	allow []*net.IPNet
}

func (l *webListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || allowedAddr(c.RemoteAddr(), l.allow) {
			return c, err
		}
		c.Close()
	}
}

// isWebPath reports whether a request to the proxy itself is for the
// live page.
func isWebPath(p string) bool { return p == "/live" || strings.HasPrefix(p, "/live/") }

// webResponse runs the live page's handler for a request made through the
// proxy (http://certsleuth.local/live) and returns its answer as a
// response whose body streams what the handler writes (the event stream
// included: goproxy flushes text/event-stream as it copies it).
func webResponse(h http.Handler, r *http.Request) *http.Response {
	pr, pw := io.Pipe()
	rw := &pipeWriter{h: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			rw.writeHeader(http.StatusOK)
			pw.Close()
		}()
		h.ServeHTTP(rw, r)
	}()
	<-rw.ready
	return &http.Response{
		StatusCode: rw.code, Status: fmt.Sprintf("%d %s", rw.code, http.StatusText(rw.code)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: rw.h, Request: r,
		ContentLength: -1, Body: pr,
	}
}

// pipeWriter is the http.ResponseWriter of webResponse.
type pipeWriter struct {
	h     http.Header
	pw    *io.PipeWriter
	code  int
	once  sync.Once
	ready chan struct{}
}

func (p *pipeWriter) Header() http.Header { return p.h }
func (p *pipeWriter) writeHeader(code int) {
	p.once.Do(func() {
		p.code = code
		close(p.ready)
	})
}
func (p *pipeWriter) WriteHeader(code int) { p.writeHeader(code) }
func (p *pipeWriter) Write(b []byte) (int, error) {
	p.writeHeader(http.StatusOK)
	return p.pw.Write(b)
}

// Flush is a no-op: every Write reaches the pipe's reader at once.
func (p *pipeWriter) Flush() {}
