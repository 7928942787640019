package codec

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

// claudeCodeRequest has what Claude Code 2.1 sends that other providers
// reject: system entries inside messages, max_tokens 32000 with a thinking
// budget just under it, a long metadata.user_id and cache_control marks.
const claudeCodeRequest = `{"model":"claude-sonnet-4-5","max_tokens":32000,
"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],
"messages":[
 {"role":"user","content":[{"type":"text","text":"List the files.","cache_control":{"type":"ephemeral"}}]},
 {"role":"system","content":"<system-reminder>The user is in /work.</system-reminder>"},
 {"role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"ls"}}]},
 {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"a.go\nb.go","cache_control":{"type":"ephemeral"}}]},
 {"role":"system","content":[{"type":"text","text":"Be brief this turn."}]}
],
"tools":[{"name":"Bash","description":"Run a command","input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]},"cache_control":{"type":"ephemeral"}}],
"thinking":{"type":"enabled","budget_tokens":31999},
"metadata":{"user_id":"user_3f1c9a7e5b2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a_account_6b2a0d8e-1f4c-4e9a-9b7d-3c5e7f9a1b2c_session_8d4f2b6a-0e3c-4a7d-9f1b-5c7e9a2b4d6f"},
"stream":true}`

func TestClaudeCodeRequestFitsEveryTarget(t *testing.T) {
	tests := []struct {
		to    config.Format
		model string
		check map[string]string // gjson path → want ("" = must be absent)
	}{
		{config.FormatOpenAI, "gpt-4o", map[string]string{
			"max_completion_tokens": "16384", "reasoning_effort": "", "messages.#": "4",
			"messages.0.content": "You are Claude Code.\n<system-reminder>The user is in /work.</system-reminder>\nBe brief this turn.",
		}},
		{config.FormatOpenAI, "llama-3.3-70b-versatile", map[string]string{"max_tokens": "32000"}},
		{config.FormatGemini, "gemini-2.5-flash", map[string]string{
			"generationConfig.maxOutputTokens": "32000", "generationConfig.thinkingConfig.thinkingBudget": "24576",
			"systemInstruction.parts.0.text": "You are Claude Code.\n<system-reminder>The user is in /work.</system-reminder>\nBe brief this turn.",
		}},
		{config.FormatGemini, "gemini-2.0-flash", map[string]string{"generationConfig.maxOutputTokens": "8192", "generationConfig.thinkingConfig": ""}},
		{config.FormatResponses, "o3-pro", map[string]string{"max_output_tokens": "32000", "reasoning.effort": "high"}},
		{config.FormatResponses, "gpt-4.1", map[string]string{"max_output_tokens": "32000", "reasoning": ""}},
	}
	for _, tt := range tests {
		t.Run(string(tt.to)+"/"+tt.model, func(t *testing.T) {
			out, _, err := Request(config.FormatAnthropic, tt.to, []byte(claudeCodeRequest), RequestOptions{Model: tt.model, Stream: true})
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			for path, want := range tt.check {
				got := gjson.GetBytes(out, path)
				if want == "" && got.Exists() || want != "" && got.String() != want {
					t.Errorf("%s got %q, want %q\n%s", path, got.Raw, want, out)
				}
			}
			if strings.Contains(string(out), "cache_control") || strings.Contains(string(out), `"system"`) && tt.to == config.FormatGemini {
				t.Errorf("Anthropic-only fields reached %s: %s", tt.to, out)
			}
			for _, path := range []string{"user", "safety_identifier"} {
				if u := gjson.GetBytes(out, path).String(); len(u) > 64 {
					t.Errorf("%s is %d characters; OpenAI allows 64", path, len(u))
				}
			}
		})
	}
}

// TestAdaptiveThinkingDisplayOmitted: Claude Code 2.1 asks for adaptive
// thinking with display "omitted" (captured); a Gemini target then thinks
// without sending its thoughts.
func TestAdaptiveThinkingDisplayOmitted(t *testing.T) {
	body := `{"model":"m","max_tokens":32000,"thinking":{"type":"adaptive","display":"omitted"},"messages":[{"role":"user","content":"hi"}]}`
	out, _ := mustRequest(t, config.FormatAnthropic, config.FormatGemini, body, RequestOptions{Model: "gemini-2.5-pro"})
	if tc := gjson.GetBytes(out, "generationConfig.thinkingConfig"); !tc.Exists() || tc.Get("includeThoughts").Bool() {
		t.Errorf("thinkingConfig got %s, want thinking without thoughts", tc.Raw)
	}
}
