package capture

import (
	"bytes"
	"errors"
	"fmt"
)

// ServerChain reads the certificate chain a server sent on one TLS
// connection from the bytes it sent, from the first record on, and the
// NSS key log of that connection (tls.Config.KeyLogWriter's output, to
// decrypt a TLS 1.3 Certificate message; nil for TLS 1.2 and below). It
// lets a client whose TLS library refused the certificate (crypto/tls
// refuses what crypto/x509 cannot parse, before the handshake ends) still
// see what the server sent. RFC 8446 §5 (records), §4.4.2 (Certificate);
// RFC 5246 §7.4.2. The returned slices are copies.
func ServerChain(stream, keyLog []byte) ([][]byte, error) {
	kl, err := ReadKeyLog(bytes.NewReader(keyLog))
	if err != nil {
		return nil, err
	}
	var hs []byte
	var sh *ServerHello
	var dec *recordDecrypter
	for off := 0; ; {
		if len(stream)-off < 5 {
			return nil, fmt.Errorf("server stream: no Certificate message in %d bytes", len(stream))
		}
		typ, n := stream[off], int(stream[off+3])<<8|int(stream[off+4])
		if stream[off+1] != 3 || n > maxRecord {
			return nil, fmt.Errorf("server stream: byte %d is not a TLS record", off)
		}
		if len(stream)-off < 5+n {
			return nil, fmt.Errorf("server stream: the record at byte %d is cut short", off)
		}
		hdr, body := stream[off:off+5], stream[off+5:off+5+n]
		off += 5 + n
		switch typ {
		case recChangeCipherSpec:
			continue // RFC 8446 §D.4: a compatibility CCS
		case recAlert:
			if len(body) == 2 {
				return nil, fmt.Errorf("server stream: the server sent the alert %q", alertName(body[1]))
			}
			return nil, errors.New("server stream: the server sent an alert")
		case recApplicationData:
			if dec == nil {
				return nil, errors.New("server stream: encrypted records and no key for them")
			}
			inner, plain, err := dec.open(hdr, body)
			if err != nil {
				return nil, fmt.Errorf("server stream: %w", err)
			}
			if inner != recHandshake {
				continue
			}
			body = plain
		case recHandshake:
		default:
			return nil, fmt.Errorf("server stream: record type %d", typ)
		}
		hs = append(hs, body...)
		for len(hs) >= 4 {
			mt, ml := hs[0], int(hs[1])<<16|int(hs[2])<<8|int(hs[3])
			if ml > maxHandshakeMessage {
				return nil, errors.New("server stream: a handshake message longer than 256 KiB")
			}
			if len(hs) < 4+ml {
				break
			}
			msg := hs[4 : 4+ml]
			hs = hs[4+ml:]
			switch mt {
			case hsServerHello:
				s, err := ParseServerHello(msg)
				if err != nil {
					return nil, fmt.Errorf("server stream: %w", err)
				}
				if s.HRR {
					continue
				}
				sh = s
				if sh.Version == 0x0304 {
					secret := kl.onlyServerSecret()
					if secret == nil {
						return nil, errors.New("server stream: TLS 1.3 and the key log has no SERVER_HANDSHAKE_TRAFFIC_SECRET")
					}
					if dec, err = newRecordDecrypter(sh.CipherSuite, secret); err != nil {
						return nil, fmt.Errorf("server stream: %w", err)
					}
				}
			case hsCertificate:
				chain, err := ParseCertificate(msg, sh != nil && sh.Version == 0x0304)
				if err != nil {
					return nil, fmt.Errorf("server stream: %w", err)
				}
				out := make([][]byte, len(chain))
				for i, c := range chain {
					out[i] = append([]byte(nil), c...)
				}
				return out, nil
			case hsServerHelloDone:
				return nil, errors.New("server stream: the server sent no certificate")
			}
		}
	}
}

// onlyServerSecret is the server handshake secret of a key log that holds
// one connection's secrets (any one, when it holds several).
func (k *KeyLog) onlyServerSecret() []byte {
	for _, s := range k.serverHS {
		return s
	}
	return nil
}
