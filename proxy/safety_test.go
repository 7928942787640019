package proxy

import (
	"bytes"
	"strings"
	"testing"
)

func TestKeyInjectionReplacesClientCredentials(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	for _, tc := range []struct {
		name, path, body string
		send             []string
		wantHeader       string
		wantValue        string
		absent           []string
	}{
		{"openai bearer", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[]}`,
			[]string{"Authorization", "Bearer sk-client", "api-key", "client", "x-api-key", "client"},
			"authorization", "Bearer sk-oai-secret", []string{"x-api-key", "api-key"}},
		{"anthropic x-api-key", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`,
			[]string{"x-api-key", "sk-ant-client", "Authorization", "Bearer x"},
			"x-api-key", "sk-ant-secret", []string{"authorization"}},
		{"gemini x-goog-api-key", "/v1beta/models/gem/gemini-2.5-flash:generateContent?key=client", `{"contents":[]}`,
			[]string{"x-goog-api-key", "client"},
			"x-goog-api-key", "AIza-gem-secret", []string{"authorization", "x-api-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := p.do(t, "POST", tc.path, []byte(tc.body), tc.send...)
			if resp.StatusCode() != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode(), body)
			}
			got := up.last()
			if got.headers[tc.wantHeader] != tc.wantValue {
				t.Errorf("upstream %s = %q, want %q", tc.wantHeader, got.headers[tc.wantHeader], tc.wantValue)
			}
			for _, h := range tc.absent {
				if v, ok := got.headers[h]; ok {
					t.Errorf("client credential header %s = %q reached the upstream", h, v)
				}
			}
			if strings.Contains(got.query, "key=") {
				t.Errorf("?key= reached the upstream: %q", got.query)
			}
		})
	}
}

func TestAnthropicVersionDefaultAndPassThroughHeaders(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	body := []byte(`{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`)
	p.do(t, "POST", "/v1/messages", body, "anthropic-beta", "tools-2024-04-04", "Connection", "keep-alive, X-Hop", "X-Hop", "secret-hop", "Keep-Alive", "timeout=5")
	got := up.last()
	if got.headers["anthropic-version"] != "2023-06-01" {
		t.Errorf("anthropic-version = %q, want the default 2023-06-01", got.headers["anthropic-version"])
	}
	if got.headers["anthropic-beta"] != "tools-2024-04-04" {
		t.Errorf("anthropic-beta did not pass: %q", got.headers["anthropic-beta"])
	}
	for _, h := range []string{"x-hop", "keep-alive"} {
		if _, ok := got.headers[h]; ok {
			t.Errorf("hop-by-hop header %s reached the upstream", h)
		}
	}
	p.do(t, "POST", "/v1/messages", body, "anthropic-version", "2024-01-01")
	if v := up.last().headers["anthropic-version"]; v != "2024-01-01" {
		t.Errorf("client's anthropic-version replaced: %q", v)
	}
}

func TestMissingKeyIs401NamingTheProvider(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	if p, ok := cfg.Provider("ant"); ok {
		p.KeyEnv = "GATEHOUSE_TEST_NO_SUCH_KEY"
	}
	p := newTestProxy(t, cfg, keys{})
	resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`))
	if resp.StatusCode() != 401 {
		t.Fatalf("status %d, want 401", resp.StatusCode())
	}
	if jsonField(t, body, "type") != "error" || jsonField(t, body, "error", "type") != "authentication_error" {
		t.Errorf("not an Anthropic authentication_error: %s", body)
	}
	msg, _ := jsonField(t, body, "error", "message").(string)
	for _, want := range []string{"ant", "gatehouse keys set ant", "GATEHOUSE_TEST_NO_SUCH_KEY"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream called %d times without a key", n)
	}
	// The client's own key is the last resort, where client_keys allows it.
	yes := true
	cfg2 := testConfig(up, "")
	if p, ok := cfg2.Provider("ant"); ok {
		p.KeyEnv, p.ClientKeys = "GATEHOUSE_TEST_NO_SUCH_KEY", &yes
	}
	p.Reload(cfg2)
	resp, _ = p.do(t, "POST", "/v1/messages", []byte(`{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`), "x-api-key", "sk-ant-own")
	if resp.StatusCode() != 200 || up.last().headers["x-api-key"] != "sk-ant-own" {
		t.Errorf("client key not used as last resort: status %d, key %q", resp.StatusCode(), up.last().headers["x-api-key"])
	}
}

func TestKeyFromEnvWhenKeychainHasNone(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	prov, _ := cfg.Provider("oai")
	prov.KeyEnv = "GATEHOUSE_TEST_OAI_KEY"
	t.Setenv("GATEHOUSE_TEST_OAI_KEY", "sk-from-env")
	p := newTestProxy(t, cfg, keys{})
	p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`), "Authorization", "Bearer sk-client")
	if v := up.last().headers["authorization"]; v != "Bearer sk-from-env" {
		t.Errorf("authorization = %q, want the env key", v)
	}
}

func TestBadInputAnswersInClientFormat(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	cfg.MaxBodyBytes = 1000
	p := newTestProxy(t, cfg, nil)
	big := `{"model":"gpt-4.1","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`
	for _, tc := range []struct {
		name, path, body string
		headers          []string
		status           int
		check            func(t *testing.T, body []byte)
	}{
		{"malformed json openai", "/v1/chat/completions", `{"model":"gpt-4.1",`, nil, 400, openAIError("invalid_request_error")},
		{"malformed json anthropic", "/v1/messages", `{"model":`, nil, 400, anthropicError("invalid_request_error")},
		{"malformed json gemini", "/v1beta/models/gemini-x:generateContent", `nope`, nil, 400, geminiError("INVALID_ARGUMENT")},
		{"unknown model openai", "/v1/chat/completions", `{"model":"mystery-1","messages":[]}`, nil, 404, openAIError("not_found_error")},
		{"unknown model anthropic", "/v1/messages", `{"model":"mystery-1","messages":[]}`, nil, 404, anthropicError("not_found_error")},
		{"oversized body", "/v1/chat/completions", big, nil, 413, openAIError("invalid_request_error")},
		{"oversized anthropic", "/v1/messages", big, nil, 413, anthropicError("request_too_large")},
		{"dns rebinding host", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[]}`, []string{"Host", "evil.example:8765"}, 403, openAIError("permission_error")},
		{"foreign origin", "/v1/messages", `{"model":"claude-sonnet-4-5","messages":[]}`, []string{"Origin", "https://evil.example"}, 403, anthropicError("permission_error")},
		{"unknown endpoint", "/v1/nothing", `{}`, nil, 404, openAIError("not_found_error")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := p.do(t, "POST", tc.path, []byte(tc.body), tc.headers...)
			if resp.StatusCode() != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode(), tc.status, body)
			}
			tc.check(t, body)
			if len(resp.Header.Peek("X-Gatehouse-Call")) != 26 || string(resp.Header.Peek("X-Gatehouse-Attempts")) != "0" {
				t.Errorf("X-Gatehouse-Call %q, X-Gatehouse-Attempts %q: every response carries them", resp.Header.Peek("X-Gatehouse-Call"), resp.Header.Peek("X-Gatehouse-Attempts"))
			}
		})
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("bad input reached the upstream %d times", n)
	}
}

func TestRequestsWithoutOriginAreNeverRefused(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	cfg.AllowOrigins = []string{"http://localhost:3000"}
	p := newTestProxy(t, cfg, nil)
	// The official Node SDKs send sec-fetch-mode: cors without an Origin.
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`), "sec-fetch-mode", "cors")
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), body)
	}
	resp, _ = p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`), "Origin", "http://localhost:3000")
	if resp.StatusCode() != 200 || string(resp.Header.Peek("Access-Control-Allow-Origin")) != "http://localhost:3000" {
		t.Errorf("allowed origin: status %d, ACAO %q", resp.StatusCode(), resp.Header.Peek("Access-Control-Allow-Origin"))
	}
	for _, host := range []string{"localhost:8765", "127.0.0.1:8765", "[::1]:8765"} {
		resp, _ = p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`), "Host", host)
		if resp.StatusCode() != 200 {
			t.Errorf("Host %s refused with %d", host, resp.StatusCode())
		}
	}
}

func TestHealthPauseAndNotImplementedPairs(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	resp, body := p.do(t, "GET", "/_gatehouse/health", nil)
	if resp.StatusCode() != 200 || jsonField(t, body, "status") != "ok" || jsonField(t, body, "version") != "test" {
		t.Errorf("health: %d %s", resp.StatusCode(), body)
	}
	p.SetPaused(true)
	resp, body = p.do(t, "POST", "/v1/messages", []byte(`{"model":"claude-sonnet-4-5","messages":[]}`))
	if resp.StatusCode() != 503 || !bytes.Contains(body, []byte("paused")) {
		t.Errorf("paused: %d %s", resp.StatusCode(), body)
	}
	p.SetPaused(false)
	// The Responses API is translated for providers that do not serve it.
	resp, body = p.do(t, "POST", "/v1/responses", []byte(`{"model":"ant/claude-sonnet-4-5","input":"hi"}`))
	if resp.StatusCode() != 200 || up.last().path != "/v1/messages" {
		t.Errorf("responses to anthropic: %d %s (path %s)", resp.StatusCode(), body, up.last().path)
	}
	resp, body = p.do(t, "POST", "/v1/responses", []byte(`{"model":"gpt-4.1","input":"hi"}`))
	if resp.StatusCode() != 200 || up.last().path != "/v1/responses" {
		t.Errorf("responses pass-through: %d %s (path %s)", resp.StatusCode(), body, up.last().path)
	}
	resp, body = p.do(t, "POST", "/v1/embeddings", []byte(`{"model":"gpt-4.1","input":"hi"}`))
	if resp.StatusCode() != 200 || up.last().path != "/v1/embeddings" {
		t.Errorf("embeddings pass-through: %d %s", resp.StatusCode(), body)
	}
	resp, body = p.do(t, "POST", "/v1/messages/count_tokens", []byte(`{"model":"oai/gpt-4.1","messages":[{"role":"user","content":"`+strings.Repeat("word ", 400)+`"}]}`))
	if n, _ := jsonField(t, body, "input_tokens").(float64); resp.StatusCode() != 200 || n < 400 || n > 700 || len(resp.Header.Peek("X-Gatehouse-Estimate")) == 0 {
		t.Errorf("count_tokens to an openai provider: %d %s, want an estimate near 500", resp.StatusCode(), body)
	}
	resp, body = p.do(t, "POST", "/v1/messages/count_tokens", []byte(`{"model":"claude-sonnet-4-5","messages":[]}`))
	if resp.StatusCode() != 200 || up.last().path != "/v1/messages/count_tokens" {
		t.Errorf("count_tokens pass-through: %d %s", resp.StatusCode(), body)
	}
}

func TestModelsListsAliasesAndProviderModels(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, `
[[route]]
model = "smart"
targets = ["oai/gpt-4.1"]
`), keys{"oai/": "k"})
	resp, body := p.do(t, "GET", "/v1/models", nil)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	for _, id := range []string{`"smart"`, `"oai/m1"`, `"oai/m2"`} {
		if !bytes.Contains(body, []byte(id)) {
			t.Errorf("model list lacks %s: %s", id, body)
		}
	}
	if bytes.Contains(body, []byte(`"ant/`)) {
		t.Errorf("provider without a key listed: %s", body)
	}
	n := len(up.requests())
	p.do(t, "GET", "/v1/models", nil)
	if len(up.requests()) != n {
		t.Errorf("model list not cached")
	}
}

func openAIError(typ string) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		t.Helper()
		if jsonField(t, b, "error", "type") != typ || jsonField(t, b, "error", "message") == "" {
			t.Errorf("want an OpenAI %s error, got %s", typ, b)
		}
	}
}

func anthropicError(typ string) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		t.Helper()
		if jsonField(t, b, "type") != "error" || jsonField(t, b, "error", "type") != typ {
			t.Errorf("want an Anthropic %s error, got %s", typ, b)
		}
	}
}

func geminiError(status string) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		t.Helper()
		if jsonField(t, b, "error", "status") != status {
			t.Errorf("want a Gemini %s error, got %s", status, b)
		}
	}
}

func TestRecordCarriesHeadersWithoutCredentials(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`),
		"Authorization", "Bearer sk-client-secret", "X-Trace", "t-1")
	c := p.rec.next(t)
	hs := c.Request.AllHeaders()
	found := map[string]string{}
	for _, h := range hs {
		found[strings.ToLower(h.Name)] = h.Value
	}
	if found["x-trace"] != "t-1" || found["authorization"] != "[REDACTED]" {
		t.Errorf("recorded request headers %v: want X-Trace kept and Authorization redacted", hs)
	}
	if bytes.Contains(c.Request.HeaderBlock, []byte("sk-client-secret")) || bytes.Contains(c.Response.HeaderBlock, []byte("sk-oai-secret")) {
		t.Errorf("a key reached the call record")
	}
	if len(c.Response.AllHeaders()) == 0 {
		t.Errorf("no response headers recorded")
	}
}

func TestBasicAuthWithOnlyAPasswordField(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, `
[[provider]]
name = "gw"
format = "openai"
base_url = "http://`+up.addr+`/v1"
auth = "basic"
[provider.auth_options]
user = "alice"
`)
	p := newTestProxy(t, cfg, keys{"gw/password": "s3cret"})
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gw/m","messages":[]}`))
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), body)
	}
	if got := up.last().headers["authorization"]; got != "Basic YWxpY2U6czNjcmV0" {
		t.Errorf("authorization = %q, want Basic alice:s3cret", got)
	}
}
