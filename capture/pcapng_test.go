package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ngPacket is one packet as a pcapng reader returns it.
type ngPacket struct {
	data    []byte
	ts      int64
	origLen int
	link    linkType
}

// readNg reads every packet of a pcapng file with certsleuth's reader
// through a buffer of size bytes (blocks larger than it take the other
// path); err is nil at a clean end.
func readNg(t testing.TB, b []byte, size int) (pkts []ngPacket, err error) {
	n, err := newNgReader(bufio.NewReaderSize(bytes.NewReader(b), size))
	if err != nil {
		return nil, err
	}
	for {
		var rp rawPacket
		err := n.next(&rp)
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			if rp.offset < 0 || rp.offset > int64(len(b)) {
				t.Fatalf("error offset %d outside the file (%d bytes): %v", rp.offset, len(b), err)
			}
			return pkts, err
		}
		pkts = append(pkts, ngPacket{bytes.Clone(rp.data), rp.ts, rp.origLen, rp.link})
	}
}

// readPcapgo reads every packet of a pcapng file with gopacket's
// pcapgo.NgReader as certsleuth used it (mixed link types).
func readPcapgo(b []byte) (pkts []ngPacket, err error) {
	r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return nil, err
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, err
		}
		link := layers.LinkTypeEthernet
		if len(ci.AncillaryData) > 0 {
			link = ci.AncillaryData[0].(layers.LinkType)
		}
		pkts = append(pkts, ngPacket{data, ci.Timestamp.UnixNano(), ci.Length, linkType(link)})
	}
}

// compareNg fails unless certsleuth's reader returned the packets pcapgo
// returned: all of them, or (only with an error) the first of them.
func compareNg(t *testing.T, name string, b []byte) {
	want, werr := readPcapgo(b)
	for _, size := range []int{256 << 10, 64} {
		compareNgSize(t, name, b, size, want, werr)
	}
}

func compareNgSize(t *testing.T, name string, b []byte, size int, want []ngPacket, werr error) {
	got, gerr := readNg(t, b, size)
	if gerr == nil && werr != nil {
		t.Fatalf("%s: read whole (%d packets), pcapgo fails after %d: %v", name, len(got), len(want), werr)
	}
	if gerr == nil && len(got) != len(want) || len(got) > len(want) {
		t.Fatalf("%s: %d packets (error %v), pcapgo %d (error %v)", name, len(got), gerr, len(want), werr)
	}
	for i, g := range got {
		w := want[i]
		if !bytes.Equal(g.data, w.data) || g.ts != w.ts || g.origLen != w.origLen || g.link != w.link {
			t.Fatalf("%s: packet %d: %d bytes at %d (orig %d, link %d), pcapgo %d bytes at %d (orig %d, link %d)",
				name, i+1, len(g.data), g.ts, g.origLen, g.link, len(w.data), w.ts, w.origLen, w.link)
		}
	}
}

// TestNgReaderPcapgo reads every pcapng file under testdata (certsleuth's
// own and pcapng-test-generator's, testdata/public/pcapng) with
// certsleuth's reader and with pcapgo.NgReader: the same packets (data,
// time, original length, link type), and the same end. Then the same
// files cut short and with a block length broken: an error, never a panic,
// and the packets before it.
func TestNgReaderPcapgo(t *testing.T) {
	var names []string
	filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".pcapng") {
			names = append(names, p)
		}
		return nil
	})
	if len(names) < 40 {
		t.Fatalf("%d pcapng files under testdata, want the public test files too", len(names))
	}
	sections, packets := 0, 0
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		compareNg(t, name, b)
		got, err := readNg(t, b, 256<<10)
		if _, werr := readPcapgo(b); err != nil && werr == nil {
			t.Errorf("%s: %v (pcapgo reads it whole)", name, err)
		}
		packets += len(got)
		sections += bytes.Count(b, []byte{0x0a, 0x0d, 0x0d, 0x0a})
		for _, cut := range []int{len(b) - 1, len(b) - 5, len(b) * 2 / 3, len(b) / 2, 40} {
			if cut <= 0 || cut >= len(b) {
				continue
			}
			got, err := readNg(t, b[:cut], 256<<10)
			if err == nil {
				t.Errorf("%s cut to %d bytes: no error (%d packets)", name, cut, len(got))
			}
			compareNg(t, name+" (cut)", b[:cut])
		}
	}
	if packets < 100 || sections < 50 {
		t.Errorf("%d packets in %d sections: the test files are not all there", packets, sections)
	}
}

// TestNgReaderErrors: damaged pcapng files give an error saying what is
// wrong and where, after the packets before the damage.
func TestNgReaderErrors(t *testing.T) {
	b, err := os.ReadFile("testdata/two-ifaces.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	offs := pcapngPacketOffsets(b)
	at := offs[3]
	for _, tc := range []struct {
		name  string
		edit  func(c []byte)
		words string
	}{
		{"trailing length differs", func(c []byte) {
			l := binary.LittleEndian.Uint32(c[at+4:])
			binary.LittleEndian.PutUint32(c[at+int(l)-4:], l+4)
		}, "at its end"},
		{"interface not described", func(c []byte) { binary.LittleEndian.PutUint32(c[at+8:], 7) }, "on interface 7"},
		{"packet longer than its block", func(c []byte) { binary.LittleEndian.PutUint32(c[at+20:], 5000) }, "holds a packet of 5000 bytes"},
		{"length too short", func(c []byte) { binary.LittleEndian.PutUint32(c[at+4:], 8) }, "impossible length 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bytes.Clone(b)
			tc.edit(c)
			var n *ngReader
			if n, err = newNgReader(bufio.NewReader(bytes.NewReader(c))); err != nil {
				t.Fatal(err)
			}
			var rp rawPacket
			for i := 0; i < 3; i++ {
				if err := n.next(&rp); err != nil {
					t.Fatalf("packet %d: %v", i+1, err)
				}
			}
			err := n.next(&rp)
			if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tc.words) || rp.offset != int64(at) {
				t.Errorf("error %v at %d, want %q at %d", err, rp.offset, tc.words, at)
			}
		})
	}
}

// FuzzNgReader compares certsleuth's pcapng reader with pcapgo.NgReader
// on arbitrary files (seeded with the small test files: the fuzzer
// minimises what it finds interesting a byte at a time, which takes
// minutes on a 50 KB file): the same packets, or an error after the
// first of them; never a panic.
func FuzzNgReader(f *testing.F) {
	for _, dir := range []string{"testdata/public/pcapng/le", "testdata/public/pcapng/be"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
		for _, n := range names {
			if b, err := os.ReadFile(n); err == nil && len(b) <= 2<<10 {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		compareNg(t, "input", b)
	})
}

// ngFile builds a pcapng file block by block, in either byte order.
type ngFile struct {
	o   binary.AppendByteOrder
	out []byte
}

// block appends a block of type typ with the body (padded to 4 bytes).
func (w *ngFile) block(typ uint32, body ...[]byte) *ngFile {
	b := cat(body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	total := uint32(12 + len(b))
	w.out = w.o.AppendUint32(w.out, typ)
	w.out = w.o.AppendUint32(w.out, total)
	w.out = append(w.out, b...)
	w.out = w.o.AppendUint32(w.out, total)
	return w
}

// opt is one option (code, length, value padded to 4 bytes).
func (w *ngFile) opt(code uint16, v []byte) []byte {
	b := w.o.AppendUint16(nil, code)
	b = w.o.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (w *ngFile) shb(big bool) *ngFile {
	w.o = binary.LittleEndian
	if big {
		w.o = binary.BigEndian
	}
	body := w.o.AppendUint32(nil, ngByteOrder)
	body = w.o.AppendUint16(body, 1)
	body = w.o.AppendUint16(body, 0)
	body = w.o.AppendUint64(body, ^uint64(0))
	return w.block(ngBlockSHB, body, w.opt(4, []byte("certsleuth test")), w.opt(0, nil))
}

func (w *ngFile) idb(link linkType, snap uint32, opts ...[]byte) *ngFile {
	body := w.o.AppendUint16(nil, uint16(link))
	body = w.o.AppendUint16(body, 0)
	body = w.o.AppendUint32(body, snap)
	return w.block(ngBlockIDB, body, cat(opts...))
}

func (w *ngFile) epb(iface uint32, ts uint64, data []byte, opts ...[]byte) *ngFile {
	body := w.o.AppendUint32(nil, iface)
	body = w.o.AppendUint32(body, uint32(ts>>32))
	body = w.o.AppendUint32(body, uint32(ts))
	body = w.o.AppendUint32(body, uint32(len(data)))
	body = w.o.AppendUint32(body, uint32(len(data)+10))
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	return w.block(ngBlockEPB, body, cat(opts...))
}

// TestNgReaderBlocks reads files made of every kind of block and option
// certsleuth has to follow, in both byte orders, with certsleuth's reader
// and with pcapgo.NgReader: if_tsresol in powers of 10 and of 2, if_tsoffset,
// several interfaces of different link types, several sections, Simple and
// obsolete Packet Blocks, Name Resolution, Interface Statistics, Decryption
// Secrets and unknown blocks. Some times (2^-n resolutions) are not exact
// in pcapgo (ngIface.nanos): they are compared as pcapgo gives them.
func TestNgReaderBlocks(t *testing.T) {
	frame := func(n int) []byte { return bytes.Repeat([]byte{byte(n)}, 40+n) }
	for _, big := range []bool{false, true} {
		w := &ngFile{}
		w.shb(big)
		u8 := func(v byte) []byte { return []byte{v} }
		u64 := func(v uint64) []byte { return w.o.AppendUint64(nil, v) }
		w.idb(linkTypeEthernet, 0)                                                                     // 0: microseconds
		w.idb(linkTypeLinuxSLL, 96, w.opt(ngOptTSResol, u8(9)), w.opt(ngOptTSOffset, u64(1700000000))) // 1: ns, offset
		w.idb(linkTypeRaw, 0, w.opt(ngOptTSResol, u8(0x80|10)))                                        // 2: 2^-10
		w.idb(linkTypeNull, 0, w.opt(ngOptTSResol, u8(0x80|20)), w.opt(ngOptEnd, nil))                 // 3: 2^-20
		w.idb(linkTypeLoop, 0, w.opt(ngOptTSResol, u8(3)))                                             // 4: ms
		w.epb(0, 1700000000123456, frame(1), w.opt(1, []byte("a comment")), w.opt(2, w.o.AppendUint32(nil, 1)))
		w.epb(1, 1234567891, frame(2))
		w.epb(2, 1700000000<<10|1023, frame(3))
		w.epb(3, 1700000000<<20|524288, frame(4))
		w.epb(4, 1700000000999, frame(5))
		w.block(ngBlockSPB, w.o.AppendUint32(nil, 60), frame(20)) // interface 0 has no snap length
		pb := w.o.AppendUint16(nil, 1)
		pb = w.o.AppendUint16(pb, 0)
		pb = w.o.AppendUint32(pb, 0)
		pb = w.o.AppendUint32(pb, 77)
		pb = w.o.AppendUint32(pb, 50)
		pb = w.o.AppendUint32(pb, 60)
		w.block(ngBlockPB, pb, frame(10))
		nrb := w.o.AppendUint16(nil, 1)
		nrb = w.o.AppendUint16(nrb, 13)
		nrb = append(nrb, 10, 0, 0, 1, 'h', 'o', 's', 't', '.', 't', 'e', 's', 0, 0, 0, 0)
		nrb = w.o.AppendUint32(nrb, 0) // nrb_record_end
		w.block(ngBlockNRB, nrb)
		isb := w.o.AppendUint32(nil, 1)
		isb = w.o.AppendUint64(isb, 5)
		w.block(ngBlockISB, isb, w.opt(4, u64(3)))
		w.block(ngBlockDSB, w.o.AppendUint32(nil, 0x12345678), w.o.AppendUint32(nil, 4), []byte("abcd"))
		w.block(0x0BAD, []byte("custom or unknown"))
		w.epb(1, 99, frame(6))
		// A second section, in the other byte order, whose first
		// interface has a snap length that cuts its Simple Packet Block.
		w.shb(!big)
		w.idb(linkTypeLinuxSLL2, 50)
		w.block(ngBlockSPB, w.o.AppendUint32(nil, 70), frame(30)[:50])
		w.epb(0, 42, frame(7))
		compareNg(t, map[bool]string{false: "little-endian", true: "big-endian"}[big], w.out)
		got, err := readNg(t, w.out, 256<<10)
		if err != nil || len(got) != 10 {
			t.Fatalf("%d packets, %v; want 10", len(got), err)
		}
		if got[8].link != linkTypeLinuxSLL2 || len(got[8].data) != 50 || got[8].origLen != 70 {
			t.Errorf("second section: %+v", got[7:])
		}
	}
}
