package capture

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// openVPNPacket is one OpenVPN packet over TCP: the 2-byte length, the
// opcode and key ID, the 8-byte session ID, an empty ACK array and the
// message packet ID, then payload (OpenVPN's ssl_pkt.h, without
// tls-auth).
func openVPNPacket(opcode byte, id uint32, payload []byte) []byte {
	p := cat([]byte{opcode << 3}, []byte("sessid01"), []byte{0}, []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, payload)
	return cat(be16(uint16(len(p))), p)
}

// TestOpenVPN: a TLS handshake carried in OpenVPN's control channel
// (hard resets, then P_CONTROL_V1 packets of 100 bytes of TLS each) is
// not reassembled; the observation says so (Carrier, note) rather than
// "the handshake is not in the capture".
func TestOpenVPN(t *testing.T) {
	p := newGenPKI(t)
	conv := tlsConv(t, srvCfg(p.mailOnly, tls.VersionTLS12), cliCfg("vpn.contoso.test", tls.VersionTLS12))
	wrapped := []chunk{{true, openVPNPacket(7, 0, nil)}, {false, openVPNPacket(8, 0, nil)}}
	ids := [2]uint32{1, 1}
	for _, c := range conv[:2] {
		side := 0
		if !c.fromClient {
			side = 1
		}
		var b []byte
		for off := 0; off < len(c.data); off += 100 {
			b = append(b, openVPNPacket(4, ids[side], c.data[off:min(off+100, len(c.data))])...)
			ids[side]++
		}
		wrapped = append(wrapped, chunk{c.fromClient, b})
	}
	f := newCapFile(t)
	f.tcp(cliPort(88), mailIP+":1194", 0, wrapped, segOpts{})
	res, err := Read(bytes.NewReader(f.encode(ethOnly)), "openvpn.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Observations) != 1 {
		t.Fatalf("%d observations; want 1", len(res.Observations))
	}
	o := res.Observations[0]
	if o.Carrier != record.CarrierOpenVPN || !strings.HasPrefix(o.Note, "TLS inside OpenVPN's control channel") || o.Visibility == record.VisVisible {
		t.Fatalf("carrier %q, %s, note %q; want openvpn, not visible, the note saying why", o.Carrier, o.Visibility, o.Note)
	}
}

func TestLooksOpenVPN(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"client hard reset v2", openVPNPacket(7, 0, nil), true},
		{"server hard reset v2", openVPNPacket(8, 0, nil), true},
		{"client hard reset v3", openVPNPacket(10, 0, nil), true},
		{"control packet first", openVPNPacket(4, 1, []byte("x")), false},
		{"key ID not 0", append([]byte{0, 14, 7<<3 | 1}, make([]byte, 14)...), false},
		{"too short a length", []byte{0, 4, 7 << 3, 0, 0, 0, 0}, false},
		{"a TLS record", []byte{0x16, 0x03, 0x01, 0x00, 0x2a}, false},
		{"SSH", []byte("SSH-2.0-OpenSSH_9.2p1\r\n"), false},
	} {
		if got := looksOpenVPN(c.b); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
