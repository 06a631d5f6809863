package report

import (
	"bufio"
	"encoding/json"
	"io"
	"iter"
	"slices"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// JSONItem is the JSON Lines form of one analysed observation.
type JSONItem struct {
	Type       string             `json:"type"` // "connection", "http" or "dns"
	Index      int                `json:"index"`
	Time       time.Time          `json:"time"`
	Source     record.Source      `json:"source"`
	Client     string             `json:"client"`
	Server     string             `json:"server"`
	Connect    string             `json:"connect,omitempty"`
	Proxy      string             `json:"proxy,omitempty"` // the HTTP proxy a captured CONNECT tunnel went through (Server is that proxy)
	SNI        string             `json:"sni"`
	NoSNI      bool               `json:"no_sni,omitempty"`
	Method     string             `json:"method,omitempty"`
	Host       string             `json:"host,omitempty"`
	URL        string             `json:"url,omitempty"`
	Status     int                `json:"status,omitempty"`
	Location   string             `json:"location,omitempty"`
	TLSVersion string             `json:"tls_version"`
	StartTLS   string             `json:"starttls,omitempty"` // "smtp", "imap", "pop3", "ftp": TLS began on this command
	ALPN       []string           `json:"alpn,omitempty"`
	Visibility record.Visibility  `json:"cert_visibility"`
	Name       string             `json:"name"`
	NameFrom   record.NameSource  `json:"name_from,omitempty"`
	Chain      []certs.Summary    `json:"chain"`
	Verdicts   []match.Verdict    `json:"verdicts,omitempty"`
	Findings   []analysis.Finding `json:"findings"`
	Warns      []string           `json:"warns"` // profiles that would warn
	Error      string             `json:"error,omitempty"`
	// NotJudged says why the certificate could not be judged (see
	// Item.NotJudged); absent when it was.
	NotJudged string      `json:"not_judged,omitempty"`
	DNS       *record.DNS `json:"dns,omitempty"`
	WhatIf    bool        `json:"what_if,omitempty"`
	// Origin is what sent the client to this request, nearest cause first.
	Origin []analysis.Cause `json:"origin,omitempty"`
}

// JSONSummary is the last line of a JSON report.
type JSONSummary struct {
	Type         string `json:"type"` // "summary"
	Observations int    `json:"observations"`
	Warnings     int    `json:"warnings"` // items that would make a client warn
	// NotJudged counts the connections that could not be judged, by why;
	// absent when every connection was judged.
	NotJudged *analysis.Unjudged `json:"not_judged,omitempty"`
	// Skipped counts the input lines (of a trace) that were skipped
	// because they could not be used; their reasons are in Problems.
	Skipped int `json:"skipped,omitempty"`
	// SkippedObservations counts the observations among Skipped.
	SkippedObservations int      `json:"skipped_observations,omitempty"`
	Culprits            []int    `json:"culprits"` // index of the first item of each culprit group
	Profiles            []string `json:"profiles"`
	Problems            []string `json:"problems,omitempty"`
	// Explain has one entry per culprit, in the order of Culprits: the
	// plain-language verdict, the origin chain and the remedies.
	Explain []JSONCulprit `json:"explain"`
	// CertPlan says, per server, which certificate it needs (only when a
	// request would warn).
	CertPlan []analysis.ServerPlan `json:"cert_plan,omitempty"`
	// ExchangeVersion is the Exchange release the Autodiscover answers
	// revealed, or "".
	ExchangeVersion string `json:"exchange_version,omitempty"`
	// Totals are the counts behind the headline: requests, TLS
	// connections, those judged, warnings per profile.
	Totals *analysis.Totals `json:"totals,omitempty"`
}

// JSONCulprit is the explanation of one culprit in the JSON summary.
type JSONCulprit struct {
	Index int `json:"index"` // the first item of the group
	// Repeats are later example requests of the group: at most
	// analysis.MaxExamples-1 (Requests counts them all; a streamed
	// analysis keeps no list of every request).
	Repeats       []int             `json:"repeats"`
	Name          string            `json:"name"`
	URL           string            `json:"url,omitempty"`
	Profiles      []string          `json:"profiles"`
	Checks        []string          `json:"checks"` // IDs of the checks that failed
	Verdict       string            `json:"verdict"`
	Origin        []analysis.Cause  `json:"origin"`
	Remedies      []analysis.Remedy `json:"remedies"`
	SuggestedName string            `json:"suggested_name,omitempty"`
	// Requests is how many requests (or connections) the cause covers,
	// Connections how many distinct connections they were made on (0
	// when the input does not say).
	Requests    int `json:"requests"`
	Connections int `json:"connections,omitempty"`
	// Clients are the distinct clients (User-Agent product, else address),
	// at most 10; MoreClients counts the others.
	Clients     []string `json:"clients"`
	MoreClients int      `json:"more_clients,omitempty"`
	// FirstSeen and LastSeen are the times of the earliest and the latest
	// request; absent when the input has no times.
	FirstSeen *time.Time `json:"first_seen,omitempty"`
	LastSeen  *time.Time `json:"last_seen,omitempty"`
	// Examples are the indexes of up to 3 requests of the cause, the
	// first included.
	Examples []int `json:"examples"`
}

// JSONCulpritOf returns the JSON form of a culprit explained by
// Report.Explain or Report.ExplainBrief (whose Examples are nil: their
// indexes are the culprit's ExampleIndexes).
func JSONCulpritOf(c *analysis.Culprit) JSONCulprit {
	var j JSONCulprit
	jsonCulpritInto(&j, c)
	return j
}

// jsonCulpritInto sets *j to JSONCulpritOf(c), in the arrays of j's lists
// (the JSON summary makes an entry per cause in one JSONCulprit).
func jsonCulpritInto(j *JSONCulprit, c *analysis.Culprit) {
	emptied := func(s []int) []int {
		if s == nil {
			return []int{}
		}
		return s[:0]
	}
	repeats, examples, checks, clients := emptied(j.Repeats), emptied(j.Examples), j.Checks[:0], j.Clients[:0]
	firstSeen, lastSeen := j.FirstSeen, j.LastSeen
	if checks == nil {
		checks = []string{}
	}
	if clients == nil {
		clients = []string{}
	}
	*j = JSONCulprit{Index: c.First.Index, Repeats: repeats, Name: c.First.Name, URL: c.First.Obs.URL, Profiles: c.Profiles,
		Checks: checks, Verdict: c.Verdict, Origin: c.Origin, Remedies: c.Remedies, SuggestedName: c.NewName, Examples: examples}
	if c.Examples == nil {
		index, first := c.ExampleIndexes()
		for i, x := range index {
			if !first[i] {
				j.Repeats = append(j.Repeats, x)
			}
		}
		j.Examples = append(j.Examples, index...)
	}
	for _, ex := range c.Examples {
		if ex != c.First {
			j.Repeats = append(j.Repeats, ex.Index)
		}
		j.Examples = append(j.Examples, ex.Index)
	}
	for _, f := range c.Findings {
		j.Checks = append(j.Checks, f.ID)
	}
	if j.Origin == nil {
		j.Origin = []analysis.Cause{}
	}
	if j.Remedies == nil {
		j.Remedies = []analysis.Remedy{}
	}
	if j.Profiles == nil {
		j.Profiles = []string{}
	}
	j.Requests, j.Connections, j.MoreClients = c.Requests, c.Conns, c.MoreClients
	j.Clients = append(clients, c.Clients...)
	if !c.FirstSeen.IsZero() {
		if firstSeen == nil {
			firstSeen, lastSeen = new(time.Time), new(time.Time)
		}
		*firstSeen, *lastSeen = c.FirstSeen, c.LastSeen
		j.FirstSeen, j.LastSeen = firstSeen, lastSeen
	}
}

// JSONOf returns the JSON form of an item.
func JSONOf(it *analysis.Item, all []*match.Profile) JSONItem {
	return jsonOf(it, all, nil)
}

// jsonOf is JSONOf with the warning profiles appended to warns (whose
// elements it may overwrite).
func jsonOf(it *analysis.Item, all []*match.Profile, warns []string) JSONItem {
	o := it.Obs
	typ := "connection"
	switch o.Kind {
	case record.KindHTTP:
		typ = "http"
	case record.KindDNS:
		typ = "dns"
	}
	warns = it.AppendWarningProfiles(warns[:0], all)
	if warns == nil {
		warns = []string{}
	}
	return JSONItem{
		Type: typ, Index: it.Index, Time: o.Time, Source: o.Source, Client: o.Client, Server: o.Server,
		Connect: o.Connect, Proxy: o.Proxy, SNI: o.SNI, NoSNI: o.NoSNI, Method: o.Method, Host: o.Host, URL: o.URL,
		Status: o.Status, Location: o.Location, TLSVersion: o.TLSVersion, StartTLS: o.StartTLS, ALPN: o.ALPN, Visibility: o.Visibility,
		Name: it.Name, NameFrom: it.NameFrom, Chain: it.Chain, Verdicts: it.Verdicts, Findings: it.Findings,
		Warns: warns, Error: o.Error, NotJudged: it.NotJudged(), DNS: o.DNS, WhatIf: it.WhatIf, Origin: it.Origin,
	}
}

func renderJSON(w io.Writer, r *analysis.Report) error {
	jw := NewJSONWriter(w, r.Profiles)
	for it := range r.EachItem() {
		if err := jw.Item(it); err != nil {
			return err
		}
	}
	return jw.Finish(r)
}

// JSONWriter writes a JSON report as the items come: one line per item
// (it is an analysis.ItemSink), then, at Finish, the summary line. A
// report made by a pipeline that keeps no item list is written with it.
type JSONWriter struct {
	w        *bufio.Writer
	profiles []*match.Profile
	n, warn  int
	line     []byte   // the lines not yet written (writeLines)
	warns    []string // reused for each line's warning profiles
	cache    *lineCache
}

// NewJSONWriter returns a JSONWriter to w for the chosen profiles. It
// buffers: Finish flushes.
func NewJSONWriter(w io.Writer, profiles []*match.Profile) *JSONWriter {
	return &JSONWriter{w: buffered(w), profiles: profiles, cache: newLineCache()}
}

// Item writes the line of one item: the bytes json.Encoder.Encode
// writes for JSONOf(it), made without reflection (jsonline.go). The lines
// are made one after the other in one buffer and written a buffer's worth
// at a time, which the buffered writer then passes on without copying
// them (hs.pcap's lines are 316 MB).
func (j *JSONWriter) Item(it *analysis.Item) error {
	j.n++
	if it.Warns("") {
		j.warn++
	}
	line := jsonOf(it, j.profiles, j.warns)
	j.warns = line.Warns
	b, err := appendItemLine(j.line, &line, j.cache)
	if err != nil {
		return err // the lines before it stay
	}
	j.line = b
	if len(b) >= j.w.Size() {
		return j.writeLines()
	}
	return nil
}

// writeLines writes the lines Item made.
func (j *JSONWriter) writeLines() error {
	_, err := j.w.Write(j.line)
	j.line = j.line[:0]
	if cap(j.line) > 1<<20 {
		j.line = nil
	}
	return err
}

// Finish writes the summary line of r, whose items Item wrote (it counts
// them), and flushes.
func (j *JSONWriter) Finish(r *analysis.Report) error {
	if err := j.writeLines(); err != nil {
		return err
	}
	sum := JSONSummary{Type: "summary", Observations: j.n, Warnings: j.warn, Culprits: []int{}, Profiles: []string{}, Problems: r.Problems, Skipped: r.Skipped, SkippedObservations: r.SkippedObservations}
	if nj := r.NotJudged(); nj.Total() > 0 {
		sum.NotJudged = &nj
	}
	for _, p := range r.Profiles {
		sum.Profiles = append(sum.Profiles, p.Name)
	}
	cs := r.Causes()
	for _, c := range cs {
		sum.Culprits = append(sum.Culprits, c.Index)
	}
	var plans iter.Seq[analysis.ServerPlan]
	if len(cs) > 0 {
		plans = r.EachCertPlan() // written a plan at a time
	}
	if r.Origins != nil {
		sum.ExchangeVersion = r.Origins.Version
	}
	t := totals(r)
	sum.Totals = &t
	// The examples' indexes only (ExplainBrief), the next causes explained
	// on the other core while one is written.
	explain, stop := r.ExplainAhead(cs, false)
	defer stop()
	return writeJSONSummary(j.w, &sum, cs, explain, plans)
}

// writeJSONSummary writes sum as json.Encoder would, with Explain made
// from cs one culprit at a time (each loaded and explained by explain just
// before it is written): the summary of a big trace (an entry per
// culprit) is never marshalled, nor its culprits explained, whole in
// memory. The fields and their order are JSONSummary's (TestJSONSummaryStreamed holds
// them equal).
//
// The certificate plan is plans when not nil (sum.CertPlan is then
// unset), made and written a server at a time.
func writeJSONSummary(w io.Writer, sum *JSONSummary, cs []*analysis.Culprit, explain func(*analysis.Culprit) *analysis.Culprit, plans iter.Seq[analysis.ServerPlan]) error {
	bw := buffered(w)
	field := func(sep, key string, v any) error {
		bw.WriteString(sep)
		bw.WriteString(key)
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = bw.Write(b)
		return err
	}
	fields := []struct {
		key  string
		v    any
		omit bool
	}{
		{`{"type":`, sum.Type, false},
		{`"observations":`, sum.Observations, false},
		{`"warnings":`, sum.Warnings, false},
		{`"not_judged":`, sum.NotJudged, sum.NotJudged == nil},
		{`"skipped":`, sum.Skipped, sum.Skipped == 0},
		{`"skipped_observations":`, sum.SkippedObservations, sum.SkippedObservations == 0},
		{`"culprits":`, sum.Culprits, false},
		{`"profiles":`, sum.Profiles, false},
		{`"problems":`, sum.Problems, len(sum.Problems) == 0},
	}
	for i, f := range fields {
		if f.omit {
			continue
		}
		sep := ","
		if i == 0 {
			sep = ""
		}
		if err := field(sep, f.key, f.v); err != nil {
			return err
		}
	}
	// The entries of a summary are written without reflection
	// (jsonline.go): hs.pcap has 9,656 causes and 1,818 plans.
	var buf []byte
	var j JSONCulprit // each cause's entry, in the same lists' arrays
	bw.WriteString(`,"explain":[`)
	for i, c := range cs {
		if i > 0 {
			bw.WriteByte(',')
		}
		jsonCulpritInto(&j, explain(c))
		var err error
		if buf, err = appendCulprit(buf[:0], &j); err != nil {
			return err
		}
		bw.Write(buf)
	}
	bw.WriteString("]")
	if plans == nil {
		plans = slices.Values(sum.CertPlan)
	}
	// A plan at a time too: a capture of 500,000 connections has one for
	// each of thousands of certificates.
	n := 0
	for p := range plans {
		if n == 0 {
			bw.WriteString(`,"cert_plan":[`)
		} else {
			bw.WriteByte(',')
		}
		n++
		var err error
		if buf, err = appendPlan(buf[:0], &p); err != nil {
			return err
		}
		bw.Write(buf)
	}
	if n > 0 {
		bw.WriteString("]")
	}
	if sum.ExchangeVersion != "" {
		if err := field(",", `"exchange_version":`, sum.ExchangeVersion); err != nil {
			return err
		}
	}
	if sum.Totals != nil {
		if err := field(",", `"totals":`, sum.Totals); err != nil {
			return err
		}
	}
	bw.WriteString("}\n")
	return bw.Flush()
}
