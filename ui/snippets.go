package ui

import "strings"

// snippet is a ready-to-paste configuration for one tool.
type snippet struct {
	Tool, Where, Text string
}

// snippets returns the configuration of common tools for a proxy at addr.
func snippets(addr string) []snippet {
	openai := "http://" + addr + "/v1"
	anthropic := "http://" + addr
	s := []snippet{
		{"OpenAI SDKs (env)", "shell", `export OPENAI_BASE_URL={openai}
export OPENAI_API_KEY=gatehouse   # any value: Gatehouse adds the key from the keychain`},
		{"Claude Code", "shell", `export ANTHROPIC_BASE_URL={anthropic}
export ANTHROPIC_AUTH_TOKEN=gatehouse   # any value: Gatehouse adds the key
claude`},
		{"Aider", "shell", `export OPENAI_API_BASE={openai}
export OPENAI_API_KEY=gatehouse
aider --model openai/gpt-4o`},
		{"Continue", "~/.continue/config.yaml", `models:
  - name: GPT-4o via Gatehouse
    provider: openai
    model: gpt-4o
    apiBase: {openai}
    apiKey: gatehouse`},
		// Codex speaks only the Responses API; Gatehouse translates it for
		// models of other formats (claude-*, gemini-*, groq/...).
		{"Codex", "~/.codex/config.toml", `model = "gpt-5"   # or claude-sonnet-4-5, gemini-2.5-pro
model_provider = "gatehouse"

[model_providers.gatehouse]
name = "Gatehouse"
base_url = "{openai}"
env_key = "OPENAI_API_KEY"   # any value: Gatehouse adds the key
wire_api = "responses"`},
	}
	r := strings.NewReplacer("{openai}", openai, "{anthropic}", anthropic)
	for i := range s {
		s[i].Text = r.Replace(s[i].Text)
	}
	return s
}
