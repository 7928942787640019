package codec

import (
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// OpenAI Chat Completions streams: chunks to canonical events and back.

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

// openaiEncoder writes canonical events as Chat Completions chunks: role only on
// the first chunk, content / reasoning_content / tool_calls deltas (tool indexes
// from 0), finish_reason on the final chunk, the usage chunk (choices: []) only
// when the client asked for it, then [DONE].
type openaiEncoder struct {
	info    RequestInfo
	started bool
	id      string
	model   string
	created int64
	tools   map[int]int // upstream key → OpenAI tool index
	stop    StopReason
	finish  bool
	done    bool
	usage   Usage
	buf     []byte
}

// chunk appends one chunk whose choices[0].delta is delta and whose
// finish_reason is finish ("" for null).
func (e *openaiEncoder) chunk(dst []byte, delta []byte, finish string) []byte {
	b := append(e.buf[:0], `{"id":`...)
	b = appendString(b, openaiID(e.id))
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = appendInt(b, e.created)
	b = append(b, `,"model":`...)
	b = appendString(b, e.modelName())
	b = append(b, `,"choices":[{"index":0,"delta":`...)
	b = append(b, delta...)
	b = append(b, `,"logprobs":null,"finish_reason":`...)
	if finish == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, finish)
	}
	b = append(b, `}]}`...)
	e.buf = b
	return sse.AppendEvent(dst, "", b)
}

func (e *openaiEncoder) modelName() string {
	if e.info.ClientModel != "" {
		return e.info.ClientModel
	}
	return e.model
}

func (e *openaiEncoder) start(dst []byte) []byte {
	if e.started {
		return dst
	}
	e.started = true
	if e.created == 0 {
		e.created = now().Unix()
	}
	return e.chunk(dst, []byte(`{"role":"assistant","content":""}`), "")
}

func (e *openaiEncoder) encode(dst []byte, ev *event) []byte {
	if e.done {
		return dst
	}
	switch ev.kind {
	case evStart:
		if e.id == "" {
			e.id, e.model, e.created = ev.id, ev.name, ev.created
		}
		return e.start(dst)
	case evUsage:
		e.usage = mergeUsage(e.usage, ev.usage)
		if e.finish {
			return e.end(dst)
		}
		return dst
	case evFinish:
		e.finish, e.stop = true, ev.stop
		return dst
	case evPing:
		return append(dst, ": keep-alive\n\n"...)
	case evError:
		e.done = true // OpenAI ends a failed stream with the error and no [DONE]
		dst = append(dst, "data: "...)
		dst = append(dst, ErrorBody(config.FormatOpenAI, ev.status, ev.text, "")...)
		return append(dst, "\n\n"...)
	case evDone:
		return e.end(dst)
	}
	dst = e.start(dst)
	var d []byte
	switch ev.kind {
	case evText:
		d = appendString(append(d, `{"content":`...), ev.text)
	case evThinking:
		d = appendString(append(d, `{"reasoning_content":`...), ev.text)
	case evToolStart:
		if e.tools == nil {
			e.tools = map[int]int{}
		}
		i := len(e.tools)
		e.tools[ev.key] = i
		d = append(d, `{"tool_calls":[{"index":`...)
		d = appendInt(d, int64(i))
		d = append(d, `,"id":`...)
		d = appendString(d, ev.id)
		d = append(d, `,"type":"function","function":{"name":`...)
		d = appendString(d, ev.name)
		d = append(d, `,"arguments":""}}]`...)
	case evToolArgs:
		i, ok := e.tools[ev.key]
		if !ok {
			return dst
		}
		d = append(d, `{"tool_calls":[{"index":`...)
		d = appendInt(d, int64(i))
		d = append(d, `,"function":{"arguments":`...)
		d = appendString(d, ev.text)
		d = append(d, `}}]`...)
	default:
		return dst // signatures and redacted thinking have no OpenAI field
	}
	return e.chunk(dst, append(d, '}'), "")
}

// end writes the finish chunk, the usage chunk when asked for, and [DONE], once.
// A stream that ended without a stop reason still finishes ("stop").
func (e *openaiEncoder) end(dst []byte) []byte {
	if e.done {
		return dst
	}
	dst = e.start(dst)
	e.done = true
	stop := e.stop
	if stop == StopUnknown && len(e.tools) > 0 {
		stop = StopTool
	}
	dst = e.chunk(dst, []byte(`{}`), stopToOpenAI(stop))
	if e.info.IncludeUsage {
		b := append(e.buf[:0], `{"id":`...)
		b = appendString(b, openaiID(e.id))
		b = append(b, `,"object":"chat.completion.chunk","created":`...)
		b = appendInt(b, e.created)
		b = append(b, `,"model":`...)
		b = appendString(b, e.modelName())
		b = append(b, `,"choices":[],"usage":`...)
		b = appendOpenAIUsage(b, e.usage)
		b = append(b, '}')
		e.buf = b
		dst = sse.AppendEvent(dst, "", b)
	}
	return append(dst, "data: [DONE]\n\n"...)
}
