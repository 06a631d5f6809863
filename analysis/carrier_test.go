package analysis

import (
	"strings"
	"testing"
	"time"

	"github.com/certsleuth/certsleuth/record"
)

// TestNotCapturedCarrier: a connection whose TLS travels in OpenVPN's
// control channel (record.CarrierOpenVPN) is not judged, and its
// cert.not-captured finding says why (the handshake is in the capture,
// not reassembled), not that the handshake is missing.
func TestNotCapturedCarrier(t *testing.T) {
	for _, c := range []struct {
		carrier, want string
	}{
		{"", "the TLS handshake of this connection is not in the capture"},
		{record.CarrierOpenVPN, "the TLS handshake of this connection is inside OpenVPN's control channel (P_CONTROL packets), which certsleuth does not reassemble"},
	} {
		o := &record.Observation{Kind: record.KindTLS, Source: record.SourcePcap, Time: time.Now(), Client: "192.0.2.10:50000", Server: "192.0.2.25:1194",
			TLSVersion: "TLS 1.2", Visibility: record.VisMissing, Carrier: c.carrier}
		it := Analyze([]*record.Observation{o}, Options{}).Items[0]
		if nj := it.NotJudged(); nj != NotJudgedUnseen {
			t.Errorf("carrier %q: NotJudged %q, want %q", c.carrier, nj, NotJudgedUnseen)
		}
		var got string
		for _, f := range it.Findings {
			if f.ID == "cert.not-captured" {
				got = f.Summary
			}
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("carrier %q: cert.not-captured %q, want it to begin %q", c.carrier, got, c.want)
		}
	}
}
