package codec

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

const (
	oai = config.FormatOpenAI
	ant = config.FormatAnthropic
	gem = config.FormatGemini
	rsp = config.FormatResponses
)

func mustRequest(t *testing.T, from, to config.Format, body string, opt RequestOptions) ([]byte, RequestInfo) {
	t.Helper()
	if opt.Model == "" {
		opt.Model = "up-model"
	}
	out, info, err := Request(from, to, []byte(body), opt)
	if err != nil {
		t.Fatalf("Request(%s→%s): %v", from, to, err)
	}
	if !gjson.ValidBytes(out) {
		t.Fatalf("Request(%s→%s) wrote invalid JSON: %s", from, to, out)
	}
	return out, info
}

// expect checks gjson paths of a body.
func expect(t *testing.T, body []byte, want map[string]string) {
	t.Helper()
	for path, w := range want {
		if got := gjson.GetBytes(body, path).String(); got != w {
			t.Errorf("%s got %q, want %q\nin %s", path, got, w, body)
		}
	}
}

func TestConsecutiveToolMessagesBecomeOneUserTurn(t *testing.T) {
	out, _ := mustRequest(t, oai, ant, string(readFile(t, "testdata/openai/request_tool_result_followup.json")), RequestOptions{})
	expect(t, out, map[string]string{
		"system.0.text":                    "You are a helpful assistant. Use tools when needed.",
		"messages.#":                       "3",
		"messages.1.role":                  "assistant",
		"messages.1.content.#":             "2",
		"messages.1.content.0.type":        "tool_use",
		"messages.1.content.0.input.city":  "Paris",
		"messages.2.role":                  "user",
		"messages.2.content.#":             "2",
		"messages.2.content.0.type":        "tool_result",
		"messages.2.content.0.tool_use_id": "call_Qw3rTy8UiOp1AsDfGhJkL2zX",
		"messages.2.content.1.tool_use_id": "call_Mn7bVc4XzLkJhGf5DsApOi9U",
		"max_tokens":                       "512",
	})
	// And the same history to Gemini: results name their function.
	out, _ = mustRequest(t, oai, gem, string(readFile(t, "testdata/openai/request_tool_result_followup.json")), RequestOptions{})
	expect(t, out, map[string]string{
		"contents.2.role":                                          "user",
		"contents.2.parts.#":                                       "2",
		"contents.2.parts.1.functionResponse.name":                 "get_weather",
		"contents.2.parts.1.functionResponse.response.result.city": "Tokyo",
		"model": "",
	})
}

func TestAnthropicToolResultsBackToOpenAI(t *testing.T) {
	out, _ := mustRequest(t, ant, oai, string(readFile(t, "testdata/anthropic/request_tool_result.json")), RequestOptions{})
	msgs := gjson.GetBytes(out, "messages").Array()
	for i, m := range msgs {
		if m.Get("role").String() != "tool" {
			continue
		}
		prev := msgs[i-1]
		if prev.Get("role").String() != "assistant" && prev.Get("role").String() != "tool" {
			t.Errorf("tool message %d follows a %s message: %s", i, prev.Get("role"), out)
		}
		id := m.Get("tool_call_id").String()
		if !strings.Contains(string(out), `"id":"`+id+`"`) {
			t.Errorf("tool message %d answers unknown call %q", i, id)
		}
	}
}

func TestToolChoiceMapping(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`
	tests := []struct {
		choice        string
		wantAnthropic string // tool_choice JSON ("" = absent)
		wantGemini    string // functionCallingConfig JSON
	}{
		{`"auto"`, `{"type":"auto"}`, `{"mode":"AUTO"}`},
		{`"required"`, `{"type":"any"}`, `{"mode":"ANY"}`},
		{`"none"`, ``, `{"mode":"NONE"}`},
		{`{"type":"function","function":{"name":"f"}}`, `{"type":"tool","name":"f"}`, `{"mode":"ANY","allowedFunctionNames":["f"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.choice, func(t *testing.T) {
			body := `{"model":"x","messages":[{"role":"user","content":"hi"}],` + tools + `,"tool_choice":` + tt.choice + `}`
			out, _ := mustRequest(t, oai, ant, body, RequestOptions{})
			if got := gjson.GetBytes(out, "tool_choice").Raw; got != tt.wantAnthropic {
				t.Errorf("anthropic tool_choice got %s, want %s", got, tt.wantAnthropic)
			}
			if tt.choice == `"none"` && gjson.GetBytes(out, "tools").Exists() {
				t.Errorf("tool_choice none still sends tools to Anthropic: %s", out)
			}
			out, _ = mustRequest(t, oai, gem, body, RequestOptions{})
			if got := gjson.GetBytes(out, "toolConfig.functionCallingConfig").Raw; got != tt.wantGemini {
				t.Errorf("gemini functionCallingConfig got %s, want %s", got, tt.wantGemini)
			}
			// Back from Anthropic to OpenAI gives the same choice.
			if tt.wantAnthropic != "" {
				back, _ := mustRequest(t, ant, oai, `{"model":"x","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":`+tt.wantAnthropic+`}`, RequestOptions{})
				if got := gjson.GetBytes(back, "tool_choice").Raw; got != tt.choice {
					t.Errorf("round trip tool_choice got %s, want %s", got, tt.choice)
				}
			}
		})
	}
	body := `{"model":"x","messages":[{"role":"user","content":"hi"}],` + tools + `,"parallel_tool_calls":false}`
	out, _ := mustRequest(t, oai, ant, body, RequestOptions{})
	expect(t, out, map[string]string{"tool_choice.type": "auto", "tool_choice.disable_parallel_tool_use": "true"})
	back, _ := mustRequest(t, ant, oai, `{"model":"x","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"any","disable_parallel_tool_use":true}}`, RequestOptions{})
	expect(t, back, map[string]string{"parallel_tool_calls": "false", "tool_choice": "required"})
}

func TestUnsupportedAndInvalid(t *testing.T) {
	_, _, err := Request(oai, ant, []byte(`{"model":"x","n":2,"messages":[{"role":"user","content":"hi"}]}`), RequestOptions{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "n = 2") {
		t.Errorf("n=2 to Anthropic got %v, want ErrUnsupported naming n", err)
	}
	_, _, err = Request(ant, oai, []byte(`{"model":"x","max_tokens":5,"messages":[],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`), RequestOptions{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "web_search_20250305") {
		t.Errorf("server tool to OpenAI got %v, want ErrUnsupported naming it", err)
	}
	for _, body := range []string{`{"model":`, `[1,2]`, ``} {
		if _, _, err := Request(oai, gem, []byte(body), RequestOptions{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Request(%q) got %v, want ErrInvalid", body, err)
		}
	}
}

func TestStreamUsageAlwaysRequested(t *testing.T) {
	tests := []struct {
		from      config.Format
		body      string
		stream    bool
		wantUsage bool // RequestInfo.IncludeUsage: does the client get the usage chunk
	}{
		{ant, `{"model":"c","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, false, false},
		{gem, `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, true, true},
	}
	for _, tt := range tests {
		out, info := mustRequest(t, tt.from, oai, tt.body, RequestOptions{Stream: tt.stream})
		expect(t, out, map[string]string{"stream": "true", "stream_options.include_usage": "true"})
		if info.IncludeUsage != tt.wantUsage {
			t.Errorf("%s: IncludeUsage got %v, want %v", tt.from, info.IncludeUsage, tt.wantUsage)
		}
	}
	_, info := mustRequest(t, oai, ant, `{"model":"gpt-x","stream":true,"messages":[{"role":"user","content":"hi"}]}`, RequestOptions{})
	if info.IncludeUsage || info.ClientModel != "gpt-x" {
		t.Errorf("OpenAI client without include_usage: info %+v", info)
	}
	_, info = mustRequest(t, oai, ant, `{"model":"gpt-x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, RequestOptions{})
	if !info.IncludeUsage {
		t.Errorf("OpenAI client with include_usage: info %+v", info)
	}
}

func TestAnthropicMaxTokensDefault(t *testing.T) {
	body := `{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}`
	out, _ := mustRequest(t, oai, ant, body, RequestOptions{DefaultMaxTokens: 2000})
	expect(t, out, map[string]string{"max_tokens": "2000", "model": "up-model"})
	out, _ = mustRequest(t, oai, ant, body, RequestOptions{})
	expect(t, out, map[string]string{"max_tokens": "4096"})
	out, _ = mustRequest(t, gem, ant, `{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":77,"temperature":1.5,"stopSequences":["END"]}}`, RequestOptions{})
	// Anthropic temperature is 0–1: clamped.
	expect(t, out, map[string]string{"max_tokens": "77", "temperature": "1", "stop_sequences.0": "END"})
}

func TestContentParts(t *testing.T) {
	out, _ := mustRequest(t, oai, ant, string(readFile(t, "testdata/openai/request_image_url.json")), RequestOptions{})
	expect(t, out, map[string]string{
		"messages.0.content.1.source.type":       "url",
		"messages.0.content.2.source.type":       "base64",
		"messages.0.content.2.source.media_type": "image/png",
	})
	out, _ = mustRequest(t, ant, gem, string(readFile(t, "testdata/anthropic/request_image.json")), RequestOptions{})
	expect(t, out, map[string]string{"contents.0.parts.0.inlineData.mimeType": "image/png", "contents.0.parts.1.fileData.fileUri": "https://upload.wikimedia.org/wikipedia/commons/thumb/3/3a/Cat03.jpg/640px-Cat03.jpg"})
	out, _ = mustRequest(t, gem, oai, string(readFile(t, "testdata/gemini/request_image_inline_data.json")), RequestOptions{})
	if u := gjson.GetBytes(out, `messages.0.content.#(type=="image_url").image_url.url`).String(); !strings.HasPrefix(u, "data:image/") {
		t.Errorf("Gemini inlineData to OpenAI got url %q: %s", u, out)
	}
	pdf := `{"model":"c","max_tokens":9,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}},{"type":"text","text":"sum up"}]}]}`
	out, _ = mustRequest(t, ant, oai, pdf, RequestOptions{})
	expect(t, out, map[string]string{"messages.0.content.0.type": "file", "messages.0.content.0.file.file_data": "data:application/pdf;base64,JVBERi0="})
	out, _ = mustRequest(t, ant, gem, pdf, RequestOptions{})
	expect(t, out, map[string]string{"contents.0.parts.0.inlineData.mimeType": "application/pdf"})
}

func TestGeminiFunctionResponsesGetTheirCallIDs(t *testing.T) {
	out, _ := mustRequest(t, gem, oai, string(readFile(t, "testdata/gemini/request_function_response.json")), RequestOptions{})
	msgs := gjson.GetBytes(out, "messages").Array()
	var callIDs, resultIDs []string
	for _, m := range msgs {
		for _, tc := range m.Get("tool_calls").Array() {
			callIDs = append(callIDs, tc.Get("id").String())
		}
		if m.Get("role").String() == "tool" {
			resultIDs = append(resultIDs, m.Get("tool_call_id").String())
		}
	}
	if len(callIDs) != 2 || strings.Join(callIDs, ",") != strings.Join(resultIDs, ",") || callIDs[0] == callIDs[1] {
		t.Errorf("calls %v and results %v do not pair up one to one\n%s", callIDs, resultIDs, out)
	}
	expect(t, out, map[string]string{"messages.0.role": "system", "tools.0.function.parameters.type": "object"})
}

func TestThinkingRequest(t *testing.T) {
	// An Anthropic thinking block with its signature survives a trip through an
	// OpenAI-format history only as far as the format allows: it is not sent to
	// OpenAI upstreams (DeepSeek rejects reasoning_content in input).
	out, _ := mustRequest(t, ant, oai, string(readFile(t, "testdata/anthropic/request_thinking_tool_roundtrip.json")), RequestOptions{})
	if strings.Contains(string(out), "reasoning_content") {
		t.Errorf("reasoning_content sent upstream: %s", out)
	}
	// OpenAI reasoning_effort becomes a thinking budget below max_tokens.
	out, _ = mustRequest(t, oai, ant, `{"model":"o","max_tokens":1000,"reasoning_effort":"high","temperature":0.2,"messages":[{"role":"user","content":"hi"}]}`, RequestOptions{})
	budget, max := gjson.GetBytes(out, "thinking.budget_tokens").Int(), gjson.GetBytes(out, "max_tokens").Int()
	if budget < 1024 || budget >= max || gjson.GetBytes(out, "temperature").Exists() {
		t.Errorf("thinking budget %d, max_tokens %d, temperature kept: %s", budget, max, out)
	}
	// An OpenAI client cannot send the signed thinking back in a tool loop:
	// thinking is left off rather than have Anthropic refuse the turn.
	loop := `{"model":"o","reasoning_effort":"low","messages":[{"role":"user","content":"hi"},` +
		`{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"ok"}],"tools":[{"type":"function","function":{"name":"f"}}]}`
	out, _ = mustRequest(t, oai, ant, loop, RequestOptions{})
	if gjson.GetBytes(out, "thinking").Exists() {
		t.Errorf("thinking on in an unsigned tool loop: %s", out)
	}
	out, _ = mustRequest(t, ant, gem, string(readFile(t, "testdata/anthropic/request_thinking.json")), RequestOptions{})
	expect(t, out, map[string]string{"generationConfig.thinkingConfig.includeThoughts": "true"})
	if gjson.GetBytes(out, "generationConfig.thinkingConfig.thinkingBudget").Int() <= 0 {
		t.Errorf("no thinking budget for Gemini: %s", out)
	}
}

func TestResponseFormatJSONSchema(t *testing.T) {
	body := string(readFile(t, "testdata/openai/request_json_schema.json"))
	out, _ := mustRequest(t, oai, gem, body, RequestOptions{})
	expect(t, out, map[string]string{"generationConfig.responseMimeType": "application/json"})
	if !gjson.GetBytes(out, "generationConfig.responseJsonSchema.properties").IsObject() {
		t.Errorf("no responseJsonSchema: %s", out)
	}
	out, _ = mustRequest(t, oai, ant, body, RequestOptions{})
	expect(t, out, map[string]string{"output_config.format.type": "json_schema"})
	back, _ := mustRequest(t, gem, oai, string(readFile(t, "testdata/gemini/request_json_schema.json")), RequestOptions{})
	expect(t, back, map[string]string{"response_format.type": "json_schema"})
}

func TestMistralDialect(t *testing.T) {
	body := string(readFile(t, "testdata/anthropic/request_tool_result.json"))
	body = strings.Replace(body, `"max_tokens"`, `"stream":true,"metadata":{"user_id":"u1"},"max_tokens"`, 1)
	out, _ := mustRequest(t, ant, oai, body, RequestOptions{Model: "mistral-large-latest", BaseURL: "https://api.mistral.ai/v1"})
	for _, k := range []string{"stream_options", "user", "max_completion_tokens", "seed"} {
		if gjson.GetBytes(out, k).Exists() {
			t.Errorf("Mistral request has %s: %s", k, out)
		}
	}
	var calls, results []string
	for _, m := range gjson.GetBytes(out, "messages").Array() {
		for _, tc := range m.Get("tool_calls").Array() {
			calls = append(calls, tc.Get("id").String())
		}
		if id := m.Get("tool_call_id").String(); id != "" {
			results = append(results, id)
		}
	}
	if len(calls) == 0 || strings.Join(calls, ",") != strings.Join(results, ",") {
		t.Fatalf("calls %v and results %v do not pair up: %s", calls, results, out)
	}
	for _, id := range calls {
		if !mistralID.MatchString(id) {
			t.Errorf("tool call id %q is not 9 alphanumerics", id)
		}
	}
	if mistralToolID("D681PevKs") != "D681PevKs" {
		t.Errorf("a Mistral id was changed")
	}
	// Elsewhere the same request keeps its ids and asks for usage.
	out, _ = mustRequest(t, ant, oai, body, RequestOptions{Model: "gpt-4o", BaseURL: "https://api.openai.com/v1"})
	expect(t, out, map[string]string{"stream_options.include_usage": "true", "user": "u1"})
	if !strings.Contains(string(out), "toolu_") {
		t.Errorf("ids changed for OpenAI: %s", out)
	}
}
