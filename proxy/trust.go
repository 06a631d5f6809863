package proxy

import (
	"crypto/x509"
	"fmt"

	"github.com/certsleuth/certsleuth/certs"
)

// trustVerdict is whether the clients would trust an upstream chain.
type trustVerdict struct {
	trusted bool
	note    string
}

// judgeTrust decides whether mirror mode signs with our CA (the client
// trusts the upstream) or the untrusted CA. Dates are left out (a mirrored
// leaf keeps its own dates) and names too (the leaf keeps its own names):
// only the path to a root counts. Results are cached per leaf.
func (s *Server) judgeTrust(chain []*x509.Certificate) trustVerdict {
	leaf := chain[0]
	key := certs.Fingerprint(leaf.Raw)
	s.trustMu.Lock()
	v, ok := s.trust[key]
	s.trustMu.Unlock()
	if ok {
		return v
	}
	err := certs.VerifyTrust(chain, s.roots)
	switch {
	case err == nil:
		v = trustVerdict{trusted: true}
	case certs.IsSelfSigned(leaf):
		v = trustVerdict{trusted: false}
	case s.strict:
		v = trustVerdict{trusted: false, note: fmt.Sprintf("the chain does not lead to the system roots or --upstream-ca: %v", err)}
	default:
		v = trustVerdict{trusted: true, note: fmt.Sprintf("issuer %q is not among the proxy's roots; assumed trusted by the client (give --upstream-ca with the clients' private root so certsleuth can tell)", leaf.Issuer.CommonName)}
	}
	s.trustMu.Lock()
	if len(s.trust) > 10000 {
		clear(s.trust)
	}
	s.trust[key] = v
	s.trustMu.Unlock()
	return v
}
