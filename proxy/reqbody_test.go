package proxy

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestBodyBudgetFullAnswers503: while request bodies fill the budget, a new
// one waits up to the read timeout for room, then gets a 503 in its client's
// format; once there is room again it is served (issue 15 §2).
func TestBodyBudgetFullAnswers503(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxyOpts(t, testConfig(up, ""), Options{Keys: keys{"oai/": "sk-oai-secret"}, Logger: discardLogger(), RequestReadTimeout: 300 * time.Millisecond})
	if err := p.bodies.acquire(context.Background(), bodyBudget); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"gpt-4","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`))
	if resp.StatusCode() != fasthttp.StatusServiceUnavailable || jsonField(t, body, "type") != "error" ||
		!strings.Contains(string(body), "Gatehouse is busy") {
		t.Errorf("a body with no room: %d %s, want 503 in Anthropic's format", resp.StatusCode(), body)
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("answered after %v, before the 300 ms wait was over", took)
	}
	p.bodies.release(bodyBudget)
	if resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`)); resp.StatusCode() != 200 {
		t.Errorf("with room again: %d %s", resp.StatusCode(), body)
	}
}

// TestRequestBodiesPeak: the proxy reports the most request body bytes it
// held at once since it was last asked, which serve's memory limit leaves out
// of the heap's headroom (ui/cli.KeepMemoryLimit).
func TestRequestBodiesPeak(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxyOpts(t, testConfig(up, ""), Options{Keys: keys{"oai/": "sk-oai-secret"}, Logger: discardLogger()})
	if got := p.RequestBodiesPeak(); got != 0 {
		t.Errorf("before any call: %d bytes, want 0", got)
	}
	if err := p.bodies.acquire(context.Background(), 5000); err != nil {
		t.Fatal(err)
	}
	if got := p.RequestBodiesPeak(); got != 5000 {
		t.Errorf("5,000 bytes held: %d, want 5000", got)
	}
	p.bodies.release(5000)
	if got := p.RequestBodiesPeak(); got != 5000 {
		t.Errorf("released since the last read: %d, want the 5000 held in the period", got)
	}
	body := []byte(`{"model":"gpt-4","messages":[{"role":"user","content":"` + strings.Repeat("x", 20000) + `"}]}`)
	if resp, b := p.do(t, "POST", "/v1/chat/completions", body); resp.StatusCode() != 200 {
		t.Fatalf("call: %d %s", resp.StatusCode(), b)
	}
	if got := p.RequestBodiesPeak(); got != int64(len(body)) {
		t.Errorf("after a call of %d bytes: %d", len(body), got)
	}
	if got := p.RequestBodiesPeak(); got != 0 {
		t.Errorf("nothing held since: %d, want 0", got)
	}
}

// TestChunkedRequestBody: a chunked body (no Content-Length) is read whole and
// routed like any other.
func TestChunkedRequestBody(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxyOpts(t, testConfig(up, ""), Options{Keys: keys{"oai/": "sk-oai-secret"}, Logger: discardLogger()})
	c, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	body := `{"model":"gpt-4","messages":[{"role":"user","content":"in two chunks"}]}`
	_, _ = c.Write([]byte("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"10\r\n" + body[:16] + "\r\n" + strconv.FormatInt(int64(len(body)-16), 16) + "\r\n" + body[16:] + "\r\n0\r\n\r\n"))
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(c)); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 200 || string(up.last().body) != body {
		t.Errorf("chunked body: %d %s; the upstream got %q", resp.StatusCode(), resp.Body(), up.last().body)
	}
}
