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
	InputTokens   *int64        `json:"input_tokens"` // null when unknown
	OutputTokens  *int64        `json:"output_tokens"`
	Error         string        `json:"error"`
	Client        string        `json:"client_ua"`
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
	Headers   []headerJSON `json:"headers"`
	Body      string       `json:"body"`
	Truncated bool         `json:"truncated"`
}

type headerJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CallJSON encodes c (already redacted by history) as indented JSON in the
// shape of `gatehouse history show --json`, for histories that cannot give
// their stored record (RecordJSON).
func CallJSON(c *proxy.Call) ([]byte, error) {
	j := callJSON{
		ID: c.ID, Time: c.Start.UTC().Format(time.RFC3339Nano), Method: c.Method, Path: c.Path,
		InboundFormat: c.InboundFormat, Model: c.Model, Provider: c.Provider,
		UpstreamModel: c.UpstreamModel, Stream: c.Stream, Outcome: c.Outcome, Status: c.Status,
		DurationMS: c.Duration.Milliseconds(), TTFBMS: c.TTFB.Milliseconds(),
		InputTokens: knownTokens(c.Usage.InputTokens), OutputTokens: knownTokens(c.Usage.OutputTokens),
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

func messageOf(m proxy.Message) messageJSON {
	out := messageJSON{Headers: []headerJSON{}, Body: string(m.Body), Truncated: m.Truncated}
	for _, h := range m.AllHeaders() {
		out.Headers = append(out.Headers, headerJSON{Name: h.Name, Value: h.Value})
	}
	return out
}

// knownTokens is n, or nil for an unknown (negative) count.
func knownTokens(n int64) *int64 {
	if n < 0 {
		return nil
	}
	return &n
}
