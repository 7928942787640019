package codec

import (
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

func TestUsageTrackerFixtures(t *testing.T) {
	tests := []struct {
		file string
		want Usage
	}{
		// OpenAI: the usage chunk after finish_reason.
		{"openai/stream_tool_calls.sse", Usage{92, 54, 0, -1, 0}},
		// OpenAI without include_usage: never said, so unknown, not 0.
		{"openai/stream_text_without_include_usage.sse", UnknownUsage()},
		// Anthropic: input from message_start, output set (not added) by message_delta.
		{"anthropic/stream_tool_use.sse", Usage{418, 121, 0, 0, -1}},
		// Gemini: last usageMetadata wins; output includes thoughts.
		{"gemini/stream_function_call.sse", Usage{72, 78, -1, -1, 48}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/" + tt.file
			tr := NewUsageTracker(formatOfFixture(path))
			for _, ev := range readEvents(t, path) {
				tr.Observe(ev)
			}
			if got := tr.Usage(); got != tt.want {
				t.Errorf("Usage() got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestUsageTrackerAnthropicCumulative(t *testing.T) {
	// Two message_delta events with cumulative totals: the second replaces the first.
	stream := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":20}}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":30}}\n\n"
	tr := NewUsageTracker(config.FormatAnthropic)
	for _, ev := range parseEvents(t, []byte(stream)) {
		tr.Observe(ev)
	}
	want := Usage{InputTokens: 15, OutputTokens: 30, CacheReadTokens: 5, CacheWriteTokens: -1, ReasoningTokens: -1}
	if got := tr.Usage(); got != want {
		t.Errorf("Usage() got %+v, want %+v", got, want)
	}
}

func TestUsageFromResponse(t *testing.T) {
	tests := []struct {
		file string
		want Usage
	}{
		{"openai/response_text.json", usageAt(t, "testdata/openai/response_text.json", config.FormatOpenAI)},
		{"anthropic/response_tool_use.json", usageAt(t, "testdata/anthropic/response_tool_use.json", config.FormatAnthropic)},
		{"gemini/response_thinking_include_thoughts.json", usageAt(t, "testdata/gemini/response_thinking_include_thoughts.json", config.FormatGemini)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/" + tt.file
			got := UsageFromResponse(formatOfFixture(path), readFile(t, path))
			if got != tt.want {
				t.Errorf("UsageFromResponse got %+v, want %+v", got, tt.want)
			}
			if got.InputTokens <= 0 || got.OutputTokens <= 0 {
				t.Errorf("UsageFromResponse got %+v, want positive input and output", got)
			}
		})
	}
	if got := UsageFromResponse(config.FormatOpenAI, []byte("not json")); got != UnknownUsage() {
		t.Errorf("UsageFromResponse(garbage) got %+v, want unknown", got)
	}
}

// usageAt reads the usage straight from the fixture with the MAPPING.md §7 formulas,
// independently of the decoder under test.
func usageAt(t *testing.T, path string, f config.Format) Usage {
	b := readFile(t, path)
	g := func(p string) int64 {
		r := gjson.GetBytes(b, p)
		if !r.Exists() {
			return -1
		}
		return r.Int()
	}
	switch f {
	case config.FormatAnthropic:
		return Usage{g("usage.input_tokens") + g("usage.cache_read_input_tokens") + g("usage.cache_creation_input_tokens"),
			g("usage.output_tokens"), g("usage.cache_read_input_tokens"), g("usage.cache_creation_input_tokens"), -1}
	case config.FormatGemini:
		return Usage{g("usageMetadata.promptTokenCount"), g("usageMetadata.candidatesTokenCount") + g("usageMetadata.thoughtsTokenCount"),
			g("usageMetadata.cachedContentTokenCount"), -1, g("usageMetadata.thoughtsTokenCount")}
	}
	return Usage{g("usage.prompt_tokens"), g("usage.completion_tokens"), g("usage.prompt_tokens_details.cached_tokens"),
		g("usage.prompt_tokens_details.cache_write_tokens"), g("usage.completion_tokens_details.reasoning_tokens")}
}

func TestStreamError(t *testing.T) {
	tests := []struct {
		file       string
		wantStatus int
	}{
		{"anthropic/stream_error_overloaded.sse", 529},
		{"openai/stream_midstream_error.sse", 500},
		{"gemini/stream_midstream_error.sse", 503},
		{"compat/openrouter_stream_midstream_error.sse", 502},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/" + tt.file
			f := formatOfFixture(path)
			found := 0
			for _, ev := range readEvents(t, path) {
				status, msg, ok := StreamError(f, ev)
				if !ok {
					continue
				}
				found++
				if status != tt.wantStatus || msg == "" {
					t.Errorf("StreamError got (%d, %q), want (%d, a message)", status, msg, tt.wantStatus)
				}
			}
			if found != 1 {
				t.Errorf("StreamError found %d error events, want 1", found)
			}
		})
	}
}

func TestAccumulatorRebuildsMessage(t *testing.T) {
	tests := []struct {
		file string
		// paths into the rebuilt body and the values they must hold
		want map[string]string
	}{
		{"openai/stream_tool_calls.sse", map[string]string{
			"object":                                            "chat.completion",
			"choices.0.finish_reason":                           "tool_calls",
			"choices.0.message.tool_calls.#":                    "2",
			"choices.0.message.tool_calls.1.id":                 "call_Mn7bVc4XzLkJhGf5DsApOi9U",
			"choices.0.message.tool_calls.1.function.arguments": `{"city":"Tokyo","unit":"celsius"}`,
			"usage.prompt_tokens":                               "92",
		}},
		{"anthropic/stream_tool_use.sse", map[string]string{
			"id":                   "msg_01Hx6bWf2N5jQ8kR3sT7vY1z",
			"content.#":            "3",
			"content.0.text":       "I'll check the weather in both cities.",
			"content.2.input.city": "Tokyo",
			"stop_reason":          "tool_use",
			"usage.output_tokens":  "121",
		}},
		{"anthropic/stream_thinking.sse", map[string]string{
			"content.0.type":      "thinking",
			"content.0.signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds7Xw1kYjnvW5VZ4J2mVxDg3e+l6kZ6BqR0q9tKqW8cS3Nj5C0vH2gFq8uQ==",
			"content.1.type":      "text",
		}},
		{"gemini/stream_function_call.sse", map[string]string{
			"candidates.0.content.parts.#":                        "2",
			"candidates.0.content.parts.0.functionCall.args.city": "Paris",
			"candidates.0.content.parts.0.thoughtSignature":       "CvMBAb4+9vvZC/KtDBiEfP1WF+wUiObd6G6yg5vTA8dfeleB3pTysSfmipkwxCrjEL9Y29JxnkMMXZvzkVMlyiK01pvWtZ++SnHMyuy9J04IrT/6oDhaDculJL+1gJhI+4i1UlPgJBXlUnpkPcznVuYKh6YEvWhNQc3Wrz305DeBdPIb2WmZmGv2gOVlhL3yjUrmxVWuRrtt9bQHX9B29bKtvY6L5QnE",
			"candidates.0.finishReason":                           "STOP",
			"usageMetadata.thoughtsTokenCount":                    "48",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/" + tt.file
			a := NewAccumulator(formatOfFixture(path))
			if a.Body() != nil {
				t.Fatal("Body() before any event is not nil")
			}
			for _, ev := range readEvents(t, path) {
				a.Add(ev)
			}
			body := a.Body()
			if !gjson.ValidBytes(body) {
				t.Fatalf("Body() is not valid JSON: %s", body)
			}
			for p, want := range tt.want {
				if got := gjson.GetBytes(body, p).String(); got != want {
					t.Errorf("Body() %s got %q, want %q\n%s", p, got, want, body)
				}
			}
		})
	}
}

// TestResponsesUsage checks issue 10 §1: Responses usage from a body and from
// response.completed, with its cached input and reasoning parts.
func TestResponsesUsage(t *testing.T) {
	usage := `{"input_tokens":1200,"input_tokens_details":{"cached_tokens":1024},"output_tokens":300,"output_tokens_details":{"reasoning_tokens":256},"total_tokens":1500}`
	want := Usage{InputTokens: 1200, OutputTokens: 300, CacheReadTokens: 1024, CacheWriteTokens: -1, ReasoningTokens: 256}
	if got := UsageFromResponse(rsp, []byte(`{"id":"resp_1","object":"response","status":"completed","output":[],"usage":`+usage+`}`)); got != want {
		t.Errorf("UsageFromResponse got %+v, want %+v", got, want)
	}
	tr := NewUsageTracker(rsp)
	for _, ev := range parseEvents(t, []byte("event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"usage\":null}}\n\n"+
		"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"usage\":"+usage+"}}\n\n")) {
		tr.Observe(ev)
	}
	if got := tr.Usage(); got != want {
		t.Errorf("UsageTracker got %+v, want %+v", got, want)
	}
	for _, name := range []string{"response_text.json", "response_function_call.json"} {
		path := "testdata/responses/" + name
		b := readFile(t, path)
		got := UsageFromResponse(rsp, b)
		if got.InputTokens != gjson.GetBytes(b, "usage.input_tokens").Int() || got.OutputTokens != gjson.GetBytes(b, "usage.output_tokens").Int() || got.CacheReadTokens != 0 {
			t.Errorf("%s: usage %+v", name, got)
		}
	}
}
