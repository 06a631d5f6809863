package capture

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

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
	// clientApp: CLIENT_TRAFFIC_SECRET_0, the client's first application
	// traffic secret: its first record after Finished (a request, or an
	// alert: a refusal after the handshake, close_notify, ech_required).
	clientApp map[[32]byte][]byte
	// Lines counts the lines read; Bad lists the numbers of lines that are
	// not "LABEL <64 hex digits> <hex secret>" (comments and blank lines
	// excepted). For the key log embedded in a capture file (see
	// dsbScanner) the lines of all its blocks are counted as one text, and
	// Bad keeps at most maxEmbeddedBad numbers.
	Lines int
	Bad   []int
	// also is searched first: for the key log embedded in a capture file,
	// the key log given with --keylog (a secret given by hand wins).
	also *KeyLog
}

func newKeyLog() *KeyLog {
	return &KeyLog{serverHS: map[[32]byte][]byte{}, clientHS: map[[32]byte][]byte{}, clientApp: map[[32]byte][]byte{}}
}

// Len is the number of server handshake secrets held (those of a key log
// it falls back to included).
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	return len(k.serverHS) + k.also.Len()
}

// ReadKeyLog reads an NSS key log. It keeps the TLS 1.3
// SERVER_HANDSHAKE_TRAFFIC_SECRET (the server's certificate) and
// CLIENT_HANDSHAKE_TRAFFIC_SECRET (the alert a client sends when it
// rejects the certificate) lines; lines with other labels (CLIENT_RANDOM
// for TLS 1.2, the application traffic secrets) are accepted and ignored;
// malformed lines (also those longer than maxKeyLogLine bytes) are
// counted in Bad. The only error is a read error.
func ReadKeyLog(r io.Reader) (*KeyLog, error) {
	k := newKeyLog()
	return k, k.add(r)
}

// add reads more key log text into k: its lines are numbered on from
// those k has read.
func (k *KeyLog) add(r io.Reader) error {
	var ls lineSplitter
	line := func(b []byte, long bool) {
		k.Lines++
		if long || !k.parseLine(b) {
			k.Bad = append(k.Bad, k.Lines)
		}
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		ls.write(buf[:n], line)
		if err == io.EOF {
			ls.end(line)
			return nil
		}
		if err != nil {
			return fmt.Errorf("key log: line %d: %w", k.Lines+1, err)
		}
	}
}

// maxKeyLogLine bounds a key log line: the longest real one (a 64-byte
// secret, hex) is under 250 bytes.
const maxKeyLogLine = 1024

// parseLine keeps the secret of one key log line (without its newline),
// and says whether the line is well formed: blank lines, comments and
// labels certsleuth does not use are.
func (k *KeyLog) parseLine(b []byte) bool {
	var f [4][]byte
	n := 0
	for len(b) > 0 && n < len(f) {
		i := 0
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		j := i
		for j < len(b) && !isSpace(b[j]) {
			j++
		}
		if j > i {
			f[n] = b[i:j]
			n++
		}
		b = b[j:]
	}
	if n == 0 || f[0][0] == '#' {
		return true
	}
	if n != 3 || len(f[1]) != 64 || len(f[2]) == 0 || len(f[2]) > 128 {
		return false
	}
	var random [32]byte
	secret := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(random[:], f[1]); err != nil {
		return false
	}
	if _, err := hex.Decode(secret, f[2]); err != nil {
		return false
	}
	switch string(f[0]) {
	case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
		k.serverHS[random] = secret
	case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
		k.clientHS[random] = secret
	case "CLIENT_TRAFFIC_SECRET_0":
		k.clientApp[random] = secret
	}
	return true
}

// isSpace is what strings.Fields splits ASCII text on.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// lineSplitter cuts text that arrives in pieces into lines (without the
// "\n"), holding at most maxKeyLogLine bytes of an unfinished line: a
// longer line is passed on as long, without its bytes.
type lineSplitter struct {
	buf  []byte
	long bool
}

func (s *lineSplitter) write(p []byte, line func(b []byte, long bool)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.keep(p)
			return
		}
		if len(s.buf) == 0 && !s.long {
			line(p[:i], false) // the whole line is in p: no copy
		} else {
			s.keep(p[:i])
			line(s.buf, s.long)
		}
		s.buf, s.long = s.buf[:0], false
		p = p[i+1:]
	}
}

func (s *lineSplitter) keep(p []byte) {
	if s.long || len(s.buf)+len(p) > maxKeyLogLine {
		s.buf, s.long = s.buf[:0], true
		return
	}
	s.buf = append(s.buf, p...)
}

// end passes on the last line when the text does not end with a newline.
func (s *lineSplitter) end(line func(b []byte, long bool)) {
	if len(s.buf) > 0 || s.long {
		line(s.buf, s.long)
	}
	s.reset()
}

// reset forgets an unfinished line.
func (s *lineSplitter) reset() { s.buf, s.long = s.buf[:0], false }

// clientHandshakeSecret is the client's handshake traffic secret: it
// protects the client's Finished, or the alert it sends when it rejects
// the server's certificate.
func (k *KeyLog) clientHandshakeSecret(clientRandom []byte) []byte {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	if s := k.also.clientHandshakeSecret(clientRandom); s != nil {
		return s
	}
	return k.clientHS[[32]byte(clientRandom)]
}

// clientAppSecret is the client's first application traffic secret
// (RFC 8446 §7.1), which protects what it sends after its Finished.
func (k *KeyLog) clientAppSecret(clientRandom []byte) []byte {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	if s := k.also.clientAppSecret(clientRandom); s != nil {
		return s
	}
	return k.clientApp[[32]byte(clientRandom)]
}

func (k *KeyLog) serverHandshakeSecret(clientRandom []byte) []byte {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	if s := k.also.serverHandshakeSecret(clientRandom); s != nil {
		return s
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
