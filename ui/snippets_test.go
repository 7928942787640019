package ui

import (
	"strings"
	"testing"
)

// TestCodexSnippetSpeaksResponses checks the Codex snippet a user pastes:
// Codex no longer accepts wire_api = "chat" (issue 10), and its base_url must
// include /v1.
func TestCodexSnippetSpeaksResponses(t *testing.T) {
	for _, s := range snippets("127.0.0.1:8765") {
		if s.Tool != "Codex" {
			continue
		}
		for _, want := range []string{`wire_api = "responses"`, `base_url = "http://127.0.0.1:8765/v1"`, `model_provider = "gatehouse"`, "[model_providers.gatehouse]"} {
			if !strings.Contains(s.Text, want) {
				t.Errorf("Codex snippet lacks %s:\n%s", want, s.Text)
			}
		}
		return
	}
	t.Fatal("no Codex snippet")
}
