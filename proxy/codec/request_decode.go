package codec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// This file reads the three request formats into the canonical chatRequest.

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

func optInt(r gjson.Result) *int {
	if r.Type != gjson.Number {
		return nil
	}
	v := int(r.Int())
	return &v
}

func optFloat(r gjson.Result) *float64 {
	if r.Type != gjson.Number {
		return nil
	}
	v := r.Float()
	return &v
}

// dataURL splits "data:<media>;base64,<data>"; ok is false for other URLs.
func dataURL(u string) (media, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found || !strings.HasSuffix(meta, ";base64") {
		return "", "", false
	}
	return strings.TrimSuffix(meta, ";base64"), data, true
}

func mediaPart(media, data, url string) Part {
	k := PartImage
	if media == "application/pdf" {
		k = PartDocument
	}
	return Part{Kind: k, MediaType: media, Data: data, URL: url}
}

// ---- OpenAI Chat Completions ----

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

// ---- Anthropic Messages ----

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
		req.Thinking = Thinking{Enabled: true, Effort: r.Get("output_config.effort").String(), Include: true}
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

// ---- Gemini generateContent ----

func decodeGeminiRequest(r gjson.Result, stream bool) (*chatRequest, error) {
	req := &chatRequest{N: 1, Stream: stream, IncludeUsage: true}
	for _, p := range r.Get("systemInstruction.parts").Array() {
		req.System = append(req.System, Part{Kind: PartText, Text: p.Get("text").String()})
	}
	// Gemini 2.5 calls have no ids: give each one and match responses to calls
	// of the previous model turn by id, else by name in order.
	var pending []Part
	for i, c := range r.Get("contents").Array() {
		role := RoleUser
		switch c.Get("role").String() {
		case "user", "":
		case "model":
			role = RoleAssistant
		default:
			return nil, invalid("contents[%d].role %q is not supported", i, c.Get("role").String())
		}
		var parts []Part
		for j, p := range c.Get("parts").Array() {
			switch {
			case p.Get("functionCall").Exists():
				fc := p.Get("functionCall")
				id := fc.Get("id").String()
				if id == "" {
					id = "call_" + strconv.Itoa(i) + "_" + strconv.Itoa(j)
				}
				args := "{}"
				if a := fc.Get("args"); a.IsObject() {
					args = compactJSON(a.Raw)
				}
				parts = append(parts, Part{Kind: PartToolCall, ToolID: id, ToolName: fc.Get("name").String(), Args: args})
			case p.Get("functionResponse").Exists():
				fr := p.Get("functionResponse")
				name := fr.Get("name").String()
				id := fr.Get("id").String()
				if id == "" {
					for k := range pending {
						if pending[k].ToolName == name && pending[k].ToolID != "" {
							id, pending[k].ToolID = pending[k].ToolID, ""
							break
						}
					}
				}
				parts = append(parts, Part{Kind: PartToolResult, ToolID: id, ToolName: name, Result: []Part{{Kind: PartText, Text: geminiResultText(fr.Get("response"))}}})
			case p.Get("inlineData").Exists():
				d := p.Get("inlineData")
				parts = append(parts, mediaPart(d.Get("mimeType").String(), d.Get("data").String(), ""))
			case p.Get("fileData").Exists():
				d := p.Get("fileData")
				mp := mediaPart(d.Get("mimeType").String(), "", d.Get("fileUri").String())
				parts = append(parts, mp)
			case p.Get("text").Exists():
				if p.Get("thought").Bool() {
					// A Gemini thoughtSignature means nothing to another provider.
					parts = append(parts, Part{Kind: PartThinking, Text: p.Get("text").String()})
				} else if t := p.Get("text").String(); t != "" {
					parts = append(parts, Part{Kind: PartText, Text: t})
				}
			}
		}
		if role == RoleAssistant {
			pending = nil
			for _, p := range parts {
				if p.Kind == PartToolCall {
					pending = append(pending, p)
				}
			}
		}
		req.Messages = append(req.Messages, Message{Role: role, Parts: parts})
	}
	for i, t := range r.Get("tools").Array() {
		decls := t.Get("functionDeclarations")
		if !decls.Exists() {
			for k := range t.Map() {
				return nil, unsupported("tools[%d].%s (a Gemini built-in tool)", i, k)
			}
		}
		for _, d := range decls.Array() {
			schema := d.Get("parametersJsonSchema").Raw
			if schema == "" {
				schema = lowercaseTypes(d.Get("parameters").Raw)
			}
			req.Tools = append(req.Tools, Tool{Name: d.Get("name").String(), Description: d.Get("description").String(), Schema: schema})
		}
	}
	fcc := r.Get("toolConfig.functionCallingConfig")
	switch fcc.Get("mode").String() {
	case "AUTO":
		req.ToolChoice.Mode = ToolChoiceAuto
	case "NONE":
		req.ToolChoice.Mode = ToolChoiceNone
	case "ANY", "VALIDATED":
		req.ToolChoice.Mode = ToolChoiceRequired
		if names := fcc.Get("allowedFunctionNames").Array(); len(names) == 1 {
			req.ToolChoice = ToolChoice{Mode: ToolChoiceNamed, Name: names[0].String()}
		}
	}
	g := r.Get("generationConfig")
	req.MaxTokens = optInt(g.Get("maxOutputTokens"))
	req.Temperature = optFloat(g.Get("temperature"))
	req.TopP = optFloat(g.Get("topP"))
	req.TopK = optInt(g.Get("topK"))
	for _, s := range g.Get("stopSequences").Array() {
		req.Stop = append(req.Stop, s.String())
	}
	if n := g.Get("candidateCount"); n.Type == gjson.Number {
		req.N = int(n.Int())
	}
	if s := g.Get("seed"); s.Type == gjson.Number {
		v := s.Int()
		req.Seed = &v
	}
	if g.Get("responseMimeType").String() == "application/json" {
		req.ResponseFormat.Type = "json_object"
		schema := g.Get("responseJsonSchema").Raw
		if schema == "" {
			schema = lowercaseTypes(g.Get("responseSchema").Raw)
		}
		if schema != "" {
			req.ResponseFormat = ResponseFormat{Type: "json_schema", Name: "response", Schema: schema}
		}
	}
	if tc := g.Get("thinkingConfig"); tc.Exists() {
		budget := tc.Get("thinkingBudget").Int()
		if budget != 0 {
			req.Thinking = Thinking{Enabled: true, Include: tc.Get("includeThoughts").Bool()}
			if budget > 0 {
				req.Thinking.Budget = int(budget)
			}
			if l := tc.Get("thinkingLevel").String(); l != "" {
				req.Thinking.Effort = strings.ToLower(l)
			}
		}
	}
	return req, nil
}

// geminiResultText turns a functionResponse.response object into tool result
// text: the value of a lone "result"/"output" key when it is a string, else JSON.
func geminiResultText(r gjson.Result) string {
	m := r.Map()
	if len(m) == 1 {
		for k, v := range m {
			if (k == "result" || k == "output" || k == "content") && v.Type == gjson.String {
				return v.Str
			}
			if k == "result" || k == "output" || k == "content" {
				return compactJSON(v.Raw)
			}
		}
	}
	return compactJSON(r.Raw)
}

// lowercaseTypes turns Gemini's OpenAPI-subset schema ("type": "OBJECT") into
// JSON Schema ("type": "object").
func lowercaseTypes(raw string) string {
	if raw == "" {
		return ""
	}
	var b []byte
	return string(lowerSchema(b, gjson.Parse(raw)))
}

func lowerSchema(dst []byte, r gjson.Result) []byte {
	switch {
	case r.IsObject():
		dst = append(dst, '{')
		first := true
		r.ForEach(func(k, v gjson.Result) bool {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendString(dst, k.Str)
			dst = append(dst, ':')
			if k.Str == "type" && v.Type == gjson.String {
				dst = appendString(dst, strings.ToLower(v.Str))
			} else {
				dst = lowerSchema(dst, v)
			}
			return true
		})
		return append(dst, '}')
	case r.IsArray():
		dst = append(dst, '[')
		for i, v := range r.Array() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = lowerSchema(dst, v)
		}
		return append(dst, ']')
	}
	return append(dst, compactJSON(r.Raw)...)
}
