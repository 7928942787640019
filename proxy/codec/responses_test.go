package codec

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestResponsesRequestFields(t *testing.T) {
	body := `{"model":"m","instructions":"Be brief.","input":[
 {"type":"message","role":"developer","content":[{"type":"input_text","text":"Use tools."}]},
 {"role":"user","content":[{"type":"input_text","text":"Plan it."},{"type":"input_image","image_url":"data:image/png;base64,iVBO"}]}],
 "reasoning":{"effort":"high","summary":"auto"},"max_output_tokens":20000,"parallel_tool_calls":false,
 "text":{"format":{"type":"json_schema","name":"plan","schema":{"type":"object","properties":{"steps":{"type":"array"}}},"strict":true}},
 "tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"tool_choice":{"type":"function","name":"f"},"store":false,"stream":true}`
	out, _ := mustRequest(t, rsp, ant, body, RequestOptions{Model: "claude-sonnet-4-5", Stream: true})
	expect(t, out, map[string]string{
		"system.0.text": "Be brief.", "system.1.text": "Use tools.",
		"messages.0.content.1.source.media_type": "image/png",
		"max_tokens":                             "20000", "tool_choice.type": "tool", "tool_choice.name": "f", "tool_choice.disable_parallel_tool_use": "true",
		"output_config.format.schema.properties.steps.type": "array", "stream": "true",
	})
	// With a named tool Anthropic refuses thinking; without, effort high is a 16k budget.
	out, _ = mustRequest(t, rsp, ant, strings.Replace(body, `"tool_choice":{"type":"function","name":"f"}`, `"tool_choice":"auto"`, 1), RequestOptions{Model: "claude-sonnet-4-5"})
	expect(t, out, map[string]string{"thinking.budget_tokens": "16384"})
	out, _ = mustRequest(t, rsp, gem, body, RequestOptions{Model: "gemini-2.5-pro"})
	expect(t, out, map[string]string{"generationConfig.responseJsonSchema.properties.steps.type": "array",
		"generationConfig.thinkingConfig.includeThoughts": "true", "toolConfig.functionCallingConfig.allowedFunctionNames.0": "f"})
	out, _ = mustRequest(t, rsp, oai, body, RequestOptions{Model: "gpt-4o"})
	expect(t, out, map[string]string{"messages.0.role": "system", "response_format.json_schema.name": "plan",
		"parallel_tool_calls": "false", "max_completion_tokens": "16384", "stream_options.include_usage": "true"})
}

// TestResponsesItemReferences checks what the AI SDK sends with store on: an
// item_reference to an earlier assistant message is left out; a tool output
// whose call was referenced becomes text rather than an unpaired result.
func TestResponsesItemReferences(t *testing.T) {
	body := `{"model":"m","input":[{"role":"user","content":"Weather?"},{"type":"item_reference","id":"msg_1"},
 {"type":"function_call","call_id":"c1","name":"w","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"14C"},
 {"type":"item_reference","id":"fc_2"},{"type":"function_call_output","call_id":"c2","output":"9C"}]}`
	out, _ := mustRequest(t, rsp, ant, body, RequestOptions{Model: "claude-sonnet-4-5"})
	expect(t, out, map[string]string{
		"messages.1.content.0.type": "tool_use", "messages.2.content.0.type": "tool_result", "messages.2.content.0.tool_use_id": "c1",
		"messages.2.content.1.type": "text", "messages.2.content.1.text": "Output of tool call c2:\n9C",
	})
}

// TestResponsesCustomToolRoundTrip checks Codex's free-form tools (apply_patch
// on GPT-5): offered as a function taking {"input"}, answered as a
// custom_tool_call with the raw input, and sent back as a tool call.
func TestResponsesCustomToolRoundTrip(t *testing.T) {
	body := `{"model":"m","input":"Fix it.","tools":[{"type":"custom","name":"apply_patch","description":"Patch files.","format":{"type":"grammar","syntax":"lark","definition":"start: patch"}}],"stream":true}`
	out, info := mustRequest(t, rsp, ant, body, RequestOptions{Model: "claude-sonnet-4-5", Stream: true})
	expect(t, out, map[string]string{"tools.0.name": "apply_patch", "tools.0.input_schema.required.0": "input"})
	if !strings.Contains(gjson.GetBytes(out, "tools.0.description").Str, "start: patch") {
		t.Errorf("the grammar is not in the description: %s", out)
	}
	upstream := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"apply_patch\",\"input\":{}}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"input\\\":\\\"*** Begin Patch\\\\n\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"*** End Patch\\\"}\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	stream := translateStream(t, ant, rsp, []byte(upstream), info)
	if err := validStream(rsp, stream); err != nil {
		t.Fatalf("%v\n%s", err, stream)
	}
	var item gjson.Result
	for _, ev := range events(t, stream) {
		if string(ev.Name) == "response.output_item.done" {
			item = gjson.GetBytes(ev.Data, "item")
		}
	}
	if item.Get("type").Str != "custom_tool_call" || item.Get("input").Str != "*** Begin Patch\n*** End Patch" || item.Get("call_id").Str != "toolu_1" {
		t.Fatalf("item got %s, want a custom_tool_call with the raw patch", item.Raw)
	}
	back := `{"model":"m","input":[{"role":"user","content":"Fix it."},` + item.Raw + `,{"type":"custom_tool_call_output","call_id":"toolu_1","output":"Done."}]}`
	out, _ = mustRequest(t, rsp, ant, back, RequestOptions{Model: "claude-sonnet-4-5"})
	expect(t, out, map[string]string{"messages.1.content.0.input.input": "*** Begin Patch\n*** End Patch", "messages.2.content.0.tool_use_id": "toolu_1"})
}

// TestResponsesReasoningRoundTrip checks that Anthropic thinking reaches a
// Responses client as a reasoning item whose encrypted_content is the
// signature, and that the item sent back is the signed thinking block
// Anthropic needs before a tool call.
func TestResponsesReasoningRoundTrip(t *testing.T) {
	stream := translateStream(t, ant, rsp, readFile(t, "testdata/anthropic/stream_thinking.sse"), RequestInfo{})
	var reasoning gjson.Result
	for _, ev := range events(t, stream) {
		if it := gjson.GetBytes(ev.Data, "item"); string(ev.Name) == "response.output_item.done" && it.Get("type").Str == "reasoning" {
			reasoning = it
		}
	}
	if reasoning.Get("encrypted_content").Str == "" || !strings.Contains(reasoning.Get("summary.0.text").Str, "divisib") {
		t.Fatalf("reasoning item got %s", reasoning.Raw)
	}
	back := `{"model":"m","reasoning":{"effort":"medium"},"input":[{"role":"user","content":"Is 1517 prime?"},` + reasoning.Raw +
		`,{"type":"function_call","call_id":"toolu_9","name":"calc","arguments":"{}"},{"type":"function_call_output","call_id":"toolu_9","output":"37*41"}],` +
		`"tools":[{"type":"function","name":"calc","parameters":{"type":"object"}}]}`
	out, _ := mustRequest(t, rsp, ant, back, RequestOptions{Model: "claude-sonnet-4-5"})
	expect(t, out, map[string]string{
		"messages.1.content.0.type": "thinking", "messages.1.content.0.signature": reasoning.Get("encrypted_content").Str,
		"messages.1.content.1.type": "tool_use", "thinking.type": "enabled",
	})
}
