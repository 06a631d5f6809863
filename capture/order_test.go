package capture

import (
	"bytes"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
	"github.com/gopacket/gopacket/layers"
)

// streamFile writes f and streams it, returning the observations and the
// most observations that were ever waiting at once.
func streamFile(t *testing.T, f *capFile, spec fileSpec, opts ...Options) ([]*record.Observation, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.pcap")
	f.write(path, spec)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	most := 0
	released = func(n int) { most = max(most, n) }
	defer func() { released = nil }()
	var obs []*record.Observation
	_, err = Stream(bytes.NewReader(data), "s.pcap", o, func(o *record.Observation) error {
		obs = append(obs, o)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Read must give the same observations in the same order.
	res, err := Read(bytes.NewReader(data), "s.pcap", o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Observations) != len(obs) {
		t.Fatalf("Read: %d observations, Stream: %d", len(res.Observations), len(obs))
	}
	for i := range obs {
		if res.Observations[i].Conn != obs[i].Conn || !res.Observations[i].Time.Equal(obs[i].Time) {
			t.Fatalf("observation %d: Read %s at %v, Stream %s at %v", i, res.Observations[i].Conn, res.Observations[i].Time, obs[i].Conn, obs[i].Time)
		}
	}
	return obs, most
}

func checkOrdered(t *testing.T, obs []*record.Observation) {
	t.Helper()
	for i := 1; i < len(obs); i++ {
		if obs[i].Time.Before(obs[i-1].Time) {
			t.Fatalf("observation %d (%s at %v) comes after %d (%s at %v)", i, obs[i].Conn, obs[i].Time, i-1, obs[i-1].Conn, obs[i-1].Time)
		}
	}
}

func countKind(obs []*record.Observation, k record.Kind) int {
	n := 0
	for _, o := range obs {
		if o.Kind == k {
			n++
		}
	}
	return n
}

// TestStreamBounded: on a capture of many complete connections the
// observations are handed over as the capture goes, so only those of the
// last moments (timeSlack) wait, however many connections the file holds.
func TestStreamBounded(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	const conns = 400
	f := newCapFile(t)
	for i := range conns {
		f.tcp(cli1+":"+strconv.Itoa(20000+i), mailIP+":443", 0, conv, segOpts{})
		f.pause(80 * time.Millisecond) // about 100 ms a connection: 20 fit in timeSlack
	}
	obs, most := streamFile(t, f, ethOnly)
	if got := countKind(obs, record.KindTLS); got != conns {
		t.Fatalf("%d TLS observations, want %d", got, conns)
	}
	checkOrdered(t, obs)
	if most > 40 {
		t.Errorf("up to %d observations waited at once; want about 20 (those within %v of the newest packet)", most, time.Duration(timeSlack))
	}
	// Live: each goes out as soon as its handshake has been read.
	obs, most = streamFile(t, f, ethOnly, Options{Live: true})
	if len(obs) != conns {
		t.Fatalf("live: %d observations, want %d", len(obs), conns)
	}
	if most > 1 {
		t.Errorf("live: up to %d observations waited at once; want none", most)
	}
}

// TestStreamForcesOneSided: a connection seen in one direction only (the
// server's packets missing, no FIN) would hold back every observation
// after it until the end of the file; past waitLimit it is reported as it
// stands, first, and the rest flows again.
func TestStreamForcesOneSided(t *testing.T) {
	waitLimit = 16
	defer func() { waitLimit = maxWaiting }()
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	f := newCapFile(t)
	var hello []chunk
	for _, c := range conv {
		if c.fromClient {
			hello = append(hello, c)
			break // the ClientHello only
		}
	}
	f.tcp(cliPort(1), mailIP+":443", 0, hello, segOpts{})
	f.pkts = f.pkts[:len(f.pkts)-3] // no FIN: the connection never closes
	const conns = 100
	for i := range conns {
		f.tcp(cli1+":"+strconv.Itoa(20000+i), mailIP+":443", 0, conv, segOpts{})
		f.pause(80 * time.Millisecond)
	}
	obs, most := streamFile(t, f, ethOnly)
	if got := countKind(obs, record.KindTLS); got != conns+1 {
		t.Fatalf("%d TLS observations, want %d", got, conns+1)
	}
	checkOrdered(t, obs)
	if obs[0].Conn != "tcp#1" || obs[0].Visibility != record.VisMissing || !strings.Contains(obs[0].Note, "did not answer") || !strings.Contains(obs[0].Note, "stopped following it") {
		t.Errorf("first observation: %s %s %q; want tcp#1, missing, the server did not answer, and that it was reported early", obs[0].Conn, obs[0].Visibility, obs[0].Note)
	}
	for _, o := range obs[1:] {
		if strings.Contains(o.Note, "stopped following") {
			t.Errorf("%s says it was reported early; it was not", o.Conn)
		}
	}
	if most > waitLimit+1 {
		t.Errorf("up to %d observations waited at once; want at most %d", most, waitLimit+1)
	}
}

// TestStreamUnansweredDNS: a query that never gets its answer is reported
// once dnsWait has passed, not at the end of the file, and a late answer
// is reported on its own.
func TestStreamUnansweredDNS(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	f := newCapFile(t)
	q := layers.DNSQuestion{Name: []byte("autodiscover.contoso.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}
	f.dns(cli1+":5353", dnsIP+":53", 0, 7, q, aRecord("autodiscover.contoso.test", mailIP))
	f.pkts = f.pkts[:len(f.pkts)-1] // the answer is lost
	const conns = 200
	for i := range conns {
		f.tcp(cli1+":"+strconv.Itoa(20000+i), mailIP+":443", 0, conv, segOpts{})
		f.pause(500 * time.Millisecond) // 100 s in all
	}
	obs, most := streamFile(t, f, ethOnly)
	checkOrdered(t, obs)
	if obs[0].Kind != record.KindDNS || obs[0].Note != "no answer in the capture" {
		t.Errorf("first observation: %s %q; want the unanswered DNS query", obs[0].Kind, obs[0].Note)
	}
	// The query is given up at the first sweep after dnsWait: by then
	// (dnsWait+sweepEvery)/500ms connections wait behind it, not all 200.
	if limit := int((time.Duration(dnsWait)+sweepEvery)/(500*time.Millisecond)) + 5; most > limit {
		t.Errorf("up to %d observations waited at once (want at most %d): the unanswered query held them back", most, limit)
	}
}

// TestStreamTimeSteps: packets of two interfaces merged with timestamps a
// second apart keep the start-time order.
func TestStreamTimeSteps(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	f := newCapFile(t)
	f.tcp(cliPort(1), mailIP+":443", 0, conv, segOpts{})
	f.clock = f.clock.Add(-time.Second) // the second interface's clock is behind
	f.tcp(cliPort(2), mailIP+":443", 1, conv, segOpts{})
	obs, _ := streamFile(t, f, fileSpec{ng: true, links: []link{linkEth, linkSLL2}})
	if len(obs) != 2 || obs[0].Conn != "tcp#2" || obs[1].Conn != "tcp#1" {
		var got []string
		for _, o := range obs {
			got = append(got, o.Conn)
		}
		t.Fatalf("order %v; want [tcp#2 tcp#1] (by start time)", got)
	}
}

// TestStreamEmitError: an error from emit stops the reading and comes back
// unchanged.
func TestStreamEmitError(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	f := newCapFile(t)
	for i := range 10 {
		f.tcp(cli1+":"+strconv.Itoa(20000+i), mailIP+":443", 0, conv, segOpts{})
	}
	path := filepath.Join(t.TempDir(), "e.pcap")
	f.write(path, ethOnly)
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	stop := errors.New("disk full")
	calls := 0
	_, err = Stream(in, "e.pcap", Options{}, func(*record.Observation) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("Stream returned %v; want the emit error", err)
	}
	if calls != 3 {
		t.Errorf("emit called %d times; want 3 (none after the error)", calls)
	}
}
