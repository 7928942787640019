package codec

import (
	"crypto/sha256"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// This file writes the canonical chatRequest in each request format. Only fields
// each target is known to accept are written: Gemini and Mistral reject unknown
// fields (MAPPING.md §2), so nothing is passed through blindly.

// fillToolNames gives every tool result the name of its call (Gemini needs it;
// OpenAI tool messages carry only the id).
func fillToolNames(req *chatRequest) {
	names := map[string]string{}
	for _, m := range req.Messages {
		for i := range m.Parts {
			p := &m.Parts[i]
			switch p.Kind {
			case PartToolCall:
				names[p.ToolID] = p.ToolName
			case PartToolResult:
				if p.ToolName == "" {
					p.ToolName = names[p.ToolID]
				}
			}
		}
	}
}

// appendTurns writes msgs, merged by role, as the elements of a JSON array:
// each turn opens with assistantOpen or userOpen, holds its parts as part
// writes them, falls back to empty when none could be written (the APIs reject
// a turn without content) and closes with "]}".
func appendTurns(b []byte, msgs []Message, assistantOpen, userOpen, empty string, part func([]byte, Part, Role) ([]byte, bool)) []byte {
	for i, m := range mergeRoles(msgs) {
		if i > 0 {
			b = append(b, ',')
		}
		if m.Role == RoleAssistant {
			b = append(b, assistantOpen...)
		} else {
			b = append(b, userOpen...)
		}
		var n int
		if b, n = appendParts(b, m.Parts, m.Role, part); n == 0 {
			b = append(b, empty...)
		}
		b = append(b, `]}`...)
	}
	return b
}

// appendParts writes parts comma-separated; a part that part cannot write is
// left out whole. n is how many were written.
func appendParts(b []byte, parts []Part, role Role, part func([]byte, Part, Role) ([]byte, bool)) (_ []byte, n int) {
	for _, p := range parts {
		before := len(b)
		if n > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = part(b, p, role); !ok {
			b = b[:before]
			continue
		}
		n++
	}
	return b, n
}

// mergeRoles joins consecutive turns of the same role (Anthropic would combine
// them anyway; Gemini requires alternation) and puts tool results first in a
// user turn, as Anthropic requires.
func mergeRoles(msgs []Message) []Message {
	var out []Message
	for _, m := range msgs {
		if len(m.Parts) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Role == m.Role {
			out[n-1].Parts = append(out[n-1].Parts, m.Parts...)
			continue
		}
		out = append(out, Message{Role: m.Role, Parts: append([]Part(nil), m.Parts...)})
	}
	for i := range out {
		if out[i].Role != RoleUser {
			continue
		}
		var results, rest []Part
		for _, p := range out[i].Parts {
			if p.Kind == PartToolResult {
				results = append(results, p)
			} else {
				rest = append(rest, p)
			}
		}
		if len(results) > 0 {
			out[i].Parts = append(results, rest...)
		}
	}
	return out
}

func resultText(parts []Part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Kind == PartText {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func appendFloat(dst []byte, f float64) []byte { return strconv.AppendFloat(dst, f, 'g', -1, 64) }

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

func appendSchema(dst []byte, raw string) []byte {
	if raw == "" {
		return append(dst, `{"type":"object","properties":{}}`...)
	}
	return appendRawObject(dst, raw)
}

// effortBudget maps an OpenAI reasoning_effort to a thinking budget.
func effortBudget(effort string) int {
	switch effort {
	case "low":
		return 1024
	case "high", "xhigh", "max":
		return 16384
	}
	return 4096
}

// ---- OpenAI Chat Completions ----

// newTokenParam matches OpenAI models that accept only max_completion_tokens;
// most OpenAI-compatible servers know only max_tokens.
var newTokenParam = regexp.MustCompile(`^(o\d|gpt-5|gpt-4\.1|gpt-4o)`)

// isMistral reports whether the upstream is Mistral's API, which rejects unknown
// fields with 422 and tool-call ids that are not 9 alphanumerics with 400
// (compat/mistral/NOTES.md).
func isMistral(baseURL string) bool { return strings.Contains(baseURL, "mistral.ai") }

var mistralID = regexp.MustCompile(`^[a-zA-Z0-9]{9}$`)

// mistralToolID maps any tool-call id to one Mistral accepts, the same way every
// time, so that a call and its result still pair up and no state is kept. Ids
// Mistral made itself are kept.
func mistralToolID(id string) string {
	if mistralID.MatchString(id) {
		return id
	}
	const digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	sum := sha256.Sum256([]byte(id))
	out := make([]byte, 9)
	for i := range out {
		out[i] = digits[int(sum[i])%len(digits)]
	}
	return string(out)
}

func encodeOpenAIRequest(req *chatRequest, opt RequestOptions) []byte {
	mistral := isMistral(opt.BaseURL)
	if mistral {
		for _, m := range req.Messages {
			for i := range m.Parts {
				if k := m.Parts[i].Kind; k == PartToolCall || k == PartToolResult {
					m.Parts[i].ToolID = mistralToolID(m.Parts[i].ToolID)
				}
			}
		}
	}
	b := append([]byte(nil), `{"model":`...)
	b = appendString(b, opt.Model)
	b = append(b, `,"messages":[`...)
	n := 0
	sep := func() {
		if n > 0 {
			b = append(b, ',')
		}
		n++
	}
	if sys := resultText(req.System); sys != "" {
		sep()
		b = append(b, `{"role":"system","content":`...)
		b = appendString(b, sys)
		b = append(b, '}')
	}
	for _, m := range req.Messages {
		if m.Role == RoleAssistant {
			sep()
			b = appendOpenAIAssistant(b, m.Parts)
			continue
		}
		var rest []Part
		for i := range m.Parts {
			p := &m.Parts[i]
			if p.Kind != PartToolResult {
				rest = append(rest, *p)
				continue
			}
			sep()
			b = append(b, `{"role":"tool","tool_call_id":`...)
			b = appendString(b, p.ToolID)
			b = append(b, `,"content":`...)
			b = appendString(b, resultText(p.Result))
			b = append(b, '}')
		}
		if len(rest) > 0 {
			sep()
			b = append(b, `{"role":"user","content":`...)
			b = appendOpenAIContent(b, rest)
			b = append(b, '}')
		}
	}
	b = append(b, ']')
	if len(req.Tools) > 0 {
		b = append(b, `,"tools":[`...)
		for i, t := range req.Tools {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"function","function":{"name":`...)
			b = appendString(b, t.Name)
			if t.Description != "" {
				b = append(b, `,"description":`...)
				b = appendString(b, t.Description)
			}
			b = append(b, `,"parameters":`...)
			b = appendSchema(b, t.Schema)
			if t.Strict {
				b = append(b, `,"strict":true`...)
			}
			b = append(b, `}}`...)
		}
		b = append(b, ']')
		switch req.ToolChoice.Mode {
		case ToolChoiceAuto:
			b = append(b, `,"tool_choice":"auto"`...)
		case ToolChoiceNone:
			b = append(b, `,"tool_choice":"none"`...)
		case ToolChoiceRequired:
			b = append(b, `,"tool_choice":"required"`...)
		case ToolChoiceNamed:
			b = append(b, `,"tool_choice":{"type":"function","function":{"name":`...)
			b = appendString(b, req.ToolChoice.Name)
			b = append(b, `}}`...)
		}
		if req.ParallelToolCalls != nil && !*req.ParallelToolCalls {
			b = append(b, `,"parallel_tool_calls":false`...)
		}
	}
	if req.MaxTokens != nil {
		if newTokenParam.MatchString(opt.Model) && !mistral {
			b = append(b, `,"max_completion_tokens":`...)
		} else {
			b = append(b, `,"max_tokens":`...)
		}
		b = appendInt(b, int64(*req.MaxTokens))
	}
	if req.Temperature != nil {
		b = appendFloat(append(b, `,"temperature":`...), *req.Temperature)
	}
	if req.TopP != nil {
		b = appendFloat(append(b, `,"top_p":`...), *req.TopP)
	}
	if len(req.Stop) > 0 {
		b = appendStrings(append(b, `,"stop":`...), req.Stop)
	}
	if req.Seed != nil {
		if mistral {
			b = append(b, `,"random_seed":`...)
		} else {
			b = append(b, `,"seed":`...)
		}
		b = appendInt(b, *req.Seed)
	}
	if req.PresencePenalty != nil {
		b = appendFloat(append(b, `,"presence_penalty":`...), *req.PresencePenalty)
	}
	if req.FrequencyPenalty != nil {
		b = appendFloat(append(b, `,"frequency_penalty":`...), *req.FrequencyPenalty)
	}
	if req.User != "" && !mistral {
		b = appendString(append(b, `,"user":`...), req.User)
	}
	switch req.ResponseFormat.Type {
	case "json_object":
		b = append(b, `,"response_format":{"type":"json_object"}`...)
	case "json_schema":
		b = append(b, `,"response_format":{"type":"json_schema","json_schema":{"name":`...)
		name := req.ResponseFormat.Name
		if name == "" {
			name = "response"
		}
		b = appendString(b, name)
		b = append(b, `,"schema":`...)
		b = appendSchema(b, req.ResponseFormat.Schema)
		if req.ResponseFormat.Strict {
			b = append(b, `,"strict":true`...)
		}
		b = append(b, `}}`...)
	}
	if req.Stream {
		// Always ask for usage: the call history needs it. The usage chunk
		// reaches the client only if it asked (RequestInfo.IncludeUsage).
		b = append(b, `,"stream":true`...)
		if !mistral { // Mistral always sends usage, and refuses stream_options
			b = append(b, `,"stream_options":{"include_usage":true}`...)
		}
	}
	return append(b, '}')
}

func appendOpenAIAssistant(b []byte, parts []Part) []byte {
	b = append(b, `{"role":"assistant","content":`...)
	if text, ok := joinText(parts, PartText); ok && text != "" {
		b = appendString(b, text)
	} else {
		b = append(b, "null"...)
	}
	// reasoning_content is not sent back: DeepSeek rejects it in input.
	first := true
	for i := range parts {
		if parts[i].Kind != PartToolCall {
			continue
		}
		if first {
			b = append(b, `,"tool_calls":[`...)
		} else {
			b = append(b, ',')
		}
		first = false
		b = appendOpenAIToolCall(b, &parts[i])
	}
	if !first {
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendOpenAIContent writes user content: a plain string when it is all text.
func appendOpenAIContent(b []byte, parts []Part) []byte {
	allText := true
	for _, p := range parts {
		if p.Kind != PartText {
			allText = false
		}
	}
	if allText {
		return appendString(b, resultText(parts))
	}
	b = append(b, '[')
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		switch p.Kind {
		case PartImage:
			b = append(b, `{"type":"image_url","image_url":{"url":`...)
			b = appendString(b, mediaURL(p))
			b = append(b, `}}`...)
		case PartDocument:
			b = append(b, `{"type":"file","file":{"filename":"document.pdf","file_data":`...)
			b = appendString(b, mediaURL(p))
			b = append(b, `}}`...)
		default:
			b = append(b, `{"type":"text","text":`...)
			b = appendString(b, p.Text)
			b = append(b, '}')
		}
	}
	return append(b, ']')
}

func mediaURL(p Part) string {
	if p.URL != "" {
		return p.URL
	}
	return "data:" + p.MediaType + ";base64," + p.Data
}

// ---- Anthropic Messages ----

func encodeAnthropicRequest(req *chatRequest, opt RequestOptions) []byte {
	maxTokens := opt.DefaultMaxTokens
	if maxTokens <= 0 {
		maxTokens = 4096
	}
	if req.MaxTokens != nil && *req.MaxTokens > 0 {
		maxTokens = *req.MaxTokens
	}
	budget := 0
	if req.Thinking.Enabled {
		budget = req.Thinking.Budget
		if budget <= 0 {
			budget = effortBudget(req.Thinking.Effort)
		}
		budget = max(budget, 1024)
		if unsignedToolTurn(req.Messages) {
			// Anthropic refuses a tool loop with thinking on unless the last
			// assistant turn starts with its signed thinking block, which
			// OpenAI and Gemini clients cannot send back: answer without
			// thinking rather than fail.
			budget = 0
		}
		if req.ToolChoice.Mode == ToolChoiceRequired || req.ToolChoice.Mode == ToolChoiceNamed {
			budget = 0 // with thinking Anthropic accepts only tool_choice auto or none
		}
	}
	if budget > 0 {
		if maxTokens <= budget { // Anthropic requires budget_tokens < max_tokens
			maxTokens = budget + 1024
		}
	}
	b := append([]byte(nil), `{"model":`...)
	b = appendString(b, opt.Model)
	b = append(b, `,"max_tokens":`...)
	b = appendInt(b, int64(maxTokens))
	if len(req.System) > 0 {
		b = append(b, `,"system":[`...)
		for i, p := range req.System {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"text","text":`...)
			b = appendString(b, p.Text)
			b = appendCacheControl(b, p)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"messages":[`...)
	b = appendTurns(b, req.Messages, `{"role":"assistant","content":[`, `{"role":"user","content":[`,
		`{"type":"text","text":"…"}`, appendAnthropicRequestBlock)
	b = append(b, ']')
	if len(req.Tools) > 0 && req.ToolChoice.Mode != ToolChoiceNone {
		b = append(b, `,"tools":[`...)
		for i, t := range req.Tools {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, t.Name)
			if t.Description != "" {
				b = append(b, `,"description":`...)
				b = appendString(b, t.Description)
			}
			b = append(b, `,"input_schema":`...)
			b = appendSchema(b, t.Schema)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(req.Tools) > 0 {
		noParallel := req.ParallelToolCalls != nil && !*req.ParallelToolCalls
		switch req.ToolChoice.Mode {
		case ToolChoiceDefault, ToolChoiceAuto:
			if req.ToolChoice.Mode == ToolChoiceAuto || noParallel {
				b = append(b, `,"tool_choice":{"type":"auto"`...)
				b = appendNoParallel(b, noParallel)
			}
		case ToolChoiceNone:
			// tools are left out: the model cannot call what it does not see
		case ToolChoiceRequired:
			b = append(b, `,"tool_choice":{"type":"any"`...)
			b = appendNoParallel(b, noParallel)
		case ToolChoiceNamed:
			b = append(b, `,"tool_choice":{"type":"tool","name":`...)
			b = appendString(b, req.ToolChoice.Name)
			b = appendNoParallel(b, noParallel)
		}
	}
	if budget > 0 {
		// Thinking is incompatible with temperature and top_k changes.
		b = append(b, `,"thinking":{"type":"enabled","budget_tokens":`...)
		b = appendInt(b, int64(budget))
		b = append(b, '}')
	} else {
		if req.Temperature != nil {
			b = appendFloat(append(b, `,"temperature":`...), min(*req.Temperature, 1))
		}
		if req.TopK != nil {
			b = appendInt(append(b, `,"top_k":`...), int64(*req.TopK))
		}
	}
	if req.TopP != nil && budget == 0 {
		b = appendFloat(append(b, `,"top_p":`...), *req.TopP)
	}
	if len(req.Stop) > 0 {
		b = appendStrings(append(b, `,"stop_sequences":`...), req.Stop)
	}
	if req.User != "" {
		b = appendString(append(b, `,"metadata":{"user_id":`...), req.User)
		b = append(b, '}')
	}
	if req.ResponseFormat.Type == "json_schema" && req.ResponseFormat.Schema != "" {
		b = append(b, `,"output_config":{"format":{"type":"json_schema","schema":`...)
		b = appendSchema(b, req.ResponseFormat.Schema)
		b = append(b, `}}`...)
	}
	if req.Stream {
		b = append(b, `,"stream":true`...)
	}
	return append(b, '}')
}

func appendNoParallel(b []byte, noParallel bool) []byte {
	if noParallel {
		b = append(b, `,"disable_parallel_tool_use":true`...)
	}
	return append(b, '}')
}

func appendCacheControl(b []byte, p Part) []byte {
	if p.CacheControl != "" {
		b = append(b, `,"cache_control":`...)
		b = appendRawObject(b, p.CacheControl)
	}
	return b
}

// appendAnthropicRequestBlock writes one content block; ok is false when the
// part has no Anthropic form here (unsigned thinking, empty text).
func appendAnthropicRequestBlock(b []byte, p Part, role Role) ([]byte, bool) {
	switch p.Kind {
	case PartText:
		if p.Text == "" {
			return b, false
		}
		b = append(b, `{"type":"text","text":`...)
		b = appendString(b, p.Text)
	case PartImage, PartDocument:
		if p.Kind == PartImage {
			b = append(b, `{"type":"image","source":`...)
		} else {
			b = append(b, `{"type":"document","source":`...)
		}
		if p.URL != "" {
			b = append(b, `{"type":"url","url":`...)
			b = appendString(b, p.URL)
		} else {
			b = append(b, `{"type":"base64","media_type":`...)
			b = appendString(b, p.MediaType)
			b = append(b, `,"data":`...)
			b = appendString(b, p.Data)
		}
		b = append(b, '}')
	case PartThinking:
		// Anthropic verifies signatures: thinking from another provider cannot
		// be sent back, and Gemini thought signatures are not Anthropic's.
		if role != RoleAssistant || p.Signature == "" {
			return b, false
		}
		b = append(b, `{"type":"thinking","thinking":`...)
		b = appendString(b, p.Text)
		b = append(b, `,"signature":`...)
		b = appendString(b, p.Signature)
	case PartRedactedThinking:
		if role != RoleAssistant {
			return b, false
		}
		b = append(b, `{"type":"redacted_thinking","data":`...)
		b = appendString(b, p.Text)
	case PartToolCall:
		if role != RoleAssistant {
			return b, false
		}
		b = append(b, `{"type":"tool_use","id":`...)
		b = appendString(b, p.ToolID)
		b = append(b, `,"name":`...)
		b = appendString(b, p.ToolName)
		b = append(b, `,"input":`...)
		b = appendRawObject(b, p.Args)
	case PartToolResult:
		b = append(b, `{"type":"tool_result","tool_use_id":`...)
		b = appendString(b, p.ToolID)
		b = append(b, `,"content":[`...)
		b, _ = appendParts(b, p.Result, RoleUser, appendAnthropicRequestBlock)
		b = append(b, ']')
		if p.IsError {
			b = append(b, `,"is_error":true`...)
		}
	default:
		return b, false
	}
	b = appendCacheControl(b, p)
	return append(b, '}'), true
}

// ---- Gemini generateContent ----

func encodeGeminiRequest(req *chatRequest) []byte {
	b := append([]byte(nil), `{"contents":[`...)
	b = appendTurns(b, req.Messages, `{"role":"model","parts":[`, `{"role":"user","parts":[`, `{"text":""}`,
		func(b []byte, p Part, _ Role) ([]byte, bool) { return appendGeminiRequestPart(b, p) })
	b = append(b, ']')
	if sys := resultText(req.System); sys != "" {
		b = append(b, `,"systemInstruction":{"parts":[{"text":`...)
		b = appendString(b, sys)
		b = append(b, `}]}`...)
	}
	if len(req.Tools) > 0 {
		b = append(b, `,"tools":[{"functionDeclarations":[`...)
		for i, t := range req.Tools {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, t.Name)
			if t.Description != "" {
				b = append(b, `,"description":`...)
				b = appendString(b, t.Description)
			}
			b = append(b, `,"parametersJsonSchema":`...)
			b = appendSchema(b, t.Schema)
			b = append(b, '}')
		}
		b = append(b, `]}]`...)
		switch req.ToolChoice.Mode {
		case ToolChoiceAuto:
			b = append(b, `,"toolConfig":{"functionCallingConfig":{"mode":"AUTO"}}`...)
		case ToolChoiceNone:
			b = append(b, `,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}`...)
		case ToolChoiceRequired:
			b = append(b, `,"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}`...)
		case ToolChoiceNamed:
			b = append(b, `,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":[`...)
			b = appendString(b, req.ToolChoice.Name)
			b = append(b, `]}}`...)
		}
	}
	g := b[:0:0]
	field := func(name string) {
		if len(g) > 0 {
			g = append(g, ',')
		}
		g = append(g, '"')
		g = append(g, name...)
		g = append(g, '"', ':')
	}
	if req.MaxTokens != nil {
		field("maxOutputTokens")
		g = appendInt(g, int64(*req.MaxTokens))
	}
	if req.Temperature != nil {
		field("temperature")
		g = appendFloat(g, *req.Temperature)
	}
	if req.TopP != nil {
		field("topP")
		g = appendFloat(g, *req.TopP)
	}
	if req.TopK != nil {
		field("topK")
		g = appendInt(g, int64(*req.TopK))
	}
	if len(req.Stop) > 0 {
		field("stopSequences")
		g = appendStrings(g, req.Stop)
	}
	if req.Seed != nil {
		field("seed")
		g = appendInt(g, *req.Seed)
	}
	if req.PresencePenalty != nil {
		field("presencePenalty")
		g = appendFloat(g, *req.PresencePenalty)
	}
	if req.FrequencyPenalty != nil {
		field("frequencyPenalty")
		g = appendFloat(g, *req.FrequencyPenalty)
	}
	switch req.ResponseFormat.Type {
	case "json_object":
		field("responseMimeType")
		g = append(g, `"application/json"`...)
	case "json_schema":
		field("responseMimeType")
		g = append(g, `"application/json"`...)
		field("responseJsonSchema")
		g = appendSchema(g, req.ResponseFormat.Schema)
	}
	if req.Thinking.Enabled {
		budget := req.Thinking.Budget
		if budget <= 0 {
			budget = effortBudget(req.Thinking.Effort)
		}
		field("thinkingConfig")
		g = append(g, `{"thinkingBudget":`...)
		g = appendInt(g, int64(budget))
		if req.Thinking.Include {
			g = append(g, `,"includeThoughts":true`...)
		}
		g = append(g, '}')
	}
	if len(g) > 0 {
		b = append(b, `,"generationConfig":{`...)
		b = append(b, g...)
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendGeminiRequestPart(b []byte, p Part) ([]byte, bool) {
	switch p.Kind {
	case PartText:
		if p.Text == "" {
			return b, false
		}
		b = append(b, `{"text":`...)
		b = appendString(b, p.Text)
	case PartImage, PartDocument:
		if p.URL != "" {
			// fileData takes Files-API and gs:// URIs; Gemini fetches nothing else.
			media := p.MediaType
			if media == "" {
				media = guessMedia(p.URL, p.Kind)
			}
			b = append(b, `{"fileData":{"mimeType":`...)
			b = appendString(b, media)
			b = append(b, `,"fileUri":`...)
			b = appendString(b, p.URL)
		} else {
			b = append(b, `{"inlineData":{"mimeType":`...)
			b = appendString(b, p.MediaType)
			b = append(b, `,"data":`...)
			b = appendString(b, p.Data)
		}
		b = append(b, '}')
	case PartToolCall:
		part := p
		return appendGeminiPart(b, &part), true
	case PartToolResult:
		id, _ := splitCallID(p.ToolID)
		b = append(b, `{"functionResponse":{`...)
		if id != "" {
			b = append(b, `"id":`...)
			b = appendString(b, id)
			b = append(b, ',')
		}
		b = append(b, `"name":`...)
		b = appendString(b, p.ToolName)
		b = append(b, `,"response":{"`...)
		if p.IsError {
			b = append(b, `error":`...)
		} else {
			b = append(b, `result":`...)
		}
		text := resultText(p.Result)
		if isJSONValue(text) {
			b = append(b, compactJSON(text)...)
		} else {
			b = appendString(b, text)
		}
		b = append(b, `}}`...)
	default:
		return b, false // thinking is not sent back to Gemini; signatures ride on calls
	}
	return append(b, '}'), true
}

func isJSONValue(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && (s[0] == '{' || s[0] == '[') && gjson.Valid(s)
}

func guessMedia(url string, k PartKind) string {
	u := strings.ToLower(url)
	switch {
	case k == PartDocument || strings.HasSuffix(u, ".pdf"):
		return "application/pdf"
	case strings.HasSuffix(u, ".png"):
		return "image/png"
	case strings.HasSuffix(u, ".gif"):
		return "image/gif"
	case strings.HasSuffix(u, ".webp"):
		return "image/webp"
	}
	return "image/jpeg"
}

// unsignedToolTurn reports whether the last assistant turn calls tools without a
// signed thinking block before them.
func unsignedToolTurn(msgs []Message) bool {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role != RoleAssistant {
			continue
		}
		signed, calls := false, false
		for _, p := range msgs[i].Parts {
			switch p.Kind {
			case PartThinking:
				signed = signed || p.Signature != ""
			case PartRedactedThinking:
				signed = true
			case PartToolCall:
				calls = true
			}
		}
		return calls && !signed
	}
	return false
}
