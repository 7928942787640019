package codec

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Gemini generateContent: request decode and encode, non-streaming response,
// usage, finish reasons and error statuses (MAPPING.md). Call ids and thought
// signatures are in ids.go.

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
	req.PresencePenalty = optFloat(g.Get("presencePenalty"))
	req.FrequencyPenalty = optFloat(g.Get("frequencyPenalty"))
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

func encodeGeminiRequest(req *chatRequest) []byte {
	attachTextSignatures(req.Messages)
	b := append([]byte(nil), `{"contents":[`...)
	b = appendTurns(b, req.Messages, `{"role":"model","parts":[`, `{"role":"user","parts":[`, `{"text":""}`,
		func(b []byte, p Part, _ Role) ([]byte, bool) { return appendGeminiRequestPart(b, p) })
	b = append(b, ']')
	if sys := resultText(req.System); sys != "" {
		b = append(b, `,"systemInstruction":{"parts":[{"text":`...)
		b = appendString(b, sys)
		b = append(b, `}]}`...)
	}
	b = appendGeminiTools(b, req)
	if g := appendGenerationConfig(b[:0:0], req); len(g) > 0 {
		b = append(b, `,"generationConfig":{`...)
		b = append(b, g...)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendGeminiTools writes tools and toolConfig.
func appendGeminiTools(b []byte, req *chatRequest) []byte {
	if len(req.Tools) == 0 {
		return b
	}
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
	return b
}

// appendGenerationConfig writes the fields of generationConfig, without the
// braces; it writes nothing when there are none.
func appendGenerationConfig(g []byte, req *chatRequest) []byte {
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
	return g
}

func appendGeminiRequestPart(b []byte, p Part) ([]byte, bool) {
	switch p.Kind {
	case PartText:
		if p.Text == "" {
			return b, false
		}
		b = append(b, `{"text":`...)
		b = appendString(b, p.Text)
		if p.Signature != "" { // set by attachTextSignatures
			b = append(b, `,"thoughtSignature":`...)
			b = appendString(b, p.Signature)
		}
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

func geminiResponse(r gjson.Result) *chatResponse {
	out := &chatResponse{ID: r.Get("responseId").String(), Model: r.Get("modelVersion").String(), Usage: UnknownUsage()}
	d := geminiDecoder{started: true, respID: out.ID}
	b := builder{resp: *out}
	cand := r.Get("candidates.0")
	var evs []event
	for _, p := range cand.Get("content.parts").Array() {
		evs = d.part(evs[:0], p)
		for i := range evs {
			b.add(&evs[i])
		}
	}
	*out = *b.response()
	out.Stop = stopFromGemini(cand.Get("finishReason").String(), d.hasCalls)
	if !cand.Exists() && r.Get("promptFeedback.blockReason").Exists() {
		out.Stop = StopFilter
	}
	if u := r.Get("usageMetadata"); u.IsObject() {
		out.Usage = usageFromGemini(u)
	}
	return out
}

func appendGeminiPart(dst []byte, p *Part) []byte {
	switch p.Kind {
	case PartThinking:
		dst = append(dst, `{"text":`...)
		dst = appendString(dst, p.Text)
		dst = append(dst, `,"thought":true`...)
	case PartToolCall:
		id, sig := splitCallID(p.ToolID)
		dst = append(dst, `{"functionCall":{`...)
		if id != "" {
			dst = append(dst, `"id":`...)
			dst = appendString(dst, id)
			dst = append(dst, ',')
		}
		dst = append(dst, `"name":`...)
		dst = appendString(dst, p.ToolName)
		dst = append(dst, `,"args":`...)
		dst = appendRawObject(dst, p.Args)
		dst = append(dst, '}')
		if sig != "" {
			dst = append(dst, `,"thoughtSignature":`...)
			dst = appendString(dst, sig)
		}
	default:
		dst = append(dst, `{"text":`...)
		dst = appendString(dst, p.Text)
	}
	return append(dst, '}')
}

func appendGeminiResponse(dst []byte, r *chatResponse, model string) []byte {
	dst = append(dst, `{"candidates":[{"content":{"role":"model","parts":[`...)
	n := 0
	for i := range r.Parts {
		switch r.Parts[i].Kind {
		case PartText, PartThinking, PartToolCall:
		default:
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = appendGeminiPart(dst, &r.Parts[i])
	}
	dst = append(dst, `]},"finishReason":`...)
	dst = appendString(dst, stopToGemini(r.Stop))
	dst = append(dst, `,"index":0}],"usageMetadata":`...)
	dst = appendGeminiUsage(dst, r.Usage)
	dst = append(dst, `,"modelVersion":`...)
	dst = appendString(dst, model)
	dst = append(dst, `,"responseId":`...)
	dst = appendString(dst, r.ID)
	return append(dst, '}')
}

func appendGeminiUsage(dst []byte, u Usage) []byte {
	in, out, th := known(u.InputTokens), known(u.OutputTokens), known(u.ReasoningTokens)
	cand := out - th
	if cand < 0 {
		cand = 0
	}
	dst = append(dst, `{"promptTokenCount":`...)
	dst = appendInt(dst, in)
	dst = append(dst, `,"candidatesTokenCount":`...)
	dst = appendInt(dst, cand)
	dst = append(dst, `,"totalTokenCount":`...)
	dst = appendInt(dst, in+cand+th)
	if u.CacheReadTokens > 0 {
		dst = append(dst, `,"cachedContentTokenCount":`...)
		dst = appendInt(dst, u.CacheReadTokens)
	}
	if th > 0 {
		dst = append(dst, `,"thoughtsTokenCount":`...)
		dst = appendInt(dst, th)
	}
	return append(dst, '}')
}

func usageFromGemini(u gjson.Result) Usage {
	out := Usage{
		InputTokens:      intOr(u.Get("promptTokenCount")),
		OutputTokens:     intOr(u.Get("candidatesTokenCount")),
		CacheReadTokens:  intOr(u.Get("cachedContentTokenCount")),
		CacheWriteTokens: -1,
		ReasoningTokens:  intOr(u.Get("thoughtsTokenCount")),
	}
	// Gemini's candidates count excludes thoughts; the canonical output includes
	// them (as OpenAI's completion_tokens and Anthropic's output_tokens do).
	if out.ReasoningTokens > 0 {
		out.OutputTokens = known(out.OutputTokens) + out.ReasoningTokens
	}
	return out
}

// stopFromGemini maps a finishReason. Gemini has no tool-call reason: STOP with
// functionCall parts means tool calls (hasCalls).
func stopFromGemini(s string, hasCalls bool) StopReason {
	switch s {
	case "":
		return StopUnknown
	case "MAX_TOKENS":
		return StopLength
	case "SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
		"IMAGE_PROHIBITED_CONTENT", "RECITATION", "LANGUAGE":
		return StopFilter
	}
	if hasCalls {
		return StopTool
	}
	return StopEnd
}

func stopToGemini(s StopReason) string {
	switch s {
	case StopLength:
		return "MAX_TOKENS"
	case StopFilter:
		return "SAFETY"
	}
	return "STOP"
}

func geminiErrorStatus(status int) string {
	switch status {
	case 400, 413, 422:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 501:
		return "UNIMPLEMENTED"
	case 502, 503, 529:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}
