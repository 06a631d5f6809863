package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/record"
)

// nameEvidence lists the names involved in a name verdict: made once per
// observation when the subject says so (s.once), the same for every
// profile (the findings share it; nothing writes to a finding's evidence).
func nameEvidence(s *Subject) []Evidence {
	if o := s.once; o != nil {
		if !o.hasNameEv {
			o.nameEv, o.hasNameEv = makeNameEvidence(s), true
		}
		return o.nameEv
	}
	return makeNameEvidence(s)
}

func makeNameEvidence(s *Subject) []Evidence {
	names := s.Obs.Names()
	n := len(names) + 1 // and no SNI
	v := s.view()
	if v != nil {
		n += len(v.leaf.DNSNames) + len(v.leaf.IPAddresses) + 1
	}
	ev := make([]Evidence, 0, n) // made once, not grown name by name
	for _, n := range names {
		ev = append(ev, Evidence{Label: "client asked for", Value: n.Name, From: string(n.From)})
	}
	if s.Obs.NoSNI {
		ev = append(ev, Evidence{Label: "client asked for", Value: "(no SNI in the ClientHello)", From: "sni"})
	}
	if v != nil {
		leaf := &v.leaf
		for _, d := range leaf.DNSNames {
			ev = append(ev, Evidence{Label: "certificate names", Value: d, From: "SAN dNSName"})
		}
		for _, ip := range leaf.IPAddresses {
			ev = append(ev, Evidence{Label: "certificate names", Value: ip.String(), From: "SAN iPAddress"})
		}
		if leaf.CommonName != "" {
			ev = append(ev, Evidence{Label: "certificate names", Value: leaf.CommonName, From: "subject CN"})
		}
	}
	return ev[:len(ev):len(ev)] // shared by the profiles' findings: full
}

// nameCheck builds the check that fires when the verdict has one of kinds.
func nameCheck(id, title string, sev Severity, citation, remedy string, kinds ...match.Kind) *Check {
	fill := func(s *Subject, f *Finding) bool {
		if s.Verdict == nil || !slices.Contains(kinds, s.Verdict.Kind) {
			return false
		}
		// Concatenated, not fmt.Sprintf: a finding of every profile of
		// almost every connection that warns.
		f.Summary = s.Profile.Title + ": " + s.Verdict.Reason
		f.Evidence = nameEvidence(s)
		f.Why = s.Profile.Title + " checks the name it connected to (" + s.Name + ", from the " + nameFromWords(s.NameFrom) + ") against the certificate; " + s.Verdict.Reason + "."
		return true
	}
	return &Check{
		ID: id, Title: title, Severity: sev, Citation: citation, Remedy: remedy, PerProfile: true,
		Run: func(s *Subject) *Finding {
			var f Finding
			if !fill(s, &f) {
				return nil
			}
			return &f
		},
		fill:  fill,
		kinds: kinds,
	}
}

func nameFromWords(f record.NameSource) string {
	switch f {
	case record.FromSNI:
		return "TLS SNI"
	case record.FromConnect:
		return "CONNECT request"
	case record.FromURL:
		return "request URL"
	case record.FromHost:
		return "Host header"
	case record.FromDNS:
		return "DNS lookup for the server's address"
	}
	return string(f)
}

const fixNameOrURL = "Point the client at a name the certificate covers (change the URL, redirect or DNS name that sent it here), or get a certificate that also lists this name as a subjectAltName."

func init() {
	mustRegister(
		nameCheck("name.mismatch", "The certificate does not cover the name the client asked for", SeverityError,
			"RFC 9525 §6.3; RFC 2818 §3.1", fixNameOrURL, match.KindMismatch),
		nameCheck("name.no-san", "The certificate has no subjectAltName the client can use", SeverityError,
			"RFC 9525 §6.3; chromestatus 4981025180483584 (CN ignored since Chrome 58)",
			"Reissue the certificate with every host name as a subjectAltName dNSName entry.", match.KindNoSAN),
		nameCheck("name.cn-only", "The name is only in the subject CN, which this client ignores", SeverityError,
			"RFC 9525 §6.3 (no CN-ID); support.apple.com/103769; chromestatus 4981025180483584",
			"Reissue the certificate with the name as a subjectAltName dNSName entry; clients stopped reading the CN.", match.KindCNOnly),
		nameCheck("name.wildcard-too-deep", "A wildcard covers one label only", SeverityError,
			"RFC 9525 §6.3; KB 258858",
			"A *.domain certificate covers a.domain but not a.b.domain: add the deeper name (or *.b.domain) as a SAN, or use a shallower host name.", match.KindWildcardTooDeep),
		nameCheck("name.wildcard-bare-domain", "A wildcard does not cover the bare domain", SeverityError,
			"RFC 9525 §6.3",
			"Add the bare domain (contoso.com) as its own SAN next to *.contoso.com, or use a host name below it.", match.KindWildcardBare),
		nameCheck("name.partial-wildcard", "This client refuses a partial-label wildcard", SeverityError,
			"RFC 9525 §6.3; chromium x509_certificate.cc; KB 258858 (Windows accepts them)",
			"Use a full-label wildcard (*.contoso.com) or list the host names themselves.", match.KindPartialRejected),
		nameCheck("name.wildcard-public-suffix", "A wildcard directly over a public suffix or top-level domain", SeverityError,
			"CA/B Forum BR §3.2.2.6; chromium x509_certificate.cc; KB 258858",
			"List the host names themselves; a wildcard must sit under a registrable domain (*.contoso.com, not *.com or *.local).", match.KindWildcardSuffix),
		nameCheck("name.wildcard-numeric-host", "Wildcards never match numeric host names", SeverityError,
			"chromium x509_certificate.cc VerifyHostname",
			"Connect by DNS name, or put the address in an iPAddress SAN.", match.KindWildcardNumeric),
		nameCheck("name.ip-needs-ip-san", "An IP address must be an iPAddress SAN", SeverityError,
			"RFC 9525 §6.2; RFC 6125 Appendix B.2",
			"Connect by DNS name, or reissue the certificate with the address as an iPAddress subjectAltName.", match.KindIPNeedsIPSAN),
		nameCheck("name.trailing-dot", "The names differ only in a trailing dot", SeverityError,
			"RFC 5280 §4.2.1.6 (preferred name syntax has no trailing dot)",
			"Remove the trailing dot from the certificate's SAN, or from the name the client uses.", match.KindTrailingDot),
		nameCheck("name.invalid-wildcard", "A SAN holds a wildcard no client accepts", SeverityError,
			"RFC 9525 §6.3; OpenSSL v3_utl.c valid_star",
			"Reissue with wildcards only as the whole left-most label (*.contoso.com) or plain host names.", match.KindInvalidWildcardSAN),
		nameCheck("name.invalid", "The client asked for a name that is not a valid host name", SeverityError,
			"RFC 1123 §2.1; RFC 5890",
			"Fix the URL or setting that produced this name: host names are letters, digits, hyphens and dots.", match.KindInvalidName),
		// Advice about other clients is a note for the client that accepts;
		// the clients that refuse get their own error (name.cn-only,
		// name.no-san, name.partial-wildcard).
		&Check{
			ID: "name.cn-fallback", Title: "The name matches only through the subject CN", Severity: SeverityInfo,
			Citation: "RFC 2818 §3.1; RFC 9525 §6.3", PerProfile: true, kinds: []match.Kind{match.KindCNFallback},
			Remedy: "Reissue the certificate with the name as a subjectAltName: clients that ignore the CN (Chrome, Apple, Go, Android) reject this certificate.",
			Run: func(s *Subject) *Finding {
				if s.Verdict == nil || s.Verdict.Kind != match.KindCNFallback {
					return nil
				}
				return &Finding{Summary: fmt.Sprintf("%s accepts %s only because it falls back to the subject CN %q%s", s.Profile.Title, s.Name, s.Verdict.By, refusedBy(s)), Evidence: nameEvidence(s)}
			},
		},
		&Check{
			ID: "name.partial-wildcard-accepted", Title: "The name matches only through a partial wildcard", Severity: SeverityInfo,
			Citation: "KB 258858; RFC 9525 §6.3", PerProfile: true, kinds: []match.Kind{match.KindPartialWildcard},
			Remedy: "Use a full-label wildcard or list the names: Chrome, Apple, curl, Python and Go refuse partial wildcards.",
			Run: func(s *Subject) *Finding {
				if s.Verdict == nil || s.Verdict.Kind != match.KindPartialWildcard {
					return nil
				}
				return &Finding{Summary: fmt.Sprintf("%s accepts %s through the partial wildcard %s%s", s.Profile.Title, s.Name, s.Verdict.By, refusedBy(s)), Evidence: nameEvidence(s)}
			},
		},
		&Check{
			ID: "name.unknown", Title: "The name the client asked for is not known", Severity: SeverityWarning,
			Citation: "RFC 6066 §3 (server_name is optional)",
			Remedy:   "Capture the client's DNS lookups too (or use the proxy), so the name it wanted can be matched.",
			Run: func(s *Subject) *Finding {
				if s.Name != "" || s.view() == nil {
					return nil
				}
				names := strings.Join(leafNames(s), ", ")
				if names == "" {
					names = "which carries no names"
				}
				if HelloMissing(s.Obs) {
					return &Finding{Summary: fmt.Sprintf("the client's hello is not in the capture (so whether it sent an SNI is not known) and no DNS answer names %s; the certificate (%s) cannot be judged against the name it wanted", s.Obs.Server, names)}
				}
				return &Finding{Summary: fmt.Sprintf("the client sent no SNI and no DNS answer names %s; the certificate (%s) cannot be judged against the name it wanted", s.Obs.Server, names)}
			},
		},
		&Check{
			ID: "tls.no-sni", Title: "The client sent no SNI", Severity: SeverityInfo,
			Citation: "RFC 6066 §3",
			Remedy:   "Old clients (Windows XP, old ActiveSync devices) send no SNI and get the server's default certificate: make the default binding's certificate cover the names they use.",
			Run: func(s *Subject) *Finding {
				if !s.Obs.NoSNI {
					return nil
				}
				return &Finding{Summary: "the ClientHello carried no server_name, so the server answered with its default certificate" + leafSuffix(s)}
			},
		},
	)
}

// HelloMissing reports whether o is a TLS connection read from a capture
// that does not hold the client's hello (only the server's half of the
// handshake was captured: asymmetric routing, a SPAN port that sees one
// direction): no SNI, and no word that none was sent. The name the client
// asked for is then unknown, not absent.
func HelloMissing(o *record.Observation) bool {
	return o.Kind == record.KindTLS && o.Source == record.SourcePcap && o.SNI == "" && !o.NoSNI && o.HelloFormat == ""
}

// refusedBy names the client profiles (of the whole table, not only the
// chosen ones) that refuse the name this profile accepts, as "; Chromium /
// BoringSSL and Go refuse it".
func refusedBy(s *Subject) string {
	v := s.view()
	if v == nil {
		return ""
	}
	var all []match.Verdict
	if s.once != nil {
		all = s.once.all
	}
	var who []string
	for i, p := range match.Profiles() {
		if p == s.Profile || p.Name == "rfc9525" {
			continue
		}
		var ok bool
		if all != nil {
			ok = all[i].Match
		} else {
			ok = match.MatchNames(&v.leaf, s.Name, p).Match
		}
		if !ok {
			who = append(who, p.Name)
		}
	}
	switch len(who) {
	case 0:
		return ""
	case 1:
		return "; " + who[0] + " refuses it"
	}
	return "; " + strings.Join(who[:len(who)-1], ", ") + " and " + who[len(who)-1] + " refuse it"
}

func leafNames(s *Subject) []string {
	v := s.view()
	if v == nil {
		return nil
	}
	leaf := &v.leaf
	out := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		out = append(out, ip.String())
	}
	if len(out) == 0 && leaf.CommonName != "" {
		out = append(out, "CN "+leaf.CommonName)
	}
	return out
}

func leafSuffix(s *Subject) string {
	if n := leafNames(s); len(n) > 0 {
		return " (" + strings.Join(n, ", ") + ")"
	}
	return ""
}
