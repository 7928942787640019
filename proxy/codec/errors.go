package codec

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

// ErrorBody returns an error response body in format f for an HTTP status and a
// message, with the error type that format's SDKs expect for that status.
// code, when not "", is set as OpenAI's error.code.
func ErrorBody(f config.Format, status int, msg, code string) []byte {
	m, _ := json.Marshal(msg)
	var b []byte
	switch f {
	case config.FormatAnthropic:
		b = append(b, `{"type":"error","error":{"type":"`...)
		b = append(b, anthropicErrorType(status)...)
		b = append(b, `","message":`...)
		b = append(b, m...)
		b = append(b, `}}`...)
	case config.FormatGemini:
		b = append(b, `{"error":{"code":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"message":`...)
		b = append(b, m...)
		b = append(b, `,"status":"`...)
		b = append(b, geminiErrorStatus(status)...)
		b = append(b, `"}}`...)
	default:
		b = append(b, `{"error":{"message":`...)
		b = append(b, m...)
		b = append(b, `,"type":"`...)
		b = append(b, openAIErrorType(status)...)
		b = append(b, `","param":null,"code":`...)
		if code == "" {
			b = append(b, "null"...)
		} else {
			c, _ := json.Marshal(code)
			b = append(b, c...)
		}
		b = append(b, `}}`...)
	}
	return b
}

// StreamErrorEvent returns the in-band error event that ends a stream in format f,
// for when the response status has already been sent: Anthropic "event: error",
// OpenAI a final data line with an error object (and no [DONE]), Gemini a data
// frame with a google.rpc.Status error, Responses "event: error" then
// response.failed.
func StreamErrorEvent(f config.Format, status int, msg string) []byte {
	body := ErrorBody(f, status, msg, "")
	var b []byte
	switch f {
	case config.FormatResponses:
		// The SDKs raise on "event: error"; Codex waits for response.failed.
		return newResponsesEncoder(RequestInfo{}).fail(nil, status, msg)
	case config.FormatAnthropic:
		b = append(b, "event: error\ndata: "...)
		b = append(b, body...)
		b = append(b, "\n\n"...)
	case config.FormatGemini:
		b = append(b, "data: "...)
		b = append(b, body...)
		b = append(b, "\r\n\r\n"...)
	default:
		b = append(b, "data: "...)
		b = append(b, body...)
		b = append(b, "\n\n"...)
	}
	return b
}

// ErrorMessage extracts the human message from an error body of any provider
// shape (OpenAI, Anthropic, Gemini, Mistral, Ollama, OpenRouter), or returns a
// short excerpt of the body when it has none.
func ErrorMessage(body []byte) string {
	if gjson.ValidBytes(body) {
		for _, path := range []string{"error.message", "message", "error", "detail.0.msg", "detail", "message.detail.0.msg"} {
			r := gjson.GetBytes(body, path)
			if r.Type == gjson.String && r.Str != "" {
				return r.Str
			}
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// TranslateError turns an upstream error body in format from into the client's
// format to. Same format: the body is returned untouched. Otherwise the status
// becomes the one the client's SDKs expect for the same condition (Anthropic's
// 529 is 503 elsewhere; Gemini's 400 API_KEY_INVALID is 401), the error type
// follows that status, and an OpenAI client keeps the upstream's error code
// (context_length_exceeded, insufficient_quota, overloaded_error, ...).
func TranslateError(from, to config.Format, status int, body []byte) (int, []byte) {
	if from == to && gjson.ValidBytes(body) {
		return status, body
	}
	msg := ErrorMessage(body)
	if msg == "" {
		msg = "upstream returned HTTP " + strconv.Itoa(status)
	}
	status = clientStatus(to, status, body)
	return status, ErrorBody(to, status, msg, errorCode(body))
}

// clientStatus maps an upstream error status to the status a client of format
// to expects for the same condition.
func clientStatus(to config.Format, status int, body []byte) int {
	if status == 400 && gjson.GetBytes(body, `error.details.#(reason=="API_KEY_INVALID")`).Exists() {
		return 401
	}
	if status == 529 && to != config.FormatAnthropic {
		return 503 // only Anthropic uses 529; the others say overloaded with 503
	}
	return status
}

// errorCode returns the upstream's machine-readable error code, "" when none:
// OpenAI error.code, else Anthropic error.type or Gemini error.status.
func errorCode(body []byte) string {
	for _, path := range []string{"error.code", "error.type", "error.status"} {
		if r := gjson.GetBytes(body, path); r.Type == gjson.String && r.Str != "" {
			return r.Str
		}
	}
	return ""
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
