package capture

// The test captures in testdata/ are made by this file when the tests run
// with -regen (-update only rewrites the golden reports):
//
//	go test ./capture -run TestGolden -regen
//
// Every TLS and HTTP conversation in them is a real connection on
// 127.0.0.1: a crypto/tls (or net/http) client talks to a crypto/tls (or
// net/http, or for two cipher suites Go cannot be made to pick, openssl
// s_server) server, and every byte either side writes is recorded in order.
// The recorded byte streams are then cut into TCP segments between fixed
// documentation addresses (192.0.2.0/24, 2001:db8::/32) with fixed
// timestamps and written as pcap or pcapng, with the link layer, VLAN
// tags, snap length, segment order and retransmissions each scenario
// needs. DNS messages are built with gopacket's layers.DNS. Certificates
// come from a test CA with fixed validity dates (testdata/ca.pem), so the
// reports do not depend on the day the tests run.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var (
	update = flag.Bool("update", false, "rewrite the golden reports in testdata/golden/")
	regen  = flag.Bool("regen", false, "remake the test captures in testdata/ from real TLS connections on 127.0.0.1 (implies -update)")
)

// genBase is the time of the first packet of every test capture.
var genBase = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// chunk is what one side wrote in one Write call.
type chunk struct {
	fromClient bool
	data       []byte
}

type recorder struct {
	mu     sync.Mutex
	chunks []chunk
}

func (r *recorder) add(fromClient bool, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks = append(r.chunks, chunk{fromClient, append([]byte(nil), b...)})
}

// recConn records what is written through it before writing it, so the
// recorder sees the bytes in an order the peer could have seen them.
type recConn struct {
	net.Conn
	rec        *recorder
	fromClient bool
}

func (c *recConn) Write(b []byte) (int, error) {
	c.rec.add(c.fromClient, b)
	return c.Conn.Write(b)
}

// readRecConn also records what it reads, as the peer's writes: for a
// connection to a server whose writes cannot be recorded (openssl).
type readRecConn struct{ recConn }

func (c *readRecConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.rec.add(!c.fromClient, b[:n])
	}
	return n, err
}

// genPKI is the test CA and the server certificates of the captures.
type genPKI struct {
	ca                                   *testcert.CA
	right, mailOnly, defaultCert, cnOnly tls.Certificate
}

func newGenPKI(t *testing.T) *genPKI {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "certsleuth Capture Test CA", Organization: []string{"certsleuth tests"}},
		NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &genPKI{ca: &testcert.CA{Cert: cert, Key: key}}
	nb, na := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	p.right = p.ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test", "autodiscover.contoso.test"}, NotBefore: nb, NotAfter: na})
	p.mailOnly = p.ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", DNS: []string{"mail.contoso.test"}, NotBefore: nb, NotAfter: na})
	p.defaultCert = p.ca.Leaf(t, testcert.Spec{CN: "exch01.corp.contoso.test", DNS: []string{"exch01.corp.contoso.test"}, NotBefore: nb, NotAfter: na})
	p.cnOnly = p.ca.Leaf(t, testcert.Spec{CN: "mail.contoso.test", NotBefore: nb, NotAfter: na})
	return p
}

func (p *genPKI) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.Cert)
	return pool
}

// tlsConv runs one real TLS connection on 127.0.0.1 (an HTTP/1.1 request
// and its answer inside) and returns the bytes both sides wrote.
func tlsConv(t *testing.T, srv, cli *tls.Config) []chunk {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rec := &recorder{}
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		tc := tls.Server(&recConn{c, rec, false}, srv)
		defer tc.Close()
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			done <- err
			return
		}
		if _, err := http.ReadRequest(bufio.NewReader(tc)); err != nil {
			done <- err
			return
		}
		_, err = io.WriteString(tc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	host := cli.ServerName
	if host == "" {
		host = "mail.contoso.test"
	}
	clientRequest(t, tls.Client(&recConn{c, rec, true}, cli), host)
	if err := <-done; err != nil {
		t.Fatalf("TLS server: %v", err)
	}
	return rec.chunks
}

// tlsConvRejected runs one real TLS connection on 127.0.0.1 in which the
// client verifies the server's certificate, rejects it and sends an alert.
func tlsConvRejected(t *testing.T, srv, cli *tls.Config) []chunk {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rec := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		tc := tls.Server(&recConn{c, rec, false}, srv)
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		tc.Handshake() // fails: the client sends an alert
		tc.Close()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(&recConn{c, rec, true}, cli)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err == nil {
		t.Fatal("the client accepted a certificate it should reject")
	}
	tc.Close()
	<-done
	return rec.chunks
}

func clientRequest(t *testing.T, tc *tls.Conn, host string) {
	t.Helper()
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS client: %v", err)
	}
	fmt.Fprintf(tc, "GET /EWS/Exchange.asmx HTTP/1.1\r\nHost: %s\r\nUser-Agent: certsleuth-test\r\n\r\n", host)
	io.ReadAll(tc)
}

// opensslConv is tlsConv against openssl s_server restricted to one TLS
// 1.3 cipher suite: a Go server always prefers AES-128-GCM (or ChaCha20
// without AES hardware), so the other suites need another server.
func opensslConv(t *testing.T, p *genPKI, suite string, cli *tls.Config) []chunk {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("-regen needs openssl for the %s capture: %v", suite, err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.key")
	testcert.WritePEM(t, certFile, p.right.Certificate...)
	kd, err := x509.MarshalPKCS8PrivateKey(p.right.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("openssl", "s_server", "-accept", "127.0.0.1:"+strconv.Itoa(port), "-cert", certFile, "-key", keyFile,
		"-tls1_3", "-ciphersuites", suite, "-www", "-naccept", "1", "-num_tickets", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.Contains(sc.Text(), "ACCEPT") {
	}
	go io.Copy(io.Discard, out)
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	clientRequest(t, tls.Client(&readRecConn{recConn{c, rec, true}}, cli), cli.ServerName)
	return rec.chunks
}

// httpConv runs a real plain-HTTP exchange on 127.0.0.1: the server
// answers with a 302 to location.
func httpConv(t *testing.T, host, path, location string) []chunk {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", location)
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusFound)
	})}
	rec := &recorder{}
	go srv.Serve(serverRecordingListener{ln, rec})
	defer srv.Close()
	cl := &http.Client{
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return nil, err
			}
			return &recConn{c, rec, true}, nil
		}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, _ := http.NewRequest("GET", "http://"+host+path, nil)
	req.Header.Set("User-Agent", "Microsoft Office/16.0 (certsleuth test)")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return rec.chunks
}

// serverRecordingListener records the server side of httpConv.
type serverRecordingListener struct {
	net.Listener
	rec *recorder
}

func (l serverRecordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recConn{c, l.rec, false}, nil
}

// ---- TCP segmentation

type ep struct {
	addr netip.Addr
	port uint16
}

func mkEp(s string) ep {
	ap := netip.MustParseAddrPort(s)
	return ep{ap.Addr(), ap.Port()}
}

// seg is one TCP segment before it becomes a packet.
type seg struct {
	fromClient bool
	seq, ack   uint32
	syn, fin   bool
	payload    []byte
}

// readOne reads f as an Ethernet pcap file called name and returns its
// only observation (the test fails unless there is exactly one).
func readOne(t *testing.T, f *capFile, name string) *record.Observation {
	t.Helper()
	return readOneFrom(t, f.encode(ethOnly), name)
}

// readOneFrom reads the capture file data, called name, and returns its
// only observation (the test fails unless there is exactly one).
func readOneFrom(t *testing.T, data []byte, name string) *record.Observation {
	t.Helper()
	res, err := Read(bytes.NewReader(data), name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Observations) != 1 {
		t.Fatalf("%s: %d observations; want 1", name, len(res.Observations))
	}
	return res.Observations[0]
}

// segOpts say how a conversation is cut into segments and disturbed.
type segOpts struct {
	mss     int  // payload bytes per segment (default 1400)
	reorder bool // swap neighbouring data segments of each flight
	retrans bool // retransmit segments, some overlapping the next
	skip    int  // drop this many first segments: the capture began mid-connection
	noSYN   bool // drop the three-way handshake only
	// idleLast is a pause before the client's last data segment (an
	// idle connection closed later).
	idleLast time.Duration
}

// segments cuts a recorded conversation into TCP segments.
func segments(chunks []chunk, o segOpts) []seg {
	if o.mss == 0 {
		o.mss = 1400
	}
	cseq, sseq := uint32(0x1000_0000), uint32(0x7000_0000)
	var out []seg
	out = append(out, seg{fromClient: true, seq: cseq, syn: true}, seg{seq: sseq, ack: cseq + 1, syn: true}, seg{fromClient: true, seq: cseq + 1, ack: sseq + 1})
	cseq++
	sseq++
	for _, c := range chunks {
		for off := 0; off < len(c.data); off += o.mss {
			p := c.data[off:min(off+o.mss, len(c.data))]
			if c.fromClient {
				out = append(out, seg{fromClient: true, seq: cseq, ack: sseq, payload: p})
				cseq += uint32(len(p))
			} else {
				out = append(out, seg{seq: sseq, ack: cseq, payload: p})
				sseq += uint32(len(p))
			}
		}
	}
	out = append(out, seg{fromClient: true, seq: cseq, ack: sseq, fin: true}, seg{seq: sseq, ack: cseq + 1, fin: true}, seg{fromClient: true, seq: cseq + 1, ack: sseq + 1})
	if o.retrans {
		var r []seg
		for i, s := range out {
			r = append(r, s)
			if len(s.payload) > 0 && i%3 == 0 {
				r = append(r, s) // a plain retransmission
			}
			if len(s.payload) > 4 && i%4 == 1 && i+1 < len(out) && out[i+1].fromClient == s.fromClient && len(out[i+1].payload) > 0 {
				// A retransmission that repacketizes: the second half of
				// this segment and the first half of the next.
				n := out[i+1]
				half := len(s.payload) / 2
				p := append(append([]byte(nil), s.payload[half:]...), n.payload[:len(n.payload)/2]...)
				r = append(r, seg{fromClient: s.fromClient, seq: s.seq + uint32(half), ack: s.ack, payload: p})
			}
		}
		out = r
	}
	if o.reorder {
		for i := 3; i+1 < len(out); i += 2 {
			if len(out[i].payload) > 0 && len(out[i+1].payload) > 0 && out[i].fromClient == out[i+1].fromClient {
				out[i], out[i+1] = out[i+1], out[i]
			}
		}
	}
	if o.noSYN {
		out = out[3:]
	}
	return out[min(o.skip, len(out)):]
}

// ---- packets and files

// link says how IP packets are framed.
type link struct {
	typ  layers.LinkType
	vlan []uint16 // 802.1Q tags, outermost first; two tags make QinQ (802.1ad outer)
}

var (
	linkEth   = link{typ: layers.LinkTypeEthernet}
	linkSLL   = link{typ: layers.LinkTypeLinuxSLL}
	linkSLL2  = link{typ: layers.LinkTypeLinuxSLL2}
	linkNull  = link{typ: layers.LinkTypeNull}
	linkRawIP = link{typ: layers.LinkTypeRaw}
)

// gpkt is one packet of a test capture.
type gpkt struct {
	at    time.Time
	ip    []byte // IP packet
	v6    bool
	iface int
}

// capFile collects the packets of one test capture.
type capFile struct {
	t     *testing.T
	pkts  []gpkt
	clock time.Time
}

func newCapFile(t *testing.T) *capFile { return &capFile{t: t, clock: genBase} }

func (f *capFile) tick() time.Time {
	f.clock = f.clock.Add(700 * time.Microsecond)
	return f.clock
}

// pause moves the clock on between conversations.
func (f *capFile) pause(d time.Duration) { f.clock = f.clock.Add(d) }

// tcp adds a conversation between client and server (ip:port).
func (f *capFile) tcp(client, server string, iface int, chunks []chunk, o segOpts) {
	c, s := mkEp(client), mkEp(server)
	segs := segments(chunks, o)
	last := -1
	for i, sg := range segs {
		if sg.fromClient && len(sg.payload) > 0 {
			last = i
		}
	}
	for i, sg := range segs {
		if i == last {
			f.pause(o.idleLast)
		}
		src, dst := c, s
		if !sg.fromClient {
			src, dst = s, c
		}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.port), DstPort: layers.TCPPort(dst.port), Seq: sg.seq, Ack: sg.ack,
			SYN: sg.syn, FIN: sg.fin, ACK: sg.ack != 0, PSH: len(sg.payload) > 0, Window: 65535}
		f.add(src.addr, dst.addr, iface, tcp, sg.payload)
	}
	f.pause(20 * time.Millisecond)
}

func (f *capFile) add(src, dst netip.Addr, iface int, l4 gopacket.SerializableLayer, payload []byte) {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var ipl gopacket.SerializableLayer
	v6 := src.Is6()
	proto := layers.IPProtocolTCP
	if _, ok := l4.(*layers.UDP); ok {
		proto = layers.IPProtocolUDP
	}
	var netl gopacket.NetworkLayer
	if v6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		ipl, netl = ip, ip
	} else {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Flags: layers.IPv4DontFragment}
		ipl, netl = ip, ip
	}
	switch l := l4.(type) {
	case *layers.TCP:
		l.SetNetworkLayerForChecksum(netl)
	case *layers.UDP:
		l.SetNetworkLayerForChecksum(netl)
	}
	if err := gopacket.SerializeLayers(buf, opts, ipl, l4, gopacket.Payload(payload)); err != nil {
		f.t.Fatal(err)
	}
	f.pkts = append(f.pkts, gpkt{at: f.tick(), ip: append([]byte(nil), buf.Bytes()...), v6: v6, iface: iface})
}

// dns adds a DNS query and its answer over UDP.
func (f *capFile) dns(client, server string, iface int, id uint16, q layers.DNSQuestion, answers ...layers.DNSResourceRecord) {
	c, s := mkEp(client), mkEp(server)
	msg := func(resp bool) []byte {
		d := &layers.DNS{ID: id, QR: resp, RD: true, RA: resp, Questions: []layers.DNSQuestion{q}}
		if resp {
			d.Answers = answers
		}
		buf := gopacket.NewSerializeBuffer()
		if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
			f.t.Fatal(err)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	f.add(c.addr, s.addr, iface, &layers.UDP{SrcPort: layers.UDPPort(c.port), DstPort: layers.UDPPort(s.port)}, msg(false))
	f.add(s.addr, c.addr, iface, &layers.UDP{SrcPort: layers.UDPPort(s.port), DstPort: layers.UDPPort(c.port)}, msg(true))
	f.pause(5 * time.Millisecond)
}

// dnsTCP adds a DNS query and answer over TCP (RFC 1035 §4.2.2 framing).
func (f *capFile) dnsTCP(client, server string, iface int, id uint16, q layers.DNSQuestion, answers ...layers.DNSResourceRecord) {
	var chunks []chunk
	for _, resp := range []bool{false, true} {
		d := &layers.DNS{ID: id, QR: resp, RD: true, RA: resp, Questions: []layers.DNSQuestion{q}}
		if resp {
			d.Answers = answers
		}
		buf := gopacket.NewSerializeBuffer()
		if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
			f.t.Fatal(err)
		}
		b := binary.BigEndian.AppendUint16(nil, uint16(len(buf.Bytes())))
		chunks = append(chunks, chunk{fromClient: !resp, data: append(b, buf.Bytes()...)})
	}
	f.tcp(client, server, iface, chunks, segOpts{})
}

func aRecord(name, ip string) layers.DNSResourceRecord {
	a := netip.MustParseAddr(ip)
	typ := layers.DNSTypeA
	if a.Is6() {
		typ = layers.DNSTypeAAAA
	}
	return layers.DNSResourceRecord{Name: []byte(name), Type: typ, Class: layers.DNSClassIN, TTL: 300, IP: a.AsSlice()}
}

// frame puts the link header in front of an IP packet.
func frame(l link, p gpkt) []byte {
	et := uint16(0x0800)
	if p.v6 {
		et = 0x86dd
	}
	var h []byte
	switch l.typ {
	case layers.LinkTypeEthernet:
		h = append(h, 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01)
		for i, v := range l.vlan {
			tpid := uint16(0x8100)
			if i == 0 && len(l.vlan) > 1 {
				tpid = 0x88a8
			}
			h = binary.BigEndian.AppendUint16(h, tpid)
			h = binary.BigEndian.AppendUint16(h, v)
		}
		h = binary.BigEndian.AppendUint16(h, et)
	case layers.LinkTypeLinuxSLL:
		h = append(h, 0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 0x01, 0, 0)
		h = binary.BigEndian.AppendUint16(h, et)
	case layers.LinkTypeLinuxSLL2:
		h = binary.BigEndian.AppendUint16(h, et)
		h = append(h, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 0x01, 0, 0)
	case layers.LinkTypeNull:
		af := uint32(2)
		if p.v6 {
			af = 30 // AF_INET6 on macOS
		}
		h = binary.LittleEndian.AppendUint32(h, af)
	case layers.LinkTypeRaw:
	}
	return append(h, p.ip...)
}

// fileSpec says how a capFile is written.
type fileSpec struct {
	ng      bool   // pcapng instead of pcap
	links   []link // per interface (pcap: exactly one)
	snaplen int    // cut packets to this many bytes (0: no cut)
	nanos   bool   // pcap with nanosecond timestamps
	gzip    bool
	// secrets (pcapng) is a TLS key log written as a Decryption Secrets
	// Block before the packets, as editcap --inject-secrets does.
	secrets *bytes.Buffer
}

func (f *capFile) write(path string, spec fileSpec) {
	if err := os.WriteFile(path, f.encode(spec), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// encode returns the capture file's bytes.
func (f *capFile) encode(spec fileSpec) []byte {
	var buf bytes.Buffer
	snap := uint32(262144)
	if spec.snaplen > 0 {
		snap = uint32(spec.snaplen)
	}
	var writePkt func(ci gopacket.CaptureInfo, data []byte) error
	var flush func() error
	if spec.ng {
		w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "if0", LinkType: spec.links[0].typ, SnapLength: snap}, pcapgo.NgWriterOptions{})
		if err != nil {
			f.t.Fatal(err)
		}
		for i, l := range spec.links[1:] {
			if _, err := w.AddInterface(pcapgo.NgInterface{Name: "if" + strconv.Itoa(i+1), LinkType: l.typ, SnapLength: snap}); err != nil {
				f.t.Fatal(err)
			}
		}
		if spec.secrets != nil {
			if err := w.WriteDecryptionSecretsBlock(pcapgo.DSB_SECRETS_TYPE_TLS, spec.secrets.Bytes()); err != nil {
				f.t.Fatal(err)
			}
		}
		writePkt, flush = w.WritePacket, w.Flush
	} else {
		w := pcapgo.NewWriter(&buf)
		if spec.nanos {
			w = pcapgo.NewWriterNanos(&buf)
		}
		if err := w.WriteFileHeader(snap, spec.links[0].typ); err != nil {
			f.t.Fatal(err)
		}
		writePkt, flush = w.WritePacket, func() error { return nil }
	}
	for _, p := range f.pkts {
		data := frame(spec.links[p.iface], p)
		ci := gopacket.CaptureInfo{Timestamp: p.at, Length: len(data), CaptureLength: len(data), InterfaceIndex: p.iface}
		if spec.snaplen > 0 && len(data) > spec.snaplen {
			data = data[:spec.snaplen]
			ci.CaptureLength = spec.snaplen
		}
		if err := writePkt(ci, data); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := flush(); err != nil {
		f.t.Fatal(err)
	}
	out := buf.Bytes()
	if spec.gzip {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(out)
		zw.Close()
		out = z.Bytes()
	}
	return out
}
