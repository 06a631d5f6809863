package proxy

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/certsleuth/certsleuth/certs"
)

var helperPage = template.Must(template.New("helper").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>certsleuth proxy: install the CA</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 1em auto">
<h1>certsleuth proxy</h1>
{{if .CN}}
<p>This device goes through a certsleuth proxy. To see HTTPS requests, trust its CA
<b>{{.CN}}</b> (SHA-256 <code>{{.FP}}</code>){{if .Constraints}}, which is
name-constrained to <b>{{.Constraints}}</b>: devices accept it for those domains only{{end}}.</p>
<ul>
<li><a href="/certsleuth-ca.mobileconfig">iPhone / iPad / macOS profile</a>: install it in Settings, then turn it on in
Settings &gt; General &gt; About &gt; Certificate Trust Settings.</li>
<li><a href="/certsleuth-ca.der">DER (.cer / .crt)</a>: Android (Settings &gt; Security &gt; Encryption &amp; credentials &gt; Install a certificate &gt; CA certificate), Windows (open it, Install Certificate, Current User, Trusted Root Certification Authorities).</li>
<li><a href="/certsleuth-ca.pem">PEM</a>: Linux, curl, Firefox.</li>
</ul>
<p>Remove it when you are done: it is a lab tool.</p>
{{else}}
<p>This proxy runs in passthrough mode without a CA: nothing to install.</p>
{{end}}
</body></html>
`))

// serveHelper serves the device helper page and the CA certificate.
func (s *Server) serveHelper(w http.ResponseWriter, r *http.Request) {
	ca := s.CACert()
	p := strings.ToLower(r.URL.Path)
	if ca == nil && p != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	switch p {
	case "/":
		d := struct{ CN, FP, Constraints string }{}
		if ca != nil {
			d.CN, d.FP, d.Constraints = ca.Subject.CommonName, certs.Fingerprint(ca.Raw), strings.Join(ca.PermittedDNSDomains, ", ")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		helperPage.Execute(w, d)
	case "/certsleuth-ca.pem", "/ca.pem":
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Header().Set("Content-Disposition", `attachment; filename="certsleuth-ca.pem"`)
		pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	case "/certsleuth-ca.der", "/certsleuth-ca.cer", "/certsleuth-ca.crt", "/ca.der":
		w.Header().Set("Content-Type", "application/x-x509-ca-cert")
		w.Header().Set("Content-Disposition", `attachment; filename="certsleuth-ca.cer"`)
		w.Write(ca.Raw)
	case "/certsleuth-ca.mobileconfig":
		w.Header().Set("Content-Type", "application/x-apple-aspen-config")
		w.Header().Set("Content-Disposition", `attachment; filename="certsleuth-ca.mobileconfig"`)
		w.Write(MobileConfig(ca.Raw, ca.Subject.CommonName))
	default:
		http.NotFound(w, r)
	}
}

// MobileConfig is an iOS/macOS configuration profile carrying one root
// certificate (payload type com.apple.security.root).
func MobileConfig(der []byte, name string) []byte {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		template.HTMLEscape(&e, []byte(s))
		return e.String()
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>certsleuth-ca.cer</string>
			<key>PayloadContent</key>
			<data>%s</data>
			<key>PayloadDisplayName</key>
			<string>%s</string>
			<key>PayloadIdentifier</key>
			<string>local.certsleuth.ca.cert</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>%s</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
	</array>
	<key>PayloadDescription</key>
	<string>Trusts the certsleuth lab proxy CA. Remove it when the test is over.</string>
	<key>PayloadDisplayName</key>
	<string>%s</string>
	<key>PayloadIdentifier</key>
	<string>local.certsleuth.ca</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>%s</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
`, base64.StdEncoding.EncodeToString(der), esc(name), uuid4(), esc(name), uuid4())
	return b.Bytes()
}

func uuid4() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}
