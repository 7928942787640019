package proxy

import (
	"bytes"
	"time"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/oklog/ulid/v2"
)

// Outcome is how a call ended, as the client saw it.
type Outcome string

// The outcomes of a call.
const (
	OutcomeOK              Outcome = "ok"               // a complete, successful response
	OutcomeError           Outcome = "error"            // an error response (no stream started)
	OutcomePartial         Outcome = "partial"          // a stream that broke after bytes reached the client
	OutcomeClientCancelled Outcome = "client_cancelled" // the client hung up first
)

// ErrorClass says what went wrong where, for one attempt. The list is fixed; the
// desktop app's diagnosis and the history filters rely on it.
type ErrorClass string

// The error classes of an attempt.
const (
	ClassNone             ErrorClass = ""
	ClassDNS              ErrorClass = "dns"                // the upstream host name did not resolve
	ClassRefused          ErrorClass = "refused"            // connection refused: nothing listens there
	ClassReset            ErrorClass = "reset"              // connection reset or closed before the response headers
	ClassTLS              ErrorClass = "tls"                // TLS handshake or certificate failure
	ClassFirstByteTimeout ErrorClass = "first_byte_timeout" // no response byte within first_byte_timeout
	ClassIdleTimeout      ErrorClass = "idle_timeout"       // a body or stream went silent for idle_timeout
	ClassUpstream5xx      ErrorClass = "upstream_5xx"       // 500, 502, 504 and other 5xx from the upstream
	ClassOverloaded       ErrorClass = "overloaded"         // 503, 529 or an overloaded_error event
	ClassRateLimited      ErrorClass = "rate_limited"       // 429
	ClassAuth             ErrorClass = "auth"               // 401 or 403: the key was rejected
	ClassBadRequest       ErrorClass = "bad_request"        // other 4xx: the request itself was refused
	ClassNotFound         ErrorClass = "not_found"          // 404: unknown model or endpoint upstream
	ClassMidStream        ErrorClass = "mid_stream"         // the stream broke after bytes reached the client
	ClassClientCancelled  ErrorClass = "client_cancelled"   // the client hung up
	ClassCircuitOpen      ErrorClass = "circuit_open"       // skipped: the provider's circuit is open
	ClassProxy            ErrorClass = "proxy"              // a fault of Gatehouse itself (translation, config, ...)
	ClassNetProxy         ErrorClass = "net_proxy"          // the network's HTTP proxy was unreachable or refused the tunnel
	ClassProxyAuth        ErrorClass = "proxy_auth"         // the network's HTTP proxy wants other credentials (407)
	ClassTLSUntrusted     ErrorClass = "tls_untrusted"      // the upstream's certificate is from an authority not trusted here
)

// ErrorClasses lists every error class, for documentation and filters.
var ErrorClasses = []ErrorClass{
	ClassDNS, ClassRefused, ClassReset, ClassTLS, ClassFirstByteTimeout, ClassIdleTimeout,
	ClassUpstream5xx, ClassOverloaded, ClassRateLimited, ClassAuth, ClassBadRequest, ClassNotFound,
	ClassMidStream, ClassClientCancelled, ClassCircuitOpen, ClassProxy, ClassNetProxy, ClassProxyAuth, ClassTLSUntrusted,
}

// Attempt is one try of one target.
type Attempt struct {
	Provider string
	Model    string // the upstream model name
	URL      string // the upstream URL, secrets redacted
	Status   int    // the upstream status, 0 when no response came
	Error    string // what went wrong, "" on success
	Class    ErrorClass
	Start    time.Time
	Duration time.Duration // until the attempt's outcome was known (headers, error or stream end)
	Delay    time.Duration // backoff waited before this attempt

	// Issue 16: the attempt as it went over the wire (stored form: store/call.go).
	Method    string        // the upstream request's method; "" when nothing was sent
	KeySource string        // "keychain", "env VAR", "client", "none"
	KeyMask   string        // the key shortened to "sk-…abcd"; the key itself is never recorded
	Connect   time.Duration // Start → the connection was ready and the request being written
	FirstByte time.Duration // Start → the response headers arrived
	// CircuitOpened: this attempt's failure opened the provider's circuit.
	// CircuitUntil: when that circuit (or the open circuit a skipped attempt,
	// Class circuit_open, met) lets a probe through again.
	CircuitOpened bool
	CircuitUntil  time.Time
	// Sent is the request as sent upstream (credential headers blanked, the
	// body as sent); Received is the upstream's response (for a stream, its raw
	// events). nil when nothing was sent or received. A body equal to the
	// client's shares Call.Request.Body / Call.Response.Body / Call.Events: the
	// store keeps one copy. The *SameAsClient flags are set by readers of
	// stored calls.
	Sent, Received                         *Message
	SentSameAsClient, ReceivedSameAsClient bool
}

// Usage is token usage; a negative count means unknown (the upstream never said).
type Usage = codec.Usage

// Header is one HTTP header line.
type Header struct{ Name, Value string }

// Message is one side of a call as captured: headers (credentials removed) and body.
type Message struct {
	// HeaderBlock holds the headers as "Name: value\n" lines: the proxy fills it
	// (one copy on the request path instead of a slice of pairs).
	HeaderBlock []byte
	// Headers is the parsed form, filled by readers of stored calls.
	Headers   []Header
	Body      []byte
	Truncated bool // Body was cut at the capture cap
}

// AllHeaders returns Headers, or the parsed HeaderBlock when Headers is empty.
func (m *Message) AllHeaders() []Header {
	if len(m.Headers) > 0 {
		return m.Headers
	}
	var out []Header
	b := m.HeaderBlock
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		name, value, _ := bytes.Cut(line, []byte(": "))
		out = append(out, Header{Name: string(name), Value: string(value)})
	}
	return out
}

// Call is the record of one client request, handed to the Recorder when it ends.
type Call struct {
	ID            string    // time-ordered ULID, also sent as X-Gatehouse-Call
	Start         time.Time // when the request arrived
	ClientUA      string    // the client's User-Agent
	Client        string    // the client token's name; LocalClient without one (issue 13)
	InboundFormat string    // openai, anthropic or gemini
	Method        string
	Path          string // request path, ?key= removed
	Model         string // the model the client asked for
	Provider      string // the provider of the last attempt ("" if none was made)
	UpstreamModel string // the model sent to that provider
	Stream        bool
	Outcome       Outcome
	Status        int           // the status the client got
	Duration      time.Duration // request arrival → last byte sent
	TTFB          time.Duration // request arrival → first response byte sent to the client (0: none)
	Attempts      []Attempt
	Usage         Usage
	Error         string // the error message the client got, "" on success
	// Cost is what the call cost in US dollars (proxy/pricing), set when the
	// call ends; CostKnown is false when the model has no price or the
	// upstream reported no usage (issue 14).
	Cost      float64
	CostKnown bool

	Request  Message // the client's request
	Response Message // the client's response; for streams, the reassembled message
	// Events holds a stream's raw events as the client received them (capped).
	Events          []byte
	EventsTruncated bool

	firstAttempt [1]Attempt // Attempts' room for the usual one: no allocation per call
}

// Recorder receives each finished call. Record must not block: implementations
// queue and write elsewhere. The Recorder owns c afterwards.
type Recorder interface {
	Record(c *Call)
}

// KeySource gives the secrets kept in the OS keychain. It is consulted on the
// request path, so it must answer from memory and be safe for concurrent use.
type KeySource interface {
	// Secret returns the provider's secret for field ("" is the main key; "secret"
	// and "password" are parts of multi-part credentials) and whether one is set.
	Secret(provider, field string) (string, bool)
}

// KeychainState is an optional KeySource capability: why the keychain behind
// it cannot be read (locked, absent), or nil. A call that finds no key then
// says so instead of "no key" (issue 15 §4).
type KeychainState interface {
	Unavailable() error
}

// NewCallID returns a new time-ordered call id (a ULID: sorts by creation time).
func NewCallID() string { return callIDAt(time.Now()) }

// callIDAt is NewCallID for a call that started at t: the clock is read once
// per call, not once per use.
func callIDAt(t time.Time) string {
	return ulid.MustNew(ulid.Timestamp(t), ulid.DefaultEntropy()).String()
}
