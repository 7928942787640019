package codec

import (
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

// now is the clock for "created" fields; tests pin it.
var now = time.Now

// decodeResponse reads a non-streaming success body of format f.
func decodeResponse(f config.Format, body []byte) (*chatResponse, error) {
	if !gjson.ValidBytes(body) {
		return nil, fmt.Errorf("%w: response body is not valid JSON", ErrInvalid)
	}
	r := gjson.ParseBytes(body)
	switch f {
	case config.FormatAnthropic:
		return anthropicResponse(r), nil
	case config.FormatGemini:
		return geminiResponse(r), nil
	}
	return openaiResponse(r), nil
}

// encodeResponse writes r as a non-streaming body of format f. model, when not
// "", replaces the upstream's model name (the client sees the name it asked for).
func encodeResponse(dst []byte, f config.Format, r *chatResponse, model string) []byte {
	if model == "" {
		model = r.Model
	}
	switch f {
	case config.FormatAnthropic:
		return appendAnthropicResponse(dst, r, model)
	case config.FormatGemini:
		return appendGeminiResponse(dst, r, model)
	}
	return appendOpenAIResponse(dst, r, model)
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
	*out = b.resp
	out.Stop = stopFromGemini(cand.Get("finishReason").String(), d.hasCalls)
	if !cand.Exists() && r.Get("promptFeedback.blockReason").Exists() {
		out.Stop = StopFilter
	}
	if u := r.Get("usageMetadata"); u.IsObject() {
		out.Usage = usageFromGemini(u)
	}
	return out
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

// joinText concatenates the parts of kind k.
func joinText(parts []Part, k PartKind) (string, bool) {
	var b strings.Builder
	found := false
	for _, p := range parts {
		if p.Kind == k {
			b.WriteString(p.Text)
			found = true
		}
	}
	return b.String(), found
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

// openaiID and anthropicID give a response id the prefix its format's clients
// expect, keeping the upstream id recognisable.
func openaiID(id string) string {
	if strings.HasPrefix(id, "chatcmpl-") {
		return id
	}
	return "chatcmpl-" + sanitizeID(id)
}

func anthropicID(id string) string {
	if strings.HasPrefix(id, "msg_") {
		return id
	}
	return "msg_" + sanitizeID(id)
}
