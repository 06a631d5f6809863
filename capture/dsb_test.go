package capture

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ngBuf writes pcapng blocks by hand, in either byte order, so that the
// tests can make what pcapgo's writer cannot: big-endian sections,
// several sections, broken blocks.
type ngBuf struct {
	b   []byte
	big bool
}

func (w *ngBuf) order() binary.AppendByteOrder {
	if w.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// block appends a block of type typ with body (padded to 4 bytes).
func (w *ngBuf) block(typ uint32, body []byte) *ngBuf {
	o := w.order()
	padded := (len(body) + 3) &^ 3
	total := uint32(12 + padded)
	w.b = o.AppendUint32(w.b, typ)
	w.b = o.AppendUint32(w.b, total)
	w.b = append(w.b, body...)
	w.b = append(w.b, make([]byte, padded-len(body))...)
	w.b = o.AppendUint32(w.b, total)
	return w
}

// shb starts a section in the writer's byte order.
func (w *ngBuf) shb() *ngBuf {
	o := w.order()
	body := o.AppendUint32(nil, 0x1A2B3C4D)
	body = o.AppendUint16(body, 1)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint64(body, 0xFFFFFFFFFFFFFFFF)
	return w.block(pcapngMagic, body)
}

func (w *ngBuf) idb() *ngBuf {
	o := w.order()
	body := o.AppendUint16(nil, uint16(layers.LinkTypeEthernet))
	body = o.AppendUint16(body, 0)
	body = o.AppendUint32(body, 262144)
	return w.block(1, body)
}

// epb appends a packet of n junk bytes on interface 0.
func (w *ngBuf) epb(n int) *ngBuf {
	o := w.order()
	body := o.AppendUint32(nil, 0)
	body = o.AppendUint32(body, 0)
	body = o.AppendUint32(body, 1)
	body = o.AppendUint32(body, uint32(n))
	body = o.AppendUint32(body, uint32(n))
	body = append(body, bytes.Repeat([]byte{0xEE}, n)...)
	return w.block(6, body)
}

// dsb appends a Decryption Secrets Block, with a comment option when
// opt is set.
func (w *ngBuf) dsb(typ uint32, secrets string, opt bool) *ngBuf {
	o := w.order()
	body := o.AppendUint32(nil, typ)
	body = o.AppendUint32(body, uint32(len(secrets)))
	body = append(body, secrets...)
	body = append(body, make([]byte, (4-len(secrets)%4)%4)...)
	if opt {
		body = o.AppendUint16(body, 1)
		body = o.AppendUint16(body, 5)
		body = append(body, "hello\x00\x00\x00"...)
		body = append(body, 0, 0, 0, 0)
	}
	return w.block(ngBlockDSB, body)
}

// keyLine is a key log line for client random r (one byte repeated).
func keyLine(label string, r byte) string {
	return fmt.Sprintf("%s %s %s\n", label, strings.Repeat(fmt.Sprintf("%02x", r), 32), strings.Repeat("ab", 32))
}

func shts(r byte) string { return keyLine("SERVER_HANDSHAKE_TRAFFIC_SECRET", r) }

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// scanAll passes data through a dsbScanner in reads of at most chunk
// bytes, attached to a reader's key log (given) and problems, and
// checks the bytes come out unchanged.
func scanAll(t testing.TB, data []byte, chunk int, given *KeyLog) (*KeyLog, []string) {
	s := newDSBScanner(chunkReader{bytes.NewReader(data), chunk})
	kl := given
	var problems []string
	s.attach(&kl, &problems, "f.pcapng")
	out, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("the scanner changed the bytes passing through it")
	}
	return kl, problems
}

// randoms lists the first bytes of the client randoms with a server
// handshake secret in k (not its fallback).
func randoms(k *KeyLog) []byte {
	var rs []byte
	if k == nil {
		return nil
	}
	for r := range k.serverHS {
		rs = append(rs, r[0])
	}
	slices.Sort(rs)
	return rs
}

func TestDSBScanner(t *testing.T) {
	le := func() *ngBuf { return (&ngBuf{}).shb().idb() }
	be := func() *ngBuf { return (&ngBuf{big: true}).shb().idb() }
	tests := []struct {
		name     string
		data     []byte
		randoms  []byte   // first bytes of the server secrets' client randoms
		lines    int      // key log lines read
		bad      []int    // their numbers in the embedded key log
		problems []string // each must be in one problem, in order; none else
	}{
		{name: "little-endian", data: le().dsb(secretsTLS, "# comment\n"+shts(1)+keyLine("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 1), false).epb(60).b,
			randoms: []byte{1}, lines: 3},
		{name: "big-endian", data: be().dsb(secretsTLS, shts(2)+shts(3), false).epb(60).b,
			randoms: []byte{2, 3}, lines: 2},
		{name: "two sections, both orders", data: append(le().dsb(secretsTLS, shts(4), false).epb(60).b, be().epb(70).dsb(secretsTLS, shts(5), true).epb(70).b...),
			randoms: []byte{4, 5}, lines: 2},
		{name: "after the packets, with options", data: le().epb(100).epb(1500).dsb(secretsTLS, shts(6), true).dsb(secretsTLS, shts(7), false).b,
			randoms: []byte{6, 7}, lines: 2},
		{name: "no newline at the end, CRLF", data: le().dsb(secretsTLS, strings.ReplaceAll(shts(8), "\n", "\r\n")+strings.TrimSuffix(shts(9), "\n"), false).b,
			randoms: []byte{8, 9}, lines: 2},
		{name: "truncated in the secrets", data: func() []byte {
			b := le().epb(60).dsb(secretsTLS, shts(10)+shts(11), false).b // the DSB starts at 140
			return b[:140+16+len(shts(10))+20]
		}(), randoms: []byte{10}, lines: 1, problems: []string{fmt.Sprintf("decryption secrets block at byte offset 140: the file ends %d bytes into this block of 344 bytes; the complete key log lines before the cut were used", 16+len(shts(10))+20)}},
		{name: "truncated in the header", data: le().dsb(secretsTLS, shts(12), false).b[:60],
			problems: []string{"decryption secrets block at byte offset 48: the file ends 12 bytes into this block"}},
		{name: "unknown types, each noted once", data: le().dsb(0x5353484b, "ssh", false).dsb(0x57474b4c, "wg", false).dsb(0x5353484b, "ssh2", false).dsb(secretsTLS, shts(13), false).b,
			randoms: []byte{13}, lines: 1, problems: []string{
				"decryption secrets block at byte offset 48: it holds an SSH key log (secrets type 0x5353484b), which certsleuth does not use",
				"decryption secrets block at byte offset 72: it holds a WireGuard key log (secrets type 0x57474b4c)",
			}},
		{name: "secrets longer than the block", data: func() []byte {
			b := le().dsb(secretsTLS, shts(14), false).dsb(secretsTLS, shts(15), false).b
			binary.LittleEndian.PutUint32(b[48+12:], 5000) // the first DSB's secrets length
			return b
		}(), randoms: []byte{15}, lines: 1, problems: []string{"decryption secrets block at byte offset 48: 5000 bytes of secrets do not fit in a block of 184 bytes (corrupt block); skipped"}},
		{name: "block too short for a DSB", data: le().block(ngBlockDSB, []byte{1, 2, 3, 4}).dsb(secretsTLS, shts(16), false).b,
			randoms: []byte{16}, lines: 1, problems: []string{"decryption secrets block at byte offset 48: its length 16 is too short for a decryption secrets block (at least 20 bytes); skipped"}},
		{name: "malformed lines", data: le().dsb(secretsTLS, shts(17)+"garbage\n"+"SERVER_HANDSHAKE_TRAFFIC_SECRET 00 zz\n"+strings.Repeat("x", 3000)+"\n", false).dsb(secretsTLS, shts(18), false).b,
			randoms: []byte{17, 18}, lines: 5, bad: []int{2, 3, 4}, problems: []string{"decryption secrets block at byte offset 48: 3 of its 4 lines are not key log lines (first: line 2 of the block); they were skipped"}},
		{name: "pcap, not pcapng", data: func() []byte {
			var b bytes.Buffer
			w := pcapgo.NewWriter(&b)
			w.WriteFileHeader(65536, layers.LinkTypeEthernet)
			return append(b.Bytes(), le().dsb(secretsTLS, shts(19), false).b...) // looks like a DSB, but is not one
		}()},
		{name: "no DSB", data: le().epb(60).epb(60).b},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 3, 7, 64, 1 << 20} {
				kl, problems := scanAll(t, tc.data, chunk, nil)
				if got := randoms(kl); !bytes.Equal(got, tc.randoms) {
					t.Errorf("chunk %d: secrets for randoms %v, want %v", chunk, got, tc.randoms)
				}
				if kl != nil && (kl.Lines != tc.lines || !slices.Equal(kl.Bad, tc.bad)) {
					t.Errorf("chunk %d: lines %d, bad %v; want %d, %v", chunk, kl.Lines, kl.Bad, tc.lines, tc.bad)
				}
				if len(problems) != len(tc.problems) {
					t.Fatalf("chunk %d: problems %q, want %d", chunk, problems, len(tc.problems))
				}
				for i, p := range tc.problems {
					if !strings.HasPrefix(problems[i], "f.pcapng: ") || !strings.Contains(problems[i], p) {
						t.Errorf("chunk %d: problem %q does not say %q", chunk, problems[i], p)
					}
				}
			}
			// pcapgo reads the same structure: the scanner follows its framing.
			if bytes.HasPrefix(tc.data, []byte{0x0A, 0x0D, 0x0D, 0x0A}) && !strings.HasPrefix(tc.name, "truncated") {
				r, err := pcapgo.NewNgReader(bytes.NewReader(tc.data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
				if err != nil {
					t.Fatal(err)
				}
				for {
					if _, _, err := r.ReadPacketData(); err != nil {
						if err != io.EOF {
							t.Fatalf("pcapgo: %v", err)
						}
						break
					}
				}
			}
		})
	}
}

// TestDSBKeyLogs checks the two key logs together: a file whose second
// TLS 1.3 connection's secrets are embedded and whose first one's are
// given (as with --keylog) has both certificates decrypted, and the given
// key log is left as it was.
func TestDSBKeyLogs(t *testing.T) {
	p := newGenPKI(t)
	var given, embedded bytes.Buffer
	f := newCapFile(t)
	for i, kl := range []*bytes.Buffer{&given, &embedded} {
		c := cliCfg("mail.contoso.test", tls.VersionTLS13)
		c.KeyLogWriter = kl
		f.tcp(cliPort(40+i), mailIP+":443", 0, tlsConv(t, srvCfg(p.right, tls.VersionTLS13), c), segOpts{})
	}
	path := filepath.Join(t.TempDir(), "two.pcapng")
	f.write(path, fileSpec{ng: true, links: []link{linkEth}, secrets: &embedded})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kl, err := ReadKeyLog(bytes.NewReader(given.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	lines, n := kl.Lines, kl.Len()
	for _, tc := range []struct {
		name string
		kl   *KeyLog
		vis  []record.Visibility
	}{
		{"embedded only", nil, []record.Visibility{record.VisEncrypted, record.VisVisible}},
		{"embedded and given", kl, []record.Visibility{record.VisVisible, record.VisVisible}},
	} {
		res, err := Read(bytes.NewReader(data), "two.pcapng", Options{KeyLog: tc.kl})
		if err != nil {
			t.Fatal(err)
		}
		var vis []record.Visibility
		for _, o := range res.Observations {
			if o.Kind == record.KindTLS {
				vis = append(vis, o.Visibility)
			}
		}
		if !slices.Equal(vis, tc.vis) || len(res.Problems) != 0 {
			t.Errorf("%s: %v (problems %q), want %v", tc.name, vis, res.Problems, tc.vis)
		}
	}
	if kl.Lines != lines || kl.Len() != n || kl.also != nil {
		t.Errorf("the given key log changed: %d lines, %d secrets", kl.Lines, kl.Len())
	}
}

// TestDSBMergedFiles checks that files read together (StreamFiles) share
// their embedded key logs, as mergecap would merge them: the second
// file's connection is decrypted with the first file's block, and each
// file's block is found however many files embed one.
func TestDSBMergedFiles(t *testing.T) {
	p := newGenPKI(t)
	var keys [3]bytes.Buffer
	var caps [3]*capFile
	for i := range caps {
		c := cliCfg("mail.contoso.test", tls.VersionTLS13)
		c.KeyLogWriter = &keys[i]
		caps[i] = newCapFile(t)
		caps[i].pause(time.Duration(i) * time.Second)
		caps[i].tcp(cliPort(43+i), mailIP+":443", 0, tlsConv(t, srvCfg(p.right, tls.VersionTLS13), c), segOpts{})
	}
	keys[0].Write(keys[1].Bytes()) // file a holds the key logs of a and b
	var inputs []Input
	for i, secrets := range []*bytes.Buffer{&keys[0], nil, &keys[2]} {
		path := filepath.Join(t.TempDir(), "f.pcapng")
		caps[i].write(path, fileSpec{ng: true, links: []link{linkEth}, secrets: secrets})
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, Input{bytes.NewReader(data), string(rune('a'+i)) + ".pcapng"})
	}
	var vis []record.Visibility
	res, err := StreamFiles(inputs, Options{}, func(o *record.Observation) error {
		vis = append(vis, o.Visibility)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []record.Visibility{record.VisVisible, record.VisVisible, record.VisVisible}; !slices.Equal(vis, want) || len(res.Problems) != 0 {
		t.Errorf("%v (problems %q), want %v", vis, res.Problems, want)
	}
}

// TestDSBProblemsInResult checks that problems with blocks reach
// Result.Problems both when found before Stream starts (in the first
// buffer) and later in the file, and that a DSB placed far behind the
// packets it covers is read without harm.
func TestDSBProblemsInResult(t *testing.T) {
	w := (&ngBuf{}).shb().idb().dsb(0x57474b4c, "wg", false)
	for range 300 {
		w.epb(1400) // 430 KB: more than the reader buffers
	}
	last := len(w.b)
	w.dsb(secretsTLS, "garbage\n", false)
	res, err := Read(bytes.NewReader(w.b), "late.pcapng", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Packets != 300 || len(res.Problems) != 3 {
		t.Fatalf("%d packets, problems %q; want 300 and 3", res.Stats.Packets, res.Problems)
	}
	for i, want := range []string{
		"late.pcapng: decryption secrets block at byte offset 48: it holds a WireGuard key log",
		fmt.Sprintf("late.pcapng: decryption secrets block at byte offset %d: 1 of its 1 lines are not key log lines", last),
		"300 frames skipped: ethertype 0xeeee not decoded (the first: late.pcapng packet 1)", // the filler frames
	} {
		if !strings.HasPrefix(res.Problems[i], want) {
			t.Errorf("problem %d: %q, want %q...", i, res.Problems[i], want)
		}
	}
}

// refDSBs is a plain reading of a whole pcapng file's DSBs, to check the
// streaming scanner against: the TLS key log text of each block (cut
// after its last newline when the file ends inside it).
func refDSBs(b []byte) (texts []string) {
	var o binary.ByteOrder = binary.LittleEndian
	if len(b) < 12 || binary.BigEndian.Uint32(b) != pcapngMagic {
		return nil
	}
	for off := 0; len(b)-off >= 8; {
		blk := b[off:]
		if binary.BigEndian.Uint32(blk) == pcapngMagic {
			if len(blk) < 12 {
				return
			}
			switch {
			case binary.BigEndian.Uint32(blk[8:]) == ngByteOrder:
				o = binary.BigEndian
			case binary.LittleEndian.Uint32(blk[8:]) == ngByteOrder:
				o = binary.LittleEndian
			default:
				return
			}
		}
		n := int64(o.Uint32(blk[4:]))
		if n < 12 {
			return
		}
		if o.Uint32(blk) == ngBlockDSB && binary.BigEndian.Uint32(blk) != pcapngMagic && n >= minDSBLength && len(blk) >= 16 {
			st, sl := o.Uint32(blk[8:]), int64(o.Uint32(blk[12:]))
			if st == secretsTLS && sl <= n-minDSBLength {
				if int64(len(blk)) >= 16+sl {
					texts = append(texts, string(blk[16:16+sl]))
				} else if i := bytes.LastIndexByte(blk[16:], '\n'); i >= 0 {
					texts = append(texts, string(blk[16:16+i+1]))
				}
			}
		}
		if int64(len(blk)) < n {
			return
		}
		off += int(n)
	}
	return texts
}

// FuzzDSB checks the DSB scanner on any input: the bytes pass unchanged,
// no panic, the same secrets and problems whatever the read sizes, and
// the same secrets as a plain reading of the whole file.
func FuzzDSB(f *testing.F) {
	f.Add((&ngBuf{}).shb().idb().dsb(secretsTLS, shts(1)+shts(2), true).epb(40).b, uint8(5))
	f.Add((&ngBuf{big: true}).shb().epb(10).dsb(0x5353484b, "x", false).dsb(secretsTLS, "bad\n"+shts(3), false).b, uint8(1))
	two := append((&ngBuf{}).shb().idb().epb(20).b, (&ngBuf{big: true}).shb().idb().dsb(secretsTLS, "# x\r\n"+shts(4), true).epb(30).b...)
	f.Add(two, uint8(3))
	f.Add(two[:len(two)-100], uint8(9)) // cut inside the DSB
	if b, err := os.ReadFile("testdata/tls13-embedded-keylog.pcapng"); err == nil {
		f.Add(b, uint8(200))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		whole, wholeProblems := scanAll(t, data, len(data)+1, nil)
		bits, bitsProblems := scanAll(t, data, int(chunk%17)+1, nil)
		if !slices.Equal(wholeProblems, bitsProblems) {
			t.Fatalf("problems differ by read size:\n%q\n%q", wholeProblems, bitsProblems)
		}
		if (whole == nil) != (bits == nil) {
			t.Fatalf("key log made for one read size only")
		}
		want := newKeyLog()
		for _, text := range refDSBs(data) {
			want.add(strings.NewReader(text))
		}
		for _, k := range []*KeyLog{whole, bits} {
			if k == nil {
				k = newKeyLog()
			}
			if !maps.EqualFunc(k.serverHS, want.serverHS, bytes.Equal) || !maps.EqualFunc(k.clientHS, want.clientHS, bytes.Equal) {
				t.Fatalf("secrets %d/%d, a plain reading finds %d/%d", len(k.serverHS), len(k.clientHS), len(want.serverHS), len(want.clientHS))
			}
		}
	})
}

// TestDSBGzip reads the committed capture with its embedded key log
// gzip-compressed: the scanner sees the decompressed bytes.
func TestDSBGzip(t *testing.T) {
	data, err := os.ReadFile("testdata/tls13-embedded-keylog.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	res, err := Read(&z, "f.pcapng.gz", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != "pcapng (gzip)" || len(res.Observations) != 1 || res.Observations[0].Visibility != record.VisVisible {
		t.Fatalf("%s: %d observations, first %+v", res.Format, len(res.Observations), res.Observations)
	}
}

// TestDSBSecretsBound checks that the secrets kept from a file are
// bounded, and that the bound is reported once.
func TestDSBSecretsBound(t *testing.T) {
	defer func(n int) { maxEmbeddedSecrets = n }(maxEmbeddedSecrets)
	maxEmbeddedSecrets = 3
	var text strings.Builder
	for r := range byte(6) {
		text.WriteString(shts(r))
	}
	data := (&ngBuf{}).shb().idb().dsb(secretsTLS, text.String(), false).dsb(secretsTLS, shts(9), false).b
	kl, problems := scanAll(t, data, 5, nil)
	if kl.Len() != 3 || len(problems) != 1 || !strings.Contains(problems[0], "more than 3 secrets are embedded in the file; the rest were skipped") {
		t.Errorf("%d secrets kept, problems %q; want 3 and one problem", kl.Len(), problems)
	}
}

// BenchmarkDSB measures the scanner alone: a pcapng file of small
// packets passing through it (a block every 92 bytes, the worst case for
// following blocks; compare pcapgo's own reading of such a file), and a
// key log of 50,000 TLS 1.3 connections embedded in one block (with the
// heap each secret kept takes).
func BenchmarkDSB(b *testing.B) {
	w := (&ngBuf{}).shb().idb()
	for range 100000 {
		w.epb(60)
	}
	packets := w.b
	b.Run("pass-through", func(b *testing.B) {
		b.SetBytes(int64(len(packets)))
		buf := make([]byte, 256<<10)
		for b.Loop() {
			s := newDSBScanner(bytes.NewReader(packets))
			if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{s}, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pcapgo", func(b *testing.B) {
		b.SetBytes(int64(len(packets)))
		for b.Loop() {
			r, err := pcapgo.NewNgReader(bytes.NewReader(packets), pcapgo.NgReaderOptions{WantMixedLinkType: true})
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
					break
				}
			}
		}
	})
	var text bytes.Buffer
	const conns = 50000
	for i := range conns {
		fmt.Fprintf(&text, "SERVER_HANDSHAKE_TRAFFIC_SECRET %064x %064x\n", i, i)
		fmt.Fprintf(&text, "CLIENT_HANDSHAKE_TRAFFIC_SECRET %064x %064x\n", i, i)
	}
	secrets := (&ngBuf{}).shb().idb().dsb(secretsTLS, text.String(), false).b
	b.Run("secrets", func(b *testing.B) {
		b.SetBytes(int64(len(secrets)))
		var heap float64
		for b.Loop() {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			kl, _ := scanAll(b, secrets, 256<<10, nil)
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap = float64(after.HeapAlloc-before.HeapAlloc) / (2 * conns)
			runtime.KeepAlive(kl)
		}
		b.ReportMetric(heap, "B/secret")
	})
}
