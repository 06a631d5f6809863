package analysis

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// The fields of an Observation as the judge's memo key (checkKey) places
// them: read by the judge and in the key, making the observation one to
// judge on its own, or not read by the judge and left out of the key.
var (
	checkKeyed = []string{"Kind", "Source", "SNI", "NoSNI", "Connect", "URL", "Host", "DNSName", "Carrier",
		"TLSVersion", "Chain", "ChainID", "Visibility", "Snaplen", "ResumedFrom", "Error", "ClientAlert",
		"ECH", "ECHRequired", "HelloFormat", "ClientCertRequested", "ClientCert", "ServerWarnings"}
	checkOwn  = []string{"Body", "DNS", "AIA"}
	checkLeft = []string{"Time", "Duration", "Conn", "Client", "Server", "Proxy", "ALPN", "Method", "StartTLS",
		"UserAgent", "Protocol", "Status", "Location", "Note", "Exchange"}
)

// keyOf is the key judger.item makes for o.
func keyOf(j *judger, o *record.Observation) (string, bool) {
	pc := j.chain(o)
	k := j.key(o, &pc)
	return string(k), k != nil
}

// changeField sets field i of o to a value unlike the one it has.
func changeField(t *testing.T, o *record.Observation, i int) {
	t.Helper()
	f := reflect.TypeOf(*o).Field(i)
	v := reflect.ValueOf(o).Elem().Field(i)
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x.example.net")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 7)
	case reflect.Slice:
		e := reflect.New(f.Type.Elem()).Elem()
		switch e.Kind() {
		case reflect.Slice:
			e = reflect.ValueOf([]byte("der"))
		case reflect.String:
			e = reflect.ValueOf("unrecognized name")
		}
		v.Set(reflect.Append(reflect.MakeSlice(f.Type, 0, 1), e))
	case reflect.Pointer:
		v.Set(reflect.New(f.Type.Elem()))
	case reflect.Struct: // time.Time
		v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Hour)))
	default:
		t.Fatalf("field %s: kind %s not handled by this test", f.Name, v.Kind())
	}
}

// TestCheckKeyFields: every field of an Observation is placed (a field
// added to Observation fails here until checkKey reads it or the checks
// are shown not to), and each changes the key, or not, as placed.
func TestCheckKeyFields(t *testing.T) {
	place := map[string]string{}
	for _, l := range []struct {
		names []string
		as    string
	}{{checkKeyed, "keyed"}, {checkOwn, "own"}, {checkLeft, "left"}} {
		for _, n := range l.names {
			place[n] = l.as
		}
	}
	j := newJudger(Options{Roots: scenarioCerts(t).roots, Now: scenarioDay}.withDefaults())
	base := httpsObs(0, "GET", "https://mail.contoso.com/owa/", 200, nil, exchAddr)
	base.Chain = scenarioCerts(t).leaf("mail.contoso.com", "mail.contoso.com")
	want, ok := keyOf(j, base)
	if !ok {
		t.Fatal("a plain request has no key")
	}
	typ := reflect.TypeOf(*base)
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		o := *base
		changeField(t, &o, i)
		if name == "Chain" {
			o.ChainID = ""
		}
		got, ok := keyOf(j, &o)
		switch place[name] {
		case "keyed":
			if !ok || got == want {
				t.Errorf("field %s: changing it leaves the key as it was (or makes none): checkKey must read it", name)
			}
		case "own":
			if ok {
				t.Errorf("field %s: an observation with it set has a key; it must be judged on its own", name)
			}
		case "left":
			if !ok || got != want {
				t.Errorf("field %s is left out of the key but changes it", name)
			}
		default:
			t.Errorf("field %s of record.Observation is not placed: add it to checkKey (and checkKeyed) or, when the judge does not read it, to checkLeft", name)
		}
	}
	// Server names the server when nothing else does (name.unknown).
	bare := &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Server: "192.0.2.1:443", Chain: base.Chain, Visibility: record.VisVisible}
	other := *bare
	other.Server = "192.0.2.2:443"
	if a, _ := keyOf(j, bare); a == func() string { b, _ := keyOf(j, &other); return b }() {
		t.Error("two connections that name no server, to two addresses, share a key")
	}
}

// TestCheckKeyJudgement holds the checks to the key: on every observation
// of the scenarios, changing a field the key leaves out changes nothing
// of the judgement (a check that starts reading one fails here), and two
// observations with equal keys are judged alike.
func TestCheckKeyJudgement(t *testing.T) {
	judgement := func(j *judger, o *record.Observation) string {
		pc := j.chain(o)
		it := j.judge(1, o, &pc) // the checks, never the memo
		it.Obs, it.Index = nil, 0
		b, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	left := map[string]bool{}
	for _, n := range checkLeft {
		left[n] = true
	}
	// Beside the scenarios, observations that reach the checks the
	// scenarios do not: no name at all, a capture without the hello,
	// every visibility, alerts, ECH, client certificates.
	leaf := scenarioCerts(t).leaf("mail.contoso.com", "mail.contoso.com")
	tls := func(f func(o *record.Observation)) *record.Observation {
		o := &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: scenarioDay, Client: "10.0.0.5:50000",
			Server: "192.0.2.9:443", Conn: "tcp#1", SNI: "mail.contoso.com", TLSVersion: "TLS 1.2", Chain: leaf, Visibility: record.VisVisible,
			UserAgent: "Microsoft Office/16.0", Method: "GET", ALPN: []string{"h2"}}
		f(o)
		return o
	}
	odd := []*record.Observation{
		tls(func(o *record.Observation) { o.SNI, o.NoSNI = "", true }),
		tls(func(o *record.Observation) { o.SNI = "" }),
		tls(func(o *record.Observation) { o.SNI, o.Visibility, o.Chain = "", record.VisEncrypted, nil }),
		tls(func(o *record.Observation) { o.Visibility, o.Chain = record.VisEncrypted, nil }),
		tls(func(o *record.Observation) { o.Visibility, o.Chain, o.Snaplen = record.VisTruncated, nil, 96 }),
		tls(func(o *record.Observation) { o.SNI, o.Visibility, o.Chain = "", record.VisMissing, nil }),
		tls(func(o *record.Observation) { o.Visibility, o.Chain, o.ResumedFrom = record.VisResumed, nil, "tcp#0" }),
		tls(func(o *record.Observation) { o.SNI, o.Visibility, o.Source = "", record.VisProbed, record.SourceProbe }),
		tls(func(o *record.Observation) { o.SNI, o.ServerWarnings = "", []string{"unrecognized name"} }),
		tls(func(o *record.Observation) { o.ECH = true }),
		tls(func(o *record.Observation) { o.ECH, o.ECHRequired = true, true }),
		tls(func(o *record.Observation) { o.ClientCertRequested, o.ClientCert = true, record.ClientCertNone }),
		tls(func(o *record.Observation) { o.Error = "remote error: tls: bad certificate" }),
		tls(func(o *record.Observation) { o.ClientAlert = "bad certificate" }),
		tls(func(o *record.Observation) { o.SNI, o.HelloFormat, o.TLSVersion = "", record.HelloSSL2, "" }),
		tls(func(o *record.Observation) { o.TLSVersion = "SSL 3.0" }),
		tls(func(o *record.Observation) { o.SNI = "www.contoso.com" }),
	}
	tested := 0
	for _, sc := range append(scenarioList(t), scenario{name: "odd", obs: odd}) {
		j := newJudger(Options{Roots: scenarioCerts(t).roots, Now: scenarioDay}.withDefaults())
		for n, o := range sc.obs {
			if _, ok := keyOf(j, o); !ok {
				continue
			}
			want := judgement(j, o)
			typ := reflect.TypeOf(*o)
			for i := range typ.NumField() {
				name := typ.Field(i).Name
				if !left[name] {
					continue
				}
				c := *o
				changeField(t, &c, i)
				if name == "Time" {
					c.Time = o.Time.Add(time.Second) // within the certificates' dates
				}
				k1, _ := keyOf(j, o)
				k2, _ := keyOf(j, &c)
				if k1 != k2 {
					continue // the key tells them apart (Server when nothing names the server)
				}
				tested++
				if got := judgement(j, &c); got != want {
					t.Errorf("%s #%d: with %s changed the judgement is\n%s\nnot\n%s\n(the key leaves %s out: checkKey must read it)", sc.name, n+1, name, got, want, name)
				}
			}
		}
	}
	if tested < 250 {
		t.Fatalf("only %d changed observations judged: the scenarios no longer test the key", tested)
	}
}

// TestChainByID: the judge finds a chain again by the ID its recorder
// gave it, but judges each observation by its own certificates: two
// chains under one ID (a trace edited by hand) are two chains.
func TestChainByID(t *testing.T) {
	p := scenarioCerts(t)
	j := newJudger(Options{Roots: p.roots, Now: scenarioDay}.withDefaults())
	obs := func(sni string, chain [][]byte) *record.Observation {
		return &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: scenarioDay, SNI: sni,
			TLSVersion: "TLS 1.2", Chain: chain, ChainID: "one-id", Visibility: record.VisVisible}
	}
	a := j.item(1, obs("mail.contoso.com", p.leaf("mail.contoso.com", "mail.contoso.com")))
	b := j.item(2, obs("other.contoso.com", p.leaf("other.contoso.com", "other.contoso.com")))
	again := j.item(3, obs("mail.contoso.com", a.Obs.Chain))
	for _, c := range []struct {
		it   *Item
		name string
	}{{a, "mail.contoso.com"}, {b, "other.contoso.com"}, {again, "mail.contoso.com"}} {
		if got := c.it.Chain[0].DNSNames; len(got) != 1 || got[0] != c.name {
			t.Errorf("item #%d: judged with the certificate for %v, want %s", c.it.Index, got, c.name)
		}
		if hasFinding(c.it, "name.mismatch") {
			t.Errorf("item #%d: name.mismatch on its own certificate", c.it.Index)
		}
	}
}
