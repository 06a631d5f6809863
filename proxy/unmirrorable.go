package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// A chain the proxy cannot mirror: crypto/tls refuses an upstream
// certificate crypto/x509 cannot parse (a negative serial number, a
// malformed SAN...), which Windows, OpenSSL or Chromium may well accept
// (docs/malformed-certs.md). In mirror mode a client must see through the
// proxy what it sees without it, so such a tunnel is passed through
// unchanged: the client's own ClientHello is replayed to a new upstream
// connection, and the chain is recorded raw (passthrough).

// errUnmirrorable calls off the client handshake of a tunnel whose
// upstream chain cannot be mirrored.
var errUnmirrorable = errors.New("the upstream certificate cannot be mirrored")

// unmirrorable reports whether err is crypto/tls refusing to parse the
// upstream certificate (handshake_client.go: "tls: failed to parse
// certificate from server").
func unmirrorable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "failed to parse certificate from server")
}

// maxHeld bounds the client bytes heldConn keeps (a ClientHello, even one
// split over records, is far smaller).
const maxHeld = 64 << 10

// heldConn is the client side of a mitm handshake that can be called off:
// it keeps the bytes the handshake read and, once muted, drops what the
// TLS server writes (the alert it sends when the handshake is called off),
// so the client's bytes can go to the upstream unchanged.
type heldConn struct {
	net.Conn
	mu       sync.Mutex
	held     []byte
	overflow bool
	muted    bool
}

func (c *heldConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if !c.overflow {
		if len(c.held)+n > maxHeld {
			c.overflow, c.held = true, nil
		} else {
			c.held = append(c.held, p[:n]...)
		}
	}
	c.mu.Unlock()
	return n, err
}

func (c *heldConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	muted := c.muted
	c.mu.Unlock()
	if muted {
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// mute stops writes to the client and reports whether every byte the
// handshake read is still held (so the tunnel can be passed through).
func (c *heldConn) mute() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.overflow {
		return false
	}
	c.muted = true
	return true
}

// release drops the held bytes once the handshake is done.
func (c *heldConn) release() {
	c.mu.Lock()
	c.held, c.overflow = nil, true
	c.mu.Unlock()
}

// passUnchanged tunnels the client's bytes (hello: what the called-off
// handshake read) to a new upstream connection, unchanged, and records
// the chain raw.
func (t *tunnel) passUnchanged(hello []byte, why error) {
	s := t.s
	t.upRaw.Close()                                                                                          // the refused handshake's connection
	up, addr, err := s.dialFor(s.ctx, s.localClient(t.client.RemoteAddr(), t.client.LocalAddr()), t.connect) // the reach rule again: DNS may answer differently now
	if err != nil {
		t.connectionObs(fmt.Errorf("upstream %s is down: connect to %s: %v", t.connect, addr, unwrapNet(err)), "")
		return
	}
	if !s.track(up) {
		up.Close()
		return
	}
	defer func() {
		up.Close()
		s.untrack(up)
	}()
	t.upRaw = up
	t.cbr = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(hello), t.held.Conn), 16<<10) // t.held.Conn: the rest, after the buffered ClientHello
	t.client.SetDeadline(time.Time{})
	t.passthrough(fmt.Sprintf("the server's certificate cannot be mirrored (%v): tunnelled unchanged, so the client sees the server's own chain, as without the proxy", why))
}
