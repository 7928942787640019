package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
	"golang.org/x/net/http/httpproxy"
)

// Egress: how upstream calls leave the machine. fasthttp dials host:port and
// knows nothing of proxies, so each HostClient gets a dial function that picks
// the proxy the way Go's net/http does (golang.org/x/net/http/httpproxy: the
// same code net/http runs, so HTTPS_PROXY, NO_PROXY with CIDRs, domains, ports
// and "*" mean here what they mean to Go tools), then:
//   - https upstream through a proxy: CONNECT tunnel, then TLS inside it;
//   - http upstream through a proxy: plain forwarding, absolute-form requests;
//   - no proxy: TCP (and TLS) directly.
// The dial does the TLS handshake itself (fasthttp uses a conn that already has
// one as it is), so each provider can have its own roots and so that a failure
// says whether a proxy was in the way. The tunnel is the raw connection to the
// proxy: nothing is buffered between the upstream and the stream relay.

// connectTimeout bounds reaching the proxy, its answer to CONNECT and the TLS
// handshake when no per-read timeout applies (one-off clients).
const connectTimeout = 15 * time.Second

// egress is the network path for one set of network settings.
type egress struct {
	network config.Network
	// proxyFor picks the proxy for a request URL (nil URL: direct). nil: always direct.
	proxyFor func(*url.URL) (*url.URL, error)
	// source names where the proxy comes from, for messages: "HTTPS_PROXY", "proxy_url".
	source string
	// roots are the trusted roots: nil for the system's.
	roots *x509.CertPool
	// setupErr is a settings problem (an unreadable ca_file) that fails every dial.
	setupErr error
	// dialTCP opens a TCP connection; wrap, when set, wraps every raw connection
	// (the proxy's per-read timeouts).
	dialTCP func(addr string) (net.Conn, error)
	wrap    func(net.Conn) net.Conn
}

// newEgress reads n's CA files and the proxy environment.
func newEgress(n config.Network) *egress {
	e := &egress{network: n, dialTCP: dialDirect}
	switch mode := n.Proxy(); mode {
	case config.ProxyNone:
	case config.ProxyEnv:
		env := httpproxy.FromEnvironment()
		e.proxyFor, e.source = env.ProxyFunc(), "HTTPS_PROXY/HTTP_PROXY"
	default:
		// Loopback hosts and NO_PROXY still go direct: a global proxy_url must
		// not break a local Ollama.
		cfg := httpproxy.Config{HTTPProxy: mode, HTTPSProxy: mode, NoProxy: httpproxy.FromEnvironment().NoProxy}
		e.proxyFor, e.source = cfg.ProxyFunc(), "proxy_url"
	}
	if len(n.CAFiles) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, f := range n.CAFiles {
			certs, err := config.ReadCAFile(f)
			if err != nil {
				e.setupErr = fmt.Errorf("ca_file: %w", err)
				break
			}
			for _, c := range certs {
				pool.AddCert(c)
			}
		}
		e.roots = pool
	}
	return e
}

func dialDirect(addr string) (net.Conn, error) { return fasthttp.DialTimeout(addr, dialTimeout) }

// attach makes c dial through e. Each HostClient is for one scheme, which the
// dial needs (HTTPS_PROXY or HTTP_PROXY, CONNECT or forwarding).
func (e *egress) attach(c *fasthttp.Client) {
	c.ConfigureClient = func(hc *fasthttp.HostClient) error {
		isTLS := hc.IsTLS
		hc.Dial = func(addr string) (net.Conn, error) { return e.dial(addr, isTLS) }
		return nil
	}
}

// dial connects to addr (host:port): directly or through the proxy, with the
// TLS handshake done for TLS upstreams.
func (e *egress) dial(addr string, isTLS bool) (net.Conn, error) {
	if e.setupErr != nil {
		return nil, e.setupErr
	}
	pu, err := e.route(addr, isTLS)
	if err != nil {
		return nil, err
	}
	if pu == nil {
		c, err := e.dialTCP(addr)
		if err != nil {
			return nil, err
		}
		c = e.wrapConn(c)
		if !isTLS {
			return c, nil
		}
		return e.handshake(c, addr, "")
	}
	pe := &ProxyError{Proxy: config.RedactProxyURL(pu.String()), Target: addr, Credentials: pu.User != nil}
	pc, err := e.dialProxy(pu)
	if err != nil {
		pe.Err = err
		return nil, pe
	}
	auth := proxyAuth(pu)
	if !isTLS {
		return newForwardConn(pc, "http://"+addr, auth), nil
	}
	tc, status, err := connectTunnel(pc, addr, auth)
	if err != nil || status != 0 {
		pe.Status, pe.Err = status, err
		return nil, pe
	}
	return e.handshake(tc, addr, pe.Proxy)
}

// route returns the proxy for a request to addr, or nil to go direct.
func (e *egress) route(addr string, isTLS bool) (*url.URL, error) {
	if e.proxyFor == nil {
		return nil, nil
	}
	scheme := "http"
	if isTLS {
		scheme = "https"
	}
	pu, err := e.proxyFor(&url.URL{Scheme: scheme, Host: addr})
	if err != nil {
		// httpproxy's error repeats the setting, which may hold a password.
		return nil, &ProxyError{Proxy: "(invalid)", Target: addr, Err: fmt.Errorf("the proxy from %s is not a valid URL", e.source)}
	}
	if pu != nil && pu.Scheme != "http" && pu.Scheme != "https" {
		return nil, &ProxyError{Proxy: config.RedactProxyURL(pu.String()), Target: addr,
			Err: fmt.Errorf("proxy scheme %q (from %s) is not supported: use an http:// or https:// proxy", pu.Scheme, e.source)}
	}
	return pu, nil
}

func (e *egress) wrapConn(c net.Conn) net.Conn {
	if e.wrap == nil {
		return c
	}
	return e.wrap(c)
}

// dialProxy connects to the proxy itself (TLS for an https:// proxy).
func (e *egress) dialProxy(pu *url.URL) (net.Conn, error) {
	port := pu.Port()
	if port == "" {
		port = "80"
		if pu.Scheme == "https" {
			port = "443"
		}
	}
	c, err := e.dialTCP(net.JoinHostPort(pu.Hostname(), port))
	if err != nil {
		return nil, err
	}
	c = e.wrapConn(c)
	if pu.Scheme != "https" {
		return c, nil
	}
	tc := tls.Client(c, &tls.Config{ServerName: pu.Hostname(), RootCAs: e.roots, MinVersion: tls.VersionTLS12})
	if err := withDeadline(c, tc.Handshake); err != nil {
		c.Close()
		return nil, fmt.Errorf("TLS with the proxy: %w", err)
	}
	return tc, nil
}

// handshake runs TLS with the upstream over c. via is the proxy in the way ("" direct).
func (e *egress) handshake(c net.Conn, addr, via string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	cfg := &tls.Config{
		ServerName:         host,
		RootCAs:            e.roots,
		InsecureSkipVerify: e.network.InsecureSkipVerify, //nolint:gosec // a provider's explicit, loudly warned choice
		MinVersion:         tls.VersionTLS12,
	}
	tc := tls.Client(c, cfg)
	if err := withDeadline(c, tc.Handshake); err != nil {
		c.Close()
		if via != "" {
			return nil, fmt.Errorf("TLS handshake with %s through proxy %s: %w", host, via, err)
		}
		return nil, fmt.Errorf("TLS handshake with %s: %w", host, err)
	}
	return tc, nil
}

// withDeadline runs fn with c's deadline set to connectTimeout, then clears it.
func withDeadline(c net.Conn, fn func() error) error {
	_ = c.SetDeadline(time.Now().Add(connectTimeout))
	err := fn()
	_ = c.SetDeadline(time.Time{})
	return err
}

// proxyAuth is the Basic credentials of the proxy URL, base64-encoded ("" without).
func proxyAuth(pu *url.URL) string {
	if pu.User == nil {
		return ""
	}
	pass, _ := pu.User.Password()
	return base64.StdEncoding.EncodeToString([]byte(pu.User.Username() + ":" + pass))
}

// connectTunnel asks the proxy on c for a tunnel to target. A refusal comes back
// as the proxy's status with a nil error.
func connectTunnel(c net.Conn, target, auth string) (net.Conn, int, error) {
	if strings.ContainsAny(target, "\r\n ") {
		c.Close()
		return nil, 0, fmt.Errorf("bad tunnel target %q", target)
	}
	var req strings.Builder
	req.WriteString("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n")
	if auth != "" {
		req.WriteString("Proxy-Authorization: Basic " + auth + "\r\n")
	}
	req.WriteString("\r\n")
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	resp.SkipBody = true // a 2xx to CONNECT has none; after a refusal the connection is closed
	br := bufio.NewReaderSize(c, 4<<10)
	err := withDeadline(c, func() error {
		if _, err := c.Write([]byte(req.String())); err != nil {
			return err
		}
		return resp.Header.Read(br)
	})
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("CONNECT %s: %w", target, err)
	}
	if status := resp.StatusCode(); status < 200 || status > 299 {
		c.Close()
		return nil, status, nil
	}
	if br.Buffered() > 0 {
		return &prereadConn{Conn: c, r: br}, 0, nil
	}
	return c, 0, nil
}

// prereadConn serves bytes read past the CONNECT answer before the connection's own.
type prereadConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *prereadConn) Read(b []byte) (int, error) {
	if c.r.Buffered() > 0 {
		return c.r.Read(b)
	}
	return c.Conn.Read(b)
}

// forwardConn sends plain-HTTP requests to a forwarding proxy: the request line
// gets the absolute URL a proxy needs (RFC 9112 §3.2.2) and Proxy-Authorization
// is added. fasthttp writes each request from its request line on, and reads the
// whole response before it writes the next request on the connection.
type forwardConn struct {
	net.Conn
	prefix  string // "http://host:port"
	header  string // "Proxy-Authorization: Basic …\r\n" or ""
	atStart atomic.Bool
}

func newForwardConn(c net.Conn, prefix, auth string) *forwardConn {
	f := &forwardConn{Conn: c, prefix: prefix}
	if auth != "" {
		f.header = "Proxy-Authorization: Basic " + auth + "\r\n"
	}
	f.atStart.Store(true)
	return f
}

var errRequestLine = errors.New("forwarding proxy: the request line was not at the start of the write")

func (c *forwardConn) Write(b []byte) (int, error) {
	if !c.atStart.Swap(false) {
		return c.Conn.Write(b)
	}
	sp := bytes.IndexByte(b, ' ')
	eol := bytes.Index(b, []byte("\r\n"))
	if sp < 0 || eol < sp || b[sp+1] != '/' {
		return 0, errRequestLine
	}
	out := make([]byte, 0, len(b)+len(c.prefix)+len(c.header))
	out = append(out, b[:sp+1]...)
	out = append(out, c.prefix...)
	out = append(out, b[sp+1:eol+2]...)
	out = append(out, c.header...)
	out = append(out, b[eol+2:]...)
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *forwardConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.atStart.Store(true)
	}
	return n, err
}

// ProxyError is a failure of the HTTP proxy between Gatehouse and an upstream:
// it could not be reached, or it refused the tunnel (Status, 407 when it wants
// credentials). Its text never holds the proxy's credentials.
type ProxyError struct {
	Proxy       string // the proxy URL, credentials hidden
	Target      string // the host:port the call was for
	Status      int    // the proxy's answer to CONNECT; 0 when it gave none
	Credentials bool   // the proxy URL carried credentials
	Err         error  // the cause when Status is 0
}

func (e *ProxyError) Error() string {
	switch {
	case e.Status == fasthttp.StatusProxyAuthRequired && e.Credentials:
		return fmt.Sprintf("proxy %s rejected the credentials in the proxy URL (407 Proxy Authentication Required)", e.Proxy)
	case e.Status == fasthttp.StatusProxyAuthRequired:
		return fmt.Sprintf("proxy %s wants credentials (407 Proxy Authentication Required): put them in the proxy URL, http://user:password@host:port", e.Proxy)
	case e.Status != 0:
		return fmt.Sprintf("proxy %s refused to open a tunnel to %s: %d %s", e.Proxy, e.Target, e.Status, fasthttp.StatusMessage(e.Status))
	}
	return fmt.Sprintf("proxy %s: %v", e.Proxy, e.Err)
}

func (e *ProxyError) Unwrap() error { return e.Err }

// egressClass classifies the failures that the network path explains better
// than the generic transport classes; ok is false for the others.
func egressClass(err error) (ErrorClass, bool) {
	var pe *ProxyError
	if errors.As(err, &pe) {
		if pe.Status == fasthttp.StatusProxyAuthRequired {
			return ClassProxyAuth, true
		}
		return ClassNetProxy, true
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return ClassTLSUntrusted, true
	}
	return "", false
}
