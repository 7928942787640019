package pricing

// TableDate is the day the built-in prices were last checked.
const TableDate = "2026-11-30"

// Sources are the pages the built-in prices were transcribed from (standard
// tier, no batch or priority discounts, prompts under any long-context tier).
var Sources = []string{
	"https://developers.openai.com/api/docs/pricing",
	"https://platform.claude.com/docs/en/about-claude/pricing",
	"https://ai.google.dev/gemini-api/docs/pricing",
	"https://api-docs.deepseek.com/quick_start/pricing",
}

// builtin is the price table, in US dollars per million tokens: input,
// cached input (cache reads), cache write, output, reasoning. A zero cache
// write means the input price; a zero reasoning price means the output price
// (every provider listed bills thinking as output). Keys are model names as
// the providers' APIs take them; dated names ("gpt-4o-2024-08-06",
// "claude-sonnet-4-20250514") find their undated key (see Table.Lookup).
//
// Known gaps: Gemini 2.5 Pro bills prompts over 200k tokens at a higher rate
// (2.50/0.25/15.00), and Anthropic's 1-hour cache writes cost 2× input, not
// the 5-minute 1.25× listed here; Gatehouse cannot tell them apart from the
// usage the upstream reports.
var builtin = map[string]Price{
	// OpenAI (developers.openai.com/api/docs/pricing).
	"gpt-5.5":      {Input: 5.00, CachedInput: 0.50, Output: 30.00},
	"gpt-5.5-pro":  {Input: 30.00, CachedInput: 30.00, Output: 180.00},
	"gpt-5.4":      {Input: 2.50, CachedInput: 0.25, Output: 15.00},
	"gpt-5.4-mini": {Input: 0.75, CachedInput: 0.075, Output: 4.50},
	"gpt-5.4-nano": {Input: 0.20, CachedInput: 0.02, Output: 1.25},
	"gpt-5.4-pro":  {Input: 30.00, CachedInput: 30.00, Output: 180.00},
	"gpt-5.2":      {Input: 1.75, CachedInput: 0.175, Output: 14.00},
	"gpt-5":        {Input: 1.25, CachedInput: 0.125, Output: 10.00},
	"gpt-5-mini":   {Input: 0.25, CachedInput: 0.025, Output: 2.00},
	"gpt-5-nano":   {Input: 0.05, CachedInput: 0.005, Output: 0.40},
	"gpt-4.1":      {Input: 2.00, CachedInput: 0.50, Output: 8.00},
	"gpt-4.1-mini": {Input: 0.40, CachedInput: 0.10, Output: 1.60},
	"gpt-4.1-nano": {Input: 0.10, CachedInput: 0.025, Output: 0.40},
	"gpt-4o":       {Input: 2.50, CachedInput: 1.25, Output: 10.00},
	"gpt-4o-mini":  {Input: 0.15, CachedInput: 0.075, Output: 0.60},
	"o3":           {Input: 2.00, CachedInput: 0.50, Output: 8.00},
	"o3-pro":       {Input: 20.00, CachedInput: 20.00, Output: 80.00},
	"o3-mini":      {Input: 1.10, CachedInput: 0.55, Output: 4.40},
	"o4-mini":      {Input: 1.10, CachedInput: 0.275, Output: 4.40},

	// Anthropic (platform.claude.com/docs/en/about-claude/pricing): cached
	// input is "cache hits", cache write the 5-minute write.
	"claude-opus-5":     {Input: 5.00, CachedInput: 0.50, CacheWrite: 6.25, Output: 25.00},
	"claude-opus-4-8":   {Input: 5.00, CachedInput: 0.50, CacheWrite: 6.25, Output: 25.00},
	"claude-opus-4-7":   {Input: 5.00, CachedInput: 0.50, CacheWrite: 6.25, Output: 25.00},
	"claude-opus-4-6":   {Input: 5.00, CachedInput: 0.50, CacheWrite: 6.25, Output: 25.00},
	"claude-opus-4-5":   {Input: 5.00, CachedInput: 0.50, CacheWrite: 6.25, Output: 25.00},
	"claude-opus-4-1":   {Input: 15.00, CachedInput: 1.50, CacheWrite: 18.75, Output: 75.00},
	"claude-opus-4":     {Input: 15.00, CachedInput: 1.50, CacheWrite: 18.75, Output: 75.00},
	"claude-sonnet-5-5": {Input: 2.00, CachedInput: 0.10, CacheWrite: 2.50, Output: 10.00},
	"claude-sonnet-5":   {Input: 2.00, CachedInput: 0.20, CacheWrite: 2.50, Output: 10.00},
	"claude-sonnet-4-6": {Input: 3.00, CachedInput: 0.30, CacheWrite: 3.75, Output: 15.00},
	"claude-sonnet-4-5": {Input: 3.00, CachedInput: 0.30, CacheWrite: 3.75, Output: 15.00},
	"claude-sonnet-4":   {Input: 3.00, CachedInput: 0.30, CacheWrite: 3.75, Output: 15.00},
	"claude-haiku-4-5":  {Input: 1.00, CachedInput: 0.10, CacheWrite: 1.25, Output: 5.00},
	"claude-3-5-haiku":  {Input: 0.80, CachedInput: 0.08, CacheWrite: 1.00, Output: 4.00},

	// Google (ai.google.dev/gemini-api/docs/pricing), prompts ≤ 200k tokens.
	"gemini-2.5-pro":        {Input: 1.25, CachedInput: 0.125, Output: 10.00},
	"gemini-2.5-flash":      {Input: 0.30, CachedInput: 0.03, Output: 2.50},
	"gemini-2.5-flash-lite": {Input: 0.10, CachedInput: 0.01, Output: 0.40},
	"gemini-2.0-flash":      {Input: 0.10, CachedInput: 0.025, Output: 0.40},
	"gemini-2.0-flash-lite": {Input: 0.075, CachedInput: 0.075, Output: 0.30},

	// DeepSeek (api-docs.deepseek.com/quick_start/pricing): both names serve V3.2.
	"deepseek-chat":     {Input: 0.28, CachedInput: 0.028, Output: 0.42},
	"deepseek-reasoner": {Input: 0.28, CachedInput: 0.028, Output: 0.42},
}

// aliases are other spellings of the keys above: OpenRouter's and the
// dotted forms some clients send.
var aliases = map[string]string{
	"claude-haiku-4.5":  "claude-haiku-4-5",
	"claude-4.5-haiku":  "claude-haiku-4-5",
	"claude-sonnet-4.5": "claude-sonnet-4-5",
	"claude-4.5-sonnet": "claude-sonnet-4-5",
	"claude-sonnet-4.6": "claude-sonnet-4-6",
	"claude-opus-4.5":   "claude-opus-4-5",
	"claude-4.5-opus":   "claude-opus-4-5",
	"claude-sonnet-5.5": "claude-sonnet-5-5",
	"claude-3.5-haiku":  "claude-3-5-haiku",
}
