package capture

import (
	"encoding/binary"
	"fmt"
	"io"
)

// pcapng Decryption Secrets Blocks (draft-ietf-opsawg-pcapng, "Decryption
// Secrets Block"): what `editcap --inject-secrets tls,KEYLOG` writes, and
// what Wireshark decrypts with when no key log file is configured.
const (
	ngBlockDSB     = 0x0000000A
	ngByteOrder    = 0x1A2B3C4D
	secretsTLS     = 0x544c534b // "TLSK": NSS key log text
	minDSBLength   = 20         // type, length, secrets type, secrets length, trailing length
	maxSecretsLen  = 1 << 30    // Wireshark's bound too: a larger length is a corrupt block
	maxEmbeddedBad = 1024       // line numbers kept in an embedded KeyLog's Bad
)

// maxEmbeddedSecrets bounds the secrets kept from one file: two per TLS
// 1.3 connection, about 120 bytes each (BenchmarkDSB), so at most 30 MiB
// for 131,072 connections. A variable for the tests.
var maxEmbeddedSecrets = 1 << 18

// secretsTypeName names the secrets types of the pcapng specification.
func secretsTypeName(t uint32) string {
	switch t {
	case secretsTLS:
		return "a TLS key log"
	case 0x5353484b:
		return "an SSH key log"
	case 0x57474b4c:
		return "a WireGuard key log"
	case 0x5a4e574b:
		return "a Zigbee NWK key"
	case 0x5a415053:
		return "a Zigbee APS key"
	case 0x55414b4c:
		return "an OPC UA key log"
	}
	return "an unknown kind of secrets"
}

// dsbScanner passes a pcapng file through unchanged while it follows the
// block structure (each section's byte order, block types and total
// lengths, as pcapgo does), and feeds the text of every TLS key log
// Decryption Secrets Block to a KeyLog as the bytes go by: nothing is
// buffered but an unfinished key log line. It sits below the reader's
// bufio.Reader, so a block's secrets are known before the packets after
// it are decoded. A stream that does not start with a Section Header
// Block (pcap) is passed through untouched.
//
// The secrets go into keys, made at the first TLS key log block and put
// in *dst (the reader's Options.KeyLog, see attach) with the key log that
// was there as its also (searched first). Problems with blocks go to
// *problems.
type dsbScanner struct {
	r   io.Reader
	off int64 // file offset of the next byte to read from r
	st  dsbState
	big bool // the current section is big-endian

	hdr  [16]byte // the first bytes of the current block
	hdrN int
	need int // bytes of hdr wanted before the block can be judged

	// corrupt describes the first block whose length is impossible, at
	// file offset corruptAt; "" when none was met.
	corrupt   string
	corruptAt int64

	start  int64  // file offset of the current block
	length uint32 // its total length
	rest   int64  // bytes of the current block still to pass after the secrets
	secret int64  // secrets bytes still to pass (dsbSecrets)
	inDSB  bool   // the current block is a DSB
	tlsk   bool   // ... with a TLS key log

	keys      *KeyLog
	local     *KeyLog // where keys go before attach
	dst       **KeyLog
	lines     lineSplitter
	lineFn    func(b []byte, long bool)
	blockLine int // lines of the current block
	blockBad  int // malformed ones among them
	firstBad  int // the first of those, 1-based within the block
	full      bool

	noted    map[uint32]bool // secrets types already reported as unused
	name     string
	attached bool
	problems *[]string
	pending  []string
}

type dsbState uint8

const (
	dsbStart   dsbState = iota // reading the first block's header: is this pcapng?
	dsbHead                    // reading a block's first bytes into hdr
	dsbSkip                    // passing rest bytes of a block
	dsbSecrets                 // passing secret bytes of a DSB (then rest)
	dsbOff                     // not pcapng, or lost: pass everything
)

// maxNgBlock is the longest pcapng block accepted: Wireshark's limit
// (wiretap/pcapng.c MAX_BLOCK_SIZE, 16 MiB).
const maxNgBlock = 16 << 20

func newDSBScanner(r io.Reader) *dsbScanner {
	s := &dsbScanner{r: r, st: dsbStart, need: 8}
	s.dst = &s.local
	s.problems = &s.pending
	s.lineFn = s.line
	return s
}

// attach puts the embedded secrets (those read so far, and those to
// come) into *dst, with the key log there as their also, and the
// problems, prefixed with name, into *problems.
func (s *dsbScanner) attach(dst **KeyLog, problems *[]string, name string) {
	if s.attached {
		return
	}
	s.attached, s.name = true, name
	if s.keys != nil {
		s.keys.also = *dst
		*dst = s.keys
	}
	s.dst = dst
	for _, p := range s.pending {
		*problems = append(*problems, name+": "+p)
	}
	s.pending = nil
	s.problems = problems
}

func (s *dsbScanner) problem(format string, args ...any) {
	p := fmt.Sprintf("decryption secrets block at byte offset %d: ", s.start) + fmt.Sprintf(format, args...)
	if s.attached {
		p = s.name + ": " + p
	}
	*s.problems = append(*s.problems, p)
}

func (s *dsbScanner) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 && s.st != dsbOff {
		s.scan(p[:n])
	}
	s.off += int64(n)
	if err == io.EOF && s.inDSB {
		s.eof()
	}
	return n, err
}

func (s *dsbScanner) u32(b []byte) uint32 {
	if s.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// scan follows the blocks through p, which starts at file offset s.off.
func (s *dsbScanner) scan(p []byte) {
	pos := 0
	for pos < len(p) {
		switch s.st {
		case dsbStart, dsbHead:
			if s.hdrN == 0 {
				if s.st == dsbHead {
					if pos = s.skipBlocks(p, pos); pos == len(p) {
						return
					}
				}
				s.start = s.off + int64(pos)
			}
			c := copy(s.hdr[s.hdrN:s.need], p[pos:])
			s.hdrN += c
			pos += c
			if s.hdrN == s.need {
				s.judge()
			}
		case dsbSkip:
			if int64(len(p)-pos) < s.rest {
				s.rest -= int64(len(p) - pos)
				return
			}
			pos += int(s.rest)
			s.next()
		case dsbSecrets:
			c := len(p) - pos
			if int64(c) > s.secret {
				c = int(s.secret)
			}
			if s.tlsk && !s.full {
				s.lines.write(p[pos:pos+c], s.lineFn)
			}
			pos += c
			s.secret -= int64(c)
			if s.secret == 0 {
				s.endSecrets(true)
				s.skip(s.rest)
			}
		default:
			return
		}
	}
}

// skipBlocks passes the blocks that lie wholly in p from pos on and are
// neither DSBs nor section headers (nearly all of them), and returns where
// the first other one starts.
func (s *dsbScanner) skipBlocks(p []byte, pos int) int {
	if s.big {
		for len(p)-pos >= 8 {
			typ, n := binary.BigEndian.Uint32(p[pos:]), binary.BigEndian.Uint32(p[pos+4:])
			if typ == ngBlockDSB || typ == pcapngMagic || n < 12 || n%4 != 0 || int64(n) > int64(len(p)-pos) {
				break
			}
			pos += int(n)
		}
		return pos
	}
	for len(p)-pos >= 8 {
		typ, n := binary.LittleEndian.Uint32(p[pos:]), binary.LittleEndian.Uint32(p[pos+4:])
		if typ == ngBlockDSB || typ == pcapngMagic || n < 12 || n%4 != 0 || int64(n) > int64(len(p)-pos) {
			break
		}
		pos += int(n)
	}
	return pos
}

// judge decides what the block whose first hdrN bytes are in hdr is,
// asking for more of them (need) when they are not enough: 12 for a
// Section Header Block (its byte order comes after its length), 16 for a
// DSB (secrets type and length).
func (s *dsbScanner) judge() {
	if binary.BigEndian.Uint32(s.hdr[:4]) == pcapngMagic { // the same in both orders
		if s.hdrN < 12 {
			s.need = 12
			return
		}
		switch bom := s.hdr[8:12]; {
		case binary.BigEndian.Uint32(bom) == ngByteOrder:
			s.big = true
		case binary.LittleEndian.Uint32(bom) == ngByteOrder:
			s.big = false
		default:
			s.st = dsbOff // pcapgo stops here too ("Wrong byte order value")
			return
		}
		s.st = dsbHead
		s.length = s.u32(s.hdr[4:8])
		if s.length < 12 {
			s.st = dsbOff
			return
		}
		s.skip(int64(s.length) - 12)
		return
	}
	if s.st == dsbStart {
		s.st = dsbOff // pcap, or not a capture
		return
	}
	typ := s.u32(s.hdr[:4])
	s.length = s.u32(s.hdr[4:8])
	if s.length < 12 || s.length%4 != 0 || s.length > maxNgBlock {
		// Not a block: pcapgo fails on it; corrupt says where and why.
		s.corrupt = fmt.Sprintf("corrupt block at byte %d: its length field says %d bytes, and a pcapng block is 12 bytes to 16 MiB, a multiple of 4 (the file is damaged there)", s.start, s.length)
		s.corruptAt = s.start
		s.st = dsbOff
		return
	}
	if typ != ngBlockDSB {
		s.skip(int64(s.length) - int64(s.hdrN))
		return
	}
	s.inDSB = true
	if s.length < minDSBLength {
		s.problem("its length %d is too short for a decryption secrets block (at least %d bytes); skipped", s.length, minDSBLength)
		s.skip(int64(s.length) - int64(s.hdrN))
		return
	}
	if s.hdrN < 16 {
		s.need = 16
		return
	}
	st, sl := s.u32(s.hdr[8:12]), s.u32(s.hdr[12:16])
	switch {
	case int64(sl) > int64(s.length)-minDSBLength:
		s.problem("%d bytes of secrets do not fit in a block of %d bytes (corrupt block); skipped", sl, s.length)
		s.skip(int64(s.length) - 16)
		return
	case sl > maxSecretsLen:
		s.problem("%d bytes of secrets are more than a key log plausibly takes (1 GiB; corrupt block); skipped", sl)
		s.skip(int64(s.length) - 16)
		return
	case st != secretsTLS:
		if !s.noted[st] {
			if s.noted == nil {
				s.noted = map[uint32]bool{}
			}
			s.noted[st] = true
			s.problem("it holds %s (secrets type 0x%08x), which certsleuth does not use (only TLS key logs, TLSK); skipped, as are any more such blocks", secretsTypeName(st), st)
		}
		s.skip(int64(s.length) - 16)
		return
	}
	s.tlsk = true
	if s.keys == nil {
		s.keys = newKeyLog()
		s.keys.also = *s.dst
		*s.dst = s.keys
	}
	s.blockLine, s.blockBad, s.firstBad = 0, 0, 0
	s.secret = int64(sl)
	s.rest = int64(s.length) - 16 - int64(sl)
	s.st = dsbSecrets
	if s.secret == 0 {
		s.endSecrets(true)
		s.skip(s.rest)
	}
}

// skip passes the next n bytes, the rest of the current block.
func (s *dsbScanner) skip(n int64) {
	s.rest = n
	s.st = dsbSkip
	if n == 0 {
		s.next()
	}
}

// next starts the next block.
func (s *dsbScanner) next() {
	s.st, s.hdrN, s.need, s.rest, s.inDSB, s.tlsk = dsbHead, 0, 8, 0, false, false
}

// line takes one line of an embedded key log.
func (s *dsbScanner) line(b []byte, long bool) {
	if s.full {
		return
	}
	k := s.keys
	k.Lines++
	s.blockLine++
	if !long && k.parseLine(b) {
		if len(k.serverHS)+len(k.clientHS)+len(k.clientApp) >= maxEmbeddedSecrets {
			s.full = true
			s.problem("more than %d secrets are embedded in the file; the rest were skipped", maxEmbeddedSecrets)
		}
		return
	}
	s.blockBad++
	if s.firstBad == 0 {
		s.firstBad = s.blockLine
	}
	if len(k.Bad) < maxEmbeddedBad {
		k.Bad = append(k.Bad, k.Lines)
	}
}

// endSecrets ends the key log text of the current block; complete is
// false when the file ends inside it: an unfinished last line is then
// dropped (it is cut, not malformed).
func (s *dsbScanner) endSecrets(complete bool) {
	if !s.tlsk {
		return
	}
	if complete {
		s.lines.end(s.lineFn)
	}
	s.lines.reset()
	if s.blockBad > 0 {
		s.problem("%d of its %d lines are not key log lines (first: line %d of the block); they were skipped", s.blockBad, s.blockLine, s.firstBad)
	}
	s.tlsk = false
}

// eof reports a DSB the file ends inside (pcapgo reports the cut file
// as such, but not what was lost).
func (s *dsbScanner) eof() {
	used := "its secrets were not used"
	if s.tlsk {
		used = "the complete key log lines before the cut were used"
	}
	s.endSecrets(false)
	s.problem("the file ends %d bytes into this block of %d bytes; %s", s.off-s.start, s.length, used)
	s.next()
	s.st = dsbOff
}
