package analysis

import (
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/match"
)

// certDefect is what real clients did with a certificate that breaks one
// rule crypto/x509 enforces: each served on 127.0.0.1 with its CA trusted
// and fetched by every client (TestMalformedCertClients keeps this table
// true; docs/malformed-certs.md has the clients' own error messages).
type certDefect struct {
	Kind   certs.DefectKind
	What   string   // the defect in words, completing "the certificate ..."
	Rule   string   // the rule it breaks
	Accept []string // real clients (realClientNames) that completed the request
	Refuse []string // real clients that refused it
}

// malformedObserved names the client versions the table was observed with.
const malformedObserved = "observed on 127.0.0.1 with OpenSSL 3.0.19 s_client, curl 7.88.1, Python 3.11.7 ssl (OpenSSL 3.0.19), Chromium 156 and Go 1.26.8 (docs/malformed-certs.md)"

// certDefects is the table of observed behaviour, one row per defect.
var certDefects = []certDefect{
	{certs.DefectNegativeSerial, "has a negative serial number", "RFC 5280 §4.1.2.2 (the serial MUST be positive; users SHOULD handle negative ones gracefully)",
		[]string{"openssl", "curl", "python", "chromium"}, []string{"go"}},
	{certs.DefectNonASCIISAN, "has a subjectAltName DNS name that is not ASCII", "RFC 5280 §4.2.1.6 (dNSName is an IA5String; IDNs as A-labels)",
		[]string{"openssl", "curl", "python"}, []string{"go", "chromium"}},
	{certs.DefectMalformedSAN, "has a malformed subjectAltName entry (an IP address that is not 4 or 16 bytes)", "RFC 5280 §4.2.1.6",
		[]string{"openssl", "curl", "python"}, []string{"go", "chromium"}},
	{certs.DefectDuplicateExtension, "carries the same extension twice", "RFC 5280 §4.2 (MUST NOT include more than one instance of an extension)",
		nil, []string{"openssl", "curl", "python", "go", "chromium"}},
	{certs.DefectBadString, "has a name attribute with characters its string type does not allow (an '@' in a PrintableString)", "X.680 §41.4; RFC 5280 §4.1.2.4",
		[]string{"openssl", "curl", "python"}, []string{"go", "chromium"}},
	{certs.DefectSignatureMismatch, "has a signature algorithm inside the signed part that differs from the outer one (a flipped byte): its signature does not verify", "RFC 5280 §4.1.1.2",
		nil, []string{"openssl", "curl", "python", "go", "chromium"}},
}

// realClientTitles are the real clients of certDefects, as reports name them.
var realClientTitles = map[string]string{
	"openssl": "OpenSSL", "curl": "curl", "python": "Python", "chromium": "Chromium", "go": "Go",
}

// profileClients maps a profile to the real clients that implement it: a
// profile's verdict on a defect is theirs when they agree.
var profileClients = map[string][]string{
	"openssl":  {"openssl", "curl", "python"},
	"curl":     {"curl"},
	"python":   {"python"},
	"chromium": {"chromium"},
	"go":       {"go"},
}

func lookupDefect(k certs.DefectKind) *certDefect {
	for i := range certDefects {
		if certDefects[i].Kind == k {
			return &certDefects[i]
		}
	}
	return nil
}

// defectVerdict says what the clients of profile p do with defect k:
// "refuse", "accept" or "" when nobody tested them.
func defectVerdict(p *match.Profile, k certs.DefectKind) string {
	if p.Name == "go" {
		return "refuse" // crypto/x509 refused it: that is how it was found
	}
	d := lookupDefect(k)
	if p.Name == "rfc9525" {
		if k == certs.DefectNegativeSerial {
			return "accept" // RFC 5280 §4.1.2.2: users SHOULD gracefully handle it
		}
		return "refuse"
	}
	clients := profileClients[p.Name]
	if d == nil || len(clients) == 0 {
		return ""
	}
	acc, ref := 0, 0
	for _, c := range clients {
		acc += count(d.Accept, c)
		ref += count(d.Refuse, c)
	}
	switch {
	case ref == len(clients):
		return "refuse"
	case acc == len(clients):
		return "accept"
	}
	return ""
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// clientWords lists real clients for a report ("OpenSSL, curl and Python").
func realClientWords(names []string) string {
	var t []string
	for _, n := range names {
		t = append(t, realClientTitles[n])
	}
	return andList(t)
}

// profileWho names a profile's clients in a finding's sentence.
var profileWho = map[string]string{
	"windows": "Windows (CryptoAPI)", "apple": "Apple (iOS, macOS)", "chromium": "Chromium",
	"openssl": "OpenSSL (and curl, Python)", "curl": "curl", "python": "Python", "go": "Go", "rfc9525": "RFC 5280 (the standard)",
}

func who(p *match.Profile) string {
	if w, ok := profileWho[p.Name]; ok {
		return w
	}
	return p.Title
}

// othersWords says what the tested clients other than p's do with d.
func othersWords(p *match.Profile, d *certDefect) string {
	if d == nil {
		return "certsleuth has not seen what other clients do with it"
	}
	mine := profileClients[p.Name]
	others := func(list []string) []string {
		var out []string
		for _, c := range list {
			if count(mine, c) == 0 {
				out = append(out, c)
			}
		}
		return out
	}
	verb := func(list []string, one, many string) string {
		if len(list) == 1 {
			return one
		}
		return many
	}
	var parts []string
	if r := others(d.Refuse); len(r) > 0 {
		parts = append(parts, realClientWords(r)+verb(r, " refuses it", " refuse it"))
	}
	if a := others(d.Accept); len(a) > 0 {
		parts = append(parts, realClientWords(a)+verb(a, " accepts it", " accept it"))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ") + " (observed)"
}

func init() {
	mustRegister(&Check{
		// ChainOnly: it reads the chain and the profile only (and passes
		// a what-if, whose ChainOnly runs the judge does not keep).
		ID: "cert.malformed", Title: "A certificate breaks an encoding rule some clients enforce", Severity: SeverityError, PerProfile: true, ChainOnly: true,
		Citation: malformedObserved + "; RFC 5280 §4",
		Remedy:   "Reissue the certificate from a CA that encodes it correctly; until then, clients that refuse it warn whatever the names.",
		Run: func(s *Subject) *Finding {
			if s.WhatIf {
				return nil
			}
			// The worst verdict over the chain's defects: refuse, then unknown.
			var pick *Finding
			rank := -1
			for i, c := range s.Chain {
				m := certs.MalformedInfo(c)
				if m == nil {
					continue
				}
				for _, def := range m.Defects {
					d := lookupDefect(def.Kind)
					what := "breaks a rule of crypto/x509"
					citation := malformedObserved + "; crypto/x509 parser.go"
					if d != nil {
						what, citation = d.What, malformedObserved+"; "+d.Rule
					}
					ev := []Evidence{{Label: "defect", Value: def.Detail, From: certLabel(i, c)}, {Label: "crypto/x509", Value: m.Err.Error(), From: certLabel(i, c)}}
					var f *Finding
					r := 0
					subject := fmt.Sprintf("%s %s (%s)", certLabel(i, c), what, m.Err)
					switch defectVerdict(s.Profile, def.Kind) {
					case "refuse":
						r = 2
						f = &Finding{Severity: SeverityError, Summary: fmt.Sprintf("%s refuses the certificate: %s%s", who(s.Profile), subject, othersWords(s.Profile, d))}
					case "accept":
						f = &Finding{Severity: SeverityInfo, Summary: fmt.Sprintf("%s accepts the certificate although %s%s", who(s.Profile), subject, othersWords(s.Profile, d))}
					default:
						r = 1
						f = &Finding{Severity: SeverityWarning, Summary: fmt.Sprintf("not known whether %s accepts the certificate (certsleuth could not test it): %s%s", who(s.Profile), subject, othersWords(s.Profile, d))}
					}
					f.Citation = citation
					f.Evidence = ev
					if r > rank {
						pick, rank = f, r
					}
				}
			}
			return pick
		},
	})
}
