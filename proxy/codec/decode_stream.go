package codec

import (
	"fmt"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// streamDecoder turns the JSON payload of one upstream event of its format
// (name is the SSE event name, if any) into canonical events, appended to out.
type streamDecoder interface {
	decodeJSON(out []event, name []byte, r gjson.Result) ([]event, error)
}

// decodeEvent does what every format shares before d reads the payload: a
// comment is a keep-alive ping, an event without data says nothing, OpenAI's
// "[DONE]" ends the stream, and any other data must be valid JSON.
func decodeEvent(d streamDecoder, out []event, ev sse.Event) ([]event, error) {
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
	return d.decodeJSON(out, ev.Name, r)
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

func (d *openaiDecoder) decodeJSON(out []event, _ []byte, r gjson.Result) ([]event, error) {
	// One pass over the chunk's keys: chunks arrive by the hundred, and each
	// gjson Get would scan the whole object again.
	var id, model, created, choice, usage, errObj gjson.Result
	r.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id":
			id = v
		case "model":
			model = v
		case "created":
			created = v
		case "choices":
			v.ForEach(func(_, c gjson.Result) bool { choice = c; return false })
		case "usage":
			usage = v
		case "error":
			errObj = v
		}
		return true
	})
	if errObj.Exists() {
		return append(out, openaiError(errObj)), nil
	}
	if !d.started {
		d.started = true
		out = append(out, event{kind: evStart, id: id.String(), name: model.String(), created: created.Int()})
	}
	var delta, finish gjson.Result
	choice.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "delta":
			delta = v
		case "finish_reason":
			finish = v
		}
		return true
	})
	var content, reasoning, refusal, toolCalls gjson.Result
	delta.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "content":
			content = v
		case "reasoning_content":
			reasoning = v
		case "reasoning":
			if reasoning.Type != gjson.String || reasoning.Str == "" {
				reasoning = v
			}
		case "refusal":
			refusal = v
		case "tool_calls":
			toolCalls = v
		}
		return true
	})
	if reasoning.Type == gjson.String && reasoning.Str != "" {
		out = append(out, event{kind: evThinking, text: reasoning.Str})
	}
	if content.Type == gjson.String && content.Str != "" {
		out = append(out, event{kind: evText, text: content.Str})
	}
	if refusal.Type == gjson.String && refusal.Str != "" {
		out = append(out, event{kind: evText, text: refusal.Str})
	}
	if toolCalls.IsArray() {
		i := 0
		toolCalls.ForEach(func(_, tc gjson.Result) bool {
			out = d.toolCall(out, i, tc)
			i++
			return true
		})
	}
	if finish.Type == gjson.String && finish.Str != "" {
		out = append(out, event{kind: evFinish, stop: stopFromOpenAI(finish.Str)})
	}
	if usage.IsObject() {
		out = append(out, event{kind: evUsage, usage: usageFromOpenAI(usage)})
	}
	return out, nil
}

func (d *openaiDecoder) toolCall(out []event, i int, tc gjson.Result) []event {
	idx := int64(i)
	if x := tc.Get("index"); x.Type == gjson.Number {
		idx = x.Int()
	} else if tc.Get("id").String() != "" {
		// Some servers omit index; a call with an id is a new one.
		idx = int64(len(d.tools))
	} else if n := len(d.tools); n > 0 {
		idx = int64(n - 1)
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
	return out
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

func (d *anthropicDecoder) decodeJSON(out []event, name []byte, r gjson.Result) ([]event, error) {
	typ := r.Get("type").String()
	if typ == "" {
		typ = string(name)
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

func (d *geminiDecoder) decodeJSON(out []event, _ []byte, r gjson.Result) ([]event, error) {
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
