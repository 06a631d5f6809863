// Package causes reduces a certsleuth JSON report to its causes and
// counts: one line per cause (the name asked for, the leaf certificate, the
// failed checks, the request path, the setting that sent the client there,
// the port of a URL-less connection) with how many requests it covers,
// which clients warn and the first fix. Two reports with the same lines
// reach the same verdicts, however they are laid out; issue 17's
// comparison of the old and the new report uses it.
//
// It reads only the JSON Lines report (no analysis types), so a report
// made by an older binary reads the same way.
package causes

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
)

// Cause is one cause of a report.
type Cause struct {
	// Key is name|leaf|checks|path|origin|port (see Of).
	Key      string
	Requests int    // requests (items) the cause covers
	Profiles string // the profiles that warn, sorted, comma-separated
	Fix      string // the first remedy's command, or ""
}

// Line is the cause as one tab-separated line.
func (c Cause) Line() string {
	return fmt.Sprintf("%s\t%d\t%s\t%s", c.Key, c.Requests, c.Profiles, c.Fix)
}

// Key makes the key of a cause from its parts: the name asked for, the
// leaf's SHA-256 (hex), the IDs of the failed checks, the request URL
// (only its path is kept, lower case), the catalog setting of the nearest
// origin cause, and the server address (only its port is kept, and only
// when the URL is empty: connections without a request differ by port).
func Key(name, leaf string, checks []string, url, origin, server string) string {
	cs := append([]string(nil), checks...)
	sort.Strings(cs)
	if len(leaf) > 16 {
		leaf = leaf[:16]
	}
	path := strings.ToLower(url)
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	port := ""
	if url == "" {
		if _, p, err := net.SplitHostPort(server); err == nil {
			port = p
		}
	}
	return strings.Join([]string{strings.ToLower(name), leaf, strings.Join(cs, ","), path, origin, port}, "|")
}

// Merge adds up causes with equal keys (their profiles joined, the first
// fix kept) and sorts them by key.
func Merge(cs []Cause) []Cause {
	by := map[string]int{}
	var out []Cause
	for _, c := range cs {
		i, ok := by[c.Key]
		if !ok {
			by[c.Key] = len(out)
			out = append(out, c)
			continue
		}
		out[i].Requests += c.Requests
		if out[i].Profiles != c.Profiles {
			set := map[string]bool{}
			for _, p := range strings.Split(out[i].Profiles+","+c.Profiles, ",") {
				if p != "" {
					set[p] = true
				}
			}
			var ps []string
			for p := range set {
				ps = append(ps, p)
			}
			sort.Strings(ps)
			out[i].Profiles = strings.Join(ps, ",")
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out
}

// item is what FromJSON reads of an observation line.
type item struct {
	Type   string `json:"type"`
	Index  int    `json:"index"`
	Server string `json:"server"`
	Chain  []struct {
		SHA256 string `json:"sha256"`
	} `json:"chain"`
	// summary fields
	Explain []struct {
		Index    int      `json:"index"`
		Repeats  []int    `json:"repeats"`
		Requests int      `json:"requests"`
		Name     string   `json:"name"`
		URL      string   `json:"url"`
		Leaf     string   `json:"leaf"`
		Server   string   `json:"server"`
		Profiles []string `json:"profiles"`
		Checks   []string `json:"checks"`
		Origin   []struct {
			Setting string `json:"setting"`
		} `json:"origin"`
		Remedies []struct {
			Command string `json:"command"`
		} `json:"remedies"`
	} `json:"explain"`
}

// FromJSON reads a JSON Lines report (certsleuth --format json) and returns
// its causes, merged and sorted. A culprit's request count is its
// "requests" field, or else 1 plus its "repeats"; its leaf and server are
// its own "leaf" and "server" fields, or else those of the observation
// line with its index.
func FromJSON(r io.Reader) ([]Cause, error) {
	type obs struct{ leaf, server string }
	seen := map[int]obs{}
	var out []Cause
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	line := 0
	summaries := 0
	for sc.Scan() {
		line++
		var it item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, fmt.Errorf("causes: line %d: %w", line, err)
		}
		if it.Type != "summary" {
			o := obs{server: it.Server}
			if len(it.Chain) > 0 {
				o.leaf = it.Chain[0].SHA256
			}
			seen[it.Index] = o
			continue
		}
		summaries++
		for _, e := range it.Explain {
			o := seen[e.Index]
			if e.Leaf != "" {
				o.leaf = e.Leaf
			}
			if e.Server != "" {
				o.server = e.Server
			}
			origin := ""
			if len(e.Origin) > 0 {
				origin = e.Origin[0].Setting
			}
			n := e.Requests
			if n == 0 {
				n = 1 + len(e.Repeats)
			}
			ps := append([]string(nil), e.Profiles...)
			sort.Strings(ps)
			fix := ""
			if len(e.Remedies) > 0 {
				fix = e.Remedies[0].Command
			}
			out = append(out, Cause{Key: Key(e.Name, o.leaf, e.Checks, e.URL, origin, o.server), Requests: n, Profiles: strings.Join(ps, ","), Fix: fix})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("causes: line %d: %w", line+1, err)
	}
	if summaries != 1 {
		return nil, fmt.Errorf("causes: want one summary line, found %d (is this a --format json report?)", summaries)
	}
	return Merge(out), nil
}

// Write writes causes one per line, after a header line with their number
// and the requests they cover.
func Write(w io.Writer, cs []Cause) error {
	n := 0
	for _, c := range cs {
		n += c.Requests
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# causes %d requests %d\n", len(cs), n)
	for _, c := range cs {
		bw.WriteString(c.Line())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// Read reads what Write wrote.
func Read(r io.Reader) ([]Cause, error) {
	var out []Cause
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<26)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Split(s, "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("causes: line %d: want 4 tab-separated fields, got %d", line, len(f))
		}
		var n int
		if _, err := fmt.Sscan(f[1], &n); err != nil {
			return nil, fmt.Errorf("causes: line %d: requests %q: %w", line, f[1], err)
		}
		out = append(out, Cause{Key: f[0], Requests: n, Profiles: f[2], Fix: f[3]})
	}
	return out, sc.Err()
}

// Diff lists, in words, how got differs from want (both sorted by key); nil
// when they are equal.
func Diff(want, got []Cause) []string {
	var d []string
	w := map[string]Cause{}
	for _, c := range want {
		w[c.Key] = c
	}
	g := map[string]bool{}
	for _, c := range got {
		g[c.Key] = true
		o, ok := w[c.Key]
		switch {
		case !ok:
			d = append(d, "new cause: "+c.Line())
		case o != c:
			d = append(d, "changed: "+o.Line()+"\n     now: "+c.Line())
		}
	}
	for _, c := range want {
		if !g[c.Key] {
			d = append(d, "lost cause: "+c.Line())
		}
	}
	return d
}
