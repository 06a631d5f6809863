package proxy

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
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

// serveHelper serves the device helper page and the CA certificate to a
// request made to the proxy itself (http://127.0.0.1:8080/).
func (s *Server) serveHelper(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Web != nil && isWebPath(strings.ToLower(r.URL.Path)) {
		s.cfg.Web.ServeHTTP(w, r)
		return
	}
	code, h, body := s.helperContent(r.URL.Path)
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// helperResponse is the helper content as a response, for requests to
// http://certsleuth.local/ through the proxy.
func (s *Server) helperResponse(r *http.Request) *http.Response {
	if s.cfg.Web != nil && isWebPath(strings.ToLower(r.URL.Path)) {
		return webResponse(s.cfg.Web, r)
	}
	code, h, body := s.helperContent(r.URL.Path)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		body = nil
	}
	return &http.Response{
		StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Request: r,
		ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body)),
	}
}

// helperContent is the helper page or certificate file at path.
func (s *Server) helperContent(urlPath string) (int, http.Header, []byte) {
	ca := s.CACert()
	p := strings.ToLower(urlPath)
	h := http.Header{}
	h.Set("Cache-Control", "no-store")
	if ca == nil && p != "/" && p != "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		return http.StatusNotFound, h, []byte("404 page not found\n")
	}
	var b bytes.Buffer
	switch p {
	case "/", "":
		d := struct{ CN, FP, Constraints string }{}
		if ca != nil {
			d.CN, d.FP, d.Constraints = ca.Subject.CommonName, certs.Fingerprint(ca.Raw), strings.Join(ca.PermittedDNSDomains, ", ")
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		helperPage.Execute(&b, d)
	case "/certsleuth-ca.pem", "/ca.pem":
		h.Set("Content-Type", "application/x-pem-file")
		h.Set("Content-Disposition", `attachment; filename="certsleuth-ca.pem"`)
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	case "/certsleuth-ca.der", "/certsleuth-ca.cer", "/certsleuth-ca.crt", "/ca.der":
		h.Set("Content-Type", "application/x-x509-ca-cert")
		h.Set("Content-Disposition", `attachment; filename="certsleuth-ca.cer"`)
		b.Write(ca.Raw)
	case "/certsleuth-ca.mobileconfig":
		h.Set("Content-Type", "application/x-apple-aspen-config")
		h.Set("Content-Disposition", `attachment; filename="certsleuth-ca.mobileconfig"`)
		b.Write(MobileConfig(ca.Raw, ca.Subject.CommonName))
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		return http.StatusNotFound, h, []byte("404 page not found\n")
	}
	return http.StatusOK, h, b.Bytes()
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
