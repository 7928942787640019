package proxy

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// A 502-502-200 call keeps three wire records: each with the request line,
// headers and body as sent, the upstream's status, headers and body, and
// timings; the pass-through bodies share the client's (no copy).
func TestWireRecordPerRetriedAttempt(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	up.then(errStep(502, `{"error":{"message":"bad gateway one"}}`, "x-request-id", "req_1"),
		errStep(502, `{"error":{"message":"bad gateway two"}}`, "x-request-id", "req_2"))
	body := []byte(`{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}`)
	resp, out := p.do(t, "POST", "/v1/chat/completions", body)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), out)
	}
	c := p.rec.next(t)
	if len(c.Attempts) != 3 {
		t.Fatalf("%d attempts, want 3", len(c.Attempts))
	}
	for i, a := range c.Attempts {
		if a.Method != "POST" || a.URL != "http://"+up.addr+"/v1/chat/completions" || a.KeySource != "keychain" || a.KeyMask != "sk-…cret" {
			t.Errorf("attempt %d: %s %s key %s %s", i, a.Method, a.URL, a.KeySource, a.KeyMask)
		}
		if a.Sent == nil || a.Received == nil {
			t.Fatalf("attempt %d has no wire record", i)
		}
		if !bytes.Equal(a.Sent.Body, body) || &a.Sent.Body[0] != &c.Request.Body[0] {
			t.Errorf("attempt %d sent %q, want the client's body, sharing the record's copy", i, a.Sent.Body)
		}
		if !bytes.Contains(a.Sent.HeaderBlock, []byte("Authorization: [REDACTED]\n")) || bytes.Contains(a.Sent.HeaderBlock, []byte("sk-oai-secret")) {
			t.Errorf("attempt %d sent headers %q: want the injected key blanked", i, a.Sent.HeaderBlock)
		}
		if a.FirstByte <= 0 || a.FirstByte > a.Duration || a.Connect > a.FirstByte {
			t.Errorf("attempt %d timings: connect %v, first byte %v, total %v", i, a.Connect, a.FirstByte, a.Duration)
		}
	}
	for i, want := range []string{"bad gateway one", "bad gateway two"} {
		r := c.Attempts[i].Received
		if !bytes.Contains(r.Body, []byte(want)) || !bytes.Contains(r.HeaderBlock, []byte("req_"+strconv.Itoa(i+1))) {
			t.Errorf("attempt %d received %q %q, want the upstream's 502 and its request id", i, r.HeaderBlock, r.Body)
		}
	}
	last := c.Attempts[2].Received
	if !bytes.Equal(last.Body, c.Response.Body) || &last.Body[0] != &c.Response.Body[0] {
		t.Errorf("the relayed answer was copied: received %d bytes, client got %d", len(last.Body), len(c.Response.Body))
	}
}

// A translated call (OpenAI client, Anthropic upstream) records the Anthropic
// body as sent and the Anthropic answer as received, not the client's.
func TestWireRecordOfTranslatedCall(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	resp, out := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`))
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), out)
	}
	c := p.rec.next(t)
	a := c.Attempts[0]
	if a.Sent == nil || !bytes.Equal(a.Sent.Body, up.last().body) {
		t.Fatalf("sent body %q, the upstream got %q", a.Sent.Body, up.last().body)
	}
	if gjson.GetBytes(a.Sent.Body, "max_tokens").Int() == 0 || !strings.HasSuffix(a.URL, "/v1/messages") {
		t.Errorf("sent %s %q: want the Anthropic request", a.URL, a.Sent.Body)
	}
	if !bytes.Contains(a.Sent.HeaderBlock, []byte("anthropic-version: 2023-06-01")) && !bytes.Contains(a.Sent.HeaderBlock, []byte("Anthropic-Version: 2023-06-01")) {
		t.Errorf("sent headers %q lack anthropic-version", a.Sent.HeaderBlock)
	}
	if gjson.GetBytes(a.Received.Body, "type").String() != "message" || gjson.GetBytes(c.Response.Body, "object").String() != "chat.completion" {
		t.Errorf("received %q, client got %q: want Anthropic upstream, OpenAI client", a.Received.Body, c.Response.Body)
	}
}

// Streams: a same-format stream's upstream events are the client's (shared);
// a translated stream keeps the upstream's own events.
func TestWireRecordOfStreams(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[],"stream":true}`))
	c := p.rec.next(t)
	r := c.Attempts[0].Received
	if r == nil || len(r.Body) == 0 || !bytes.Equal(r.Body, c.Events) || &r.Body[0] != &c.Events[0] {
		t.Fatalf("same-format stream: received %q, client events %q: want the same bytes, shared", r.Body, c.Events)
	}
	p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"claude-sonnet-4-5","messages":[],"stream":true}`))
	c = p.rec.next(t)
	r = c.Attempts[0].Received
	if r == nil || !bytes.Contains(r.Body, []byte("event: message_start")) || bytes.Contains(c.Events, []byte("event: message_start")) {
		t.Errorf("translated stream: received %q: want the Anthropic events", r.Body)
	}
}

// A key the client sent for a client_keys provider never stays in the wire
// record, wherever the upstream echoed it.
func TestWireRecordRedactsClientKey(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	for i := range cfg.Providers {
		if cfg.Providers[i].Name == "oai" {
			yes := true
			cfg.Providers[i].ClientKeys = &yes
		}
	}
	p := newTestProxy(t, cfg, keys{})
	const key = "sk-client-own-key-0123456789"
	up.then(errStep(401, `{"error":{"message":"Incorrect API key provided: `+key+`"}}`, "x-echo", key))
	p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`), "Authorization", "Bearer "+key)
	c := p.rec.next(t)
	a := c.Attempts[0]
	if a.KeySource != "client" || a.KeyMask != "sk-…6789" {
		t.Errorf("key source %q mask %q", a.KeySource, a.KeyMask)
	}
	for _, b := range [][]byte{a.Sent.HeaderBlock, a.Sent.Body, a.Received.HeaderBlock, a.Received.Body} {
		if bytes.Contains(b, []byte(key)) {
			t.Errorf("the client's key is in the wire record: %q", b)
		}
	}
}

// The Tries count (attempts sent) and X-Gatehouse-Attempts agree for a
// retried call, a fallback and a call that skipped a provider whose circuit is
// open; the skip and the failure that opened the circuit are in the timeline.
func TestTriesMatchAttemptsHeader(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, `
[[route]]
model = "smart"
targets = ["ant/claude-sonnet-4-5", "oai/gpt-4.1"]
`)
	cfg.Retry.CircuitFailures = 3
	cfg.Retry.CircuitCooldown.Duration = time.Minute
	p := newTestProxy(t, cfg, nil)
	check := func(name string, wantTries int) *Call {
		t.Helper()
		resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"smart","max_tokens":5,"messages":[]}`))
		if resp.StatusCode() != 200 {
			t.Fatalf("%s: status %d: %s", name, resp.StatusCode(), body)
		}
		c := p.rec.next(t)
		tries := 0 // store.Call.Tries: the attempts not skipped
		for _, a := range c.Attempts {
			if a.Class != ClassCircuitOpen {
				tries++
			}
		}
		h := string(resp.Header.Peek("X-Gatehouse-Attempts"))
		if h != strconv.Itoa(tries) || tries != wantTries {
			t.Errorf("%s: X-Gatehouse-Attempts %s, tries %d, want both %d (attempts %+v)", name, h, tries, wantTries, c.Attempts)
		}
		return c
	}
	overloaded := `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
	up.then(errStep(529, overloaded))
	check("retried", 2)
	// Three failures in a row open ant's circuit: the fallback answers.
	up.then(errStep(529, overloaded), errStep(529, overloaded), errStep(529, overloaded))
	c := check("fallback", 4)
	opened := c.Attempts[2]
	if !opened.CircuitOpened || opened.CircuitUntil.Before(time.Now().Add(50*time.Second)) || c.Attempts[3].Provider != "oai" ||
		c.Attempts[0].CircuitOpened || c.Attempts[1].CircuitOpened {
		t.Errorf("fallback: attempts %+v, want the third failure to open ant's circuit for a minute, then oai", c.Attempts)
	}
	c = check("circuit skipped", 1)
	if len(c.Attempts) != 2 || c.Attempts[0].Class != ClassCircuitOpen || c.Attempts[0].CircuitUntil.IsZero() || c.Attempts[0].Sent != nil || c.Attempts[0].Method != "" {
		t.Errorf("skipped: attempts %+v, want ant skipped (circuit open until a time), then oai", c.Attempts)
	}
}

// rawUpstream answers each request on a real socket with the response bytes
// given, as they are (fasthttp's server would set its own Date).
func rawUpstream(t *testing.T, responses ...string) string {
	t.Helper()
	ln := loopbackListener(t)
	go func() {
		for _, r := range responses {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			req := fasthttp.AcquireRequest()
			_ = req.Read(bufio.NewReader(conn))
			fasthttp.ReleaseRequest(req)
			_, _ = conn.Write([]byte(r))
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

// The received headers are the upstream's: its own Date, not the local
// clock's, and none where it sent none.
func TestWireRecordKeepsUpstreamDate(t *testing.T) {
	const body = `{"error":{"message":"down"}}`
	resp := func(date string) string {
		return "HTTP/1.1 502 Bad Gateway\r\n" + date + "Content-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
	}
	addr := rawUpstream(t, resp("Date: Tue, 01 Jan 2030 00:00:00 GMT\r\n"), resp(""))
	cfg := testConfig(newFakeUpstream(t), "")
	cfg.Retry.Attempts = 2
	for i := range cfg.Providers {
		if cfg.Providers[i].Name == "oai" {
			cfg.Providers[i].BaseURL = "http://" + addr + "/v1"
		}
	}
	p := newTestProxy(t, cfg, nil)
	p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`))
	c := p.rec.next(t)
	if len(c.Attempts) != 2 {
		t.Fatalf("%d attempts, want 2", len(c.Attempts))
	}
	if r := c.Attempts[0].Received.HeaderBlock; bytes.Count(r, []byte("Date: ")) != 1 || !bytes.Contains(r, []byte("Date: Tue, 01 Jan 2030 00:00:00 GMT\n")) {
		t.Errorf("received headers %q: want the upstream's Date once", r)
	}
	if r := c.Attempts[1].Received.HeaderBlock; bytes.Contains(r, []byte("Date: ")) {
		t.Errorf("received headers %q: the upstream sent no Date", r)
	}
}

// The client's request is captured as it came over the wire: its headers in
// the client's own spelling and order, the credential blanked, the body capped;
// the block and the body share one allocation without overlapping. A request
// built in code (no wire block) is captured from its parsed headers.
func TestCaptureRequestFromTheWire(t *testing.T) {
	var req fasthttp.Request
	wire := "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nx-trace: t-1\r\nAuthorization: Bearer sk-secret-0123\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n0123456789"
	if err := req.Read(bufio.NewReader(strings.NewReader(wire))); err != nil {
		t.Fatal(err)
	}
	block, body, cut := captureRequest(&req.Header, req.Body(), 4)
	want := "Host: 127.0.0.1\nx-trace: t-1\nAuthorization: [REDACTED]\nContent-Type: application/json\nContent-Length: 10\n"
	if string(block) != want || string(body) != "0123" || !cut {
		t.Fatalf("block %q body %q cut %v", block, body, cut)
	}
	if cap(body) != len(body) || cap(block) != len(block) {
		t.Errorf("capture slices have room to grow into each other: body %d/%d block %d/%d", len(body), cap(body), len(block), cap(block))
	}

	var folded fasthttp.Request
	wire = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key:\r\n sk-folded:0123\r\nX-Note: one\r\n\ttwo\r\nContent-Length: 2\r\n\r\n{}"
	if err := folded.Read(bufio.NewReader(strings.NewReader(wire))); err != nil {
		t.Fatal(err)
	}
	block, body, _ = captureRequest(&folded.Header, folded.Body(), 0)
	if bytes.Contains(block, []byte("sk-folded")) || !bytes.Contains(block, []byte("X-Api-Key: [REDACTED]\n")) {
		t.Errorf("a folded credential header escaped the blanking: %q", block)
	}
	if !bytes.Contains(block, []byte("X-Note: one two\n")) || string(body) != "{}" {
		t.Errorf("a folded header was not joined into one value: block %q body %q", block, body)
	}

	var built fasthttp.Request
	built.Header.SetMethod("POST")
	built.Header.Set("Authorization", "Bearer sk-secret-0123")
	built.SetBodyString(`{}`)
	block, body, cut = captureRequest(&built.Header, built.Body(), 0)
	if !bytes.Contains(block, []byte("Authorization: [REDACTED]\n")) || string(body) != "{}" || cut {
		t.Fatalf("built request: block %q body %q cut %v", block, body, cut)
	}
}
