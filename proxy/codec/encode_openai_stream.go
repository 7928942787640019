package codec

import (
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
)

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
