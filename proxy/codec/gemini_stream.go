package codec

import (
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

// Gemini streamGenerateContent (alt=sse): frames to canonical events and back.

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
	if sig != "" {
		// Echoed on the text before it (textSignature in ids.go).
		out = append(out, event{kind: evSignature, text: textSigMarker + sig})
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
