package capture

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/certsleuth/certsleuth/record"
)

// tlsHalf follows the TLS handshake in one direction of a connection.
type tlsHalf struct {
	hs []byte // handshake bytes not yet forming a whole message
	// ch is the first ClientHello of this direction, sh its ServerHello:
	// most often chv and shv (keepHello), which hold them without an
	// allocation of their own. shv's Random and SessionID are nil:
	// nothing reads them.
	ch       *ClientHello
	sh       *ServerHello
	chv      helloBuf
	shv      ServerHello
	hrr      bool
	hrrVer   uint16 // the version a HelloRetryRequest selected
	chain    [][]byte
	chainID  string // record.ChainID of chain, when internChain made it
	certSeen bool
	resumed  bool   // TLS <= 1.2: ChangeCipherSpec straight after ServerHello
	noCert   bool   // ServerHelloDone without a Certificate
	alert    string // first plaintext (or decrypted) alert
	fatal    bool
	appData  bool
	ccs      bool
	dec      *recordDecrypter
	decErr   string // why a TLS 1.3 handshake was not decrypted
	alpn13   string // ALPN from EncryptedExtensions
	// afterFinished: a client's Finished went by undecrypted; its next
	// record tells a request from an alert.
	afterFinished  bool
	appDec         *recordDecrypter // the client's application keys, from the key log: its record after Finished
	echRequired    bool             // that record was the alert ech_required
	finishedAt     int64            // packet time of the Finished (Unix ns)
	finishedPkt    int64            // number of the packet that held the Finished
	certLen        int              // length of the Certificate message read or begun
	certPartial    int              // when the chain is the start of a message cut short: the bytes of it seen
	tooLong        int              // the length of a handshake message too long to read
	warnings       []string         // warning-level alerts before the certificate (not close_notify)
	certRequest    bool             // the server sent a CertificateRequest
	clientCert     string           // the subject of the client's certificate
	clientCertSent bool             // the client answered a CertificateRequest with a Certificate (maybe empty)
	ccs12          bool             // a TLS 1.0-1.2 client sent its ChangeCipherSpec
	err            string           // why parsing stopped early
}

// maxHandshakeMessage bounds one handshake message. TLS allows 16 MiB;
// no client accepts a certificate list near 1 MiB (OpenSSL and BoringSSL
// refuse more than 100 KiB by default, SSL_CTX_set_max_cert_list(3); Go
// more than 256 KiB, crypto/tls maxHandshakeCertificateMsg), so a longer
// message is reported as one no client would read.
const maxHandshakeMessage = 1 << 20

// Certificate list sizes that clients refuse (see maxHandshakeMessage).
const (
	opensslMaxCertList  = 100 << 10
	goMaxCertificateMsg = 256 << 10
)

// hsPrealloc bounds the buffer set aside for a message that continues in
// the next record: a longer message grows it as its bytes arrive, so a
// length field alone cannot make certsleuth allocate much.
const hsPrealloc = 64 << 10

// parseTLS consumes whole TLS records from direction d of f.
func (r *reader) parseTLS(f *flow, d int) {
	h := &f.h[d]
	t := h.tls
	buf := h.buf
	off := 0
	h.need = 0
	for !h.done && len(buf)-off >= 5 {
		if t.ch == nil && t.sh == nil && buf[off]&0x80 != 0 {
			// An SSL 2.0 record: a v2 CLIENT-HELLO (old clients' way to
			// offer SSL 3.0 or TLS too), or an SSL 2.0 server's answer.
			n := int(buf[off]&0x7f)<<8 | int(buf[off+1])
			if len(buf)-off < 2+n {
				h.need = 2 + n
				break
			}
			r.ssl2(f, d, buf[off+2:off+2+n])
			off += 2 + n
			continue
		}
		typ := buf[off]
		n := int(buf[off+3])<<8 | int(buf[off+4])
		if buf[off+1] != 3 || typ < recChangeCipherSpec || typ > recApplicationData || n > maxRecord {
			t.err = "bytes that are not a TLS record"
			h.stop(gapNone)
			break
		}
		if t.afterFinished && t.appDec != nil {
			// The first record after a TLS 1.3 client's Finished,
			// decrypted with its application keys (the key log's
			// CLIENT_TRAFFIC_SECRET_0): a request, or a fatal alert that
			// names itself (ech_required: a client whose ECH the server
			// rejected, draft-ietf-tls-esni-25 §6.1.6). A close_notify
			// says no more than its size: curl refusing a name after the
			// handshake sends one, as a client closing does, so it is
			// judged by its timing below.
			if len(buf)-off < 5+n {
				h.need = 5 + n
				break
			}
			inner, plain, err := t.appDec.open(buf[off:off+5], buf[off+5:off+5+n])
			t.appDec = nil
			switch {
			case err == nil && inner == recAlert && len(plain) == 2 && plain[1] == alertECHRequired:
				t.echRequired = true // not a refusal of the certificate
				h.stop(gapNone)
			case err == nil && inner == recAlert && len(plain) == 2 && plain[0] == alertFatal:
				t.alert, t.fatal = alertName(plain[1]), true
				h.stop(gapNone)
			case err == nil && inner != recAlert:
				h.stop(gapNone) // a request
			}
			if h.done {
				break
			}
		}
		if t.afterFinished {
			// The first record after a client's Finished (not
			// decrypted): a request, or an alert. TLS 1.2 shows the
			// alert's content type; in TLS 1.3 only its size tells (a
			// request is larger).
			alert := t.ccs12 && typ == recAlert || !t.ccs12 && typ == recApplicationData && n == tls13AlertRecord
			// TLS 1.3: a client that reads the server's NewSessionTicket
			// (sent once the client's Finished arrived) before closing
			// accepted the session: openssl s_client with nothing to send
			// and Python's unwrap() close so; curl, refusing the name
			// after the handshake, sends its alert before the ticket
			// arrives (captures in testdata/real/tls13-closes.pcap). So
			// server bytes between the Finished and the alert mean a
			// close, not a refusal.
			if !t.ccs12 && f.h[1-d].lastData > t.finishedPkt {
				alert = false
			}
			if alert && r.ts-t.finishedAt < int64(maxAlertDelay) {
				t.alert, t.fatal = record.AlertEncryptedAfter, true
			}
			h.stop(gapNone)
			break
		}
		if len(buf)-off < 5+n {
			h.need = 5 + n
			break
		}
		hdr := buf[off : off+5]
		body := buf[off+5 : off+5+n]
		off += 5 + n
		switch typ {
		case recHandshake:
			if t.ccs12 {
				// A TLS 1.0-1.2 client's Finished, encrypted after its
				// ChangeCipherSpec: watch the next record.
				t.afterFinished, t.finishedAt, t.finishedPkt = true, r.ts, r.packetNo
				continue
			}
			r.handshake(f, d, body)
		case recChangeCipherSpec:
			t.ccs = true
			// RFC 8446 §D.4: a TLS 1.3 endpoint may send a dummy CCS
			// (middlebox compatibility): the server after its ServerHello
			// or HelloRetryRequest, the client before its second
			// ClientHello or its Finished.
			if t.hrr || t.sh != nil && isTLS13(t.sh.Version) || t.ch != nil && offers13(t.ch) && r.peerVersion(f, d) != 0x0303 {
				continue
			}
			if t.sh != nil && !t.certSeen {
				t.resumed = true // RFC 5246 §7.3: abbreviated handshake
			}
			if t.ch != nil && t.dec == nil && !t.ccs12 {
				if v := r.peerVersion(f, d); v != 0 && v <= 0x0303 {
					t.ccs12 = true // a TLS 1.2 client: its encrypted Finished follows
					continue
				}
			}
			h.stop(gapNone)
		case recAlert:
			if len(body) == 2 && body[0] == alertWarning && body[1] != alertCloseNotify && body[1] != alertUserCanceled && !t.certSeen {
				// RFC 5246 §7.2: a warning does not end the connection.
				// Servers send unrecognized_name (RFC 6066 §3) when they
				// have no certificate for the SNI and go on with their
				// default one: keep reading, and remember it.
				if len(t.warnings) < 4 {
					t.warnings = append(t.warnings, alertName(body[1]))
				}
				continue
			}
			if len(body) == 2 && t.alert == "" {
				t.alert, t.fatal = alertName(body[1]), body[0] == 2
			}
			h.stop(gapNone)
		case recApplicationData:
			if t.ch != nil && t.dec == nil && t.decErr == "" {
				r.clientDecrypter(f, d)
			}
			if t.dec != nil {
				inner, plain, err := t.dec.open(hdr, body)
				if err != nil {
					t.decErr = err.Error()
					h.stop(gapNone)
					break
				}
				switch inner {
				case recHandshake:
					if t.ch != nil {
						// The client's Certificate (when the server asked
						// for one), CertificateVerify and Finished: after
						// Finished comes a request or an alert
						// (application keys: judged by size).
						if r.clientHandshake13(t, plain) {
							t.dec, t.afterFinished, t.finishedAt, t.finishedPkt = nil, true, r.ts, r.packetNo
							if p := f.h[1-d].tls; p != nil && p.sh != nil {
								if s := r.opts.KeyLog.clientAppSecret(t.ch.Random); s != nil {
									t.appDec, _ = newRecordDecrypter(p.sh.CipherSuite, s)
								}
							}
						}
						continue
					}
					r.handshake(f, d, plain)
				case recAlert:
					if len(plain) == 2 && t.alert == "" {
						t.alert, t.fatal = alertName(plain[1]), plain[0] == 2
					}
					h.stop(gapNone)
				default:
					h.stop(gapNone)
				}
				continue
			}
			t.appData = true
			if t.ch != nil && !t.ch.EarlyData && isTLS13(r.peerVersion(f, d)) {
				// A TLS 1.3 client's first encrypted record is its
				// Finished (at least 53 bytes), or an alert (2 bytes, the
				// content type, a 16-byte AEAD tag) when it ends the
				// handshake, most likely refusing the certificate.
				if n == tls13AlertRecord {
					t.alert, t.fatal = record.AlertEncrypted, true
				} else {
					t.afterFinished, t.finishedAt, t.finishedPkt = true, r.ts, r.packetNo // and look at the size of the next record
					continue
				}
			}
			h.stop(gapNone)
		}
	}
	h.consume(off)
}

// ssl2 handles one SSL 2.0 message: a CLIENT-HELLO is the connection's
// ClientHello (a TLS server answers it in TLS records); a SERVER-HELLO
// carries the version and the certificate, and ends the reading.
func (r *reader) ssl2(f *flow, d int, msg []byte) {
	h := &f.h[d]
	t := h.tls
	if len(msg) == 0 {
		t.err = "an empty SSL 2.0 record"
		h.stop(gapNone)
		return
	}
	switch msg[0] {
	case ssl2ClientHello:
		ch, err := ParseSSL2ClientHello(msg)
		if err != nil {
			t.err = err.Error()
			h.stop(gapNone)
			return
		}
		t.ch = ch
	case ssl2ServerHello:
		v, cert, err := ParseSSL2ServerHello(msg)
		if err != nil {
			t.err = err.Error()
			h.stop(gapNone)
			return
		}
		t.shv = ServerHello{Version: v}
		t.sh = &t.shv
		if cert != nil {
			t.chain, t.chainID = r.internChain([][]byte{cert})
			t.certSeen, t.certLen = true, len(cert)
		} else {
			t.resumed = true
		}
		h.stop(gapNone)
	default:
		h.stop(gapNone) // SSL 2.0 key exchange or error messages: nothing to read
	}
}

// tls13AlertRecord is the length of a TLS 1.3 record that carries one
// alert: 2 bytes of alert, 1 of content type, the 16-byte tag of every
// common cipher suite (RFC 8446 §5.2; TLS_AES_128_CCM_8_SHA256's 8-byte
// tag is not used by browsers, Windows or OpenSSL by default).
const tls13AlertRecord = 2 + 1 + 16

// maxAlertDelay bounds the time between a TLS 1.3 client's Finished and an
// alert that counts as refusing the certificate: a client that checks the
// name after the handshake closes at once, while an unused connection
// (a browser's preconnect) is closed idle, seconds later.
const maxAlertDelay = time.Second

func offers13(ch *ClientHello) bool {
	for _, v := range ch.Versions {
		if isTLS13(v) {
			return true
		}
	}
	return false
}

// peerVersion is the version the other direction's ServerHello chose, or
// 0 when none was seen.
func (r *reader) peerVersion(f *flow, d int) uint16 {
	if p := f.h[1-d].tls; p != nil && p.sh != nil {
		return p.sh.Version
	}
	return 0
}

// clientHandshake13 reads the messages of a decrypted TLS 1.3 client
// handshake record: a Certificate is the client's certificate. It
// reports whether the record ends with the client's Finished (whole
// messages are assumed: clients do not split these short ones).
func (r *reader) clientHandshake13(t *tlsHalf, plain []byte) (finished bool) {
	for len(plain) >= 4 {
		mt := plain[0]
		ml := int(plain[1])<<16 | int(plain[2])<<8 | int(plain[3])
		if len(plain)-4 < ml {
			return true // cut: take it as the end of the handshake
		}
		switch mt {
		case hsCertificate:
			if chain, err := ParseCertificate(plain[4:4+ml], true); err == nil {
				t.clientCert, t.clientCertSent = describeClientCert(chain), true
			}
		case hsFinished:
			finished = true
		}
		plain = plain[4+ml:]
	}
	return finished || len(plain) > 0
}

// describeClientCert names a client's certificate by its subject (or
// says that the list was empty: the client had none to offer).
func describeClientCert(chain [][]byte) string {
	if len(chain) == 0 {
		return ""
	}
	c, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return fmt.Sprintf("a certificate of %d bytes that does not parse (%v)", len(chain[0]), err)
	}
	return c.Subject.String()
}

// clientDecrypter sets up the decryption of a TLS 1.3 client's encrypted
// handshake records (its Finished, or the alert with which it rejects the
// server's certificate) from the key log's CLIENT_HANDSHAKE_TRAFFIC_SECRET.
func (r *reader) clientDecrypter(f *flow, d int) {
	t := f.h[d].tls
	p := f.h[1-d].tls
	if r.opts.KeyLog == nil || p == nil || p.sh == nil || !isTLS13(p.sh.Version) {
		t.decErr = "not decrypted"
		return
	}
	secret := r.opts.KeyLog.clientHandshakeSecret(t.ch.Random)
	if secret == nil {
		t.decErr = "no CLIENT_HANDSHAKE_TRAFFIC_SECRET"
		return
	}
	dec, err := newRecordDecrypter(p.sh.CipherSuite, secret)
	if err != nil {
		t.decErr = err.Error()
		return
	}
	t.dec = dec
}

// helloBuf is a ClientHello with room for what it points to: its random,
// session ID and supported versions as most clients send them.
type helloBuf struct {
	ClientHello
	random, sid [32]byte
	vers        [8]uint16
}

// keep copies ch, parsed from a message that is not kept, into b and
// returns b's ClientHello: Random and SessionID are copied into b's
// arrays (a longer one, which only a malformed or SSL 2.0 hello has, is
// allocated), and Versions stays where it is when it was appended to
// b.vers.
func (b *helloBuf) keep(ch *ClientHello) *ClientHello {
	b.ClientHello = *ch
	if ch.Random != nil {
		b.Random = append(b.random[:0:len(b.random)], ch.Random...)
	}
	if ch.SessionID != nil {
		b.SessionID = append(b.sid[:0:len(b.sid)], ch.SessionID...)
	}
	if len(ch.Versions) == 0 {
		b.Versions = nil // as ParseClientHello leaves it
	}
	return &b.ClientHello
}

// handshake adds handshake bytes and handles each whole message.
func (r *reader) handshake(f *flow, d int, b []byte) {
	h := &f.h[d]
	t := h.tls
	var msgs []byte
	if len(t.hs) == 0 {
		msgs = b // common case: no message pending, parse in place
	} else {
		t.hs = append(t.hs, b...)
		msgs = t.hs
	}
	n := 0
	for !h.done && len(msgs)-n >= 4 {
		mt := msgs[n]
		ml := int(msgs[n+1])<<16 | int(msgs[n+2])<<8 | int(msgs[n+3])
		if ml > maxHandshakeMessage {
			t.tooLong = ml
			t.err = fmt.Sprintf("a handshake message of %d bytes, longer than any client accepts", ml)
			h.stop(gapNone)
			return
		}
		if len(msgs)-n < 4+ml {
			break
		}
		r.message(f, d, mt, msgs[n+4:n+4+ml])
		n += 4 + ml
	}
	if h.done {
		return // stop gave t.hs back
	}
	rest := msgs[n:]
	switch {
	case len(rest) == 0:
		h.pool.put(t.hs)
		t.hs = nil
	case len(t.hs) == 0:
		// A message continues in the next record: keep its start in a
		// buffer large enough for the whole message.
		need := len(rest)
		if len(rest) >= 4 {
			need = 4 + (int(rest[1])<<16 | int(rest[2])<<8 | int(rest[3]))
		}
		t.hs = append(h.pool.get(min(need, hsPrealloc)), rest...)
	default:
		t.hs = t.hs[:copy(t.hs, rest)]
	}
}

// message handles one handshake message of type mt.
func (r *reader) message(f *flow, d int, mt uint8, body []byte) {
	h := &f.h[d]
	t := h.tls
	switch mt {
	case hsClientHello:
		var ch ClientHello
		if t.ch == nil {
			ch.Versions = t.chv.vers[:0]
		}
		if err := parseClientHello(&ch, body, &r.strs); err != nil {
			t.err = err.Error()
			h.stop(gapNone)
			return
		}
		if t.ch == nil {
			t.ch = t.chv.keep(&ch)
		}
	case hsServerHello:
		var sh ServerHello
		if err := parseServerHelloAny(&sh, body, &r.strs); err != nil {
			t.err = err.Error()
			h.stop(gapNone)
			return
		}
		if sh.HRR {
			t.hrr = true
			t.hrrVer = sh.Version
			return
		}
		sh.Random, sh.SessionID = nil, nil // they point into body
		t.shv = sh
		t.sh = &t.shv
		if !isTLS13(sh.Version) {
			return
		}
		if sh.PSK {
			h.stop(gapNone) // resumed: RFC 8446 §2.2, no Certificate follows
			return
		}
		if r.opts.KeyLog == nil {
			h.stop(gapNone) // the rest is encrypted (RFC 8446 §4.4.2)
			return
		}
		var random []byte
		if p := f.h[1-d].tls; p != nil && p.ch != nil {
			random = p.ch.Random
		}
		secret := r.opts.KeyLog.serverHandshakeSecret(random)
		switch {
		case random == nil:
			t.decErr = "the ClientHello is not in the capture, so the key log cannot be searched"
		case secret == nil:
			t.decErr = "the key log has no SERVER_HANDSHAKE_TRAFFIC_SECRET for this connection's client random"
		default:
			var err error
			t.dec, err = newRecordDecrypter(sh.CipherSuite, secret)
			if err != nil {
				t.decErr = err.Error()
			}
		}
		if t.dec == nil {
			h.stop(gapNone)
		}
	case hsEncryptedExtensions:
		if alpn, err := ParseEncryptedExtensions(body); err == nil {
			t.alpn13 = alpn
		}
	case hsCertificate:
		if t.ch != nil {
			// The client's own certificate (TLS 1.0-1.2, in clear), sent
			// because the server asked for one: its handshake goes on.
			if chain, err := ParseCertificate(body, false); err == nil {
				t.clientCert, t.clientCertSent = describeClientCert(chain), true
			}
			return
		}
		t.certLen = len(body)
		chain, err := parseCertificate(r.certBuf[:0], body, t.sh != nil && isTLS13(t.sh.Version))
		if err != nil {
			t.err = err.Error()
			h.stop(gapNone)
			return
		}
		t.chain, t.chainID = r.internChain(chain)
		clear(chain) // it points into the packets' bytes
		r.certBuf = chain[:0]
		t.certSeen = true
		if t.sh != nil && isTLS13(t.sh.Version) {
			h.stop(gapNone) // a CertificateRequest came before it (RFC 8446 §4.3.2)
		}
		// TLS 1.0-1.2: read on to ServerHelloDone, for a CertificateRequest.
	case hsCertificateRequest:
		t.certRequest = true
	case hsServerHelloDone:
		if !t.certSeen {
			t.noCert = true
		}
		h.stop(gapNone)
	}
}

// salvage reads the whole certificates at the start of a Certificate
// message that the capture holds only in part (the client refused a
// certificate list too long for it and closed, or packets were lost): the
// leaf comes first, so it is usually whole. Called before the direction's
// buffers are given back.
func (t *tlsHalf) salvage() {
	if t.certSeen || len(t.hs) < 4 || t.hs[0] != hsCertificate {
		return
	}
	ml := int(t.hs[1])<<16 | int(t.hs[2])<<8 | int(t.hs[3])
	s := cryptobyte.String(t.hs[4:])
	if t.sh != nil && isTLS13(t.sh.Version) {
		var ctx cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&ctx) {
			return
		}
	}
	var listLen uint32
	if !s.ReadUint24(&listLen) {
		return
	}
	var chain [][]byte
	for {
		var der cryptobyte.String
		if !s.ReadUint24LengthPrefixed(&der) || len(der) == 0 {
			break
		}
		if t.sh != nil && isTLS13(t.sh.Version) {
			var exts cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&exts) {
				break
			}
		}
		chain = append(chain, append([]byte(nil), der...))
	}
	t.certLen, t.certPartial = ml, len(t.hs)-4
	if len(chain) > 0 {
		t.chain, t.certSeen = chain, true
	}
}

// intern returns one shared copy of each distinct certificate (of the
// last few thousand: see maxCertBytes), and the hash it is kept by.
func (r *reader) intern(der []byte) ([]byte, uint64) {
	h := derHash(der)
	if c, ok := r.ders[h]; ok && bytes.Equal(c, der) {
		return c, h
	}
	if r.derBytes+len(der) > maxCertBytes {
		clear(r.ders) // observations keep their copies; only sharing is lost
		clear(r.chains)
		r.derBytes = 0
	}
	c := append([]byte(nil), der...)
	r.ders[h] = c
	r.derBytes += len(c)
	return c, h
}

var derSeed = maphash.MakeSeed()

// derTail is how many of a certificate's last bytes derHash reads.
const derTail = 64

// derHash is the key intern keeps a certificate by: a maphash of its
// length and its last derTail bytes, which are its signature's (they
// differ between any two certificates an issuer signed). A certificate
// is always compared whole with the one its key finds, so two that
// share a key are only not shared; hashing whole certificates (1-2 KB
// each, every chain of every connection) took 5 ms a read of hs.pcap.
func derHash(der []byte) uint64 {
	var b [8 + derTail]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(der)))
	n := 8 + copy(b[8:], der[max(0, len(der)-derTail):])
	return maphash.Bytes(derSeed, b[:n])
}

// sharedChain is a chain as internChain hands it out, with its ID.
type sharedChain struct {
	chain [][]byte
	id    string
}

// maxChains bounds the chains internChain remembers (with their IDs,
// about 100 bytes each besides the certificates ders holds); the table
// is emptied when full, and with ders.
const maxChains = 4096

// internChain returns one shared copy of each distinct chain, its
// certificates interned (of those since ders was last emptied), and its
// record.ChainID, so that the SHA-256 of a chain seen on many connections
// is computed once (the judge and the trace writer use ChainID when it is
// set, and would otherwise hash every chain again) and the observations
// share one slice. A chain is known by its certificates' maphashes and
// compared whole (interned certificates are the same slices: bytes.Equal
// sees the same pointer at once); what an ID depends on is the chain's
// bytes alone.
func (r *reader) internChain(chain [][]byte) ([][]byte, string) {
	r.chainBuf = r.chainBuf[:0]
	k := uint64(len(chain))
	for _, der := range chain {
		c, h := r.intern(der)
		r.chainBuf = append(r.chainBuf, c)
		k = (k<<7 | k>>57) ^ h
	}
	if sc, ok := r.chains[k]; ok && sameChain(sc.chain, r.chainBuf) {
		return sc.chain, sc.id
	}
	if len(r.chains) >= maxChains {
		clear(r.chains)
	}
	sc := sharedChain{chain: slices.Clone(r.chainBuf), id: record.ChainID(r.chainBuf)}
	r.chains[k] = sc
	return sc.chain, sc.id
}

// sameChain reports whether a and b hold the same certificates in the
// same order.
func sameChain(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
