package proxy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"
)

// These tests drive /v1/responses the way Codex and the openai SDK do: passed
// through to a provider that serves it, translated for every other one, and
// reached from the other formats when a model exists only on the Responses API.

// chatOnly adds "chat", an OpenAI-compatible server without /responses (vLLM,
// Ollama, Groq ...), and "oaipro", an OpenAI provider whose models live only on
// the Responses API.
const chatOnly = `
[[provider]]
name = "chat"
format = "openai"
base_url = "http://127.0.0.1:1/v1"
models = ["llama-*"]

[[provider]]
name = "oaipro"
format = "openai"
base_url = "http://127.0.0.1:1/v1"
api = "responses"
models = ["o3-pro*"]
`

func responsesConfig(up *fakeUpstream) string {
	return strings.ReplaceAll(chatOnly, "127.0.0.1:1", up.addr)
}

// responsesKeys are the test keys, with those of chatOnly's providers.
var responsesKeys = keys{"oai/": "sk-oai-secret", "ant/": "sk-ant-secret", "gem/": "AIza-gem-secret", "chat/": "sk-chat", "oaipro/": "sk-oaipro"}

func responsesClient(p *testProxy) openai.Client {
	return openai.NewClient(ooption.WithBaseURL(p.url+"/v1/"), ooption.WithAPIKey("client-key"), ooption.WithMaxRetries(0))
}

func TestResponsesSDKStreamsToolCallsFromEveryFormat(t *testing.T) {
	tests := []struct {
		model, fixture, path string
		calls                []wantCall
	}{
		{"claude-sonnet-4-5", "translate/anthropic_stream_tool_use.sse", "/v1/messages",
			[]wantCall{{"toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", "Paris"}, {"toolu_01AusGgY5aKFhzWrFBv9JfHq", "get_weather", "Tokyo"}}},
		{"llama-3.3-70b", "translate/openai_stream_tool_calls.sse", "/v1/chat/completions",
			[]wantCall{{"call_Qw3rTy8UiOp1AsDfGhJkL2zX", "get_weather", "Paris"}, {"call_Mn7bVc4XzLkJhGf5DsApOi9U", "get_weather", "Tokyo"}}},
		{"gemini-2.5-flash", "translate/gemini_stream_function_call.sse", ":streamGenerateContent",
			[]wantCall{{"", "get_weather", "Paris"}, {"", "get_weather", "Tokyo"}}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			up := newFakeUpstream(t)
			p := newTestProxy(t, testConfig(up, responsesConfig(up)), responsesKeys)
			up.then(step{events: splitEvents(readFixture(t, tt.fixture))})
			client := responsesClient(p)
			stream := client.Responses.NewStreaming(e2eContext(t), responses.ResponseNewParams{
				Model:        tt.model,
				Instructions: openai.String("Use tools."),
				Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("Weather in Paris and Tokyo?")},
				Tools:        []responses.ToolUnionParam{responses.ToolParamOfFunction("get_weather", weatherSchema, false)},
				Store:        openai.Bool(false),
			})
			var types []string
			var final responses.Response
			for i := 0; stream.Next() && i < 1000; i++ {
				ev := stream.Current()
				types = append(types, ev.Type)
				if ev.Type == "response.completed" {
					final = ev.Response
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v (events %v)", err, types)
			}
			if got := up.last().path; !strings.Contains(got, tt.path) {
				t.Errorf("upstream path %s, want %s", got, tt.path)
			}
			if types[0] != "response.created" || types[len(types)-1] != "response.completed" {
				t.Errorf("events %v, want response.created … response.completed", types)
			}
			var calls []responses.ResponseOutputItemUnion
			for _, it := range final.Output {
				if it.Type == "function_call" {
					calls = append(calls, it)
				}
			}
			if len(calls) != len(tt.calls) {
				t.Fatalf("completed output has %d function calls, want %d: %+v", len(calls), len(tt.calls), final.Output)
			}
			for i, w := range tt.calls {
				c := calls[i]
				var args map[string]string
				if err := json.Unmarshal([]byte(c.Arguments.OfString), &args); err != nil || args["city"] != w.city {
					t.Errorf("call %d arguments got %q (%v), want city %s", i, c.Arguments.OfString, err, w.city)
				}
				if c.Name != w.name || (w.id != "" && c.CallID != w.id) || c.CallID == "" {
					t.Errorf("call %d got %s %s, want %s %s", i, c.CallID, c.Name, w.id, w.name)
				}
			}
			if final.Usage.InputTokens <= 0 || final.Usage.OutputTokens <= 0 {
				t.Errorf("usage got %+v, want the upstream's counts", final.Usage)
			}
			rec := p.rec.next(t)
			if rec.Outcome != OutcomeOK || rec.Usage.InputTokens != final.Usage.InputTokens || rec.InboundFormat != "responses" {
				t.Errorf("history got outcome %s usage %+v format %s", rec.Outcome, rec.Usage, rec.InboundFormat)
			}
		})
	}
}

func TestResponsesSDKTextFromOtherFormats(t *testing.T) {
	for _, model := range []string{"claude-sonnet-4-5", "gemini-2.5-flash", "llama-3.3-70b"} {
		t.Run(model, func(t *testing.T) {
			up := newFakeUpstream(t)
			p := newTestProxy(t, testConfig(up, responsesConfig(up)), responsesKeys)
			client := responsesClient(p)
			resp, err := client.Responses.New(e2eContext(t), responses.ResponseNewParams{
				Model:           model,
				Instructions:    openai.String("Answer in one sentence."),
				Input:           responses.ResponseNewParamsInputUnion{OfString: openai.String("What is the capital of Australia?")},
				MaxOutputTokens: openai.Int(256),
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(resp.OutputText(), "Canberra") || resp.Status != "completed" || resp.Model != model {
				t.Errorf("got text %q status %s model %s", resp.OutputText(), resp.Status, resp.Model)
			}
			body := up.last().body
			if gjson.GetBytes(body, "input").Exists() || gjson.GetBytes(body, "instructions").Exists() {
				t.Errorf("the upstream got Responses fields: %s", body)
			}
			if rec := p.rec.next(t); rec.Usage.InputTokens <= 0 || rec.Usage.OutputTokens <= 0 {
				t.Errorf("history usage %+v", rec.Usage)
			}
		})
	}
}

// TestResponsesPassThroughRecordsUsage checks §1: a provider that serves the
// Responses API gets the body as sent, and the call history has its usage from
// the body and from response.completed.
func TestResponsesPassThroughRecordsUsage(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	for _, stream := range []bool{false, true} {
		body := `{"model":"gpt-4.1","input":"What is the capital of Australia?","store":false,"stream":` + map[bool]string{false: "false", true: "true"}[stream] + `}`
		resp, out := p.do(t, "POST", "/v1/responses", []byte(body))
		if resp.StatusCode() != 200 || up.last().path != "/v1/responses" || string(up.last().body) != body {
			t.Fatalf("stream %v: %d %s (upstream %s %s)", stream, resp.StatusCode(), out, up.last().path, up.last().body)
		}
		rec := p.rec.next(t)
		u := rec.Usage
		if u.InputTokens != 31 || u.OutputTokens != 9 || u.CacheReadTokens != 0 || u.ReasoningTokens != 0 {
			t.Errorf("stream %v: usage %+v, want 31 in (0 cached), 9 out (0 reasoning)", stream, u)
		}
	}
}

func TestResponsesUntranslatableIsA400(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, responsesConfig(up)), responsesKeys)
	tests := []struct{ body, field string }{
		{`{"model":"claude-sonnet-4-5","input":"hi","previous_response_id":"resp_123"}`, "previous_response_id"},
		{`{"model":"gemini-2.5-flash","input":"hi","tools":[{"type":"web_search"}],"tool_choice":{"type":"web_search"}}`, `"web_search"`},
		{`{"model":"llama-3.3-70b","input":"hi","background":true}`, "background"},
	}
	for _, tt := range tests {
		resp, body := p.do(t, "POST", "/v1/responses", []byte(tt.body))
		msg := gjson.GetBytes(body, "error.message").String()
		if resp.StatusCode() != 400 || !strings.Contains(msg, tt.field) || gjson.GetBytes(body, "error.type").String() != "invalid_request_error" {
			t.Errorf("%s: got %d %s, want 400 invalid_request_error naming %s", tt.body, resp.StatusCode(), body, tt.field)
		}
		if !strings.Contains(msg, "openai") {
			t.Errorf("%s: the message %q does not say what would work", tt.body, msg)
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("untranslatable requests reached the upstream %d times", n)
	}
	// Codex offers web_search on every request: an offered built-in tool is
	// left out, not refused.
	resp, body := p.do(t, "POST", "/v1/responses", []byte(`{"model":"gemini-2.5-flash","input":"hi","tools":[{"type":"web_search","external_web_access":true},`+
		`{"type":"namespace","name":"ns","tools":[{"type":"function","name":"close_agent","parameters":{"type":"object"}}]}]}`))
	sent := string(up.last().body)
	if resp.StatusCode() != 200 || strings.Contains(sent, "web_search") || !strings.Contains(sent, `"name":"close_agent"`) {
		t.Errorf("offered built-in tool: %d %s; upstream got %s", resp.StatusCode(), body, sent)
	}
}

// TestChatClientReachesResponsesOnlyModel checks the outbound direction: a
// model on a provider with api = "responses" answers Chat Completions and
// Anthropic clients.
func TestChatClientReachesResponsesOnlyModel(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, responsesConfig(up)), responsesKeys)
	client := openai.NewClient(ooption.WithBaseURL(p.url+"/v1/"), ooption.WithAPIKey("client-key"), ooption.WithMaxRetries(0))
	c, err := client.Chat.Completions.New(e2eContext(t), openai.ChatCompletionNewParams{
		Model:    "o3-pro",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Capital of Australia?")},
	})
	if err != nil {
		t.Fatal(err)
	}
	sent := up.last()
	if sent.path != "/v1/responses" || gjson.GetBytes(sent.body, "instructions").String() != "Be brief." ||
		gjson.GetBytes(sent.body, "store").Bool() || gjson.GetBytes(sent.body, "model").String() != "o3-pro" {
		t.Errorf("upstream got %s %s", sent.path, sent.body)
	}
	if c.Choices[0].Message.Content != "The capital of Australia is Canberra." || c.Usage.PromptTokens != 31 {
		t.Errorf("chat completion got %+v", c)
	}

	stream := client.Chat.Completions.NewStreaming(e2eContext(t), openai.ChatCompletionNewParams{
		Model:    "o3-pro",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Capital of Australia?")},
	})
	var acc openai.ChatCompletionAccumulator
	for i := 0; stream.Next() && i < 1000; i++ {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != "The capital of Australia is Canberra." {
		t.Errorf("streamed content %q", got)
	}

	resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"o3-pro","max_tokens":100,"messages":[{"role":"user","content":"Capital?"}]}`))
	if resp.StatusCode() != 200 || gjson.GetBytes(body, "content.0.text").String() != "The capital of Australia is Canberra." {
		t.Errorf("anthropic client got %d %s", resp.StatusCode(), body)
	}
}
