package main

import (
	"strings"
	"testing"
)

// A ServerHello followed by a ChangeCipherSpec and no Certificate is a
// TLS 1.2 resumption, but in TLS 1.3 and its drafts (Facebook's too) the
// ChangeCipherSpec is only the middlebox-compatibility one (RFC 8446
// appendix D.4): the certificate is encrypted, or, with pre_shared_key,
// the session resumed.
func TestTsharkVisibilityByVersion(t *testing.T) {
	tests := []struct {
		version, supported, exts string
		want                     string
	}{
		{"0x0303", "", "65281", "resumed"},
		{"0x0303", "0x0304", "43|51", "encrypted"},
		{"0x0303", "0x0304", "43|51|41", "resumed"},
		{"0x0303", "0x7f17", "43|51", "encrypted"},
		{"0x0303", "0x7e02", "43|51", "encrypted"},
		{"0x0303", "0xfb1a", "43|51", "encrypted"},
		{"0x0303", "0xfb17", "43|51|41", "resumed"},
	}
	for _, tt := range tests {
		t.Run(tt.supported+"/"+tt.exts, func(t *testing.T) {
			line := func(src, dst, cts, types, version, supported, exts string) string {
				sip, sport, _ := strings.Cut(src, ":")
				dip, dport, _ := strings.Cut(dst, ":")
				return strings.Join([]string{"0", sip, "", sport, dip, "", dport, "100", "100", cts, types, "", version, supported, exts, "", "", "eth:ethertype:ip:tcp:tls", ""}, "\t")
			}
			out := line(cli, srv, "22", "1", "", "", "") + "\n" +
				line(srv, cli, "22|20", "2", tt.version, tt.supported, tt.exts) + "\n"
			views := parseTshark([]byte(out), false)
			if len(views) != 1 {
				t.Fatalf("%d flows, want 1", len(views))
			}
			if views[0].vis != tt.want {
				t.Errorf("visibility %s, want %s", views[0].vis, tt.want)
			}
		})
	}
}

// tsPkt is one line of tshark's fields output (tsharkFields, in order).
type tsPkt struct {
	stream         string
	ip4src, ip6src string // as tshark lists them ("|" between headers, outermost first)
	sport          string
	ip4dst, ip6dst string
	dport          string
	capLen, len    string
	cts, types     string
	version        string
	cert           string
	protos         string // frame.protocols
	random         string // tls.handshake.random
	supported      string // tls.handshake.extensions.supported_version
}

func (p tsPkt) line() string {
	if p.capLen == "" {
		p.capLen, p.len = "100", "100"
	}
	return strings.Join([]string{p.stream, p.ip4src, p.ip6src, p.sport, p.ip4dst, p.ip6dst, p.dport, p.capLen, p.len,
		p.cts, p.types, "", p.version, p.supported, "", p.cert, "", p.protos, p.random}, "\t")
}

// Tunnelled flows are keyed by the innermost IP header, as certsleuth
// keys them (nDPI's 6in4tunnel.pcap: IPv6 in IPv4, where tshark lists
// the outer IPv4 address in ip.src and the inner one in ipv6.src); a TLS
// record quoted inside an ICMP error is no packet of the flow.
func TestParseTsharkInnerAddresses(t *testing.T) {
	const (
		out4a, out4b = "192.0.2.1", "198.51.100.1"
		in6a, in6b   = "2001:db8::1", "2001:db8::2"
	)
	lines := []string{
		// 6in4: client hello and server hello with a certificate.
		tsPkt{stream: "0", ip4src: out4a, ip6src: in6a, sport: "50000", ip4dst: out4b, ip6dst: in6b, dport: "443",
			cts: "22", types: "1", protos: "eth:ethertype:ip:ipv6:tcp:tls"}.line(),
		tsPkt{stream: "0", ip4src: out4b, ip6src: in6b, sport: "443", ip4dst: out4a, ip6dst: in6a, dport: "50000",
			cts: "22", types: "2|11", version: "0x0303", cert: "30:03:02:01:01", protos: "eth:ethertype:ip:ipv6:tcp:tls"}.line(),
		// An ICMPv6 error (in the same tunnel) quoting a server segment.
		tsPkt{stream: "1", ip4src: "203.0.113.9", ip6src: "2001:db8::9|" + in6b, sport: "443", ip4dst: out4a, ip6dst: in6a + "|" + in6a, dport: "50001",
			cts: "22", types: "2", version: "0x0303", protos: "eth:ethertype:ip:ipv6:icmpv6:ipv6:tcp:tls"}.line(),
		// 4in6: IPv4 inside IPv6.
		tsPkt{stream: "2", ip4src: "10.0.0.1", ip6src: "2001:db8::a", sport: "50002", ip4dst: "10.0.0.2", ip6dst: "2001:db8::b", dport: "443",
			cts: "22", types: "1", protos: "eth:ethertype:ipv6:ip:tcp:tls"}.line(),
		// IPv4 in GRE in IPv4: the last ip.src is the inner one.
		tsPkt{stream: "3", ip4src: "192.0.2.7|10.1.0.1", sport: "50003", ip4dst: "192.0.2.8|10.1.0.2", dport: "443",
			cts: "22", types: "1", protos: "eth:ethertype:ip:gre:ip:tcp:tls"}.line(),
	}
	views := parseTshark([]byte(strings.Join(lines, "\n")+"\n"), false)
	var got []string
	for _, v := range views {
		got = append(got, v.client+" -> "+v.server+" "+v.vis)
	}
	want := []string{
		"[2001:db8::1]:50000 -> [2001:db8::2]:443 visible",
		"10.0.0.1:50002 -> 10.0.0.2:443 not-captured",
		"10.1.0.1:50003 -> 10.1.0.2:443 not-captured",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("flows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// "resumed" is inferred from a TLS 1.0-1.2 ServerHello and a
// ChangeCipherSpec without a Certificate only in an abbreviated handshake
// (RFC 5246 §7.3) whose packets are whole: a ClientKeyExchange or a
// ServerHelloDone makes it a full handshake whose Certificate tshark did
// not dissect, and a server packet cut by the snap length (frame.cap_len
// below frame.len) hides it (CESNET's tls.pcap, snap length 1500).
func TestTsharkResumedOnlyAbbreviated(t *testing.T) {
	tests := []struct {
		name          string
		serverTypes   string // the server's first flight
		clientTypes   string // the client's second flight
		capLen, total string // of the server's first packet
		want          string
	}{
		{"abbreviated", "2", "", "", "", "resumed"},
		{"client key exchange", "2", "16", "", "", "not-captured"},
		{"server hello done", "2|14", "", "", "", "failed"},
		{"cut by the snap length", "2", "16", "1500", "2962", "truncated"},
		{"abbreviated, cut", "2", "", "1500", "2962", "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := "10.0.0.1", "10.0.0.2"
			lines := []string{
				tsPkt{stream: "0", ip4src: c, sport: "50000", ip4dst: s, dport: "443", cts: "22", types: "1", protos: "eth:ethertype:ip:tcp:tls"}.line(),
				tsPkt{stream: "0", ip4src: s, sport: "443", ip4dst: c, dport: "50000", capLen: tt.capLen, len: tt.total, cts: "22", types: tt.serverTypes, version: "0x0303", protos: "eth:ethertype:ip:tcp:tls"}.line(),
			}
			if tt.clientTypes != "" {
				lines = append(lines, tsPkt{stream: "0", ip4src: c, sport: "50000", ip4dst: s, dport: "443", cts: "22|20|22", types: tt.clientTypes, protos: "eth:ethertype:ip:tcp:tls"}.line())
			}
			lines = append(lines, tsPkt{stream: "0", ip4src: s, sport: "443", ip4dst: c, dport: "50000", cts: "22|20|22", types: "4", protos: "eth:ethertype:ip:tcp:tls"}.line())
			views := parseTshark([]byte(strings.Join(lines, "\n")+"\n"), false)
			if len(views) != 1 {
				t.Fatalf("%d flows, want 1", len(views))
			}
			if views[0].vis != tt.want {
				t.Errorf("visibility %s, want %s", views[0].vis, tt.want)
			}
		})
	}
}

// A HelloRetryRequest alone (RFC 8446 §4.1.4: the server asks for another
// hello, and none followed in the capture; nDPI's tumblr.pcap) gives the
// version it selected, but no certificate was sent, encrypted or not:
// not-captured, not encrypted. After a HelloRetryRequest, the real
// ServerHello makes the flow encrypted.
func TestTsharkHelloRetryRequest(t *testing.T) {
	c, s := "10.0.0.1", "10.0.0.2"
	hello := tsPkt{stream: "0", ip4src: c, sport: "50000", ip4dst: s, dport: "443", cts: "22", types: "1", protos: "eth:ethertype:ip:tcp:tls"}.line()
	hrr := tsPkt{stream: "0", ip4src: s, sport: "443", ip4dst: c, dport: "50000", cts: "22", types: "2", version: "0x0303", supported: "0x0304", random: hrrRandom, protos: "eth:ethertype:ip:tcp:tls"}.line()
	sh := tsPkt{stream: "0", ip4src: s, sport: "443", ip4dst: c, dport: "50000", cts: "22|20|23", types: "2", version: "0x0303", supported: "0x0304", random: "04cd23d8d6817fc83f167748d58f63d6a2f65ba13ecf448e8853a9b73b9fecdc", protos: "eth:ethertype:ip:tcp:tls"}.line()
	for _, tt := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"HelloRetryRequest alone", []string{hello, hrr}, "TLS 1.3 not-captured"},
		{"then the ServerHello", []string{hello, hrr, hello, sh}, "TLS 1.3 encrypted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			views := parseTshark([]byte(strings.Join(tt.lines, "\n")+"\n"), false)
			if len(views) != 1 {
				t.Fatalf("%d flows, want 1", len(views))
			}
			if got := views[0].version + " " + views[0].vis; got != tt.want {
				t.Errorf("%s, want %s", got, tt.want)
			}
		})
	}
}

// paddingFrames keeps the bare ACKs whose payload is all zero bytes
// (Ethernet padding counted as payload) and the flows they belong to.
func TestPaddingFrames(t *testing.T) {
	out := strings.Join([]string{
		strings.Join([]string{"3", "00:00", "192.0.2.1", "", "58155", "192.0.2.2", "", "443", "eth:ethertype:ip:tcp"}, "\t"),
		strings.Join([]string{"5", "000000000000", "192.0.2.2", "", "443", "192.0.2.1", "", "58155", "eth:ethertype:ip:tcp"}, "\t"),
		strings.Join([]string{"7", "00:01", "192.0.2.1", "", "58156", "192.0.2.2", "", "443", "eth:ethertype:ip:tcp"}, "\t"),
		"",
	}, "\n")
	frames, keys := paddingFrames([]byte(out))
	if strings.Join(frames, ",") != "3,5" {
		t.Errorf("frames %v, want 3 and 5", frames)
	}
	if len(keys) != 1 || !keys["192.0.2.1:58155 192.0.2.2:443"] {
		t.Errorf("flows %v, want the one of port 58155", keys)
	}
}
