package main

// The "never fine without looking" audit (issue 14): for each capture,
// every TCP connection in which tshark dissects, in clear, a server
// Certificate handshake message (type 11) or a ServerHello must be one
// certsleuth judged, or one its report counts as not judged. A BREACH is
// a capture with such a connection left unjudged while certsleuth exits
// 0 or its JSON summary says every connection was judged (no
// "not_judged"): the "no request would make a client warn" of a
// connection nobody looked at.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
)

// reportConn is one connection of certsleuth's JSON report.
type reportConn struct {
	client, server string
	// judged: a chain was read and judged (the item has a chain and no
	// not_judged).
	judged bool
	// notJudged is why not, as the report says it ("" when it says
	// nothing: judged, or a TLS connection it does not count at all).
	notJudged string
}

// reportView is what certsleuth's JSON report and exit status say of a
// capture.
type reportView struct {
	conns []reportConn
	exit  int
	// notJudged is the summary's not_judged total (0 when absent: the
	// report says every connection was judged).
	notJudged int
	summary   bool // the summary line was read
}

// parseReport reads certsleuth's JSON Lines report (`--format json`):
// its "connection" items and its summary.
func parseReport(jsonl []byte, exit int) (reportView, error) {
	rv := reportView{exit: exit}
	sc := bufio.NewScanner(bytes.NewReader(jsonl))
	sc.Buffer(nil, 256<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var it struct {
			Type      string            `json:"type"`
			Client    string            `json:"client"`
			Server    string            `json:"server"`
			Chain     []json.RawMessage `json:"chain"`
			NotJudged json.RawMessage   `json:"not_judged"`
		}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return rv, fmt.Errorf("certsleuth's JSON report, line %d: %v", line, err)
		}
		switch it.Type {
		case "connection":
			var why string
			if len(it.NotJudged) > 0 {
				if err := json.Unmarshal(it.NotJudged, &why); err != nil {
					return rv, fmt.Errorf("certsleuth's JSON report, line %d: not_judged: %v", line, err)
				}
			}
			rv.conns = append(rv.conns, reportConn{client: it.Client, server: it.Server, judged: len(it.Chain) > 0 && why == "", notJudged: why})
		case "summary":
			rv.summary = true
			if len(it.NotJudged) > 0 && string(it.NotJudged) != "null" {
				var nj struct{ Unseen, Unreadable, Unknown int }
				if err := json.Unmarshal(it.NotJudged, &nj); err != nil {
					return rv, fmt.Errorf("certsleuth's JSON report, line %d: summary not_judged: %v", line, err)
				}
				rv.notJudged = nj.Unseen + nj.Unreadable + nj.Unknown
			}
		}
	}
	if err := sc.Err(); err != nil {
		return rv, fmt.Errorf("certsleuth's JSON report: %v", err)
	}
	return rv, nil
}

// auditResult is the audit of one capture.
type auditResult struct {
	// cert and hello count the connections tshark saw a server
	// Certificate message (cert) or only a ServerHello (hello) in clear
	// on, that certsleuth did not judge.
	cert, hello int
	// missing lists those of them certsleuth has no connection for at
	// all ("client -> server"); uncounted those it has, not judged, whose
	// item does not say so (no not_judged); the others it has and says
	// not judged.
	missing, uncounted []string
	// silent lists the flows where tshark reads TLS records but no
	// ServerHello or server certificate in clear (the middle of a connection, or a
	// handshake it could not dissect) that certsleuth has no connection
	// for at all.
	silent []string
	exit   int
	// claimsAll: certsleuth exited 0 or its summary says every
	// connection was judged.
	claimsAll bool
	summary   bool
}

// breach: a connection with a certificate or ServerHello in clear was
// not judged, and certsleuth said all was judged.
func (a auditResult) breach() bool { return a.cert+a.hello > 0 && a.claimsAll }

// audit pairs tshark's flows with certsleuth's report connections by
// endpoints, in the order they start (as compare does), and counts the
// flows with a server Certificate or ServerHello in clear that
// certsleuth did not judge.
func audit(ts []*flowView, rv reportView) auditResult {
	a := auditResult{exit: rv.exit, summary: rv.summary, claimsAll: rv.exit == 0 || rv.notJudged == 0}
	byKey := map[string][]reportConn{}
	for _, c := range rv.conns {
		k := flowKey(&flowView{client: c.client, server: c.server})
		byKey[k] = append(byKey[k], c)
	}
	for _, v := range ts {
		k := flowKey(v)
		var c *reportConn
		if l := byKey[k]; len(l) > 0 {
			c = &l[0]
			byKey[k] = l[1:]
		}
		if !v.certMsg && !v.hello {
			if c == nil {
				a.silent = append(a.silent, v.client+" -> "+v.server)
			}
			continue
		}
		if c != nil && c.judged {
			continue
		}
		if v.certMsg {
			a.cert++
		} else {
			a.hello++
		}
		switch {
		case c == nil:
			a.missing = append(a.missing, v.client+" -> "+v.server)
		case c.notJudged == "":
			a.uncounted = append(a.uncounted, v.client+" -> "+v.server)
		}
	}
	return a
}

// lines are what the audit prints for file: a SILENT line naming the
// flows where tshark reads TLS records but no ServerHello or certificate that
// certsleuth has no connection for (not a breach by the rule: no
// certificate is known to be there, but certsleuth says nothing of a TLS
// connection); a BREACH line; and, breach
// or not, a line naming the flows certsleuth has no connection for, and
// one naming its connections neither judged nor said not judged (tagged
// BREACH with a breach, else UNSEEN and UNCOUNTED: the report does say
// something was not judged, but not of these).
func (a auditResult) lines(file string) []string {
	var out []string
	if len(a.silent) > 0 {
		out = append(out, fmt.Sprintf("SILENT %s: tshark reads TLS records (no ServerHello or certificate) on %s certsleuth has no connection for (certsleuth: exit %d): %s",
			file, analysis.Plural(len(a.silent), "connection"), a.exit, strings.Join(a.silent, ", ")))
	}
	if a.cert+a.hello == 0 {
		return out
	}
	what := analysis.Plural(a.cert, "connection") + " with a certificate in clear"
	switch {
	case a.cert == 0:
		what = analysis.Plural(a.hello, "connection") + " with a ServerHello in clear"
	case a.hello > 0:
		what += fmt.Sprintf(" (and %d more with a ServerHello in clear)", a.hello)
	}
	if a.breach() {
		why := "exit 0"
		if a.exit != 0 {
			why = fmt.Sprintf("exit %d, summary without not_judged", a.exit)
			if !a.summary {
				why = fmt.Sprintf("exit %d, no JSON summary", a.exit)
			}
		}
		out = append(out, fmt.Sprintf("BREACH %s: %s not judged; certsleuth: %s", file, what, why))
	}
	tag := func(t string) string {
		if a.breach() {
			return "BREACH"
		}
		return t
	}
	if len(a.missing) > 0 {
		out = append(out, fmt.Sprintf("%s %s: no certsleuth connection for %s", tag("UNSEEN"), file, strings.Join(a.missing, ", ")))
	}
	if len(a.uncounted) > 0 {
		out = append(out, fmt.Sprintf("%s %s: certsleuth neither judged nor counted as not judged %s", tag("UNCOUNTED"), file, strings.Join(a.uncounted, ", ")))
	}
	return out
}

// auditTally sums the audits of several captures.
type auditTally struct {
	files, breachFiles, breachConns, unseenFiles, unseenConns, uncountedConns, silentConns int
}

func (t *auditTally) add(a auditResult) {
	t.files++
	if a.breach() {
		t.breachFiles++
		t.breachConns += a.cert + a.hello
	} else if len(a.missing)+len(a.uncounted) > 0 {
		t.unseenFiles++
	}
	t.unseenConns += len(a.missing)
	t.uncountedConns += len(a.uncounted)
	t.silentConns += len(a.silent)
}

func (t auditTally) String() string {
	return fmt.Sprintf("%d BREACH (%d connections with a certificate or ServerHello in clear not judged while certsleuth says all was); "+
		"%d more files where certsleuth says something was not judged but misses some such connection; "+
		"%d such connections without any certsleuth connection, %d neither judged nor counted as not judged; "+
		"%d connections with TLS records but no ServerHello or certificate in clear without any certsleuth connection (SILENT)",
		t.breachFiles, t.breachConns, t.unseenFiles, t.unseenConns, t.uncountedConns, t.silentConns)
}
