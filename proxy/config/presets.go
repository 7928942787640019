package config

// Presets returns the built-in providers, freshly allocated (callers may modify them).
// Model globs are used only for models asked for without a provider prefix, so a
// preset with no globs (groq, openrouter, ...) is reached as "name/model".
func Presets() []Provider {
	ps := []Provider{
		{Name: "openai", Format: FormatOpenAI, BaseURL: "https://api.openai.com/v1",
			Models: []string{"gpt-*", "o1*", "o3*", "o4*", "chatgpt-*", "text-embedding-*", "codex-*"}, KeyEnv: "OPENAI_API_KEY"},
		{Name: "anthropic", Format: FormatAnthropic, BaseURL: "https://api.anthropic.com/v1",
			Models: []string{"claude-*"}, KeyEnv: "ANTHROPIC_API_KEY"},
		{Name: "gemini", Format: FormatGemini, BaseURL: "https://generativelanguage.googleapis.com/v1beta",
			Models: []string{"gemini-*", "gemma-*"}, KeyEnv: "GEMINI_API_KEY"},
		{Name: "mistral", Format: FormatOpenAI, BaseURL: "https://api.mistral.ai/v1",
			Models: []string{"mistral-*", "codestral-*", "magistral-*", "devstral-*", "pixtral-*", "ministral-*"}, KeyEnv: "MISTRAL_API_KEY"},
		{Name: "groq", Format: FormatOpenAI, BaseURL: "https://api.groq.com/openai/v1", KeyEnv: "GROQ_API_KEY"},
		{Name: "openrouter", Format: FormatOpenAI, BaseURL: "https://openrouter.ai/api/v1", KeyEnv: "OPENROUTER_API_KEY"},
		{Name: "deepseek", Format: FormatOpenAI, BaseURL: "https://api.deepseek.com/v1",
			Models: []string{"deepseek-*"}, KeyEnv: "DEEPSEEK_API_KEY"},
		{Name: "xai", Format: FormatOpenAI, BaseURL: "https://api.x.ai/v1",
			Models: []string{"grok-*"}, KeyEnv: "XAI_API_KEY"},
		{Name: "together", Format: FormatOpenAI, BaseURL: "https://api.together.xyz/v1", KeyEnv: "TOGETHER_API_KEY"},
		{Name: "fireworks", Format: FormatOpenAI, BaseURL: "https://api.fireworks.ai/inference/v1",
			Models: []string{"accounts/fireworks/*"}, KeyEnv: "FIREWORKS_API_KEY"},
		{Name: "azure", Format: FormatOpenAI, BaseURL: "https://RESOURCE.openai.azure.com/openai", Auth: "api-key",
			KeyEnv: "AZURE_OPENAI_API_KEY", APIVersion: "2024-10-21"},
		{Name: "ollama", Format: FormatOpenAI, BaseURL: "http://127.0.0.1:11434/v1", NoKey: true},
		{Name: "lmstudio", Format: FormatOpenAI, BaseURL: "http://127.0.0.1:1234/v1", NoKey: true},
	}
	for i := range ps {
		ps[i].Preset = true
	}
	return ps
}
