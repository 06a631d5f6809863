package capture

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// fragment4 splits an IPv4 packet into fragments carrying at most size
// payload bytes each (a multiple of 8), as a router would (RFC 791).
func fragment4(ip []byte, size int, id uint16) [][]byte {
	ihl := int(ip[0]&0x0f) * 4
	payload := ip[ihl:]
	if len(payload) <= size {
		return [][]byte{ip}
	}
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		f := append(append([]byte(nil), ip[:ihl]...), payload[off:end]...)
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		binary.BigEndian.PutUint16(f[4:], id)
		fl := uint16(off / 8)
		if end < len(payload) {
			fl |= 0x2000
		}
		binary.BigEndian.PutUint16(f[6:], fl)
		f[10], f[11] = 0, 0
		var sum uint32
		for i := 0; i < ihl; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(f[i:]))
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		binary.BigEndian.PutUint16(f[10:], ^uint16(sum))
		out = append(out, f)
	}
	return out
}

// fragment6 splits an IPv6 packet (no extension headers) into fragments
// with a Fragment header (RFC 8200 §4.5); ext, when set, is put in front
// of the Fragment header as an unfragmentable hop-by-hop header.
func fragment6(ip []byte, size int, id uint32, ext bool) [][]byte {
	next := ip[6]
	payload := ip[40:]
	var out [][]byte
	for off := 0; off < len(payload) || off == 0; off += size {
		end := min(off+size, len(payload))
		h := append([]byte(nil), ip[:40]...)
		var exts []byte
		if ext {
			exts = append(exts, 44, 0, 1, 4, 0, 0, 0, 0) // hop-by-hop: PadN option
			h[6] = 0
		} else {
			h[6] = 44
		}
		fh := make([]byte, 8)
		fh[0] = next
		fl := uint16(off)
		if end < len(payload) {
			fl |= 1
		}
		binary.BigEndian.PutUint16(fh[2:], fl)
		binary.BigEndian.PutUint32(fh[4:], id)
		f := append(append(append(h, exts...), fh...), payload[off:end]...)
		binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
		out = append(out, f)
		if end == len(payload) {
			break
		}
	}
	return out
}

// TestDecodeFragments: a capture whose IPv4 and IPv6 packets are all
// fragmented (IPv6 ones behind a hop-by-hop header, some fragments out of
// order and duplicated) gives the same observations as the capture
// before fragmentation.
func TestDecodeFragments(t *testing.T) {
	p := newGenPKI(t)
	f := newCapFile(t)
	f.tcp(cliPort(1), mailIP+":443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("autodiscover.contoso.test", tls.VersionTLS12)), segOpts{})
	f.tcp("[2001:db8::10]:50002", "[2001:db8::25]:443", 0, tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("mail.contoso.test", tls.VersionTLS12)), segOpts{})
	big := make([]layers.DNSResourceRecord, 0, 40)
	for i := range 40 { // an answer of about 1.3 KB
		big = append(big, aRecord("autodiscover.contoso.test", "192.0.2."+strconv.Itoa(10+i)))
	}
	q := layers.DNSQuestion{Name: []byte("autodiscover.contoso.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}
	f.dns(cli1+":5353", dnsIP+":53", 0, 9, q, big...)
	f.dns("[2001:db8::10]:5353", "[2001:db8::53]:53", 0, 10, q, big...)

	whole := filepath.Join(t.TempDir(), "whole.pcap")
	f.write(whole, ethOnly)
	var pkts []gpkt
	for i, pk := range f.pkts {
		var frags [][]byte
		if pk.v6 {
			frags = fragment6(pk.ip, 512, uint32(i), i%2 == 0)
		} else {
			frags = fragment4(pk.ip, 296, uint16(i))
		}
		if len(frags) > 2 {
			frags[0], frags[1] = frags[1], frags[0] // out of order
			frags = append(frags, frags[1])         // and a duplicate
		}
		for _, fr := range frags {
			pkts = append(pkts, gpkt{at: pk.at, ip: fr, v6: pk.v6})
		}
	}
	if len(pkts) < len(f.pkts)+10 {
		t.Fatalf("only %d packets from %d: fragmentation did not happen", len(pkts), len(f.pkts))
	}
	f.pkts = pkts
	split := filepath.Join(t.TempDir(), "split.pcapng")
	f.write(split, fileSpec{ng: true, links: []link{linkSLL2}}) // the gopacket link path too

	want := readJSON(t, whole)
	got := readJSON(t, split)
	if !bytes.Equal(got, want) {
		t.Errorf("fragmented capture gives other observations:\n got %s\nwant %s", got, want)
	}
	if !bytes.Contains(want, []byte(`"sni":"autodiscover.contoso.test"`)) || !bytes.Contains(want, []byte(`"value":"192.0.2.49"`)) {
		t.Fatalf("the reference capture lacks the TLS connection or the DNS answer: %s", want)
	}
}

// readJSON reads a capture and encodes its observations.
func readJSON(t *testing.T, name string) []byte {
	t.Helper()
	in, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res, err := Read(in, filepath.Base(name), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res.Observations)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeExtHeaders: IPv6 TCP behind extension headers decodes; a
// fragment cut by the snap length never completes; incomplete datagrams
// are bounded.
func TestDecodeExtHeaders(t *testing.T) {
	tcp := []byte{0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0, 'h', 'i'}
	v6 := func(next byte, rest []byte) []byte {
		h := make([]byte, 40)
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(len(rest)))
		h[6], h[7] = next, 64
		h[8], h[23] = 0x20, 1
		h[24], h[39] = 0x20, 2
		return append(h, rest...)
	}
	hbh := func(next byte) []byte { return []byte{next, 0, 1, 4, 0, 0, 0, 0} }
	ah := []byte{6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1} // AH: 12 bytes, length field 1
	atomic := []byte{6, 0, 0, 0, 0, 0, 0, 7}         // fragment header, offset 0, M 0
	for _, tc := range []struct {
		name string
		ip   []byte
		ok   bool
	}{
		{"plain", v6(6, tcp), true},
		{"hop-by-hop", v6(0, append(hbh(6), tcp...)), true},
		{"hop-by-hop, destination options", v6(0, append(hbh(60), append(hbh(6), tcp...)...)), true},
		{"authentication header", v6(51, append(ah, tcp...)), true},
		{"atomic fragment", v6(44, append(atomic, tcp...)), true},
		{"extension header cut short", v6(0, []byte{6, 3, 0, 0}), false},
		{"nine extension headers", v6(0, bytes.Repeat(hbh(0), 9)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecoder()
			var p packet
			ok := d.decode(linkTypeRaw, tc.ip, &p, 0)
			if ok != tc.ok {
				t.Fatalf("decode = %v; want %v", ok, tc.ok)
			}
			if ok && (!p.tcp || p.sport != 50000 || p.dport != 443 || string(p.payload) != "hi") {
				t.Errorf("decoded %+v; want TCP 50000 -> 443 carrying \"hi\"", p)
			}
		})
	}

	t.Run("cut fragment", func(t *testing.T) {
		d := newDecoder()
		ip := v6(17, append([]byte{0x14, 0xe9, 0, 53, 0, 108, 0, 0}, make([]byte, 100)...))
		frags := fragment6(ip, 64, 1, false)
		var p packet
		if d.decode(linkTypeRaw, frags[0][:60], &p, 0) || d.decode(linkTypeRaw, frags[1], &p, 0) {
			t.Fatal("a datagram with a fragment cut by the snap length was decoded")
		}
	})

	t.Run("bounded", func(t *testing.T) {
		d := newDecoder()
		ip := v6(17, append([]byte{0x14, 0xe9, 0, 53, 0, 108, 0, 0}, make([]byte, 100)...))
		var p packet
		for i := range 3 * maxDatagrams {
			d.decode(linkTypeRaw, fragment6(ip, 64, uint32(i), false)[0], &p, int64(i))
			if len(d.frags.m) > maxDatagrams {
				t.Fatalf("%d incomplete datagrams kept; want at most %d", len(d.frags.m), maxDatagrams)
			}
		}
		// The newest incomplete datagram is still there and completes.
		last := fragment6(ip, 64, uint32(3*maxDatagrams-1), false)
		if !d.decode(linkTypeRaw, last[1], &p, int64(3*maxDatagrams)) || p.tcp || p.dport != 53 || len(p.payload) != 100 {
			t.Errorf("the newest datagram did not complete: %+v", p)
		}
	})
}

// FuzzDefrag feeds a run of raw IP packets (each prefixed by a two-byte
// length) to one decoder: fragments in any order, overlapping or lying
// must never panic, and a decoded payload is never longer than the bytes
// that were fed.
func FuzzDefrag(f *testing.F) {
	ip4 := make([]byte, 20+8+40)
	ip4[0], ip4[9] = 0x45, 17
	binary.BigEndian.PutUint16(ip4[2:], uint16(len(ip4)))
	binary.BigEndian.PutUint16(ip4[24:], 48)
	var seed []byte
	for _, fr := range fragment4(ip4, 16, 7) {
		seed = binary.BigEndian.AppendUint16(seed, uint16(len(fr)))
		seed = append(seed, fr...)
	}
	f.Add(seed)
	ip6 := make([]byte, 40+8+40)
	ip6[0], ip6[6] = 0x60, 17
	binary.BigEndian.PutUint16(ip6[4:], 48)
	binary.BigEndian.PutUint16(ip6[44:], 48)
	seed = nil
	for _, fr := range fragment6(ip6, 16, 9, true) {
		seed = binary.BigEndian.AppendUint16(seed, uint16(len(fr)))
		seed = append(seed, fr...)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		d := newDecoder()
		var p packet
		for i := 0; len(data) >= 2; i++ {
			n := min(int(binary.BigEndian.Uint16(data)), len(data)-2)
			pk := data[2 : 2+n]
			data = data[2+n:]
			if d.decode(linkTypeRaw, pk, &p, int64(i)*1e9) && len(p.payload) > maxDatagramSize {
				t.Fatalf("payload of %d bytes", len(p.payload))
			}
			if len(d.frags.m) > maxDatagrams {
				t.Fatalf("%d datagrams kept", len(d.frags.m))
			}
		}
	})
}
