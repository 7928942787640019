package pricing

import (
	"math"
	"testing"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
)

func usage(in, out, read, write, reasoning int64) codec.Usage {
	return codec.Usage{InputTokens: in, OutputTokens: out, CacheReadTokens: read, CacheWriteTokens: write, ReasoningTokens: reasoning}
}

func TestCost(t *testing.T) {
	tests := []struct {
		name  string
		model string
		u     codec.Usage
		want  float64
		known bool
	}{
		{"plain", "gpt-4o", usage(1_000_000, 1_000_000, -1, -1, -1), 2.50 + 10.00, true},
		{"dated name", "gpt-4o-2024-08-06", usage(1000, 500, -1, -1, -1), (1000*2.50 + 500*10.00) / 1e6, true},
		{"mini is not 4o", "gpt-4o-mini-2024-07-18", usage(1_000_000, 0, -1, -1, -1), 0.15, true},
		// Anthropic: 100 fresh + 800 read + 100 written of 1000 input tokens.
		{"cache", "claude-sonnet-4-20250514", usage(1000, 200, 800, 100, -1), (100*3.00 + 800*0.30 + 100*3.75 + 200*15.00) / 1e6, true},
		{"openrouter name", "anthropic/claude-4.5-haiku-20251001", usage(1_000_000, 0, 0, 0, 0), 1.00, true},
		{"gemini", "models/gemini-2.5-flash", usage(2_000_000, 1_000_000, 0, 0, 500_000), 0.60 + 2.50, true},
		{"unknown model", "llama3.2", usage(10, 10, -1, -1, -1), 0, false},
		{"other model of a family", "gpt-5.4-turbo", usage(10, 10, -1, -1, -1), 0, false},
		{"unknown usage", "gpt-4o", usage(-1, -1, -1, -1, -1), 0, false},
		{"zero tokens", "gpt-4o", usage(0, 0, -1, -1, -1), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, known := Cost(tt.model, tt.u)
			if known != tt.known || math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Cost(%q, %+v) = %v, %v; want %v, %v", tt.model, tt.u, got, known, tt.want, tt.known)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	in, out, cached, reasoning := 0.0, 0.0, 0.0, 0.0
	one, two := 1.0, 2.0
	tab := New([]config.Price{
		{Model: "llama3.2", Input: &in, Output: &out},
		{Model: "GPT-4o", Input: &one, Output: &two, CachedInput: &cached, Reasoning: &reasoning},
	})
	if got, known := tab.Cost("llama3.2", usage(1000, 1000, -1, -1, -1)); !known || got != 0 {
		t.Errorf("free local model: got %v, %v; want 0, true", got, known)
	}
	// reasoning = 0 means "the output price", as in the built-in table.
	if got, _ := tab.Cost("gpt-4o-2024-11-20", usage(1_000_000, 1_000_000, 500_000, -1, 1000)); math.Abs(got-(0.5+2)) > 1e-9 {
		t.Errorf("overridden gpt-4o: got %v, want 2.5", got)
	}
	if got, _ := Cost("gpt-4o", usage(1_000_000, 0, -1, -1, -1)); got != 2.50 {
		t.Errorf("the built-in table changed with an override: got %v", got)
	}
}

// TestTableCoversFixtures: every hosted model the presets route and the
// fixtures use has a price.
func TestTableCoversFixtures(t *testing.T) {
	for _, m := range []string{
		"gpt-4o-2024-08-06", "gpt-4.1", "gpt-4.1-2025-04-14", "claude-sonnet-4-20250514", "claude-sonnet-4-5",
		"deepseek-reasoner", "openai/gpt-5.4-nano-20260317", "gemini-2.5-flash", "anthropic/claude-haiku-4.5", "gpt-4o-2024-11-20",
		"deepseek-chat", "o4-mini", "gemini-2.5-pro",
	} {
		if _, ok := Default().Lookup(m); !ok {
			t.Errorf("Lookup(%q): no price", m)
		}
	}
}
