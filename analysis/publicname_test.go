package analysis

import (
	"strings"
	"testing"
)

func TestPublicCAIssuable(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
		why  string
	}{
		{"mail.contoso.com", true, ""},
		{"autodiscover.contoso.co.uk", true, ""},
		{"*.contoso.com", true, ""},
		{"Mail.Contoso.com.", true, ""},
		{"exch01", false, "single-label (NetBIOS)"},
		{"exch01.contoso.local", false, ".local"},
		{"exch01.corp", false, ".corp"},
		{"exch01.contoso.internal", false, ".internal"},
		{"ex.home.arpa", false, ".home.arpa"},
		{"exch01.contoso.lan", false, ".lan"},
		{"exch01.contoso.zzqx", false, "not a delegated top-level domain"},
		{"co.uk", false, "public suffix"},
		{"10.0.0.5", false, "private or reserved address"},
		{"::1", false, "private or reserved address"},
		{"203.0.113.7", true, ""},
		{"", false, "empty"},
		{"[fe80::1]", false, "private or reserved address"},
		{"[2001:db8::7]", true, ""},
		{"192.168.1.1.", false, "private or reserved address"}, // NormHost drops the dot
		{"exch01:443", false, "single-label"},
		{"host.example9", false, "not a delegated top-level domain"},
	}
	for _, tt := range tests {
		ok, why := PublicCAIssuable(tt.name)
		if ok != tt.ok || !strings.Contains(why, tt.why) {
			t.Errorf("PublicCAIssuable(%q) = %v, %q; want %v, %q", tt.name, ok, why, tt.ok, tt.why)
		}
		if pub := publicName(tt.name); pub != ok {
			t.Errorf("publicName(%q) = %v, PublicCAIssuable says %v", tt.name, pub, ok)
		}
	}
}
