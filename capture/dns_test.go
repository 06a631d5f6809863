package capture

import (
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestDNSNames: every record type and response code is named as
// certsleuth named it when it read DNS with gopacket's layers.DNS.
func TestDNSNames(t *testing.T) {
	for v := range 1 << 16 {
		want := strings.ToUpper(layers.DNSType(v).String())
		if got := dnsTypeName(uint16(v)); got != want {
			t.Errorf("type %d named %q, want %q", v, got, want)
		}
	}
	short := map[layers.DNSResponseCode]string{0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}
	for v := range 256 {
		want, ok := short[layers.DNSResponseCode(v)]
		if !ok {
			want = strings.ToUpper(layers.DNSResponseCode(v).String())
		}
		if got := dnsRcodeName(uint8(v)); got != want {
			t.Errorf("rcode %d named %q, want %q", v, got, want)
		}
	}
}

// refDNSAnswers is how certsleuth turned layers.DNS's answers into
// record.DNSAnswer before it parsed DNS itself: the reference for FuzzDNS.
func refDNSAnswers(d *layers.DNS) []record.DNSAnswer {
	var out []record.DNSAnswer
	for _, a := range d.Answers {
		ans := record.DNSAnswer{Type: strings.ToUpper(a.Type.String()), Name: string(a.Name), TTL: a.TTL}
		switch a.Type {
		case layers.DNSTypeA, layers.DNSTypeAAAA:
			if a.IP == nil {
				continue
			}
			ans.Value = a.IP.String()
		case layers.DNSTypeCNAME:
			ans.Value = string(a.CNAME)
		case layers.DNSTypeSRV:
			ans.Value = string(a.SRV.Name)
			ans.Port, ans.Prio, ans.Weight = int(a.SRV.Port), int(a.SRV.Priority), int(a.SRV.Weight)
		default:
			continue
		}
		out = append(out, ans)
	}
	return out
}

// dnsSeeds are DNS messages for FuzzDNS and TestDNSParse: gopacket
// serialises some, others are written by hand with compression pointers,
// an OPT record with an extended RCODE, and records of other types.
func dnsSeeds(t testing.TB) [][]byte {
	ser := func(d *layers.DNS) []byte {
		buf := gopacket.NewSerializeBuffer()
		if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	q := layers.DNSQuestion{Name: []byte("autodiscover.contoso.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}
	srv := layers.DNSResourceRecord{Name: []byte("_autodiscover._tcp.contoso.test"), Type: layers.DNSTypeSRV, Class: layers.DNSClassIN, TTL: 3600,
		SRV: layers.DNSSRV{Priority: 10, Weight: 5, Port: 443, Name: []byte("mail.contoso.test")}}
	cname := layers.DNSResourceRecord{Name: []byte("autodiscover.contoso.test"), Type: layers.DNSTypeCNAME, Class: layers.DNSClassIN, TTL: 60, CNAME: []byte("mail.contoso.test")}
	mx := layers.DNSResourceRecord{Name: []byte("contoso.test"), Type: layers.DNSTypeMX, Class: layers.DNSClassIN, TTL: 60, MX: layers.DNSMX{Preference: 10, Name: []byte("mx.contoso.test")}}
	seeds := [][]byte{
		ser(&layers.DNS{ID: 7, QR: false, RD: true, Questions: []layers.DNSQuestion{q}}),
		ser(&layers.DNS{ID: 7, QR: true, RD: true, RA: true, Questions: []layers.DNSQuestion{q},
			Answers: []layers.DNSResourceRecord{cname, aRecord("mail.contoso.test", "192.0.2.10"), aRecord("mail.contoso.test", "2001:db8::10")}}),
		ser(&layers.DNS{ID: 8, QR: true, Questions: []layers.DNSQuestion{{Name: srv.Name, Type: layers.DNSTypeSRV, Class: layers.DNSClassIN}}, Answers: []layers.DNSResourceRecord{srv}}),
		ser(&layers.DNS{ID: 9, QR: true, ResponseCode: layers.DNSResponseCodeNXDomain, Questions: []layers.DNSQuestion{q}, Authorities: []layers.DNSResourceRecord{mx}}),
	}
	// By hand: "mail.contoso.test" at 12, then an answer whose name is a
	// pointer to it and a CNAME whose target is a label and a pointer
	// to "contoso.test"; an OPT record (root name) with extended RCODE 1
	// (BADVERS with rcode 0).
	m := []byte{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 1}
	m = append(m, 4, 'm', 'a', 'i', 'l', 7, 'c', 'o', 'n', 't', 'o', 's', 'o', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1)
	m = append(m, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 30, 0, 6, 3, 'w', 'w', 'w', 0xc0, 17)
	m = append(m, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 1)
	m = append(m, 0, 0, 41, 0x10, 0, 0x01, 0, 0, 0, 0, 0)
	seeds = append(seeds, m)
	// Records of the types layers.DNS decoded and certsleuth only
	// checks (rdataOK), one answer each after a question for
	// "mail.contoso.test", their names compressed to it (0xc0 0x0c).
	rr := func(typ uint16, data ...byte) []byte {
		return append([]byte{0xc0, 12, byte(typ >> 8), byte(typ), 0, 1, 0, 0, 0, 60, byte(len(data) >> 8), byte(len(data))}, data...)
	}
	for _, r := range [][]byte{
		rr(2, 2, 'n', 's', 0xc0, 12), // NS
		rr(12, 0xc0, 12),             // PTR
		rr(6, append([]byte{0xc0, 12, 0xc0, 12}, make([]byte, 20)...)...), // SOA
		rr(15, 0, 10, 0xc0, 12),                                // MX
		rr(16, 3, 'a', 'b', 'c', 0, 2, 'd', 'e'),               // TXT
		rr(13, 3, 'c', 'p', 'u', 2, 'o', 's'),                  // HINFO
		rr(256, 0, 1, 0, 1, 'h', 't', 't', 'p'),                // URI
		rr(35, 0, 1, 0, 1, 1, 'u', 1, 's', 0, 0xc0, 12),        // NAPTR
		rr(41, 0, 10, 0, 2, 0xab, 0xcd),                        // OPT
		rr(46, append(make([]byte, 18), 0xc0, 12, 1, 2, 3)...), // RRSIG
		rr(48, 1, 1, 3, 8, 9, 9),                               // DNSKEY
		rr(65, 0, 1, 0, 0, 1, 0, 3, 2, 'h', '2'),               // HTTPS
		rr(64, 0, 1, 0xc0, 12),                                 // SVCB
		rr(99, 1, 2, 3),                                        // another type
	} {
		h := []byte{0, 9, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 4, 'm', 'a', 'i', 'l', 7, 'c', 'o', 'n', 't', 'o', 's', 'o', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1}
		seeds = append(seeds, append(h, r...))
	}
	return seeds
}

// TestDNSParse: the hand-written messages read as they should (the
// pointers followed, the OPT record's extended RCODE taken), and as
// layers.DNS reads them.
func TestDNSParse(t *testing.T) {
	seeds := dnsSeeds(t)
	var m dnsMsg
	last := seeds[4] // the hand-written one with pointers and OPT
	if !m.parse(last) {
		t.Fatal("hand-written message not read")
	}
	got := dnsAnswers(&m, "mail.contoso.test")
	want := []record.DNSAnswer{
		{Type: "CNAME", Name: "mail.contoso.test", TTL: 30, Value: "www.contoso.test"},
		{Type: "A", Name: "mail.contoso.test", TTL: 30, Value: "192.0.2.1"},
	}
	if !reflect.DeepEqual(got, want) || m.rcode != 16 || dnsRcodeName(m.rcode) != "BAD OPT VERSION" {
		t.Errorf("read %+v, rcode %d; want %+v, rcode 16", got, m.rcode, want)
	}
	for i, b := range seeds {
		compareDNS(t, i, b)
	}
	// Damaged: cut anywhere, the message is refused (no panic).
	for n := range len(last) - 1 {
		if m.parse(last[:n]) {
			t.Errorf("message cut to %d bytes read", n)
		}
	}
}

// compareDNS fails unless certsleuth reads b where layers.DNS read it
// (with a question), and only there, and reads what certsleuth read with
// layers.DNS.
func compareDNS(t *testing.T, i int, b []byte) {
	var d layers.DNS
	var m dnsMsg
	ok := m.parse(b)
	want := d.DecodeFromBytes(b, gopacket.NilDecodeFeedback) == nil && len(d.Questions) > 0
	if ok != want {
		t.Fatalf("message %d: certsleuth reads it: %v, layers.DNS: %v", i, ok, want)
	}
	if !ok {
		return
	}
	q := m.questions[0]
	if m.id != d.ID || m.qr != d.QR || m.rcode != uint8(d.ResponseCode) || string(q.name) != string(d.Questions[0].Name) || dnsTypeName(q.qtype) != strings.ToUpper(d.Questions[0].Type.String()) {
		t.Fatalf("message %d: id %d qr %v rcode %d question %q %d; layers.DNS %d %v %d %q %d",
			i, m.id, m.qr, m.rcode, q.name, q.qtype, d.ID, d.QR, d.ResponseCode, d.Questions[0].Name, d.Questions[0].Type)
	}
	if got, want := dnsAnswers(&m, string(q.name)), refDNSAnswers(&d); !reflect.DeepEqual(got, want) {
		t.Fatalf("message %d: answers %+v, layers.DNS %+v", i, got, want)
	}
}

// FuzzDNS compares certsleuth's DNS parser with gopacket's layers.DNS:
// which messages they read, and what certsleuth reads (ID, QR, response
// code, the first question, the A, AAAA, CNAME and SRV answers with
// their TTLs); and checks that it never panics.
func FuzzDNS(f *testing.F) {
	for _, b := range dnsSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		compareDNS(t, 0, b)
		var m dnsMsg
		if m.parse(b) {
			for _, a := range m.answers {
				if a.ip != nil && len(a.ip) != net.IPv4len && len(a.ip) != net.IPv6len {
					t.Fatalf("address of %d bytes", len(a.ip))
				}
			}
		}
	})
}
