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
	case config.FormatResponses:
		return &responsesDecoder{}
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

// endsStream reports whether evs, decoded from a stream of format f, end it:
// the format's end marker ([DONE], message_stop, response.completed or
// .incomplete), an in-band error (response.failed included), or for Gemini,
// which has no marker, a candidate with a finishReason. A stream that stops
// before one of these was cut (issue 19.3).
func endsStream(f config.Format, evs []event) bool {
	for i := range evs {
		switch evs[i].kind {
		case evDone, evError:
			return true
		case evFinish:
			if f == config.FormatGemini {
				return true
			}
		}
	}
	return false
}
