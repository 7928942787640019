package codec

import (
	"github.com/tidwall/gjson"
)

// Anthropic Messages: request decode and encode, non-streaming response, usage,
// stop reasons and error types (MAPPING.md).

func decodeAnthropicRequest(r gjson.Result) (*chatRequest, error) {
	req := &chatRequest{Model: r.Get("model").String(), N: 1}
	switch s := r.Get("system"); {
	case s.Type == gjson.String && s.Str != "":
		req.System = []Part{{Kind: PartText, Text: s.Str}}
	case s.IsArray():
		for _, b := range s.Array() {
			req.System = append(req.System, Part{Kind: PartText, Text: b.Get("text").String(), CacheControl: b.Get("cache_control").Raw})
		}
	}
	for i, m := range r.Get("messages").Array() {
		role := RoleUser
		switch m.Get("role").String() {
		case "user":
		case "assistant":
			role = RoleAssistant
		case "system":
			// Claude Code 2.1 sends per-turn instructions as system entries in
			// messages (beta per-turn-control-2026-07-01). Every target takes
			// them in its system prompt; some take only one, at the start.
			for _, p := range anthropicContent(m.Get("content")) {
				if p.Kind == PartText {
					req.System = append(req.System, p)
				}
			}
			continue
		default:
			return nil, invalid("messages[%d].role %q is not supported", i, m.Get("role").String())
		}
		req.Messages = append(req.Messages, Message{Role: role, Parts: anthropicContent(m.Get("content"))})
	}
	for i, t := range r.Get("tools").Array() {
		if typ := t.Get("type").String(); typ != "" && typ != "custom" {
			return nil, unsupported("tools[%d] of type %q (an Anthropic server tool)", i, typ)
		}
		req.Tools = append(req.Tools, Tool{Name: t.Get("name").String(), Description: t.Get("description").String(), Schema: t.Get("input_schema").Raw})
	}
	tc := r.Get("tool_choice")
	switch tc.Get("type").String() {
	case "auto":
		req.ToolChoice.Mode = ToolChoiceAuto
	case "none":
		req.ToolChoice.Mode = ToolChoiceNone
	case "any":
		req.ToolChoice.Mode = ToolChoiceRequired
	case "tool":
		req.ToolChoice = ToolChoice{Mode: ToolChoiceNamed, Name: tc.Get("name").String()}
	}
	if tc.Get("disable_parallel_tool_use").Bool() {
		f := false
		req.ParallelToolCalls = &f
	}
	req.MaxTokens = optInt(r.Get("max_tokens"))
	req.Temperature = optFloat(r.Get("temperature"))
	req.TopP = optFloat(r.Get("top_p"))
	req.TopK = optInt(r.Get("top_k"))
	for _, s := range r.Get("stop_sequences").Array() {
		req.Stop = append(req.Stop, s.String())
	}
	req.Stream = r.Get("stream").Bool()
	req.User = r.Get("metadata.user_id").String()
	switch th := r.Get("thinking"); th.Get("type").String() {
	case "enabled":
		req.Thinking = Thinking{Enabled: true, Budget: int(th.Get("budget_tokens").Int()), Include: th.Get("display").String() != "omitted"}
	case "adaptive":
		// Claude Code sends adaptive thinking with display "omitted".
		req.Thinking = Thinking{Enabled: true, Effort: r.Get("output_config.effort").String(), Include: th.Get("display").String() != "omitted"}
	}
	if f := r.Get("output_config.format"); f.Get("type").String() == "json_schema" {
		req.ResponseFormat = ResponseFormat{Type: "json_schema", Name: "response", Schema: f.Get("schema").Raw}
	}
	return req, nil
}

func anthropicContent(c gjson.Result) []Part {
	if c.Type == gjson.String {
		if c.Str == "" {
			return nil
		}
		return []Part{{Kind: PartText, Text: c.Str}}
	}
	var parts []Part
	for _, b := range c.Array() {
		cc := b.Get("cache_control").Raw
		switch b.Get("type").String() {
		case "text":
			parts = append(parts, Part{Kind: PartText, Text: b.Get("text").String(), CacheControl: cc})
		case "image", "document":
			src := b.Get("source")
			var p Part
			switch src.Get("type").String() {
			case "base64":
				p = mediaPart(src.Get("media_type").String(), src.Get("data").String(), "")
			case "url":
				p = Part{Kind: PartImage, URL: src.Get("url").String()}
			case "text":
				p = Part{Kind: PartText, Text: src.Get("data").String()}
			default:
				continue
			}
			if b.Get("type").String() == "document" && p.Kind == PartImage {
				p.Kind = PartDocument
				if p.MediaType == "" {
					p.MediaType = "application/pdf"
				}
			}
			p.CacheControl = cc
			parts = append(parts, p)
		case "thinking":
			parts = append(parts, Part{Kind: PartThinking, Text: b.Get("thinking").String(), Signature: b.Get("signature").String()})
		case "redacted_thinking":
			parts = append(parts, Part{Kind: PartRedactedThinking, Text: b.Get("data").String()})
		case "tool_use":
			parts = append(parts, Part{Kind: PartToolCall, ToolID: b.Get("id").String(), ToolName: b.Get("name").String(), Args: compactJSON(b.Get("input").Raw)})
		case "tool_result":
			parts = append(parts, Part{Kind: PartToolResult, ToolID: b.Get("tool_use_id").String(),
				Result: anthropicContent(b.Get("content")), IsError: b.Get("is_error").Bool(), CacheControl: cc})
		}
	}
	return parts
}

func encodeAnthropicRequest(req *chatRequest, opt RequestOptions) []byte {
	maxTokens := opt.DefaultMaxTokens
	if maxTokens <= 0 {
		maxTokens = 4096
	}
	if req.MaxTokens != nil && *req.MaxTokens > 0 {
		maxTokens = *req.MaxTokens
	}
	budget := anthropicBudget(req)
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
	b = appendAnthropicTools(b, req)
	b = appendAnthropicSampling(b, req, budget)
	if req.Stream {
		b = append(b, `,"stream":true`...)
	}
	return append(b, '}')
}

// anthropicBudget returns the thinking budget to send, 0 for none.
func anthropicBudget(req *chatRequest) int {
	if !req.Thinking.Enabled {
		return 0
	}
	budget := req.Thinking.Budget
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
	return budget
}

// appendAnthropicTools writes tools and tool_choice.
func appendAnthropicTools(b []byte, req *chatRequest) []byte {
	if len(req.Tools) == 0 {
		return b
	}
	if req.ToolChoice.Mode != ToolChoiceNone {
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
	return b
}

// appendAnthropicSampling writes thinking or the sampling parameters it
// excludes, then stop sequences, metadata and the output format.
func appendAnthropicSampling(b []byte, req *chatRequest, budget int) []byte {
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
	return b
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
		if _, gemini := textSignature(&p); role != RoleAssistant || p.Signature == "" || gemini {
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
				_, gemini := textSignature(&p)
				signed = signed || (p.Signature != "" && !gemini)
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

func anthropicResponse(r gjson.Result) *chatResponse {
	out := &chatResponse{ID: r.Get("id").String(), Model: r.Get("model").String(), Usage: UnknownUsage()}
	for _, b := range r.Get("content").Array() {
		switch b.Get("type").String() {
		case "text":
			out.Parts = append(out.Parts, Part{Kind: PartText, Text: b.Get("text").String()})
		case "thinking":
			out.Parts = append(out.Parts, Part{Kind: PartThinking, Text: b.Get("thinking").String(), Signature: b.Get("signature").String()})
		case "redacted_thinking":
			out.Parts = append(out.Parts, Part{Kind: PartRedactedThinking, Text: b.Get("data").String()})
		case "tool_use", "server_tool_use":
			out.Parts = append(out.Parts, Part{Kind: PartToolCall, ToolID: b.Get("id").String(), ToolName: b.Get("name").String(), Args: compactJSON(b.Get("input").Raw)})
		}
	}
	out.Stop = stopFromAnthropic(r.Get("stop_reason").String())
	out.StopSequence = r.Get("stop_sequence").String()
	if u := r.Get("usage"); u.IsObject() {
		out.Usage = usageFromAnthropic(u)
	}
	return out
}

func appendAnthropicBlock(dst []byte, p *Part) []byte {
	switch p.Kind {
	case PartThinking:
		dst = append(dst, `{"type":"thinking","thinking":`...)
		dst = appendString(dst, p.Text)
		dst = append(dst, `,"signature":`...)
		dst = appendString(dst, p.Signature)
	case PartRedactedThinking:
		dst = append(dst, `{"type":"redacted_thinking","data":`...)
		dst = appendString(dst, p.Text)
	case PartToolCall:
		dst = append(dst, `{"type":"tool_use","id":`...)
		dst = appendString(dst, p.ToolID)
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, p.ToolName)
		dst = append(dst, `,"input":`...)
		dst = appendRawObject(dst, p.Args)
	default:
		dst = append(dst, `{"type":"text","text":`...)
		dst = appendString(dst, p.Text)
	}
	return append(dst, '}')
}

func appendAnthropicResponse(dst []byte, r *chatResponse, model string) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, anthropicID(r.ID))
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = appendString(dst, model)
	dst = append(dst, `,"content":[`...)
	n := 0
	for i := range r.Parts {
		switch r.Parts[i].Kind {
		case PartText, PartThinking, PartRedactedThinking, PartToolCall:
		default:
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = appendAnthropicBlock(dst, &r.Parts[i])
	}
	dst = append(dst, `],"stop_reason":`...)
	dst = appendString(dst, stopToAnthropic(r.Stop))
	dst = append(dst, `,"stop_sequence":`...)
	if r.Stop == StopSequence && r.StopSequence != "" {
		dst = appendString(dst, r.StopSequence)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"usage":`...)
	dst = appendAnthropicUsage(dst, r.Usage)
	return append(dst, '}')
}

func appendAnthropicUsage(dst []byte, u Usage) []byte {
	cr, cw := known(u.CacheReadTokens), known(u.CacheWriteTokens)
	in := known(u.InputTokens) - cr - cw
	if in < 0 {
		in = 0
	}
	dst = append(dst, `{"input_tokens":`...)
	dst = appendInt(dst, in)
	dst = append(dst, `,"cache_creation_input_tokens":`...)
	dst = appendInt(dst, cw)
	dst = append(dst, `,"cache_read_input_tokens":`...)
	dst = appendInt(dst, cr)
	dst = append(dst, `,"output_tokens":`...)
	dst = appendInt(dst, known(u.OutputTokens))
	return append(dst, '}')
}

func anthropicID(id string) string { return prefixedID("msg_", id) }

// anthropicUsage keeps Anthropic's separate input counts: its input_tokens
// excludes cache reads and writes, the canonical input includes them.
type anthropicUsage struct{ input, cacheRead, cacheWrite, output int64 }

func (a *anthropicUsage) update(u gjson.Result) {
	set := func(dst *int64, r gjson.Result) {
		if r.Type == gjson.Number {
			*dst = r.Int()
		}
	}
	set(&a.input, u.Get("input_tokens"))
	set(&a.cacheRead, u.Get("cache_read_input_tokens"))
	set(&a.cacheWrite, u.Get("cache_creation_input_tokens"))
	set(&a.output, u.Get("output_tokens"))
}

func (a *anthropicUsage) canonical() Usage {
	u := Usage{InputTokens: -1, OutputTokens: a.output, CacheReadTokens: a.cacheRead, CacheWriteTokens: a.cacheWrite, ReasoningTokens: -1}
	if a.input >= 0 {
		u.InputTokens = a.input + known(a.cacheRead) + known(a.cacheWrite)
	}
	return u
}

func usageFromAnthropic(u gjson.Result) Usage {
	a := anthropicUsage{-1, -1, -1, -1}
	a.update(u)
	return a.canonical()
}

func stopFromAnthropic(s string) StopReason {
	switch s {
	case "":
		return StopUnknown
	case "stop_sequence":
		return StopSequence
	case "max_tokens", "model_context_window_exceeded":
		return StopLength
	case "tool_use":
		return StopTool
	case "refusal":
		return StopFilter
	case "pause_turn":
		return StopPause
	}
	return StopEnd
}

func stopToAnthropic(s StopReason) string {
	switch s {
	case StopSequence:
		return "stop_sequence"
	case StopLength:
		return "max_tokens"
	case StopTool:
		return "tool_use"
	case StopFilter:
		return "refusal"
	case StopPause:
		return "pause_turn"
	}
	return "end_turn"
}

func anthropicErrorType(status int) string {
	switch status {
	case 401:
		return "authentication_error"
	case 402:
		return "billing_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 503, 529:
		return "overloaded_error"
	case 504:
		return "timeout_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}
