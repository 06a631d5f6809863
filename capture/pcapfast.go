package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Classic pcap files are read by pcapReader rather than pcapgo.Reader:
// pcapgo copies every packet out of a 4 KiB bufio.Reader, which alone takes
// most of the time budget on a 1 GiB capture. pcapReader reads blocks of
// 256 KiB (more for a larger record) in a second goroutine (so file
// reading overlaps packet processing) and hands out packets in place. It accepts what pcapgo.Reader
// accepts (both byte orders, micro- and nanosecond magics); FuzzPcapReader
// compares the two (pcapgo's time is wrong for an invalid microsecond
// fraction of 1e6 or more, ours is not) and TestPcapByteOrders reads all
// four flavours.

const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	pcapHeaderLen  = 24
	pcapRecordLen  = 16
	pcapChunk      = 1 << 20
	// pcapBlock is the size blocks grow to. Reading 256 KiB at a time
	// costs no more CPU than 1 MiB (the kernel's copy is the cost, not
	// the calls: BenchmarkStream, docs/bench-pcap.md), and the three
	// blocks in use are 0.75 MiB of the heap instead of 3 MiB. A record
	// larger than a block makes the next block larger (up to pcapChunk).
	pcapBlock = 256 << 10
	// pcapMaxRecord matches pcapgo's limit for records above the snap length.
	pcapMaxRecord = 262144
)

type pcapChunkT struct {
	buf  []byte // whole records only
	base int64  // file offset of buf[0]
	err  error  // set on the last chunk when reading stopped on an error
	bad  int64  // offset of the record that could not be read
}

type pcapReader struct {
	order    binary.ByteOrder
	nanoMul  int64
	snaplen  int
	link     uint32
	maxRec   int
	chunks   chan pcapChunkT
	free     chan []byte
	stop     chan struct{}
	cur      pcapChunkT
	off      int
	finished bool
}

// newPcapReader reads the file header from hdr (24 bytes) and starts
// reading records from r, which must be positioned just after the header.
func newPcapReader(hdr []byte, r io.Reader) (*pcapReader, error) {
	if len(hdr) < pcapHeaderLen {
		return nil, errors.New("file header cut short")
	}
	p := &pcapReader{}
	switch {
	case binary.LittleEndian.Uint32(hdr) == pcapMagicMicro:
		p.order, p.nanoMul = binary.LittleEndian, 1000
	case binary.BigEndian.Uint32(hdr) == pcapMagicMicro:
		p.order, p.nanoMul = binary.BigEndian, 1000
	case binary.LittleEndian.Uint32(hdr) == pcapMagicNano:
		p.order, p.nanoMul = binary.LittleEndian, 1
	case binary.BigEndian.Uint32(hdr) == pcapMagicNano:
		p.order, p.nanoMul = binary.BigEndian, 1
	default:
		return nil, fmt.Errorf("unknown magic %08x", binary.BigEndian.Uint32(hdr))
	}
	if v := p.order.Uint16(hdr[4:]); v != 2 {
		return nil, fmt.Errorf("unknown major version %d", v)
	}
	if v := p.order.Uint16(hdr[6:]); v != 4 {
		return nil, fmt.Errorf("unknown minor version %d", v)
	}
	p.snaplen = int(p.order.Uint32(hdr[16:]))
	p.link = p.order.Uint32(hdr[20:])
	p.maxRec = max(pcapMaxRecord, p.snaplen)
	if p.maxRec > pcapChunk-pcapRecordLen {
		p.maxRec = pcapChunk - pcapRecordLen
	}
	p.chunks = make(chan pcapChunkT, 2)
	p.free = make(chan []byte, 3)
	p.stop = make(chan struct{})
	for i := 0; i < 3; i++ {
		p.free <- nil // allocated by fill, as large as the file needs
	}
	go p.fill(r)
	return p, nil
}

// fill reads blocks, cuts them at the last whole record and carries the
// rest over to the next block.
func (p *pcapReader) fill(r io.Reader) {
	defer close(p.chunks)
	var carry []byte
	base := int64(pcapHeaderLen)
	// Blocks start small (a small file costs little) and double while the
	// file fills them, up to pcapBlock; a record larger than the block
	// makes the next one larger.
	size, need := 64<<10, 0
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		if want := max(size, need); cap(buf) < want {
			buf = make([]byte, want)
		}
		buf = buf[:cap(buf)]
		n := copy(buf, carry)
		m, rerr := readSome(r, buf[n:])
		m += n
		end, bad := 0, error(nil)
		for end+pcapRecordLen <= m {
			caplen := int(p.order.Uint32(buf[end+8:]))
			origlen := int(p.order.Uint32(buf[end+12:]))
			if caplen > p.maxRec || caplen < 0 {
				bad = fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, p.snaplen)
				break
			}
			if caplen > origlen {
				bad = fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, origlen)
				break
			}
			if end+pcapRecordLen+caplen > m {
				need = pcapRecordLen + caplen
				break
			}
			end += pcapRecordLen + caplen
		}
		if rerr == nil {
			size = min(2*size, pcapBlock)
		}
		c := pcapChunkT{buf: buf[:end], base: base}
		carry = append(carry[:0], buf[end:m]...)
		base += int64(end)
		switch {
		case bad != nil:
			c.err, c.bad = bad, base
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			if len(carry) > 0 {
				c.err, c.bad = io.ErrUnexpectedEOF, base
			} else {
				c.err = io.EOF
			}
		case rerr != nil:
			c.err, c.bad = rerr, base
		}
		select {
		case p.chunks <- c:
		case <-p.stop:
			return
		}
		if c.err != nil {
			return
		}
	}
}

// readSome reads into b what one Read gives (at least one byte, unless
// at the end or on an error): a whole block from a file, and from a pipe
// what has been written so far, so that a capture still being written
// (tcpdump -w -) is read as it comes rather than a block at a time.
func readSome(r io.Reader, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for range 100 {
		n, err := r.Read(b)
		if err == io.EOF && n > 0 {
			err = nil // the next call says EOF
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// next returns the next record. data is valid until the following call.
// At the end it returns io.EOF, or another error and the offset of the
// record that could not be read.
func (p *pcapReader) next() (data []byte, tsNanos int64, origLen int, offset int64, err error) {
	for p.off >= len(p.cur.buf) {
		if p.finished {
			return nil, 0, 0, p.cur.bad, p.cur.err
		}
		if p.cur.buf != nil {
			p.free <- p.cur.buf[:cap(p.cur.buf)]
			p.cur.buf = nil
		}
		c, ok := <-p.chunks
		if !ok {
			p.finished = true
			if p.cur.err == nil {
				p.cur.err = io.EOF
			}
			continue
		}
		p.cur, p.off = c, 0
		if c.err != nil {
			p.finished = true
		}
	}
	b := p.cur.buf[p.off:]
	sec := int64(p.order.Uint32(b))
	frac := int64(p.order.Uint32(b[4:]))
	caplen := int(p.order.Uint32(b[8:]))
	origLen = int(p.order.Uint32(b[12:]))
	offset = p.cur.base + int64(p.off)
	data = b[pcapRecordLen : pcapRecordLen+caplen]
	p.off += pcapRecordLen + caplen
	return data, sec*1e9 + frac*p.nanoMul, origLen, offset, nil
}

// close stops the reading goroutine.
func (p *pcapReader) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
}
