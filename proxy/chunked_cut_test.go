package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// keepAliveUpstream is rawUpstream with keep-alive and a script: answer
// writes the response to request i (0-based, over all connections) and says
// whether the connection stays open. It counts the connections accepted.
func keepAliveUpstream(t *testing.T, answer func(i int, w *bufio.Writer) (keepOpen bool)) (addr string, conns *atomic.Int32) {
	t.Helper()
	ln := loopbackListener(t)
	conns = &atomic.Int32{}
	var reqs atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func(conn net.Conn) {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				br, bw := bufio.NewReader(conn), bufio.NewWriter(conn)
				req := fasthttp.AcquireRequest()
				defer fasthttp.ReleaseRequest(req)
				for n := 0; n < 100 && req.Read(br) == nil; n++ {
					open := answer(int(reqs.Add(1))-1, bw)
					if bw.Flush() != nil || !open {
						return
					}
				}
			}(conn)
		}
	}()
	return ln.Addr().String(), conns
}

// writeChunked writes a 200 response head in chunked encoding and each part as
// a chunk; with end, the terminal chunk too.
func writeChunked(w *bufio.Writer, contentType string, end bool, parts ...[]byte) {
	fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n", contentType)
	for _, p := range parts {
		fmt.Fprintf(w, "%x\r\n%s\r\n", len(p), p)
	}
	if end {
		w.WriteString("0\r\n\r\n")
	}
}

// Issue 15 §3: an upstream that closes a chunked response at a chunk boundary
// (the process died between two events, or after the last one without the
// terminal chunk) must not leave its dead connection in the pool, where the
// next call would fail on it. fasthttp reports such an end as a clean EOF.
func TestChunkedCutConnectionIsNotReused(t *testing.T) {
	events := splitEvents(readFixture(t, "openai/chat/stream_text.sse"))
	for _, tc := range []struct {
		name    string
		parts   [][]byte
		outcome Outcome
	}{
		{"cut between two events", events[:2], OutcomePartial},
		{"cut after the last event", events, OutcomeOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := readFixture(t, "openai/chat/response_text.json")
			addr, conns := keepAliveUpstream(t, func(i int, w *bufio.Writer) bool {
				if i == 0 {
					writeChunked(w, "text/event-stream", false, tc.parts...)
					return false
				}
				fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(full), full)
				return true
			})
			cfg := testConfig(&fakeUpstream{addr: addr}, "")
			cfg.Retry.Attempts = 1 // a retry would hide the failure
			p := newTestProxy(t, cfg, nil)
			p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","stream":true,"messages":[]}`))
			if c := p.rec.next(t); c.Outcome != tc.outcome {
				t.Errorf("the stream was recorded %s, want %s", c.Outcome, tc.outcome)
			}
			// The closed connection must be closed on the proxy's side too, not
			// pooled: the next call gets a new one.
			resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`))
			if resp.StatusCode() != 200 {
				t.Errorf("the next call got %d on the dead connection: %s", resp.StatusCode(), body)
			}
			if c := p.rec.next(t); len(c.Attempts) != 1 || c.Attempts[0].Class != ClassNone {
				t.Errorf("the next call's attempts %+v, want one that succeeded", c.Attempts)
			}
			if n := conns.Load(); n != 2 {
				t.Errorf("%d connections to the upstream, want 2 (the cut one not reused)", n)
			}
		})
	}
}

// Issue 15 §3: a non-streaming answer in chunked encoding cut at a chunk
// boundary is incomplete, not an answer: it is retried like a cut
// Content-Length body, never relayed as a 200 with half a JSON document.
func TestChunkedBodyCutIsRetried(t *testing.T) {
	full := readFixture(t, "openai/chat/response_text.json")
	addr, _ := keepAliveUpstream(t, func(i int, w *bufio.Writer) bool {
		if i == 0 {
			writeChunked(w, "application/json", false, full[:len(full)/2])
			return false
		}
		writeChunked(w, "application/json", true, full[:len(full)/2], full[len(full)/2:])
		return true
	})
	p := newTestProxy(t, testConfig(&fakeUpstream{addr: addr}, ""), nil)
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`))
	if resp.StatusCode() != 200 || !bytes.Equal(body, full) {
		t.Errorf("status %d, body %d of %d bytes: want the retry's whole answer\n%s", resp.StatusCode(), len(body), len(full), body)
	}
	c := p.rec.next(t)
	if len(c.Attempts) != 2 || c.Attempts[0].Class != ClassReset || c.Outcome != OutcomeOK {
		t.Errorf("recorded %s with attempts %+v: want a cut (reset) first attempt, then ok", c.Outcome, c.Attempts)
	}
}
