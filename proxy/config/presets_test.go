package config

import (
	"strings"
	"testing"
)

func TestPresetsComplete(t *testing.T) {
	want := []string{"openai", "anthropic", "gemini", "mistral", "groq", "openrouter", "deepseek",
		"xai", "together", "fireworks", "azure", "ollama", "lmstudio"}
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("the presets do not validate: %v", err)
	}
	for _, name := range want {
		p, ok := c.Provider(name)
		if !ok {
			t.Errorf("preset %s missing", name)
			continue
		}
		if !p.Format.Valid() || ValidBaseURL(p.BaseURL) != nil || p.KeyCheck == "" {
			t.Errorf("preset %s: format %q, base %q, key check %q", name, p.Format, p.BaseURL, p.KeyCheck)
		}
		if p.NoKey != (name == "ollama" || name == "lmstudio") {
			t.Errorf("preset %s: NoKey = %v", name, p.NoKey)
		}
		if !p.NoKey && !strings.HasSuffix(p.KeyEnv, "_API_KEY") {
			t.Errorf("preset %s: key env %q", name, p.KeyEnv)
		}
		if p.NoKey && !strings.HasPrefix(p.BaseURL, "http://127.0.0.1:") {
			t.Errorf("local preset %s is not on loopback: %s", name, p.BaseURL)
		}
	}
	for _, tt := range []struct{ name, auth string }{
		{"openai", "bearer"}, {"anthropic", "x-api-key"}, {"gemini", "x-goog-api-key"}, {"azure", "api-key"},
	} {
		if p, _ := c.Provider(tt.name); p.DefaultAuth() != tt.auth {
			t.Errorf("%s auth = %s, want %s", tt.name, p.DefaultAuth(), tt.auth)
		}
	}
}

func TestKeyCheckURL(t *testing.T) {
	src := `
[[provider]]
name = "azure"
resource = "contoso"
deployment = "gpt-4o-prod"

[[provider]]
name = "azure-eu"
format = "openai"
base_url = "https://unused.example"
resource = "contoso-eu"
deployment = "mini"
api_version = "2025-01-01-preview"
`
	c, err := Parse([]byte(src), "config.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ provider, got, want string }{
		{"azure", "check", "https://contoso.openai.azure.com/openai/models?api-version=2024-10-21"},
		{"azure-eu", "auth", "api-key"},
		{"azure-eu", "check", "https://contoso-eu.openai.azure.com/openai/models?api-version=2025-01-01-preview"},
		{"openrouter", "check", "https://openrouter.ai/api/v1/key"},
		{"gemini", "check", "https://generativelanguage.googleapis.com/v1beta/models"},
	}
	for _, tt := range tests {
		p, _ := c.Provider(tt.provider)
		var got string
		switch tt.got {
		case "check":
			got = p.KeyCheckURL()
		case "auth":
			got = p.DefaultAuth()
		}
		if got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.provider, tt.got, got, tt.want)
		}
	}
}

// TestWireFormat checks which format a call goes out in: Responses clients
// pass through only to providers that serve /responses (the openai preset,
// or a provider that says so), and api = "responses" sends every client there.
func TestWireFormat(t *testing.T) {
	src := `
[[provider]]
name = "openai-pro"
format = "openai"
base_url = "https://api.openai.com/v1"
api = "responses"

[[provider]]
name = "vllm"
format = "openai"
base_url = "http://127.0.0.1:8000/v1"
responses = true

[[provider]]
name = "openai"
responses = false
`
	c, err := Parse([]byte(src), "config.toml")
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	tests := []struct {
		cfg      *Config
		provider string
		client   Format
		want     Format
	}{
		{def, "openai", FormatResponses, FormatResponses},
		{def, "openai", FormatOpenAI, FormatOpenAI},
		{def, "groq", FormatResponses, FormatOpenAI},
		{def, "anthropic", FormatResponses, FormatAnthropic},
		{def, "gemini", FormatResponses, FormatGemini},
		{c, "openai", FormatResponses, FormatOpenAI},
		{c, "openai-pro", FormatOpenAI, FormatResponses},
		{c, "openai-pro", FormatAnthropic, FormatResponses},
		{c, "openai-pro", FormatResponses, FormatResponses},
		{c, "vllm", FormatResponses, FormatResponses},
		{c, "vllm", FormatGemini, FormatOpenAI},
	}
	for _, tt := range tests {
		p, _ := tt.cfg.Provider(tt.provider)
		if got := p.WireFormat(tt.client); got != tt.want {
			t.Errorf("%s.WireFormat(%s) = %s, want %s", tt.provider, tt.client, got, tt.want)
		}
	}
	for _, bad := range []string{
		"[[provider]]\nname = \"x\"\nformat = \"openai\"\nbase_url = \"https://x.example/v1\"\napi = \"completions\"\n",
		"[[provider]]\nname = \"x\"\nformat = \"anthropic\"\nbase_url = \"https://x.example/v1\"\napi = \"responses\"\n",
	} {
		if _, err := Parse([]byte(bad), "config.toml"); err == nil || !strings.Contains(err.Error(), "api") {
			t.Errorf("Parse(%q) error = %v, want one naming api", bad, err)
		}
	}
}
