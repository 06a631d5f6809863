// Command comparetshark compares, for every TLS flow of some capture
// files, what `certsleuth pcap` reads with what tshark (Wireshark) reads:
// the SNI, the TLS version the server chose, the server's leaf
// certificate and whether that certificate is visible. It prints each
// disagreement, a per-file agreement and the total. scripts/compare-tshark.sh
// runs it; docs/capture.md explains the disagreements left on public
// captures.
//
//	go run ./scripts/comparetshark [-certsleuth PATH] [-tshark PATH] [-v] [-audit] FILE...
//
// A flow is one TCP connection in which either tool saw a TLS handshake
// message (tshark: tls.handshake.type; certsleuth: a kind "tls"
// observation). tshark runs with tcp.reassemble_out_of_order on, its TLS
// heuristics as installed, and no keys. What "visible" means for tshark
// is derived from what it dissected in clear (see tsharkVisibility).
//
// Two figures are printed. Strict: tshark as it runs by default. Fair:
// for a flow certsleuth reads as TLS and tshark does not, tshark is asked
// again, (1) told to dissect that flow's server port as TLS (`-d
// tcp.port==P,tls`: tshark picks a dissector by port, so TLS on port 80
// or after an IRC STARTTLS is not looked at), and (2) reading its SSL 2.0
// fields (an SSL 2.0 record has no tls.record.content_type; its
// SERVER-HELLO is handshake type 4, with the version and certificate in
// tls.handshake.version and tls.handshake.certificate); and (3) for a
// flow that still disagrees and holds bare ACKs carrying 1 to 6 zero
// bytes (Ethernet padding counted as payload), tshark reads the file
// without those packets (fairWithoutPadding). Every flow so adjusted is
// printed with the adjustment; nothing else changes.
//
// Each file is audited too (audit.go; with -audit, only audited): a
// connection in which tshark dissects a server Certificate or ServerHello
// in clear must be judged by certsleuth or counted as not judged; a
// BREACH line names a file where one is not, while certsleuth exits 0 or
// its JSON summary says all was judged (scripts/audit-unjudged.sh).
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/certsleuth/certsleuth/scripts/internal/pcaprun"
)

func main() {
	certsleuth := flag.String("certsleuth", "certsleuth", "the certsleuth binary")
	tshark := flag.String("tshark", "tshark", "the tshark binary")
	verbose := flag.Bool("v", false, "print agreeing flows too")
	auditOnly := flag.Bool("audit", false, "only the audit: BREACH lines, no comparison")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: comparetshark [-certsleuth PATH] [-tshark PATH] [-v] [-audit] FILE...")
		os.Exit(2)
	}
	var total, fairTotal tally
	var audits auditTally
	adjusted := 0
	for _, file := range flag.Args() {
		base := filepath.Base(file)
		cs, rv, err := runCertsleuth(*certsleuth, file)
		if err != nil {
			fmt.Printf("%s: certsleuth: %v\n", file, err)
		}
		ts, err := runTshark(*tshark, file, nil, false)
		if err != nil {
			fmt.Printf("%s: tshark: %v\n", file, err)
			continue
		}
		a := audit(ts, rv)
		audits.add(a)
		for _, l := range a.lines(base) {
			fmt.Println(l)
		}
		if *auditOnly {
			continue
		}
		var t, ft tally
		results := compare(cs, ts)
		fair, err := fairResults(*tshark, file, results)
		if err != nil {
			fmt.Printf("%s: tshark (fair): %v\n", file, err)
		}
		if err := fairWithoutPadding(*tshark, file, fair); err != nil {
			fmt.Printf("%s: tshark (fair, without padding): %v\n", file, err)
		}
		for i, r := range results {
			t.add(r)
			fr := fair[i]
			ft.add(fr)
			if !r.agree() || *verbose {
				fmt.Printf("%s: %s\n", base, r)
			}
			if fr.ts != r.ts {
				adjusted++
				fmt.Printf("%s: fair (tshark %s): %s\n", base, fr.ts.adj, fr)
			}
		}
		total.merge(t)
		fairTotal.merge(ft)
		fmt.Printf("%s: %s; fair %d agree\n", base, t, ft.agree)
	}
	if !*auditOnly {
		fmt.Printf("TOTAL %d files, strict: %s\n", flag.NArg(), total)
		fmt.Printf("TOTAL %d files, fair (%d flows read again by tshark as listed above): %s\n", flag.NArg(), adjusted, fairTotal)
	}
	fmt.Printf("AUDIT %d files: %s\n", flag.NArg(), audits)
}

// fairResults is results with every flow tshark did not see as TLS but
// certsleuth did read again by tshark, told to dissect its server port
// as TLS and reading its SSL 2.0 fields (see the package comment). The
// other flows are as they are.
func fairResults(bin, file string, results []result) ([]result, error) {
	out := append([]result(nil), results...)
	var ports []int
	seen := map[int]bool{}
	for _, r := range results {
		if r.ts == nil && r.cs != nil {
			if p := portOf(r.cs.server); !seen[p] {
				seen[p] = true
				ports = append(ports, p)
			}
		}
	}
	if len(ports) == 0 {
		return out, nil
	}
	sort.Ints(ports)
	ts, err := runTshark(bin, file, ports, true)
	if err != nil {
		return out, err
	}
	byKey := map[string][]*flowView{}
	for _, v := range ts {
		byKey[flowKey(v)] = append(byKey[flowKey(v)], v)
	}
	for i, r := range out {
		if r.ts != nil || r.cs == nil {
			continue
		}
		k := flowKey(r.cs)
		if l := byKey[k]; len(l) > 0 {
			v := l[0]
			byKey[k] = l[1:]
			var how []string
			if v.ssl2 {
				how = append(how, "SSL 2.0 fields")
			}
			how = append(how, fmt.Sprintf("-d tcp.port==%d,tls", portOf(r.cs.server)))
			v.adj = strings.Join(how, ", ")
			out[i].ts = v
		}
	}
	return out, nil
}

// fairWithoutPadding is the third adjustment of the fair figure: for a
// flow that still disagrees and in which bare ACKs carry 1 to 6 zero
// bytes (Ethernet padding that the IP length counts as payload, as
// capture's packet.paddingLike takes it: ntop/nDPI#1946), tshark reads
// the file again without those packets, which it otherwise reassembles
// as data ("Illegal Segments"). results are changed in place.
func fairWithoutPadding(bin, file string, results []result) error {
	need := false
	for _, r := range results {
		need = need || r.cs != nil && !r.agree()
	}
	if !need {
		return nil
	}
	out, err := exec.Command(bin, "-r", file, "-n", "-Y",
		"tcp.len >= 1 && tcp.len <= 6 && tcp.flags.ack == 1 && tcp.flags.push == 0 && tcp.flags.syn == 0 && tcp.flags.fin == 0 && tcp.flags.reset == 0",
		"-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|",
		"-e", "frame.number", "-e", "tcp.payload", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "frame.protocols").Output()
	if err != nil {
		return err
	}
	frames, keys := paddingFrames(out)
	if len(frames) == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "comparetshark")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	filtered := filepath.Join(dir, "nopadding.pcapng")
	if out, err := exec.Command(bin, "-r", file, "-Y", "!(frame.number in {"+strings.Join(frames, ", ")+"})", "-w", filtered).CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	ts, err := runTshark(bin, filtered, nil, false)
	if err != nil {
		return err
	}
	byKey := map[string][]*flowView{}
	for _, v := range ts {
		byKey[flowKey(v)] = append(byKey[flowKey(v)], v)
	}
	for i, r := range results {
		if r.cs == nil || r.agree() || !keys[flowKey(r.cs)] {
			continue
		}
		k := flowKey(r.cs)
		if l := byKey[k]; len(l) > 0 {
			v := l[0]
			byKey[k] = l[1:]
			v.adj = fmt.Sprintf("without the %d bare ACKs of zero bytes (Ethernet padding) of the file", len(frames))
			results[i].ts = v
		}
	}
	return nil
}

// paddingFrames picks, from tshark's fields (frame number, TCP payload,
// then the endpoints as tsharkFields has them), the frames whose payload
// is all zero bytes, and the keys of their flows.
func paddingFrames(out []byte) (frames []string, keys map[string]bool) {
	keys = map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 9 || strings.Trim(strings.ReplaceAll(f[1], ":", ""), "0") != "" {
			continue
		}
		v6 := innerIsV6(strings.Split(f[8], ":"))
		frames = append(frames, f[0])
		keys[flowKey(&flowView{client: ep(f[2], f[3], f[4], v6), server: ep(f[5], f[6], f[7], v6)})] = true
	}
	return frames, keys
}

// flowKey names a flow by its endpoints, whichever is the client.
func flowKey(v *flowView) string {
	a, b := v.client, v.server
	if a > b {
		a, b = b, a
	}
	return a + " " + b
}

// flowView is what one tool says of one TLS flow.
type flowView struct {
	client, server string // ip:port
	sni            string
	version        string // "TLS 1.2", "TLS 1.3 (draft 23)", "SSL 3.0", "" when no ServerHello
	leaf           string // hex SHA-256 of the server's leaf certificate, "" when not seen
	leafNames      string // its CN and DNS names, for the messages
	vis            string // visible, encrypted, resumed, failed, truncated, not-captured
	ssl2           bool   // tshark: SSL 2.0 records were read (fair mode)
	certMsg        bool   // tshark: the server sent a Certificate message in clear (the audit)
	hello          bool   // tshark: the server sent a ServerHello in clear (the audit)
	adj            string // tshark: how the fair mode read this flow again
}

// result is one flow as both tools see it (nil: that tool has no such flow).
type result struct {
	cs, ts *flowView
}

func (r result) diffs() []string {
	if r.cs == nil {
		return []string{"certsleuth has no TLS flow"}
	}
	if r.ts == nil {
		return []string{"tshark has no TLS flow"}
	}
	var d []string
	if r.cs.sni != r.ts.sni {
		d = append(d, fmt.Sprintf("sni %q vs %q", r.cs.sni, r.ts.sni))
	}
	if r.cs.version != r.ts.version {
		d = append(d, fmt.Sprintf("version %q vs %q", r.cs.version, r.ts.version))
	}
	if r.cs.leaf != r.ts.leaf {
		d = append(d, fmt.Sprintf("leaf %s vs %s", short(r.cs), short(r.ts)))
	}
	if r.cs.vis != r.ts.vis {
		d = append(d, fmt.Sprintf("visibility %s vs %s", r.cs.vis, r.ts.vis))
	}
	return d
}

func short(v *flowView) string {
	if v.leaf == "" {
		return "none"
	}
	return v.leaf[:12] + " (" + v.leafNames + ")"
}

func (r result) agree() bool { return len(r.diffs()) == 0 }

func (r result) String() string {
	v := r.cs
	if v == nil {
		v = r.ts
	}
	head := v.client + " -> " + v.server
	if r.agree() {
		return "agree " + head + fmt.Sprintf(" sni=%q %s %s %s", v.sni, v.version, v.vis, short(v))
	}
	return "DIFFER " + head + " (certsleuth vs tshark): " + strings.Join(r.diffs(), "; ")
}

// tally counts flows and agreements.
type tally struct{ flows, agree, sni, version, leaf, vis int }

func (t *tally) add(r result) {
	t.flows++
	if r.agree() {
		t.agree++
	}
	if r.cs != nil && r.ts != nil {
		if r.cs.sni == r.ts.sni {
			t.sni++
		}
		if r.cs.version == r.ts.version {
			t.version++
		}
		if r.cs.leaf == r.ts.leaf {
			t.leaf++
		}
		if r.cs.vis == r.ts.vis {
			t.vis++
		}
	}
}

func (t *tally) merge(o tally) {
	t.flows += o.flows
	t.agree += o.agree
	t.sni += o.sni
	t.version += o.version
	t.leaf += o.leaf
	t.vis += o.vis
}

var pct = pcaprun.Pct

func (t tally) String() string {
	return fmt.Sprintf("%d TLS flows, %d agree (%s); sni %s, version %s, leaf %s, visibility %s",
		t.flows, t.agree, pct(t.agree, t.flows), pct(t.sni, t.flows), pct(t.version, t.flows), pct(t.leaf, t.flows), pct(t.vis, t.flows))
}

// compare pairs the flows of both tools by their endpoints (in the order
// they start, for endpoints used twice) and lists every flow.
func compare(cs, ts []*flowView) []result {
	key := flowKey
	byKey := map[string][]*flowView{}
	for _, v := range ts {
		byKey[key(v)] = append(byKey[key(v)], v)
	}
	var out []result
	for _, c := range cs {
		k := key(c)
		if l := byKey[k]; len(l) > 0 {
			out = append(out, result{cs: c, ts: l[0]})
			byKey[k] = l[1:]
			continue
		}
		out = append(out, result{cs: c})
	}
	var rest []string
	for k, l := range byKey {
		if len(l) > 0 {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		for _, v := range byKey[k] {
			out = append(out, result{ts: v})
		}
	}
	return out
}

// runCertsleuth reads file with `certsleuth pcap --record --format json`
// and returns its TLS flows (pcaprun.Run) and what its report says (for
// the audit).
func runCertsleuth(bin, file string) ([]*flowView, reportView, error) {
	res, err := pcaprun.Run(bin, file)
	if res == nil {
		return nil, reportView{exit: -1}, err
	}
	var out []*flowView
	for _, o := range res.TLS {
		v := &flowView{client: o.Client, server: o.Server, sni: o.SNI, version: o.TLSVersion, vis: string(o.Visibility)}
		if len(o.Chain) > 0 {
			v.leaf, v.leafNames = leafID(o.Chain[0])
		}
		out = append(out, v)
	}
	rv, perr := parseReport(res.Report, res.Exit)
	if err == nil {
		err = perr
	}
	return out, rv, err
}

// leafID is the hex SHA-256 of a certificate's DER and its names.
func leafID(der []byte) (id, names string) {
	sum := sha256.Sum256(der)
	id = hex.EncodeToString(sum[:])
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return id, "unparsable: " + err.Error()
	}
	n := append([]string{"CN=" + c.Subject.CommonName}, c.DNSNames...)
	if len(n) > 4 {
		n = append(n[:4], fmt.Sprintf("+%d", len(n)-4))
	}
	return id, strings.Join(n, " ")
}

// tsharkFields are the fields read from every TCP packet with TLS.
var tsharkFields = []string{
	"tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
	"frame.cap_len", "frame.len",
	"tls.record.content_type", "tls.handshake.type",
	"tls.handshake.extensions_server_name", "tls.handshake.version",
	"tls.handshake.extensions.supported_version", "tls.handshake.extension.type",
	"tls.handshake.certificate", "tls.alert_message.level",
	"frame.protocols", "tls.handshake.random",
}

// Indexes of tsharkFields used by name.
const (
	fCapLen    = 7
	fLen       = 8
	fProtocols = 17
	fRandom    = 18
)

// hrrRandom is the Random of a HelloRetryRequest, a ServerHello that
// asks the client for another hello (RFC 8446 §4.1.3: the SHA-256 of
// "HelloRetryRequest").
const hrrRandom = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"

// tsharkFlow collects one TCP stream's TLS as tshark dissects it.
type tsharkFlow struct {
	stream        string
	a, b          string // endpoints of the first packet: a sent it
	client        string // the sender of the ClientHello
	sni           string
	shVersion     string // the ServerHello's chosen version, hex ("0x0303")
	shPSK         bool
	leaf          []byte
	handshake     bool // any handshake message seen
	serverCCS     bool
	serverAlert   bool
	serverDone    bool // ServerHelloDone
	serverHello   bool
	realHello     bool // a ServerHello that is not a HelloRetryRequest
	serverCertMsg bool // a Certificate message, dissected or not
	truncated     bool // a server packet was cut by the snap length
	// cutInHandshake: one was before the server's ChangeCipherSpec (in
	// the part of its handshake that is in clear).
	cutInHandshake bool
	full           bool // a full handshake: a ClientKeyExchange, ServerKeyExchange, CertificateRequest or ServerHelloDone
	ssl2           bool // read SSL 2.0 records (fair mode)
	sawSSL2        bool
	pkts           []tsharkPkt
}

type tsharkPkt struct {
	src, dst string
	fields   []string
}

// runTshark dissects file with tshark and returns its TLS flows; each
// of ports is dissected as TLS (-d), and with ssl2 SSL 2.0 records count.
func runTshark(bin, file string, ports []int, ssl2 bool) ([]*flowView, error) {
	args := []string{"-r", file, "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-Y", "tls || ssl", "-T", "fields",
		"-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"}
	for _, p := range ports {
		args = append(args, "-d", fmt.Sprintf("tcp.port==%d,tls", p))
	}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseTshark(out, ssl2), nil
}

// parseTshark turns tshark's field lines into flows.
func parseTshark(out []byte, ssl2 bool) []*flowView {
	flows := map[string]*tsharkFlow{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < len(tsharkFields) || f[0] == "" {
			continue // not TCP (DTLS)
		}
		protos := strings.Split(f[fProtocols], ":")
		if quotedInICMP(protos) {
			continue
		}
		v6 := innerIsV6(protos)
		src, dst := ep(f[1], f[2], f[3], v6), ep(f[4], f[5], f[6], v6)
		fl := flows[f[0]]
		if fl == nil {
			fl = &tsharkFlow{stream: f[0], a: src, b: dst, ssl2: ssl2}
			flows[f[0]] = fl
			order = append(order, f[0])
		}
		fl.pkts = append(fl.pkts, tsharkPkt{src, dst, f})
	}
	var views []*flowView
	for _, s := range order {
		if v := flows[s].view(); v != nil {
			views = append(views, v)
		}
	}
	return views
}

// ep is an endpoint as certsleuth keys it: the innermost IP header's
// address (a tunnel's inner connection: IP in IP, 6in4, 4in6, GRE,
// VXLAN, Geneve, GTP-U), from tshark's ip.src and ipv6.src (each lists
// the headers of its family outermost first); v6 says whether the
// innermost header is IPv6 (see innerIsV6).
func ep(ip4, ip6, port string, v6 bool) string {
	ip := ip4
	if v6 || ip == "" {
		ip = ip6
	}
	if ip == "" {
		ip = ip4
	}
	if i := strings.LastIndexByte(ip, '|'); i >= 0 { // the innermost header of that family
		ip = ip[i+1:]
	}
	return net.JoinHostPort(ip, port)
}

// innerIsV6 reports whether the innermost IP header of a packet is IPv6,
// from tshark's frame.protocols ("eth:ethertype:ip:ipv6:tcp:tls" is IPv6
// in IPv4, RFC 4213's 6in4).
func innerIsV6(protos []string) bool {
	for i := len(protos) - 1; i >= 0; i-- {
		switch protos[i] {
		case "ipv6":
			return true
		case "ip":
			return false
		}
	}
	return false
}

// quotedInICMP reports whether the TCP header tshark dissects is the one
// an ICMP or ICMPv6 error quotes (RFC 792, RFC 4443 §3: the start of the
// packet that caused it), not a segment of the connection.
func quotedInICMP(protos []string) bool {
	for _, p := range protos {
		switch p {
		case "icmp", "icmpv6":
			return true
		case "tcp":
			return false
		}
	}
	return false
}

func portOf(hostport string) int {
	_, p, _ := net.SplitHostPort(hostport)
	n, _ := strconv.Atoi(p)
	return n
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

// view works out the flow's facts: first who the client is (the sender
// of the first ClientHello, else the receiver of the first ServerHello),
// then the facts of each direction.
func (fl *tsharkFlow) view() *flowView {
	records := false
	for _, p := range fl.pkts {
		records = records || p.fields[9] != "" || fl.isSSL2(p)
	}
	if !records {
		return nil // TCP segments tshark held for reassembly, no TLS record (keep-alives)
	}
	for _, p := range fl.pkts {
		types := split(p.fields[10])
		if has(types, "1") {
			fl.client = p.src
			break
		}
		if has(types, "2") {
			fl.client = p.dst
			break
		}
	}
	if fl.client == "" {
		// No hello: the middle of a connection (TLS records without the
		// handshake). Its client is the side with the higher port, as
		// certsleuth guesses it; it is a TLS flow whose handshake is
		// not in the capture.
		fl.client = fl.a
		if portOf(fl.b) > portOf(fl.a) {
			fl.client = fl.b
		}
	}
	server := fl.b
	if fl.client == fl.b {
		server = fl.a
	}
	for _, p := range fl.pkts {
		f := p.fields
		types := split(f[10])
		if len(types) > 0 {
			fl.handshake = true
		}
		if p.src == fl.client {
			if has(types, "16") {
				fl.full = true // a ClientKeyExchange: a full handshake (RFC 5246 §7.3)
			}
			if has(types, "1") && fl.sni == "" {
				if names := split(f[11]); len(names) > 0 {
					fl.sni = names[0]
				}
			}
			continue
		}
		capLen, _ := strconv.Atoi(f[fCapLen])
		wireLen, _ := strconv.Atoi(f[fLen])
		if capLen < wireLen {
			fl.truncated = true
			if !fl.serverCCS {
				fl.cutInHandshake = true
			}
		}
		// A full handshake's server messages (RFC 5246 §7.3: an
		// abbreviated one has none of them).
		if has(types, "12") || has(types, "13") || has(types, "14") {
			fl.full = true
		}
		cts := split(f[9])
		if has(cts, "21") && fl.leaf == nil && (fl.serverHello || fl.sni != "" || fl.handshake) {
			fl.serverAlert = true // an alert in the middle of a connection is no failed handshake
		}
		if has(types, "2") && !has(split(f[fRandom]), hrrRandom) {
			fl.realHello = true
		}
		if has(types, "2") && !fl.serverHello {
			fl.serverHello = true
			fl.shVersion = first(split(f[12]))
			if sv := split(f[13]); len(sv) > 0 {
				fl.shVersion = sv[len(sv)-1]
			}
			fl.shPSK = has(split(f[14]), "41")
		} else if has(types, "2") {
			// A HelloRetryRequest came first: the real ServerHello wins.
			if sv := split(f[13]); len(sv) > 0 {
				fl.shVersion = sv[len(sv)-1]
			}
			fl.shPSK = has(split(f[14]), "41")
		}
		if fl.isSSL2(p) && has(types, "4") && !fl.serverHello {
			// An SSL 2.0 SERVER-HELLO: its version and certificate.
			fl.sawSSL2, fl.serverHello = true, true
			fl.shVersion = first(split(f[12]))
			if certs := split(f[15]); len(certs) > 0 {
				fl.leaf, _ = hex.DecodeString(strings.ReplaceAll(certs[0], ":", ""))
			}
		}
		if has(types, "11") && fl.leaf == nil {
			if certs := split(f[15]); len(certs) > 0 {
				fl.leaf, _ = hex.DecodeString(strings.ReplaceAll(certs[0], ":", ""))
			}
		}
		if has(types, "14") {
			fl.serverDone = true
		}
		// After the ServerHello of this packet (they often share one).
		if has(types, "11") {
			fl.serverCertMsg = true
		}
		if has(cts, "20") && !fl.serverCertMsg && fl.serverHello {
			fl.serverCCS = true // RFC 5246 §7.3: an abbreviated handshake
		}
	}
	v := &flowView{client: fl.client, server: server, sni: fl.sni, version: versionName(fl.shVersion), ssl2: fl.sawSSL2,
		certMsg: fl.serverCertMsg, hello: fl.serverHello}
	if fl.leaf != nil {
		v.leaf, v.leafNames = leafID(fl.leaf)
	}
	v.vis = fl.visibility()
	return v
}

// isSSL2 reports whether p is an SSL 2.0 record as tshark dissects it
// (handshake fields without a TLS record content type), in fair mode.
func (fl *tsharkFlow) isSSL2(p tsharkPkt) bool {
	return fl.ssl2 && p.fields[9] == "" && p.fields[10] != ""
}

// visibility is the cert_visibility certsleuth should say, from what
// tshark dissected: the certificate in clear (visible); a TLS 1.3
// ServerHello (encrypted, or resumed with a PSK; a HelloRetryRequest
// alone is none: the server sent no certificate, encrypted or not, and
// the flow is not-captured as certsleuth says it); a TLS 1.0-1.2
// ServerHello followed by ChangeCipherSpec without a Certificate, in an
// abbreviated handshake whose packets before the ChangeCipherSpec are
// not cut (resumed: with a
// ClientKeyExchange or a server's ServerHelloDone the handshake was a
// full one, whose Certificate tshark did not dissect, as when the snap
// length cut it: CESNET's tls.pcap); a server packet cut short
// (truncated); a server alert or ServerHelloDone without a certificate
// (failed); else not-captured.
func (fl *tsharkFlow) visibility() string {
	switch {
	case fl.leaf != nil:
		return "visible"
	case fl.realHello && is13(fl.shVersion) && fl.shPSK:
		return "resumed"
	case fl.realHello && is13(fl.shVersion):
		return "encrypted"
	case fl.serverHello && fl.serverCCS && !is13(fl.shVersion) && !fl.full && !fl.cutInHandshake:
		return "resumed"
	case fl.truncated:
		return "truncated"
	case fl.serverAlert, fl.serverDone:
		return "failed"
	}
	return "not-captured"
}

// is13 reports whether a ServerHello version (hex) is TLS 1.3 or one of
// its drafts and experiments, the versions versionName calls TLS 1.3
// (Facebook's 0xfb17 and 0xfb1a too: without them a Facebook draft
// ServerHello followed by its compatibility ChangeCipherSpec was taken
// for a TLS 1.2 resumption, blind set 2's ndpi-instagram.pcap).
func is13(v string) bool {
	switch v {
	case "0x0304", "0x7e01", "0x7e02", "0xfb17", "0xfb1a":
		return true
	}
	return strings.HasPrefix(v, "0x7f")
}

func has(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

// versionName names a version as certsleuth writes it, from the
// registry (RFC 8446 and the IANA TLS parameters; draft numbers from
// draft-ietf-tls-tls13-NN's own version field 0x7fNN; 0x7e01/0x7e02 are
// Google's experiment versions, listed by Wireshark's packet-tls-utils.c).
func versionName(hexv string) string {
	if hexv == "" {
		return ""
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(hexv, "0x"), 16, 16)
	if err != nil {
		return hexv
	}
	switch {
	case v == 0x0002:
		return "SSL 2.0"
	case v == 0x0300:
		return "SSL 3.0"
	case v == 0x0301:
		return "TLS 1.0"
	case v == 0x0302:
		return "TLS 1.1"
	case v == 0x0303:
		return "TLS 1.2"
	case v == 0x0304:
		return "TLS 1.3"
	case v>>8 == 0x7f:
		return fmt.Sprintf("TLS 1.3 (draft %d)", v&0xff)
	case v == 0x7e01, v == 0x7e02:
		return fmt.Sprintf("TLS 1.3 (Google experiment %d)", v&0xff)
	case v == 0xfb17, v == 0xfb1a:
		return fmt.Sprintf("TLS 1.3 (Facebook draft %d)", v&0xff)
	}
	return fmt.Sprintf("0x%04x", v)
}
