package codec

// Stop reason and error-status mappings between the formats (MAPPING.md §6, §9).

func stopFromOpenAI(s string) StopReason {
	switch s {
	case "":
		return StopUnknown
	case "length":
		return StopLength
	case "tool_calls", "function_call":
		return StopTool
	case "content_filter":
		return StopFilter
	}
	return StopEnd
}

func stopToOpenAI(s StopReason) string {
	switch s {
	case StopLength:
		return "length"
	case StopTool:
		return "tool_calls"
	case StopFilter:
		return "content_filter"
	}
	return "stop"
}

func stopFromAnthropic(s string) StopReason {
	switch s {
	case "":
		return StopUnknown
	case "stop_sequence":
		return StopSequence
	case "max_tokens", "model_context_window_exceeded":
		return StopLength
	case "tool_use":
		return StopTool
	case "refusal":
		return StopFilter
	case "pause_turn":
		return StopPause
	}
	return StopEnd
}

func stopToAnthropic(s StopReason) string {
	switch s {
	case StopSequence:
		return "stop_sequence"
	case StopLength:
		return "max_tokens"
	case StopTool:
		return "tool_use"
	case StopFilter:
		return "refusal"
	case StopPause:
		return "pause_turn"
	}
	return "end_turn"
}

// stopFromGemini maps a finishReason. Gemini has no tool-call reason: STOP with
// functionCall parts means tool calls (hasCalls).
func stopFromGemini(s string, hasCalls bool) StopReason {
	switch s {
	case "":
		return StopUnknown
	case "MAX_TOKENS":
		return StopLength
	case "SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
		"IMAGE_PROHIBITED_CONTENT", "RECITATION", "LANGUAGE":
		return StopFilter
	}
	if hasCalls {
		return StopTool
	}
	return StopEnd
}

func stopToGemini(s StopReason) string {
	switch s {
	case StopLength:
		return "MAX_TOKENS"
	case StopFilter:
		return "SAFETY"
	}
	return "STOP"
}

// statusFromErrorType gives the HTTP status an error type stands for, in any
// format's vocabulary (Anthropic error.type, OpenAI error.type or code, Gemini
// status); 0 when the type is not known.
func statusFromErrorType(t string) int {
	switch t {
	case "invalid_request_error", "INVALID_ARGUMENT", "FAILED_PRECONDITION":
		return 400
	case "authentication_error", "invalid_api_key", "UNAUTHENTICATED":
		return 401
	case "billing_error", "insufficient_quota":
		return 402
	case "permission_error", "PERMISSION_DENIED":
		return 403
	case "not_found_error", "model_not_found", "NOT_FOUND":
		return 404
	case "request_too_large":
		return 413
	case "rate_limit_error", "rate_limit_exceeded", "tokens", "requests", "RESOURCE_EXHAUSTED":
		return 429
	case "api_error", "server_error", "INTERNAL":
		return 500
	case "service_unavailable_error", "server_is_overloaded", "UNAVAILABLE":
		return 503
	case "timeout_error", "DEADLINE_EXCEEDED":
		return 504
	case "overloaded_error":
		return 529
	}
	return 0
}
