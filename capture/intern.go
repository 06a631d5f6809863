package capture

import (
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// interner hands out one shared list for each ALPN extension's list the
// reader's ClientHellos carry, and one shared string for each ALPN
// protocol, so that the observations share them instead of each holding
// its own (hs.pcap: 24,000 hellos, two lists). Server names are not
// interned: hs.pcap's 23,508 hellos name 10,391 servers, and a table of
// the last 4,096 allocated more than it saved. Each table is emptied when
// it holds maxInterned entries: what is handed out stays valid, only
// sharing is lost. A nil *interner allocates every string and list
// afresh.
type interner struct {
	protos map[string]string
	alpns  map[string][]string // by the extension's list as sent
}

// maxInterned bounds each table of an interner, maxInternedList the
// lists it keeps (a real one is a few dozen bytes; ALPN protocols are
// at most 255): at most 256 KiB of keys and 64 KiB of names.
const (
	maxInterned     = 256
	maxInternedList = 1 << 10
)

// protocol returns an ALPN protocol ID as a string, without a table
// lookup for the IDs clients and servers commonly send (IANA's TLS
// Application-Layer Protocol Negotiation Protocol IDs registry).
func (in *interner) protocol(p []byte) string {
	switch string(p) {
	case "h2":
		return "h2"
	case "http/1.1":
		return "http/1.1"
	case "h3":
		return "h3"
	case "http/1.0":
		return "http/1.0"
	}
	if in == nil {
		return string(p)
	}
	if s, ok := in.protos[string(p)]; ok {
		return s
	}
	if in.protos == nil {
		in.protos = map[string]string{}
	} else if len(in.protos) >= maxInterned {
		clear(in.protos)
	}
	s := string(p)
	in.protos[s] = s
	return s
}

// alpnList returns the protocols of an ALPN extension's
// ProtocolNameList (RFC 7301 §3.1), which the caller has checked is
// well formed; nil when it is empty. An interned list is shared: its
// length is its capacity, so that an append copies it.
func (in *interner) alpnList(list []byte) []string {
	if len(list) == 0 {
		return nil
	}
	if in != nil && len(list) <= maxInternedList {
		if l, ok := in.alpns[string(list)]; ok {
			return l
		}
	}
	var out []string
	for l := cryptobyte.String(list); !l.Empty(); {
		var p cryptobyte.String
		if !l.ReadUint8LengthPrefixed(&p) {
			break
		}
		out = append(out, in.protocol(p))
	}
	if in == nil || len(list) > maxInternedList {
		return out
	}
	out = slices.Clip(out)
	if in.alpns == nil {
		in.alpns = map[string][]string{}
	} else if len(in.alpns) >= maxInterned {
		clear(in.alpns)
	}
	in.alpns[string(list)] = out
	return out
}
