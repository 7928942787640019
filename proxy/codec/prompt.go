package codec

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

// Prompt is what a prompt endpoint puts into a request (issue 13).
type Prompt struct {
	// System replaces the client's system prompt when set.
	System string
	// User replaces the text of the last user message.
	User string
	// Temperature and MaxTokens replace the client's when set (nil / 0).
	Temperature *float64
	MaxTokens   int
	// ResponseFormat is "", "text", "json_object" or "json_schema" (with
	// JSONSchema as JSON text).
	ResponseFormat, JSONSchema string
}

// LastUserText returns the text of the last user message of a request of
// format f (stream: the Gemini URL asked for a stream); "" when it has none.
func LastUserText(f config.Format, body []byte, stream bool) (string, error) {
	req, _, err := decodeRequest(f, gjson.ParseBytes(body), stream)
	if err != nil {
		return "", fmt.Errorf("read %s request: %w", f, err)
	}
	if i := lastUser(req.Messages); i >= 0 {
		return resultText(req.Messages[i].Parts), nil
	}
	return "", nil
}

// ApplyPrompt rewrites a request of format f with p and returns it in the same
// format: the system prompt, the text of the last user message (a new one
// when there is none; its images and tool results stay) and the parameters.
func ApplyPrompt(f config.Format, body []byte, stream bool, p Prompt) ([]byte, error) {
	req, _, err := decodeRequest(f, gjson.ParseBytes(body), stream)
	if err != nil {
		return nil, fmt.Errorf("read %s request: %w", f, err)
	}
	if p.System != "" {
		req.System = []Part{{Kind: PartText, Text: p.System}}
	}
	text := Part{Kind: PartText, Text: p.User}
	if i := lastUser(req.Messages); i >= 0 {
		parts := []Part{text}
		for _, pt := range req.Messages[i].Parts {
			if pt.Kind != PartText {
				parts = append(parts, pt)
			}
		}
		req.Messages[i].Parts = parts
	} else {
		req.Messages = append(req.Messages, Message{Role: RoleUser, Parts: []Part{text}})
	}
	if p.Temperature != nil {
		t := *p.Temperature
		req.Temperature = &t
	}
	if p.MaxTokens > 0 {
		n := p.MaxTokens
		req.MaxTokens = &n
	}
	switch p.ResponseFormat {
	case "json_object":
		req.ResponseFormat = ResponseFormat{Type: "json_object"}
	case "json_schema":
		req.ResponseFormat = ResponseFormat{Type: "json_schema", Name: "output", Schema: strings.TrimSpace(p.JSONSchema)}
	}
	req.Stream = req.Stream || (stream && f != config.FormatGemini)
	fillToolNames(req)
	return encodeRequest(f, req, RequestOptions{Model: req.Model, Stream: req.Stream}), nil
}

// lastUser is the index of the last user message, or -1.
func lastUser(msgs []Message) int {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == RoleUser {
			return i
		}
	}
	return -1
}
