package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// pcapng files (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-04.html,
// "the draft" below) are read by ngReader: a file is a sequence of blocks
// (type, total length, body, total length again), grouped in sections
// that each start with a Section Header Block giving the section's byte
// order; packets come in Enhanced, Simple and (obsolete) Packet Blocks,
// on interfaces described by the section's Interface Description Blocks.
// Whole blocks are taken in place from the source's 256 KiB buffer (a
// larger one, up to maxNgBlock, is copied), so a packet costs no copy.
//
// It yields the packets gopacket's pcapgo.NgReader yielded (certsleuth
// read pcapng with it until 2026-12): same data, times, lengths and link
// types, pcapgo's time arithmetic included (see ngIface.nanos). It is
// stricter: a block whose lengths do not add up (too short for its
// fields, not a multiple of 4, over maxNgBlock, a trailing length that
// differs, options running past the block) is an error where pcapgo
// would read on from the wrong place; an error is never a panic and the
// packets before it are kept. TestNgReaderPcapgo and FuzzNgReader
// compare the two.

// pcapng block types (the draft, section 10.1) and option codes.
const (
	ngBlockIDB = 0x00000001 // Interface Description Block
	ngBlockPB  = 0x00000002 // Packet Block (obsolete, appendix A)
	ngBlockSPB = 0x00000003 // Simple Packet Block
	ngBlockNRB = 0x00000004 // Name Resolution Block
	ngBlockISB = 0x00000005 // Interface Statistics Block
	ngBlockEPB = 0x00000006 // Enhanced Packet Block
	ngBlockSHB = pcapngMagic

	ngOptEnd      = 0  // opt_endofopt
	ngOptTSResol  = 9  // if_tsresol
	ngOptTSOffset = 14 // if_tsoffset
)

// ngIface is one interface of the current section, with what converting
// its time stamps takes.
type ngIface struct {
	link    linkType
	snaplen uint32
	// per, up and down convert a time stamp as pcapgo did: per units a
	// second (10^n or 2^n from if_tsresol, 10^6 without it), times up
	// (10^9/per, truncated) or divided by down (per/10^9) to make
	// nanoseconds; offset is if_tsoffset's seconds.
	per, up, down, offset uint64
}

// nanos converts a time stamp of the interface to Unix nanoseconds, as
// pcapgo.NgReader did, inexactness included: for a resolution of 2^-n the
// factor 10^9/2^n is truncated first (2^-10: 976,562 ns a unit, not
// 976,562.5), and units finer than 2^-30 come out as 0 ns.
func (f *ngIface) nanos(ts uint64) int64 {
	return time.Unix(int64(ts/f.per+f.offset), int64(ts%f.per*f.up/f.down)).UnixNano()
}

// ngReader reads the packets of a pcapng file.
type ngReader struct {
	r      *bufio.Reader
	off    int64 // file offset of the next byte of r
	order  binary.ByteOrder
	ifaces []ngIface
	big    []byte // a block larger than r's buffer
}

// newNgReader reads the first Section Header Block of r, which must be
// positioned at the start of the file.
func newNgReader(r *bufio.Reader) (*ngReader, error) {
	n := &ngReader{r: r}
	var rp rawPacket
	b, err := n.block(&rp)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if binary.BigEndian.Uint32(b) != ngBlockSHB {
		return nil, errors.New("the file does not start with a section header block")
	}
	return n, nil
}

// next returns the next packet, io.EOF at the end, or another error with
// rp.offset set to the start of the block that could not be read.
func (n *ngReader) next(rp *rawPacket) error {
	for {
		b, err := n.block(rp)
		if err != nil {
			return err
		}
		body := b[8 : len(b)-4]
		o := n.order
		switch o.Uint32(b) {
		case ngBlockEPB, ngBlockPB:
			// EPB (section 4.3): interface ID (32 bits), time stamp
			// (upper and lower 32 bits), captured length, original
			// length, data, options. PB (appendix A): interface ID
			// and drops count (16 bits each), then the same.
			what := "enhanced packet block"
			if o.Uint32(b) == ngBlockPB {
				what = "packet block"
			}
			if len(body) < 20 {
				return n.corrupt("%s too short (%d bytes)", what, len(b))
			}
			id := int(o.Uint32(body))
			if o.Uint32(b) == ngBlockPB {
				id = int(o.Uint16(body))
			}
			if id >= len(n.ifaces) {
				return n.corrupt("%s on interface %d, but its section describes %d interfaces", what, id, len(n.ifaces))
			}
			caplen := o.Uint32(body[12:])
			if uint64(caplen) > uint64(len(body)-20) {
				return n.corrupt("%s of %d bytes holds a packet of %d bytes", what, len(b), caplen)
			}
			padded := 20 + int(caplen+3)&^3
			if padded > len(body) {
				return n.corrupt("%s of %d bytes holds a packet of %d bytes and its padding", what, len(b), caplen)
			}
			if o.Uint32(b) == ngBlockEPB {
				// pcapgo read the options (and failed on bad ones).
				if err := n.options(body[padded:], nil); err != nil {
					return n.corrupt("%s: %v", what, err)
				}
			}
			f := &n.ifaces[id]
			rp.data = body[20 : 20+caplen]
			rp.ts = f.nanos(uint64(o.Uint32(body[4:]))<<32 | uint64(o.Uint32(body[8:])))
			rp.origLen = int(o.Uint32(body[16:]))
			rp.link = f.link
			return nil
		case ngBlockSPB:
			// Section 4.4: the original length, then the packet, cut
			// to the first interface's snap length; no time stamp
			// (pcapgo gave the zero time.Time).
			if len(body) < 4 {
				return n.corrupt("simple packet block too short (%d bytes)", len(b))
			}
			if len(n.ifaces) == 0 {
				return n.corrupt("simple packet block before any interface description block in its section")
			}
			orig := o.Uint32(body)
			caplen := orig
			if s := n.ifaces[0].snaplen; s != 0 && caplen > s {
				caplen = s
			}
			if uint64(caplen) > uint64(len(body)-4) {
				return n.corrupt("simple packet block of %d bytes holds a packet of %d bytes", len(b), caplen)
			}
			rp.data = body[4 : 4+caplen]
			rp.ts = time.Time{}.UnixNano()
			rp.origLen = int(orig)
			rp.link = n.ifaces[0].link
			return nil
		case ngBlockSHB:
			// Handled by block.
		case ngBlockIDB:
			if err := n.idb(body); err != nil {
				return n.corrupt("interface description block: %v", err)
			}
		case ngBlockISB:
			// Section 4.6: interface ID, time stamp, options.
			if len(body) < 12 {
				return n.corrupt("interface statistics block too short (%d bytes)", len(b))
			}
			if id := int(o.Uint32(body)); id >= len(n.ifaces) {
				return n.corrupt("interface statistics block for interface %d, but its section describes %d interfaces", id, len(n.ifaces))
			}
			if err := n.options(body[12:], nil); err != nil {
				return n.corrupt("interface statistics block: %v", err)
			}
		case ngBlockNRB:
			if err := n.nrb(body); err != nil {
				return n.corrupt("name resolution block: %v", err)
			}
		default:
			// Decryption secrets (read by dsbScanner), custom and
			// unknown blocks: skipped (section 4 says so).
		}
	}
}

// block reads the next block whole and returns it (valid until the next
// call); rp.offset is set to its start. A Section Header Block is read
// here (it sets the byte order and starts a new list of interfaces).
func (n *ngReader) block(rp *rawPacket) ([]byte, error) {
	rp.offset = n.off
	head, err := n.r.Peek(12)
	if len(head) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	if len(head) < 8 {
		return nil, n.short(err)
	}
	shb := binary.BigEndian.Uint32(head) == ngBlockSHB
	if !shb && n.order == nil {
		return nil, n.corrupt("the file does not start with a section header block")
	}
	if shb {
		if len(head) < 12 {
			return nil, n.short(err)
		}
		// Section 4.1: the byte-order magic tells the section's order.
		switch {
		case binary.BigEndian.Uint32(head[8:]) == ngByteOrder:
			n.order = binary.BigEndian
		case binary.LittleEndian.Uint32(head[8:]) == ngByteOrder:
			n.order = binary.LittleEndian
		default:
			return nil, n.corrupt("section header block with an unknown byte-order magic %x", head[8:12])
		}
	}
	total := n.order.Uint32(head[4:])
	min := uint32(12)
	if shb {
		min = 28
	}
	switch {
	case total < min || total%4 != 0 || total > maxNgBlock:
		return nil, n.corrupt("block of type 0x%08x with an impossible length %d", n.order.Uint32(head), total)
	}
	var b []byte
	if int(total) <= n.r.Size() {
		if b, err = n.r.Peek(int(total)); err != nil {
			return nil, n.short(err)
		}
		n.r.Discard(int(total))
	} else {
		if cap(n.big) < int(total) {
			n.big = make([]byte, total)
		}
		b = n.big[:total]
		if m, err := io.ReadFull(n.r, b); err != nil {
			n.off += int64(m)
			return nil, n.short(err)
		}
	}
	n.off += int64(total)
	if t := n.order.Uint32(b[total-4:]); t != total {
		return nil, n.corrupt("block of type 0x%08x: its length is %d at its start and %d at its end", n.order.Uint32(b), total, t)
	}
	if shb {
		// Section 4.1: byte-order magic, major and minor version,
		// section length, options.
		body := b[8 : total-4]
		if major, minor := n.order.Uint16(body[4:]), n.order.Uint16(body[6:]); major != 1 || minor != 0 {
			return nil, n.corrupt("section header block of version %d.%d (certsleuth reads version 1.0, what Wireshark and tcpdump write)", major, minor)
		}
		if err := n.options(body[16:], nil); err != nil {
			return nil, n.corrupt("section header block: %v", err)
		}
		n.ifaces = n.ifaces[:0]
	}
	return b, nil
}

// short is the error for a file that ends inside a block.
func (n *ngReader) short(err error) error {
	if err == nil || err == io.EOF || err == bufio.ErrBufferFull {
		return io.ErrUnexpectedEOF
	}
	return err
}

// corrupt makes an error about the block just read (the CorruptError
// around it gives the block's offset, rawPacket.offset).
func (n *ngReader) corrupt(format string, args ...any) error {
	return fmt.Errorf("pcapng: "+format, args...)
}

// options walks a block's options (section 3.5: code and length, 16 bits
// each, the value padded to 4 bytes; opt_endofopt ends them, as does the
// end of the block) and calls fn, when not nil, with each.
func (n *ngReader) options(b []byte, fn func(code uint16, v []byte)) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("%d bytes left for an option", len(b))
		}
		code, l := n.order.Uint16(b), int(n.order.Uint16(b[2:]))
		if code == ngOptEnd {
			if l != 0 {
				return fmt.Errorf("end of options of length %d", l)
			}
			return nil
		}
		padded := 4 + (l+3)&^3
		if padded > len(b) {
			return fmt.Errorf("option %d of %d bytes runs past the block", code, l)
		}
		if fn != nil {
			fn(code, b[4:4+l])
		}
		b = b[padded:]
	}
	return nil
}

// idb reads an Interface Description Block's body (section 4.2: link
// type, reserved, snap length, options) into a new interface.
func (n *ngReader) idb(body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("too short (%d bytes)", len(body)+12)
	}
	f := ngIface{link: linkType(n.order.Uint16(body)), snaplen: n.order.Uint32(body[4:])}
	resol := byte(0)
	err := n.options(body[8:], func(code uint16, v []byte) {
		switch {
		case code == ngOptTSResol && len(v) >= 1:
			resol = v[0]
		case code == ngOptTSOffset && len(v) >= 8:
			f.offset = n.order.Uint64(v)
		}
	})
	if err != nil {
		return err
	}
	// if_tsresol (section 4.2): 10^-n seconds, or 2^-n with the top bit
	// set; 10^-6 without it. pcapgo took a value of 0 (seconds) for
	// the default too, and refused exponents over 63.
	if resol == 0 {
		resol = 6
	}
	exp := uint64(resol & 0x7f)
	if exp > 63 {
		return fmt.Errorf("time stamp resolution with exponent %d", exp)
	}
	if resol&0x80 != 0 {
		f.per = 1 << exp
	} else {
		f.per = 1
		for range exp {
			f.per *= 10 // wraps past 10^19, as pcapgo's did
		}
	}
	f.up, f.down = 1, 1
	if f.per < 1e9 {
		f.up = 1e9 / f.per
	} else {
		f.down = f.per / 1e9
	}
	n.ifaces = append(n.ifaces, f)
	return nil
}

// nrb checks a Name Resolution Block's records (section 4.5: type and
// length, 16 bits each, the value padded to 4 bytes; nrb_record_end ends
// them): certsleuth does not use the names, but pcapgo failed on a
// record too short for its address.
func (n *ngReader) nrb(b []byte) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("%d bytes left for a record", len(b))
		}
		typ, l := n.order.Uint16(b), int(n.order.Uint16(b[2:]))
		if typ == 0 {
			return nil
		}
		padded := 4 + (l+3)&^3
		if padded > len(b) {
			return fmt.Errorf("record of type %d and %d bytes runs past the block", typ, l)
		}
		if need := [5]int{0, 4, 16, 6, 8}; int(typ) < len(need) && l < need[typ] {
			return fmt.Errorf("record of type %d too short for its address (%d bytes)", typ, l)
		}
		b = b[padded:]
	}
	return nil
}
