package config

import "strings"

// Presets returns the built-in providers, freshly allocated (callers may modify them).
// Model globs are used only for models asked for without a provider prefix, so a
// preset with no globs (groq, openrouter, ...) is reached as "name/model".
//
// Each preset says how a key is checked (KeyCheck, a cheap authenticated GET
// relative to the base URL; "/models" when empty). OpenRouter's /models answers
// without a key, so it checks /key instead.
func Presets() []Provider {
	ps := []Provider{
		{Name: "openai", Format: FormatOpenAI, BaseURL: "https://api.openai.com/v1",
			Models: []string{"gpt-*", "o1*", "o3*", "o4*", "chatgpt-*", "text-embedding-*", "codex-*"}, KeyEnv: "OPENAI_API_KEY",
			KeyCheck: "/models", Responses: ptr(true)},
		{Name: "anthropic", Format: FormatAnthropic, BaseURL: "https://api.anthropic.com/v1",
			Models: []string{"claude-*"}, KeyEnv: "ANTHROPIC_API_KEY", KeyCheck: "/models"},
		{Name: "gemini", Format: FormatGemini, BaseURL: "https://generativelanguage.googleapis.com/v1beta",
			Models: []string{"gemini-*", "gemma-*"}, KeyEnv: "GEMINI_API_KEY", KeyCheck: "/models"},
		{Name: "mistral", Format: FormatOpenAI, BaseURL: "https://api.mistral.ai/v1",
			Models: []string{"mistral-*", "codestral-*", "magistral-*", "devstral-*", "pixtral-*", "ministral-*"}, KeyEnv: "MISTRAL_API_KEY",
			KeyCheck: "/models"},
		{Name: "groq", Format: FormatOpenAI, BaseURL: "https://api.groq.com/openai/v1", KeyEnv: "GROQ_API_KEY", KeyCheck: "/models"},
		{Name: "openrouter", Format: FormatOpenAI, BaseURL: "https://openrouter.ai/api/v1", KeyEnv: "OPENROUTER_API_KEY", KeyCheck: "/key"},
		{Name: "deepseek", Format: FormatOpenAI, BaseURL: "https://api.deepseek.com/v1",
			Models: []string{"deepseek-*"}, KeyEnv: "DEEPSEEK_API_KEY", KeyCheck: "/models"},
		{Name: "xai", Format: FormatOpenAI, BaseURL: "https://api.x.ai/v1",
			Models: []string{"grok-*"}, KeyEnv: "XAI_API_KEY", KeyCheck: "/models"},
		{Name: "together", Format: FormatOpenAI, BaseURL: "https://api.together.xyz/v1", KeyEnv: "TOGETHER_API_KEY", KeyCheck: "/models"},
		{Name: "fireworks", Format: FormatOpenAI, BaseURL: "https://api.fireworks.ai/inference/v1",
			Models: []string{"accounts/fireworks/*"}, KeyEnv: "FIREWORKS_API_KEY", KeyCheck: "/models"},
		// Azure OpenAI: set resource and deployment (and api_version to pin another
		// one); the proxy builds deployment URLs from them, and the key goes in "api-key".
		{Name: "azure", Format: FormatOpenAI, BaseURL: "https://RESOURCE.openai.azure.com/openai", Auth: "api-key",
			KeyEnv: "AZURE_OPENAI_API_KEY", APIVersion: "2024-10-21", KeyCheck: "/models"},
		{Name: "ollama", Format: FormatOpenAI, BaseURL: "http://127.0.0.1:11434/v1", NoKey: true, KeyCheck: "/models"},
		{Name: "lmstudio", Format: FormatOpenAI, BaseURL: "http://127.0.0.1:1234/v1", NoKey: true, KeyCheck: "/models"},
	}
	for i := range ps {
		ps[i].Preset = true
		// Only the first-party APIs take a key the client sent in their own
		// auth header (issue 19.4).
		switch ps[i].Name {
		case "openai", "anthropic", "gemini":
			ps[i].ClientKeys = ptr(true)
		}
	}
	return ps
}

func ptr[T any](v T) *T { return &v }

// KeyCheckURL is the URL of the cheap authenticated GET that checks p's key
// (KeyCheck, default "/models"). For Azure it is the resource's model list,
// which needs no deployment.
func (p *Provider) KeyCheckURL() string {
	check := p.KeyCheck
	if check == "" {
		check = "/models"
	}
	return p.withVersion(strings.TrimSuffix(p.resourceBase(), "/") + check)
}

func (p *Provider) resourceBase() string {
	if p.Resource != "" {
		return "https://" + p.Resource + ".openai.azure.com/openai"
	}
	return p.BaseURL
}

func (p *Provider) withVersion(u string) string {
	if p.APIVersion == "" { // only Azure has one

		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "api-version=" + p.APIVersion
}
