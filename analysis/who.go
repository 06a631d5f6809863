package analysis

import (
	"bytes"
	"strings"
	"sync"

	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/match"
)

// clientWords names the clients of profiles as the subject of a sentence
// whose verb is singular ("Every client warns", "Each of Chromium and Go
// warns"). It never says Outlook: a profile is a family of clients, and
// which client it was is known only from its User-Agent (see whoWarns).
func clientWords(profiles []string) string {
	return clientWordsOf(profiles, match.Profiles())
}

func clientWordsOf(warn []string, all []*match.Profile) string {
	return clientWordsMemo.of(warn, all)
}

// clientWordsMemo keeps clientWordsOf's words for each list of profiles
// that warn and list of profiles chosen (their names: all the words
// depend on): a report's causes name a few lists, and making the words
// (a map and a list of words each time) was an eighth of what explaining
// each of hs.pcap's 9,656 causes took. Emptied past maxClientWords
// lists; safe for concurrent use (a proxy's pages explain at once).
var clientWordsMemo wordsMemo

// maxClientWords bounds clientWordsMemo: 8 profiles make 256 lists.
const maxClientWords = 256

type wordsMemo struct {
	mu  sync.Mutex
	key []byte
	m   map[string]string
}

func (w *wordsMemo) of(warn []string, all []*match.Profile) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.key[:0]
	for _, p := range warn {
		k = append(append(k, p...), 0)
	}
	k = append(k, 1)
	for _, p := range all {
		k = append(append(k, p.Name...), 0)
	}
	w.key = k
	if bytes.Count(k, []byte{0}) != len(warn)+len(all) || bytes.Count(k, []byte{1}) != 1 {
		return makeClientWords(warn, all) // a name with a separator in it
	}
	if s, ok := w.m[string(k)]; ok {
		return s
	}
	s := makeClientWords(warn, all)
	if w.m == nil || len(w.m) >= maxClientWords {
		w.m = map[string]string{}
	}
	w.m[string(k)] = s
	return s
}

// makeClientWords is clientWordsOf, made anew.
func makeClientWords(warn []string, all []*match.Profile) string {
	words := func(ps []string) []string {
		var ws []string
		for _, p := range ps {
			ws = append(ws, profileWord(p))
		}
		return ws
	}
	in := map[string]bool{}
	for _, p := range warn {
		in[p] = true
	}
	var not []string
	for _, p := range all {
		if !in[p.Name] {
			not = append(not, p.Name)
		}
	}
	switch {
	case len(warn) == 0:
		return "A client"
	case len(not) == 0 && len(warn) > 1 && len(all) >= len(match.Profiles()):
		return "Every client"
	case len(not) == 0 && len(warn) > 1:
		return "Each of " + andList(words(warn)) // the profiles chosen, not every client
	case len(warn) == 1:
		return upperFirst(words(warn)[0])
	case len(not) <= 2 && len(warn) >= 4:
		return "Every client but " + andList(words(not))
	}
	return "Each of " + andList(words(warn))
}

// whoWarns is the subject of a culprit's verdict: Outlook only when the
// client is known to be Outlook on Windows (its User-Agent, which the proxy
// records from the request or its CONNECT, as the demo's clients send it)
// or the check that failed is Outlook Anywhere's principal) and the windows
// profile warns; otherwise the client families that warn.
// A capture has no User-Agent for TLS: server-to-server SMTP on port 25,
// a phone, a browser are never called Outlook.
func whoWarns(c *Culprit, all []*match.Profile) string {
	who := clientWordsOf(c.Profiles, all)
	// Outlook Anywhere (RPC over HTTP) and its principal are Outlook's alone.
	outlook := outlookCulprit(c) || hasID(c.Findings, exchange.PrincipalCheckID)
	if !outlook || !contains(c.Profiles, "windows") {
		return who
	}
	var others []string
	for _, p := range c.Profiles {
		if p != "windows" {
			others = append(others, p)
		}
	}
	switch {
	case len(others) == 0:
		return "Outlook"
	case who == "Every client":
		return "Outlook (and every other client)"
	}
	return "Outlook (and " + lowerFirst(clientWordsOf(others, all)) + ")"
}

// outlookCulprit reports whether the first User-Agent among the culprit's
// requests says it came from Outlook on Windows.
func outlookCulprit(c *Culprit) bool {
	if c.ua() == "" && c.Requests == 0 && c.Detail != nil && c.First != nil {
		// A culprit put together by hand: look at its first request.
		return outlookUserAgent(c.First.Obs.UserAgent)
	}
	return c.ua() != "" && outlookUserAgent(c.ua())
}

// outlookUserAgent reports whether ua is Outlook for Windows: "Microsoft
// Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0...)" on HTTP and
// Autodiscover, "MSRPC" on Outlook Anywhere. Outlook for Mac, iOS and
// Android use their platform's checks, not Windows'.
func outlookUserAgent(ua string) bool {
	l := strings.ToLower(ua)
	if strings.HasPrefix(l, "msrpc") {
		return true
	}
	office := strings.Contains(l, "microsoft outlook") || strings.Contains(l, "microsoft office") || strings.Contains(l, "ms-office")
	return office && strings.Contains(l, "windows")
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' || strings.HasPrefix(s, "Windows") || strings.HasPrefix(s, "Apple") ||
		strings.HasPrefix(s, "Chromium") || strings.HasPrefix(s, "OpenSSL") || strings.HasPrefix(s, "Python") || strings.HasPrefix(s, "Go") {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// causeRank orders a culprit's failed checks so that the one whose fix
// removes the warning comes first: a certificate that must be reissued
// (expired, SHA-1, weak key, wrong key usage: a new certificate also fixes
// the trust error it causes), then the chain, then the name.
func causeRank(id string) int {
	switch {
	case strings.HasPrefix(id, "date."), strings.HasSuffix(id, ".sha1"), strings.HasPrefix(id, "key."), strings.HasSuffix(id, "weak-key"),
		strings.HasPrefix(id, "eku."), id == "chain.intermediate-eku", id == "apple.validity-825":
		return 0
	case strings.HasPrefix(id, "chain."):
		return 1
	}
	return 2
}

// byCause sorts a culprit's findings: first those that hold for every
// client that warns (the verdict's subject), then by causeRank, keeping
// their order otherwise.
func byCause(fs []Finding, profiles []string) []Finding {
	// Each finding's place is worked out once (whether it covers every
	// client that warns, then its rank), and the findings sorted by it
	// with a stable insertion sort: a culprit has a few findings, and
	// this runs for every new cause and every cause explained, where
	// sort.SliceStable and a profile list built per comparison were
	// 4.6 MB of what pcap --format json hs.pcap allocated.
	var small [16]int8
	keys := small[:0]
	if len(fs) > len(small) {
		keys = make([]int8, 0, len(fs))
	}
	for i := range fs {
		k := int8(causeRank(fs[i].ID))
		if !coversAll(&fs[i], profiles) {
			k += 3 // after every finding that covers them
		}
		keys = append(keys, k)
	}
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
	return fs
}

// coversAll reports whether f holds for each of profiles (AllProfiles, or
// a profile list that names every one).
func coversAll(f *Finding, profiles []string) bool {
	if f.Profile == AllProfiles {
		return true
	}
	for _, p := range profiles {
		if !hasProfile(f.Profile, p) {
			return false
		}
	}
	return true
}

// AskedWords says which name the client asked for and where it was seen,
// or, when nothing named the server (no SNI, no CONNECT, URL, Host or DNS
// answer), that it named none and which address it connected to.
func AskedWords(it *Item) string {
	if it.Name != "" {
		return it.Name + " (from the " + nameFromWords(it.NameFrom) + ")"
	}
	o := it.Obs
	s := "no name: nothing in the trace names the server"
	if o.NoSNI {
		s = "no name: the client sent no SNI, and nothing else in the trace names the server"
	}
	if o.Server != "" {
		s += "; it connected to " + o.Server
	}
	return s
}

// serverWords names a server by the name the client asked for, else by its
// address.
func serverWords(it *Item) string {
	switch {
	case it.Name != "":
		return it.Name
	case it.Obs.Server != "":
		return "the server at " + it.Obs.Server + " (the client named no host)"
	}
	return "a server the client named no host for"
}
