package codec

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

func TestErrorBodyTypes(t *testing.T) {
	tests := []struct {
		status                  int
		openai, anthropic, gemi string
	}{
		{400, "invalid_request_error", "invalid_request_error", "INVALID_ARGUMENT"},
		{401, "authentication_error", "authentication_error", "UNAUTHENTICATED"},
		{403, "permission_error", "permission_error", "PERMISSION_DENIED"},
		{404, "not_found_error", "not_found_error", "NOT_FOUND"},
		{413, "invalid_request_error", "request_too_large", "INVALID_ARGUMENT"},
		{429, "rate_limit_error", "rate_limit_error", "RESOURCE_EXHAUSTED"},
		{500, "server_error", "api_error", "INTERNAL"},
		{503, "service_unavailable_error", "overloaded_error", "UNAVAILABLE"},
		{529, "service_unavailable_error", "overloaded_error", "UNAVAILABLE"},
		{504, "timeout_error", "timeout_error", "DEADLINE_EXCEEDED"},
	}
	for _, tt := range tests {
		o := ErrorBody(config.FormatOpenAI, tt.status, "m", "")
		a := ErrorBody(config.FormatAnthropic, tt.status, "m", "")
		g := ErrorBody(config.FormatGemini, tt.status, "m", "")
		if got := gjson.GetBytes(o, "error.type").String(); got != tt.openai {
			t.Errorf("%d openai type got %q, want %q", tt.status, got, tt.openai)
		}
		if got := gjson.GetBytes(a, "error.type").String(); got != tt.anthropic || gjson.GetBytes(a, "type").String() != "error" {
			t.Errorf("%d anthropic body got %s, want type %q", tt.status, a, tt.anthropic)
		}
		if got := gjson.GetBytes(g, "error.status").String(); got != tt.gemi || gjson.GetBytes(g, "error.code").Int() != int64(tt.status) {
			t.Errorf("%d gemini body got %s, want status %q", tt.status, g, tt.gemi)
		}
	}
}

// TestTranslateErrorFixtures turns every recorded provider error into each
// client format: valid JSON of that format's shape, the upstream's message kept.
func TestTranslateErrorFixtures(t *testing.T) {
	files, _ := globFixtures("testdata/errors/*.json")
	if len(files) < 20 {
		t.Fatalf("found %d error fixtures", len(files))
	}
	for _, path := range files {
		fx := readFile(t, path)
		status := int(gjson.GetBytes(fx, "status").Int())
		body := gjson.GetBytes(fx, "body")
		raw := []byte(body.Raw)
		if body.Type == gjson.String {
			raw = []byte(body.Str)
		}
		from := config.FormatOpenAI
		switch {
		case strings.Contains(path, "anthropic_"):
			from = config.FormatAnthropic
		case strings.Contains(path, "gemini_"):
			from = config.FormatGemini
		}
		msg := ErrorMessage(raw)
		for _, to := range formats {
			if to == from {
				continue
			}
			name := filepath.Base(path) + "_to_" + string(to)
			t.Run(name, func(t *testing.T) {
				gotStatus, out := TranslateError(from, to, status, raw)
				if !gjson.ValidBytes(out) {
					t.Fatalf("invalid JSON: %s", out)
				}
				if msg == "" || !strings.Contains(gjson.GetBytes(out, "error.message").String(), msg) {
					t.Errorf("message got %q, want the upstream's %q", gjson.GetBytes(out, "error.message"), msg)
				}
				switch to {
				case config.FormatAnthropic:
					if gjson.GetBytes(out, "type").String() != "error" || gjson.GetBytes(out, "error.type").String() != anthropicErrorType(gotStatus) {
						t.Errorf("anthropic shape: %s", out)
					}
				case config.FormatGemini:
					if gjson.GetBytes(out, "error.code").Int() != int64(gotStatus) {
						t.Errorf("gemini shape: %s", out)
					}
				default:
					if !gjson.GetBytes(out, "error.type").Exists() || !gjson.GetBytes(out, "error.param").Exists() {
						t.Errorf("openai shape: %s", out)
					}
				}
				checkGolden(t, "error/"+name, append([]byte("HTTP "+strconv.Itoa(gotStatus)+"\n"), indentJSON(t, out)...))
			})
		}
	}
}

func TestTranslateErrorStatus(t *testing.T) {
	st, body := TranslateError(config.FormatAnthropic, config.FormatOpenAI, 529, []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	if st != 503 || gjson.GetBytes(body, "error.code").String() != "overloaded_error" {
		t.Errorf("529 to OpenAI got %d %s, want 503 with code overloaded_error", st, body)
	}
	st, _ = TranslateError(config.FormatAnthropic, config.FormatAnthropic, 529, []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	if st != 529 {
		t.Errorf("same format changed the status to %d", st)
	}
	g := readFile(t, "testdata/errors/gemini_400_api_key_invalid.json")
	st, body = TranslateError(config.FormatGemini, config.FormatAnthropic, 400, []byte(gjson.GetBytes(g, "body").Raw))
	if st != 401 || gjson.GetBytes(body, "error.type").String() != "authentication_error" {
		t.Errorf("Gemini API_KEY_INVALID to Anthropic got %d %s, want 401 authentication_error", st, body)
	}
	st, body = TranslateError(config.FormatOpenAI, config.FormatAnthropic, 429, []byte(`{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`))
	if st != 429 || gjson.GetBytes(body, "error.type").String() != "rate_limit_error" {
		t.Errorf("429 to Anthropic got %d %s", st, body)
	}
}
