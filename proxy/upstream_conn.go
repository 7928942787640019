package proxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// upstreamConn is the upstream connection of a call's attempt in flight, so
// that a client hang-up can cut it: fasthttp's Client.Do takes no context
// (issue 19.7). The attempt learns its connection while fasthttp writes the
// request body: by then the response knows the connection's local address,
// which timedConn registers in Server.conns.
type upstreamConn struct {
	mu      sync.Mutex
	conn    *timedConn
	aborted bool
	rd      attemptBody
}

// body returns the reader fasthttp sends b from for this attempt.
func (u *upstreamConn) body(s *Server, b []byte, resp *fasthttp.Response) io.Reader {
	u.rd = attemptBody{u: u, s: s, b: b, resp: resp}
	return &u.rd
}

// bind makes tc the attempt's connection; false when the call was aborted.
func (u *upstreamConn) bind(tc *timedConn) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.aborted {
		return false
	}
	u.conn = tc
	return true
}

// unbind forgets the connection; it must run before the response is released
// (and the connection may serve another call).
func (u *upstreamConn) unbind() {
	u.mu.Lock()
	u.conn = nil
	u.mu.Unlock()
}

// detach unbinds the attempt's connection and returns it (nil when unknown):
// a stream writer keeps it to check at the end whether the upstream closed it.
func (u *upstreamConn) detach() *timedConn {
	u.mu.Lock()
	defer u.mu.Unlock()
	tc := u.conn
	u.conn = nil
	return tc
}

// release unbinds the attempt's connection and releases resp. A connection
// the upstream closed is closed rather than pooled: fasthttp takes a chunked
// body cut at a chunk boundary for a complete one and would pool the dead
// connection, and the next call would fail on it (issue 15 §3).
func (u *upstreamConn) release(resp *fasthttp.Response) {
	if u.detach().closedByPeer() {
		discardConn(resp)
	}
	fasthttp.ReleaseResponse(resp)
}

// errUpstreamClosed closes the body of a response whose connection the
// upstream closed, so that fasthttp closes the connection too.
var errUpstreamClosed = errors.New("the upstream closed the connection")

// discardConn makes fasthttp close resp's connection instead of pooling it.
func discardConn(resp *fasthttp.Response) {
	if rc, ok := resp.BodyStream().(fasthttp.ReadCloserWithError); ok {
		_ = rc.CloseWithError(errUpstreamClosed)
	}
}

// abort cuts the attempt in flight and refuses later ones. Safe from any goroutine.
func (u *upstreamConn) abort() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.aborted = true
	if u.conn != nil {
		_ = u.conn.Close()
		u.conn = nil
	}
}

// attemptBody is an attempt's request body; its first read binds the attempt
// to the connection fasthttp writes it on.
type attemptBody struct {
	u     *upstreamConn
	s     *Server
	b     []byte
	resp  *fasthttp.Response
	bound bool
	// started is when the first read came: the connection was ready.
	started time.Time
}

func (r *attemptBody) Read(p []byte) (int, error) {
	if !r.bound {
		r.bound = true
		r.started = time.Now()
		if tc, ok := r.s.conns.Load(r.resp.LocalAddr()); ok && !r.u.bind(tc.(*timedConn)) {
			return 0, errClientGone
		}
		if r.u.isAborted() {
			return 0, errClientGone
		}
	}
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// closedByPeer reports whether the upstream closed the attempt's connection.
func (u *upstreamConn) closedByPeer() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.conn.closedByPeer()
}

func (u *upstreamConn) isAborted() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.aborted
}

// connKey is the registry key of a connection: its local address, which the
// response of a request on it reports.
func connKey(c net.Conn) net.Addr { return c.LocalAddr() }
