package probe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certsleuth/certsleuth/certs"
	"github.com/certsleuth/certsleuth/record"
)

// maxAIABody bounds what an AIA URL may answer; a CA certificate or a
// PKCS #7 bundle of a few is a few kilobytes.
const maxAIABody = 1 << 20

// NeedsAIA reports whether a chain does not lead to a root in roots (nil:
// the system's) only because an issuer is missing, and the leaf names
// caIssuers URLs a client could fetch it from.
func NeedsAIA(chain [][]byte, roots *x509.CertPool) bool {
	var parsed []*x509.Certificate
	for _, d := range chain {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return false
		}
		parsed = append(parsed, c)
	}
	if len(parsed) == 0 || len(parsed[0].IssuingCertificateURL) == 0 {
		return false
	}
	var ua x509.UnknownAuthorityError
	return errors.As(certs.VerifyTrust(parsed, roots), &ua)
}

// FetchIssuers fetches each caIssuers URL of leaf the way Chromium,
// Windows and Apple do when a server leaves out its intermediate: an HTTP
// GET, at most timeout each (zero means 10 s). Every URL gets an entry,
// with the certificates it answered or the reason it gave none.
func FetchIssuers(ctx context.Context, urls []string, timeout time.Duration) []record.AIAFetch {
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	client := &http.Client{Timeout: timeout}
	out := make([]record.AIAFetch, 0, len(urls))
	for _, u := range urls {
		f := record.AIAFetch{URL: u}
		f.Certs, f.Error = fetchIssuer(ctx, client, u)
		out = append(out, f)
	}
	return out
}

func fetchIssuer(ctx context.Context, client *http.Client, raw string) ([][]byte, string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Sprintf("%q is not a URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		// Chromium fetches http only; Windows also ldap: certsleuth fetches http and https.
		return nil, fmt.Sprintf("%s URLs are not fetched (only http)", u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "no answer: " + strings.TrimPrefix(unwrapNet(err).Error(), "Get \""+raw+"\": ")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Sprintf("HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAIABody+1))
	if err != nil {
		return nil, "the answer broke off: " + err.Error()
	}
	if len(body) > maxAIABody {
		return nil, fmt.Sprintf("the answer is larger than %d bytes", maxAIABody)
	}
	cs, err := certs.ParseIssuers(body)
	if err != nil {
		return nil, err.Error()
	}
	return cs, ""
}

// FetchMissingIssuers sets AIA on every observation whose chain leads to
// no root in roots (nil: the system's) for want of an issuer that the
// leaf's caIssuers URLs may give; each list of URLs is fetched once.
func FetchMissingIssuers(ctx context.Context, obs []*record.Observation, roots *x509.CertPool, timeout time.Duration) {
	fetched := map[string][]record.AIAFetch{}
	for _, o := range obs {
		if len(o.Chain) == 0 || !NeedsAIA(o.Chain, roots) {
			continue
		}
		leaf, err := x509.ParseCertificate(o.Chain[0])
		if err != nil {
			continue
		}
		key := strings.Join(leaf.IssuingCertificateURL, " ")
		if _, ok := fetched[key]; !ok {
			fetched[key] = FetchIssuers(ctx, leaf.IssuingCertificateURL, timeout)
		}
		o.AIA = fetched[key]
	}
}
