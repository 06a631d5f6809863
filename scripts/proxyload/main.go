// Command proxyload is the HTTPS origin, load generator and abuse client
// of scripts/bench-proxy.sh and scripts/abuse-proxy.sh (standard library
// only, run on 127.0.0.1):
//
//	proxyload origin DIR       serve on 127.0.0.1, write DIR/ca.pem and DIR/addr
//	proxyload run ADDR PROXY MODE SECONDS CAFILE...
//	                           16 clients (CLIENTS=N), MODE keepalive|newconn;
//	                           PROXY "-" is direct; TIMEOUT=2s bounds each request
//	proxyload bighdr ADDR PROXY MIB tunnel|plain CAFILE...
//	                           send a request whose header is MIB MiB, inside a
//	                           CONNECT tunnel or as a plain proxy request, while
//	                           other requests check that the proxy still serves
//	proxyload tunnels ADDR PROXY N RELEASE CAFILE...
//	                           open N keep-alive tunnels (one request each), say
//	                           so, hold them until the file RELEASE exists, use
//	                           each once more, close them
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

func main() {
	switch os.Args[1] {
	case "origin":
		origin(os.Args[2])
	case "run":
		secs, _ := strconv.Atoi(os.Args[5])
		run(os.Args[2], os.Args[3], os.Args[4], time.Duration(secs)*time.Second, os.Args[6:])
	case "bighdr":
		mib, _ := strconv.Atoi(os.Args[4])
		bighdr(os.Args[2], os.Args[3], mib, os.Args[5], os.Args[6:])
	case "tunnels":
		n, _ := strconv.Atoi(os.Args[4])
		tunnels(os.Args[2], os.Args[3], n, os.Args[5], os.Args[6:])
	}
}

func origin(dir string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench origin CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caT, caT, &key.PublicKey, key)
	ca, _ := x509.ParseCertificate(caDER)
	lkey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	lDER, _ := x509.CreateCertificate(rand.Reader, lT, ca, &lkey.PublicKey, key)
	os.WriteFile(dir+"/ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	body := make([]byte, 1024)
	for i := range body {
		body[i] = 'x'
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{lDER, caDER}, PrivateKey: lkey}}})
	if err != nil {
		panic(err)
	}
	os.WriteFile(dir+"/addr", []byte(ln.Addr().String()), 0o644)
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
}

func run(addr, proxy, mode string, d time.Duration, cafiles []string) {
	pool := x509.NewCertPool()
	for _, f := range cafiles {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		pool.AppendCertsFromPEM(b)
	}
	_, port, _ := net.SplitHostPort(addr)
	u := "https://localhost:" + port + "/"
	newTr := func() *http.Transport {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: mode == "newconn", MaxIdleConnsPerHost: 1}
		if proxy != "-" {
			tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxy})
		}
		return tr
	}
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	clients := 16
	if n, err := strconv.Atoi(os.Getenv("CLIENTS")); err == nil && n > 0 {
		clients = n
	}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: newTr(), Timeout: timeout()}
			var mine []time.Duration
			bad := 0
			for time.Now().Before(stop) {
				t0 := time.Now()
				resp, err := c.Get(u)
				if err == nil {
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if n != 1024 {
						err = fmt.Errorf("%d bytes", n)
					}
				}
				if err != nil {
					bad++
					if bad == 1 {
						fmt.Fprintln(os.Stderr, "load:", err)
					}
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			c.CloseIdleConnections()
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	p := func(q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
	}
	fmt.Printf("%.0f %.3f %.3f %d\n", float64(len(lat))/d.Seconds(), p(0.50), p(0.99), errs)
}

// timeout is TIMEOUT from the environment (default 30s).
func timeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 30 * time.Second
}

func pool(cafiles []string) *x509.CertPool {
	p := x509.NewCertPool()
	for _, f := range cafiles {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		p.AppendCertsFromPEM(b)
	}
	return p
}

// client is a keep-alive client of https://localhost:PORT through proxy.
func client(addr, proxy string, roots *x509.CertPool) (*http.Client, string) {
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, MaxIdleConnsPerHost: 1,
		Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: proxy})}
	return &http.Client{Transport: tr, Timeout: timeout()}, "https://localhost:" + port + "/"
}

func get(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n != 1024 {
		return fmt.Errorf("%s, %d bytes", resp.Status, n)
	}
	return nil
}

// bighdr sends one request whose header block is mib MiB (an X-Big header
// of that size) and prints the proxy's answer, how much it read, and how
// the proxy served other requests meanwhile:
//
//	status=431 sent=1.0MiB serving=ok:N errors:M
func bighdr(addr, proxy string, mib int, how string, cafiles []string) {
	roots := pool(cafiles)
	_, port, _ := net.SplitHostPort(addr)
	conn, err := net.Dial("tcp", proxy)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	var c net.Conn = conn
	br := bufio.NewReader(conn)
	target := "https://localhost:" + port + "/"
	if how == "tunnel" {
		fmt.Fprintf(conn, "CONNECT localhost:%s HTTP/1.1\r\nHost: localhost:%s\r\n\r\n", port, port)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
		if err != nil || resp.StatusCode != 200 {
			fmt.Printf("status=CONNECT-failed err=%v\n", err)
			return
		}
		tc := tls.Client(conn, &tls.Config{ServerName: "localhost", RootCAs: roots})
		if err := tc.Handshake(); err != nil {
			fmt.Printf("status=handshake-failed err=%v\n", err)
			return
		}
		c, br = tc, bufio.NewReader(tc)
		target = "/"
	} else {
		target = "http://localhost:" + port + "/" // plain proxy path (the origin speaks TLS: the header is what matters)
	}
	// Other clients check the proxy serves meanwhile.
	stop := make(chan struct{})
	var ok, bad int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cl, u := client(addr, proxy, roots)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if err := get(cl, u); err != nil {
				bad++
				fmt.Fprintln(os.Stderr, "bighdr: meanwhile:", err)
			} else {
				ok++
			}
		}
	}()
	status := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			status <- "none(" + err.Error() + ")"
			return
		}
		status <- strconv.Itoa(resp.StatusCode)
	}()
	var sent int64
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost:%s\r\nX-Big: ", target, port)
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = 'a'
	}
	total := int64(mib) << 20
	for sent < total {
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Write(chunk)
		sent += int64(n)
		if err != nil {
			break // the proxy stopped reading: it answered and closed
		}
	}
	c.Write([]byte("\r\n\r\n"))
	var st string
	select {
	case st = <-status:
	case <-time.After(10 * time.Second):
		st = "none(no answer in 10s)"
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	// One more request after the abuse.
	cl, u := client(addr, proxy, roots)
	if err := get(cl, u); err != nil {
		bad++
		fmt.Fprintln(os.Stderr, "bighdr: after:", err)
	} else {
		ok++
	}
	fmt.Printf("status=%s sent=%.1fMiB serving=ok:%d errors:%d\n", st, float64(sent)/(1<<20), ok, bad)
}

// tunnels opens n keep-alive tunnels, one request each, prints
// "open=N errors=E", holds them until release exists, uses each once more
// and prints "reused=N errors=E".
func tunnels(addr, proxy string, n int, release string, cafiles []string) {
	roots := pool(cafiles)
	cls := make([]*http.Client, n)
	var u string
	var mu sync.Mutex
	errs := 0
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	round := func() {
		for i := range cls {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := get(cls[i], u); err != nil {
					mu.Lock()
					if errs == 0 {
						fmt.Fprintln(os.Stderr, "tunnels:", err)
					}
					errs++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	for i := range cls {
		cls[i], u = client(addr, proxy, roots)
	}
	round()
	fmt.Printf("open=%d errors=%d\n", n, errs)
	for {
		if _, err := os.Stat(release); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	errs = 0
	round()
	fmt.Printf("reused=%d errors=%d\n", n, errs)
	for _, c := range cls {
		c.CloseIdleConnections()
	}
}
