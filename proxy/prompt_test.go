package proxy

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

const testPrompts = `
[[prompt]]
name = "summarize"
model = "gpt-4o"
system = "You summarize in {{lang}}."
template = "Summarize: {{input}}"
temperature = 0.2
max_tokens = 50

[[prompt]]
name = "tldr"
model = "claude-sonnet-4-5"
system = "Be brief."
template = "TL;DR of {{input}}"
response_format = "json_object"
`

// TestPromptAsModel: "prompt/NAME" from a client of another format gets the
// prompt's system prompt, template and parameters; its last user message
// fills {{input}}.
func TestPromptAsModel(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, testPrompts), nil)

	// An Anthropic client calling a prompt whose model is an OpenAI one.
	resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"prompt/tldr","max_tokens":1000,"system":"ignored","messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":"the long text"}]}`))
	if resp.StatusCode() != 200 || gjson.GetBytes(body, "type").String() != "message" {
		t.Fatalf("status %d: %s", resp.StatusCode(), body)
	}
	r := gjson.ParseBytes(up.last().body)
	if got := r.Get("system.0.text").String() + r.Get("system").String(); !strings.Contains(got, "Be brief.") || strings.Contains(got, "ignored") {
		t.Errorf("upstream system %q, want the prompt's", got)
	}
	if got := r.Get("messages.2.content").Raw; !strings.Contains(got, "TL;DR of the long text") {
		t.Errorf("upstream last message %s, want the rendered template", got)
	}
	c := p.rec.next(t)
	if c.Model != "prompt/tldr" || c.UpstreamModel != "claude-sonnet-4-5" {
		t.Errorf("recorded model %q → %q", c.Model, c.UpstreamModel)
	}

	// A variable other than input cannot be filled from a chat: 400 naming it.
	resp, body = p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"prompt/summarize","messages":[{"role":"user","content":"x"}]}`))
	if resp.StatusCode() != 400 || !strings.Contains(string(body), "missing variables: lang") {
		t.Errorf("missing variable: %d %s", resp.StatusCode(), body)
	}
	resp, body = p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"prompt/nope","messages":[]}`))
	if resp.StatusCode() != 404 || !strings.Contains(string(body), `no prompt \"nope\"`) {
		t.Errorf("unknown prompt: %d %s", resp.StatusCode(), body)
	}
}

// TestPromptREST: POST /v1/prompts/NAME with variables answers output, usage
// and the call id; missing variables get 400 naming them; "stream": true gives
// delta events and a done event.
func TestPromptREST(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, testPrompts), nil)

	resp, body := p.do(t, "POST", "/v1/prompts/summarize", []byte(`{"variables":{"input":"a long story","lang":"French"}}`))
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), body)
	}
	res := gjson.ParseBytes(body)
	c := p.rec.next(t)
	if res.Get("output").String() != "The capital of Australia is Canberra." || res.Get("usage.input_tokens").Int() != 27 ||
		res.Get("call_id").String() != c.ID || c.Path != "/v1/prompts/summarize" || c.Model != "prompt/summarize" {
		t.Errorf("answer %s, record %s %s %s", body, c.ID, c.Path, c.Model)
	}
	sent := gjson.ParseBytes(up.last().body)
	if sent.Get("messages.0.content").String() != "You summarize in French." || sent.Get("messages.1.content").String() != "Summarize: a long story" ||
		sent.Get("temperature").Float() != 0.2 || sent.Get("max_tokens").Int()+sent.Get("max_completion_tokens").Int() != 50 {
		t.Errorf("upstream body %s", up.last().body)
	}

	resp, body = p.do(t, "POST", "/v1/prompts/summarize", []byte(`{"variables":{}}`))
	if resp.StatusCode() != 400 || !strings.Contains(string(body), "missing variables: input, lang") {
		t.Errorf("missing variables: %d %s", resp.StatusCode(), body)
	}

	resp, body = p.do(t, "POST", "/v1/prompts/summarize", []byte(`{"variables":{"input":"x","lang":"English"},"stream":true}`))
	if resp.StatusCode() != 200 || !bytes.HasPrefix(resp.Header.ContentType(), []byte("text/event-stream")) {
		t.Fatalf("stream: %d %s", resp.StatusCode(), body)
	}
	rd := sse.NewReader(bufio.NewReader(bytes.NewReader(body)), 0)
	var text strings.Builder
	var done gjson.Result
	for range 100 {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		switch string(ev.Name) {
		case "delta":
			text.WriteString(gjson.GetBytes(ev.Data, "text").String())
		case "done":
			done = gjson.ParseBytes(bytes.Clone(ev.Data))
		}
	}
	if text.String() == "" || done.Get("output").String() != text.String() || done.Get("call_id").String() == "" {
		t.Errorf("stream deltas %q, done %s", text.String(), done.Raw)
	}
}
