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
	// CostUSD is what the call cost in US dollars; nil (absent) when unknown:
	// the model has no price or the upstream gave no usage (issue 14).
	CostUSD *float64 `json:"cost_usd,omitempty"`
	Error   string   `json:"error"`
	// BodiesDropped is true when the bodies were not stored (writer overload).
	BodiesDropped bool `json:"bodies_dropped,omitempty"`

	Request         *Message `json:"request,omitempty"`
	Response        *Message `json:"response,omitempty"`
	Events          string   `json:"events,omitempty"` // a stream's raw events
	EventsTruncated bool     `json:"events_truncated,omitempty"`
}

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

	// Issue 16: the attempt as it went over the wire.
	//
	// The small facts below live in the summary (lists read them); the headers
	// and bodies (Wire) live in the bodies bucket and are set only by History.Get.
	// Timings: DelayMS is the wait before the attempt, ConnectMS the time from
	// Start until the connection was ready (dialled or reused) and the request
	// being written, FirstByteMS until the response headers came, DurationMS the
	// total. An attempt that was never sent (circuit open, no key) has no Method.
	Method      string `json:"method,omitempty"`     // the upstream request's method, "POST"
	KeySource   string `json:"key_source,omitempty"` // "keychain", "env OPENAI_API_KEY", "client", "none"
	KeyMask     string `json:"key_mask,omitempty"`   // "sk-…abcd": the key itself is never stored
	ConnectMS   int64  `json:"connect_ms,omitempty"`
	FirstByteMS int64  `json:"first_byte_ms,omitempty"`
	// Circuit breaker events (issue 16 §2). An attempt with error_class
	// "circuit_open" was skipped (not sent, not counted in Tries): the
	// provider's circuit was open until CircuitUntil. CircuitOpened says this
	// attempt's failure opened the circuit, until CircuitUntil.
	CircuitOpened bool      `json:"circuit_opened,omitempty"`
	CircuitUntil  time.Time `json:"circuit_until,omitzero"`
	Wire          *Wire     `json:"wire,omitempty"`
}

// Skipped reports whether the attempt was never sent (its provider's circuit
// was open): it is in the timeline but not counted as a try.
func (a *Attempt) Skipped() bool { return a.ErrorClass == "circuit_open" }

// Tries is the number of attempts sent upstream: the X-Gatehouse-Attempts
// header of the call's response and the Tries column.
func (c *Call) Tries() int {
	n := 0
	for i := range c.Attempts {
		if !c.Attempts[i].Skipped() {
			n++
		}
	}
	return n
}

// Wire is an attempt's request as Gatehouse sent it upstream and the
// upstream's response, redacted and capped like the call's own bodies.
// Request: the headers as sent (credentials [REDACTED]) and the body as sent
// (for a translated call, the translated body). Response: the upstream's
// headers (request id, rate-limit headers) and body; for a stream, its raw
// events as received. The request line is Attempt.Method + Attempt.URL, the
// status Attempt.Status.
//
// A body equal to the client's (a same-format pass-through) is stored once:
// the *SameAsClient flag says so, and Get fills the body in from the call's
// Request.Body, Response.Body or, for a stream, Events.
type Wire struct {
	Request              *Message `json:"request,omitempty"`
	RequestSameAsClient  bool     `json:"request_same_as_client,omitempty"`
	Response             *Message `json:"response,omitempty"`
	ResponseSameAsClient bool     `json:"response_same_as_client,omitempty"`
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
