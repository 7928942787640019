package codec

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// A client written for one provider sends values another rejects with a 400:
// Claude Code asks for max_tokens 32000 and thinking budgets near it, and a
// metadata.user_id far longer than OpenAI's 64-character user. fitTarget
// bends a translated request to what the target model accepts, where that is
// known (issue 10 §3).

// outputLimits are the largest max output tokens of model families, by name
// prefix; the first match wins, so longer prefixes come first.
var outputLimits = []struct {
	prefix string
	limit  int
}{
	{"gpt-4o", 16384}, {"chatgpt-4o", 16384}, {"gpt-4.1", 32768}, {"gpt-4-turbo", 4096}, {"gpt-3.5", 4096},
	{"gpt-5", 128000}, {"o1-mini", 65536}, {"o1", 100000}, {"o3", 100000}, {"o4", 100000},
	{"claude-opus-4", 32000}, {"claude-sonnet-4", 64000}, {"claude-haiku-4", 64000}, {"claude-3-7", 64000},
	{"claude-3-5", 8192}, {"claude-3", 4096},
	{"gemini-1.5", 8192}, {"gemini-2.0", 8192}, {"gemini-2.5", 65536}, {"gemini-3", 65536},
	{"deepseek-chat", 8192}, {"deepseek-reasoner", 65536},
}

// modelFamily strips path prefixes ("models/", "accounts/x/models/",
// "openai/") so that family prefixes match.
func modelFamily(model string) string {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		model = model[i+1:]
	}
	return strings.ToLower(model)
}

// outputLimit returns the max output tokens of model's family, if known.
func outputLimit(model string) (int, bool) {
	m := modelFamily(model)
	for _, l := range outputLimits {
		if strings.HasPrefix(m, l.prefix) {
			return l.limit, true
		}
	}
	return 0, false
}

// geminiThinkingMax is the largest thinkingBudget of a Gemini model (0: the
// model does not think, or only at levels).
func geminiThinkingMax(model string) int {
	m := modelFamily(model)
	switch {
	case strings.HasPrefix(m, "gemini-1"), strings.HasPrefix(m, "gemini-2.0"), strings.HasPrefix(m, "gemma"):
		return 0
	case strings.Contains(m, "flash"):
		return 24576
	}
	return 32768
}

// reasoningModel matches OpenAI models that accept reasoning settings; the
// others answer 400 to reasoning.effort.
var reasoningModel = regexp.MustCompile(`^(o\d|gpt-5|codex)`)

// maxUser is OpenAI's limit on user and safety_identifier.
const maxUser = 64

// shortUser keeps an end-user id within maxUser characters: a longer one is
// replaced by its SHA-256 (hex, 64 characters), which still tells users apart.
func shortUser(id string) string {
	if len(id) <= maxUser {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// fitTarget adapts req to the target format and model.
func fitTarget(req *chatRequest, to config.Format, model string) {
	if limit, ok := outputLimit(model); ok && req.MaxTokens != nil && *req.MaxTokens > limit {
		*req.MaxTokens = limit
	}
	switch to {
	case config.FormatGemini:
		if !req.Thinking.Enabled {
			break
		}
		if top := geminiThinkingMax(model); top == 0 {
			req.Thinking = Thinking{}
		} else if req.Thinking.Budget > top {
			req.Thinking.Budget = top
		}
	case config.FormatResponses:
		if !reasoningModel.MatchString(modelFamily(model)) {
			req.Thinking = Thinking{}
		}
		req.User = shortUser(req.User)
	case config.FormatOpenAI:
		req.User = shortUser(req.User)
	}
}
