package codec

import (
	"fmt"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// streamDecoder turns one upstream event of its format into canonical events,
// appended to out.
type streamDecoder interface {
	decode(out []event, ev sse.Event) ([]event, error)
}

func newDecoder(f config.Format) streamDecoder {
	switch f {
	case config.FormatAnthropic:
		return &anthropicDecoder{usage: anthropicUsage{-1, -1, -1, -1}}
	case config.FormatGemini:
		return &geminiDecoder{}
	}
	return &openaiDecoder{}
}

// parseData validates an event's JSON payload.
func parseData(data []byte) (gjson.Result, error) {
	if !gjson.ValidBytes(data) {
		return gjson.Result{}, fmt.Errorf("%w: stream event is not valid JSON", ErrInvalid)
	}
	return gjson.ParseBytes(data), nil
}

// intOr returns r as an int64 when it is a number, else -1 (unknown).
func intOr(r gjson.Result) int64 {
	if r.Type != gjson.Number {
		return -1
	}
	return r.Int()
}

// openaiDecoder reads Chat Completions chunks.
type openaiDecoder struct {
	started bool
	tools   map[int64]bool // tool call indexes already started
}

func (d *openaiDecoder) decode(out []event, ev sse.Event) ([]event, error) {
	if ev.Comment {
		return append(out, event{kind: evPing}), nil
	}
	if len(ev.Data) == 0 {
		return out, nil
	}
	if sse.IsDone(ev.Data) {
		return append(out, event{kind: evDone}), nil
	}
	r, err := parseData(ev.Data)
	if err != nil {
		return out, err
	}
	if e := r.Get("error"); e.Exists() {
		return append(out, openaiError(e)), nil
	}
	if !d.started {
		d.started = true
		out = append(out, event{kind: evStart, id: r.Get("id").String(), name: r.Get("model").String(), created: r.Get("created").Int()})
	}
	choice := r.Get("choices.0")
	delta := choice.Get("delta")
	for _, k := range [...]string{"reasoning_content", "reasoning"} {
		if t := delta.Get(k); t.Type == gjson.String && t.Str != "" {
			out = append(out, event{kind: evThinking, text: t.Str})
			break
		}
	}
	if t := delta.Get("content"); t.Type == gjson.String && t.Str != "" {
		out = append(out, event{kind: evText, text: t.Str})
	}
	if tcs := delta.Get("tool_calls"); tcs.IsArray() {
		for i, tc := range tcs.Array() {
			idx := int64(i)
			if x := tc.Get("index"); x.Type == gjson.Number {
				idx = x.Int()
			}
			if !d.tools[idx] {
				if d.tools == nil {
					d.tools = map[int64]bool{}
				}
				d.tools[idx] = true
				out = append(out, event{kind: evToolStart, key: int(idx), id: tc.Get("id").String(), name: tc.Get("function.name").String()})
			}
			if a := tc.Get("function.arguments"); a.Type == gjson.String && a.Str != "" {
				out = append(out, event{kind: evToolArgs, key: int(idx), text: a.Str})
			}
		}
	}
	if fr := choice.Get("finish_reason"); fr.Type == gjson.String && fr.Str != "" {
		out = append(out, event{kind: evFinish, stop: stopFromOpenAI(fr.Str)})
	}
	if u := r.Get("usage"); u.IsObject() {
		out = append(out, event{kind: evUsage, usage: usageFromOpenAI(u)})
	}
	return out, nil
}

func openaiError(e gjson.Result) event {
	msg := e.Get("message").String()
	if e.Type == gjson.String {
		msg = e.Str
	}
	status := 0
	if c := e.Get("code"); c.Type == gjson.Number {
		status = int(c.Int())
	} else if c.Type == gjson.String {
		status = statusFromErrorType(c.Str)
	}
	if status == 0 {
		status = statusFromErrorType(e.Get("type").String())
	}
	if status < 400 || status > 599 {
		status = 500
	}
	return event{kind: evError, status: status, text: msg}
}

func usageFromOpenAI(u gjson.Result) Usage {
	return Usage{
		InputTokens:      intOr(u.Get("prompt_tokens")),
		OutputTokens:     intOr(u.Get("completion_tokens")),
		CacheReadTokens:  intOr(u.Get("prompt_tokens_details.cached_tokens")),
		CacheWriteTokens: intOr(u.Get("prompt_tokens_details.cache_write_tokens")),
		ReasoningTokens:  intOr(u.Get("completion_tokens_details.reasoning_tokens")),
	}
}

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

// anthropicDecoder reads Messages stream events.
type anthropicDecoder struct {
	usage anthropicUsage
}

func (d *anthropicDecoder) decode(out []event, ev sse.Event) ([]event, error) {
	if ev.Comment {
		return append(out, event{kind: evPing}), nil
	}
	if len(ev.Data) == 0 {
		return out, nil
	}
	r, err := parseData(ev.Data)
	if err != nil {
		return out, err
	}
	typ := r.Get("type").String()
	if typ == "" {
		typ = string(ev.Name)
	}
	switch typ {
	case "message_start":
		m := r.Get("message")
		out = append(out, event{kind: evStart, id: m.Get("id").String(), name: m.Get("model").String()})
		if u := m.Get("usage"); u.IsObject() {
			d.usage.update(u)
			out = append(out, event{kind: evUsage, usage: d.usage.canonical()})
		}
	case "content_block_start":
		idx := int(r.Get("index").Int())
		cb := r.Get("content_block")
		switch cb.Get("type").String() {
		case "text":
			if t := cb.Get("text").String(); t != "" {
				out = append(out, event{kind: evText, text: t})
			}
		case "thinking":
			if t := cb.Get("thinking").String(); t != "" {
				out = append(out, event{kind: evThinking, text: t})
			}
		case "redacted_thinking":
			out = append(out, event{kind: evRedacted, text: cb.Get("data").String()})
		case "tool_use", "server_tool_use":
			out = append(out, event{kind: evToolStart, key: idx, id: cb.Get("id").String(), name: cb.Get("name").String()})
			if in := cb.Get("input"); in.IsObject() && len(in.Map()) > 0 {
				out = append(out, event{kind: evToolArgs, key: idx, text: in.Raw})
			}
		}
	case "content_block_delta":
		idx := int(r.Get("index").Int())
		dl := r.Get("delta")
		switch dl.Get("type").String() {
		case "text_delta":
			out = append(out, event{kind: evText, text: dl.Get("text").String()})
		case "thinking_delta":
			out = append(out, event{kind: evThinking, text: dl.Get("thinking").String()})
		case "signature_delta":
			out = append(out, event{kind: evSignature, text: dl.Get("signature").String()})
		case "input_json_delta":
			if p := dl.Get("partial_json").String(); p != "" {
				out = append(out, event{kind: evToolArgs, key: idx, text: p})
			}
		}
	case "content_block_stop":
		out = append(out, event{kind: evBlockStop, key: int(r.Get("index").Int())})
	case "message_delta":
		if sr := r.Get("delta.stop_reason"); sr.Type == gjson.String {
			out = append(out, event{kind: evFinish, stop: stopFromAnthropic(sr.Str), text: r.Get("delta.stop_sequence").String()})
		}
		if u := r.Get("usage"); u.IsObject() {
			d.usage.update(u)
			out = append(out, event{kind: evUsage, usage: d.usage.canonical()})
		}
	case "message_stop":
		out = append(out, event{kind: evDone})
	case "ping":
		out = append(out, event{kind: evPing})
	case "error":
		e := r.Get("error")
		status := statusFromErrorType(e.Get("type").String())
		if status == 0 {
			status = 500
		}
		out = append(out, event{kind: evError, status: status, text: e.Get("message").String()})
	}
	return out, nil
}

// geminiDecoder reads streamGenerateContent?alt=sse chunks. Gemini sends each
// function call whole, so one becomes start + args + block stop at once.
type geminiDecoder struct {
	started  bool
	respID   string
	nextTool int
	hasCalls bool
}

func (d *geminiDecoder) decode(out []event, ev sse.Event) ([]event, error) {
	if ev.Comment {
		return append(out, event{kind: evPing}), nil
	}
	if len(ev.Data) == 0 {
		return out, nil
	}
	r, err := parseData(ev.Data)
	if err != nil {
		return out, err
	}
	if e := r.Get("error"); e.Exists() {
		return append(out, geminiError(e)), nil
	}
	if !d.started {
		d.started = true
		d.respID = r.Get("responseId").String()
		out = append(out, event{kind: evStart, id: d.respID, name: r.Get("modelVersion").String()})
	}
	// Usage first: every chunk carries it, and the input count belongs in an
	// Anthropic client's message_start.
	if u := r.Get("usageMetadata"); u.IsObject() {
		out = append(out, event{kind: evUsage, usage: usageFromGemini(u)})
	}
	cand := r.Get("candidates.0")
	for _, p := range cand.Get("content.parts").Array() {
		out = d.part(out, p)
	}
	if fr := cand.Get("finishReason"); fr.Type == gjson.String && fr.Str != "" && fr.Str != "FINISH_REASON_UNSPECIFIED" {
		out = append(out, event{kind: evFinish, stop: stopFromGemini(fr.Str, d.hasCalls)})
	} else if !cand.Exists() && r.Get("promptFeedback.blockReason").Exists() {
		out = append(out, event{kind: evFinish, stop: StopFilter})
	}
	return out, nil
}

func (d *geminiDecoder) part(out []event, p gjson.Result) []event {
	sig := p.Get("thoughtSignature").String()
	if fc := p.Get("functionCall"); fc.Exists() {
		d.hasCalls = true
		key := d.nextTool
		d.nextTool++
		id := geminiCallID(fc.Get("id").String(), d.respID, key, sig)
		args := "{}"
		if a := fc.Get("args"); a.IsObject() {
			args = compactJSON(a.Raw)
		}
		return append(out,
			event{kind: evToolStart, key: key, id: id, name: fc.Get("name").String()},
			event{kind: evToolArgs, key: key, text: args},
			event{kind: evBlockStop, key: key})
	}
	t := p.Get("text")
	if t.Type != gjson.String {
		return out
	}
	if p.Get("thought").Bool() {
		if t.Str != "" {
			out = append(out, event{kind: evThinking, text: t.Str})
		}
		if sig != "" {
			out = append(out, event{kind: evSignature, text: sig})
		}
		return out
	}
	if t.Str != "" {
		out = append(out, event{kind: evText, text: t.Str})
	}
	return out
}

func geminiError(e gjson.Result) event {
	status := int(e.Get("code").Int())
	if status < 400 || status > 599 {
		status = statusFromErrorType(e.Get("status").String())
	}
	if status == 0 {
		status = 500
	}
	return event{kind: evError, status: status, text: e.Get("message").String()}
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
