package capture

import (
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// TestCloseBeforeHello: the client closes the connection without a
// ClientHello and the server answers with the closure alert close_notify
// (RFC 8446 section 6.1, RFC 5246 section 7.2.1: a closure, not an error;
// seen on port 8883 in google/testrun's multi_page_monitor.pcap). No
// handshake took place: the connection is not judged, and is not a
// request the server's alert failed. A real error alert in the same place
// is still a failure.
func TestCloseBeforeHello(t *testing.T) {
	for _, c := range []struct {
		name   string
		alert  []byte
		vis    record.Visibility
		errHas string
		note   string
	}{
		{"close_notify", []byte{1, 0}, record.VisMissing, "", "closed the connection before any TLS handshake"},
		{"fatal handshake_failure", []byte{2, 40}, record.VisFailed, "handshake failure", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newCapFile(t)
			f.tcp(cliPort(86), mailIP+":8883", 0, []chunk{{false, append([]byte{0x15, 3, 3, 0, 2}, c.alert...)}}, segOpts{})
			o := readOne(t, f, "close.pcap")
			if o.Visibility != c.vis || !strings.Contains(o.Error, c.errHas) || c.errHas == "" && o.Error != "" || !strings.Contains(o.Note, c.note) {
				t.Errorf("visibility %s, error %q, note %q; want %s, error with %q, note with %q", o.Visibility, o.Error, o.Note, c.vis, c.errHas, c.note)
			}
		})
	}
}
