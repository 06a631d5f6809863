// Package browser drives a headless Chromium for certsleuth's tests: it
// finds the binary, starts it with the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages ended by a NUL byte on file
// descriptors 3 and 4, no port, no WebSocket) and offers the few calls
// the tests use: open a page, evaluate JavaScript, take a screenshot.
//
// The protocol is documented at https://chromedevtools.github.io/devtools-protocol/
// (Target.createTarget, Target.attachToTarget with flatten, Runtime.evaluate,
// Emulation.setDeviceMetricsOverride, Page.captureScreenshot).
package browser

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Path finds a headless-capable Chromium: $CERTSLEUTH_CHROMIUM, or
// chromium, chromium-browser, google-chrome on $PATH. Without one the
// test fails with what to install; CERTSLEUTH_NO_BROWSER=1 skips it
// instead, except under CI=true, where a missing browser is a failure.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CERTSLEUTH_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CERTSLEUTH_NO_BROWSER") == "1" && os.Getenv("CI") != "true" {
		t.Skip("CERTSLEUTH_NO_BROWSER=1: not checked in a browser")
	}
	t.Fatal("no Chromium found to run this test in: install it (apt-get install -y chromium; .ci/run does) or set CERTSLEUTH_CHROMIUM=/path/to/chrome; outside CI, CERTSLEUTH_NO_BROWSER=1 skips the browser tests")
	return ""
}

// Options control Start.
type Options struct {
	// Proxy is the HTTP proxy ("127.0.0.1:8080") requests go through,
	// loopback included; "" is none.
	Proxy string
	// ProxyHosts, when set, limits the proxy to these host names (by a
	// PAC script); Chromium's own requests (updates, network time) then
	// do not go through it.
	ProxyHosts []string
	// Width and Height are the window's size (0: 1280x800).
	Width, Height int
}

// Browser is a running headless Chromium with one page.
type Browser struct {
	cmd     *exec.Cmd
	w       *os.File // our end of its fd 3
	r       *bufio.Reader
	mu      sync.Mutex
	id      int
	pending map[int]chan reply
	session string
	done    chan struct{}
	err     error
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Start starts Chromium with a blank page; t's cleanup stops it.
func Start(t testing.TB, o Options) *Browser {
	t.Helper()
	chrome := Path(t)
	if o.Width == 0 {
		o.Width, o.Height = 1280, 800
	}
	dir := t.TempDir()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--disable-features=Translate,MediaRouter,OptimizationHints,NetworkTimeServiceQuerying,AutofillServerCommunication", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir=" + filepath.Join(dir, "profile"), fmt.Sprintf("--window-size=%d,%d", o.Width, o.Height),
		"--remote-debugging-pipe", "about:blank"}
	switch {
	case o.Proxy != "" && len(o.ProxyHosts) > 0:
		hosts, _ := json.Marshal(o.ProxyHosts)
		pac := fmt.Sprintf(`function FindProxyForURL(url, host) { return %s.indexOf(host) >= 0 ? "PROXY %s" : "DIRECT"; }`, hosts, o.Proxy)
		args = append(args, "--proxy-pac-url=data:application/x-ns-proxy-autoconfig;base64,"+base64.StdEncoding.EncodeToString([]byte(pac)))
	case o.Proxy != "":
		// <-loopback> sends 127.0.0.1 and localhost through the proxy too.
		args = append(args, "--proxy-server=http://"+o.Proxy, "--proxy-bypass-list=<-loopback>")
	}
	in, ours, err := os.Pipe() // Chromium reads fd 3
	if err != nil {
		t.Fatal(err)
	}
	theirs, out, err := os.Pipe() // Chromium writes fd 4
	if err != nil {
		t.Fatal(err)
	}
	// Chromium's own temporary files (the SingletonSocket directory
	// org.chromium.Chromium.XXXXXX, left behind when a run is cut short)
	// go under the test's directory, which the test removes.
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chrome, args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.ExtraFiles = []*os.File{in, out}
	ownGroup(cmd)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", chrome, err)
	}
	in.Close()
	out.Close()
	b := &Browser{cmd: cmd, w: ours, r: bufio.NewReader(theirs), pending: map[int]chan reply{}, done: make(chan struct{})}
	go b.read()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		b.call(ctx, "", "Browser.close", nil, nil)
		cancel()
		waited := make(chan struct{})
		go func() { cmd.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-waited
		}
		// Its renderer, GPU and utility processes too, should any outlive it.
		killGroup(cmd)
		ours.Close()
		theirs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatalf("%s does not answer the DevTools protocol on its pipe: %v\n%s", chrome, err, stderr.String())
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		t.Fatal(err)
	}
	b.session = att.SessionID
	for _, c := range []struct {
		m string
		p any
	}{
		{"Page.enable", nil},
		{"Runtime.enable", nil},
		{"Emulation.setDeviceMetricsOverride", map[string]any{"width": o.Width, "height": o.Height, "deviceScaleFactor": 1, "mobile": false}},
	} {
		if err := b.Call(ctx, c.m, c.p, nil); err != nil {
			t.Fatalf("%s: %v", c.m, err)
		}
	}
	return b
}

type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.b) < 1<<16 {
		l.b = append(l.b, p...)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// read dispatches Chromium's answers to their callers; events are dropped.
func (b *Browser) read() {
	defer close(b.done)
	for {
		msg, err := b.r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.err = fmt.Errorf("the browser closed its DevTools pipe: %w", err)
			b.mu.Unlock()
			return
		}
		var m struct {
			ID int `json:"id"`
			reply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

// Call sends a DevTools command to the page and decodes its result into
// result (nil: ignored).
func (b *Browser) Call(ctx context.Context, method string, params, result any) error {
	return b.call(ctx, b.session, method, params, result)
}

func (b *Browser) call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return b.err
	}
	b.id++
	id := b.id
	ch := make(chan reply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.w.Write(append(data, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(r.Result, result)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: %v", method, b.err)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Navigate opens url in the page.
func (b *Browser) Navigate(ctx context.Context, url string) error {
	var r struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.Call(ctx, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
		return err
	}
	if r.ErrorText != "" {
		return fmt.Errorf("open %s: %s", url, r.ErrorText)
	}
	return nil
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise)
// and decodes its value, which must be JSON, into v.
func (b *Browser) Eval(ctx context.Context, expr string, v any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := b.Call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return errors.New("JavaScript: " + r.Exception.Text + " " + r.Exception.Exception.Description)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, v)
}

// Screenshot writes a PNG of the page's viewport to path.
func (b *Browser) Screenshot(ctx context.Context, path string) error {
	var r struct {
		Data string `json:"data"`
	}
	if err := b.Call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// PID is the browser's process ID; with its process group (on Unix) it
// covers the renderer and the other processes it starts.
func (b *Browser) PID() int { return b.cmd.Process.Pid }

// Settle waits until the browser has done the work that follows its
// start and a page's opening (the profile, fonts, the network service:
// well over a second of CPU, several seconds on a busy machine), so that
// a test timing the page measures the page and not the browser's start-up:
// until, over a window of quiet, its processes used less than 5 % of a
// core and at most two of ten samples found one of their threads running
// or waiting for a CPU. It returns how long it waited, and false if the
// browser was still busy after limit (or ctx ended). Where the processes
// cannot be read (not Linux) it waits one window.
func (b *Browser) Settle(ctx context.Context, quiet, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	step := quiet / 10
	for {
		cpu0, _ := b.group()
		busy := 0
		for range 10 {
			select {
			case <-ctx.Done():
				return time.Since(start), false
			case <-time.After(step):
			}
			if _, r := b.group(); r {
				busy++
			}
		}
		cpu1, _ := b.group()
		if cpu1-cpu0 < 0.05*quiet.Seconds() && busy <= 2 {
			return time.Since(start), true
		}
		if time.Since(start) >= limit {
			return time.Since(start), false
		}
	}
}
