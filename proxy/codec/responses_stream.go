package codec

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// OpenAI Responses streams: typed events (response.created … response.completed)
// to canonical events and back. A Responses stream has no [DONE]: it ends with
// response.completed, response.incomplete or response.failed.

// responsesDecoder reads Responses stream events.
type responsesDecoder struct {
	started bool
	calls   bool           // a function call was seen: the stop reason is StopTool
	args    map[int64]bool // function calls (by output_index) whose arguments streamed
	failed  bool           // an error was already reported
}

func (d *responsesDecoder) decodeJSON(out []event, name []byte, r gjson.Result) ([]event, error) {
	typ := r.Get("type").String()
	if typ == "" {
		typ = string(name)
	}
	idx := r.Get("output_index").Int()
	switch typ {
	case "response.created", "response.in_progress":
		if !d.started {
			d.started = true
			resp := r.Get("response")
			out = append(out, event{kind: evStart, id: resp.Get("id").String(), name: resp.Get("model").String(),
				created: resp.Get("created_at").Int()})
		}
	case "response.output_item.added":
		it := r.Get("item")
		if it.Get("type").String() == "function_call" {
			d.calls = true
			out = append(out, event{kind: evToolStart, key: int(idx), id: it.Get("call_id").String(), name: it.Get("name").String()})
		}
	case "response.output_text.delta", "response.refusal.delta":
		if t := r.Get("delta").String(); t != "" {
			out = append(out, event{kind: evText, text: t})
		}
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		if t := r.Get("delta").String(); t != "" {
			out = append(out, event{kind: evThinking, text: t})
		}
	case "response.reasoning_summary_part.added":
		if r.Get("summary_index").Int() > 0 {
			out = append(out, event{kind: evThinking, text: "\n\n"})
		}
	case "response.function_call_arguments.delta":
		if t := r.Get("delta").String(); t != "" {
			if d.args == nil {
				d.args = map[int64]bool{}
			}
			d.args[idx] = true
			out = append(out, event{kind: evToolArgs, key: int(idx), text: t})
		}
	case "response.output_item.done":
		it := r.Get("item")
		switch it.Get("type").String() {
		case "reasoning":
			if sig := it.Get("encrypted_content").String(); sig != "" {
				out = append(out, event{kind: evSignature, text: sig})
			}
		case "function_call":
			if a := it.Get("arguments").String(); a != "" && !d.args[idx] {
				out = append(out, event{kind: evToolArgs, key: int(idx), text: a})
			}
			out = append(out, event{kind: evBlockStop, key: int(idx)})
		}
	case "response.completed", "response.incomplete":
		resp := r.Get("response")
		if u := resp.Get("usage"); u.IsObject() {
			out = append(out, event{kind: evUsage, usage: usageFromResponses(u)})
		}
		stop := stopFromResponses(resp.Get("status").String(), resp.Get("incomplete_details.reason").String(), d.calls)
		out = append(out, event{kind: evFinish, stop: stop}, event{kind: evDone})
	case "response.failed":
		if !d.failed {
			d.failed = true
			out = append(out, responsesError(r.Get("response.error")))
		}
	case "error":
		if !d.failed {
			d.failed = true
			e := r.Get("error")
			if !e.IsObject() {
				e = r // the SDK's shape: code and message at the top level
			}
			out = append(out, responsesError(e))
		}
	}
	return out, nil
}

// responsesError turns a Responses error object ({type?, code, message}) into
// an error event with the HTTP status it stands for.
func responsesError(e gjson.Result) event {
	status := statusFromErrorType(e.Get("type").String())
	if status == 0 {
		status = statusFromErrorType(e.Get("code").String())
	}
	if status == 0 {
		status = 500
	}
	msg := e.Get("message").String()
	if msg == "" {
		msg = "the upstream reported an error"
	}
	return event{kind: evError, status: status, text: msg}
}

// responsesEncoder writes canonical events as a Responses stream: output items
// open and close in order, each with its added/delta/done events, and the
// stream ends with response.completed (or .incomplete, .failed) carrying the
// whole response.
type responsesEncoder struct {
	info    RequestInfo
	started bool
	done    bool
	id      string
	model   string
	created int64
	seq     int64
	items   []respItem
	cur     int         // the open message or reasoning item, -1 for none
	tools   map[int]int // upstream key → item index
	stop    StopReason
	usage   Usage
	buf     []byte
}

func newResponsesEncoder(info RequestInfo) *responsesEncoder {
	return &responsesEncoder{info: info, usage: UnknownUsage(), cur: -1}
}

// begin starts an event payload of type name in e.buf.
func (e *responsesEncoder) begin(name string) []byte {
	b := append(e.buf[:0], `{"type":"`...)
	b = append(b, name...)
	return append(b, '"')
}

// emit finishes payload b (begun with begin) and appends it as event name.
func (e *responsesEncoder) emit(dst []byte, name string, b []byte) []byte {
	b = appendInt(append(b, `,"sequence_number":`...), e.seq)
	b = append(b, '}')
	e.seq++
	e.buf = b
	return sse.AppendEvent(dst, name, b)
}

// itemRef appends the item_id and output_index of item i.
func (e *responsesEncoder) itemRef(b []byte, i int) []byte {
	b = appendString(append(b, `,"item_id":`...), e.items[i].id)
	return appendInt(append(b, `,"output_index":`...), int64(i))
}

func (e *responsesEncoder) modelName() string {
	if e.info.ClientModel != "" {
		return e.info.ClientModel
	}
	return e.model
}

func (e *responsesEncoder) start(dst []byte) []byte {
	if e.started {
		return dst
	}
	e.started = true
	e.ensureID()
	for _, name := range [...]string{"response.created", "response.in_progress"} {
		b := e.begin(name)
		b = appendRespObject(append(b, `,"response":`...), respMeta{e.id, e.modelName(), e.created}, nil, StopUnknown, e.usage, respInProgress, "")
		dst = e.emit(dst, name, b)
	}
	return dst
}

// ensureID gives the response its resp_ id and creation time, made up when the
// upstream gave none.
func (e *responsesEncoder) ensureID() {
	if e.id == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		e.id = hex.EncodeToString(b[:])
	}
	e.id = responsesID(e.id)
	if e.created == 0 {
		e.created = now().Unix()
	}
}

// add opens a new output item and announces it.
func (e *responsesEncoder) add(dst []byte, it respItem) ([]byte, int) {
	i := len(e.items)
	it.id = respItemID(it.kind, e.id, i)
	e.items = append(e.items, it)
	b := appendInt(append(e.begin("response.output_item.added"), `,"output_index":`...), int64(i))
	b = appendRespItem(append(b, `,"item":`...), &e.items[i])
	return e.emit(dst, "response.output_item.added", b), i
}

// open returns the open item of kind k (a message or reasoning), opening one
// after closing the previous item when needed.
func (e *responsesEncoder) open(dst []byte, k PartKind) ([]byte, int) {
	if c := e.cur; c >= 0 && e.items[c].kind == k && !(k == PartThinking && e.items[c].sig != "") {
		return dst, c
	}
	dst = e.closeCur(dst)
	dst, i := e.add(dst, respItem{kind: k, part: true})
	e.cur = i
	if k == PartText {
		b := appendInt(append(e.itemRef(e.begin("response.content_part.added"), i), `,"content_index":`...), 0)
		b = append(b, `,"part":{"type":"output_text","annotations":[],"text":""}`...)
		return e.emit(dst, "response.content_part.added", b), i
	}
	b := appendInt(append(e.itemRef(e.begin("response.reasoning_summary_part.added"), i), `,"summary_index":`...), 0)
	b = append(b, `,"part":{"type":"summary_text","text":""}`...)
	return e.emit(dst, "response.reasoning_summary_part.added", b), i
}

func (e *responsesEncoder) closeCur(dst []byte) []byte {
	if e.cur < 0 {
		return dst
	}
	dst = e.close(dst, e.cur)
	e.cur = -1
	return dst
}

// close sends the done events of item i.
func (e *responsesEncoder) close(dst []byte, i int) []byte {
	it := &e.items[i]
	if it.done {
		return dst
	}
	it.done = true
	switch {
	case it.kind == PartText:
		b := appendInt(append(e.itemRef(e.begin("response.output_text.done"), i), `,"content_index":`...), 0)
		b = appendString(append(b, `,"text":`...), it.text)
		dst = e.emit(dst, "response.output_text.done", b)
		b = appendInt(append(e.itemRef(e.begin("response.content_part.done"), i), `,"content_index":`...), 0)
		b = appendString(append(b, `,"part":{"type":"output_text","annotations":[],"text":`...), it.text)
		dst = e.emit(dst, "response.content_part.done", append(b, '}'))
	case it.kind == PartThinking && it.part:
		b := appendInt(append(e.itemRef(e.begin("response.reasoning_summary_text.done"), i), `,"summary_index":`...), 0)
		b = appendString(append(b, `,"text":`...), it.text)
		dst = e.emit(dst, "response.reasoning_summary_text.done", b)
		b = appendInt(append(e.itemRef(e.begin("response.reasoning_summary_part.done"), i), `,"summary_index":`...), 0)
		b = appendString(append(b, `,"part":{"type":"summary_text","text":`...), it.text)
		dst = e.emit(dst, "response.reasoning_summary_part.done", append(b, '}'))
	case it.kind == PartToolCall && it.custom:
		b := appendString(append(e.itemRef(e.begin("response.custom_tool_call_input.done"), i), `,"input":`...), customInput(it.text))
		dst = e.emit(dst, "response.custom_tool_call_input.done", b)
	case it.kind == PartToolCall:
		if it.text == "" {
			it.text = "{}"
		}
		b := appendString(append(e.itemRef(e.begin("response.function_call_arguments.done"), i), `,"arguments":`...), it.text)
		dst = e.emit(dst, "response.function_call_arguments.done", b)
	}
	b := appendInt(append(e.begin("response.output_item.done"), `,"output_index":`...), int64(i))
	b = appendRespItem(append(b, `,"item":`...), it)
	return e.emit(dst, "response.output_item.done", b)
}

func (e *responsesEncoder) encode(dst []byte, ev *event) []byte {
	if e.done {
		return dst
	}
	switch ev.kind {
	case evStart:
		if !e.started && e.id == "" {
			e.id, e.model, e.created = ev.id, ev.name, ev.created
		}
		return e.start(dst)
	case evUsage:
		e.usage = mergeUsage(e.usage, ev.usage)
		return dst
	case evFinish:
		e.stop = ev.stop
		return dst
	case evPing:
		return append(dst, ": keep-alive\n\n"...)
	case evError:
		return e.fail(e.start(dst), ev.status, ev.text)
	case evDone:
		return e.end(dst)
	case evRedacted:
		return dst // Anthropic's opaque data has no Responses form
	}
	dst = e.start(dst)
	var i int
	switch ev.kind {
	case evText:
		dst, i = e.open(dst, PartText)
		e.items[i].text += ev.text
		b := appendInt(append(e.itemRef(e.begin("response.output_text.delta"), i), `,"content_index":`...), 0)
		b = appendString(append(b, `,"delta":`...), ev.text)
		return e.emit(dst, "response.output_text.delta", append(b, `,"logprobs":[]`...))
	case evThinking:
		dst, i = e.open(dst, PartThinking)
		e.items[i].text += ev.text
		b := appendInt(append(e.itemRef(e.begin("response.reasoning_summary_text.delta"), i), `,"summary_index":`...), 0)
		b = appendString(append(b, `,"delta":`...), ev.text)
		return e.emit(dst, "response.reasoning_summary_text.delta", b)
	case evSignature:
		if c := e.cur; c >= 0 && e.items[c].kind == PartThinking {
			e.items[c].sig += ev.text
			return dst
		}
		dst = e.closeCur(dst)
		dst, i = e.add(dst, respItem{kind: PartThinking, sig: ev.text})
		e.cur = i
		return dst
	case evToolStart:
		dst = e.closeCur(dst)
		dst, i = e.add(dst, respItem{kind: PartToolCall, callID: ev.id, name: ev.name, custom: e.info.custom[ev.name]})
		if e.tools == nil {
			e.tools = map[int]int{}
		}
		e.tools[ev.key] = i
		return dst
	case evToolArgs:
		i, ok := e.tools[ev.key]
		if !ok || e.items[i].done {
			return dst
		}
		e.items[i].text += ev.text
		if e.items[i].custom {
			return dst // the raw input is known only once the JSON is complete
		}
		b := appendString(append(e.itemRef(e.begin("response.function_call_arguments.delta"), i), `,"delta":`...), ev.text)
		return e.emit(dst, "response.function_call_arguments.delta", b)
	case evBlockStop:
		if i, ok := e.tools[ev.key]; ok {
			return e.close(dst, i)
		}
	}
	return dst
}

// fail ends the stream with an error event and response.failed.
func (e *responsesEncoder) fail(dst []byte, status int, msg string) []byte {
	e.done = true
	e.ensureID()
	b := appendString(append(e.begin("error"), `,"code":`...), openAIErrorType(status))
	b = appendString(append(b, `,"message":`...), msg)
	dst = e.emit(dst, "error", append(b, `,"param":null`...))
	b = e.begin("response.failed")
	b = appendRespObject(append(b, `,"response":`...), respMeta{e.id, e.modelName(), e.created}, e.items, e.stop, e.usage, respFailed, msg)
	return e.emit(dst, "response.failed", b)
}

// end closes the open items and sends response.completed (response.incomplete
// after a length or content-filter stop), once.
func (e *responsesEncoder) end(dst []byte) []byte {
	if e.done {
		return dst
	}
	dst = e.start(dst)
	dst = e.closeCur(dst)
	for i := range e.items {
		dst = e.close(dst, i)
	}
	e.done = true
	stop := e.stop
	if stop == StopUnknown && len(e.tools) > 0 {
		stop = StopTool
	}
	name := "response.completed"
	if stop == StopLength || stop == StopFilter {
		name = "response.incomplete"
	}
	b := e.begin(name)
	b = appendRespObject(append(b, `,"response":`...), respMeta{e.id, e.modelName(), e.created}, e.items, stop, e.usage, respComplete, "")
	return e.emit(dst, name, b)
}
