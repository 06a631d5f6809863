package proxy

import (
	"crypto/x509"
	"fmt"
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
	verdicts *analysis.Judge // judges as the report will
	keys     map[string]bool
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
	l := &Live{out: out, opts: o, cache: cache, keys: map[string]bool{},
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
	v := l.verdict(o)
	l.seen++
	if v.warns {
		l.warned++
	}
	if l.opts.MaxKept >= 0 {
		k := keepKey(o)
		if !l.keys[k] && (len(l.kept) < l.opts.MaxKept || v.warns) {
			l.keys[k] = true
			c := *o // a copy: other observers (the recorder) may still set ChainID
			l.kept = append(l.kept, &c)
		}
	}
	if o.Source != record.SourceProxy && o.Source != record.SourceDemo {
		// A connection read from a capture: no CONNECT, no proxy notes.
		line := strings.TrimRight(fmt.Sprintf("%s  %s  %s", o.Time.Local().Format("15:04:05"), analysis.Describe(o), v.text), " ")
		if l.opts.Color && v.warns {
			line = "\x1b[31m" + line + "\x1b[0m"
		}
		l.print(line)
		return
	}
	what := strings.TrimSpace(o.Method + " " + o.URL)
	switch {
	case what == "" && o.Connect == "": // a request that never came whole (unfinished.go)
		what = "connection from " + o.Client
	case what == "":
		what = "CONNECT " + o.Connect
		if o.Visibility == record.VisNone {
			what += " (not TLS)"
		}
	}
	if o.Status != 0 {
		what += fmt.Sprintf(" %d", o.Status)
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
	line := fmt.Sprintf("%s  %s  %s%s", o.Time.Local().Format("15:04:05"), what, asked, v.text)
	if o.Error != "" {
		line += "  [" + analysis.ErrorWords(o.Error) + "]"
	}
	if strings.Contains(o.Note, "Extended Protection") {
		line += "  [Windows authentication refused through the proxy: likely Exchange Extended Protection, not the certificate]"
	}
	if l.opts.Color && v.warns {
		line = "\x1b[31m" + line + "\x1b[0m"
	}
	l.print(line)
}

// verdict judges o as the report (and replay of the trace) will: with the
// same checks, the same roots and the observations before it.
func (l *Live) verdict(o *record.Observation) liveVerdict {
	if o.Kind == record.KindDNS {
		return liveVerdict{}
	}
	it := l.verdicts.Item(o)
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

// keepKey identifies repeats of the same request for the final report.
// It is made for every request: no URL parsing, no hash the recorder has
// already made (chainID).
func keepKey(o *record.Observation) string {
	u, rest, _ := strings.Cut(o.URL, "?") // the query goes, a fragment stays
	if _, frag, ok := strings.Cut(rest, "#"); ok {
		u += "#" + frag
	}
	return strings.Join([]string{string(o.Kind), o.Method, u, chainID(o), o.SNI, strconv.FormatBool(o.NoSNI), o.Connect, strconv.Itoa(o.Status), o.Error, o.ClientAlert, o.Time.Format("2006-01-02")}, "|")
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
