package codec

import (
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// Anthropic Messages streams: named events to canonical events and back.

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

// anthropicEncoder writes canonical events as an Anthropic Messages stream.
// Claude Code fails with "Content block not found" on any out-of-order block, so
// blocks are opened lazily, strictly one at a time, each closed before the next
// opens, and message_delta/message_stop come exactly once, last.
type anthropicEncoder struct {
	info     RequestInfo
	started  bool
	id       string
	model    string
	open     bool // a content block is open
	openKind PartKind
	openKey  int // the upstream key of an open tool block
	next     int // index of the next block
	stop     StopReason
	stopSeq  string
	finish   bool // the upstream said why it stopped; message_delta is held for usage
	done     bool // message_stop (or an error) was written
	usage    Usage
	buf      []byte
}

func (e *anthropicEncoder) event(dst []byte, name string, data []byte) []byte {
	return sse.AppendEvent(dst, name, data)
}

func (e *anthropicEncoder) start(dst []byte) []byte {
	if e.started {
		return dst
	}
	e.started = true
	model := e.info.ClientModel
	if model == "" {
		model = e.model
	}
	b := append(e.buf[:0], `{"type":"message_start","message":{"id":`...)
	b = appendString(b, anthropicID(e.id))
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = appendString(b, model)
	b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	u := e.usage
	u.OutputTokens = 0
	b = appendAnthropicUsage(b, u)
	b = append(b, `}}`...)
	e.buf = b
	return e.event(dst, "message_start", b)
}

func (e *anthropicEncoder) closeBlock(dst []byte) []byte {
	if !e.open {
		return dst
	}
	e.open = false
	b := append(e.buf[:0], `{"type":"content_block_stop","index":`...)
	b = appendInt(b, int64(e.next-1))
	b = append(b, '}')
	e.buf = b
	return e.event(dst, "content_block_stop", b)
}

// openBlock closes any open block and opens one; block is its content_block JSON.
func (e *anthropicEncoder) openBlock(dst []byte, kind PartKind, key int, block []byte) []byte {
	dst = e.closeBlock(dst)
	e.open, e.openKind, e.openKey = true, kind, key
	b := append(e.buf[:0], `{"type":"content_block_start","index":`...)
	b = appendInt(b, int64(e.next))
	b = append(b, `,"content_block":`...)
	b = append(b, block...)
	b = append(b, '}')
	e.next++
	e.buf = b
	return e.event(dst, "content_block_start", b)
}

func (e *anthropicEncoder) delta(dst []byte, typ, field, text string) []byte {
	b := append(e.buf[:0], `{"type":"content_block_delta","index":`...)
	b = appendInt(b, int64(e.next-1))
	b = append(b, `,"delta":{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","`...)
	b = append(b, field...)
	b = append(b, `":`...)
	b = appendString(b, text)
	b = append(b, `}}`...)
	e.buf = b
	return e.event(dst, "content_block_delta", b)
}

func (e *anthropicEncoder) encode(dst []byte, ev *event) []byte {
	if e.done {
		return dst
	}
	switch ev.kind {
	case evStart:
		if e.id == "" {
			e.id, e.model = ev.id, ev.name
		}
		return dst // message_start waits for content or usage: input tokens may follow
	case evUsage:
		e.usage = mergeUsage(e.usage, ev.usage)
		if e.finish {
			return e.end(dst)
		}
		return dst
	case evPing:
		return e.event(e.start(dst), "ping", []byte(`{"type": "ping"}`))
	case evError:
		b := ErrorBody(config.FormatAnthropic, ev.status, ev.text, "")
		e.done = true
		return e.event(dst, "error", b)
	case evDone:
		return e.end(dst)
	case evFinish:
		e.finish, e.stop, e.stopSeq = true, ev.stop, ev.text
		return dst
	}
	dst = e.start(dst)
	switch ev.kind {
	case evText:
		if !e.open || e.openKind != PartText {
			dst = e.openBlock(dst, PartText, 0, []byte(`{"type":"text","text":""}`))
		}
		return e.delta(dst, "text_delta", "text", ev.text)
	case evThinking:
		if !e.open || e.openKind != PartThinking {
			dst = e.openBlock(dst, PartThinking, 0, []byte(`{"type":"thinking","thinking":"","signature":""}`))
		}
		return e.delta(dst, "thinking_delta", "thinking", ev.text)
	case evSignature:
		if !e.open || e.openKind != PartThinking {
			dst = e.openBlock(dst, PartThinking, 0, []byte(`{"type":"thinking","thinking":"","signature":""}`))
		}
		dst = e.delta(dst, "signature_delta", "signature", ev.text)
		return e.closeBlock(dst) // a signature completes its thinking block
	case evRedacted:
		b := appendString([]byte(`{"type":"redacted_thinking","data":`), ev.text)
		dst = e.openBlock(dst, PartRedactedThinking, 0, append(b, '}'))
		return e.closeBlock(dst)
	case evToolStart:
		b := append([]byte(nil), `{"type":"tool_use","id":`...)
		b = appendString(b, ev.id)
		b = append(b, `,"name":`...)
		b = appendString(b, ev.name)
		b = append(b, `,"input":{}}`...)
		return e.openBlock(dst, PartToolCall, ev.key, b)
	case evToolArgs:
		// OpenAI may interleave parallel calls by index; Anthropic blocks cannot
		// be reopened, so fragments of a call whose block is closed are dropped
		// (no known upstream interleaves).
		if e.open && e.openKind == PartToolCall && e.openKey == ev.key {
			return e.delta(dst, "input_json_delta", "partial_json", ev.text)
		}
	case evBlockStop:
		return e.closeBlock(dst)
	}
	return dst
}

// end closes the open block and writes message_delta and message_stop, once. A
// stream that ended without a stop reason still closes properly (end_turn).
func (e *anthropicEncoder) end(dst []byte) []byte {
	if e.done {
		return dst
	}
	dst = e.start(dst)
	dst = e.closeBlock(dst)
	e.done = true
	b := append(e.buf[:0], `{"type":"message_delta","delta":{"stop_reason":`...)
	b = appendString(b, stopToAnthropic(e.stop))
	b = append(b, `,"stop_sequence":`...)
	if e.stop == StopSequence && e.stopSeq != "" {
		b = appendString(b, e.stopSeq)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `},"usage":`...)
	b = appendAnthropicUsage(b, e.usage)
	b = append(b, '}')
	e.buf = b
	dst = e.event(dst, "message_delta", b)
	return e.event(dst, "message_stop", []byte(`{"type":"message_stop"}`))
}
