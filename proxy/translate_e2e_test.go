package proxy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"
)

// These tests drive Gatehouse with the official SDKs, unmodified, against a fake
// upstream of another format, and check that the SDKs' own stream accumulators
// rebuild exactly the message, tool calls and usage the upstream sent.

var weatherSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"city": map[string]any{"type": "string"},
		"unit": map[string]any{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
	},
	"required": []string{"city"},
}

func e2eContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantCall is a tool call as the upstream sent it.
type wantCall struct{ id, name, city string }

func TestAnthropicSDKStreamsToolsFromOpenAIUpstream(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	up.then(step{events: splitEvents(readFixture(t, "translate/openai_stream_tool_calls.sse"))})

	client := anthropic.NewClient(aoption.WithBaseURL(p.url+"/"), aoption.WithAPIKey("client-key"), aoption.WithMaxRetries(0))
	stream := client.Messages.NewStreaming(e2eContext(t), anthropic.MessageNewParams{
		Model:     "gpt-4o",
		MaxTokens: 512,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Paris and Tokyo?"))},
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
			Name: "get_weather", Description: anthropic.String("Get the weather."),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: weatherSchema["properties"], Required: []string{"city"}},
		}}},
	})
	var msg anthropic.Message
	events := 0
	for stream.Next() {
		events++
		if err := msg.Accumulate(stream.Current()); err != nil {
			t.Fatalf("Accumulate event %d: %v", events, err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}

	want := []wantCall{{"call_Qw3rTy8UiOp1AsDfGhJkL2zX", "get_weather", "Paris"}, {"call_Mn7bVc4XzLkJhGf5DsApOi9U", "get_weather", "Tokyo"}}
	if len(msg.Content) != len(want) {
		t.Fatalf("content has %d blocks, want %d: %+v", len(msg.Content), len(want), msg.Content)
	}
	for i, w := range want {
		b := msg.Content[i]
		if b.Type != "tool_use" || b.ID != w.id || b.Name != w.name {
			t.Errorf("block %d got %s %s %s, want tool_use %s %s", i, b.Type, b.ID, b.Name, w.id, w.name)
		}
		var in map[string]string
		if err := json.Unmarshal(b.Input, &in); err != nil || in["city"] != w.city || in["unit"] != "celsius" {
			t.Errorf("block %d input got %s (%v), want city %s unit celsius", i, b.Input, err, w.city)
		}
	}
	if msg.StopReason != anthropic.StopReasonToolUse {
		t.Errorf("stop_reason got %q, want tool_use", msg.StopReason)
	}
	if msg.Usage.InputTokens != 92 || msg.Usage.OutputTokens != 54 {
		t.Errorf("usage got in %d out %d, want 92/54", msg.Usage.InputTokens, msg.Usage.OutputTokens)
	}
	if msg.Model != "gpt-4o" {
		t.Errorf("model got %q, want the name the client asked for", msg.Model)
	}

	// The upstream got an OpenAI request that asks for usage in the stream.
	got := up.last()
	if got.path != "/v1/chat/completions" || !gjson.GetBytes(got.body, "stream_options.include_usage").Bool() ||
		gjson.GetBytes(got.body, "tools.0.function.name").String() != "get_weather" {
		t.Errorf("upstream request: %s %s", got.path, got.body)
	}
	rec := p.rec.next(t)
	if rec.Usage.InputTokens != 92 || rec.Usage.OutputTokens != 54 || rec.Outcome != OutcomeOK {
		t.Errorf("recorded usage %+v outcome %s", rec.Usage, rec.Outcome)
	}
}

func openAIToolStream(t *testing.T, p *testProxy, model string) (openai.ChatCompletionAccumulator, int) {
	t.Helper()
	client := openai.NewClient(ooption.WithBaseURL(p.url+"/v1/"), ooption.WithAPIKey("client-key"), ooption.WithMaxRetries(0))
	stream := client.Chat.Completions.NewStreaming(e2eContext(t), openai.ChatCompletionNewParams{
		Model:         model,
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris and Tokyo?")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: "get_weather", Description: openai.String("Get the weather."), Parameters: weatherSchema,
		})},
	})
	var acc openai.ChatCompletionAccumulator
	finished := 0
	for stream.Next() {
		if !acc.AddChunk(stream.Current()) {
			t.Fatalf("the accumulator refused chunk %+v", stream.Current())
		}
		if _, ok := acc.JustFinishedToolCall(); ok {
			finished++
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if len(acc.Choices) != 1 {
		t.Fatalf("got %d choices, want 1", len(acc.Choices))
	}
	return acc, finished
}

func checkOpenAIToolCalls(t *testing.T, acc openai.ChatCompletionAccumulator, want []wantCall, idPrefix bool) {
	t.Helper()
	m := acc.Choices[0].Message
	if len(m.ToolCalls) != len(want) {
		t.Fatalf("got %d tool calls, want %d: %+v", len(m.ToolCalls), len(want), m.ToolCalls)
	}
	ids := map[string]bool{}
	for i, w := range want {
		tc := m.ToolCalls[i]
		if idPrefix && !strings.HasPrefix(tc.ID, w.id) || !idPrefix && tc.ID != w.id {
			t.Errorf("tool call %d id got %q, want %q", i, tc.ID, w.id)
		}
		ids[tc.ID] = true
		var args map[string]string
		if err := json.Unmarshal([]byte(tc.Function.Arguments), &args); err != nil || tc.Function.Name != w.name || args["city"] != w.city {
			t.Errorf("tool call %d got %s(%s) (%v), want %s city %s", i, tc.Function.Name, tc.Function.Arguments, err, w.name, w.city)
		}
	}
	if len(ids) != len(want) {
		t.Errorf("tool call ids are not unique: %v", ids)
	}
	if acc.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("finish_reason got %q, want tool_calls", acc.Choices[0].FinishReason)
	}
}

func TestOpenAISDKStreamsToolsFromAnthropicUpstream(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	up.then(step{events: splitEvents(readFixture(t, "translate/anthropic_stream_tool_use.sse"))})

	acc, finished := openAIToolStream(t, p, "claude-sonnet-4-5")
	checkOpenAIToolCalls(t, acc, []wantCall{{"toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", "Paris"}, {"toolu_01AusGgY5aKFhzWrFBv9JfHq", "get_weather", "Tokyo"}}, false)
	if got := acc.Choices[0].Message.Content; got != "I'll check the weather in both cities." {
		t.Errorf("content got %q", got)
	}
	if finished != 2 {
		t.Errorf("JustFinishedToolCall fired %d times, want 2", finished)
	}
	// Anthropic input 418 (+0 cache) → prompt_tokens; output 121 → completion_tokens.
	if acc.Usage.PromptTokens != 418 || acc.Usage.CompletionTokens != 121 || acc.Usage.TotalTokens != 539 {
		t.Errorf("usage got %+v, want 418/121/539", acc.Usage)
	}
	got := up.last()
	if got.path != "/v1/messages" || gjson.GetBytes(got.body, "max_tokens").Int() <= 0 ||
		gjson.GetBytes(got.body, "tools.0.input_schema.properties.city.type").String() != "string" {
		t.Errorf("upstream request: %s %s", got.path, got.body)
	}
}

func TestOpenAISDKStreamsToolsFromGeminiUpstream(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	up.then(step{events: splitEvents(readFixture(t, "translate/gemini_stream_function_call.sse"))})

	acc, _ := openAIToolStream(t, p, "gemini-2.5-flash")
	// Gemini 2.5 sends no ids: Gatehouse makes unique ones (and carries the
	// thought signature inside the first).
	checkOpenAIToolCalls(t, acc, []wantCall{{"gcall_", "get_weather", "Paris"}, {"gcall_", "get_weather", "Tokyo"}}, true)
	// promptTokenCount 72; candidates 30 + thoughts 48 = 78 completion tokens.
	if acc.Usage.PromptTokens != 72 || acc.Usage.CompletionTokens != 78 || acc.Usage.CompletionTokensDetails.ReasoningTokens != 48 {
		t.Errorf("usage got %+v, want 72/78 (48 reasoning)", acc.Usage)
	}
	got := up.last()
	if !strings.HasSuffix(got.path, "/models/gemini-2.5-flash:streamGenerateContent") || gjson.GetBytes(got.body, "model").Exists() ||
		gjson.GetBytes(got.body, "stream_options").Exists() ||
		gjson.GetBytes(got.body, "tools.0.functionDeclarations.0.name").String() != "get_weather" {
		t.Errorf("upstream request: %s?%s %s", got.path, got.query, got.body)
	}

	// The next turn sends the calls back: the thought signature must reach
	// Gemini again on the first call, and each result must name its function.
	m := acc.Choices[0].Message
	client := openai.NewClient(ooption.WithBaseURL(p.url+"/v1/"), ooption.WithAPIKey("client-key"), ooption.WithMaxRetries(0))
	_, err := client.Chat.Completions.New(e2eContext(t), openai.ChatCompletionNewParams{
		Model: "gemini-2.5-flash",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.UserMessage("Weather in Paris and Tokyo?"),
			m.ToParam(),
			openai.ToolMessage(`{"temp":14}`, m.ToolCalls[0].ID),
			openai.ToolMessage(`{"temp":22}`, m.ToolCalls[1].ID),
		},
	})
	if err != nil {
		t.Fatalf("second turn: %v", err)
	}
	body := up.last().body
	sig := gjson.GetBytes(body, "contents.1.parts.0.thoughtSignature").String()
	if !strings.HasPrefix(sig, "CvMBAb4+9vvZC") || gjson.GetBytes(body, "contents.1.parts.1.thoughtSignature").Exists() {
		t.Errorf("thought signatures not restored per call: %s", body)
	}
	if n := gjson.GetBytes(body, "contents.2.parts.#(functionResponse.name==\"get_weather\")#").Array(); len(n) != 2 {
		t.Errorf("function responses do not name their function: %s", body)
	}
}

func TestAnthropicSDKStreamsThinkingFromGeminiUpstream(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	up.then(step{events: splitEvents(readFixture(t, "translate/gemini_stream_thinking.sse"))})

	client := anthropic.NewClient(aoption.WithBaseURL(p.url+"/"), aoption.WithAPIKey("client-key"), aoption.WithMaxRetries(0))
	stream := client.Messages.NewStreaming(e2eContext(t), anthropic.MessageNewParams{
		Model:     "gemini-2.5-flash",
		MaxTokens: 4000,
		Thinking:  anthropic.ThinkingConfigParamOfEnabled(2048),
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Is 1517 prime?"))},
	})
	var msg anthropic.Message
	for stream.Next() {
		if err := msg.Accumulate(stream.Current()); err != nil {
			t.Fatalf("Accumulate: %v", err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	// The third block carries the thoughtSignature of Gemini's text part, to
	// come back with it (MAPPING.md §5).
	if len(msg.Content) != 3 || msg.Content[0].Type != "thinking" || msg.Content[1].Type != "text" ||
		msg.Content[2].Type != "thinking" || msg.Content[2].Signature == "" {
		t.Fatalf("content got %+v, want thinking, text and the text's signature", msg.Content)
	}
	if !strings.Contains(msg.Content[0].Thinking, "37 × 41 = 1517") || !strings.HasPrefix(msg.Content[1].Text, "No. 1517 = 37 × 41,") {
		t.Errorf("blocks got thinking %q text %q", msg.Content[0].Thinking, msg.Content[1].Text)
	}
	if msg.StopReason != anthropic.StopReasonEndTurn || msg.Usage.InputTokens != 11 {
		t.Errorf("stop %q usage %+v", msg.StopReason, msg.Usage)
	}
	body := up.last().body
	if gjson.GetBytes(body, "generationConfig.thinkingConfig.thinkingBudget").Int() != 2048 ||
		!gjson.GetBytes(body, "generationConfig.thinkingConfig.includeThoughts").Bool() {
		t.Errorf("upstream request lacks the thinking config: %s", body)
	}
	// The next turn sends the message back as the SDK keeps it: Gemini gets
	// its signature on the text part it came with.
	up.then(step{events: splitEvents(readFixture(t, "translate/gemini_stream_thinking.sse"))})
	stream = client.Messages.NewStreaming(e2eContext(t), anthropic.MessageNewParams{
		Model:     "gemini-2.5-flash",
		MaxTokens: 4000,
		Thinking:  anthropic.ThinkingConfigParamOfEnabled(2048),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Is 1517 prime?")),
			msg.ToParam(), anthropic.NewUserMessage(anthropic.NewTextBlock("And 1519?"))},
	})
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("second turn: %v", err)
	}
	model := gjson.GetBytes(up.last().body, "contents.1")
	if sig := model.Get(`parts.#(text%"No. 1517*").thoughtSignature`).String(); !strings.HasPrefix(sig, "EpEBCo4BAb4") {
		t.Errorf("Gemini got the model turn %s, want the text with its thoughtSignature", model)
	}
}

func TestAnthropicSDKToolLoopThroughOpenAIUpstream(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	up.then(step{body: readFixture(t, "openai/chat/response_tool_calls.json")})

	client := anthropic.NewClient(aoption.WithBaseURL(p.url+"/"), aoption.WithAPIKey("client-key"), aoption.WithMaxRetries(0))
	ask := anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Paris and Tokyo?"))
	params := anthropic.MessageNewParams{
		Model: "gpt-4o", MaxTokens: 512, Messages: []anthropic.MessageParam{ask},
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
			Name: "get_weather", InputSchema: anthropic.ToolInputSchemaParam{Properties: weatherSchema["properties"]},
		}}},
	}
	msg, err := client.Messages.New(e2eContext(t), params)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 2 || msg.Content[1].ID != "call_Mn7bVc4XzLkJhGf5DsApOi9U" || msg.StopReason != anthropic.StopReasonToolUse ||
		msg.Usage.InputTokens != 92 || msg.Usage.OutputTokens != 54 {
		t.Fatalf("message got %+v", msg)
	}

	// Second turn: the SDK sends the tool_use blocks back with one tool_result
	// each; the OpenAI upstream must get tool messages right after its calls.
	var results []anthropic.ContentBlockParamUnion
	for _, b := range msg.Content {
		results = append(results, anthropic.NewToolResultBlock(b.ID, `{"temp":14}`, false))
	}
	params.Messages = append(params.Messages, msg.ToParam(), anthropic.NewUserMessage(results...))
	if _, err := client.Messages.New(e2eContext(t), params); err != nil {
		t.Fatal(err)
	}
	body := up.last().body
	roles := []string{}
	for _, m := range gjson.GetBytes(body, "messages").Array() {
		roles = append(roles, m.Get("role").String())
	}
	if strings.Join(roles, ",") != "user,assistant,tool,tool" ||
		gjson.GetBytes(body, "messages.1.tool_calls.1.id").String() != "call_Mn7bVc4XzLkJhGf5DsApOi9U" ||
		gjson.GetBytes(body, "messages.3.tool_call_id").String() != "call_Mn7bVc4XzLkJhGf5DsApOi9U" {
		t.Errorf("second turn to the upstream: roles %v\n%s", roles, body)
	}
}
