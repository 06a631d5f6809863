package capture

import (
	"bytes"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
	"github.com/gopacket/gopacket/layers"
)

// streamAll reads files with StreamFiles.
func streamAll(t *testing.T, files ...string) ([]*record.Observation, error) {
	t.Helper()
	var ins []Input
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, Input{R: bytes.NewReader(data), Name: f})
	}
	var obs []*record.Observation
	_, err := StreamFiles(ins, Options{}, func(o *record.Observation) error {
		obs = append(obs, o)
		return nil
	})
	return obs, err
}

// TestStreamFilesRing: a capture cut into two files in the middle of a
// TLS handshake (as tcpdump -C does) is one connection with its
// certificate when both files are read together, whatever their order on
// the command line, and the DNS answer in the first file names the
// connection without SNI in the second.
func TestStreamFilesRing(t *testing.T) {
	p := newGenPKI(t)
	f := newCapFile(t)
	q := layers.DNSQuestion{Name: []byte("mail.contoso.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}
	f.dns(cli1+":5353", dnsIP+":53", 0, 3, q, aRecord("mail.contoso.test", mailIP))
	f.tcp(cliPort(1), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{mss: 300})
	f.tcp(cliPort(2), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}), segOpts{})
	all := f.pkts
	dir := t.TempDir()
	one := filepath.Join(dir, "ring.pcap0")
	two := filepath.Join(dir, "ring.pcap1")
	split := 8 // inside the first connection's server flight (300-byte segments)
	f.pkts = all[:split]
	f.write(one, ethOnly)
	f.pkts = all[split:]
	f.write(two, ethOnly)

	for _, order := range [][]string{{one, two}, {two, one}} {
		obs, err := streamAll(t, order...)
		if err != nil {
			t.Fatal(err)
		}
		var tlsObs []*record.Observation
		for _, o := range obs {
			if o.Kind == record.KindTLS {
				tlsObs = append(tlsObs, o)
			}
		}
		if len(tlsObs) != 2 {
			t.Fatalf("%v: %d TLS connections; want 2", order, len(tlsObs))
		}
		if o := tlsObs[0]; o.SNI != "autodiscover.contoso.test" || o.Visibility != record.VisVisible || !strings.HasPrefix(o.Conn, "ring.pcap0:") {
			t.Errorf("%v: the connection across the cut: %s %s %q; want visible, autodiscover.contoso.test, ring.pcap0:...", order, o.Conn, o.Visibility, o.SNI)
		}
		if o := tlsObs[1]; !o.NoSNI || o.DNSName != "mail.contoso.test" || !strings.HasPrefix(o.Conn, "ring.pcap1:") {
			t.Errorf("%v: the connection without SNI: %s no-SNI %v, DNS name %q; want mail.contoso.test from the first file's answer", order, o.Conn, o.NoSNI, o.DNSName)
		}
	}

	// Read alone, the second file has only the middle of the first connection.
	obs, err := streamAll(t, two)
	if err != nil {
		t.Fatal(err)
	}
	if obs[0].Kind != record.KindTLS || obs[0].Visibility == record.VisVisible {
		t.Errorf("second file alone: %s %s; the test does not cut the handshake", obs[0].Kind, obs[0].Visibility)
	}
}

// TestStreamFilesCorrupt: a file corrupt partway ends there, with its own
// name and packet number, while the other file is read to its end; a file
// that is not a capture stops everything.
func TestStreamFilesCorrupt(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12))
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	f := newCapFile(t)
	f.tcp(cliPort(1), mailIP+":443", 0, conv, segOpts{})
	f.write(a, ethOnly)
	f = newCapFile(t)
	f.pause(time.Second)
	for i := range 3 {
		f.tcp(cliPort(10+i), mailIP+":443", 0, conv, segOpts{})
	}
	f.write(b, ethOnly)
	data, _ := os.ReadFile(a)
	os.WriteFile(a, data[:len(data)-7], 0o644) // cut in the last packet

	obs, err := streamAll(t, a, b)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Name != a || ce.Packet < 2 {
		t.Fatalf("error %v; want a *CorruptError for %s", err, a)
	}
	if n := len(obs); n != 4 {
		t.Errorf("%d observations; want 4 (a's connection and b's three)", n)
	}

	bad := filepath.Join(dir, "notes.txt")
	os.WriteFile(bad, []byte("not a capture at all"), 0o644)
	if _, err := streamAll(t, b, bad); !errors.Is(err, ErrNotCapture) || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("error %v; want ErrNotCapture naming notes.txt", err)
	}
}

// TestDNSAttributionOwnAnswer: a connection without SNI gets the name its
// own client resolved to the address, even after many other clients
// resolved other names to it; a client with no answer of its own gets the
// latest any client got.
func TestDNSAttributionOwnAnswer(t *testing.T) {
	p := newGenPKI(t)
	noSNI := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	f := newCapFile(t)
	q := func(name string) layers.DNSQuestion {
		return layers.DNSQuestion{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}
	}
	f.dns(cli1+":5353", dnsIP+":53", 0, 1, q("autodiscover.contoso.test"), aRecord("autodiscover.contoso.test", mailIP))
	for i := range 3 * maxPerIP {
		c := "192.0.2." + strconv.Itoa(100+i)
		f.dns(c+":5353", dnsIP+":53", 0, uint16(2+i), q("mail.contoso.test"), aRecord("mail.contoso.test", mailIP))
	}
	f.tcp(cliPort(1), mailIP+":443", 0, noSNI, segOpts{})
	f.tcp("192.0.2.99:50002", mailIP+":443", 0, noSNI, segOpts{})
	obs, _ := streamFile(t, f, ethOnly)
	var names []string
	for _, o := range obs {
		if o.Kind == record.KindTLS {
			names = append(names, o.DNSName)
		}
	}
	if want := []string{"autodiscover.contoso.test", "mail.contoso.test"}; !slices.Equal(names, want) {
		t.Errorf("DNS names %q; want %q", names, want)
	}
}
