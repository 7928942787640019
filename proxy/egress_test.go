package proxy

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	stdhttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// upstreamHost is the name the TLS upstream's certificate is for. It does not
// resolve: the test proxy maps it to 127.0.0.1 (as a real proxy resolves names
// for its clients), and tests that go direct map it with clients.dialTCP.
// A real name is needed because Go's proxy rules never proxy loopback hosts.
const upstreamHost = "upstream.test"

// testCA is a certificate authority generated for one test, and a server
// certificate it signed for upstreamHost.
type testCA struct {
	path   string // the CA certificate as a PEM file
	server tls.Certificate
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Gatehouse test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: upstreamHost},
		DNSNames: []string{upstreamHost}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "corp-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testCA{path: path, server: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

// newTLSFakeUpstream is newFakeUpstream serving HTTPS with ca's certificate.
func newTLSFakeUpstream(t testing.TB, ca *testCA) *fakeUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeUpstream{t: t, addr: ln.Addr().String()}
	f.srv = &fasthttp.Server{Handler: f.handle, CloseOnShutdown: true, NoDefaultServerHeader: true}
	go f.srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{ca.server}})) //nolint:errcheck
	t.Cleanup(func() { _ = f.srv.Shutdown() })
	return f
}

// connectProxy is a real HTTP proxy on 127.0.0.1: CONNECT tunnels and
// plain-HTTP forwarding, optionally requiring Basic credentials. It maps
// upstreamHost to 127.0.0.1.
type connectProxy struct {
	t    testing.TB
	ln   net.Listener
	auth string // required "user:password"; "" for none

	mu       sync.Mutex
	tunnels  []string // CONNECT targets that were opened
	forwards []string // request targets of forwarded requests (absolute-form)
	refused  int      // requests answered 407
	open     []net.Conn
	conns    sync.WaitGroup
}

func newConnectProxy(t testing.TB, auth string) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{t: t, ln: ln, auth: auth}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
		p.conns.Wait()
	})
	return p
}

// url is the proxy's URL, with credentials when userinfo is not "".
func (p *connectProxy) url(userinfo string) string {
	if userinfo != "" {
		return "http://" + userinfo + "@" + p.ln.Addr().String()
	}
	return "http://" + p.ln.Addr().String()
}

func (p *connectProxy) counts() (tunnels, forwards, refused int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tunnels), len(p.forwards), p.refused
}

func (p *connectProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.track(c)
		go func() {
			defer p.conns.Done()
			p.handle(c)
		}()
	}
}

func mapHost(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err == nil && host == upstreamHost {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return hostport
}

// authorized answers 407 and reports false when req lacks the credentials.
func (p *connectProxy) authorized(c net.Conn, req *stdhttp.Request) bool {
	if p.auth == "" || req.Header.Get("Proxy-Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(p.auth)) {
		return true
	}
	p.mu.Lock()
	p.refused++
	p.mu.Unlock()
	io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	return false
}

// track remembers a connection, closed when the test ends.
func (p *connectProxy) track(c net.Conn) {
	p.mu.Lock()
	p.open = append(p.open, c)
	p.mu.Unlock()
}

func (p *connectProxy) handle(c net.Conn) {
	defer c.Close()
	// A request must come soon; an open tunnel lives until the test ends
	// (cleanup closes every connection).
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	req, err := stdhttp.ReadRequest(br)
	if err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	if !p.authorized(c, req) {
		return
	}
	if req.Method != stdhttp.MethodConnect {
		p.forward(c, br, req)
		return
	}
	up, err := net.DialTimeout("tcp", mapHost(req.Host), 5*time.Second)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	p.track(up)
	defer up.Close()
	p.mu.Lock()
	p.tunnels = append(p.tunnels, req.Host)
	p.mu.Unlock()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, br)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(c, up)
	c.Close()
	<-done
}

// forward relays plain-HTTP requests in absolute form, one after the other on
// the client's connection, as a forwarding proxy does.
func (p *connectProxy) forward(c net.Conn, br *bufio.Reader, req *stdhttp.Request) {
	up, err := net.DialTimeout("tcp", mapHost(req.URL.Host), 5*time.Second)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	p.track(up)
	defer up.Close()
	ubr := bufio.NewReader(up)
	for i := 0; i < 100; i++ {
		if i > 0 {
			if req, err = stdhttp.ReadRequest(br); err != nil {
				return
			}
			if !p.authorized(c, req) {
				return
			}
		}
		p.mu.Lock()
		p.forwards = append(p.forwards, req.RequestURI)
		p.mu.Unlock()
		req.Header.Del("Proxy-Authorization")
		if err := req.Write(up); err != nil { // origin form
			return
		}
		resp, err := stdhttp.ReadResponse(ubr, req)
		if err != nil {
			return
		}
		err = resp.Write(c)
		resp.Body.Close()
		if err != nil {
			return
		}
	}
}

// mapDirect makes s's direct dials reach upstreamHost on 127.0.0.1.
func mapDirect(s *Server) {
	d := func(addr string) (net.Conn, error) { return dialDirect(mapHost(addr)) }
	s.clients.dialTCP.Store(&d)
}

// netConfig is a config with one provider "corp" on up (https unless plain),
// plus extra TOML for its table.
func netConfig(t testing.TB, up *fakeUpstream, plain bool, global, extra string) *config.Config {
	t.Helper()
	_, port, _ := net.SplitHostPort(up.addr)
	scheme := "https"
	if plain {
		scheme = "http"
	}
	src := global + `
[retry]
attempts = 1
first_byte_timeout = "5s"
idle_timeout = "5s"

[[provider]]
name = "corp"
format = "openai"
base_url = "` + scheme + `://` + upstreamHost + `:` + port + `/v1"
models = ["corp-*"]
` + extra
	cfg, err := config.Parse([]byte(src), filepath.Join(t.TempDir(), "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// setProxyEnv sets the proxy variables for the test, lowercase ones cleared.
func setProxyEnv(t *testing.T, httpsProxy, httpProxy, noProxy string) {
	t.Setenv("HTTPS_PROXY", httpsProxy)
	t.Setenv("HTTP_PROXY", httpProxy)
	t.Setenv("NO_PROXY", noProxy)
	t.Setenv("https_proxy", "")
	t.Setenv("http_proxy", "")
	t.Setenv("no_proxy", "")
	t.Setenv("REQUEST_METHOD", "")
	t.Setenv("SSL_CERT_FILE", "") // trust must come from ca_file alone
	t.Setenv("SSL_CERT_DIR", "")
}

var chatBody = []byte(`{"model":"corp-1","messages":[{"role":"user","content":"hi"}]}`)

func TestHTTPSProxyFromEnvironmentTunnelsToTLSUpstream(t *testing.T) {
	ca := newTestCA(t)
	up := newTLSFakeUpstream(t, ca)
	px := newConnectProxy(t, "")
	setProxyEnv(t, px.url(""), "", "")
	p := newTestProxy(t, netConfig(t, up, false, "", `ca_file = "`+ca.path+`"`), keys{"corp/": "sk-corp"})

	resp, body := p.do(t, "POST", "/v1/chat/completions", chatBody)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d, want 200: %s", resp.StatusCode(), body)
	}
	if tunnels, _, _ := px.counts(); tunnels != 1 {
		t.Errorf("the proxy opened %d tunnels, want 1", tunnels)
	}
	if got := px.tunnels[0]; got != upstreamHost+":"+portOf(up.addr) {
		t.Errorf("tunnel to %q, want %s:%s", got, upstreamHost, portOf(up.addr))
	}
	if got := up.last().headers["authorization"]; got != "Bearer sk-corp" {
		t.Errorf("upstream saw Authorization %q, want the provider key", got)
	}
	// A second call reuses the tunnel: keep-alive through the proxy.
	if resp, body := p.do(t, "POST", "/v1/chat/completions", chatBody); resp.StatusCode() != 200 {
		t.Fatalf("second call: status %d: %s", resp.StatusCode(), body)
	}
	if tunnels, _, _ := px.counts(); tunnels != 1 {
		t.Errorf("after two calls the proxy opened %d tunnels, want 1 (reused)", tunnels)
	}
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

func TestNoProxyBypassesTheProxy(t *testing.T) {
	ca := newTestCA(t)
	up := newTLSFakeUpstream(t, ca)
	px := newConnectProxy(t, "")
	for _, noProxy := range []string{upstreamHost, ".test", "*", "example.com," + upstreamHost + ":" + portOf(up.addr)} {
		t.Run(noProxy, func(t *testing.T) {
			setProxyEnv(t, px.url(""), "", noProxy)
			p := newTestProxy(t, netConfig(t, up, false, "", `ca_file = "`+ca.path+`"`), keys{"corp/": "sk-corp"})
			mapDirect(p.Server)
			resp, body := p.do(t, "POST", "/v1/chat/completions", chatBody)
			if resp.StatusCode() != 200 {
				t.Fatalf("status %d, want 200: %s", resp.StatusCode(), body)
			}
			if tunnels, forwards, _ := px.counts(); tunnels+forwards != 0 {
				t.Errorf("NO_PROXY=%s: the proxy saw %d tunnels, %d requests, want none", noProxy, tunnels, forwards)
			}
		})
	}
	// A NO_PROXY entry for another host does not bypass.
	setProxyEnv(t, px.url(""), "", "example.com,10.0.0.0/8")
	p := newTestProxy(t, netConfig(t, up, false, "", `ca_file = "`+ca.path+`"`), keys{"corp/": "sk-corp"})
	if resp, body := p.do(t, "POST", "/v1/chat/completions", chatBody); resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), body)
	}
	if tunnels, _, _ := px.counts(); tunnels != 1 {
		t.Errorf("NO_PROXY for other hosts: %d tunnels, want 1", tunnels)
	}
}

func TestProxyCredentials(t *testing.T) {
	ca := newTestCA(t)
	up := newTLSFakeUpstream(t, ca)
	const secret = "s3cret-proxy-pass"
	px := newConnectProxy(t, "alice:"+secret)
	var logs lockedBuffer
	run := func(t *testing.T, proxyURL string) (*testProxy, int, []byte) {
		setProxyEnv(t, "", "", "")
		cfg := netConfig(t, up, false, `proxy_url = "`+proxyURL+`"`+"\n", `ca_file = "`+ca.path+`"`)
		rec := newRecorder()
		s, err := New(cfg, Options{Keys: keys{"corp/": "sk-corp"}, Recorder: rec,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		p := serveTestProxy(t, s, rec)
		resp, body := p.do(t, "POST", "/v1/chat/completions", chatBody)
		return p, resp.StatusCode(), body
	}
	t.Run("without", func(t *testing.T) {
		p, status, body := run(t, px.url(""))
		if status == 200 {
			t.Fatalf("status 200 through a proxy that wants credentials: %s", body)
		}
		c := p.rec.next(t)
		if a := c.Attempts[len(c.Attempts)-1]; a.Class != ClassProxyAuth || !strings.Contains(a.Error, "407") {
			t.Errorf("attempt %+v, want class proxy_auth and a 407 in the error", a)
		}
		if _, _, refused := px.counts(); refused == 0 {
			t.Error("the proxy never answered 407")
		}
	})
	t.Run("with", func(t *testing.T) {
		p, status, body := run(t, px.url("alice:"+secret))
		if status != 200 {
			t.Fatalf("status %d, want 200: %s", status, body)
		}
		p.rec.next(t)
	})
	t.Run("wrong password is not shown", func(t *testing.T) {
		p, status, body := run(t, px.url("alice:wrong-"+secret))
		if status == 200 {
			t.Fatalf("status 200 with a wrong password")
		}
		c := p.rec.next(t)
		a := c.Attempts[len(c.Attempts)-1]
		if a.Class != ClassProxyAuth || !strings.Contains(a.Error, "rejected the credentials") {
			t.Errorf("attempt %+v, want class proxy_auth saying the credentials were rejected", a)
		}
		for what, s := range map[string]string{"response": string(body), "attempt": a.Error, "call error": c.Error, "logs": logs.String()} {
			if strings.Contains(s, secret) || strings.Contains(s, base64.StdEncoding.EncodeToString([]byte("alice:wrong-"+secret))) {
				t.Errorf("the %s shows the proxy password: %s", what, s)
			}
		}
	})
}

// serveTestProxy serves s on loopback for the test.
func serveTestProxy(t testing.TB, s *Server, rec *recorder) *testProxy {
	t.Helper()
	return &testProxy{Server: s, url: "http://" + serveLoopback(t, s), rec: rec}
}

// lockedBuffer is a log sink the server writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProviderProxyNoneGoesDirect(t *testing.T) {
	ca := newTestCA(t)
	up := newTLSFakeUpstream(t, ca)
	px := newConnectProxy(t, "")
	setProxyEnv(t, px.url(""), px.url(""), "")
	cfg := netConfig(t, up, false, `proxy_url = "`+px.url("")+`"`+"\n", `ca_file = "`+ca.path+`"`+"\nproxy_url = \"none\"\n")
	p := newTestProxy(t, cfg, keys{"corp/": "sk-corp"})
	mapDirect(p.Server)
	if resp, body := p.do(t, "POST", "/v1/chat/completions", chatBody); resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), body)
	}
	if tunnels, forwards, _ := px.counts(); tunnels+forwards != 0 {
		t.Errorf("proxy_url = none: the proxy saw %d tunnels, %d requests", tunnels, forwards)
	}
	corp, _ := cfg.Provider("corp")
	if got := NetworkPath(corp); !strings.HasPrefix(got, `direct (proxy_url = "none")`) || !strings.Contains(got, ca.path) {
		t.Errorf("NetworkPath = %q, want direct and the CA file", got)
	}
}

func TestCAFileIsNeededAndEnough(t *testing.T) {
	ca := newTestCA(t)
	up := newTLSFakeUpstream(t, ca)
	px := newConnectProxy(t, "")
	setProxyEnv(t, px.url(""), "", "")
	t.Run("without ca_file", func(t *testing.T) {
		p := newTestProxy(t, netConfig(t, up, false, "", ""), keys{"corp/": "sk-corp"})
		resp, _ := p.do(t, "POST", "/v1/chat/completions", chatBody)
		if resp.StatusCode() == 200 {
			t.Fatal("a certificate from an unknown CA was accepted")
		}
		a := p.rec.next(t).Attempts[0]
		if a.Class != ClassTLSUntrusted || !strings.Contains(a.Error, "through proxy "+px.url("")) {
			t.Errorf("attempt %+v, want class tls_untrusted naming the proxy", a)
		}
	})
	t.Run("global ca_file", func(t *testing.T) {
		p := newTestProxy(t, netConfig(t, up, false, `ca_file = "`+ca.path+`"`+"\n", ""), keys{"corp/": "sk-corp"})
		if resp, body := p.do(t, "POST", "/v1/chat/completions", chatBody); resp.StatusCode() != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode(), body)
		}
	})
	t.Run("insecure_skip_verify", func(t *testing.T) {
		cfg := netConfig(t, up, false, "", "insecure_skip_verify = true\n")
		var logs lockedBuffer
		rec := newRecorder()
		s, err := New(cfg, Options{Keys: keys{"corp/": "sk-corp"}, Recorder: rec, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "level=WARN msg=\"TLS CERTIFICATE CHECKS ARE OFF") || !strings.Contains(logs.String(), "provider=corp") {
			t.Errorf("loading an insecure provider logged %q, want a warning naming it", logs.String())
		}
		p := serveTestProxy(t, s, rec)
		if resp, body := p.do(t, "POST", "/v1/chat/completions", chatBody); resp.StatusCode() != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode(), body)
		}
		corp, _ := cfg.Provider("corp")
		if got := NetworkPath(corp); !strings.Contains(got, InsecureWarning) {
			t.Errorf("NetworkPath = %q lacks the warning", got)
		}
	})
}

func TestPlainHTTPUpstreamIsForwarded(t *testing.T) {
	up := newFakeUpstream(t)
	px := newConnectProxy(t, "bob:pw")
	setProxyEnv(t, "", px.url("bob:pw"), "")
	p := newTestProxy(t, netConfig(t, up, true, "", ""), keys{"corp/": "sk-corp"})
	for i := 0; i < 2; i++ {
		if resp, body := p.do(t, "POST", "/v1/chat/completions", chatBody); resp.StatusCode() != 200 {
			t.Fatalf("call %d: status %d: %s", i, resp.StatusCode(), body)
		}
	}
	tunnels, forwards, _ := px.counts()
	if tunnels != 0 || forwards != 2 {
		t.Fatalf("proxy saw %d tunnels, %d forwarded requests; want 0 and 2", tunnels, forwards)
	}
	want := "http://" + upstreamHost + ":" + portOf(up.addr) + "/v1/chat/completions"
	for i, got := range px.forwards {
		if got != want {
			t.Errorf("request %d: target %q, want the absolute URL %q", i, got, want)
		}
	}
	for i, r := range up.requests() {
		if r.headers["proxy-authorization"] != "" || r.headers["authorization"] != "Bearer sk-corp" || r.path != "/v1/chat/completions" {
			t.Errorf("upstream request %d: path %q, headers %v", i, r.path, r.headers)
		}
	}
}

func TestStreamThroughTunnelIsNotBuffered(t *testing.T) {
	ca := newTestCA(t)
	up := newTLSFakeUpstream(t, ca)
	px := newConnectProxy(t, "")
	setProxyEnv(t, px.url(""), "", "")
	p := newTestProxy(t, netConfig(t, up, false, "", `ca_file = "`+ca.path+`"`), keys{"corp/": "sk-corp"})
	events := splitEvents(readFixture(t, "openai/chat/stream_text.sse"))
	received := make(chan []byte, len(events))
	up.then(step{events: events, gate: func(i int) {
		// Event i is written only once the client has event i-1: nothing on
		// the way (tunnel, TLS, relay) may hold an event back.
		select {
		case <-received:
		case <-time.After(3 * time.Second):
			t.Errorf("event %d did not reach the client through the tunnel before the next was sent", i-1)
		}
	}})
	_, br, _ := streamClient(t, p, "/v1/chat/completions", `{"model":"corp-1","stream":true,"messages":[]}`)
	for i := range events {
		chunk := readChunk(t, br)
		if !bytes.Equal(chunk, events[i]) {
			t.Fatalf("chunk %d = %q, want the upstream event %q", i, chunk, events[i])
		}
		received <- chunk
	}
	if c := p.rec.next(t); c.Outcome != OutcomeOK {
		t.Errorf("outcome %s, want ok", c.Outcome)
	}
	if tunnels, _, _ := px.counts(); tunnels != 1 {
		t.Errorf("%d tunnels, want 1", tunnels)
	}
}

func TestUnreachableProxyIsNetProxy(t *testing.T) {
	up := newFakeUpstream(t)
	setProxyEnv(t, "", "", "")
	dead := "http://" + deadAddr(t)
	p := newTestProxy(t, netConfig(t, up, false, `proxy_url = "`+dead+`"`+"\n", ""), keys{"corp/": "sk-corp"})
	p.do(t, "POST", "/v1/chat/completions", chatBody)
	a := p.rec.next(t).Attempts[0]
	if a.Class != ClassNetProxy || !strings.Contains(a.Error, "proxy "+dead) {
		t.Errorf("attempt %+v, want class net_proxy naming the proxy", a)
	}
}

func TestUpstreamClientUsesTheProxy(t *testing.T) {
	ca := newTestCA(t)
	up := newTLSFakeUpstream(t, ca)
	px := newConnectProxy(t, "u:p")
	setProxyEnv(t, px.url("u:p"), "", "")
	cfg := netConfig(t, up, false, "", `ca_file = "`+ca.path+`"`)
	corp, _ := cfg.Provider("corp")
	up.then(step{body: []byte(`{"data":[]}`)})
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(corp.KeyCheckURL())
	if err := NewUpstreamClient(corp).DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	if tunnels, _, _ := px.counts(); tunnels != 1 {
		t.Errorf("%d tunnels, want 1", tunnels)
	}
	if got := NetworkPath(corp); !strings.HasPrefix(got, "through proxy http://***@"+px.ln.Addr().String()+" (from HTTPS_PROXY)") {
		t.Errorf("NetworkPath = %q", got)
	}
}
