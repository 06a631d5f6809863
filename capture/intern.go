package capture

import (
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// interner hands out one shared string for each server name and ALPN
// protocol the reader's hellos carry, and one shared list for each ALPN
// extension's list, so that the observations share them instead of
// each holding its own copies (hs.pcap: 24,000 hellos, a few hundred
// names; 2.7 MB of copies a read). Each table is emptied when it holds
// maxInterned entries: what is handed out stays valid, only sharing is
// lost. A nil *interner allocates every string and list afresh.
type interner struct {
	names map[string]string
	alpns map[string][]string // by the extension's list as sent
}

// maxInterned bounds each table of an interner (a few hundred KB of
// names at most).
const maxInterned = 4096

// name returns b as a string.
func (in *interner) name(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.names[string(b)]; ok {
		return s
	}
	if in.names == nil {
		in.names = map[string]string{}
	} else if len(in.names) >= maxInterned {
		clear(in.names)
	}
	s := string(b)
	in.names[s] = s
	return s
}

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
	return in.name(p)
}

// alpnList returns the protocols of an ALPN extension's
// ProtocolNameList (RFC 7301 §3.1), which the caller has checked is
// well formed; nil when it is empty. An interned list is shared: its
// length is its capacity, so that an append copies it.
func (in *interner) alpnList(list []byte) []string {
	if len(list) == 0 {
		return nil
	}
	if in != nil {
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
	if in == nil {
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
