package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// seedCaptures returns the committed test captures, decompressed.
func seedCaptures(t testing.TB) map[string][]byte {
	names, _ := filepath.Glob("testdata/*.pcap*")
	for _, dir := range []string{"real", "public"} { // captures of real software
		more, _ := filepath.Glob(filepath.Join("testdata", dir, "*.pcap*"))
		names = append(names, more...)
	}
	out := map[string][]byte{}
	for _, n := range names {
		if strings.HasSuffix(n, ".keylog") {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		out[filepath.Base(n)] = b
	}
	if len(out) == 0 {
		t.Fatal("no test captures in testdata/")
	}
	return out
}

// FuzzRead feeds arbitrary files to Read: it must not panic, must return
// either observations with well-formed endpoints or a described error.
func FuzzRead(f *testing.F) {
	for _, b := range seedCaptures(f) {
		f.Add(b)
	}
	kf, err := os.ReadFile("testdata/tls13-keylog-aes128.pcapng.keylog")
	if err != nil {
		f.Fatal(err)
	}
	kl, _ := ReadKeyLog(bytes.NewReader(kf))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Read(bytes.NewReader(data), "fuzz", Options{KeyLog: kl})
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) && !errors.Is(err, ErrNotCapture) {
				t.Fatalf("error neither corrupt nor not-a-capture: %v", err)
			}
			if ce != nil && (ce.Packet < 1 || ce.Offset < 0 || ce.Offset > int64(len(data))*2+1<<20) {
				t.Fatalf("implausible position in %v", err)
			}
		}
		if res == nil {
			return
		}
		for _, o := range res.Observations {
			if strings.HasPrefix(o.Conn, "frame#") {
				// A frame not decoded that holds a TLS handshake
				// (skipped.go): no endpoints, never judged.
				if o.Kind != record.KindTLS || o.Visibility != record.VisMissing || o.Client != "" || o.Server != "" {
					t.Fatalf("frame observation %+v", o)
				}
				continue
			}
			if _, err := netip.ParseAddrPort(o.Client); err != nil {
				t.Fatalf("client %q: %v", o.Client, err)
			}
			if _, err := netip.ParseAddrPort(o.Server); err != nil {
				t.Fatalf("server %q: %v", o.Server, err)
			}
		}
	})
}

// pcapgoPacket is one packet as pcapgo.Reader returns it.
type pcapgoPacket struct {
	data    []byte
	ts      int64
	origLen int
}

// FuzzPcapReader checks that the fast classic-pcap reader returns the
// packets pcapgo.Reader returns, and stops where pcapgo stops.
func FuzzPcapReader(f *testing.F) {
	for name, b := range seedCaptures(f) {
		if !strings.Contains(name, ".pcapng") {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < pcapHeaderLen {
			return
		}
		var want []pcapgoPacket
		gr, gerr := pcapgo.NewReader(bytes.NewReader(data))
		if gerr == nil {
			for {
				d, ci, err := gr.ReadPacketData()
				if err != nil {
					break
				}
				want = append(want, pcapgoPacket{d, ci.Timestamp.UnixNano(), ci.Length})
			}
		}
		pr, err := newPcapReader(data[:pcapHeaderLen], bytes.NewReader(data[pcapHeaderLen:]))
		if (err == nil) != (gerr == nil) {
			t.Fatalf("header: pcapgo %v, certsleuth %v", gerr, err)
		}
		if err != nil {
			return
		}
		defer pr.close()
		var got []pcapgoPacket
		var fracs []uint32
		for {
			d, ts, ol, off, err := pr.next()
			if err != nil {
				if err != io.EOF && (off < pcapHeaderLen || off > int64(len(data))) {
					t.Fatalf("error offset %d outside the file (%d bytes)", off, len(data))
				}
				break
			}
			got = append(got, pcapgoPacket{append([]byte(nil), d...), ts, ol})
			fracs = append(fracs, pr.order.Uint32(data[off+4:]))
		}
		if len(got) != len(want) {
			t.Fatalf("%d packets, pcapgo reads %d", len(got), len(want))
		}
		for i := range got {
			// pcapgo multiplies microseconds in 32 bits, so its time is
			// wrong for an invalid fraction of 1e6 µs or more; compare
			// times only where the fraction is valid.
			validFrac := pr.nanoMul == 1 && fracs[i] < 1e9 || pr.nanoMul == 1000 && fracs[i] < 1e6
			if !bytes.Equal(got[i].data, want[i].data) || validFrac && got[i].ts != want[i].ts || got[i].origLen != want[i].origLen {
				t.Fatalf("packet %d differs from pcapgo's: %d bytes at %d (orig %d), pcapgo %d bytes at %d (orig %d)",
					i+1, len(got[i].data), got[i].ts, got[i].origLen, len(want[i].data), want[i].ts, want[i].origLen)
			}
		}
	})
}

// FuzzDecodeFast checks the hand-written Ethernet/raw IP decoder against
// gopacket's DecodingLayerParser: when both find a TCP or UDP packet they
// must agree on every field certsleuth uses. (gopacket does not follow
// IPv6 extension headers or reassemble fragments: those packets are
// checked by TestDecodeFragments.)
func FuzzDecodeFast(f *testing.F) {
	for _, b := range seedCaptures(f) {
		r, err := openSource(bytes.NewReader(b))
		if err != nil {
			continue
		}
		var rp rawPacket
		for i := 0; i < 8 && r.next(&rp) == nil; i++ {
			if rp.link == linkTypeEthernet {
				f.Add(append([]byte(nil), rp.data...), false)
			}
		}
		r.close()
	}
	// GTP-U: a TCP segment inside a G-PDU with an extension header.
	gc := newCapFile(&testing.T{})
	gc.tcp(cliPort(67), mailIP+":443", 0, []chunk{{true, []byte("\x16\x03\x01\x00\x01\x01")}}, segOpts{})
	gtpuWrap(&testing.T{}, gc)
	for _, p := range gc.pkts[:4] {
		f.Add(append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00}, p.ip...), false)
		f.Add(p.ip, true)
	}
	// Tunnels and encapsulations (encap_test.go): a TCP segment in each.
	ec := newCapFile(&testing.T{})
	ec.tcp(cliPort(68), mailIP+":443", 0, []chunk{{true, []byte("\x16\x03\x01\x00\x01\x01")}}, segOpts{})
	for _, e := range encaps(&testing.T{}) {
		if e.link == layers.LinkTypeEthernet {
			f.Add(e.wrap(ec.pkts[3].ip, false), false)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		link := layers.LinkTypeEthernet
		if raw {
			link = layers.LinkTypeRaw
		}
		compareDecoders(t, link, data)
	})
}

// compareDecoders fails when decodeFast and gopacket both find a TCP or
// UDP packet in a frame of the link type but disagree on a field
// certsleuth uses.
func compareDecoders(t *testing.T, link layers.LinkType, data []byte) {
	var a, b packet
	okA := decodeFast(linkType(link), data, &a)
	okB := gopacketDecode(link, data, &b)
	if okA && (a.tun || !okB) {
		// PPPoE, MPLS, GRE and VXLAN (and what else the parser did
		// not decode): gopacket decodes them only through its packet
		// API (gopacket.NewPacket), not as DecodingLayers.
		okB = gopacketTunnelDecode(link, data, &b)
	}
	if !okA || !okB {
		return
	}
	if a.tcp != b.tcp || a.v6 != b.v6 || a.src != b.src || a.dst != b.dst || a.sport != b.sport || a.dport != b.dport {
		t.Fatalf("headers differ:\nfast   %+v\nlayers %+v", a, b)
	}
	if a.tcp && (a.seq != b.seq || a.syn != b.syn || a.ack != b.ack || a.fin != b.fin || a.rst != b.rst) {
		t.Fatalf("TCP fields differ:\nfast   %+v\nlayers %+v", a, b)
	}
	if !bytes.Equal(a.payload, b.payload) {
		t.Fatalf("payloads differ: fast %d bytes, layers %d bytes", len(a.payload), len(b.payload))
	}
}

// FuzzParseClientHello, FuzzParseServerHello and FuzzParseCertificate
// check that the TLS parsers never panic and that what they return lies
// within their input.
func FuzzParseClientHello(f *testing.F) {
	for _, body := range seedHandshakes(f, hsClientHello) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ch, err := ParseClientHello(body)
		if err != nil {
			return
		}
		if len(ch.Random) != 32 || len(ch.ServerName) > len(body) || ch.HasServerName && ch.ServerName == "" {
			t.Fatalf("implausible ClientHello %+v from %d bytes", ch, len(body))
		}
		// The reader's way (into a tlsHalf's helloBuf, names and ALPN
		// lists interned) gives the same hello, also when the interner
		// already holds them, and keeps nothing that points into body.
		var in interner
		for range 2 {
			var hb helloBuf
			msg := bytes.Clone(body)
			kept := readerHello(t, &hb, msg, &in)
			if !reflect.DeepEqual(kept, ch) {
				t.Fatalf("the reader's ClientHello\n%+v\ndiffers from ParseClientHello's\n%+v", kept, ch)
			}
			for i := range msg {
				msg[i] ^= 0xff // what kept points to must not change
			}
			if !reflect.DeepEqual(kept, ch) {
				t.Fatalf("the reader's ClientHello points into the message: %+v", kept)
			}
		}
	})
}

// readerHello parses body as the reader does (tlsconn.go's message).
func readerHello(t *testing.T, hb *helloBuf, body []byte, in *interner) *ClientHello {
	ch := ClientHello{Versions: hb.vers[:0]}
	if err := parseClientHello(&ch, body, in); err != nil {
		t.Fatalf("parseClientHello: %v, ParseClientHello: no error", err)
	}
	return hb.keep(&ch)
}

func FuzzParseServerHello(f *testing.F) {
	for _, body := range seedHandshakes(f, hsServerHello) {
		f.Add(body)
	}
	// A TLS 1.3 draft 18 ServerHello: no session ID or compression.
	f.Add(append(append([]byte{0x7f, 0x12}, bytes.Repeat([]byte{7}, 32)...), 0x13, 0x01, 0, 0))
	f.Fuzz(func(t *testing.T, body []byte) {
		sh, err := ParseServerHello(body)
		if err != nil {
			return
		}
		if len(sh.Random) != 32 || len(sh.ALPN) > len(body) {
			t.Fatalf("implausible ServerHello %+v from %d bytes", sh, len(body))
		}
		// The reader's way: the same but for Random and SessionID.
		var in interner
		for range 2 {
			var rs ServerHello
			if err := parseServerHelloAny(&rs, body, &in); err != nil {
				t.Fatalf("parseServerHelloAny: %v, ParseServerHello: no error", err)
			}
			if !bytes.Equal(rs.Random, sh.Random) || !bytes.Equal(rs.SessionID, sh.SessionID) {
				t.Fatalf("random or session ID differ: %+v and %+v", rs, sh)
			}
			rs.Random, rs.SessionID = sh.Random, sh.SessionID
			if !reflect.DeepEqual(&rs, sh) {
				t.Fatalf("the reader's ServerHello\n%+v\ndiffers from ParseServerHello's\n%+v", rs, sh)
			}
		}
	})
}

func FuzzParseCertificate(f *testing.F) {
	for _, body := range seedHandshakes(f, hsCertificate) {
		f.Add(body, false)
	}
	f.Add([]byte{0, 0, 0, 7, 0, 0, 3, 1, 2, 3, 0, 0}, true)
	f.Fuzz(func(t *testing.T, body []byte, tls13 bool) {
		chain, err := ParseCertificate(body, tls13)
		if err != nil {
			return
		}
		total := 0
		for _, c := range chain {
			if len(c) == 0 {
				t.Fatal("empty certificate entry accepted")
			}
			total += len(c)
		}
		if total > len(body) {
			t.Fatalf("%d certificate bytes from a %d-byte message", total, len(body))
		}
	})
}

// seedHandshakes extracts the handshake messages of type mt from the
// plaintext TLS records of the test captures.
func seedHandshakes(t testing.TB, mt uint8) [][]byte {
	var out [][]byte
	for _, b := range seedCaptures(t) {
		src, err := openSource(bytes.NewReader(b))
		if err != nil {
			continue
		}
		d := newDecoder()
		var rp rawPacket
		var p packet
		for src.next(&rp) == nil {
			if !d.decode(rp.link, rp.data, &p, rp.ts) || !p.tcp {
				continue
			}
			pl := p.payload
			for len(pl) >= 9 && pl[0] == recHandshake {
				n := int(binary.BigEndian.Uint16(pl[3:]))
				if len(pl) < 5+n || n < 4 {
					break
				}
				msg := pl[5 : 5+n]
				ml := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
				if msg[0] == mt && len(msg) >= 4+ml {
					out = append(out, append([]byte(nil), msg[4:4+ml]...))
				}
				pl = pl[5+n:]
			}
		}
		src.close()
	}
	return out
}

// FuzzReadKeyLog checks the key log reader: no panic, every line counted,
// and every secret kept is one the file holds.
func FuzzReadKeyLog(f *testing.F) {
	names, _ := filepath.Glob("testdata/*.keylog")
	for _, n := range names {
		b, _ := os.ReadFile(n)
		f.Add(b)
	}
	f.Add([]byte("# comment\n\nCLIENT_RANDOM 00 11\nSERVER_HANDSHAKE_TRAFFIC_SECRET zz zz\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ReadKeyLog(bytes.NewReader(data))
		if err != nil {
			return
		}
		if k.Lines > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d lines counted in %d newlines", k.Lines, bytes.Count(data, []byte("\n")))
		}
		for _, b := range k.Bad {
			if b < 1 || b > k.Lines {
				t.Fatalf("bad line number %d of %d", b, k.Lines)
			}
		}
		if k.Len() > k.Lines {
			t.Fatalf("%d secrets from %d lines", k.Len(), k.Lines)
		}
	})
}

// gopacketFirstLayer maps a link type to the gopacket layer its frames
// start with; ok is false for link types certsleuth does not read
// (linkSupported).
func gopacketFirstLayer(link layers.LinkType, data []byte) (gopacket.LayerType, bool) {
	switch link {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, true
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4, true
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6, true
	case layers.LinkTypePPP, layers.LinkTypePPP_HDLC:
		return layers.LayerTypePPP, true
	case layers.LinkTypePPPEthernet:
		return layers.LayerTypePPPoE, true
	case layers.LinkTypeRaw, 12, 14: // raw IP; DLT_RAW is 12 or 14 on some BSDs
		if len(data) > 0 && data[0]>>4 == 6 {
			return layers.LayerTypeIPv6, true
		}
		return layers.LayerTypeIPv4, true
	}
	return 0, false
}

// TestLinkSupported: certsleuth decodes the link types the reference
// decoders map (and no others), and names every link type as gopacket's
// layers.LinkType did (its names for 12 and 14, both raw IP and never
// printed, depend on the system it runs on).
func TestLinkSupported(t *testing.T) {
	for v := range 1 << 16 {
		_, ref := gopacketFirstLayer(layers.LinkType(v), nil)
		if got := linkSupported(linkType(v)); got != ref {
			t.Errorf("link type %d: supported %v, reference %v", v, got, ref)
		}
		if v == 12 || v == 14 {
			continue
		}
		if got, want := linkType(v).String(), layers.LinkType(v).String(); got != want {
			t.Errorf("link type %d named %q, gopacket %q", v, got, want)
		}
	}
}

// FuzzDecodeLoopback checks the BSD loopback decoder (LINKTYPE_NULL and
// LINKTYPE_LOOP) against gopacket's layers.Loopback: when both find a
// TCP or UDP packet they agree on every field certsleuth uses. (Where
// they disagree on whether there is a packet: gopacket's IPv4 and IPv6
// decoders take any version number, decodeFast does not; they reject
// malformed IPv4 options and an IPv6 length of 0 without a jumbogram
// option, decodeFast takes them, as it does in an Ethernet frame.
// Before, certsleuth decoded loopback frames with gopacket and then the
// IP packet by hand: it found a packet where both did.)
func FuzzDecodeLoopback(f *testing.F) {
	ec := newCapFile(&testing.T{})
	ec.tcp(cliPort(69), mailIP+":443", 0, []chunk{{true, []byte("\x16\x03\x01\x00\x01\x01")}}, segOpts{})
	ip4 := ec.pkts[3].ip
	e6 := newCapFile(&testing.T{})
	e6.tcp("[2001:db8::5]:50000", "[2001:db8::1]:443", 0, []chunk{{true, []byte("\x16\x03\x01\x00\x01\x01")}}, segOpts{})
	ip6 := e6.pkts[3].ip
	for _, fam := range []uint32{2, 10, 24, 28, 30, 99} {
		ip := ip4
		if fam != 2 {
			ip = ip6
		}
		f.Add(cat(binary.LittleEndian.AppendUint32(nil, fam), ip), false)
		f.Add(cat(binary.BigEndian.AppendUint32(nil, fam), ip), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, loop bool) {
		link := layers.LinkTypeNull
		if loop {
			link = layers.LinkTypeLoop
		}
		compareDecoders(t, link, data)
	})
}

// gopacketDecode is the reference for FuzzDecodeFast: link, IP and
// transport layers decoded by gopacket's DecodingLayerParser alone.
func gopacketDecode(link layers.LinkType, data []byte, p *packet) bool {
	inTunnel := link == linkGTPInner
	if inTunnel {
		link = layers.LinkTypeRaw
	}
	first, ok := gopacketFirstLayer(link, data)
	if !ok {
		return false
	}
	var (
		eth     layers.Ethernet
		dot1q   layers.Dot1Q
		lo      layers.Loopback
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		udp     layers.UDP
		pl      gopacket.Payload
		decoded []gopacket.LayerType
	)
	parser := gopacket.NewDecodingLayerParser(first, &eth, &dot1q, &lo, &ip4, &ip6, &tcp, &udp, &pl)
	parser.IgnoreUnsupported = true
	_ = parser.DecodeLayers(data, &decoded)
	ipPayload, haveIP, fragment := -1, false, false
	*p = packet{}
	for _, lt := range decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			haveIP = true
			copy(p.src[:], ip4.SrcIP.To4())
			copy(p.dst[:], ip4.DstIP.To4())
			ipPayload = int(ip4.Length) - int(ip4.IHL)*4
			fragment = ip4.Flags&layers.IPv4MoreFragments != 0 || ip4.FragOffset != 0
		case layers.LayerTypeIPv6:
			haveIP = true
			p.v6 = true
			copy(p.src[:], ip6.SrcIP.To16())
			copy(p.dst[:], ip6.DstIP.To16())
			ipPayload = int(ip6.Length)
			if ip6.NextHeader != layers.IPProtocolTCP && ip6.NextHeader != layers.IPProtocolUDP {
				return false
			}
		case layers.LayerTypeTCP:
			if !haveIP || fragment {
				return false
			}
			refTCP(p, &tcp, ipPayload)
			return true
		case layers.LayerTypeUDP:
			if !haveIP || fragment {
				return false
			}
			p.sport, p.dport = uint16(udp.SrcPort), uint16(udp.DstPort)
			p.payload = udp.Payload
			p.fullLen = max(int(udp.Length)-8, len(p.payload))
			if (p.sport == gtpuPort || p.dport == gtpuPort) && !inTunnel {
				// gopacket's own GTP-U decoder, then the inner packet.
				var g layers.GTPv1U
				// gopacket checks neither that its length field fits
				// (8+length wraps around in 16 bits) nor the inner IP
				// version (its IPv4 decoder takes any): both are checked here.
				if g.DecodeFromBytes(udp.Payload, gopacket.NilDecodeFeedback) == nil && g.MessageType == 255 && g.Version == 1 && g.ProtocolType == 1 &&
					8+int(g.MessageLength) <= len(udp.Payload) && len(udp.Payload)-len(g.Payload) < 8+int(g.MessageLength) &&
					(g.Payload[0]>>4 == 4 || g.Payload[0]>>4 == 6) {
					g.Payload = udp.Payload[len(udp.Payload)-len(g.Payload) : 8+int(g.MessageLength)]
					var q packet
					if gopacketDecode(linkGTPInner, g.Payload, &q) {
						q.gtp = true
						*p = q
						return true
					}
				}
			}
			return true
		}
	}
	return false
}

// refTCP fills p's TCP fields from gopacket's layer; ipPayload is the
// IP payload length on the wire.
func refTCP(p *packet, tcp *layers.TCP, ipPayload int) {
	p.tcp = true
	p.sport, p.dport = uint16(tcp.SrcPort), uint16(tcp.DstPort)
	p.seq = tcp.Seq
	p.syn, p.ack, p.fin, p.rst = tcp.SYN, tcp.ACK, tcp.FIN, tcp.RST
	p.payload = tcp.Payload
	p.fullLen = max(ipPayload-int(tcp.DataOffset)*4, len(p.payload))
}

// gopacketTunnelDecode is the reference for the frames decodeFast takes
// out of a tunnel or encapsulation (PPPoE, MPLS, GRE, ERSPAN, VXLAN):
// gopacket's packet API decodes the frame, and the innermost IP layer
// followed by TCP or UDP is the packet. It reports false when gopacket
// finds no such layers, or a decoding error on the way.
func gopacketTunnelDecode(link layers.LinkType, data []byte, p *packet) bool {
	first, ok := gopacketFirstLayer(link, data)
	if !ok {
		return false
	}
	pk := gopacket.NewPacket(data, first, gopacket.NoCopy)
	if pk.ErrorLayer() != nil {
		return false
	}
	ls := pk.Layers()
	for i := len(ls) - 2; i >= 0; i-- {
		*p = packet{tun: true}
		ipPayload, isIP := refIP(ls[i], p)
		if !isIP {
			continue
		}
		switch l := ls[i+1].(type) {
		case *layers.TCP:
			refTCP(p, l, ipPayload)
			return true
		case *layers.UDP:
			if l.SrcPort == capwapDataPort || l.DstPort == capwapDataPort {
				if ok, done := refCAPWAP(l.Payload, p); done {
					return ok
				}
				*p = packet{tun: true}
				copy(p.src[:], ls[i].(gopacket.NetworkLayer).NetworkFlow().Src().Raw())
				copy(p.dst[:], ls[i].(gopacket.NetworkLayer).NetworkFlow().Dst().Raw())
				p.v6 = ls[i].LayerType() == layers.LayerTypeIPv6
			}
			p.sport, p.dport = uint16(l.SrcPort), uint16(l.DstPort)
			p.payload = l.Payload
			p.fullLen = max(int(l.Length)-8, len(p.payload))
			return true
		}
		return false
	}
	return false
}

// refIP sets p's addresses from l when it is an IPv4 or IPv6 layer and
// returns the length of that layer's payload on the wire.
func refIP(l gopacket.Layer, p *packet) (ipPayload int, ok bool) {
	switch l := l.(type) {
	case *layers.IPv4:
		copy(p.src[:], l.SrcIP.To4())
		copy(p.dst[:], l.DstIP.To4())
		return int(l.Length) - int(l.IHL)*4, true
	case *layers.IPv6:
		p.v6 = true
		copy(p.src[:], l.SrcIP.To16())
		copy(p.dst[:], l.DstIP.To16())
		return int(l.Length), true
	}
	return 0, false
}

// refCAPWAP decodes the frame in a CAPWAP data packet (RFC 5415 §4.3)
// with gopacket, which has no CAPWAP layer but decodes the frame (F and K
// clear): an
// 802.11 data frame (layers.Dot11, LLC, SNAP; its frame control
// un-swapped first when only the second byte is a data frame's) or an
// Ethernet frame. done says the packet was one to take apart.
func refCAPWAP(b []byte, p *packet) (ok, done bool) {
	if len(b) < 8 || b[0] != 0 || b[3]&0x88 != 0 {
		return false, false
	}
	hlen := int(b[1]>>3) * 4
	if hlen < 8 || hlen > len(b) {
		return false, false
	}
	inner := append([]byte(nil), b[hlen:]...)
	first := layers.LayerTypeEthernet
	if b[2]&1 != 0 {
		if (b[2]>>1)&0x1f != 1 {
			return false, false
		}
		first = layers.LayerTypeDot11
		if len(inner) >= 2 && inner[0]&0x0f != 0x08 && inner[1]&0x0f == 0x08 {
			inner[0], inner[1] = inner[1], inner[0]
		}
		// gopacket's Dot11 takes the last 4 bytes for the FCS, which
		// CAPWAP's 802.11 frames leave out (Wireshark dissects them as
		// wlan_bsfc, without FCS).
		inner = append(inner, 0, 0, 0, 0)
	}
	pk := gopacket.NewPacket(inner, first, gopacket.NoCopy)
	if pk.ErrorLayer() != nil {
		return false, true
	}
	*p = packet{tun: true}
	ls := pk.Layers()
	for i, l := range ls {
		ipPayload, isIP := refIP(l, p)
		if !isIP {
			continue
		}
		if i+1 < len(ls) {
			if t, isTCP := ls[i+1].(*layers.TCP); isTCP {
				refTCP(p, t, ipPayload)
				return true, true
			}
		}
		return false, true
	}
	return false, true
}

// linkGTPInner marks gopacketDecode's call for the packet inside GTP-U.
const linkGTPInner layers.LinkType = 0xfff0

// FuzzServerChain: reading a chain from a server's byte stream never panics.
func FuzzServerChain(f *testing.F) {
	for _, body := range seedHandshakes(f, hsCertificate) {
		rec := append([]byte{recHandshake, 3, 3, 0, 0}, append([]byte{hsCertificate, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)...)
		n := len(rec) - 5
		rec[3], rec[4] = byte(n>>8), byte(n)
		f.Add(rec, []byte(nil))
	}
	f.Add([]byte{recHandshake, 3, 3, 0, 4, hsServerHello, 0, 0, 0}, []byte("SERVER_HANDSHAKE_TRAFFIC_SECRET 00 00\n"))
	f.Fuzz(func(t *testing.T, stream, keyLog []byte) {
		ServerChain(stream, keyLog)
	})
}

// FuzzConnectTunnel feeds arbitrary bytes through an HTTP CONNECT tunnel
// (the client's after its CONNECT, the proxy's after its answer): no
// panic, at most one observation, and a TLS one names the target.
func FuzzConnectTunnel(f *testing.F) {
	f.Add([]byte("\x16\x03\x01\x00\x05hello"), []byte("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x02hi"), uint8(7))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"), uint8(1))
	f.Add([]byte{0x80, 0x2e, 1, 3, 1}, []byte("HTTP/1.0 200 OK\r\n\r\n\x15\x03\x03\x00\x02\x01\x70"), uint8(3))
	f.Fuzz(func(t *testing.T, cli, srv []byte, mss uint8) {
		fc := newCapFile(t)
		req := []byte("CONNECT mail.contoso.test:443 HTTP/1.1\r\nHost: mail.contoso.test:443\r\n\r\n")
		fc.tcp(cliPort(44), mailIP+":3128", 0, []chunk{{true, append(req, cli...)}, {false, srv}}, segOpts{mss: int(mss)%64 + 1})
		res, err := Read(bytes.NewReader(fc.encode(ethOnly)), "fuzz.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Observations) > 1 {
			t.Fatalf("%d observations from one connection", len(res.Observations))
		}
		for _, o := range res.Observations {
			if o.Kind == record.KindTLS && o.Connect != "mail.contoso.test:443" {
				t.Fatalf("TLS through the tunnel without its target: %+v", o)
			}
		}
	})
}

// FuzzSkipKind checks that counting an undecoded IP packet never panics
// and that IP in IP is transparent: a packet wrapped in IPv4 (protocol 4
// or 41) is counted as the packet alone is (unless the nesting runs past
// what ipKind follows, which gives skipBadIP).
func FuzzSkipKind(f *testing.F) {
	mld := cat([]byte{0x60, 0, 0, 0, 0, 16, 0, 1}, make([]byte, 32), []byte{58, 0, 5, 2, 0, 0, 1, 0, 143, 0, 0, 0, 0, 0, 0, 0})
	f.Add(mld)
	f.Add(cat([]byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0}, make([]byte, 8), []byte{8, 0, 0xf7, 0xff, 0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, inner []byte) {
		k1, noise1 := ipKind(inner)
		proto := byte(4)
		if len(inner) > 0 && inner[0]>>4 == 6 {
			proto = 41
		}
		outer := cat([]byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0}, make([]byte, 8), inner)
		k2, noise2 := ipKind(outer)
		skipKind(linkTypeEthernet, cat(ether(etherIPv6), inner))
		if k1.class == skipBadIP || k2.class == skipBadIP {
			return
		}
		if k1 != k2 || noise1 != noise2 {
			t.Fatalf("alone %+v (noise %v), in IP in IP %+v (noise %v)", k1, noise1, k2, noise2)
		}
	})
}
