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
