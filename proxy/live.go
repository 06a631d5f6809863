package proxy

import (
	"crypto/x509"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// Recorder is an observer that writes every Exchange and Connection
// observation to w. Write errors go to onErr (once each); nil ignores them.
func Recorder(w *record.Writer, onErr func(error)) func(Event) {
	var once sync.Once
	return func(ev Event) {
		if ev.Obs == nil {
			return
		}
		if err := w.Write(ev.Obs); err != nil && onErr != nil {
			once.Do(func() { onErr(err) })
		}
	}
}

// LiveOptions control Live.
type LiveOptions struct {
	Profiles []*match.Profile // nil: every profile
	Roots    *x509.CertPool   // nil: the system's
	Color    bool
	// MaxKept bounds the distinct requests kept for the final report
	// (0: 20000); past it only warning requests are kept, so memory stays
	// flat. Negative keeps none: the caller makes its own report.
	MaxKept int
	// Queue, when positive, sends the lines to out through a bounded queue
	// of that many lines, written by a goroutine of Live's own, so an
	// output nobody reads never holds up a tunnel. Lines that find the
	// queue full are dropped and counted, and a line saying how many is
	// printed when the output moves again. Call Close when done. 0 prints
	// each line synchronously from Observe.
	Queue int
	// Recording says a trace is being written: the dropped-lines note then
	// says the trace has them all.
	Recording bool
}

// Live is an observer that prints one line per request as it happens
// (method, URL, the name asked for, the verdict) and keeps what the final
// report needs: every distinct request, once.
type Live struct {
	out  io.Writer
	opts LiveOptions
	q    *liveQueue // nil: print synchronously

	mu       sync.Mutex
	cache    *certs.Cache
	verdicts *analysis.Judge     // judges as the report will
	lines    map[uint64]liveLine // by the Judge's judgement number
	keys     map[string]bool
	key      []byte // appendKeepKey's buffer
	kept     []*record.Observation
	seen     int
	warned   int
}

type liveVerdict struct {
	warns bool
	text  string
}

// NewLive prints to out.
func NewLive(out io.Writer, o LiveOptions) *Live {
	if o.Profiles == nil {
		o.Profiles = match.Profiles()
	}
	if o.MaxKept == 0 {
		o.MaxKept = 20000
	}
	cache := &certs.Cache{}
	l := &Live{out: out, opts: o, cache: cache, keys: map[string]bool{}, lines: map[uint64]liveLine{},
		verdicts: analysis.NewJudge(analysis.Options{Profiles: o.Profiles, Roots: o.Roots, Cache: cache})}
	if o.Queue > 0 {
		l.q = newLiveQueue(out, o.Queue, o.Recording)
	}
	return l
}

// Observe is the observer function.
func (l *Live) Observe(ev Event) {
	o := ev.Obs
	if o == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	v, rest := l.judge(o)
	l.seen++
	if v.warns {
		l.warned++
	}
	if l.opts.MaxKept >= 0 {
		l.key = appendKeepKey(l.key[:0], o)
		if !l.keys[string(l.key)] && (len(l.kept) < l.opts.MaxKept || v.warns) {
			l.keys[string(l.key)] = true
			c := *o // a copy: other observers (the recorder) may still set ChainID
			l.kept = append(l.kept, &c)
		}
	}
	var line string
	if o.Source != record.SourceProxy && o.Source != record.SourceDemo {
		// A connection read from a capture: no CONNECT, no proxy notes.
		line = strings.TrimRight(o.Time.Local().Format("15:04:05")+"  "+analysis.Describe(o)+"  "+v.text, " ")
	} else {
		line = o.Time.Local().Format("15:04:05") + "  " + rest
	}
	if l.opts.Color && v.warns {
		line = "\x1b[31m" + line + "\x1b[0m"
	}
	l.print(line)
}

// liveLine is what Live made of a judgement: the verdict and, for the
// proxy's requests, the line after its time.
type liveLine struct {
	v    liveVerdict
	rest string
}

// maxLiveLines bounds Live.lines; past it the memo starts again.
const maxLiveLines = 4096

// judge gives o its verdict and, for the proxy's requests, its line after
// the time. A repeat of a request judged before (the Judge gives it the
// same judgement number: only its time, duration, client or connection
// differ) reuses what was made of the first: a keep-alive tunnel's
// thousandth request costs a map lookup, not a judgement and a line.
func (l *Live) judge(o *record.Observation) (liveVerdict, string) {
	proxied := o.Source == record.SourceProxy || o.Source == record.SourceDemo
	if o.Kind == record.KindDNS {
		if !proxied {
			return liveVerdict{}, ""
		}
		rest, _ := liveRest(o, liveVerdict{})
		return liveVerdict{}, rest
	}
	it, id := l.verdicts.Judged(o)
	if m, ok := l.lines[id]; ok && id != 0 {
		return m.v, m.rest
	}
	v := l.verdict(o, it)
	rest, again := "", true
	if proxied {
		rest, again = liveRest(o, v)
	}
	if id != 0 && again {
		if len(l.lines) >= maxLiveLines {
			clear(l.lines)
		}
		l.lines[id] = liveLine{v: v, rest: rest}
	}
	return v, rest
}

// liveRest is a proxy request's line after its time: the request, the name
// asked for, the verdict, what went wrong. again says it holds for every
// repeat of o: it reads only fields the judgement depends on
// (analysis.Judge.Judged), not the client's address.
func liveRest(o *record.Observation, v liveVerdict) (rest string, again bool) {
	what := strings.TrimSpace(o.Method + " " + o.URL)
	again = true
	switch {
	case what == "" && o.Connect == "": // a request that never came whole (unfinished.go)
		what, again = "connection from "+o.Client, false
	case what == "":
		what = "CONNECT " + o.Connect
		if o.Visibility == record.VisNone {
			what += " (not TLS)"
		}
	}
	if o.Status != 0 {
		what += " " + strconv.Itoa(o.Status)
	}
	name, from := o.AskedName()
	asked := name
	if from != "" {
		asked += " (" + string(from) + ")"
	}
	if o.NoSNI {
		asked += " no-SNI"
	}
	if asked != "" {
		asked = "asked " + asked + "  "
	}
	line := what + "  " + asked + v.text
	if o.Error != "" {
		line += "  [" + analysis.ErrorWords(o.Error) + "]"
	}
	if strings.Contains(o.Note, "Extended Protection") {
		line += "  [Windows authentication refused through the proxy: likely Exchange Extended Protection, not the certificate]"
	}
	return line, again
}

// verdict is o's verdict in words from its judgement it, as the report
// (and replay of the trace) will judge it: with the same checks, the same
// roots and the observations before it.
func (l *Live) verdict(o *record.Observation, it *analysis.Item) liveVerdict {
	if len(o.Chain) == 0 && !it.Warns("") {
		switch {
		case o.Visibility == record.VisNone:
			return liveVerdict{text: "plain http"}
		case o.Error != "":
			return liveVerdict{text: "no certificate"}
		}
		return liveVerdict{text: "certificate not seen (" + string(o.Visibility) + ")"}
	}
	v := liveVerdict{text: "ok"}
	if ps := it.WarningProfiles(l.opts.Profiles); len(ps) > 0 {
		v.warns = true
		msg := ""
		for _, f := range it.Findings {
			if f.Severity == analysis.SeverityError {
				msg = f.Summary
				break
			}
		}
		v.text = "WARN " + strings.Join(ps, ",") + ": " + msg
	} else if w := it.Worst(); w == analysis.SeverityWarning {
		v.text = "ok (with warnings)"
	}
	return v
}

// appendKeepKey appends to b what identifies repeats of the same request
// for the final report. It is made for every request: no URL parsing, no
// hash the recorder has already made (chainID), and, looked up as
// m[string(b)], no allocation for a repeat.
func appendKeepKey(b []byte, o *record.Observation) []byte {
	u, rest, _ := strings.Cut(o.URL, "?") // the query goes, a fragment stays
	b = append(append(append(append(b, o.Kind...), '|'), o.Method...), '|')
	b = append(b, u...)
	if _, frag, ok := strings.Cut(rest, "#"); ok {
		b = append(append(b, '#'), frag...)
	}
	for _, s := range []string{chainID(o), o.SNI, strconv.FormatBool(o.NoSNI), o.Connect} {
		b = append(append(b, '|'), s...)
	}
	b = strconv.AppendInt(append(b, '|'), int64(o.Status), 10)
	b = append(append(append(append(b, '|'), o.Error...), '|'), o.ClientAlert...)
	return o.Time.AppendFormat(append(b, '|'), "2006-01-02")
}

// chainID is o's chain ID: the one the recorder set (it runs first), else
// computed.
func chainID(o *record.Observation) string {
	if o.ChainID != "" || len(o.Chain) == 0 {
		return o.ChainID
	}
	return record.ChainID(o.Chain)
}

// Counts is how many observations were seen and how many would warn.
func (l *Live) Counts() (seen, warned int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen, l.warned
}

// Report analyses every distinct request seen so far.
func (l *Live) Report() *analysis.Report {
	l.mu.Lock()
	obs := append([]*record.Observation(nil), l.kept...)
	l.mu.Unlock()
	return analysis.Analyze(obs, analysis.Options{Profiles: l.opts.Profiles, Roots: l.opts.Roots, Cache: l.cache})
}
