package match

import (
	"crypto/x509"
	"net"
	"reflect"
	"strings"
	"testing"
)

// FuzzGoProfile checks that the go profile agrees with crypto/x509's
// (*Certificate).VerifyHostname on every input: the profile claims to be
// exactly that function; and that MatchAll gives every profile Match's
// verdict.
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
		// More SANs than candidatesFrom: only some are compared.
		{"a.fabrikam.com,MAIL.contoso.com.,*.contoso.com,w*.contoso.com,contoso.com..,mail.contoso.com,x.y", "", "mail.contoso.com"},
		{"a.fabrikam.com,b.fabrikam.com,*.b.contoso.com,*.com,a..b,MAIL.CONTOSO.COM", "", "mail.contoso.com."},
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
		all := make([]Verdict, len(Profiles()))
		MatchAll(c, host, Profiles(), all)
		for i, p := range Profiles() {
			pv := Match(c, host, p)
			if pv.Reason == "" || pv.Kind == "" || pv.Match != pv.Kind.Matched() {
				t.Fatalf("profile %s: incomplete verdict %+v", p.Name, pv)
			}
			if !reflect.DeepEqual(all[i], pv) {
				t.Fatalf("profile %s: MatchAll gives %+v, Match %+v", p.Name, all[i], pv)
			}
		}
	})
}

// FuzzMatchHelpers holds the matcher's allocation-free helpers to what
// they replace: validHostname to a label walk over strings.Split, mayBeIP
// to net.ParseIP (every address it reads must be let through), joinNames
// to strings.Join.
func FuzzMatchHelpers(f *testing.F) {
	for _, s := range []string{"mail.contoso.com", "*.contoso.com", "*", "a..b", "", ".", "a.", "10.0.0.1", "::1", "::ffff:1.2.3.4", "1.2.3", "-a.b", "a_b.c", "x*.y", "fe80::1%eth0", "A::"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, pattern bool) {
		if got, want := validHostname(s, pattern), splitValidHostname(s, pattern); got != want {
			t.Fatalf("validHostname(%q, %v) = %v, the strings.Split walk says %v", s, pattern, got, want)
		}
		if net.ParseIP(s) != nil && !mayBeIP(s) {
			t.Fatalf("mayBeIP(%q) = false, but net.ParseIP reads it", s)
		}
		a := strings.Split(s, ",")
		for cut := range len(a) + 1 {
			if got, want := joinNames(a[:cut], a[cut:]), strings.Join(a, ", "); got != want {
				t.Fatalf("joinNames(%q, %q) = %q, not %q", a[:cut], a[cut:], got, want)
			}
		}
	})
}

// splitValidHostname is validHostname as it was written before it walked
// the labels without strings.Split.
func splitValidHostname(host string, isPattern bool) bool {
	if host == "" || host == "*" {
		return false
	}
	for i, part := range strings.Split(host, ".") {
		if part == "" {
			return false
		}
		if isPattern && i == 0 && part == "*" {
			continue
		}
		for j := 0; j < len(part); j++ {
			c := part[j]
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', 'A' <= c && c <= 'Z', c == '_':
			case c == '-' && j != 0:
			default:
				return false
			}
		}
	}
	return true
}
