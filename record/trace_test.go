package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func sampleObs(i int, chain [][]byte) *Observation {
	return &Observation{
		Kind: KindHTTP, Source: SourceProxy, Time: time.Date(2026, 11, 22, 10, 0, i, 0, time.UTC),
		Client: "127.0.0.1:50000", Server: "[::1]:443", Connect: "exch01.contoso.local:443", SNI: "exch01.contoso.local",
		Method: "POST", Host: "exch01.contoso.local", URL: "https://exch01.contoso.local/EWS/Exchange.asmx",
		TLSVersion: "TLS 1.2", Status: 200, Chain: chain, Visibility: VisVisible,
	}
}

func writeTrace(t *testing.T, obs ...*Observation) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range obs {
		if err := w.Write(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	chain := [][]byte{[]byte("leaf-der"), []byte("intermediate-der")}
	in := []*Observation{sampleObs(1, chain), sampleObs(2, nil), {Kind: KindDNS, Source: SourcePcap, DNS: &DNS{Query: "_autodiscover._tcp.contoso.com", Type: "SRV", Answers: []DNSAnswer{{Type: "SRV", Name: "_autodiscover._tcp.contoso.com", Value: "mail.contoso.com", Port: 443}}}}}
	data := writeTrace(t, in...)
	out, rd, err := ReadAll(bytes.NewReader(data), "t.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.Errors) != 0 || rd.Truncated {
		t.Fatalf("clean trace reported problems: %v truncated=%v", rd.Errors, rd.Truncated)
	}
	if len(out) != 3 {
		t.Fatalf("read %d observations, want 3", len(out))
	}
	if rd.Header.Version != Version || rd.Header.Producer != "test" {
		t.Errorf("header = %+v", rd.Header)
	}
	if string(out[0].Chain[1]) != "intermediate-der" || out[0].ChainID != ChainID(chain) {
		t.Errorf("chain not restored: %q id %s", out[0].Chain, out[0].ChainID)
	}
	if out[1].Chain != nil || out[0].URL != in[0].URL || !out[0].Time.Equal(in[0].Time) {
		t.Errorf("fields differ after round trip: %+v", out[0])
	}
	if out[2].DNS == nil || out[2].DNS.Answers[0].Port != 443 {
		t.Errorf("DNS not restored: %+v", out[2].DNS)
	}
}

func TestChainStoredOnce(t *testing.T) {
	chain := [][]byte{bytes.Repeat([]byte{0x30}, 2000)}
	var obs []*Observation
	for i := 0; i < 1000; i++ {
		obs = append(obs, sampleObs(i%60, chain))
	}
	data := writeTrace(t, obs...)
	if n := bytes.Count(data, []byte(`"type":"chain"`)); n != 1 {
		t.Fatalf("chain written %d times, want once", n)
	}
	// 1000 observations must not carry 1000 copies of the 2000-byte chain.
	if len(data) > 1000*600 {
		t.Errorf("trace is %d bytes for 1000 observations of one chain; chains are not deduplicated", len(data))
	}
	out, _, err := ReadAll(bytes.NewReader(data), "t")
	if err != nil || len(out) != 1000 || len(out[999].Chain[0]) != 2000 {
		t.Fatalf("read back %d observations, err %v", len(out), err)
	}
}

func TestReaderTolerance(t *testing.T) {
	good := string(writeTrace(t, sampleObs(1, [][]byte{[]byte("x")}), sampleObs(2, nil)))
	lines := strings.SplitAfter(good, "\n")
	// lines: header, chain, obs1, obs2, ""
	tests := []struct {
		name       string
		in         string
		wantObs    int
		wantErrs   []int // line numbers reported bad
		truncated  bool
		fatal      error
		fatalMatch string
	}{
		{name: "clean", in: good, wantObs: 2},
		{name: "truncated last line", in: good[:len(good)-20], wantObs: 1, truncated: true},
		{name: "garbage line in the middle", in: lines[0] + lines[1] + "{not json\n" + lines[2] + lines[3], wantObs: 2, wantErrs: []int{3}},
		{name: "unknown chain", in: lines[0] + lines[2] + lines[3], wantObs: 1, wantErrs: []int{2}},
		{name: "altered chain", in: lines[0] + strings.Replace(lines[1], `"certs":["`, `"certs":["AA`, 1) + lines[2], wantObs: 0, wantErrs: []int{2, 3}},
		{name: "blank lines", in: lines[0] + "\n\n" + lines[1] + lines[2], wantObs: 1},
		{name: "invalid UTF-8 reported, not replaced", in: lines[0] + lines[1] + strings.Replace(lines[2], "EWS", "E\xffS", 1) + lines[3], wantObs: 1, wantErrs: []int{3}},
		{name: "valid non-ASCII kept", in: lines[0] + lines[1] + strings.Replace(lines[2], "EWS", "EWé", 1), wantObs: 1},
		{name: "unknown line type ignored", in: lines[0] + `{"type":"future","x":1}` + "\n" + lines[1] + lines[2], wantObs: 1},
		{name: "missing type", in: lines[0] + `{"kind":"tls"}` + "\n", wantObs: 0, wantErrs: []int{2}},
		{name: "second header", in: lines[0] + lines[0], wantObs: 0, wantErrs: []int{2}},
		{name: "empty file", in: "", fatal: ErrNotTrace},
		{name: "not a trace", in: "hello\n", fatal: ErrNotTrace},
		{name: "newer version", in: `{"type":"header","format":"certsleuth-trace","version":99}` + "\n", fatalMatch: "version 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, rd, err := ReadAll(strings.NewReader(tt.in), "t.jsonl")
			switch {
			case tt.fatal != nil:
				if !errors.Is(err, tt.fatal) {
					t.Fatalf("err = %v, want %v", err, tt.fatal)
				}
				return
			case tt.fatalMatch != "":
				if err == nil || !strings.Contains(err.Error(), tt.fatalMatch) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.fatalMatch)
				}
				return
			case err != nil:
				t.Fatalf("unexpected fatal error: %v", err)
			}
			if len(out) != tt.wantObs {
				t.Errorf("got %d observations, want %d", len(out), tt.wantObs)
			}
			var got []int
			for _, e := range rd.Errors {
				got = append(got, e.Line)
				if !strings.HasPrefix(e.Error(), "t.jsonl:") {
					t.Errorf("line error %q does not name the file", e)
				}
			}
			if len(got) != len(tt.wantErrs) {
				t.Fatalf("bad lines = %v, want %v (%v)", got, tt.wantErrs, rd.Errors)
			}
			for i := range got {
				if got[i] != tt.wantErrs[i] {
					t.Errorf("bad lines = %v, want %v", got, tt.wantErrs)
				}
			}
			if rd.Truncated != tt.truncated {
				t.Errorf("Truncated = %v, want %v", rd.Truncated, tt.truncated)
			}
		})
	}
}

func TestNamesAndAskedName(t *testing.T) {
	tests := []struct {
		name     string
		o        Observation
		want     string
		wantFrom NameSource
	}{
		{"sni first", Observation{SNI: "a.contoso.com", Connect: "b.contoso.com:443", URL: "https://c.contoso.com/x"}, "a.contoso.com", FromSNI},
		{"connect without sni", Observation{Connect: "b.contoso.com:443", NoSNI: true}, "b.contoso.com", FromConnect},
		{"ipv6 connect", Observation{Connect: "[2001:db8::1]:443"}, "2001:db8::1", FromConnect},
		{"url host", Observation{URL: "https://c.contoso.com:8443/EWS"}, "c.contoso.com", FromURL},
		{"host header", Observation{Host: "d.contoso.com:80"}, "d.contoso.com", FromHost},
		{"dns name", Observation{DNSName: "e.contoso.com"}, "e.contoso.com", FromDNS},
		{"nothing", Observation{Server: "10.0.0.1:443"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, f := tt.o.AskedName()
			if n != tt.want || f != tt.wantFrom {
				t.Errorf("AskedName = %q, %q; want %q, %q", n, f, tt.want, tt.wantFrom)
			}
			if all := tt.o.Names(); len(all) > 0 && (all[0].Name != n || all[0].From != f) {
				t.Errorf("AskedName = %q, %q; the first of Names is %v", n, f, all[0])
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriterReportsErrors(t *testing.T) {
	w, err := NewWriter(failWriter{}, "test")
	if err != nil {
		t.Fatal(err) // buffered: the header has not hit the disk yet
	}
	big := sampleObs(1, [][]byte{bytes.Repeat([]byte("x"), 100<<10)})
	if err := w.Write(big); err == nil {
		if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("Flush error = %v, want disk full", err)
		}
	}
}

func FuzzReader(f *testing.F) {
	seed := func(obs ...*Observation) []byte {
		var buf bytes.Buffer
		w, _ := NewWriter(&buf, "fuzz")
		for _, o := range obs {
			w.Write(o)
		}
		w.Close()
		return buf.Bytes()
	}
	f.Add(seed(sampleObs(1, [][]byte{[]byte("leaf")}), sampleObs(2, nil)))
	f.Add([]byte(`{"type":"header","format":"certsleuth-trace","version":1}` + "\n" + `{"type":"obs","chain":"00"}`))
	f.Add([]byte("{}\n{}\n"))
	var tb bytes.Buffer // a trust line and its root
	if w, err := NewWriter(&tb, "fuzz"); err == nil {
		w.WriteTrust(Trust{System: true, Roots: [][]byte{[]byte("root")}, From: "--ca-file x.pem"})
		w.Write(sampleObs(1, [][]byte{[]byte("leaf")}))
		w.Close()
		f.Add(tb.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data), "fuzz")
		for i := 0; i < 100000; i++ {
			o, err := rd.Next()
			if err == io.EOF || err != nil {
				return
			}
			if o == nil {
				t.Fatal("Next returned nil observation and nil error")
			}
			if o.ChainID != "" && ChainID(o.Chain) != o.ChainID {
				t.Fatalf("observation chain does not match its ID")
			}
			// Invalid UTF-8 is reported, never turned into U+FFFD silently.
			if b, _ := json.Marshal(o); bytes.Contains(b, []byte("\uFFFD")) && !bytes.Contains(data, []byte("\uFFFD")) && !bytes.Contains(data, []byte(`\u`)) {
				t.Fatalf("an observation holds U+FFFD that the input did not: %s", b)
			}
		}
	})
}
