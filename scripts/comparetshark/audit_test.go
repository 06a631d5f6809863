package main

import (
	"reflect"
	"strings"
	"testing"
)

// tsLine is one line of tshark's fields output (tsharkFields, in order)
// for a packet from src to dst ("ip:port", IPv4).
func tsLine(stream, src, dst, contentTypes, hsTypes, cert string) string {
	sip, sport, _ := strings.Cut(src, ":")
	dip, dport, _ := strings.Cut(dst, ":")
	f := []string{stream, sip, "", sport, dip, "", dport, "100", "100", contentTypes, hsTypes, "", "", "", "", cert, "", "eth:ethertype:ip:tcp:tls", ""}
	return strings.Join(f, "\t")
}

const (
	cli  = "10.0.0.1:50000"
	srv  = "10.0.0.2:443"
	cli2 = "10.0.0.1:50001"
)

// Three flows as tshark dissects them: a full TLS 1.2 handshake (a
// Certificate in clear), a TLS 1.3 one (ServerHello only) and
// application data only (no hello).
var tsharkOut = strings.Join([]string{
	tsLine("0", cli, srv, "22", "1", ""),
	tsLine("0", srv, cli, "22", "2|11|14", "30:03:02:01:01"),
	tsLine("1", cli2, srv, "22", "1", ""),
	tsLine("1", srv, cli2, "22|20|23", "2", ""),
	tsLine("2", "10.0.0.1:50002", srv, "23", "", ""),
}, "\n") + "\n"

func TestParseTsharkAuditFlags(t *testing.T) {
	views := parseTshark([]byte(tsharkOut), false)
	type flags struct{ certMsg, hello bool }
	var got []flags
	for _, v := range views {
		got = append(got, flags{v.certMsg, v.hello})
	}
	want := []flags{{true, true}, {false, true}, {false, false}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("certMsg/hello of the three flows: got %v, want %v", got, want)
	}
}

func TestParseReport(t *testing.T) {
	tests := []struct {
		name    string
		jsonl   string
		want    reportView
		wantErr string
	}{
		{
			name: "judged, not judged, no chain without not_judged; summary with not_judged",
			jsonl: `{"type":"connection","client":"10.0.0.1:50000","server":"10.0.0.2:443","chain":[{"subject_cn":"a"}]}
{"type":"connection","client":"10.0.0.1:50001","server":"10.0.0.2:443","chain":null,"not_judged":"certificate not seen"}
{"type":"connection","client":"10.0.0.1:50002","server":"10.0.0.2:443","chain":[]}
{"type":"dns","client":"","server":""}
{"type":"summary","not_judged":{"unseen":1,"unreadable":0,"unknown":2,"client_alert":0}}
`,
			want: reportView{exit: 3, notJudged: 3, summary: true, conns: []reportConn{
				{client: cli, server: srv, judged: true},
				{client: cli2, server: srv, notJudged: "certificate not seen"},
				{client: "10.0.0.1:50002", server: srv},
			}},
		},
		{
			name:  "summary without not_judged",
			jsonl: `{"type":"summary","observations":0}` + "\n",
			want:  reportView{exit: 0, summary: true},
		},
		{
			name:  "a chain read but not judged (client verdict unknown)",
			jsonl: `{"type":"connection","client":"10.0.0.1:50000","server":"10.0.0.2:443","chain":[{}],"not_judged":"client verdict unknown"}` + "\n",
			want:  reportView{exit: 3, conns: []reportConn{{client: cli, server: srv, notJudged: "client verdict unknown"}}},
		},
		{
			name:    "not JSON",
			jsonl:   "{\"type\":\"summary\"}\nnot json\n",
			wantErr: "line 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseReport([]byte(tt.jsonl), tt.want.exit)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAudit(t *testing.T) {
	judged := func(c string) reportConn { return reportConn{client: c, server: srv, judged: true} }
	unseen := func(c string) reportConn {
		return reportConn{client: c, server: srv, notJudged: "certificate not seen"}
	}
	mid := unseen("10.0.0.1:50002") // the application-data-only flow, not-captured
	tests := []struct {
		name      string
		report    reportView
		wantLines []string
		breach    bool
	}{
		{
			name:   "both handshakes judged or counted: nothing to say",
			report: reportView{exit: 3, notJudged: 2, conns: []reportConn{judged(cli), unseen(cli2), mid}},
		},
		{
			name:   "exit 0 with no connection at all",
			report: reportView{exit: 0},
			breach: true,
			wantLines: []string{
				"SILENT f.pcap: tshark reads TLS records (no ServerHello or certificate) on 1 connection certsleuth has no connection for (certsleuth: exit 0): 10.0.0.1:50002 -> 10.0.0.2:443",
				"BREACH f.pcap: 1 connection with a certificate in clear (and 1 more with a ServerHello in clear) not judged; certsleuth: exit 0",
				"BREACH f.pcap: no certsleuth connection for 10.0.0.1:50000 -> 10.0.0.2:443, 10.0.0.1:50001 -> 10.0.0.2:443",
			},
		},
		{
			name:   "the certificate's connection missing, exit 1 for the other, summary without not_judged",
			report: reportView{exit: 1, summary: true, conns: []reportConn{judged(cli2), mid}},
			breach: true,
			wantLines: []string{
				"BREACH f.pcap: 1 connection with a certificate in clear not judged; certsleuth: exit 1, summary without not_judged",
				"BREACH f.pcap: no certsleuth connection for 10.0.0.1:50000 -> 10.0.0.2:443",
			},
		},
		{
			name:   "exit 3 for the TLS 1.3 one, the certificate's connection missing: not a breach, but unseen",
			report: reportView{exit: 3, notJudged: 2, summary: true, conns: []reportConn{unseen(cli2), mid}},
			wantLines: []string{
				"UNSEEN f.pcap: no certsleuth connection for 10.0.0.1:50000 -> 10.0.0.2:443",
			},
		},
		{
			name:   "a connection with no chain and no not_judged, exit 3 for another reason",
			report: reportView{exit: 3, notJudged: 2, summary: true, conns: []reportConn{{client: cli, server: srv}, unseen(cli2), mid}},
			wantLines: []string{
				"UNCOUNTED f.pcap: certsleuth neither judged nor counted as not judged 10.0.0.1:50000 -> 10.0.0.2:443",
			},
		},
		{
			name:   "exit 2 (corrupt file) without JSON summary",
			report: reportView{exit: 2, conns: []reportConn{judged(cli), mid}},
			breach: true,
			wantLines: []string{
				"BREACH f.pcap: 1 connection with a ServerHello in clear not judged; certsleuth: exit 2, no JSON summary",
				"BREACH f.pcap: no certsleuth connection for 10.0.0.1:50001 -> 10.0.0.2:443",
			},
		},
		{
			name:   "the application-data-only flow counted not judged: nothing to say",
			report: reportView{exit: 3, notJudged: 1, summary: true, conns: []reportConn{judged(cli), judged(cli2), mid}},
		},
		{
			name:   "the application-data-only flow missing: silent, not a breach",
			report: reportView{exit: 0, summary: true, conns: []reportConn{judged(cli), judged(cli2)}},
			wantLines: []string{
				"SILENT f.pcap: tshark reads TLS records (no ServerHello or certificate) on 1 connection certsleuth has no connection for (certsleuth: exit 0): 10.0.0.1:50002 -> 10.0.0.2:443",
			},
		},
	}
	ts := parseTshark([]byte(tsharkOut), false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := audit(ts, tt.report)
			if a.breach() != tt.breach {
				t.Errorf("breach %v, want %v", a.breach(), tt.breach)
			}
			if got := a.lines("f.pcap"); !reflect.DeepEqual(got, tt.wantLines) {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantLines, "\n"))
			}
		})
	}
}

// Two connections on the same endpoints (a reused port): tshark's flows
// pair with certsleuth's in the order they start, so the second
// handshake, missing from certsleuth, is the one flagged.
func TestAuditReusedEndpoints(t *testing.T) {
	out := strings.Join([]string{
		tsLine("0", cli, srv, "22", "1", ""),
		tsLine("0", srv, cli, "22", "2|11", "30:00"),
		tsLine("1", cli, srv, "22", "1", ""),
		tsLine("1", srv, cli, "22", "2|11", "30:01"),
	}, "\n")
	ts := parseTshark([]byte(out), false)
	a := audit(ts, reportView{exit: 0, summary: true, conns: []reportConn{{client: cli, server: srv, judged: true}}})
	if !a.breach() || a.cert != 1 || len(a.missing) != 1 {
		t.Fatalf("got %+v, want a breach: 1 certificate not judged, 1 flow missing", a)
	}
}

func TestAuditTally(t *testing.T) {
	var tt auditTally
	tt.add(auditResult{cert: 2, hello: 1, claimsAll: true, missing: []string{"a", "b"}})
	tt.add(auditResult{cert: 1, missing: []string{"c"}})
	tt.add(auditResult{silent: []string{"d"}})
	want := auditTally{files: 3, breachFiles: 1, breachConns: 3, unseenFiles: 1, unseenConns: 3, silentConns: 1}
	if tt != want {
		t.Fatalf("got %+v, want %+v", tt, want)
	}
}
