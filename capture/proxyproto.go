package capture

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The PROXY protocol (HAProxy, https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt):
// a load balancer or TLS passthrough proxy (HAProxy, AWS NLB, nginx,
// Traefik) that forwards a client's TCP connection to a backend first
// sends a header naming the original client, then the client's bytes
// (its TLS ClientHello) unchanged. A capture between the balancer and the
// backend shows the header at the start of the stream. Version 1 is one
// text line, "PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n", 107 bytes
// at most (§2.1); version 2 is binary: a 12-byte signature, a version
// and command byte (0x2_), a family byte and a 16-bit length of what
// follows (§2.2).

// proxyV2Sig is the PROXY protocol version 2 signature (§2.2).
var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// maxProxyV1 is the longest version 1 header, CRLF included (§2.1).
const maxProxyV1 = 107

// proxyHeader reads a PROXY protocol header at the start of b: n is its
// length (0: none), from what it says of the original connection; wait
// is true when b is too short to tell.
func proxyHeader(b []byte) (n int, from string, wait bool) {
	switch {
	case bytes.HasPrefix(b, []byte("PROXY ")):
		end := bytes.Index(b, []byte("\r\n"))
		if end < 0 {
			return 0, "", len(b) < maxProxyV1
		}
		if end+2 > maxProxyV1 {
			return 0, "", false
		}
		f := strings.Split(string(b[6:end]), " ")
		switch {
		case f[0] == "UNKNOWN": // the rest of the line is to be ignored (§2.1)
			return end + 2, "", false
		case len(f) != 5 || f[0] != "TCP4" && f[0] != "TCP6":
			return 0, "", false
		}
		src, err1 := netip.ParseAddr(f[1])
		dst, err2 := netip.ParseAddr(f[2])
		_, err3 := strconv.ParseUint(f[3], 10, 16)
		_, err4 := strconv.ParseUint(f[4], 10, 16)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || src.Is4() != (f[0] == "TCP4") || dst.Is4() != (f[0] == "TCP4") {
			return 0, "", false
		}
		return end + 2, net.JoinHostPort(src.String(), f[3]) + " to " + net.JoinHostPort(dst.String(), f[4]), false
	case len(b) < len("PROXY ") && bytes.HasPrefix([]byte("PROXY "), b):
		return 0, "", true
	case len(b) < 16:
		return 0, "", bytes.HasPrefix(proxyV2Sig, b[:min(len(b), len(proxyV2Sig))]) && len(b) > 0
	case !bytes.HasPrefix(b, proxyV2Sig) || b[12]>>4 != 2:
		return 0, "", false
	}
	l := int(b[14])<<8 | int(b[15])
	if len(b) < 16+l {
		return 0, "", true
	}
	addr := b[16 : 16+l]
	switch {
	case b[12]&0xf == 0: // LOCAL: the proxy's own connection (health checks)
	case b[13] == 0x11 && l >= 12: // TCP over IPv4
		src, dst := netip.AddrFrom4([4]byte(addr[0:4])), netip.AddrFrom4([4]byte(addr[4:8]))
		from = net.JoinHostPort(src.String(), strconv.Itoa(int(addr[8])<<8|int(addr[9]))) + " to " + net.JoinHostPort(dst.String(), strconv.Itoa(int(addr[10])<<8|int(addr[11])))
	case b[13] == 0x21 && l >= 36: // TCP over IPv6
		src, dst := netip.AddrFrom16([16]byte(addr[0:16])), netip.AddrFrom16([16]byte(addr[16:32]))
		from = net.JoinHostPort(src.String(), strconv.Itoa(int(addr[32])<<8|int(addr[33]))) + " to " + net.JoinHostPort(dst.String(), strconv.Itoa(int(addr[34])<<8|int(addr[35])))
	}
	return 16 + l, from, false
}
