package codec

import (
	"bytes"
	"fmt"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// Conversation is a call read for people (the desktop app's conversation view,
// issue 16 §3): the system prompt, the tools offered, the request's turns, and
// the answer as one more assistant turn, whatever the format.
type Conversation struct {
	System   []Part
	Tools    []Tool
	Messages []Message
	// Answered is true when the last message is the response's.
	Answered bool
}

// ReadConversation reads a request body of format f and, when it parses, the
// response body (or, for a stream with no body, its raw SSE events) in the
// same format. The request must parse; a response that does not is left out.
func ReadConversation(f config.Format, request, response, events []byte) (Conversation, error) {
	if !gjson.ValidBytes(request) {
		return Conversation{}, fmt.Errorf("read %s request: %w", f, invalid("body is not valid JSON"))
	}
	req, _, err := decodeRequest(f, gjson.ParseBytes(request), false)
	if err != nil {
		return Conversation{}, fmt.Errorf("read %s request: %w", f, err)
	}
	c := Conversation{System: req.System, Tools: req.Tools, Messages: req.Messages}
	if len(response) == 0 && len(events) > 0 {
		response = reassemble(f, events)
	}
	if len(response) > 0 && gjson.GetBytes(response, "error").Type == gjson.Null {
		if resp, err := decodeResponse(f, response); err == nil && len(resp.Parts) > 0 {
			c.Messages = append(c.Messages, Message{Role: RoleAssistant, Parts: resp.Parts})
			c.Answered = true
		}
	}
	return c, nil
}

// reassemble rebuilds a response body from a stream's raw events (nil if none
// parses).
func reassemble(f config.Format, events []byte) []byte {
	acc := NewAccumulator(f)
	r := sse.NewReader(bytes.NewReader(events), len(events)+1)
	for range 1_000_000 { // bounded: a stored stream is capped anyway
		ev, err := r.Next()
		if err != nil {
			break
		}
		acc.Add(ev)
	}
	return acc.Body()
}
