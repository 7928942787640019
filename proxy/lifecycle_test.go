package proxy

import (
	"bytes"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Issue 19.2: a rate limit Gatehouse will not wait out goes back intact.
func TestLongRateLimitGoesBackToTheClient(t *testing.T) {
	for _, tc := range []struct{ name, path, body, wantType string }{
		{"same format", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[]}`, "requests"},
		{"translated", "/v1/messages", `{"model":"gpt-4.1","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "rate_limit_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeUpstream(t)
			p := newTestProxy(t, testConfig(up, ""), nil)
			up.then(errStep(429, `{"error":{"message":"Rate limit reached for gpt-4.1","type":"requests","code":"rate_limit_exceeded"}}`,
				"Retry-After", "20", "x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "20s", "x-request-id", "req_abc"))
			resp, body := p.do(t, "POST", tc.path, []byte(tc.body))
			if resp.StatusCode() != 429 {
				t.Fatalf("status %d, want the upstream's 429: %s", resp.StatusCode(), body)
			}
			for name, want := range map[string]string{"Retry-After": "20", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s", "x-request-id": "req_abc"} {
				if got := string(resp.Header.Peek(name)); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if v := string(resp.Header.Peek("x-should-retry")); v == "false" {
				t.Errorf("x-should-retry: false tells the SDK not to wait out a rate limit Gatehouse did not retry")
			}
			if !strings.Contains(string(body), tc.wantType) || !strings.Contains(string(body), "Rate limit reached") {
				t.Errorf("body not the upstream's error in the client's format: %s", body)
			}
			if n := len(up.requests()); n != 1 {
				t.Errorf("upstream saw %d requests, want 1", n)
			}
		})
	}
}

// Issue 19.4: a client's key goes only to a provider of its header's format
// that accepts client keys, and never into the record.
func TestClientKeyGoesOnlyWhereItBelongs(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name       string
		clientKeys bool
		model      string
		header     string
		wantSent   bool
	}{
		{"bearer to anthropic format", true, "claude-sonnet-4-5", "Authorization", false},
		{"bearer to an openai-compatible third party", false, "gpt-4.1", "Authorization", false},
		{"bearer to openai format that accepts it", true, "gpt-4.1", "Authorization", true},
		{"x-api-key to anthropic format that accepts it", true, "claude-sonnet-4-5", "x-api-key", true},
		{"x-api-key to openai format", true, "gpt-4.1", "x-api-key", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeUpstream(t)
			cfg := testConfig(up, "")
			for _, name := range []string{"oai", "ant"} {
				p, _ := cfg.Provider(name)
				if tc.clientKeys {
					p.ClientKeys = &yes
				}
			}
			p := newTestProxy(t, cfg, keys{})
			value := "sk-client-secret-0123456789"
			if tc.header == "Authorization" {
				value = "Bearer " + value
			}
			resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"`+tc.model+`","messages":[{"role":"user","content":"hi"}]}`), tc.header, value)
			sent := false
			for _, r := range up.requests() {
				for _, v := range r.headers {
					sent = sent || strings.Contains(v, "sk-client-secret")
				}
			}
			if sent != tc.wantSent {
				t.Fatalf("client key sent upstream = %v, want %v (status %d %s)", sent, tc.wantSent, resp.StatusCode(), body)
			}
			if !tc.wantSent && resp.StatusCode() != 401 {
				t.Errorf("status %d, want 401 naming the missing key: %s", resp.StatusCode(), body)
			}
		})
	}
}

func TestClientKeyRedactedFromRecordEvenWhenEchoed(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	yes := true
	prov, _ := cfg.Provider("oai")
	prov.ClientKeys = &yes
	p := newTestProxy(t, cfg, keys{})
	const key = "sk-proj-echoed-4242424242"
	up.then(errStep(401, `{"error":{"message":"Incorrect API key provided: `+key+`.","type":"invalid_request_error","code":"invalid_api_key"}}`, "x-echo", key))
	resp, _ := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[],"note":"`+key+`"}`), "Authorization", "Bearer "+key)
	if resp.StatusCode() != 401 {
		t.Fatalf("status %d, want the upstream's 401", resp.StatusCode())
	}
	c := p.rec.next(t)
	var all bytes.Buffer
	all.Write(c.Request.HeaderBlock)
	all.Write(c.Request.Body)
	all.Write(c.Response.HeaderBlock)
	all.Write(c.Response.Body)
	all.Write(c.Events)
	all.WriteString(c.Error)
	for _, a := range c.Attempts {
		all.WriteString(a.Error)
	}
	if strings.Contains(all.String(), key) {
		t.Errorf("the client's key is in the record:\n%s", all.String())
	}
	if !strings.Contains(c.Error, "[REDACTED]") {
		t.Errorf("record error %q: want the echoed key replaced", c.Error)
	}
}

// Issue 19.5: a target without a usable key is skipped; a 401 moves on.
func TestFallbackSurvivesMissingAndWrongKeys(t *testing.T) {
	route := `
[[route]]
model = "smart"
targets = ["oai/gpt-4.1", "ant/claude-sonnet-4-5"]
`
	t.Run("placeholder key and no provider key", func(t *testing.T) {
		up := newFakeUpstream(t)
		p := newTestProxy(t, testConfig(up, route), keys{"ant/": "sk-ant-secret"})
		resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"smart","messages":[{"role":"user","content":"hi"}]}`), "Authorization", "Bearer gatehouse")
		if resp.StatusCode() != 200 {
			t.Fatalf("status %d, want the fallback's answer: %s", resp.StatusCode(), body)
		}
		c := p.rec.next(t)
		if len(c.Attempts) != 2 || c.Attempts[0].Class != ClassAuth || c.Attempts[0].Status != 0 || c.Attempts[1].Provider != "ant" {
			t.Errorf("attempts %+v, want oai skipped (auth, no request) then ant", c.Attempts)
		}
		if n := len(up.requests()); n != 1 || !strings.HasSuffix(up.last().path, "/messages") {
			t.Errorf("upstream saw %d requests, want only ant's", n)
		}
	})
	t.Run("401 moves to the next target", func(t *testing.T) {
		up := newFakeUpstream(t)
		p := newTestProxy(t, testConfig(up, route), nil)
		up.then(errStep(401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
		resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"smart","messages":[{"role":"user","content":"hi"}]}`))
		if resp.StatusCode() != 200 {
			t.Fatalf("status %d, want the fallback's answer: %s", resp.StatusCode(), body)
		}
		if c := p.rec.next(t); len(c.Attempts) != 2 || c.Attempts[0].Status != 401 {
			t.Errorf("attempts %+v, want 401 then ok", c.Attempts)
		}
	})
	t.Run("final error names every keyless target", func(t *testing.T) {
		up := newFakeUpstream(t)
		p := newTestProxy(t, testConfig(up, route), keys{})
		resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"smart","messages":[]}`), "Authorization", "Bearer gatehouse")
		if resp.StatusCode() != 401 {
			t.Fatalf("status %d, want 401", resp.StatusCode())
		}
		for _, want := range []string{"oai", "ant", "gatehouse keys set oai", "gatehouse keys set ant"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("error lacks %q: %s", want, body)
			}
		}
		if n := len(up.requests()); n != 0 {
			t.Errorf("upstream saw %d requests without keys", n)
		}
	})
}

// Issue 19.6: non-streaming calls wait response_timeout, once.
func TestLongNonStreamingAnswersAreWaitedForOnce(t *testing.T) {
	body := []byte(`{"model":"gpt-4.1","messages":[]}`)
	t.Run("longer than first_byte_timeout", func(t *testing.T) {
		up := newFakeUpstream(t)
		cfg := testConfig(up, "")
		cfg.Retry.FirstByteTimeout.Duration = 100 * time.Millisecond
		p := newTestProxy(t, cfg, nil)
		up.then(step{hang: 400 * time.Millisecond, body: readFixture(t, "openai/chat/response_text.json")})
		if resp, b := p.do(t, "POST", "/v1/chat/completions", body); resp.StatusCode() != 200 {
			t.Fatalf("status %d, want 200: %s", resp.StatusCode(), b)
		}
		if n := len(up.requests()); n != 1 {
			t.Errorf("upstream saw %d requests, want 1", n)
		}
	})
	for _, retry := range []bool{false, true} {
		t.Run("response_timeout retry_timeouts="+strconv.FormatBool(retry), func(t *testing.T) {
			up := newFakeUpstream(t)
			cfg := testConfig(up, "")
			cfg.Retry.ResponseTimeout.Duration = 150 * time.Millisecond
			cfg.Retry.RetryTimeouts = retry
			p := newTestProxy(t, cfg, nil)
			up.then(step{hang: 500 * time.Millisecond}, step{hang: 500 * time.Millisecond}, step{hang: 500 * time.Millisecond})
			resp, b := p.do(t, "POST", "/v1/chat/completions", body)
			if resp.StatusCode() != 504 || !strings.Contains(string(b), "response_timeout") {
				t.Fatalf("status %d, want 504 naming response_timeout: %s", resp.StatusCode(), b)
			}
			want := 1
			if retry {
				want = 3
			}
			if n := len(up.requests()); n != want {
				t.Errorf("upstream saw %d requests, want %d", n, want)
			}
		})
	}
	t.Run("stream first_byte_timeout is not re-sent", func(t *testing.T) {
		up := newFakeUpstream(t)
		cfg := testConfig(up, "")
		cfg.Retry.FirstByteTimeout.Duration = 150 * time.Millisecond
		p := newTestProxy(t, cfg, nil)
		up.then(step{hang: 500 * time.Millisecond})
		resp, b := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[],"stream":true}`))
		if resp.StatusCode() != 504 {
			t.Fatalf("status %d, want 504: %s", resp.StatusCode(), b)
		}
		if n := len(up.requests()); n != 1 {
			t.Errorf("upstream saw %d requests, want 1", n)
		}
	})
}

// Issue 19.7: a client that hangs up stops the attempt, the backoff and the
// retries.
func TestClientHangUpStopsTheWork(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		steps []step
	}{
		{"during the attempt", "", []step{{hang: 3 * time.Second}, {hang: 3 * time.Second}}},
		{"during the backoff", "", []step{errStep(503, `{"error":{"message":"busy"}}`, "retry-after-ms", "3000")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeUpstream(t)
			cfg := testConfig(up, tc.extra)
			cfg.Retry.MaxDelay.Duration = 10 * time.Second
			p := newTestProxy(t, cfg, nil)
			up.then(tc.steps...)
			conn, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			b := `{"model":"gpt-4.1","messages":[]}`
			if _, err := conn.Write([]byte("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n" + b)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			conn.Close()
			c := p.rec.next(t)
			if c.Outcome != OutcomeClientCancelled {
				t.Errorf("outcome %s, want client_cancelled", c.Outcome)
			}
			if c.Duration > 2*time.Second {
				t.Errorf("the call ran %v after a hang-up at 300ms", c.Duration)
			}
			if n := len(up.requests()); n != 1 {
				t.Errorf("upstream saw %d requests, want 1 (no retry after the hang-up)", n)
			}
		})
	}
}

// panicKeys is a KeySource that panics: a stand-in for any bug on the request path.
type panicKeys struct{}

func (panicKeys) Secret(string, string) (string, bool) { panic("injected panic in the key source") }

// panicRecorder panics on every record.
type panicRecorder struct{ n chan struct{} }

func (r panicRecorder) Record(*Call) {
	r.n <- struct{}{}
	panic("injected panic in the recorder")
}

// syncBuffer is a log sink for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Issue 19.8: a panic never takes the process down.
func TestPanicsAreRecovered(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	t.Run("request path", func(t *testing.T) {
		var log syncBuffer
		rec := newRecorder()
		p := newTestProxyOpts(t, cfg, Options{Keys: panicKeys{}, Recorder: rec, Logger: slog.New(slog.NewTextHandler(&log, nil))})
		resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`))
		if resp.StatusCode() != 500 || jsonField(t, body, "type") != "error" || jsonField(t, body, "error", "type") != "api_error" {
			t.Fatalf("status %d %s: want a 500 in Anthropic's error shape", resp.StatusCode(), body)
		}
		c := rec.next(t)
		if len(c.Attempts) == 0 || c.Attempts[len(c.Attempts)-1].Class != ClassProxy || strings.Contains(c.Error, "goroutine") {
			t.Errorf("record %+v: want a proxy-class attempt and no stack", c.Attempts)
		}
		if !strings.Contains(log.String(), "injected panic") || !strings.Contains(log.String(), "goroutine") {
			t.Errorf("the stack is not in the log:\n%s", log.String())
		}
	})
	t.Run("recorder and stream writer", func(t *testing.T) {
		var log syncBuffer
		rec := panicRecorder{n: make(chan struct{}, 8)}
		p := newTestProxyOpts(t, cfg, Options{Keys: keys{"oai/": "k"}, Recorder: rec, Logger: slog.New(slog.NewTextHandler(&log, nil))})
		for _, stream := range []string{"false", "true"} {
			resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[],"stream":`+stream+`}`))
			if resp.StatusCode() != 200 || len(body) == 0 {
				t.Fatalf("stream=%s: status %d %s", stream, resp.StatusCode(), body)
			}
			select {
			case <-rec.n:
			case <-time.After(5 * time.Second):
				t.Fatal("no record")
			}
		}
		if n := strings.Count(log.String(), "injected panic in the recorder"); n < 2 {
			t.Errorf("%d recorder panics logged, want 2:\n%s", n, log.String())
		}
	})
}
