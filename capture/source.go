package capture

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Magic numbers that tell the file formats apart.
const (
	pcapngMagic = 0x0A0D0D0A
	gzipMagic0  = 0x1f
	gzipMagic1  = 0x8b
)

// countingReader counts the bytes read through it, so the byte offset of a
// packet can be given when the file turns out to be corrupt.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// source yields the packets of one capture file with their link types.
type source struct {
	format  string // "pcap" or "pcapng", with " (gzip)" when compressed
	gzip    bool
	cr      *countingReader
	br      *bufio.Reader
	pcap    *pcapgo.Reader
	ng      *pcapgo.NgReader
	link    layers.LinkType
	snaplen int
}

// offset is the byte offset (in the decompressed data) of the next unread byte.
func (s *source) offset() int64 { return s.cr.n - int64(s.br.Buffered()) }

// openSource detects gzip, pcap and pcapng by their magic numbers.
func openSource(r io.Reader) (*source, error) {
	in := bufio.NewReaderSize(r, 64<<10)
	magic, err := in.Peek(2)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: not a pcap or pcapng capture")
		}
		return nil, err
	}
	s := &source{}
	var raw io.Reader = in
	if magic[0] == gzipMagic0 && magic[1] == gzipMagic1 {
		gz, err := gzip.NewReader(in)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		raw, s.gzip = gz, true
	}
	s.cr = &countingReader{r: raw}
	// pcapgo wraps its input in bufio.NewReader, which returns a
	// *bufio.Reader of at least 4 KiB unchanged: the offsets stay exact.
	s.br = bufio.NewReaderSize(s.cr, 1<<20)
	head, err := s.br.Peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("file too short (%d bytes): not a pcap or pcapng capture", len(head))
		}
		return nil, err
	}
	m := uint32(head[0])<<24 | uint32(head[1])<<16 | uint32(head[2])<<8 | uint32(head[3])
	if m == pcapngMagic {
		s.format = "pcapng"
		s.ng, err = pcapgo.NewNgReader(s.br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("pcapng header: %w", err)
		}
		if s.ng.NInterfaces() > 0 {
			if iface, err := s.ng.Interface(0); err == nil {
				s.snaplen = int(iface.SnapLength)
			}
		}
	} else {
		s.format = "pcap"
		s.pcap, err = pcapgo.NewReader(s.br)
		if err != nil {
			return nil, fmt.Errorf("not a pcap or pcapng capture: %w", err)
		}
		// The top four bits may hold the FCS length (pcap-linktype(7)).
		s.link = layers.LinkType(uint32(s.pcap.LinkType()) & 0x0FFFFFFF)
		s.snaplen = int(s.pcap.Snaplen())
	}
	if s.gzip {
		s.format += " (gzip)"
	}
	return s, nil
}

// next returns the next packet. data is valid until the following call.
func (s *source) next() (data []byte, ci gopacket.CaptureInfo, link layers.LinkType, err error) {
	if s.pcap != nil {
		data, ci, err = s.pcap.ZeroCopyReadPacketData()
		return data, ci, s.link, err
	}
	data, ci, err = s.ng.ZeroCopyReadPacketData()
	link = layers.LinkTypeEthernet
	if len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			link = lt
		}
	}
	if ci.Timestamp.IsZero() {
		ci.Timestamp = time.Unix(0, 0)
	}
	return data, ci, link, err
}
