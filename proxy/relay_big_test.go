package proxy

import (
	"bytes"
	"fmt"
	"net"
	nethttp "net/http"
	"strings"
	"testing"
	"time"
)

// bigAnswer is an OpenAI chat completion of about n bytes with its usage last.
func bigAnswer(n int) []byte {
	text := strings.Repeat("0123456789abcdef", n/16)
	return []byte(`{"id":"chatcmpl-big","object":"chat.completion","created":1,"model":"gpt-4","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		text + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2500000,"total_tokens":2500003}}`)
}

// TestBigAnswerStreamsThrough: a same-format answer over streamThrough reaches
// the client whole; the record keeps its first body_cap_bytes, marked
// truncated, and the usage from its end (issue 15 §2).
func TestBigAnswerStreamsThrough(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	big := bigAnswer(streamThrough + 1<<20)
	up.then(step{body: big})
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4","messages":[{"role":"user","content":"all"}]}`))
	if resp.StatusCode() != 200 || !bytes.Equal(body, big) {
		t.Fatalf("status %d, %d bytes, want the upstream's %d", resp.StatusCode(), len(body), len(big))
	}
	rec := p.rec.next(t)
	limit := p.Config().History.BodyCapBytes
	if rec.Outcome != OutcomeOK || len(rec.Response.Body) != limit || !rec.Response.Truncated || !bytes.Equal(rec.Response.Body, big[:limit]) {
		t.Errorf("record: outcome %q, response %d bytes (truncated %v), want ok, the first %d, truncated", rec.Outcome, len(rec.Response.Body), rec.Response.Truncated, limit)
	}
	if rec.Usage.OutputTokens != 2500000 || rec.Usage.InputTokens != 3 {
		t.Errorf("record: usage %+v, want the body's last (3 in, 2500000 out)", rec.Usage)
	}
	if len(rec.Attempts) != 1 || rec.Attempts[0].Received == nil || len(rec.Attempts[0].Received.Body) != limit {
		t.Errorf("record: attempts %+v, want one with the answer's head", rec.Attempts)
	}
}

// TestBigAnswerBrokenOff: an upstream that stops short of its Content-Length
// after the answer started to flow cuts the client's connection (it must not
// see a clean end) and the call is recorded as partial.
func TestBigAnswerBrokenOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	big := bigAnswer(streamThrough + 1<<20)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		_, _ = c.Read(buf) // the request (small)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(big))
		_, _ = c.Write(big[:len(big)/2])
	}()
	cfg := testConfig(&fakeUpstream{addr: ln.Addr().String()}, "")
	p := newTestProxy(t, cfg, nil)
	hc := &nethttp.Client{Timeout: 20 * time.Second}
	resp, err := hc.Post(p.url+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"gpt-4","messages":[{"role":"user","content":"all"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	_, err = got.ReadFrom(resp.Body)
	resp.Body.Close()
	if err == nil || got.Len() >= len(big) {
		t.Errorf("the client read %d of %d bytes with error %v, want a cut short of the end", got.Len(), len(big), err)
	}
	rec := p.rec.next(t)
	if rec.Outcome != OutcomePartial || len(rec.Attempts) != 1 || rec.Attempts[0].Class != ClassMidStream || !strings.Contains(rec.Error, "broke off") {
		t.Errorf("record: outcome %q, error %q, attempts %+v, want partial, mid_stream", rec.Outcome, rec.Error, rec.Attempts)
	}
}

// TestAnswerOverTheLimitIsNotRetried: an answer read whole (here translated)
// over maxResponseBody fails at once with a 502 in the client's format that
// says why, instead of being fetched again three times.
func TestAnswerOverTheLimitIsNotRetried(t *testing.T) {
	defer func(n int) { maxResponseBody = n }(maxResponseBody)
	maxResponseBody = 1 << 20
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	up.then(step{body: bigAnswer(2 << 20)}, step{body: bigAnswer(2 << 20)})
	resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"gpt-4","max_tokens":5,"messages":[{"role":"user","content":"all"}]}`))
	if resp.StatusCode() != 502 || jsonField(t, body, "type") != "error" || !strings.Contains(string(body), "over 1 MiB") {
		t.Errorf("status %d: %s, want 502 in Anthropic's format naming the limit", resp.StatusCode(), body)
	}
	if n := len(up.requests()); n != 1 {
		t.Errorf("the upstream was asked %d times, want once", n)
	}
}
