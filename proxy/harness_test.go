package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// step is one scripted behaviour of the fake upstream, used for one request.
type step struct {
	status  int               // default 200
	headers map[string]string // response headers
	body    []byte            // response body (non-stream)
	events  [][]byte          // SSE events written one by one, each flushed
	gap     time.Duration     // pause before each event after the first
	hang    time.Duration     // pause before the response headers
	reset   bool              // close the connection without a response (RST)
	gate    func(i int)       // called before event i is written (i ≥ 1)
	// cancelled is closed when a stream write to the proxy fails (the proxy hung up).
	cancelled chan struct{}
}

// seen is a request the fake upstream received.
type seen struct {
	method, path, query string
	headers             map[string]string // lower-cased names
	body                []byte
}

// fakeUpstream is a real fasthttp server on 127.0.0.1 that plays scripted steps
// and otherwise answers with the fixtures of the requested format.
type fakeUpstream struct {
	t      testing.TB
	addr   string
	srv    *fasthttp.Server
	mu     sync.Mutex
	script []step
	reqs   []seen
}

func newFakeUpstream(t testing.TB) *fakeUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeUpstream{t: t, addr: ln.Addr().String()}
	f.srv = &fasthttp.Server{Handler: f.handle, CloseOnShutdown: true, NoDefaultServerHeader: true}
	go f.srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { _ = f.srv.Shutdown() })
	return f
}

// then queues steps for the next requests.
func (f *fakeUpstream) then(steps ...step) {
	f.mu.Lock()
	f.script = append(f.script, steps...)
	f.mu.Unlock()
}

func (f *fakeUpstream) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fakeUpstream) last() seen {
	r := f.requests()
	if len(r) == 0 {
		f.t.Fatal("the upstream received no request")
	}
	return r[len(r)-1]
}

func (f *fakeUpstream) handle(ctx *fasthttp.RequestCtx) {
	s := seen{method: string(ctx.Method()), path: string(ctx.Path()), query: string(ctx.QueryArgs().QueryString()),
		headers: map[string]string{}, body: append([]byte(nil), ctx.PostBody()...)}
	for k, v := range ctx.Request.Header.All() {
		s.headers[strings.ToLower(string(k))] = string(v)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, s)
	var st step
	scripted := len(f.script) > 0
	if scripted {
		st = f.script[0]
		f.script = f.script[1:]
	}
	f.mu.Unlock()
	if !scripted {
		st = f.fixtureStep(s)
	}
	if st.hang > 0 {
		time.Sleep(st.hang)
	}
	if st.reset {
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(c net.Conn) {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
		})
		return
	}
	if st.status == 0 {
		st.status = 200
	}
	ctx.SetStatusCode(st.status)
	for k, v := range st.headers {
		ctx.Response.Header.Set(k, v)
	}
	if st.events == nil {
		if ctx.Response.Header.ContentType() == nil || len(st.headers["Content-Type"]) == 0 {
			ctx.SetContentType("application/json")
		}
		ctx.SetBody(st.body)
		return
	}
	ctx.SetContentType("text/event-stream")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		for i, ev := range st.events {
			if i > 0 {
				if st.gate != nil {
					st.gate(i)
				}
				time.Sleep(st.gap)
			}
			_, _ = w.Write(ev)
			if err := w.Flush(); err != nil {
				if st.cancelled != nil {
					close(st.cancelled)
				}
				return
			}
		}
		if st.cancelled != nil {
			// Keep writing keep-alives until the proxy hangs up, bounded in time.
			for i := 0; i < 200; i++ {
				time.Sleep(10 * time.Millisecond)
				_, _ = w.WriteString(": keep-alive\n\n")
				if err := w.Flush(); err != nil {
					close(st.cancelled)
					return
				}
			}
		}
	})
}

// fixtureStep answers with the fixture matching the request's format.
func (f *fakeUpstream) fixtureStep(s seen) step {
	stream := strings.Contains(s.path, "streamGenerateContent") || bytes.Contains(s.body, []byte(`"stream":true`)) || bytes.Contains(s.body, []byte(`"stream": true`))
	switch {
	case strings.HasSuffix(s.path, "/messages"):
		if stream {
			return step{events: splitEvents(readFixture(f.t, "anthropic/messages/stream_text.sse"))}
		}
		return step{body: readFixture(f.t, "anthropic/messages/response_text.json")}
	case strings.Contains(s.path, ":streamGenerateContent"):
		return step{events: splitEvents(readFixture(f.t, "gemini/stream_text.sse"))}
	case strings.Contains(s.path, ":generateContent"):
		return step{body: readFixture(f.t, "gemini/response_generate_content_text.json")}
	case strings.HasSuffix(s.path, "/responses"):
		if stream {
			return step{events: splitEvents(readFixture(f.t, "openai/responses/stream_text.sse"))}
		}
		return step{body: readFixture(f.t, "openai/responses/response_text.json")}
	case strings.HasSuffix(s.path, "/models"):
		return step{body: []byte(`{"object":"list","data":[{"id":"m1","object":"model"},{"id":"m2","object":"model"}]}`)}
	default:
		if stream {
			return step{events: splitEvents(readFixture(f.t, "openai/chat/stream_text.sse"))}
		}
		return step{body: readFixture(f.t, "openai/chat/response_text.json")}
	}
}

// readFixture reads testdata/<name>.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitEvents cuts a raw SSE body into events, each keeping its terminator.
func splitEvents(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i, n := bytes.Index(b, []byte("\n\n")), 2
		if j := bytes.Index(b, []byte("\r\n\r\n")); j >= 0 && (i < 0 || j < i) {
			i, n = j, 4
		}
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+n])
		b = b[i+n:]
	}
	return out
}

// recorder collects call records.
type recorder struct {
	mu    sync.Mutex
	calls []*Call
	ch    chan *Call
}

func newRecorder() *recorder { return &recorder{ch: make(chan *Call, 1024)} }

func (r *recorder) Record(c *Call) {
	// The recorder owns c from here on: keep what it held when handed over, as
	// the history writer does, so later changes by the proxy show up as missing.
	cp := *c
	cp.Attempts = append([]Attempt(nil), c.Attempts...)
	c = &cp
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	select {
	case r.ch <- c:
	default:
	}
}

// next waits for the next record.
func (r *recorder) next(t testing.TB) *Call {
	t.Helper()
	select {
	case c := <-r.ch:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no call was recorded within 5 s")
		return nil
	}
}

// keys is a KeySource from a map.
type keys map[string]string

func (k keys) Secret(provider, field string) (string, bool) {
	v, ok := k[provider+"/"+field]
	return v, ok
}

// testProxy is a Server on 127.0.0.1 with fake providers pointing at up.
type testProxy struct {
	*Server
	url string
	rec *recorder
	up  *fakeUpstream
}

// testConfig has providers "oai" (openai, serving the Responses API too), "ant"
// (anthropic) and "gem" (gemini) on the fake upstream, and fast retry timings.
func testConfig(up *fakeUpstream, extra string) *config.Config {
	src := `
[retry]
attempts = 3
base_delay = "1ms"
max_delay = "50ms"
first_byte_timeout = "2s"
idle_timeout = "2s"
circuit_failures = 50

# The presets' globs would win over the fakes' (first match routes).
[[provider]]
name = "openai"
models = []
[[provider]]
name = "anthropic"
models = []
[[provider]]
name = "gemini"
models = []

[[provider]]
name = "oai"
format = "openai"
base_url = "http://` + up.addr + `/v1"
models = ["gpt-*"]
responses = true

[[provider]]
name = "ant"
format = "anthropic"
base_url = "http://` + up.addr + `/v1"
models = ["claude-*"]

[[provider]]
name = "gem"
format = "gemini"
base_url = "http://` + up.addr + `/v1beta"
models = ["gemini-*"]
` + extra
	cfg, err := config.Parse([]byte(src), "test.toml")
	if err != nil {
		panic(err)
	}
	return cfg
}

func newTestProxy(t testing.TB, cfg *config.Config, k keys) *testProxy {
	t.Helper()
	if k == nil {
		k = keys{"oai/": "sk-oai-secret", "ant/": "sk-ant-secret", "gem/": "AIza-gem-secret"}
	}
	return newTestProxyWith(t, cfg, k, nil)
}

// do sends a request through the proxy with a plain fasthttp client.
func (p *testProxy) do(t testing.TB, method, path string, body []byte, headers ...string) (*fasthttp.Response, []byte) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := &fasthttp.Response{}
	req.SetRequestURI(p.url + path)
	req.Header.SetMethod(method)
	req.Header.SetContentType("application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Host") {
			req.UseHostHeader = true
			req.Header.SetHost(headers[i+1])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	req.SetBody(body)
	c := &fasthttp.Client{}
	if err := c.DoTimeout(req, resp, 20*time.Second); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, append([]byte(nil), resp.Body()...)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func jsonField(t testing.TB, b []byte, path ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

type fasthttpResponseHeader = fasthttp.ResponseHeader

// deadAddr is a loopback address where nothing listens (connections are refused).
func deadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// newTestProxyWith is newTestProxy with an OnCircuit hook.
func newTestProxyWith(t testing.TB, cfg *config.Config, k keys, onCircuit func(string, bool)) *testProxy {
	t.Helper()
	rec := newRecorder()
	p := newTestProxyOpts(t, cfg, Options{Keys: k, Recorder: rec, Version: "test", Logger: discardLogger(), OnCircuit: onCircuit})
	p.rec = rec
	return p
}

// newTestProxyOpts serves a proxy built with o on 127.0.0.1 until the test ends.
func newTestProxyOpts(t testing.TB, cfg *config.Config, o Options) *testProxy {
	t.Helper()
	s, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return serveTestProxy(t, s, nil)
}

// serveLoopback serves s on 127.0.0.1 until the test ends and returns its
// address: the one listener helper of this package's tests and benchmarks.
func serveLoopback(tb testing.TB, s *Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go s.Serve(ln) //nolint:errcheck
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func asError[T error](err error, target *T) bool { return errors.As(err, target) }

// loopbackListener listens on 127.0.0.1:0 until the test ends: for the fake
// upstreams that write raw bytes on a socket.
func loopbackListener(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}
