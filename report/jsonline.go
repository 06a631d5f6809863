package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// This file writes the JSON line of an item (JSONItem) without
// encoding/json's reflection: the same bytes as json.Encoder.Encode of
// JSONOf(it) (HTML-safe escaping, omitempty, field order), several times
// faster. A line of a pcapgen handshake is about 10 KB of chain
// summaries, verdicts and findings, and `pcap --format json` writes one
// per observation (docs/bench-pcap.md). TestJSONLineEqualsEncoding holds
// every item of the scenarios equal to encoding/json's, FuzzJSONString
// the string escaping, and TestJSONLineFields fails when one of the
// encoded types gains a field this file does not write.

// appendItemLine appends the JSON line of j (a JSONItem made by JSONOf),
// newline included, as json.Encoder.Encode writes it; c, when not nil,
// keeps the JSON of the parts that repeat from line to line (lineCache).
func appendItemLine(b []byte, j *JSONItem, c *lineCache) ([]byte, error) {
	var err error
	b = append(b, `{"type":`...)
	b = appendJSONString(b, j.Type)
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, int64(j.Index), 10)
	b = append(b, `,"time":`...)
	if b, err = appendJSONTime(b, j.Time); err != nil {
		return b, err
	}
	b = appendField(b, `,"source":`, string(j.Source))
	b = appendField(b, `,"client":`, j.Client)
	b = appendField(b, `,"server":`, j.Server)
	b = appendOmit(b, `,"connect":`, j.Connect)
	b = appendOmit(b, `,"proxy":`, j.Proxy)
	b = appendField(b, `,"sni":`, j.SNI)
	if j.NoSNI {
		b = append(b, `,"no_sni":true`...)
	}
	b = appendOmit(b, `,"method":`, j.Method)
	b = appendOmit(b, `,"host":`, j.Host)
	b = appendOmit(b, `,"url":`, j.URL)
	if j.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(j.Status), 10)
	}
	b = appendOmit(b, `,"location":`, j.Location)
	b = appendField(b, `,"tls_version":`, j.TLSVersion)
	b = appendOmit(b, `,"starttls":`, j.StartTLS)
	if len(j.ALPN) > 0 {
		b = append(b, `,"alpn":`...)
		b = appendStrings(b, j.ALPN)
	}
	b = appendField(b, `,"cert_visibility":`, string(j.Visibility))
	b = appendField(b, `,"name":`, j.Name)
	b = appendOmit(b, `,"name_from":`, string(j.NameFrom))
	b = append(b, `,"chain":`...)
	if b, err = appendSummaries(b, j.Chain); err != nil {
		return b, err
	}
	if len(j.Verdicts) > 0 {
		b = append(b, `,"verdicts":`...)
		b = appendVerdicts(b, j.Verdicts, c)
	}
	b = append(b, `,"findings":`...)
	b = appendFindings(b, j.Findings, c)
	b = append(b, `,"warns":`...)
	b = appendStrings(b, j.Warns)
	b = appendOmit(b, `,"error":`, j.Error)
	b = appendOmit(b, `,"not_judged":`, j.NotJudged)
	if j.DNS != nil {
		b = append(b, `,"dns":`...)
		b = appendDNS(b, j.DNS)
	}
	if j.WhatIf {
		b = append(b, `,"what_if":true`...)
	}
	if len(j.Origin) > 0 {
		b = append(b, `,"origin":`...)
		if b, err = appendCauses(b, j.Origin); err != nil {
			return b, err
		}
	}
	return append(b, "}\n"...), nil
}

// appendField appends key and the string s.
func appendField(b []byte, key, s string) []byte {
	return appendJSONString(append(b, key...), s)
}

// appendOmit appends key and s unless s is empty (omitempty).
func appendOmit(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendField(b, key, s)
}

// appendStrings appends ss as a JSON array (null when nil, as
// encoding/json writes a nil slice).
func appendStrings[S ~string](b []byte, ss []S) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, string(s))
	}
	return append(b, ']')
}

// appendMarshal appends v as json.Marshal writes it (for a time
// appendJSONTime does not write itself).
func appendMarshal(b []byte, v any) ([]byte, error) {
	m, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, m...), nil
}

// appendJSONTime appends t as time.Time.MarshalJSON does; a time it
// refuses (a year outside 0-9999) gives its error.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y >= 0 && y <= 9999 {
		if _, off := t.Zone(); off == 0 {
			b = append(b, '"')
			b = t.AppendFormat(b, time.RFC3339Nano)
			return append(b, '"'), nil
		}
	}
	return appendMarshal(b, t) // its error is encoding/json's
}

func appendSummaries(b []byte, ss []certs.Summary) ([]byte, error) {
	if ss == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, '[')
	for i := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendSummary(b, &ss[i]); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendSummary(b []byte, s *certs.Summary) ([]byte, error) {
	var err error
	b = appendField(b, `{"subject_cn":`, s.SubjectCN)
	b = append(b, `,"dns_names":`...)
	b = appendStrings(b, s.DNSNames)
	b = append(b, `,"ip_addresses":`...)
	b = appendStrings(b, s.IPAddresses)
	b = appendField(b, `,"issuer_cn":`, s.IssuerCN)
	b = append(b, `,"not_before":`...)
	if b, err = appendJSONTime(b, s.NotBefore); err != nil {
		return b, err
	}
	b = append(b, `,"not_after":`...)
	if b, err = appendJSONTime(b, s.NotAfter); err != nil {
		return b, err
	}
	b = appendField(b, `,"sha256":`, s.SHA256)
	if s.SelfSigned {
		b = append(b, `,"self_signed":true`...)
	}
	if s.IsCA {
		b = append(b, `,"is_ca":true`...)
	}
	b = appendOmit(b, `,"key":`, s.Key)
	b = appendOmit(b, `,"signature":`, s.Signature)
	b = appendOmit(b, `,"parse_error":`, s.ParseError)
	if len(s.Defects) > 0 {
		b = append(b, `,"defects":`...)
		b = appendStrings(b, s.Defects)
	}
	return append(b, '}'), nil
}

func appendVerdicts(b []byte, vs []match.Verdict, c *lineCache) []byte {
	// The verdicts of one item repeat the name, host, reason and
	// certificate name for every profile: each written once, then copied.
	// A verdict that says all that the one before it says (the profiles
	// mostly agree) copies its JSON after the profile.
	var m strMemo
	tailAt, tailEnd := 0, 0 // where the previous verdict's JSON after its profile is
	b = append(b, '[')
	for i := range vs {
		v := &vs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, `{"profile":`, v.Profile)
		if i > 0 && sameAfterProfile(&vs[i-1], v) {
			at := len(b)
			b = append(b, b[tailAt:tailEnd]...)
			tailAt, tailEnd = at, len(b)
			continue
		}
		tailAt = len(b)
		b = m.appendField(b, `,"name":`, v.Name)
		if v.Host != "" {
			b = m.appendField(b, `,"host":`, v.Host)
		}
		if v.Match {
			b = append(b, `,"match":true`...)
		} else {
			b = append(b, `,"match":false`...)
		}
		b = appendField(b, `,"kind":`, string(v.Kind))
		if v.By != "" {
			b = m.appendField(b, `,"by":`, v.By)
		}
		b = m.appendField(b, `,"reason":`, v.Reason)
		b = append(b, `,"dns_names":`...)
		b = c.appendNames(b, v.DNSNames)
		if len(v.IPs) > 0 {
			b = append(b, `,"ip_addresses":`...)
			b = appendStrings(b, v.IPs)
		}
		if v.CN != "" {
			b = m.appendField(b, `,"subject_cn":`, v.CN)
		}
		b = append(b, '}')
		tailEnd = len(b)
	}
	return append(b, ']')
}

// sameAfterProfile reports whether a and b encode alike after their
// profile: every other field equal (a nil DNSNames apart from an empty
// one, which encode apart; IPs are left out when empty). A field added to
// match.Verdict is to be compared here too (TestJSONLineFields fails
// until appendVerdicts writes it).
func sameAfterProfile(a, b *match.Verdict) bool {
	return a.Name == b.Name && a.Host == b.Host && a.Match == b.Match && a.Kind == b.Kind && a.By == b.By &&
		a.Reason == b.Reason && a.CN == b.CN && (a.DNSNames == nil) == (b.DNSNames == nil) &&
		slices.Equal(a.DNSNames, b.DNSNames) && slices.Equal(a.IPs, b.IPs)
}

// strMemo remembers where in a line the last few strings of 8 bytes or
// more were written (by their bytes' address and length: the strings
// live, unchanged, while the line is made), so that one written again is
// copied from there instead of escaped again.
type strMemo struct {
	n, next int
	e       [8]struct {
		p           *byte
		len, at, to int
	}
}

// appendField appends key and s (appendField), s copied when written
// before.
func (m *strMemo) appendField(b []byte, key, s string) []byte {
	b = append(b, key...)
	if len(s) < 8 {
		return appendJSONString(b, s)
	}
	p := unsafe.StringData(s)
	for i := range m.n {
		if e := &m.e[i]; e.p == p && e.len == len(s) {
			return append(b, b[e.at:e.to]...)
		}
	}
	at := len(b)
	b = appendJSONString(b, s)
	slot := m.n // the next free entry, then the oldest
	if m.n < len(m.e) {
		m.n++
	} else {
		slot, m.next = m.next, (m.next+1)%len(m.e)
	}
	e := &m.e[slot]
	e.p, e.len, e.at, e.to = p, len(s), at, len(b)
	return b
}

func appendFindings(b []byte, fs []analysis.Finding, c *lineCache) []byte {
	if fs == nil {
		return append(b, "null"...)
	}
	shared := c != nil && len(fs) > 0
	if shared {
		if enc, ok := c.lists.Get(fs); ok {
			return append(b, enc...)
		}
	}
	start := len(b)
	b = append(b, '[')
	for i := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = c.appendFinding(b, &fs[i])
	}
	b = append(b, ']')
	if shared {
		c.lists.Saw(fs, b[start:], bytes.Clone)
	}
	return b
}

// appendFinding appends f as a JSON object.
func appendFinding(b []byte, f *analysis.Finding) []byte {
	b = appendField(b, `{"id":`, f.ID)
	b = appendField(b, `,"severity":`, string(f.Severity))
	b = appendField(b, `,"profile":`, f.Profile)
	b = appendField(b, `,"summary":`, f.Summary)
	if len(f.Evidence) > 0 {
		b = append(b, `,"evidence":[`...)
		for k := range f.Evidence {
			e := &f.Evidence[k]
			if k > 0 {
				b = append(b, ',')
			}
			b = appendField(b, `{"label":`, e.Label)
			b = appendField(b, `,"value":`, e.Value)
			b = appendOmit(b, `,"from":`, e.From)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendOmit(b, `,"why":`, f.Why)
	b = appendOmit(b, `,"remedy":`, f.Remedy)
	b = appendOmit(b, `,"citation":`, f.Citation)
	return append(b, '}')
}

func appendCauses(b []byte, cs []analysis.Cause) ([]byte, error) {
	var err error
	b = append(b, '[')
	for i := range cs {
		c := &cs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, `{"kind":`, string(c.Kind))
		if c.From != 0 {
			b = append(b, `,"from":`...)
			b = strconv.AppendInt(b, int64(c.From), 10)
		}
		if c.Field != nil {
			b = append(b, `,"field":`...)
			b = appendADField(b, c.Field)
		}
		b = appendOmit(b, `,"url":`, c.URL)
		b = appendOmit(b, `,"setting":`, c.Setting)
		b = appendField(b, `,"text":`, c.Text)
		if c.Hedged {
			b = append(b, `,"hedged":true`...)
		}
		if len(c.Either) > 0 {
			b = append(b, `,"either":`...)
			if b, err = appendCauses(b, c.Either); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendDNS appends d as json.Marshal writes it (a DNS line's query and
// answers).
func appendDNS(b []byte, d *record.DNS) []byte {
	b = appendField(b, `{"query":`, d.Query)
	b = appendField(b, `,"qtype":`, d.Type)
	b = appendOmit(b, `,"rcode":`, d.Rcode)
	if len(d.Answers) > 0 {
		b = append(b, `,"answers":[`...)
		for i := range d.Answers {
			a := &d.Answers[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendField(b, `{"type":`, a.Type)
			b = appendField(b, `,"name":`, a.Name)
			b = appendField(b, `,"value":`, a.Value)
			for _, n := range [...]struct {
				key string
				v   int64
			}{{`,"port":`, int64(a.Port)}, {`,"prio":`, int64(a.Prio)}, {`,"weight":`, int64(a.Weight)}, {`,"ttl":`, int64(a.TTL)}} {
				if n.v != 0 {
					b = strconv.AppendInt(append(b, n.key...), n.v, 10)
				}
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendADField appends f as json.Marshal writes it (the field of an
// Autodiscover answer an origin cause names; a capture names one in many
// of its lines).
func appendADField(b []byte, f *exchange.ADField) []byte {
	b = appendField(b, `{"form":`, string(f.Form))
	b = appendField(b, `,"block":`, f.Block)
	b = appendField(b, `,"element":`, f.Element)
	b = appendOmit(b, `,"scope":`, string(f.Scope))
	b = appendField(b, `,"value":`, f.Value)
	b = appendField(b, `,"setting":`, f.Setting)
	if f.Port != 0 {
		b = append(b, `,"port":`...)
		b = strconv.AppendInt(b, int64(f.Port), 10)
	}
	return append(b, '}')
}

// appendCulprit appends j as json.Marshal writes it (the JSON summary's
// entry per cause, jsonline's rules; TestJSONSummaryStreamed holds it equal).
func appendCulprit(b []byte, j *JSONCulprit) ([]byte, error) {
	var err error
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(j.Index), 10)
	b = append(b, `,"repeats":`...)
	b = appendInts(b, j.Repeats)
	b = appendField(b, `,"name":`, j.Name)
	b = appendOmit(b, `,"url":`, j.URL)
	b = append(b, `,"profiles":`...)
	b = appendStrings(b, j.Profiles)
	b = append(b, `,"checks":`...)
	b = appendStrings(b, j.Checks)
	b = appendField(b, `,"verdict":`, j.Verdict)
	b = append(b, `,"origin":`...)
	if j.Origin == nil {
		b = append(b, "null"...)
	} else if b, err = appendCauses(b, j.Origin); err != nil {
		return b, err
	}
	b = append(b, `,"remedies":`...)
	b = appendRemedies(b, j.Remedies)
	b = appendOmit(b, `,"suggested_name":`, j.SuggestedName)
	b = append(b, `,"requests":`...)
	b = strconv.AppendInt(b, int64(j.Requests), 10)
	if j.Connections != 0 {
		b = append(b, `,"connections":`...)
		b = strconv.AppendInt(b, int64(j.Connections), 10)
	}
	b = append(b, `,"clients":`...)
	b = appendStrings(b, j.Clients)
	if j.MoreClients != 0 {
		b = append(b, `,"more_clients":`...)
		b = strconv.AppendInt(b, int64(j.MoreClients), 10)
	}
	if j.FirstSeen != nil {
		b = append(b, `,"first_seen":`...)
		if b, err = appendJSONTime(b, *j.FirstSeen); err != nil {
			return b, err
		}
	}
	if j.LastSeen != nil {
		b = append(b, `,"last_seen":`...)
		if b, err = appendJSONTime(b, *j.LastSeen); err != nil {
			return b, err
		}
	}
	b = append(b, `,"examples":`...)
	b = appendInts(b, j.Examples)
	return append(b, '}'), nil
}

// appendInts appends is as a JSON array (null when nil).
func appendInts(b []byte, is []int) []byte {
	if is == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, n := range is {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, ']')
}

func appendRemedies(b []byte, rs []analysis.Remedy) []byte {
	if rs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range rs {
		r := &rs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if r.Setting != "" {
			b = appendField(b, `"setting":`, r.Setting)
			b = append(b, ',')
		}
		b = appendField(b, `"title":`, r.Title)
		b = appendOmit(b, `,"exchange_version":`, r.Version)
		if r.Assumed {
			b = append(b, `,"version_assumed":true`...)
		}
		b = appendField(b, `,"command":`, r.Command)
		b = appendOmit(b, `,"note":`, r.Note)
		b = appendOmit(b, `,"citation":`, r.Citation)
		if len(r.Other) > 0 {
			b = append(b, `,"other_versions":[`...)
			for k, o := range r.Other {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendField(b, `{"versions":`, o.Versions)
				b = appendField(b, `,"command":`, o.Command)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendPlan appends p as json.Marshal writes it (the JSON summary's
// certificate plan).
func appendPlan(b []byte, p *analysis.ServerPlan) ([]byte, error) {
	var err error
	b = appendField(b, `{"server":`, p.Server)
	if p.Leaf != nil {
		b = append(b, `,"certificate":`...)
		if b, err = appendSummary(b, p.Leaf); err != nil {
			return b, err
		}
	}
	b = append(b, `,"names":`...)
	if p.Names == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range p.Names {
			n := &p.Names[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendField(b, `{"name":`, n.Name)
			b = append(b, `,"requests":`...)
			b = strconv.AppendInt(b, int64(n.Requests), 10)
			b = append(b, `,"covered":`...)
			b = strconv.AppendBool(b, n.Covered)
			b = append(b, `,"public":`...)
			b = strconv.AppendBool(b, n.Public)
			b = appendOmit(b, `,"why":`, n.Why)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"get":`...)
	b = appendStrings(b, p.Get)
	if len(p.Move) > 0 {
		b = append(b, `,"move":`...)
		b = appendStrings(b, p.Move)
	}
	b = append(b, `,"needs_new":`...)
	b = strconv.AppendBool(b, p.NeedsNew)
	return append(b, '}'), nil
}

// jsonSafe marks the ASCII bytes encoding/json writes as they are with
// HTML escaping on: not a control character, '"', '\\', '<', '>' or '&'.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// load8 is the 8 bytes of s from i, the first the lowest.
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plain8 reports whether each of the 8 bytes of w is one jsonSafe marks
// (ASCII, not a control character, '"', '\\', '<', '>' or '&'): the
// bit tricks of "Bit Twiddling Hacks" (graphics.stanford.edu/~seander/
// bithacks.html#HasLessInWord, #ValueInWord), exact for "some byte of w".
func plain8(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { return (x - lo) &^ x } // a byte of x is 0
	high := w                                              // a byte of 0x80 or more
	ctl := (w - 0x20*lo) &^ w                              // a byte below 0x20
	esc := zero(w^('"'*lo)) | zero(w^('\\'*lo)) | zero(w^('<'*lo)) | zero(w^('>'*lo)) | zero(w^('&'*lo))
	return (high|ctl|esc)&hi == 0
}

// appendJSONString appends s quoted as encoding/json writes a string
// with HTML escaping (json.Marshal, json.Encoder by default): '"' and
// '\\' escaped, \b \f \n \r \t by name, other control characters and
// '<', '>', '&' as \u00XX, U+2028 and U+2029 as \u2028 and \u2029, an
// invalid UTF-8 byte as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs escaping (most of a
		// line's texts are plain ASCII): a third of the time the JSON
		// lines took went to this loop a byte at a time.
		if i+8 <= len(s) && plain8(load8(s, i)) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
