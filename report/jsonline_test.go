package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/exchange"
	scen "github.com/certsleuth/certsleuth/internal/scenario"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// encodeLine is what JSONWriter wrote before jsonline.go: the oracle.
func encodeLine(t *testing.T, j *JSONItem) (string, error) {
	t.Helper()
	var b bytes.Buffer
	err := json.NewEncoder(&b).Encode(j)
	return b.String(), err
}

// TestJSONLineEqualsEncoding holds the line of every item of every
// scenario, and of items made to reach each optional field and each
// escape, equal byte for byte to encoding/json's.
func TestJSONLineEqualsEncoding(t *testing.T) {
	var lines []JSONItem
	for _, sc := range scen.List(t) {
		r := analyzeScenario(t, sc)
		for _, it := range r.Items {
			lines = append(lines, JSONOf(it, r.Profiles))
		}
	}
	if len(lines) < 20 {
		t.Fatalf("only %d scenario items", len(lines))
	}
	odd := "<a&b> \"q\" \\ \b\f\n\r\t \x00\x1f\x7f é \u2028\u2029 \xff\xfe 日本 \U0001F600"
	at := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.FixedZone("", -(7*3600+30*60)))
	lines = append(lines, JSONItem{
		Type: "http", Index: 7, Time: at, Source: record.Source(odd), Client: odd, Server: odd, Connect: odd, Proxy: odd,
		SNI: odd, NoSNI: true, Method: "GET", Host: odd, URL: odd, Status: 302, Location: odd, TLSVersion: "TLS 1.3",
		StartTLS: "smtp", ALPN: []string{"h2", odd}, Visibility: record.Visibility(odd), Name: odd, NameFrom: record.NameSource(odd),
		Chain: []certs.Summary{{SubjectCN: odd, DNSNames: []string{odd}, IPAddresses: nil, IssuerCN: odd, NotBefore: at, NotAfter: at.UTC(),
			SHA256: odd, SelfSigned: true, IsCA: true, Key: odd, Signature: odd, ParseError: odd, Defects: []certs.DefectKind{certs.DefectKind(odd)}}, {}},
		Verdicts: []match.Verdict{{Profile: odd, Name: odd, Host: odd, Match: true, Kind: match.Kind(odd), By: odd, Reason: odd, DNSNames: []string{}, IPs: []string{odd}, CN: odd}, {}},
		Findings: []analysis.Finding{{ID: odd, Severity: analysis.Severity(odd), Profile: odd, Summary: odd,
			Evidence: []analysis.Evidence{{Label: odd, Value: odd, From: odd}, {}}, Why: odd, Remedy: odd, Citation: odd}, {Evidence: []analysis.Evidence{}}},
		Warns: []string{odd}, Error: odd, NotJudged: odd,
		DNS: &record.DNS{Query: odd, Type: "SRV", Rcode: odd, Answers: []record.DNSAnswer{{Type: "SRV", Name: odd, Value: odd, Port: 443},
			{Type: odd, Name: odd, Value: odd, Port: -1, Prio: 10, Weight: 65535, TTL: 1<<32 - 1}, {}}},
		WhatIf: true,
		Origin: []analysis.Cause{{Kind: analysis.CauseKind(odd), From: 3, Field: &exchange.ADField{}, URL: odd, Setting: odd, Text: odd, Hedged: true,
			Either: []analysis.Cause{{Kind: "x", Text: odd}, {}, {Field: &exchange.ADField{Form: exchange.AutodiscoverForm(odd), Block: odd, Element: odd,
				Scope: exchange.Scope(odd), Value: odd, Setting: odd, Port: 993}}}}, {}},
	}, JSONItem{}, JSONItem{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Chain: []certs.Summary{}, Findings: []analysis.Finding{}, Warns: []string{}})
	// Verdicts that each say what the one before says but for one field
	// (copied after the profile only when they all agree).
	v0 := match.Verdict{Profile: "a", Name: "n", Host: "h", Match: true, Kind: "exact", By: "b", Reason: "r", DNSNames: []string{"x", "y"}, IPs: []string{"1.2.3.4"}, CN: "c"}
	vs := []match.Verdict{v0, v0}
	for _, change := range []func(v *match.Verdict){
		func(v *match.Verdict) { v.Name = "n2" }, func(v *match.Verdict) { v.Host = "" }, func(v *match.Verdict) { v.Match = false },
		func(v *match.Verdict) { v.Kind = "none" }, func(v *match.Verdict) { v.By = "" }, func(v *match.Verdict) { v.Reason = "r2" },
		func(v *match.Verdict) { v.DNSNames = []string{} }, func(v *match.Verdict) { v.DNSNames = nil }, func(v *match.Verdict) { v.DNSNames = []string{"x"} },
		func(v *match.Verdict) { v.IPs = nil }, func(v *match.Verdict) { v.IPs = []string{"::1"} }, func(v *match.Verdict) { v.CN = "" },
	} {
		v := v0
		v.Profile = "p" + strings.Repeat("q", len(vs))
		change(&v)
		vs = append(vs, v, v, v0)
	}
	lines = append(lines, JSONItem{Verdicts: vs})
	// Without a cache, then twice through one (JSONWriter's): the second
	// time every finding and name list comes from it.
	c := newLineCache()
	for pass, cache := range []*lineCache{nil, c, c} {
		for i := range lines {
			want, err := encodeLine(t, &lines[i])
			if err != nil {
				t.Fatalf("item %d: encoding/json: %v", i, err)
			}
			got, err := appendItemLine(nil, &lines[i], cache)
			if err != nil {
				t.Fatalf("item %d: %v", i, err)
			}
			if string(got) != want {
				t.Errorf("pass %d, item %d:\n got: %s\nwant: %s", pass, i, got, want)
			}
		}
	}
	// A time encoding/json refuses: the same error, no line.
	bad := JSONItem{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	_, werr := encodeLine(t, &bad)
	_, gerr := appendItemLine(nil, &bad, nil)
	if werr == nil || gerr == nil || gerr.Error() != werr.Error() {
		t.Errorf("year 10000: error %v, encoding/json's %v", gerr, werr)
	}
}

// TestJSONLineFields fails when a type the line writer encodes by hand
// gains, loses or renames a JSON field: appendItemLine, appendCulprit or
// appendPlan (jsonline.go), and for Finding the JSON cache's key
// (jsoncache.go), must then be changed with it.
func TestJSONLineFields(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{JSONItem{}, "type index time source client server connect proxy sni no_sni method host url status location tls_version starttls alpn cert_visibility name name_from chain verdicts findings warns error not_judged dns what_if origin"},
		{certs.Summary{}, "subject_cn dns_names ip_addresses issuer_cn not_before not_after sha256 self_signed is_ca key signature parse_error defects"},
		{match.Verdict{}, "profile name host match kind by reason dns_names ip_addresses subject_cn"},
		{analysis.Finding{}, "id severity profile summary evidence why remedy citation"},
		{analysis.Evidence{}, "label value from"},
		{analysis.Cause{}, "kind from field url setting text hedged either"},
		{exchange.ADField{}, "form block element scope value setting port"},
		{record.DNS{}, "query qtype rcode answers"},
		{record.DNSAnswer{}, "type name value port prio weight ttl"},
		{JSONCulprit{}, "index repeats name url profiles checks verdict origin remedies suggested_name requests connections clients more_clients first_seen last_seen examples"},
		{analysis.Remedy{}, "setting title exchange_version version_assumed command note citation other_versions"},
		{analysis.VersionCommand{}, "versions command"},
		{analysis.ServerPlan{}, "server certificate names get move needs_new"},
		{analysis.PlannedName{}, "name requests covered public why"},
	} {
		rt := reflect.TypeOf(tc.v)
		var got []string
		for f := range rt.Fields() {
			if !f.IsExported() {
				continue // not encoded
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			got = append(got, name)
		}
		if !slices.Equal(got, strings.Fields(tc.want)) {
			t.Errorf("%s has the JSON fields\n%s\nappendItemLine writes\n%s\nchange jsonline.go with the type", rt, strings.Join(got, " "), tc.want)
		}
	}
}

// FuzzJSONString holds appendJSONString equal to json.Marshal of a
// string (HTML-safe escaping, invalid UTF-8 replaced).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a&b>", "\"\\\b\f\n\r\t\x00\x1f\x7f", "é\u2028\u2029", "\xff\xfe\xc3", "日本\U0001F600",
		// Past 8 bytes (the words appendJSONString skips whole), each kind
		// of byte that needs escaping at the end of a word and after it.
		"0123456\"89abcdef", "01234567\\9abcdef", "0123456<", "01234567>", "abcdefg&hijklmno", "abcdefgh\x1fijklmnop",
		"abcdefg\x7fhijklmnop ", "abcdefghé", "abcdefg\u2028", "abcdefghijklmno\xff", "The certificate only covers mail.contoso.com and autodiscover.contoso.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}

// appendCulprit and appendPlan write what json.Marshal writes, with every
// optional field set and without, escapes included.
func TestSummaryEntriesEqualMarshal(t *testing.T) {
	odd := "<a&b> \"q\" \\ \n \x00 é \u2028 \xff"
	at := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)
	culprits := []JSONCulprit{{}, {Repeats: []int{}, Profiles: []string{}, Checks: []string{}, Origin: []analysis.Cause{}, Remedies: []analysis.Remedy{}, Clients: []string{}, Examples: []int{}},
		{Index: 3, Repeats: []int{5, 9}, Name: odd, URL: odd, Profiles: []string{"windows", odd}, Checks: []string{odd}, Verdict: odd,
			Origin:        []analysis.Cause{{Kind: analysis.CauseKind(odd), From: 2, Field: &exchange.ADField{Element: odd, Value: odd}, URL: odd, Setting: odd, Text: odd, Hedged: true, Either: []analysis.Cause{{Text: odd}}}},
			Remedies:      []analysis.Remedy{{Setting: odd, Title: odd, Version: odd, Assumed: true, Command: odd, Note: odd, Citation: odd, Other: []analysis.VersionCommand{{Versions: odd, Command: odd}, {}}}, {}},
			SuggestedName: odd, Requests: 12, Connections: 4, Clients: []string{odd}, MoreClients: 7, FirstSeen: &at, LastSeen: &at, Examples: []int{3, 5, 9}}}
	for i := range culprits {
		want, err := json.Marshal(&culprits[i])
		if err != nil {
			t.Fatal(err)
		}
		if got, err := appendCulprit(nil, &culprits[i]); err != nil || string(got) != string(want) {
			t.Errorf("culprit %d (%v):\n got: %s\nwant: %s", i, err, got, want)
		}
	}
	plans := []analysis.ServerPlan{{}, {Server: odd, Leaf: &certs.Summary{SubjectCN: odd, DNSNames: []string{odd}, NotBefore: at, NotAfter: at, SelfSigned: true, Defects: []certs.DefectKind{"x"}},
		Names: []analysis.PlannedName{{Name: odd, Requests: 3, Covered: true, Public: true, Why: odd}, {}}, Get: []string{odd}, Move: []string{odd}, NeedsNew: true},
		{Names: []analysis.PlannedName{}, Get: []string{}, Move: []string{}}}
	for i := range plans {
		want, err := json.Marshal(&plans[i])
		if err != nil {
			t.Fatal(err)
		}
		if got, err := appendPlan(nil, &plans[i]); err != nil || string(got) != string(want) {
			t.Errorf("plan %d (%v):\n got: %s\nwant: %s", i, err, got, want)
		}
	}
}

// TestPlain8: plain8 says a word is plain exactly when each of its bytes
// is one jsonSafe marks: every byte value at every place of a plain word,
// two at two places, and random words.
func TestPlain8(t *testing.T) {
	safe := func(b byte) bool { return b < 0x80 && jsonSafe[b] }
	want := func(w uint64) bool {
		for k := range 8 {
			if !safe(byte(w >> (8 * k))) {
				return false
			}
		}
		return true
	}
	const base = 0x6162636465666768 // "hgfedcba"
	for k := range 8 {
		for v := range 256 {
			w := base&^(0xff<<(8*k)) | uint64(v)<<(8*k)
			if got := plain8(w); got != want(w) {
				t.Fatalf("plain8(%#016x) = %v", w, got)
			}
			for k2 := range 8 {
				for v2 := range 256 {
					w2 := w&^(0xff<<(8*k2)) | uint64(v2)<<(8*k2)
					if got := plain8(w2); got != want(w2) {
						t.Fatalf("plain8(%#016x) = %v", w2, got)
					}
				}
			}
		}
	}
	x := uint64(0x9e3779b97f4a7c15)
	for range 1 << 20 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if got := plain8(x); got != want(x) {
			t.Fatalf("plain8(%#016x) = %v", x, got)
		}
	}
}
