package codec

import (
	"unsafe"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// UsageFromResponse returns the usage in a non-streaming success body of format f
// (every count unknown when the body has none or is not JSON).
// It reads only the usage object: it runs on every pass-through response.
func UsageFromResponse(f config.Format, body []byte) Usage {
	// Read in place: GetBytes would copy the usage object, and only numbers
	// leave this function.
	json := unsafe.String(unsafe.SliceData(body), len(body))
	switch f {
	case config.FormatResponses:
		if u := gjson.Get(json, "usage"); u.IsObject() {
			return usageFromResponses(u)
		}
	case config.FormatAnthropic:
		if u := gjson.Get(json, "usage"); u.IsObject() {
			return usageFromAnthropic(u)
		}
	case config.FormatGemini:
		if u := gjson.Get(json, "usageMetadata"); u.IsObject() {
			return usageFromGemini(u)
		}
	default:
		if u := gjson.Get(json, "usage"); u.IsObject() {
			return usageFromOpenAI(u)
		}
	}
	return UnknownUsage()
}

// usagePaths says where a usage object keeps each count of Usage, in its
// field order: a member, or a member of a member (sub); a zero path is a
// count the format does not have.
type usagePaths [5]struct{ member, sub string }

// read reads u in one pass over its members (a gjson path per count would
// scan it once each): it runs on every call.
func (ps *usagePaths) read(u gjson.Result) Usage {
	out := UnknownUsage()
	counts := [5]*int64{&out.InputTokens, &out.OutputTokens, &out.CacheReadTokens, &out.CacheWriteTokens, &out.ReasoningTokens}
	u.ForEach(func(k, v gjson.Result) bool {
		for i, p := range ps {
			switch {
			case p.member == "" || p.member != k.Str:
			case p.sub == "":
				*counts[i] = intOr(v)
			default:
				*counts[i] = intOr(v.Get(p.sub))
			}
		}
		return true
	})
	return out
}

// UsageTracker follows a stream of format f and keeps its usage: Anthropic
// message_start then cumulative message_delta (set, never add), OpenAI's usage
// chunk, Gemini's usageMetadata (last wins). The zero value is not ready: use
// NewUsageTracker. It is not safe for concurrent use.
type UsageTracker struct {
	f     config.Format
	dec   streamDecoder
	evs   []event
	usage Usage
	ended bool
}

// NewUsageTracker returns a tracker for a stream of format f.
func NewUsageTracker(f config.Format) *UsageTracker {
	return &UsageTracker{f: f, dec: newDecoder(f), usage: UnknownUsage()}
}

// Ended reports whether the stream has ended properly (see Stream.Ended).
func (t *UsageTracker) Ended() bool { return t.ended }

// Observe reads one event. Events it cannot parse are ignored.
func (t *UsageTracker) Observe(ev sse.Event) {
	var err error
	t.evs, err = decodeEvent(t.dec, t.evs[:0], ev)
	if err != nil {
		return
	}
	t.ended = t.ended || endsStream(t.f, t.evs)
	for i := range t.evs {
		if t.evs[i].kind == evUsage {
			t.usage = mergeUsage(t.usage, t.evs[i].usage)
		}
	}
}

// Usage returns the usage seen so far.
func (t *UsageTracker) Usage() Usage { return t.usage }

// StreamError reports whether ev is an in-band error event of format f (Anthropic
// "event: error", an OpenAI or Gemini data frame holding an "error" object), with
// the HTTP status it stands for (529 for overloaded_error, ...) and its message.
func StreamError(f config.Format, ev sse.Event) (status int, msg string, ok bool) {
	if len(ev.Data) == 0 || sse.IsDone(ev.Data) {
		return 0, "", false
	}
	// A fresh decoder is enough: error events carry everything themselves.
	evs, err := decodeEvent(newDecoder(f), nil, ev)
	if err != nil {
		return 0, "", false
	}
	for _, e := range evs {
		if e.kind == evError {
			return e.status, e.text, true
		}
	}
	return 0, "", false
}

// Accumulator rebuilds a stream of format f into the equivalent non-streaming
// response body of the same format (text, thinking, tool calls, stop reason,
// usage), which is what the call history shows for a stream. It is not safe for
// concurrent use.
type Accumulator struct {
	f   config.Format
	dec streamDecoder
	evs []event
	b   *builder
}

// NewAccumulator returns an accumulator for a stream of format f.
func NewAccumulator(f config.Format) *Accumulator {
	return &Accumulator{f: f, dec: newDecoder(f), b: newBuilder()}
}

// Add reads one event. Events it cannot parse are ignored.
func (a *Accumulator) Add(ev sse.Event) {
	var err error
	a.evs, err = decodeEvent(a.dec, a.evs[:0], ev)
	if err != nil {
		return
	}
	for i := range a.evs {
		if k := a.evs[i].kind; k == evPing || k == evDone || k == evError || k == evBlockStop {
			continue
		}
		a.b.add(&a.evs[i])
	}
}

// Limit makes the accumulator keep at most n bytes of text, thinking and tool
// arguments: a long stream's history needs only body_cap_bytes of it, and
// holding all of it would cost as much memory as the stream (issue 15 §2).
// n ≤ 0 keeps everything (the default).
func (a *Accumulator) Limit(n int) { a.b.limit = max(n, 0) }

// Truncated reports whether Limit dropped some of the stream's content.
func (a *Accumulator) Truncated() bool { return a.b.cut }

// Body returns the reassembled response body (nil if nothing was seen).
func (a *Accumulator) Body() []byte {
	if !a.b.seen {
		return nil
	}
	return encodeResponse(nil, a.f, a.b.response(), "", nil)
}
