package certs

import (
	"crypto/x509"
	"net"
	"slices"
	"testing"
	"time"
)

func TestSpecFor(t *testing.T) {
	tests := []struct {
		name, in string
		dns      []string
		ip       string
	}{
		{"dns", "mail.contoso.com", []string{"mail.contoso.com"}, ""},
		{"trailing dot", "mail.contoso.com.", []string{"mail.contoso.com"}, ""},
		{"ipv4", "10.0.0.5", nil, "10.0.0.5"},
		{"ipv6 bracketed", "[::1]", nil, "::1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := SpecFor(tc.in)
			if !slices.Equal(s.DNSNames, tc.dns) {
				t.Errorf("DNSNames %v, want %v", s.DNSNames, tc.dns)
			}
			if tc.ip != "" && (len(s.IPAddresses) != 1 || !s.IPAddresses[0].Equal(net.ParseIP(tc.ip))) {
				t.Errorf("IPAddresses %v, want %s", s.IPAddresses, tc.ip)
			}
		})
	}
}

func TestMintedLeaf(t *testing.T) {
	ca, err := NewCA(CAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMinter(ca, 2)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	expired := time.Now().Add(-48 * time.Hour)
	up := &x509.Certificate{DNSNames: []string{"mail.contoso.test", "autodiscover.contoso.test"}, NotBefore: expired.Add(-time.Hour), NotAfter: expired, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	up.Subject.CommonName = "mail.contoso.test"
	cnOnly := &x509.Certificate{NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	cnOnly.Subject.CommonName = "legacy.contoso.test"
	tests := []struct {
		name    string
		spec    LeafSpec
		host    string
		wantErr bool
	}{
		{"clean", SpecFor("exch01.contoso.test"), "exch01.contoso.test", false},
		{"mirror expired stays expired", MirrorSpec(up), "mail.contoso.test", true},
		{"mirror wrong name", MirrorSpec(up), "exch01.contoso.test", true},
		{"mirror CN only stays CN only", MirrorSpec(cnOnly), "legacy.contoso.test", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := m.Leaf(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			l := c.Leaf
			if l.NotAfter.Sub(l.NotBefore) > 825*24*time.Hour {
				t.Errorf("validity %v exceeds Apple's 825 days", l.NotAfter.Sub(l.NotBefore))
			}
			if l.Subject.CommonName != tc.spec.CommonName || !slices.Equal(l.DNSNames, tc.spec.DNSNames) {
				t.Errorf("leaf CN %q SANs %v, want %q %v", l.Subject.CommonName, l.DNSNames, tc.spec.CommonName, tc.spec.DNSNames)
			}
			if !tc.spec.NotAfter.IsZero() && !l.NotAfter.Equal(tc.spec.NotAfter.Truncate(time.Second)) {
				t.Errorf("NotAfter %v, want %v", l.NotAfter, tc.spec.NotAfter)
			}
			if len(c.Certificate) != 2 {
				t.Errorf("chain has %d certificates, want leaf and CA", len(c.Certificate))
			}
			_, err = l.Verify(x509.VerifyOptions{DNSName: tc.host, Roots: roots})
			if (err != nil) != tc.wantErr {
				t.Errorf("verify for %s: %v, wantErr %v", tc.host, err, tc.wantErr)
			}
		})
	}
	if m.Len() != 2 {
		t.Errorf("cache holds %d leaves, want the bound 2", m.Len())
	}
	a, _ := m.Leaf(SpecFor("a.contoso.test"))
	b, _ := m.Leaf(SpecFor("a.contoso.test"))
	if a != b {
		t.Error("the same spec was minted twice; want the cached leaf")
	}
}

func BenchmarkMintECDSA(b *testing.B) {
	ca, err := NewCA(CAOptions{})
	if err != nil {
		b.Fatal(err)
	}
	m, _ := NewMinter(ca, 0)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.mint(SpecFor("mail.contoso.test")); err != nil {
			b.Fatal(err)
		}
	}
}

func TestConstrain(t *testing.T) {
	nc, err := NewCA(CAOptions{NameConstraints: []string{"contoso.test"}})
	if err != nil {
		t.Fatal(err)
	}
	spec := LeafSpec{CommonName: "mail.contoso.test", DNSNames: []string{"mail.contoso.test", "*.contoso.test", "www.example.org"}, IPAddresses: []net.IP{net.ParseIP("10.0.0.5")}}
	got, dropped := nc.Constrain(spec)
	if !slices.Equal(got.DNSNames, []string{"mail.contoso.test", "*.contoso.test"}) || len(got.IPAddresses) != 0 || !slices.Equal(dropped, []string{"www.example.org", "10.0.0.5"}) {
		t.Errorf("Constrain = %v %v, dropped %v", got.DNSNames, got.IPAddresses, dropped)
	}
	// The leaf from the constrained spec verifies for the name inside.
	m, _ := NewMinter(nc, 0)
	leaf, err := m.Leaf(got)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(nc.Cert)
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "mail.contoso.test", Roots: roots}); err != nil {
		t.Errorf("constrained mirror leaf refused: %v", err)
	}
	free, _ := NewCA(CAOptions{})
	if same, d := free.Constrain(spec); len(d) != 0 || len(same.DNSNames) != 3 {
		t.Errorf("an unconstrained CA dropped %v", d)
	}
}
