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

// record is a converted call in one allocation: the request path hands over
// thousands of calls a second (issue 12).
type record struct {
	call   store.Call
	bodies store.Bodies
	one    [1]store.AttemptBodies // the wire record of a call of one attempt, the usual
	first  [1]store.Attempt       // that attempt
}

// StoreCall converts a proxy call to the store's record. It shares the body
// slices (the recorder owns c) so the request path copies no body.
func StoreCall(c *proxy.Call) (*store.Call, *store.Bodies) {
	r := &record{}
	r.call = store.Call{
		ID:               c.ID,
		Time:             c.Start,
		Method:           c.Method,
		Path:             c.Path,
		ClientUA:         c.ClientUA,
		Client:           c.Client,
		InboundFormat:    c.InboundFormat,
		Model:            c.Model,
		Provider:         c.Provider,
		UpstreamModel:    c.UpstreamModel,
		Stream:           c.Stream,
		Outcome:          string(c.Outcome),
		Status:           c.Status,
		DurationMS:       c.Duration.Milliseconds(),
		TTFBMS:           c.TTFB.Milliseconds(),
		InputTokens:      store.Tokens(c.Usage.InputTokens),
		OutputTokens:     store.Tokens(c.Usage.OutputTokens),
		CacheReadTokens:  store.Tokens(c.Usage.CacheReadTokens),
		CacheWriteTokens: store.Tokens(c.Usage.CacheWriteTokens),
		ReasoningTokens:  store.Tokens(c.Usage.ReasoningTokens),
		Error:            c.Error,
	}
	sc := &r.call
	if len(c.Attempts) <= 1 {
		sc.Attempts = r.first[:len(c.Attempts)]
	} else {
		sc.Attempts = make([]store.Attempt, len(c.Attempts))
	}
	if c.CostKnown {
		cost := c.Cost
		sc.CostUSD = &cost
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
	r.bodies = store.Bodies{
		Request:         rawMessage(c.Request),
		Response:        rawMessage(c.Response),
		Events:          c.Events,
		EventsTruncated: c.EventsTruncated,
	}
	b := &r.bodies
	b.Attempts = r.one[:]
	if len(c.Attempts) != 1 {
		b.Attempts = make([]store.AttemptBodies, len(c.Attempts))
	}
	for i := range c.Attempts {
		a := &c.Attempts[i]
		b.Attempts[i] = store.AttemptBodies{Request: rawMessagePtr(a.Sent), Response: rawMessagePtr(a.Received)}
	}
	return sc, b
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
