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
				return strings.Join([]string{"0", sip, "", sport, dip, "", dport, "100", "100", cts, types, "", version, supported, exts, "", ""}, "\t")
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
