package codec

import (
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
)

// UsageFromResponse returns the usage in a non-streaming success body of format f.
func UsageFromResponse(f config.Format, body []byte) Usage {
	return UnknownUsage()
}

// UsageTracker follows a stream of format f and keeps its usage: Anthropic
// message_start then cumulative message_delta (set, never add), OpenAI's usage
// chunk, Gemini's usageMetadata (last wins). The zero value is not ready: use
// NewUsageTracker.
type UsageTracker struct {
	f     config.Format
	usage Usage
}

// NewUsageTracker returns a tracker for a stream of format f.
func NewUsageTracker(f config.Format) *UsageTracker {
	return &UsageTracker{f: f, usage: UnknownUsage()}
}

// Observe reads one event.
func (t *UsageTracker) Observe(ev sse.Event) {}

// Usage returns the usage seen so far.
func (t *UsageTracker) Usage() Usage { return t.usage }

// StreamError reports whether ev is an in-band error event of format f (Anthropic
// "event: error", an OpenAI or Gemini data frame holding an "error" object), with
// the HTTP status it stands for (529 for overloaded_error, ...) and its message.
func StreamError(f config.Format, ev sse.Event) (status int, msg string, ok bool) {
	return 0, "", false
}

// Accumulator rebuilds a stream of format f into the equivalent non-streaming
// response body of the same format (text, thinking, tool calls, stop reason,
// usage), which is what the call history shows for a stream.
type Accumulator struct {
	f config.Format
}

// NewAccumulator returns an accumulator for a stream of format f.
func NewAccumulator(f config.Format) *Accumulator { return &Accumulator{f: f} }

// Add reads one event.
func (a *Accumulator) Add(ev sse.Event) {}

// Body returns the reassembled response body (nil if nothing was seen).
func (a *Accumulator) Body() []byte { return nil }
