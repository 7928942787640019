package proxy

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// upstreamURL is the URL of an endpoint of provider p, reached in wire format f
// (p.WireFormat). A base_url includes the API's version segment; the endpoint
// path is appended.
func upstreamURL(p *config.Provider, f config.Format, kind endpointKind, model string, stream bool) string {
	base := strings.TrimRight(p.BaseURL, "/")
	switch f {
	case config.FormatAnthropic:
		switch kind {
		case kindCountTokens:
			return base + "/messages/count_tokens"
		case kindModels:
			return base + "/models"
		}
		return base + "/messages"
	case config.FormatGemini:
		switch kind {
		case kindModels:
			return base + "/models"
		case kindCountTokens:
			return base + "/models/" + model + ":countTokens"
		}
		if stream {
			return base + "/models/" + model + ":streamGenerateContent?alt=sse"
		}
		return base + "/models/" + model + ":generateContent"
	}
	var path string
	switch {
	case f == config.FormatResponses:
		path = "/responses"
	case kind == kindEmbeddings:
		path = "/embeddings"
	case kind == kindModels:
		path = "/models"
	default:
		path = "/chat/completions"
	}
	if p.Resource != "" || p.Deployment != "" {
		return azureURL(p, path, model)
	}
	return base + path
}

// azureURL is an Azure OpenAI deployment URL:
// https://{resource}.openai.azure.com/openai/deployments/{deployment}/chat/completions?api-version=V.
// The deployment defaults to the model name.
func azureURL(p *config.Provider, path, model string) string {
	base := strings.TrimRight(p.BaseURL, "/")
	if p.Resource != "" {
		base = "https://" + p.Resource + ".openai.azure.com/openai"
	}
	if path == "/models" {
		return base + "/models?api-version=" + url.QueryEscape(apiVersion(p))
	}
	dep := p.Deployment
	if dep == "" {
		dep = model
	}
	return base + "/deployments/" + url.PathEscape(dep) + path + "?api-version=" + url.QueryEscape(apiVersion(p))
}

func apiVersion(p *config.Provider) string {
	if p.APIVersion != "" {
		return p.APIVersion
	}
	return "2024-10-21"
}

// newUpstreamClient returns a client for upstream calls; clientFor attaches its
// network path (egress.go), which wraps each connection in a timedConn. Bodies
// are streamed (Do returns after the headers); timeouts are enforced per read by
// timedConn, because fasthttp's own ReadTimeout would cap a whole stream.
func (s *Server) newUpstreamClient() *fasthttp.Client {
	return &fasthttp.Client{
		StreamResponseBody:  true,
		MaxConnsPerHost:     4096, // each open stream holds a connection
		MaxIdleConnDuration: 90 * time.Second,
		MaxConnWaitTimeout:  5 * time.Second,
		// Held by every open stream, and the limit on response headers:
		// 16 KiB, not 64, kept 500 streams 24 MB smaller (issue 17).
		ReadBufferSize:           16 << 10,
		WriteBufferSize:          16 << 10,
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true,
		RetryIfErr:               func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
	}
}

// dialTimeout bounds connection setup (DNS + TCP); the TLS handshake falls under
// the first-byte timeout.
const dialTimeout = 10 * time.Second

// timed wraps a new raw upstream connection in a timedConn and registers it
// (see upstreamConn). The network path (egress.go) calls it for every
// connection it opens, proxies' included, before any TLS.
func (s *Server) timed(c net.Conn) net.Conn {
	tc := &timedConn{Conn: c, s: s}
	s.conns.Store(connKey(c), tc)
	return tc
}

// timedConn enforces the first-byte and idle timeouts on each read: after the
// request is written, the next read may wait first_byte_timeout; every later read
// may wait idle_timeout. Streams thus have no total limit, only a silence limit.
// A request with a timeout of its own (a non-streaming call's response_timeout)
// sets a whole-response deadline through SetReadDeadline: it replaces
// first_byte_timeout and caps every later read.
type timedConn struct {
	net.Conn
	s             *Server
	awaitingFirst atomic.Bool
	gotFirst      atomic.Bool  // a byte arrived since the last request was written
	outer         atomic.Int64 // the request's own deadline in Unix ns, 0: none
	// peerClosed: a read met the end of the connection, so the upstream closed
	// it and it must not serve another request (issue 15 §3).
	peerClosed atomic.Bool
	// rd and wd are the read and write deadlines set on Conn.
	rd, wd lazyDeadline
}

// lazyDeadline is a deadline of a connection, set on it only when the one
// armed would fire early or more than its slack late: a busy connection's
// reads and requests then leave the runtime's timers alone (setting a
// deadline updates one, issue 12).
type lazyDeadline struct {
	armed atomic.Int64 // Unix ns, 0: none
}

// next returns the deadline to set on the connection for one wanted at want
// (zero: none), if the one armed will not do. A deadline fires at most
// deadlineSlack of the time left (and at most a second) late, never early.
func (l *lazyDeadline) next(now, want time.Time) (time.Time, bool) {
	if want.IsZero() {
		return want, l.armed.Swap(0) != 0
	}
	w := want.UnixNano()
	slack := max(min(want.Sub(now)/deadlineSlack, time.Second), 0)
	if a := l.armed.Load(); a >= w && a <= w+int64(slack) {
		return time.Time{}, false
	}
	at := want.Add(slack)
	l.armed.Store(at.UnixNano())
	return at, true
}

// set records a deadline set on the connection directly.
func (l *lazyDeadline) set(t time.Time) {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	l.armed.Store(ns)
}

// deadlineSlack: a lazyDeadline may fire 1/deadlineSlack of its time late.
const deadlineSlack = 16

// closedByPeer reports whether the upstream closed c (false for nil).
func (c *timedConn) closedByPeer() bool { return c != nil && c.peerClosed.Load() }

func (c *timedConn) Write(b []byte) (int, error) {
	c.awaitingFirst.Store(true)
	c.gotFirst.Store(false)
	return c.Conn.Write(b)
}

// SetReadDeadline records fasthttp's per-request deadline; Read applies it.
func (c *timedConn) SetReadDeadline(t time.Time) error {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	c.outer.Store(ns)
	return nil
}

// SetWriteDeadline sets fasthttp's per-request write deadline, lazily.
func (c *timedConn) SetWriteDeadline(t time.Time) error {
	if at, ok := c.wd.next(time.Now(), t); ok {
		return c.Conn.SetWriteDeadline(at)
	}
	return nil
}

// SetDeadline sets both deadlines at once (a TLS handshake's): Read sets its
// own again.
func (c *timedConn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return c.Conn.SetDeadline(t)
}

// Close unregisters the connection (see upstreamConn) and closes it.
func (c *timedConn) Close() error {
	c.s.conns.Delete(connKey(c.Conn))
	return c.Conn.Close()
}

func (c *timedConn) Read(b []byte) (int, error) {
	r := &c.s.cfg.Load().Retry
	first := c.awaitingFirst.Load()
	d := r.IdleTimeout.Duration
	if first {
		d = r.FirstByteTimeout.Duration
	}
	now := time.Now()
	var deadline time.Time
	if d > 0 {
		deadline = now.Add(d)
	}
	if ns := c.outer.Load(); ns != 0 {
		if o := time.Unix(0, ns); first || deadline.IsZero() || o.Before(deadline) {
			deadline = o
		}
	}
	if at, ok := c.rd.next(now, deadline); ok {
		_ = c.Conn.SetReadDeadline(at)
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.awaitingFirst.Store(false)
		c.gotFirst.Store(true)
	}
	if err == io.EOF {
		c.peerClosed.Store(true)
	}
	return n, err
}
