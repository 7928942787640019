package ui

import (
	"encoding/json"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
)

// callJSON is a stored call in the shape of `gatehouse history show --json`.
type callJSON struct {
	ID            string        `json:"id"`
	Time          string        `json:"time"`
	Method        string        `json:"method"`
	Path          string        `json:"path"`
	InboundFormat string        `json:"inbound_format"`
	Model         string        `json:"model"`
	Provider      string        `json:"provider"`
	UpstreamModel string        `json:"upstream_model"`
	Stream        bool          `json:"stream"`
	Outcome       proxy.Outcome `json:"outcome"`
	Status        int           `json:"status"`
	DurationMS    int64         `json:"duration_ms"`
	TTFBMS        int64         `json:"ttfb_ms"`
	Attempts      []attemptJSON `json:"attempts"`
	InputTokens   int64         `json:"input_tokens"`
	OutputTokens  int64         `json:"output_tokens"`
	Error         string        `json:"error"`
	Client        string        `json:"client"`
	Request       messageJSON   `json:"request"`
	Response      messageJSON   `json:"response"`
}

type attemptJSON struct {
	Provider   string           `json:"provider"`
	Model      string           `json:"model"`
	Status     int              `json:"status"`
	Error      string           `json:"error"`
	ErrorClass proxy.ErrorClass `json:"error_class"`
	DurationMS int64            `json:"duration_ms"`
	DelayMS    int64            `json:"delay_ms"`
}

type messageJSON struct {
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	Truncated bool              `json:"truncated"`
}

// CallJSON encodes c (already redacted by history) as indented JSON, in the
// shape `gatehouse history show --json` prints.
func CallJSON(c *proxy.Call) ([]byte, error) {
	j := callJSON{
		ID: c.ID, Time: c.Start.UTC().Format(time.RFC3339Nano), Method: c.Method, Path: c.Path,
		InboundFormat: c.InboundFormat, Model: c.Model, Provider: c.Provider,
		UpstreamModel: c.UpstreamModel, Stream: c.Stream, Outcome: c.Outcome, Status: c.Status,
		DurationMS: c.Duration.Milliseconds(), TTFBMS: c.TTFB.Milliseconds(),
		InputTokens: c.Usage.InputTokens, OutputTokens: c.Usage.OutputTokens,
		Error: c.Error, Client: c.ClientUA,
		Request: messageOf(c.Request), Response: messageOf(c.Response),
		Attempts: []attemptJSON{},
	}
	for _, a := range c.Attempts {
		j.Attempts = append(j.Attempts, attemptJSON{
			Provider: a.Provider, Model: a.Model, Status: a.Status, Error: a.Error, ErrorClass: a.Class,
			DurationMS: a.Duration.Milliseconds(), DelayMS: a.Delay.Milliseconds(),
		})
	}
	return json.MarshalIndent(j, "", "  ")
}

// messageOf keeps a JSON body as JSON and anything else as a JSON string.
func messageOf(m proxy.Message) messageJSON {
	out := messageJSON{Headers: map[string]string{}, Truncated: m.Truncated}
	for _, h := range m.Headers {
		out.Headers[h.Name] = h.Value
	}
	switch {
	case len(m.Body) == 0:
		out.Body = json.RawMessage("null")
	case json.Valid(m.Body):
		out.Body = json.RawMessage(m.Body)
	default:
		s, _ := json.Marshal(string(m.Body))
		out.Body = s
	}
	return out
}
