package capture

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// TestHalfSegments feeds one direction segments in awkward orders and
// checks the reassembled bytes and the gap it reports.
func TestHalfSegments(t *testing.T) {
	type sg struct {
		seq     uint32
		data    string
		fullLen int // 0: len(data)
	}
	const base = 1000
	for _, tc := range []struct {
		name  string
		start uint32 // first sequence number (the SYN's + 1)
		segs  []sg
		want  string
		gap   gap
	}{
		{"in order", base, []sg{{base, "abc", 0}, {base + 3, "def", 0}}, "abcdef", gapNone},
		{"swapped", base, []sg{{base + 3, "def", 0}, {base, "abc", 0}}, "abcdef", gapNone},
		{"retransmitted", base, []sg{{base, "abc", 0}, {base, "abc", 0}, {base + 3, "def", 0}, {base + 3, "def", 0}}, "abcdef", gapNone},
		{"overlapping repacketized", base, []sg{{base, "abcd", 0}, {base + 2, "cdef", 0}, {base + 6, "gh", 0}}, "abcdefgh", gapNone},
		{"waiting segment retransmitted", base, []sg{{base + 3, "def", 0}, {base + 3, "def", 0}, {base, "abc", 0}}, "abcdef", gapNone},
		{"reverse order", base, []sg{{base + 6, "ghi", 0}, {base + 3, "def", 0}, {base, "abc", 0}}, "abcdefghi", gapNone},
		{"across the sequence wrap", 0xffff_fffe, []sg{{0xffff_fffe, "abc", 0}, {1, "def", 0}}, "abcdef", gapNone},
		{"wrap out of order", 0xffff_fffe, []sg{{1, "def", 0}, {0xffff_fffe, "abc", 0}}, "abcdef", gapNone},
		{"old segment far behind", base, []sg{{base, "abc", 0}, {base + 3 + 1<<31, "zzz", 0}, {base + 3, "def", 0}}, "abcdef", gapNone},
		{"cut by the snap length", base, []sg{{base, "abc", 10}}, "abc", gapTruncated},
		{"a hole never filled", base, []sg{{base, "abc", 0}, {base + 10, "xyz", 0}}, "abc", gapLost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &half{started: true, next: tc.start}
			var got []byte
			for _, s := range tc.segs {
				fl := s.fullLen
				if fl == 0 {
					fl = len(s.data)
				}
				if h.segment(s.seq, []byte(s.data), fl, 100, false) {
					got = append(got, h.buf...)
					h.consume(len(h.buf))
					h.keep()
				}
			}
			h.finish()
			if string(got) != tc.want || h.gap != tc.gap {
				t.Errorf("got %q gap %d, want %q gap %d", got, h.gap, tc.want, tc.gap)
			}
		})
	}
}

// TestHalfPadding: bytes that may be Ethernet padding counted as payload
// (packet.paddingLike) are held until the sender's next segment says
// whether they were data: its data at the same sequence number replaces
// them, data after them makes them data.
func TestHalfPadding(t *testing.T) {
	type sg struct {
		seq  uint32
		data string
		pad  bool
	}
	const base = 1000
	zeros2, zeros6 := "\x00\x00", "\x00\x00\x00\x00\x00\x00"
	for _, tc := range []struct {
		name string
		segs []sg
		want string
	}{
		{"padding, then the data at the same sequence number", []sg{{base, zeros2, true}, {base, "abc", false}, {base + 3, zeros6, true}, {base + 3, "def", false}}, "abcdef"},
		{"padding twice, then the data", []sg{{base, zeros2, true}, {base, zeros6, true}, {base, "abc", false}}, "abc"},
		{"zeros that were data", []sg{{base, zeros2, true}, {base + 2, "abc", false}}, zeros2 + "abc"},
		{"zeros that were data, the next segment early", []sg{{base, zeros2, true}, {base + 5, "def", false}, {base + 2, "abc", false}}, zeros2 + "abcdef"},
		{"padding out of order is dropped", []sg{{base + 3, zeros2, true}, {base, "abc", false}, {base + 3, "def", false}}, "abcdef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &half{started: true, next: base}
			var got []byte
			for _, s := range tc.segs {
				if h.segment(s.seq, []byte(s.data), len(s.data), 100, s.pad) {
					got = append(got, h.buf...)
					h.consume(len(h.buf))
					h.keep()
				}
			}
			h.finish()
			if string(got) != tc.want || h.gap != gapNone {
				t.Errorf("got %q gap %d, want %q", got, h.gap, tc.want)
			}
		})
	}
}

// TestHalfBounds checks that a direction stops buffering, with the right
// gap, instead of growing: too many waiting segments, too many bytes.
func TestHalfBounds(t *testing.T) {
	h := &half{started: true, next: 0}
	for i := 1; i <= maxPending+1; i++ {
		h.segment(uint32(i*10), []byte("0123456789"), 10, 100, false)
	}
	if !h.done || h.gap != gapLost || h.pend != nil {
		t.Errorf("after %d waiting segments: done %v gap %d pending %d", maxPending+1, h.done, h.gap, len(h.pend))
	}
	h = &half{started: true, next: 0}
	chunk := bytes.Repeat([]byte("x"), 1000)
	seq := uint32(0)
	for i := 0; i < maxBuffered/1000+2 && !h.done; i++ {
		h.segment(seq, chunk, len(chunk), 1100, false)
		h.keep() // nothing consumes: the parser is waiting for more
		seq += 1000
	}
	if !h.done || h.gap != gapOverflow || h.buf != nil {
		t.Errorf("after %d unconsumed bytes: done %v gap %d buffered %d", seq, h.done, h.gap, len(h.buf))
	}
}

// TestKeyLogMismatch reads a TLS 1.3 capture with key logs that do not fit
// it: the certificate stays encrypted and the note says why.
func TestKeyLogMismatch(t *testing.T) {
	data, err := os.ReadFile("testdata/tls13-keylog-aes128.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile("testdata/tls13-keylog-aes128.pcapng.keylog")
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.ReadFile("testdata/tls13-keylog-chacha20.pcapng.keylog")
	if err != nil {
		t.Fatal(err)
	}
	// The right client random with a wrong secret of the right length.
	var wrong strings.Builder
	for _, line := range strings.Split(string(good), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "SERVER_HANDSHAKE_TRAFFIC_SECRET" {
			line = f[0] + " " + f[1] + " " + strings.Repeat("ab", len(f[2])/2)
		}
		wrong.WriteString(line + "\n")
	}
	for _, tc := range []struct {
		name, keylog, note string
	}{
		{"another connection's key log", string(other), "the key log has no SERVER_HANDSHAKE_TRAFFIC_SECRET for this connection's client random"},
		{"wrong secret", wrong.String(), "does not decrypt with the key log's secret"},
		{"empty key log", "", "the key log has no SERVER_HANDSHAKE_TRAFFIC_SECRET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kl, err := ReadKeyLog(strings.NewReader(tc.keylog))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Read(bytes.NewReader(data), "x", Options{KeyLog: kl})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Observations) != 1 {
				t.Fatalf("%d observations", len(res.Observations))
			}
			o := res.Observations[0]
			if o.Visibility != record.VisEncrypted || len(o.Chain) != 0 || !strings.Contains(o.Note, tc.note) {
				t.Errorf("visibility %q, %d certificates, note %q; want encrypted and a note with %q", o.Visibility, len(o.Chain), o.Note, tc.note)
			}
		})
	}
}

// TestReadKeyLog checks the key log reader's tolerance: comments, blank
// lines, other labels, CRLF, malformed lines counted by number.
func TestReadKeyLog(t *testing.T) {
	random := strings.Repeat("01", 32)
	in := "# SSL/TLS secrets log file\r\n\r\n" +
		"CLIENT_RANDOM " + random + " " + strings.Repeat("aa", 48) + "\r\n" +
		"SERVER_HANDSHAKE_TRAFFIC_SECRET " + random + " " + strings.Repeat("bb", 32) + "\r\n" +
		"SERVER_HANDSHAKE_TRAFFIC_SECRET " + random[:10] + " " + strings.Repeat("bb", 32) + "\n" +
		"SERVER_HANDSHAKE_TRAFFIC_SECRET " + random + " nothex\n" +
		"garbage\n"
	k, err := ReadKeyLog(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 1 || k.Lines != 7 || len(k.Bad) != 3 || k.Bad[0] != 5 || k.Bad[2] != 7 {
		t.Errorf("len %d lines %d bad %v; want 1, 7, [5 6 7]", k.Len(), k.Lines, k.Bad)
	}
	if s := k.serverHandshakeSecret(bytes.Repeat([]byte{1}, 32)); len(s) != 32 || s[0] != 0xbb {
		t.Errorf("secret %x", s)
	}
	var nilKL *KeyLog
	if nilKL.Len() != 0 || nilKL.serverHandshakeSecret(make([]byte, 32)) != nil {
		t.Error("a nil key log has keys")
	}
}
