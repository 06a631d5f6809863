package analysis

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/match"
)

// chainView is all that the checks run at every connection (those that
// are not ChainOnly), the matcher and the judge's memo key may read of a
// chain: each certificate's dates and the words that name it, and the
// leaf's names. The judge keeps it with the chain, and drops the parsed
// certificates once the chain's ChainOnly checks have run (about 4 KB of
// pointers per certificate; a capture's chains come back in any order).
// The judge gives those checks a Subject whose Chain is nil, at the
// chain's first sight too: a check that read more than this view of the
// chain would find nothing at every connection, in every test, not only
// at the repeats.
type chainView struct {
	certs []certView // leaf first
	leaf  match.Names
	// leafCert is the leaf, kept only for a what-if chain (the caller's
	// certificates); leafDER is the leaf's DER otherwise, parsed again
	// for the rare reader of more than the names (leafCertificate).
	leafCert *x509.Certificate
	leafDER  []byte
}

// certView is what the per-connection checks read of one certificate.
type certView struct {
	notBefore, notAfter time.Time
	cn, dns0            string // the subject CN and the first DNS SAN (certLabel)
}

// newChainView returns the view of chain (parsed, leaf first), or nil
// for an empty one. der is the chain's DER as recorded (its first entry
// is chain[0]'s), or nil when the chain is not the recorded one: the leaf
// is then kept itself.
func newChainView(chain []*x509.Certificate, der [][]byte) *chainView {
	if len(chain) == 0 {
		return nil
	}
	v := &chainView{certs: make([]certView, len(chain)), leaf: match.NamesOf(chain[0])}
	for i, c := range chain {
		cv := &v.certs[i]
		cv.notBefore, cv.notAfter, cv.cn = c.NotBefore, c.NotAfter, c.Subject.CommonName
		if len(c.DNSNames) > 0 {
			cv.dns0 = c.DNSNames[0]
		}
	}
	if len(der) > 0 {
		v.leafDER = der[0]
	} else {
		v.leafCert = chain[0]
	}
	return v
}

// label is certLabel of certificate i.
func (c *certView) label(i int) string {
	role := "leaf"
	if i > 0 {
		role = fmt.Sprintf("chain[%d]", i)
	}
	name := c.cn
	if name == "" {
		name = c.dns0
	}
	return fmt.Sprintf("%s %q", role, name)
}

// leafCertificate returns the parsed leaf: for the checks that read more
// than its names, on a few connections (the Outlook Anywhere principal).
func (v *chainView) leafCertificate() *x509.Certificate {
	if v == nil {
		return nil
	}
	if v.leafCert != nil {
		return v.leafCert
	}
	c, _, err := certs.ParseLenient(v.leafDER)
	if err != nil {
		return nil // not reached: the view was made from the leaf parsed
	}
	return c
}

// view returns what the per-connection checks may read of s's chain
// (nil without one): the judge's, or made from s.Chain for a subject made
// by hand.
func (s *Subject) view() *chainView {
	if s.chain == nil && len(s.Chain) > 0 {
		s.chain = newChainView(s.Chain, nil)
	}
	return s.chain
}
