package store

import (
	"errors"
	"time"
)

// ErrNotFound is returned by History.Get when no call has the id.
var ErrNotFound = errors.New("no such call")

// ErrAlreadyRunning is returned by OpenHistory when another process holds the
// history file; the error's text names the data folder.
var ErrAlreadyRunning = errors.New("Gatehouse is already running") // the product name, as users see it (issue 3)

// Outcomes, as the proxy reports them.
const (
	OutcomeOK              = "ok"
	OutcomeError           = "error"
	OutcomePartial         = "partial"
	OutcomeClientCancelled = "client_cancelled"
)

// Redacted replaces every secret the history would otherwise store.
const Redacted = "[REDACTED]"

// Call is one recorded call. Its JSON form is the `gatehouse history --json`
// format; Request, Response and Events are set only by History.Get (`show`).
type Call struct {
	ID       string    `json:"id"` // ULID, the X-Gatehouse-Call header
	Time     time.Time `json:"time"`
	Method   string    `json:"method,omitempty"`
	Path     string    `json:"path"`
	ClientUA string    `json:"client_ua,omitempty"`
	// Client is the name of the client token the call came with; "local" (or
	// "" in calls recorded before tokens existed) when it came without one
	// (issue 13).
	Client        string    `json:"client,omitempty"`
	InboundFormat string    `json:"inbound_format"`
	Model         string    `json:"model"` // as the client asked
	Provider      string    `json:"provider"`
	UpstreamModel string    `json:"upstream_model"`
	Stream        bool      `json:"stream"`
	Outcome       string    `json:"outcome"`
	Status        int       `json:"status"`
	DurationMS    int64     `json:"duration_ms"`
	TTFBMS        int64     `json:"ttfb_ms"`
	Attempts      []Attempt `json:"attempts"`
	// Token counts; nil when the upstream never said.
	InputTokens      *int64 `json:"input_tokens"`
	OutputTokens     *int64 `json:"output_tokens"`
	CacheReadTokens  *int64 `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens *int64 `json:"cache_write_tokens,omitempty"`
	ReasoningTokens  *int64 `json:"reasoning_tokens,omitempty"`
	Error            string `json:"error"`
	// BodiesDropped is true when the bodies were not stored (writer overload).
	BodiesDropped bool `json:"bodies_dropped,omitempty"`

	Request         *Message `json:"request,omitempty"`
	Response        *Message `json:"response,omitempty"`
	Events          string   `json:"events,omitempty"` // a stream's raw events
	EventsTruncated bool     `json:"events_truncated,omitempty"`
}

// LocalClient is the client name of calls made without a client token.
const LocalClient = "local"

// ClientName is c.Client, with LocalClient for calls recorded without one.
func (c *Call) ClientName() string {
	if c.Client == "" {
		return LocalClient
	}
	return c.Client
}

// Failed reports whether the call did not end "ok".
func (c *Call) Failed() bool { return c.Outcome != OutcomeOK }

// Attempt is one try of one upstream target.
type Attempt struct {
	Provider   string    `json:"provider"`
	Model      string    `json:"model"`
	URL        string    `json:"url,omitempty"`
	Status     int       `json:"status"`
	Error      string    `json:"error"`
	ErrorClass string    `json:"error_class"`
	Start      time.Time `json:"start,omitzero"`
	DurationMS int64     `json:"duration_ms"`
	DelayMS    int64     `json:"delay_ms"`
}

// Message is one side of a call: headers and body. Body holds the raw bytes
// (JSON text for every provider format); Truncated says it was cut at the cap.
type Message struct {
	Headers   []Header `json:"headers"`
	Body      string   `json:"body"`
	Truncated bool     `json:"truncated"`
}

// Header is one HTTP header line.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Tokens returns a token count for Call: nil for a negative (unknown) n.
func Tokens(n int64) *int64 {
	if n < 0 {
		return nil
	}
	return &n
}
