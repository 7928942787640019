package proxy

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestPassThroughKeepsBodyExceptModel(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	for _, tc := range []struct {
		name, path, model, wantModel, wantPath string
		fixture                                string
	}{
		{"openai prefix", "/v1/chat/completions", "oai/gpt-4.1", "gpt-4.1", "/v1/chat/completions", "openai/chat/request_tools.json"},
		{"openai glob", "/v1/chat/completions", "gpt-4.1-mini", "gpt-4.1-mini", "/v1/chat/completions", "openai/chat/request_text.json"},
		{"anthropic glob", "/v1/messages", "claude-sonnet-4-5", "claude-sonnet-4-5", "/v1/messages", "anthropic/messages/request_tools.json"},
		{"nested prefix", "/v1/chat/completions", "oai/anthropic/claude-3.5-haiku", "anthropic/claude-3.5-haiku", "/v1/chat/completions", "openai/chat/request_text.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := withModel(t, readFixture(t, tc.fixture), tc.model)
			resp, body := p.do(t, "POST", tc.path, in, "Authorization", "Bearer client-dummy")
			if resp.StatusCode() != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode(), body)
			}
			got := up.last()
			if got.path != tc.wantPath {
				t.Errorf("upstream path %q, want %q", got.path, tc.wantPath)
			}
			want := withModel(t, in, tc.wantModel)
			if !bytes.Equal(got.body, want) {
				t.Errorf("upstream body differs from the client's except for the model:\n got %s\nwant %s", got.body, want)
			}
			if m := gjson.GetBytes(got.body, "model").String(); m != tc.wantModel {
				t.Errorf("upstream model %q, want %q", m, tc.wantModel)
			}
			if len(resp.Header.Peek("X-Gatehouse-Call")) != 26 {
				t.Errorf("X-Gatehouse-Call = %q, want a 26-char ULID", resp.Header.Peek("X-Gatehouse-Call"))
			}
			if a := string(resp.Header.Peek("X-Gatehouse-Attempts")); a != "1" {
				t.Errorf("X-Gatehouse-Attempts = %q, want 1", a)
			}
		})
	}
}

func TestPassThroughResponseBytesUntouched(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	want := readFixture(t, "openai/chat/response_tool_calls.json")
	up.then(step{body: want, headers: map[string]string{"x-request-id": "req_123", "openai-processing-ms": "42"}})
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`))
	if !bytes.Equal(body, want) {
		t.Fatalf("response body changed:\n got %s\nwant %s", body, want)
	}
	if v := string(resp.Header.Peek("x-request-id")); v != "req_123" {
		t.Errorf("x-request-id = %q, want the upstream's req_123", v)
	}
	c := p.rec.next(t)
	if c.Outcome != OutcomeOK || c.Status != 200 || c.Provider != "oai" || c.UpstreamModel != "gpt-4.1" {
		t.Errorf("record = %s %d %s/%s, want ok 200 oai/gpt-4.1", c.Outcome, c.Status, c.Provider, c.UpstreamModel)
	}
	if !bytes.Equal(c.Response.Body, want) {
		t.Errorf("recorded response body differs from what the client got")
	}
	if len(c.Attempts) != 1 || c.Attempts[0].Status != 200 || c.Attempts[0].Provider != "oai" || c.Attempts[0].URL == "" {
		t.Errorf("recorded attempts %+v, want one 200 from oai", c.Attempts)
	}
}

// TestUnrecordedAnswersRelayedWhole: with history off an answer is read into
// the client's response buffer, which fasthttp pools (issue 12); answers of
// different sizes in turn must each reach the client whole, with nothing of
// an earlier one.
func TestUnrecordedAnswersRelayedWhole(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, "[history]\nenabled = false\n"), nil)
	big := readFixture(t, "openai/chat/response_tool_calls.json")
	small := []byte(`{"id":"c","object":"chat.completion","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}`)
	for i, want := range [][]byte{big, small, big, small} {
		up.then(step{body: want})
		resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`))
		if resp.StatusCode() != 200 || !bytes.Equal(body, want) {
			t.Fatalf("call %d: status %d, body\n got %s\nwant %s", i, resp.StatusCode(), body, want)
		}
	}
}

func TestGeminiPassThroughModelInURL(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	in := readFixture(t, "gemini/request_generate_content_text.json")
	resp, body := p.do(t, "POST", "/v1beta/models/gemini-2.5-flash:generateContent?key=client-key", in)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), body)
	}
	got := up.last()
	if got.path != "/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("upstream path %q", got.path)
	}
	if strings.Contains(got.query, "key=") {
		t.Errorf("client ?key= reached the upstream: %q", got.query)
	}
	if got.headers["x-goog-api-key"] != "AIza-gem-secret" {
		t.Errorf("x-goog-api-key = %q, want the provider key", got.headers["x-goog-api-key"])
	}
	if !bytes.Equal(got.body, in) {
		t.Errorf("gemini body changed")
	}
}

// withModel sets the top-level model of a JSON body with the proxy's own splice,
// checked against gjson.
func withModel(t *testing.T, body []byte, model string) []byte {
	t.Helper()
	out := setModel(body, model)
	if got := gjson.GetBytes(out, "model").String(); got != model {
		t.Fatalf("setModel: model %q, want %q", got, model)
	}
	if !gjson.ValidBytes(out) {
		t.Fatalf("setModel produced invalid JSON: %s", out)
	}
	return out
}
