package analysis

import (
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/record"
)

// PlannedName is one name clients asked a server for.
type PlannedName struct {
	Name     string `json:"name"`
	Requests int    `json:"requests"`
	Covered  bool   `json:"covered"` // the certificate seen covers it for every profile judged
	Public   bool   `json:"public"`  // a public CA can issue it
	Why      string `json:"why,omitempty"`
	mail     bool   // some client asked for it over a mail protocol (MailProtocol)
}

// ServerPlan says which certificate one server needs: the names clients
// actually asked it for, and which of them can be on a public certificate.
type ServerPlan struct {
	Server string         `json:"server"` // address, or the certificate's name when the address is unknown
	Leaf   *certs.Summary `json:"certificate,omitempty"`
	Names  []PlannedName  `json:"names"`
	// Get is the minimal name set for a new certificate: every public name
	// clients asked for. Empty when there is nothing to get.
	Get []string `json:"get"`
	// Move are the internal names clients asked for that the certificate
	// does not cover: no public CA can issue them, so the URL must change.
	Move []string `json:"move,omitempty"`
	// NeedsNew is true when some public name asked for is not covered.
	NeedsNew bool `json:"needs_new"`
}

// CertPlan returns, per server (per certificate presented), the names
// clients requested from it and what certificate it needs.
func (r *Report) CertPlan() []ServerPlan {
	return slices.Collect(r.EachCertPlan())
}

// EachCertPlan yields CertPlan's plans one at a time, each made as it is
// yielded: a capture with a plan for each of thousands of certificates is
// written without holding them all.
func (r *Report) EachCertPlan() iter.Seq[ServerPlan] {
	if r.Items == nil && r.agg != nil {
		return r.agg.plan.each
	}
	var acc certPlanAcc
	for _, it := range r.Items {
		acc.add(it)
	}
	return acc.each
}

// certPlanAcc gathers the certificate plan one item at a time: per leaf,
// per name asked for. Its size follows the certificates and names.
type certPlanAcc struct {
	byKey map[string]*planAcc
	order []string
}

type planAcc struct {
	plan  *ServerPlan
	names map[string]nameAcc
}

// nameAcc is what a plan gathers of one name asked for (PlannedName
// without what each makes): 16 bytes in the map, not a PlannedName of its
// own for each of a capture's (leaf, name) pairs (hs.pcap: 12,783).
type nameAcc struct {
	requests      int
	covered, mail bool
}

func (p *certPlanAcc) add(it *Item) {
	o := it.Obs
	if o.Kind == record.KindDNS || it.Name == "" || len(it.Chain) == 0 || it.WhatIf {
		return
	}
	if p.byKey == nil {
		p.byKey = map[string]*planAcc{}
	}
	leaf := it.Chain[0]
	key := leaf.SHA256
	a := p.byKey[key]
	if a == nil {
		l := leaf
		server := record.HostOnly(o.Server)
		if server == "" {
			server = firstNonEmpty(l.SubjectCN, strings.Join(l.DNSNames, ","))
		}
		a = &planAcc{plan: &ServerPlan{Server: server, Leaf: &l, Get: []string{}}, names: map[string]nameAcc{}}
		p.byKey[key] = a
		p.order = append(p.order, key)
	}
	n := exchange.NormHost(it.Name)
	// Public and Why are made by each, once per name it yields: a
	// capture asks for a new name at almost every cause.
	pn, ok := a.names[n]
	if !ok {
		pn.covered = true
	}
	pn.requests++
	pn.mail = pn.mail || MailProtocol(o) != ""
	if len(it.Verdicts) == 0 {
		pn.covered = false
	}
	for _, v := range it.Verdicts {
		if !v.Match {
			pn.covered = false
		}
	}
	a.names[n] = pn
}

// each yields the plans gathered so far (new slices each call).
func (p *certPlanAcc) each(yield func(ServerPlan) bool) {
	for _, k := range p.order {
		a := p.byKey[k]
		plan := *a.plan
		plan.Get = make([]string, 0, len(a.names))
		if len(a.names) > 0 {
			plan.Names = make([]PlannedName, 0, len(a.names)) // made in one go, not grown
		}
		for name, acc := range a.names {
			pn := PlannedName{Name: name, Requests: acc.requests, Covered: acc.covered, mail: acc.mail}
			pn.Public, pn.Why = PublicCAIssuable(name)
			plan.Names = append(plan.Names, pn)
			switch {
			case pn.Public:
				plan.Get = append(plan.Get, pn.Name)
				if !pn.Covered {
					plan.NeedsNew = true
				}
			case !pn.Covered:
				plan.Move = append(plan.Move, pn.Name)
			}
		}
		slices.SortFunc(plan.Names, func(a, b PlannedName) int { return strings.Compare(a.Name, b.Name) }) // a map's keys: no two alike
		sort.Strings(plan.Get)
		sort.Strings(plan.Move)
		if !yield(plan) {
			return
		}
	}
}

// Words says the plan in one or two sentences.
func (p *ServerPlan) Words() string {
	var b strings.Builder
	switch {
	case len(p.Get) == 0:
		b.WriteString("clients asked this server for no name a public CA can issue")
	case p.NeedsNew:
		fmt.Fprintf(&b, "get a certificate for %s (the names clients asked this server for that a public CA can issue)", strings.Join(p.Get, ", "))
	default:
		fmt.Fprintf(&b, "the current certificate already covers every public name clients asked for (%s): keep it", strings.Join(p.Get, ", "))
	}
	if p.NeedsNew && p.coversSome() {
		b.WriteString("; or keep the current certificate and change the URLs that send clients to the names it lacks (the fix above)")
	}
	if len(p.Move) > 0 {
		what := "the URL that sends clients there"
		switch mail := p.movedMail(); {
		case mail == len(p.Move):
			what = "the server name in the mail clients' settings"
		case mail > 0:
			what = "the URL (for mail clients, the server name in their settings) that sends clients there"
		}
		fmt.Fprintf(&b, "; %s cannot be on a public certificate, so change %s instead of the certificate", strings.Join(p.Move, ", "), what)
	}
	return b.String()
}

// movedMail counts the names of Move that mail clients asked for.
func (p *ServerPlan) movedMail() int {
	k := 0
	for _, n := range p.Names {
		if n.mail && slices.Contains(p.Move, n.Name) {
			k++
		}
	}
	return k
}

// coversSome reports whether the current certificate covers some name
// clients asked for.
func (p *ServerPlan) coversSome() bool {
	for _, n := range p.Names {
		if n.Covered {
			return true
		}
	}
	return false
}

// Words says the name, how often it was asked for, and whether the
// certificate covers it and a public CA could issue it, for reports.
func (n PlannedName) Words() string {
	s := fmt.Sprintf("%s (%s", n.Name, Plural(n.Requests, "request"))
	if n.Covered {
		s += ", covered"
	} else {
		s += ", not covered"
	}
	if !n.Public {
		s += ", internal name: no public CA can issue it"
	}
	return s + ")"
}
