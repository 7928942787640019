package proxy

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func errStep(status int, body string, headers ...string) step {
	h := map[string]string{}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return step{status: status, body: []byte(body), headers: h}
}

func TestRetriesGatewayErrorsThenSucceeds(t *testing.T) {
	for _, status := range []int{408, 429, 500, 502, 503, 504, 529} {
		t.Run(http(status), func(t *testing.T) {
			up := newFakeUpstream(t)
			p := newTestProxy(t, testConfig(up, ""), nil)
			up.then(errStep(status, `{"error":{"message":"boom","type":"server_error"}}`), errStep(status, `{"error":{"message":"boom"}}`))
			resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`))
			if resp.StatusCode() != 200 {
				t.Fatalf("status %d after retries: %s", resp.StatusCode(), body)
			}
			if a := string(resp.Header.Peek("X-Gatehouse-Attempts")); a != "3" {
				t.Errorf("X-Gatehouse-Attempts = %s, want 3", a)
			}
			c := p.rec.next(t)
			if len(c.Attempts) != 3 {
				t.Fatalf("recorded %d attempts, want 3", len(c.Attempts))
			}
			if c.Attempts[0].Status != status || c.Attempts[0].Class != classifyStatus(status) || c.Attempts[2].Status != 200 {
				t.Errorf("attempts = %+v", c.Attempts)
			}
			if c.Attempts[0].Delay != 0 || c.Attempts[1].Delay > 50*time.Millisecond {
				t.Errorf("delays %v %v: first must be 0, later ≤ max_delay", c.Attempts[0].Delay, c.Attempts[1].Delay)
			}
		})
	}
}

func http(status int) string { return "status_" + strconv.Itoa(status) }

func TestClientErrorsAreNotRetried(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	up.then(errStep(400, `{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`))
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`))
	if resp.StatusCode() != 400 {
		t.Fatalf("status %d, want the upstream's 400", resp.StatusCode())
	}
	if got := jsonField(t, body, "error", "code"); got != "context_length_exceeded" {
		t.Errorf("error body not passed through: %s", body)
	}
	if n := len(up.requests()); n != 1 {
		t.Errorf("upstream saw %d requests, want 1 (no retry on 400)", n)
	}
	if c := p.rec.next(t); len(c.Attempts) != 1 || c.Attempts[0].Class != ClassBadRequest || c.Outcome != OutcomeError {
		t.Errorf("record %s, attempts %+v: want one bad_request attempt", c.Outcome, c.Attempts)
	}
}

func TestRetryAfterHonouredOrSkipsToFallback(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, `
[[route]]
model = "smart"
targets = ["ant/claude-sonnet-4-5", "oai/gpt-4.1"]
`)
	p := newTestProxy(t, cfg, nil)

	// Retry-After within max_delay: waited, same target.
	up.then(errStep(429, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`, "retry-after-ms", "30"))
	start := time.Now()
	resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"smart","max_tokens":5,"messages":[]}`))
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), body)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Errorf("retry-after-ms 30 was not waited")
	}
	c := p.rec.next(t)
	if c.Attempts[1].Provider != "ant" || c.Attempts[1].Delay != 30*time.Millisecond {
		t.Errorf("second attempt %+v, want ant after 30ms", c.Attempts[1])
	}

	// Retry-After beyond max_delay (50ms): skip to the next target at once.
	up.then(errStep(429, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`, "Retry-After", "60"))
	resp, body = p.do(t, "POST", "/v1/messages", []byte(`{"model":"smart","max_tokens":5,"messages":[]}`))
	c = p.rec.next(t)
	if len(c.Attempts) != 2 || c.Attempts[1].Provider != "oai" {
		t.Fatalf("attempts %+v, want ant then the fallback oai", c.Attempts)
	}
	// oai speaks another format: the fallback's answer is translated back.
	if resp.StatusCode() != 200 || jsonField(t, body, "type") != "message" {
		t.Errorf("fallback answer: status %d: %s", resp.StatusCode(), body)
	}
}

func TestExhaustedRetriesAnswerInClientFormat(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	overloaded := `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
	for i := 0; i < 3; i++ {
		up.then(errStep(529, overloaded))
	}
	resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`))
	if resp.StatusCode() != 529 {
		t.Fatalf("status %d, want the upstream's 529", resp.StatusCode())
	}
	if got := jsonField(t, body, "error", "type"); got != "overloaded_error" {
		t.Errorf("body %s, want an Anthropic overloaded_error", body)
	}
	if v := string(resp.Header.Peek("x-should-retry")); v != "false" {
		t.Errorf("x-should-retry = %q, want false", v)
	}
	c := p.rec.next(t)
	if c.Outcome != OutcomeError || len(c.Attempts) != 3 || c.Attempts[2].Class != ClassOverloaded {
		t.Errorf("record %s with %d attempts (%+v)", c.Outcome, len(c.Attempts), c.Attempts)
	}
}

func TestNetworkErrorsRetriedThen502(t *testing.T) {
	up := newFakeUpstream(t)
	dead := deadAddr(t)
	cfg := testConfig(up, `
[[provider]]
name = "down"
format = "openai"
base_url = "http://`+dead+`/v1"
`)
	p := newTestProxy(t, cfg, keys{"down/": "k"})
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"down/m","messages":[]}`))
	if resp.StatusCode() != 502 {
		t.Fatalf("status %d, want 502: %s", resp.StatusCode(), body)
	}
	msg, _ := jsonField(t, body, "error", "message").(string)
	if !strings.Contains(msg, "connection refused") || !strings.Contains(msg, dead) {
		t.Errorf("message %q should say connection refused at %s", msg, dead)
	}
	c := p.rec.next(t)
	if len(c.Attempts) != 3 || c.Attempts[0].Class != ClassRefused {
		t.Errorf("attempts %+v, want 3 refused", c.Attempts)
	}
}

func TestResetBeforeHeadersIsRetried(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	up.then(step{reset: true})
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`))
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), body)
	}
	c := p.rec.next(t)
	if len(c.Attempts) != 2 || c.Attempts[0].Class != ClassReset {
		t.Errorf("attempts %+v, want reset then ok", c.Attempts)
	}
}

func TestFirstByteTimeoutThen504(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	cfg.Retry.FirstByteTimeout.Duration = 150 * time.Millisecond
	cfg.Retry.Attempts = 2
	cfg.Retry.RetryTimeouts = true
	p := newTestProxy(t, cfg, nil)
	up.then(step{hang: 600 * time.Millisecond}, step{hang: 600 * time.Millisecond})
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[],"stream":true}`))
	if resp.StatusCode() != 504 {
		t.Fatalf("status %d, want 504: %s", resp.StatusCode(), body)
	}
	c := p.rec.next(t)
	if len(c.Attempts) != 2 || c.Attempts[0].Class != ClassFirstByteTimeout {
		t.Errorf("attempts %+v, want 2 first_byte_timeout", c.Attempts)
	}
}

func TestCircuitOpensAndFallbacksGoFirst(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, `
[[route]]
model = "smart"
targets = ["oai/gpt-4.1", "oai/gpt-fallback"]
`)
	cfg.Retry.CircuitFailures = 5
	cfg.Retry.CircuitCooldown.Duration = 300 * time.Millisecond
	cfg.Retry.Attempts = 1
	dead := deadAddr(t)
	cfg.Providers = append(cfg.Providers, cfg.Providers[len(cfg.Providers)-1])
	down := &cfg.Providers[len(cfg.Providers)-1]
	down.Name, down.Format, down.BaseURL = "down", "openai", "http://"+dead+"/v1"
	cfg.Routes[0].Targets = []string{"down/m", "oai/gpt-4.1"}
	var events []bool
	p := newTestProxyWith(t, cfg, keys{"down/": "k", "oai/": "k"}, func(name string, open bool) {
		if name == "down" {
			events = append(events, open)
		}
	})
	for i := 0; i < 5; i++ {
		resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"smart","messages":[]}`))
		if resp.StatusCode() != 200 {
			t.Fatalf("call %d: status %d: %s", i, resp.StatusCode(), body)
		}
		p.rec.next(t)
	}
	// Circuit open: "down" is skipped without a connection attempt.
	p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"smart","messages":[]}`))
	c := p.rec.next(t)
	if c.Attempts[0].Class != ClassCircuitOpen || c.Attempts[1].Provider != "oai" {
		t.Errorf("attempts %+v, want circuit_open then oai", c.Attempts)
	}
	if len(events) != 1 || !events[0] {
		t.Errorf("OnCircuit events %v, want one open", events)
	}
	// After the cooldown one probe goes through (and fails again here).
	time.Sleep(350 * time.Millisecond)
	p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"smart","messages":[]}`))
	c = p.rec.next(t)
	if c.Attempts[0].Class != ClassRefused {
		t.Errorf("after cooldown, first attempt %+v, want a probe (refused)", c.Attempts[0])
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, header, value string
		want                time.Duration
	}{
		{"ms", "retry-after-ms", "1500", 1500 * time.Millisecond},
		{"seconds", "Retry-After", "7", 7 * time.Second},
		{"date", "Retry-After", "Mon, 23 Nov 2026 12:00:09 GMT", 9 * time.Second},
		{"past date", "Retry-After", "Mon, 23 Nov 2026 11:00:00 GMT", 0},
		{"garbage", "Retry-After", "soon", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h fasthttpResponseHeader
			h.Set(tc.header, tc.value)
			if got := retryAfter(&h, now); got != tc.want {
				t.Errorf("retryAfter(%s: %s) = %v, want %v", tc.header, tc.value, got, tc.want)
			}
		})
	}
}

func TestBackoffFullJitterBounds(t *testing.T) {
	cfg := testConfig(newFakeUpstream(t), "")
	r := &cfg.Retry
	r.BaseDelay.Duration, r.MaxDelay.Duration = 100*time.Millisecond, 250*time.Millisecond
	for n := 1; n <= 6; n++ {
		ceiling := min(r.MaxDelay.Duration, r.BaseDelay.Duration<<(n-1))
		var maxSeen time.Duration
		for i := 0; i < 500; i++ {
			d := backoff(r, n)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(n=%d) = %v, outside [0, %v]", n, d, ceiling)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < ceiling/2 {
			t.Errorf("backoff(n=%d) never above %v in 500 draws: not full jitter up to %v", n, maxSeen, ceiling)
		}
	}
}

func TestUpstreamGarbage(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)

	// A gateway's HTML error page: retried, then relayed as a client-format error
	// quoting it.
	html := `<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>`
	for i := 0; i < 3; i++ {
		up.then(step{status: 502, body: []byte(html), headers: map[string]string{"Content-Type": "text/html"}})
	}
	resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`))
	if resp.StatusCode() != 502 || jsonField(t, body, "error", "type") != "api_error" {
		t.Fatalf("status %d body %s, want an Anthropic api_error with 502", resp.StatusCode(), body)
	}
	if msg, _ := jsonField(t, body, "error", "message").(string); !strings.Contains(msg, "502 Bad Gateway") {
		t.Errorf("message %q should quote the upstream's page", msg)
	}

	// A 200 that is not JSON, on a call that needs translation: a clear 502 in
	// the client's format, not a crash or a broken body.
	up.then(step{body: []byte("this is not json")})
	resp, body = p.do(t, "POST", "/v1/messages", []byte(`{"model":"oai/gpt-4.1","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`))
	if resp.StatusCode() != 502 || jsonField(t, body, "type") != "error" {
		t.Errorf("translated garbage: status %d body %s, want a 502 Anthropic error", resp.StatusCode(), body)
	}
	p.rec.next(t) // the gateway-page call
	c := p.rec.next(t)
	if c.Outcome != OutcomeError || c.Attempts[len(c.Attempts)-1].Class != ClassProxy {
		t.Errorf("record %s, attempts %+v: want an error with class proxy", c.Outcome, c.Attempts)
	}
}
