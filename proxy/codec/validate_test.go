package codec

import (
	"bytes"
	"fmt"

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
