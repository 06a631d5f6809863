package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// pcapOffsets returns the byte offset of every packet record of a
// little-endian classic pcap file.
func pcapOffsets(b []byte) []int {
	var offs []int
	for off := pcapHeaderLen; off+pcapRecordLen <= len(b); {
		offs = append(offs, off)
		off += pcapRecordLen + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	return offs
}

// pcapngPacketOffsets returns the byte offset of every packet block of a
// little-endian pcapng file.
func pcapngPacketOffsets(b []byte) []int {
	var offs []int
	for off := 0; off+12 <= len(b); {
		typ := binary.LittleEndian.Uint32(b[off:])
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if typ == 6 || typ == 3 { // enhanced or simple packet block
			offs = append(offs, off)
		}
		if n < 12 {
			break
		}
		off += n
	}
	return offs
}

func kinds(obs []*record.Observation) map[record.Kind]int {
	m := map[record.Kind]int{}
	for _, o := range obs {
		m[o.Kind]++
	}
	return m
}

// TestCorrupt damages test captures in the ways files get damaged and
// checks that Read names the packet and byte offset, still returns what
// came before, and does not panic.
func TestCorrupt(t *testing.T) {
	dnsSrv, err := os.ReadFile("testdata/dns-srv.pcap")
	if err != nil {
		t.Fatal(err)
	}
	ng, err := os.ReadFile("testdata/two-ifaces.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	pOffs, nOffs := pcapOffsets(dnsSrv), pcapngPacketOffsets(ng)
	if len(pOffs) < 10 || len(nOffs) < 10 {
		t.Fatalf("test captures too small: %d and %d packets", len(pOffs), len(nOffs))
	}
	badLen := func(b []byte, off int) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(c[off+8:], 0x7ffffff0)
		return c
	}
	gz := func(b []byte) []byte {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(b)
		w.Close()
		return z.Bytes()
	}
	last := len(pOffs) - 1
	for _, tc := range []struct {
		name     string
		data     []byte
		packet   int64 // want CorruptError.Packet
		offset   int   // want CorruptError.Offset
		words    string
		wantKind map[record.Kind]int // at least these observations
	}{
		{"pcap cut in the last packet", dnsSrv[:pOffs[last]+20], int64(last + 1), pOffs[last], "ends in the middle of a packet",
			map[record.Kind]int{record.KindDNS: 2, record.KindTLS: 1}},
		{"pcap cut in a record header", dnsSrv[:pOffs[last]+7], int64(last + 1), pOffs[last], "ends in the middle of a packet",
			map[record.Kind]int{record.KindDNS: 2, record.KindTLS: 1}},
		{"pcap record length absurd", badLen(dnsSrv, pOffs[4]), 5, pOffs[4], "capture length",
			map[record.Kind]int{record.KindDNS: 1}},
		{"gzip pcap cut short", gz(dnsSrv)[:len(gz(dnsSrv))-30], 0, -1, "gzip: the compressed file is cut short",
			map[record.Kind]int{record.KindDNS: 2}},
		{"gzip pcap damaged", func() []byte {
			z := gz(dnsSrv)
			z[len(z)-6] ^= 0xff // the CRC-32 in the gzip trailer (RFC 1952 §2.3.1)
			return z
		}(), 0, -1, "gzip: the compressed file is damaged", map[record.Kind]int{record.KindDNS: 2, record.KindTLS: 1}},
		{"pcapng cut in a packet block", ng[:nOffs[9]+30], 10, nOffs[9], "",
			map[record.Kind]int{record.KindDNS: 1}},
		{"pcapng block length absurd", func() []byte {
			c := bytes.Clone(ng)
			binary.LittleEndian.PutUint32(c[nOffs[6]+4:], 0x7ffffff0)
			return c
		}(), 7, nOffs[6], "corrupt block at byte " + strconv.Itoa(nOffs[6]), map[record.Kind]int{record.KindDNS: 1}},
		{"pcapng block length not a multiple of 4", func() []byte {
			c := bytes.Clone(ng)
			binary.LittleEndian.PutUint32(c[nOffs[6]+4:], binary.LittleEndian.Uint32(c[nOffs[6]+4:])+2)
			return c
		}(), 7, nOffs[6], "corrupt block at byte " + strconv.Itoa(nOffs[6]), map[record.Kind]int{record.KindDNS: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Read(bytes.NewReader(tc.data), "bad.cap", Options{})
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *CorruptError", err)
			}
			if tc.packet > 0 && ce.Packet != tc.packet {
				t.Errorf("packet %d, want %d (%v)", ce.Packet, tc.packet, err)
			}
			if tc.offset >= 0 && ce.Offset != int64(tc.offset) {
				t.Errorf("offset %d, want %d (%v)", ce.Offset, tc.offset, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "bad.cap: packet ") || !strings.Contains(msg, "byte offset") || !strings.Contains(msg, tc.words) {
				t.Errorf("message %q does not say where and what (want %q)", msg, tc.words)
			}
			if res == nil {
				t.Fatal("no result for the packets before the damage")
			}
			got := kinds(res.Observations)
			for k, n := range tc.wantKind {
				if got[k] < n {
					t.Errorf("%d %s observations before the damage, want at least %d (%v)", got[k], k, n, got)
				}
			}
		})
	}
	for _, tc := range []struct{ name, data, words string }{
		{"empty", "", "empty file"},
		{"text", "this is a text file, not a capture\n", "unknown magic"},
		{"short", "\xd4\xc3", "too short"},
		{"pcap header cut", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00", "pcap file header"},
		{"pcapng header cut", "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00", "pcapng header"},
		{"gzip garbage", "\x1f\x8bnot really gzip", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Read(strings.NewReader(tc.data), "x.cap", Options{})
			if !errors.Is(err, ErrNotCapture) || res != nil {
				t.Fatalf("Read = %v, %v; want ErrNotCapture", res, err)
			}
			if !strings.Contains(err.Error(), tc.words) || !strings.HasPrefix(err.Error(), "x.cap: ") {
				t.Errorf("message %q, want the file name and %q", err, tc.words)
			}
		})
	}
}

// TestPcapByteOrders reads one capture written in all four classic pcap
// flavours (little/big endian, micro/nanoseconds): the observations match.
func TestPcapByteOrders(t *testing.T) {
	le, err := os.ReadFile("testdata/tls12-wrongname.pcap")
	if err != nil {
		t.Fatal(err)
	}
	base, err := Read(bytes.NewReader(le), "le", Options{})
	if err != nil {
		t.Fatal(err)
	}
	convert := func(big, nanos bool) []byte {
		var out []byte
		var o binary.AppendByteOrder = binary.LittleEndian
		if big {
			o = binary.BigEndian
		}
		magic := uint32(pcapMagicMicro)
		if nanos {
			magic = pcapMagicNano
		}
		h := le[:pcapHeaderLen]
		out = o.AppendUint32(out, magic)
		out = o.AppendUint16(out, binary.LittleEndian.Uint16(h[4:]))
		out = o.AppendUint16(out, binary.LittleEndian.Uint16(h[6:]))
		for i := 8; i < 24; i += 4 {
			out = o.AppendUint32(out, binary.LittleEndian.Uint32(h[i:]))
		}
		for _, off := range pcapOffsets(le) {
			r := le[off:]
			frac := binary.LittleEndian.Uint32(r[4:])
			if nanos {
				frac *= 1000
			}
			out = o.AppendUint32(out, binary.LittleEndian.Uint32(r))
			out = o.AppendUint32(out, frac)
			out = o.AppendUint32(out, binary.LittleEndian.Uint32(r[8:]))
			out = o.AppendUint32(out, binary.LittleEndian.Uint32(r[12:]))
			n := int(binary.LittleEndian.Uint32(r[8:]))
			out = append(out, r[16:16+n]...)
		}
		return out
	}
	for _, v := range []struct {
		name       string
		big, nanos bool
	}{{"big-endian", true, false}, {"big-endian nanoseconds", true, true}, {"little-endian nanoseconds", false, true}} {
		res, err := Read(bytes.NewReader(convert(v.big, v.nanos)), v.name, Options{})
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		if len(res.Observations) != len(base.Observations) || len(res.Observations) == 0 {
			t.Fatalf("%s: %d observations, want %d", v.name, len(res.Observations), len(base.Observations))
		}
		for i, o := range res.Observations {
			b := base.Observations[i]
			if o.SNI != b.SNI || o.Visibility != b.Visibility || !o.Time.Equal(b.Time) || len(o.Chain) != len(b.Chain) {
				t.Errorf("%s: observation %d differs: %+v vs %+v", v.name, i, o, b)
			}
		}
	}
}
