package analysis

import (
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// Describe says in a few words what the observation was.
func Describe(o *record.Observation) string {
	switch o.Kind {
	case record.KindDNS:
		if o.DNS == nil {
			return "DNS"
		}
		var ans []string
		for _, a := range o.DNS.Answers {
			v := a.Value
			if a.Type == "SRV" {
				v = fmt.Sprintf("%s:%d", a.Value, a.Port)
			}
			ans = append(ans, a.Type+" "+v)
		}
		s := fmt.Sprintf("DNS %s %s", o.DNS.Type, o.DNS.Query)
		if len(ans) > 0 {
			s += " -> " + strings.Join(ans, ", ")
		} else if o.DNS.Rcode != "" {
			s += " -> " + o.DNS.Rcode
		}
		return s
	case record.KindHTTP:
		s := strings.TrimSpace(o.Method + " " + o.URL)
		if o.URL == "" {
			s = strings.TrimSpace(o.Method + " " + o.Host)
		}
		if o.Status != 0 {
			s += fmt.Sprintf(" -> %d", o.Status)
		}
		if o.Location != "" {
			s += " " + o.Location
		}
		return s
	}
	name, from := o.AskedName()
	s := "TLS"
	if o.TLSVersion != "" {
		s = o.TLSVersion
	}
	switch {
	case o.Connect != "" && from != record.FromConnect:
		s += fmt.Sprintf(" %s (CONNECT %s)", name, o.Connect)
	case name != "":
		s += " " + name
	}
	if o.NoSNI {
		s += " (no SNI)"
	}
	if o.Server != "" {
		s += " at " + o.Server
	}
	if o.StartTLS != "" {
		s += " (" + strings.ToUpper(o.StartTLS) + " STARTTLS)"
	}
	return s
}

// StripProfileTitle drops the "<profile title>: " prefix name findings
// carry, for places where the profiles are listed separately.
func StripProfileTitle(s string) string {
	for _, p := range match.Profiles() {
		if strings.HasPrefix(s, p.Title+": ") {
			return strings.TrimPrefix(s, p.Title+": ")
		}
	}
	return s
}

// Plural is "1 what" or "n whats".
func Plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// firstNonEmpty returns the first of s that is not "" (cmp.Or for strings).
func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// andList joins xs as a sentence does: "a", "a and b", "a, b and c".
func andList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// profileWord names the clients of the profile called name in a sentence
// ("Chromium", "a strict RFC 9525 client": the Word of its row in the
// profiles table), or says name when the table has no such row.
func profileWord(name string) string {
	if p, err := match.LookupProfile(name); err == nil && p.Word != "" {
		return p.Word
	}
	return name
}
