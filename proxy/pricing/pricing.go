// Package pricing puts a price on a call: a built-in table of per-model token
// prices (prices.go: dated, with its sources), overridable per model by the
// config's [[price]] tables, and Cost, which prices one call's usage.
package pricing

import (
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
)

// Price is a model's price in US dollars per million tokens.
type Price struct {
	Input       float64 // prompt tokens not read from or written to the cache
	CachedInput float64 // prompt tokens read from the cache
	CacheWrite  float64 // prompt tokens written to the cache; 0: Input
	Output      float64 // generated tokens
	Reasoning   float64 // thinking tokens (part of the output); 0: Output
}

// Table is a set of model prices. It is immutable and safe for concurrent use.
type Table struct {
	prices map[string]Price
	keys   []string // the names of prices, longest first (prefix lookups)
}

// New returns the built-in table with overrides applied (config [[price]]).
func New(overrides []config.Price) *Table {
	t := &Table{prices: make(map[string]Price, len(builtin)+len(overrides))}
	for k, p := range builtin {
		t.prices[k] = p
	}
	for _, o := range overrides {
		p := Price{Input: *o.Input, Output: *o.Output, CachedInput: *o.Input}
		if o.CachedInput != nil {
			p.CachedInput = *o.CachedInput
		}
		if o.CacheWrite != nil {
			p.CacheWrite = *o.CacheWrite
		}
		if o.Reasoning != nil {
			p.Reasoning = *o.Reasoning
		}
		t.prices[strings.ToLower(o.Model)] = p
	}
	for k := range t.prices {
		t.keys = append(t.keys, k)
	}
	sort.Slice(t.keys, func(i, j int) bool {
		if len(t.keys[i]) != len(t.keys[j]) {
			return len(t.keys[i]) > len(t.keys[j])
		}
		return t.keys[i] < t.keys[j]
	})
	return t
}

var defaultTable = New(nil)

// Default is the built-in table.
func Default() *Table { return defaultTable }

// Cost prices u for model with the built-in table; see Table.Cost.
func Cost(model string, u codec.Usage) (usd float64, known bool) { return defaultTable.Cost(model, u) }

// Cost is what a call to model that used u costs, in US dollars. known is false
// when the model has no price or the upstream reported no input or output
// count: such a call shows "–", never 0.
//
// InputTokens includes cached ones (codec.Usage): the cache reads and writes
// are priced at their own rates and the rest at Input; the reasoning part of
// OutputTokens at Reasoning and the rest at Output.
func (t *Table) Cost(model string, u codec.Usage) (usd float64, known bool) {
	if u.InputTokens < 0 || u.OutputTokens < 0 {
		return 0, false
	}
	p, ok := t.Lookup(model)
	if !ok {
		return 0, false
	}
	read, write := max(u.CacheReadTokens, 0), max(u.CacheWriteTokens, 0)
	fresh := max(u.InputTokens-read-write, 0)
	reasoning := min(max(u.ReasoningTokens, 0), u.OutputTokens)
	cacheWrite, reasoningPrice := p.CacheWrite, p.Reasoning
	if cacheWrite == 0 {
		cacheWrite = p.Input
	}
	if reasoningPrice == 0 {
		reasoningPrice = p.Output
	}
	usd = float64(fresh)*p.Input + float64(read)*p.CachedInput + float64(write)*cacheWrite +
		float64(u.OutputTokens-reasoning)*p.Output + float64(reasoning)*reasoningPrice
	return usd / 1e6, true
}

// Lookup finds model's price. Names are matched without case, after dropping a
// "vendor/" prefix (OpenRouter's "anthropic/claude-haiku-4.5", Gemini's
// "models/"); a name with a dated or versioned suffix ("gpt-4o-2024-08-06",
// "claude-sonnet-4-20250514", "gemini-2.5-flash-preview-05-20", "-latest")
// takes the price of the longest key it extends.
func (t *Table) Lookup(model string) (Price, bool) {
	k, ok := t.Key(model)
	return t.prices[k], ok
}

// Key is the table's name for model (see Lookup): "gpt-4o" for
// "gpt-4o-2024-08-06". The metrics use it as a bounded model label.
func (t *Table) Key(model string) (string, bool) {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	if k, ok := t.find(m); ok {
		return k, true
	}
	for alias, key := range aliases {
		if m == alias || extends(m, alias) {
			return t.find(key)
		}
	}
	return "", false
}

func (t *Table) find(m string) (string, bool) {
	if _, ok := t.prices[m]; ok {
		return m, true
	}
	for _, k := range t.keys {
		if extends(m, k) {
			return k, true
		}
	}
	return "", false
}

// extends reports whether m is key plus a date, version or release suffix.
// Other suffixes name other models ("gpt-5.4" is not "gpt-5.4-pro").
func extends(m, key string) bool {
	rest, ok := strings.CutPrefix(m, key)
	if !ok || rest == "" || (rest[0] != '-' && rest[0] != '@' && rest[0] != ':') {
		return false
	}
	rest = rest[1:]
	if rest == "" {
		return false
	}
	if rest[0] >= '0' && rest[0] <= '9' {
		return true
	}
	for _, s := range []string{"latest", "preview", "exp"} {
		if strings.HasPrefix(rest, s) {
			return true
		}
	}
	return false
}
