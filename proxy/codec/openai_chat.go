package codec

import (
	"crypto/sha256"
	"regexp"
	"strings"

	"github.com/tidwall/gjson"
)

// OpenAI Chat Completions: request decode and encode, non-streaming response,
// usage, stop reasons and error types (MAPPING.md).

func decodeOpenAIRequest(r gjson.Result) (*chatRequest, error) {
	req := &chatRequest{Model: r.Get("model").String(), N: 1}
	for i, m := range r.Get("messages").Array() {
		role := m.Get("role").String()
		switch role {
		case "system", "developer":
			req.System = append(req.System, openaiContent(m.Get("content"))...)
		case "user":
			req.Messages = append(req.Messages, Message{Role: RoleUser, Parts: openaiContent(m.Get("content"))})
		case "assistant":
			var parts []Part
			for _, k := range [...]string{"reasoning_content", "reasoning"} {
				if t := m.Get(k); t.Type == gjson.String && t.Str != "" {
					parts = append(parts, Part{Kind: PartThinking, Text: t.Str})
					break
				}
			}
			parts = append(parts, openaiContent(m.Get("content"))...)
			for _, tc := range m.Get("tool_calls").Array() {
				parts = append(parts, Part{Kind: PartToolCall, ToolID: tc.Get("id").String(),
					ToolName: tc.Get("function.name").String(), Args: tc.Get("function.arguments").String()})
			}
			req.Messages = append(req.Messages, Message{Role: RoleAssistant, Parts: parts})
		case "tool":
			p := Part{Kind: PartToolResult, ToolID: m.Get("tool_call_id").String(), Result: openaiContent(m.Get("content"))}
			// Consecutive tool messages become one user turn of results.
			if n := len(req.Messages); n > 0 && onlyToolResults(req.Messages[n-1]) {
				req.Messages[n-1].Parts = append(req.Messages[n-1].Parts, p)
			} else {
				req.Messages = append(req.Messages, Message{Role: RoleUser, Parts: []Part{p}})
			}
		default:
			return nil, invalid("messages[%d].role %q is not supported", i, role)
		}
	}
	for i, t := range r.Get("tools").Array() {
		if typ := t.Get("type").String(); typ != "function" && typ != "" {
			return nil, unsupported("tools[%d] of type %q", i, typ)
		}
		f := t.Get("function")
		req.Tools = append(req.Tools, Tool{Name: f.Get("name").String(), Description: f.Get("description").String(),
			Schema: f.Get("parameters").Raw, Strict: f.Get("strict").Bool()})
	}
	switch tc := r.Get("tool_choice"); {
	case tc.Type == gjson.String:
		req.ToolChoice.Mode = map[string]ToolChoiceMode{"auto": ToolChoiceAuto, "none": ToolChoiceNone, "required": ToolChoiceRequired}[tc.Str]
	case tc.IsObject():
		req.ToolChoice = ToolChoice{Mode: ToolChoiceNamed, Name: tc.Get("function.name").String()}
	}
	if p := r.Get("parallel_tool_calls"); p.IsBool() {
		v := p.Bool()
		req.ParallelToolCalls = &v
	}
	req.MaxTokens = optInt(r.Get("max_completion_tokens"))
	if req.MaxTokens == nil {
		req.MaxTokens = optInt(r.Get("max_tokens"))
	}
	req.Temperature = optFloat(r.Get("temperature"))
	req.TopP = optFloat(r.Get("top_p"))
	switch s := r.Get("stop"); {
	case s.Type == gjson.String:
		req.Stop = []string{s.Str}
	case s.IsArray():
		for _, x := range s.Array() {
			req.Stop = append(req.Stop, x.String())
		}
	}
	if s := r.Get("seed"); s.Type == gjson.Number {
		v := s.Int()
		req.Seed = &v
	}
	if n := r.Get("n"); n.Type == gjson.Number {
		req.N = int(n.Int())
	}
	req.PresencePenalty = optFloat(r.Get("presence_penalty"))
	req.FrequencyPenalty = optFloat(r.Get("frequency_penalty"))
	req.User = r.Get("user").String()
	if req.User == "" {
		req.User = r.Get("safety_identifier").String()
	}
	req.Stream = r.Get("stream").Bool()
	req.IncludeUsage = r.Get("stream_options.include_usage").Bool()
	rf := r.Get("response_format")
	req.ResponseFormat = ResponseFormat{Type: rf.Get("type").String(), Name: rf.Get("json_schema.name").String(),
		Schema: rf.Get("json_schema.schema").Raw, Strict: rf.Get("json_schema.strict").Bool()}
	if req.ResponseFormat.Type == "text" {
		req.ResponseFormat.Type = ""
	}
	if e := r.Get("reasoning_effort").String(); e != "" && e != "none" && e != "minimal" {
		req.Thinking = Thinking{Enabled: true, Effort: e, Include: true}
	}
	return req, nil
}

func onlyToolResults(m Message) bool {
	if m.Role != RoleUser || len(m.Parts) == 0 {
		return false
	}
	for _, p := range m.Parts {
		if p.Kind != PartToolResult {
			return false
		}
	}
	return true
}

// openaiContent reads message content: a string or an array of parts.
func openaiContent(c gjson.Result) []Part {
	if c.Type == gjson.String {
		if c.Str == "" {
			return nil
		}
		return []Part{{Kind: PartText, Text: c.Str}}
	}
	var parts []Part
	for _, p := range c.Array() {
		switch p.Get("type").String() {
		case "text":
			parts = append(parts, Part{Kind: PartText, Text: p.Get("text").String()})
		case "image_url":
			u := p.Get("image_url.url").String()
			if u == "" {
				u = p.Get("image_url").String()
			}
			if media, data, ok := dataURL(u); ok {
				parts = append(parts, mediaPart(media, data, ""))
			} else {
				parts = append(parts, Part{Kind: PartImage, URL: u})
			}
		case "file":
			if media, data, ok := dataURL(p.Get("file.file_data").String()); ok {
				parts = append(parts, mediaPart(media, data, ""))
			}
		}
	}
	return parts
}

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
	b = appendOpenAIMessages(b, req)
	b = appendOpenAITools(b, req)
	b = appendOpenAISampling(b, req, opt.Model, mistral)
	b = appendOpenAIResponseFormat(b, req.ResponseFormat)
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

// appendOpenAIMessages writes "messages": the system prompt first, then each
// turn, tool results as messages of their own.
func appendOpenAIMessages(b []byte, req *chatRequest) []byte {
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
	return append(b, ']')
}

// appendOpenAITools writes tools, tool_choice and parallel_tool_calls.
func appendOpenAITools(b []byte, req *chatRequest) []byte {
	if len(req.Tools) == 0 {
		return b
	}
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
	return b
}

// appendOpenAISampling writes the token limit, sampling parameters and user,
// in the dialect model and Mistral accept.
func appendOpenAISampling(b []byte, req *chatRequest, model string, mistral bool) []byte {
	if req.MaxTokens != nil {
		if newTokenParam.MatchString(model) && !mistral {
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
	return b
}

// appendOpenAIResponseFormat writes response_format.
func appendOpenAIResponseFormat(b []byte, f ResponseFormat) []byte {
	switch f.Type {
	case "json_object":
		b = append(b, `,"response_format":{"type":"json_object"}`...)
	case "json_schema":
		b = append(b, `,"response_format":{"type":"json_schema","json_schema":{"name":`...)
		name := f.Name
		if name == "" {
			name = "response"
		}
		b = appendString(b, name)
		b = append(b, `,"schema":`...)
		b = appendSchema(b, f.Schema)
		if f.Strict {
			b = append(b, `,"strict":true`...)
		}
		b = append(b, `}}`...)
	}
	return b
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

func openaiResponse(r gjson.Result) *chatResponse {
	out := &chatResponse{ID: r.Get("id").String(), Model: r.Get("model").String(), Created: r.Get("created").Int(), Usage: UnknownUsage()}
	choice := r.Get("choices.0")
	m := choice.Get("message")
	for _, k := range [...]string{"reasoning_content", "reasoning"} {
		if t := m.Get(k); t.Type == gjson.String && t.Str != "" {
			out.Parts = append(out.Parts, Part{Kind: PartThinking, Text: t.Str})
			break
		}
	}
	switch c := m.Get("content"); {
	case c.Type == gjson.String && c.Str != "":
		out.Parts = append(out.Parts, Part{Kind: PartText, Text: c.Str})
	case c.IsArray():
		for _, p := range c.Array() {
			if t := p.Get("text").String(); t != "" {
				out.Parts = append(out.Parts, Part{Kind: PartText, Text: t})
			}
		}
	}
	if rf := m.Get("refusal"); rf.Type == gjson.String && rf.Str != "" {
		out.Parts = append(out.Parts, Part{Kind: PartText, Text: rf.Str})
	}
	for _, tc := range m.Get("tool_calls").Array() {
		out.Parts = append(out.Parts, Part{Kind: PartToolCall, ToolID: tc.Get("id").String(),
			ToolName: tc.Get("function.name").String(), Args: tc.Get("function.arguments").String()})
	}
	out.Stop = stopFromOpenAI(choice.Get("finish_reason").String())
	if u := r.Get("usage"); u.IsObject() {
		out.Usage = usageFromOpenAI(u)
	}
	return out
}

func appendOpenAIToolCall(dst []byte, p *Part) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, p.ToolID)
	dst = append(dst, `,"type":"function","function":{"name":`...)
	dst = appendString(dst, p.ToolName)
	dst = append(dst, `,"arguments":`...)
	args := p.Args
	if args == "" {
		args = "{}"
	}
	dst = appendString(dst, args)
	return append(dst, `}}`...)
}

func appendOpenAIResponse(dst []byte, r *chatResponse, model string) []byte {
	created := r.Created
	if created == 0 {
		created = now().Unix()
	}
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, openaiID(r.ID))
	dst = append(dst, `,"object":"chat.completion","created":`...)
	dst = appendInt(dst, created)
	dst = append(dst, `,"model":`...)
	dst = appendString(dst, model)
	dst = append(dst, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	if text, ok := joinText(r.Parts, PartText); ok {
		dst = appendString(dst, text)
	} else {
		dst = append(dst, "null"...)
	}
	if th, ok := joinText(r.Parts, PartThinking); ok {
		dst = append(dst, `,"reasoning_content":`...)
		dst = appendString(dst, th)
	}
	first := true
	for i := range r.Parts {
		if r.Parts[i].Kind != PartToolCall {
			continue
		}
		if first {
			dst = append(dst, `,"tool_calls":[`...)
		} else {
			dst = append(dst, ',')
		}
		first = false
		dst = appendOpenAIToolCall(dst, &r.Parts[i])
	}
	if !first {
		dst = append(dst, ']')
	}
	dst = append(dst, `,"refusal":null},"logprobs":null,"finish_reason":`...)
	dst = appendString(dst, stopToOpenAI(r.Stop))
	dst = append(dst, `}],"usage":`...)
	dst = appendOpenAIUsage(dst, r.Usage)
	return append(dst, '}')
}

func appendOpenAIUsage(dst []byte, u Usage) []byte {
	in, outTok := known(u.InputTokens), known(u.OutputTokens)
	dst = append(dst, `{"prompt_tokens":`...)
	dst = appendInt(dst, in)
	dst = append(dst, `,"completion_tokens":`...)
	dst = appendInt(dst, outTok)
	dst = append(dst, `,"total_tokens":`...)
	dst = appendInt(dst, in+outTok)
	dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
	dst = appendInt(dst, known(u.CacheReadTokens))
	if u.CacheWriteTokens > 0 {
		dst = append(dst, `,"cache_write_tokens":`...)
		dst = appendInt(dst, u.CacheWriteTokens)
	}
	dst = append(dst, `},"completion_tokens_details":{"reasoning_tokens":`...)
	dst = appendInt(dst, known(u.ReasoningTokens))
	return append(dst, `}}`...)
}

// openaiID and anthropicID give a response id the prefix its format's clients
// expect, keeping the upstream id recognisable.
func openaiID(id string) string { return prefixedID("chatcmpl-", id) }

// openAIUsage is where an OpenAI usage object keeps each count.
var openAIUsage = usagePaths{
	{"prompt_tokens", ""}, {"completion_tokens", ""},
	{"prompt_tokens_details", "cached_tokens"}, {"prompt_tokens_details", "cache_write_tokens"},
	{"completion_tokens_details", "reasoning_tokens"},
}

func usageFromOpenAI(u gjson.Result) Usage { return openAIUsage.read(u) }

func stopFromOpenAI(s string) StopReason {
	switch s {
	case "":
		return StopUnknown
	case "length", "model_length":
		return StopLength
	case "tool_calls", "function_call":
		return StopTool
	case "content_filter":
		return StopFilter
	}
	return StopEnd
}

func stopToOpenAI(s StopReason) string {
	switch s {
	case StopLength:
		return "length"
	case StopTool:
		return "tool_calls"
	case StopFilter:
		return "content_filter"
	}
	return "stop"
}

func openAIErrorType(status int) string {
	switch {
	case status == 401:
		return "authentication_error"
	case status == 403:
		return "permission_error"
	case status == 404:
		return "not_found_error"
	case status == 429:
		return "rate_limit_error"
	case status == 503 || status == 529:
		return "service_unavailable_error"
	case status == 504:
		return "timeout_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}
