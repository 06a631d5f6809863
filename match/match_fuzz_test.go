package match

import (
	"crypto/x509"
	"net"
	"strings"
	"testing"
)

// FuzzGoProfile checks that the go profile agrees with crypto/x509's
// (*Certificate).VerifyHostname on every input: the profile claims to be
// exactly that function.
func FuzzGoProfile(f *testing.F) {
	seeds := [][3]string{
		{"mail.contoso.com,autodiscover.contoso.com", "", "mail.contoso.com"},
		{"*.contoso.com", "", "a.b.contoso.com"},
		{"*.com", "", "example.com"},
		{"mail.contoso.com.", "", "mail.contoso.com."},
		{"w*.contoso.com", "", "www.contoso.com"},
		{"*", "", "*"},
		{"", "10.0.0.1", "10.0.0.1"},
		{"10.0.0.1", "", "10.0.0.1"},
		{"", "::1", "[::1]"},
		{"xn--bcher-kva.example", "", "bücher.example"},
		{"EXCH01", "", "exch01."},
		{"a..b", "", "a..b"},
		{"_srv.contoso.com", "", "_SRV.contoso.com.."},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	goProfile, err := LookupProfile("go")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, dns, ips, host string) {
		c := &x509.Certificate{}
		if dns != "" {
			c.DNSNames = strings.Split(dns, ",")
		}
		for _, s := range strings.Split(ips, ",") {
			if ip := net.ParseIP(s); ip != nil {
				c.IPAddresses = append(c.IPAddresses, ip)
			}
		}
		want := c.VerifyHostname(host) == nil
		v := Match(c, host, goProfile)
		if v.Match != want {
			t.Fatalf("Match(%q, ips %q, %q) = %v (%s: %s), crypto/x509 says %v", c.DNSNames, ips, host, v.Match, v.Kind, v.Reason, want)
		}
		if v.Match != v.Kind.Matched() {
			t.Fatalf("verdict Match=%v but kind %s", v.Match, v.Kind)
		}
		for _, p := range Profiles() {
			pv := Match(c, host, p)
			if pv.Reason == "" || pv.Kind == "" || pv.Match != pv.Kind.Matched() {
				t.Fatalf("profile %s: incomplete verdict %+v", p.Name, pv)
			}
		}
	})
}
