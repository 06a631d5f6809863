package proxy

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"crypto/tls"

	"github.com/certsleuth/certsleuth/internal/testcert"
	"github.com/certsleuth/certsleuth/record"
)

// TestMirrorUnmirrorable: an upstream certificate crypto/x509 refuses
// (negative serial: curl accepts it, docs/malformed-certs.md) cannot be
// mirrored, so the tunnel is passed through unchanged: real curl gets
// the same answer through the proxy as without it, and the trace holds
// the server's chain byte for byte, with a note saying why.
func TestMirrorUnmirrorable(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is needed to check what a client sees through the proxy: apt-get install -y curl")
		}
		t.Skip("curl is not installed (CI=true makes this a failure)")
	}
	ca := testcert.NewCA(t, "Unmirrorable Root")
	dir := t.TempDir()
	testcert.WritePEM(t, dir+"/roots.pem", ca.Cert.Raw)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			cert := ca.Malformed(t, testcert.MalformedNegativeSerial)
			origin := testcert.ServeConfig(t, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: v})
			proxyCA := newLab(t).proxyCA
			p := startProxy(t, Config{CA: proxyCA, Resolve: resolveAll(testcert.MalformedName)})
			u := "https://" + testcert.MalformedName + ":" + portOf(origin) + "/"
			run := func(args ...string) (int, string) {
				cmd := exec.Command(curl, append([]string{"-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "--cacert", dir + "/roots.pem"}, args...)...)
				cmd.Env = []string{"PATH=/usr/bin:/bin"}
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return ee.ExitCode(), string(out)
				}
				if err != nil {
					t.Fatal(err)
				}
				return 0, string(out)
			}
			d, dout := run("--resolve", testcert.MalformedName+":"+portOf(origin)+":127.0.0.1", u)
			v, vout := run("--proxy", "http://"+p.addr, u)
			if d != 0 || d != v || dout != vout {
				t.Fatalf("curl directly: exit %d %q; through the proxy: exit %d %q", d, dout, v, vout)
			}
			var tlsObs *record.Observation
			for _, o := range p.trace(t) {
				if o.Kind == record.KindTLS {
					tlsObs = o
				}
			}
			if tlsObs == nil {
				t.Fatal("no TLS observation recorded")
			}
			if len(tlsObs.Chain) == 0 || string(tlsObs.Chain[0]) != string(cert.Certificate[0]) {
				t.Fatalf("recorded chain (%d certificates, visibility %q, error %q) is not the server's", len(tlsObs.Chain), tlsObs.Visibility, tlsObs.Error)
			}
			if !strings.Contains(tlsObs.Note, "cannot be mirrored") || tlsObs.SNI != testcert.MalformedName {
				t.Fatalf("note %q sni %q", tlsObs.Note, tlsObs.SNI)
			}
		})
	}
}
