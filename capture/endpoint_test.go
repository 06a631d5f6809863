package capture

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"testing"
)

// TestEndpoint: endpoint writes what net.JoinHostPort wrote from the
// address's String and the port (IPv4, IPv6, IPv4-mapped IPv6, the
// unspecified addresses, ports 0 and 65535), and random addresses.
func TestEndpoint(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("2001:db8::1"),
		netip.MustParseAddr("::"), netip.MustParseAddr("::ffff:192.0.2.7"), netip.MustParseAddr("fe80::1:2:3:4")}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		addrs = append(addrs, netip.AddrFrom16(b), netip.AddrFrom4([4]byte(b[:4])))
	}
	for _, a := range addrs {
		for _, port := range []uint16{0, 443, 65535} {
			var raw [16]byte
			if a.Is4() {
				copy(raw[:], a.AsSlice())
			} else {
				raw = a.As16()
			}
			want := net.JoinHostPort(a.String(), strconv.Itoa(int(port)))
			if got := endpoint(raw, !a.Is4(), port); got != want {
				t.Errorf("endpoint(%v, %d) = %q, want %q", a, port, got, want)
			}
		}
	}
}
