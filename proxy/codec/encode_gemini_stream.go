package codec

import (
	"github.com/gatehouse/gatehouse/proxy/config"
)

// geminiEncoder writes canonical events as streamGenerateContent?alt=sse chunks
// (CRLF framing, as Google sends). Gemini delivers function calls whole, so tool
// arguments are collected and each call is written when its block ends.
type geminiEncoder struct {
	info    RequestInfo
	started bool
	id      string
	model   string
	calls   []geminiPending
	stop    StopReason
	finish  bool
	done    bool
	usage   Usage
	buf     []byte
}

type geminiPending struct {
	key      int
	id, name string
	args     []byte
}

func (e *geminiEncoder) modelName() string {
	if e.info.ClientModel != "" {
		return e.info.ClientModel
	}
	return e.model
}

// frame appends one chunk holding parts (raw JSON array contents), with
// finishReason and usageMetadata when final.
func (e *geminiEncoder) frame(dst []byte, parts []byte, final bool) []byte {
	b := append(e.buf[:0], `{"candidates":[{"content":{"role":"model","parts":[`...)
	b = append(b, parts...)
	b = append(b, `]}`...)
	if final {
		b = append(b, `,"finishReason":`...)
		b = appendString(b, stopToGemini(e.stop))
	}
	b = append(b, `,"index":0}]`...)
	if final || e.usage.InputTokens >= 0 {
		b = append(b, `,"usageMetadata":`...)
		b = appendGeminiUsage(b, e.usage)
	}
	b = append(b, `,"modelVersion":`...)
	b = appendString(b, e.modelName())
	b = append(b, `,"responseId":`...)
	b = appendString(b, e.id)
	b = append(b, '}')
	e.buf = b
	dst = append(dst, "data: "...)
	dst = append(dst, b...)
	return append(dst, "\r\n\r\n"...)
}

func (e *geminiEncoder) encode(dst []byte, ev *event) []byte {
	if e.done {
		return dst
	}
	var p []byte
	switch ev.kind {
	case evStart:
		if e.id == "" {
			e.id, e.model = ev.id, ev.name
		}
		return dst
	case evUsage:
		e.usage = mergeUsage(e.usage, ev.usage)
		if e.finish {
			return e.end(dst)
		}
		return dst
	case evFinish:
		e.finish, e.stop = true, ev.stop
		return dst
	case evError:
		e.done = true
		dst = append(dst, "data: "...)
		dst = append(dst, ErrorBody(config.FormatGemini, ev.status, ev.text, "")...)
		return append(dst, "\r\n\r\n"...)
	case evDone:
		return e.end(dst)
	case evText:
		p = appendString(append(p, `{"text":`...), ev.text)
		p = append(p, '}')
	case evThinking:
		p = appendString(append(p, `{"text":`...), ev.text)
		p = append(p, `,"thought":true}`...)
	case evToolStart:
		e.calls = append(e.calls, geminiPending{key: ev.key, id: ev.id, name: ev.name})
		return dst
	case evToolArgs:
		for i := range e.calls {
			if e.calls[i].key == ev.key {
				e.calls[i].args = append(e.calls[i].args, ev.text...)
			}
		}
		return dst
	case evBlockStop:
		return e.flushCalls(dst)
	default:
		return dst
	}
	dst = e.flushCalls(dst)
	return e.frame(dst, p, false)
}

// flushCalls writes the collected function calls as one chunk.
func (e *geminiEncoder) flushCalls(dst []byte) []byte {
	if len(e.calls) == 0 {
		return dst
	}
	var p []byte
	for i, c := range e.calls {
		if i > 0 {
			p = append(p, ',')
		}
		part := Part{Kind: PartToolCall, ToolID: c.id, ToolName: c.name, Args: string(c.args)}
		p = appendGeminiPart(p, &part)
	}
	e.calls = e.calls[:0]
	return e.frame(dst, p, false)
}

// end writes the final chunk (finishReason, usageMetadata), once.
func (e *geminiEncoder) end(dst []byte) []byte {
	if e.done {
		return dst
	}
	dst = e.flushCalls(dst)
	e.done = true
	return e.frame(dst, []byte(`{"text":""}`), true)
}
