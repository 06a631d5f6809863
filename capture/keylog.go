package capture

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// KeyLog holds the TLS 1.3 handshake traffic secrets of an NSS key
// log file (the SSLKEYLOGFILE format written by browsers, curl and Go's
// tls.Config.KeyLogWriter), keyed by the ClientHello random.
//
// A nil *KeyLog has no keys.
type KeyLog struct {
	serverHS map[[32]byte][]byte
	clientHS map[[32]byte][]byte
	// Lines counts the lines read; Bad lists the numbers of lines that are
	// not "LABEL <64 hex digits> <hex secret>" (comments and blank lines excepted).
	Lines int
	Bad   []int
}

// Len is the number of server handshake secrets held.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	return len(k.serverHS)
}

// ReadKeyLog reads an NSS key log. It keeps the TLS 1.3
// SERVER_HANDSHAKE_TRAFFIC_SECRET (the server's certificate) and
// CLIENT_HANDSHAKE_TRAFFIC_SECRET (the alert a client sends when it
// rejects the certificate) lines; lines with other labels (CLIENT_RANDOM
// for TLS 1.2, the application traffic secrets) are accepted and ignored;
// malformed lines are counted in Bad. The only error is a read error.
func ReadKeyLog(r io.Reader) (*KeyLog, error) {
	k := &KeyLog{serverHS: map[[32]byte][]byte{}, clientHS: map[[32]byte][]byte{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		k.Lines++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || len(f[1]) != 64 {
			k.Bad = append(k.Bad, k.Lines)
			continue
		}
		random, err1 := hex.DecodeString(f[1])
		secret, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil || len(secret) == 0 || len(secret) > 64 {
			k.Bad = append(k.Bad, k.Lines)
			continue
		}
		switch f[0] {
		case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
			k.serverHS[[32]byte(random)] = secret
		case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
			k.clientHS[[32]byte(random)] = secret
		}
	}
	if err := sc.Err(); err != nil {
		return k, fmt.Errorf("key log: line %d: %w", k.Lines+1, err)
	}
	return k, nil
}

// clientHandshakeSecret is the client's handshake traffic secret: it
// protects the client's Finished, or the alert it sends when it rejects
// the server's certificate.
func (k *KeyLog) clientHandshakeSecret(clientRandom []byte) []byte {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	return k.clientHS[[32]byte(clientRandom)]
}

func (k *KeyLog) serverHandshakeSecret(clientRandom []byte) []byte {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	return k.serverHS[[32]byte(clientRandom)]
}

// hkdfExpandLabel is HKDF-Expand-Label (RFC 8446 §7.1).
func hkdfExpandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) ([]byte, error) {
	info := make([]byte, 0, 4+6+len(label)+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out := make([]byte, length)
	if _, err := io.ReadFull(hkdf.Expand(h, secret, info), out); err != nil {
		return nil, err
	}
	return out, nil
}

// recordDecrypter removes TLS 1.3 record protection (RFC 8446 §5.2, §5.3)
// from the server's handshake records.
type recordDecrypter struct {
	aead cipher.AEAD
	iv   []byte
	seq  uint64
}

// newRecordDecrypter derives the traffic key and IV from a server
// handshake traffic secret (RFC 8446 §7.3) for one of the TLS 1.3 suites.
func newRecordDecrypter(suite uint16, secret []byte) (*recordDecrypter, error) {
	var h func() hash.Hash
	var keyLen int
	switch suite {
	case 0x1301: // TLS_AES_128_GCM_SHA256
		h, keyLen = sha256.New, 16
	case 0x1302: // TLS_AES_256_GCM_SHA384
		h, keyLen = sha512.New384, 32
	case 0x1303: // TLS_CHACHA20_POLY1305_SHA256
		h, keyLen = sha256.New, chacha20poly1305.KeySize
	default:
		return nil, fmt.Errorf("cipher suite 0x%04x is not a TLS 1.3 suite certsleuth decrypts", suite)
	}
	if len(secret) != h().Size() {
		return nil, fmt.Errorf("key log secret is %d bytes, cipher suite 0x%04x needs %d", len(secret), suite, h().Size())
	}
	key, err := hkdfExpandLabel(h, secret, "key", nil, keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := hkdfExpandLabel(h, secret, "iv", nil, 12)
	if err != nil {
		return nil, err
	}
	var aead cipher.AEAD
	if suite == 0x1303 {
		aead, err = chacha20poly1305.New(key)
	} else {
		var b cipher.Block
		if b, err = aes.NewCipher(key); err == nil {
			aead, err = cipher.NewGCM(b)
		}
	}
	if err != nil {
		return nil, err
	}
	return &recordDecrypter{aead: aead, iv: iv}, nil
}

// open decrypts one record (header is its 5-byte header, used as the
// additional data) and returns the inner content type and plaintext.
func (d *recordDecrypter) open(header, payload []byte) (typ uint8, plain []byte, err error) {
	var nonce [12]byte
	copy(nonce[:], d.iv)
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= byte(d.seq >> (56 - 8*i))
	}
	plain, err = d.aead.Open(nil, nonce[:], payload, header)
	if err != nil {
		return 0, nil, fmt.Errorf("record %d does not decrypt with the key log's secret: %w", d.seq, err)
	}
	d.seq++
	// TLSInnerPlaintext: content, type, zero padding.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, fmt.Errorf("record %d: no content type in the decrypted record", d.seq-1)
	}
	return plain[i], plain[:i], nil
}
