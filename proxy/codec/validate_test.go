package codec

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// validStream checks that a translated stream is well formed for a client of
// format f: valid JSON in every data line and the event order that format's SDKs
// require. It returns the first problem, or nil.
func validStream(f config.Format, out []byte) error {
	r := sse.NewReader(bytes.NewReader(out), 0)
	var evs []sse.Event
	for i := 0; i < 1e6; i++ {
		ev, err := r.Next()
		if err != nil {
			break
		}
		evs = append(evs, sse.Event{Name: bytes.Clone(ev.Name), Data: bytes.Clone(ev.Data), Comment: ev.Comment})
	}
	for _, ev := range evs {
		if ev.Comment || sse.IsDone(ev.Data) {
			continue
		}
		if !gjson.ValidBytes(ev.Data) {
			return fmt.Errorf("invalid JSON in data: %q", ev.Data)
		}
	}
	switch f {
	case config.FormatResponses:
		return validResponses(evs)
	case config.FormatAnthropic:
		return validAnthropic(evs)
	case config.FormatGemini:
		return validGemini(evs, out)
	}
	return validOpenAI(evs)
}

func validAnthropic(evs []sse.Event) error {
	state := "new" // new, started, delta, stopped
	open, next := -1, 0
	openType := ""
	for i, ev := range evs {
		if ev.Comment {
			continue
		}
		name := string(ev.Name)
		if t := gjson.GetBytes(ev.Data, "type").String(); t != name {
			return fmt.Errorf("event %d: name %q but type %q", i, name, t)
		}
		if state == "stopped" {
			return fmt.Errorf("event %d: %s after message_stop or error", i, name)
		}
		if name == "error" {
			state = "stopped"
			continue
		}
		if state == "new" && name != "message_start" {
			return fmt.Errorf("event %d: %s before message_start", i, name)
		}
		idx := int(gjson.GetBytes(ev.Data, "index").Int())
		switch name {
		case "message_start":
			if state != "new" {
				return fmt.Errorf("event %d: second message_start", i)
			}
			state = "started"
		case "content_block_start":
			if state != "started" || open >= 0 || idx != next {
				return fmt.Errorf("event %d: content_block_start index %d (open %d, next %d, state %s)", i, idx, open, next, state)
			}
			open, next = idx, next+1
			openType = gjson.GetBytes(ev.Data, "content_block.type").String()
		case "content_block_delta":
			if open < 0 || idx != open {
				return fmt.Errorf("event %d: delta for block %d, open %d", i, idx, open)
			}
			want := map[string]string{"text_delta": "text", "thinking_delta": "thinking", "signature_delta": "thinking", "input_json_delta": "tool_use"}
			if dt := gjson.GetBytes(ev.Data, "delta.type").String(); want[dt] != openType {
				return fmt.Errorf("event %d: %s in a %s block", i, dt, openType)
			}
		case "content_block_stop":
			if open < 0 || idx != open {
				return fmt.Errorf("event %d: stop for block %d, open %d", i, idx, open)
			}
			open = -1
		case "message_delta":
			if open >= 0 || state != "started" {
				return fmt.Errorf("event %d: message_delta with block %d open (state %s)", i, open, state)
			}
			if !gjson.GetBytes(ev.Data, "delta.stop_reason").Exists() {
				return fmt.Errorf("event %d: message_delta without stop_reason", i)
			}
			state = "delta"
		case "message_stop":
			if state != "delta" {
				return fmt.Errorf("event %d: message_stop without message_delta", i)
			}
			state = "stopped"
		case "ping":
		default:
			return fmt.Errorf("event %d: unknown event %q", i, name)
		}
	}
	if state != "stopped" {
		return fmt.Errorf("stream ends in state %s", state)
	}
	return nil
}

func validOpenAI(evs []sse.Event) error {
	done, finished, failed := false, false, false
	first := true
	tools := 0
	for i, ev := range evs {
		if ev.Comment {
			continue
		}
		if done || failed {
			return fmt.Errorf("event %d after [DONE] or error", i)
		}
		if sse.IsDone(ev.Data) {
			done = true
			continue
		}
		r := gjson.ParseBytes(ev.Data)
		if r.Get("error").Exists() {
			failed = true
			continue
		}
		if r.Get("object").String() != "chat.completion.chunk" {
			return fmt.Errorf("event %d: object %q", i, r.Get("object"))
		}
		choices := r.Get("choices").Array()
		if len(choices) == 0 {
			if !finished || !r.Get("usage").IsObject() {
				return fmt.Errorf("event %d: empty choices that is not a usage chunk after finish", i)
			}
			continue
		}
		if finished {
			return fmt.Errorf("event %d: choice chunk after finish_reason", i)
		}
		d := choices[0].Get("delta")
		if d.Get("role").Exists() != first {
			return fmt.Errorf("event %d: role present=%v on chunk (first=%v)", i, !first, first)
		}
		first = false
		for _, tc := range d.Get("tool_calls").Array() {
			idx := int(tc.Get("index").Int())
			if tc.Get("id").Exists() {
				if idx != tools {
					return fmt.Errorf("event %d: new tool index %d, want %d", i, idx, tools)
				}
				tools++
			} else if idx >= tools {
				return fmt.Errorf("event %d: arguments for unknown tool index %d", i, idx)
			}
		}
		if fr := choices[0].Get("finish_reason"); fr.Type == gjson.String {
			finished = true
		}
	}
	if failed {
		return nil
	}
	if !done || !finished {
		return fmt.Errorf("stream ends without finish_reason (%v) or [DONE] (%v)", finished, done)
	}
	return nil
}

func validGemini(evs []sse.Event, raw []byte) error {
	if !bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
		return fmt.Errorf("stream does not end with CRLF CRLF")
	}
	finished := false
	for i, ev := range evs {
		if ev.Comment {
			continue
		}
		if finished {
			return fmt.Errorf("event %d after the final chunk", i)
		}
		r := gjson.ParseBytes(ev.Data)
		if r.Get("error").Exists() {
			finished = true
			continue
		}
		if !r.Get("candidates.0.content.parts").IsArray() {
			return fmt.Errorf("event %d: no candidates[0].content.parts", i)
		}
		for _, p := range r.Get("candidates.0.content.parts").Array() {
			if fc := p.Get("functionCall"); fc.Exists() && !fc.Get("args").IsObject() {
				return fmt.Errorf("event %d: functionCall args not an object", i)
			}
		}
		if r.Get("candidates.0.finishReason").Exists() {
			finished = true
		}
	}
	if !finished {
		return fmt.Errorf("stream has no final chunk")
	}
	return nil
}

// validResponses checks a Responses stream the way the SDKs and Codex read it:
// every event's name is its type, sequence numbers count up from 0, it opens
// with response.created and response.in_progress, each output item is added
// in order, gets deltas only while open and is done before the end, and the
// stream ends with exactly one of response.completed, response.incomplete or
// response.failed (after an error event), whose output lists every item.
func validResponses(evs []sse.Event) error {
	var seq int64
	added, done := 0, map[int64]bool{}
	ids := map[int64]string{}
	end := ""
	for i, ev := range evs {
		if ev.Comment {
			continue
		}
		name := string(ev.Name)
		r := gjson.ParseBytes(ev.Data)
		if t := r.Get("type").String(); t != name {
			return fmt.Errorf("event %d: name %q but type %q", i, name, t)
		}
		if end != "" {
			return fmt.Errorf("event %d: %s after %s", i, name, end)
		}
		if n := r.Get("sequence_number").Int(); n != seq {
			return fmt.Errorf("event %d: sequence_number %d, want %d", i, n, seq)
		}
		seq++
		switch {
		case seq == 1 && name != "response.created", seq == 2 && name != "response.in_progress" && name != "error":
			return fmt.Errorf("event %d: %s where the stream must open with response.created, response.in_progress", i, name)
		}
		idx := r.Get("output_index").Int()
		switch name {
		case "response.created", "response.in_progress":
			if !strings.HasPrefix(r.Get("response.id").String(), "resp_") {
				return fmt.Errorf("event %d: response id %q", i, r.Get("response.id"))
			}
		case "response.output_item.added":
			if idx != int64(added) {
				return fmt.Errorf("event %d: item added at %d, want %d", i, idx, added)
			}
			ids[idx] = r.Get("item.id").String()
			added++
		case "response.output_item.done":
			if idx >= int64(added) || done[idx] || r.Get("item.id").String() != ids[idx] {
				return fmt.Errorf("event %d: done for item %d (added %d, already done %v)", i, idx, added, done[idx])
			}
			if r.Get("item.status").Exists() && r.Get("item.status").String() != "completed" {
				return fmt.Errorf("event %d: done item with status %s", i, r.Get("item.status"))
			}
			if r.Get("item.type").String() == "function_call" && !gjson.Valid(r.Get("item.arguments").String()) {
				return fmt.Errorf("event %d: function_call arguments are not JSON: %s", i, r.Get("item.arguments"))
			}
			done[idx] = true
		case "error":
			if !r.Get("message").Exists() {
				return fmt.Errorf("event %d: error without message", i)
			}
			continue
		case "response.completed", "response.incomplete", "response.failed":
			end = name
			out := r.Get("response.output").Array()
			if name != "response.failed" {
				if len(done) != added || len(out) != added {
					return fmt.Errorf("event %d: %s with %d items added, %d done, %d in output", i, name, added, len(done), len(out))
				}
				if !r.Get("response.usage").IsObject() {
					return fmt.Errorf("event %d: %s without usage", i, name)
				}
			}
			for j, it := range out {
				if it.Get("id").String() != ids[int64(j)] {
					return fmt.Errorf("event %d: output[%d] id %q, streamed as %q", i, j, it.Get("id"), ids[int64(j)])
				}
			}
			continue
		default:
			if !strings.HasPrefix(name, "response.") {
				return fmt.Errorf("event %d: unknown event %q", i, name)
			}
			if idx >= int64(added) || done[idx] || r.Get("item_id").String() != ids[idx] {
				return fmt.Errorf("event %d: %s for item %d (added %d, done %v)", i, name, idx, added, done[idx])
			}
		}
	}
	if end == "" {
		return fmt.Errorf("stream ends without response.completed, .incomplete or .failed")
	}
	return nil
}
