package cli

import (
	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// Recorder is proxy.Recorder on the call history: it records each finished
// call in the store.
type Recorder struct{ H *store.History }

var _ proxy.Recorder = Recorder{}

// Record converts and queues a call; it never blocks (the store drops under
// overload and counts it).
func (r Recorder) Record(c *proxy.Call) {
	sc, b := StoreCall(c)
	r.H.Record(sc, b)
}

// StoreCall converts a proxy call to the store's record. It shares the body
// slices (the recorder owns c) so the request path copies no body.
func StoreCall(c *proxy.Call) (*store.Call, *store.Bodies) {
	sc := &store.Call{
		ID:               c.ID,
		Time:             c.Start,
		Method:           c.Method,
		Path:             c.Path,
		ClientUA:         c.ClientUA,
		InboundFormat:    c.InboundFormat,
		Model:            c.Model,
		Provider:         c.Provider,
		UpstreamModel:    c.UpstreamModel,
		Stream:           c.Stream,
		Outcome:          string(c.Outcome),
		Status:           c.Status,
		DurationMS:       c.Duration.Milliseconds(),
		TTFBMS:           c.TTFB.Milliseconds(),
		Attempts:         make([]store.Attempt, len(c.Attempts)),
		InputTokens:      store.Tokens(c.Usage.InputTokens),
		OutputTokens:     store.Tokens(c.Usage.OutputTokens),
		CacheReadTokens:  store.Tokens(c.Usage.CacheReadTokens),
		CacheWriteTokens: store.Tokens(c.Usage.CacheWriteTokens),
		ReasoningTokens:  store.Tokens(c.Usage.ReasoningTokens),
		Error:            c.Error,
	}
	for i, a := range c.Attempts {
		sc.Attempts[i] = store.Attempt{
			Provider: a.Provider, Model: a.Model, URL: a.URL, Status: a.Status,
			Error: a.Error, ErrorClass: string(a.Class), Start: a.Start,
			DurationMS: a.Duration.Milliseconds(), DelayMS: a.Delay.Milliseconds(),
			Method: a.Method, KeySource: a.KeySource, KeyMask: a.KeyMask,
			ConnectMS: a.Connect.Milliseconds(), FirstByteMS: a.FirstByte.Milliseconds(),
			CircuitOpened: a.CircuitOpened, CircuitUntil: a.CircuitUntil,
		}
	}
	b := newBodies(len(c.Attempts))
	b.Request, b.Response = rawMessage(c.Request), rawMessage(c.Response)
	b.Events, b.EventsTruncated = c.Events, c.EventsTruncated
	for i := range c.Attempts {
		a := &c.Attempts[i]
		b.Attempts[i] = store.AttemptBodies{Request: rawMessagePtr(a.Sent), Response: rawMessagePtr(a.Received)}
	}
	return sc, b
}

// newBodies returns bodies with room for n attempts' wire records; a call of
// one attempt (the usual) takes one allocation for both.
func newBodies(n int) *store.Bodies {
	if n != 1 {
		return &store.Bodies{Attempts: make([]store.AttemptBodies, n)}
	}
	one := new(struct {
		b store.Bodies
		a [1]store.AttemptBodies
	})
	one.b.Attempts = one.a[:]
	return &one.b
}

// rawMessagePtr is rawMessage of an attempt's side; nil is none.
func rawMessagePtr(m *proxy.Message) store.RawMessage {
	if m == nil {
		return store.RawMessage{}
	}
	return rawMessage(*m)
}

// rawMessage hands the captured header block over as it is: the store's writer
// parses it, off the request path.
func rawMessage(m proxy.Message) store.RawMessage {
	return store.RawMessage{HeaderBlock: m.HeaderBlock, Body: m.Body, Truncated: m.Truncated}
}
