package main

import (
	"encoding/json"
	"strings"
)

// toolReply is a call to one tool, in the shape of the operation's recorded
// tool-call fixture (same fields, order, ids and framing) with the tool's name and
// arguments put in. Streams send the arguments in two deltas, as providers do.
func (u *confUpstream) toolReply(op string, stream bool, name, args string) reply {
	n := quote(name)
	half := len(args) / 2
	a1, a2, all := quote(args[:half]), quote(args[half:]), quote(args)
	var b strings.Builder
	switch {
	case op == "chat" && !stream:
		b.WriteString(`{"id":"chatcmpl-CZt4nA2kLp9sQw8eRt5yUi3oPa1sD","object":"chat.completion","created":1767268800,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_Qw3rTy8UiOp1AsDfGhJkL2zX","type":"function","function":{"name":` + n + `,"arguments":` + all + `}}],"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":92,"completion_tokens":54,"total_tokens":146,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_e6c46296c9"}`)
	case op == "chat":
		const head = `data: {"id":"chatcmpl-CZt5bF7pQu4xVb3jWy0dZn8tUf6xI","object":"chat.completion.chunk","created":1767268800,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_e6c46296c9","choices":[`
		b.WriteString(head + `{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Qw3rTy8UiOp1AsDfGhJkL2zX","type":"function","function":{"name":` + n + `,"arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"BRHU"}` + "\n\n")
		for _, part := range []string{a1, a2} {
			b.WriteString(head + `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":` + part + `}}]},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Xj8l"}` + "\n\n")
		}
		b.WriteString(head + `{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null,"obfuscation":"q"}` + "\n\n")
		b.WriteString(head + `],"usage":{"prompt_tokens":92,"completion_tokens":54,"total_tokens":146,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"R"}` + "\n\n")
		b.WriteString("data: [DONE]\n\n")
	case op == "responses":
		const id, fc, call = `"resp_07b225dc6e39fefb016a9bb3b6f5c087d08be915c9631f77a2"`, `"fc_07b225dc6e39fefb016a9bb3b71c2a88d0a1f3e5c6b7d8e9f0"`, `"call_7VaiUXZYuuuwWwviCrckxq6t"`
		item := func(status, arguments string) string {
			return `{"id":` + fc + `,"type":"function_call","status":"` + status + `","arguments":` + arguments + `,"call_id":` + call + `,"name":` + n + `}`
		}
		resp := func(status, completed, output, usage string) string {
			return `{"id":` + id + `,"object":"response","created_at":1767268800,"status":"` + status + `","background":false,"completed_at":` + completed + `,"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"max_tool_calls":null,"model":"gpt-4.1-2025-04-14","output":[` + output + `],"parallel_tool_calls":true,"previous_response_id":null,"prompt_cache_key":null,"prompt_cache_retention":null,"reasoning":{"effort":null,"summary":null},"safety_identifier":null,"service_tier":"default","store":false,"temperature":1.0,"text":{"format":{"type":"text"},"verbosity":"medium"},"tool_choice":"auto","tools":[],"top_logprobs":0,"top_p":1.0,"truncation":"disabled","usage":` + usage + `,"user":null,"metadata":{}}`
		}
		const usage = `{"input_tokens":58,"input_tokens_details":{"cached_tokens":0},"output_tokens":16,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":74}`
		done := resp("completed", "1767268801", item("completed", all), usage)
		if !stream {
			b.WriteString(done)
			break
		}
		ev := func(typ, data string) {
			b.WriteString("event: " + typ + "\ndata: " + data + "\n\n")
		}
		ev("response.created", `{"type":"response.created","response":`+resp("in_progress", "null", "", "null")+`,"sequence_number":0}`)
		ev("response.in_progress", `{"type":"response.in_progress","response":`+resp("in_progress", "null", "", "null")+`,"sequence_number":1}`)
		ev("response.output_item.added", `{"type":"response.output_item.added","output_index":0,"item":`+item("in_progress", `""`)+`,"sequence_number":2}`)
		ev("response.function_call_arguments.delta", `{"type":"response.function_call_arguments.delta","delta":`+a1+`,"item_id":`+fc+`,"obfuscation":"gWZHP8i4lSgQYT","output_index":0,"sequence_number":3}`)
		ev("response.function_call_arguments.delta", `{"type":"response.function_call_arguments.delta","delta":`+a2+`,"item_id":`+fc+`,"obfuscation":"yC1iubuqc098","output_index":0,"sequence_number":4}`)
		ev("response.function_call_arguments.done", `{"type":"response.function_call_arguments.done","arguments":`+all+`,"item_id":`+fc+`,"output_index":0,"sequence_number":5}`)
		ev("response.output_item.done", `{"type":"response.output_item.done","output_index":0,"item":`+item("completed", all)+`,"sequence_number":6}`)
		ev("response.completed", `{"type":"response.completed","response":`+done+`,"sequence_number":7}`)
	case op == "messages" && !stream:
		b.WriteString(`{"model":"claude-sonnet-4-20250514","id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message","role":"assistant","content":[{"type":"text","text":"I'll run that."},{"type":"tool_use","id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":` + n + `,"input":` + args + `,"caller":{"type":"direct"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":418,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":121,"service_tier":"standard"}}`)
	case op == "messages":
		ev := func(typ, data string) {
			b.WriteString("event: " + typ + "\ndata: " + data + "\n\n")
		}
		ev("message_start", `{"type":"message_start","message":{"model":"claude-sonnet-4-20250514","id":"msg_01Hx6bWf2N5jQ8kR3sT7vY1z","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":418,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}`)
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":`+n+`,"input":{},"caller":{"type":"direct"}}}`)
		ev("ping", `{"type": "ping"}`)
		for _, part := range []string{`""`, a1, a2} {
			ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":`+part+`}}`)
		}
		ev("content_block_stop", `{"type":"content_block_stop","index":0}`)
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":121}}`)
		ev("message_stop", `{"type":"message_stop"}`)
	case op == "generate":
		// Gemini sends a call whole, in one chunk, and frames its stream with CRLF.
		msg := `{"candidates": [{"content": {"parts": [{"functionCall": {"name": ` + n + `,"args": ` + args + `}}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 72,"candidatesTokenCount": 30,"totalTokenCount": 102,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 72}]},"modelVersion": "gemini-2.5-flash","responseId": "WQCzaayhL8Xmz7IP-63dqQk"}`
		if stream {
			b.WriteString("data: " + msg + "\r\n\r\n")
		} else {
			b.WriteString(msg)
		}
	}
	rep := reply{status: 200, ctype: "application/json", body: []byte(b.String()), scenario: "tool_call"}
	if stream {
		rep.ctype = "text/event-stream"
	}
	return rep
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
