package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// TestPcapReaderBlocks: records as large as a pcap file allows
// (262,144 bytes, more than a 256 KiB block) and records that straddle
// the blocks as they grow (64, 128, 256 KiB) are read whole and in
// order, as pcapgo reads them.
func TestPcapReaderBlocks(t *testing.T) {
	sizes := []int{60, 262144, 1500, 65000, 70000, 262144, 262144, 1, 200000, 131072, 9000}
	for range 40 { // enough records to pass through many 256 KiB blocks
		sizes = append(sizes, 1514, 262144, 40000)
	}
	var file bytes.Buffer
	hdr := make([]byte, pcapHeaderLen)
	binary.LittleEndian.PutUint32(hdr, pcapMagicMicro)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	file.Write(hdr)
	for i, n := range sizes {
		rec := make([]byte, pcapRecordLen+n)
		binary.LittleEndian.PutUint32(rec, uint32(1000+i))
		binary.LittleEndian.PutUint32(rec[8:], uint32(n))
		binary.LittleEndian.PutUint32(rec[12:], uint32(n))
		for j := pcapRecordLen; j < len(rec); j++ {
			rec[j] = byte(i + j)
		}
		file.Write(rec)
	}
	data := file.Bytes()
	gr, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	pr, err := newPcapReader(data[:pcapHeaderLen], bytes.NewReader(data[pcapHeaderLen:]))
	if err != nil {
		t.Fatal(err)
	}
	defer pr.close()
	for i, n := range sizes {
		want, ci, err := gr.ReadPacketData()
		if err != nil {
			t.Fatalf("pcapgo: record %d: %v", i, err)
		}
		got, ts, orig, _, err := pr.next()
		if err != nil {
			t.Fatalf("record %d (%d bytes): %v", i, n, err)
		}
		if !bytes.Equal(got, want) || ts != ci.Timestamp.UnixNano() || orig != n {
			t.Fatalf("record %d: %d bytes at %d (orig %d), want %d bytes at %d (orig %d)", i, len(got), ts, orig, len(want), ci.Timestamp.UnixNano(), n)
		}
	}
	if _, _, _, _, err := pr.next(); err != io.EOF {
		t.Fatalf("after the last record: %v, want EOF", err)
	}
}
