package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// StoreHistory is History on the bbolt call history.
type StoreHistory struct{ H *store.History }

var (
	_ History       = StoreHistory{}
	_ RecordJSON    = StoreHistory{}
	_ Usage         = StoreHistory{}
	_ HistoryHealth = StoreHistory{}
)

// Health reports the store's disk and file faults.
func (s StoreHistory) Health() (degraded, notice string) {
	h := s.H.Health()
	return h.Degraded, h.Notice
}

// RecordJSON is the stored call as `gatehouse history show --json` prints it.
func (s StoreHistory) RecordJSON(_ context.Context, id string) ([]byte, error) {
	c, err := s.H.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("call %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode call %s: %w", id, err)
	}
	return append(b, '\n'), nil
}

// Page lists summaries newest first; the store bounds its own scan, so a filter
// matching little in a huge file still answers quickly, with a cursor.
func (s StoreHistory) Page(_ context.Context, q Query) (Page, error) {
	p, err := s.H.List(store.Query{
		Before: q.Before, Limit: q.limit(), Outcome: string(q.Outcome), FailedOnly: q.FailedOnly,
		Provider: q.Provider, Model: q.Model, Search: q.Search, Client: q.Client,
	})
	if err != nil {
		return Page{}, fmt.Errorf("history page: %w", err)
	}
	out := Page{Calls: make([]*proxy.Call, len(p.Calls)), Next: p.Next}
	for i := range p.Calls {
		out.Calls[i] = fromStore(&p.Calls[i])
	}
	return out, nil
}

// Call returns one call in full.
func (s StoreHistory) Call(_ context.Context, id string) (*proxy.Call, error) {
	c, err := s.H.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("call %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return fromStore(&c), nil
}

// Stats sums a time range.
func (s StoreHistory) Stats(_ context.Context, since, until time.Time) (Stats, error) {
	st, err := s.H.Stats(store.StatsQuery{From: since, To: until, SeriesStep: until.Sub(since) + time.Second, TokenStep: 24 * time.Hour})
	if err != nil {
		return Stats{}, fmt.Errorf("history stats: %w", err)
	}
	return Stats{Calls: int64(st.Calls), Failed: int64(st.Failures), InputTokens: st.InputTokens, OutputTokens: st.OutputTokens}, nil
}

// Activity counts calls, failures and tokens per step.
func (s StoreHistory) Activity(_ context.Context, since, until time.Time, step time.Duration) ([]Bucket, error) {
	st, err := s.H.Stats(store.StatsQuery{From: since, To: until, SeriesStep: step, TokenStep: 24 * time.Hour})
	if err != nil {
		return nil, fmt.Errorf("history activity: %w", err)
	}
	n := int(until.Sub(since) / step)
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * step)
	}
	for _, p := range st.Series {
		if k := int(p.Start.Sub(since) / step); k >= 0 && k < n && !p.Start.Before(since) {
			out[k].Calls += p.Calls
			out[k].Failed += p.Failures
			out[k].InputTokens += p.InputTokens
			out[k].OutputTokens += p.OutputTokens
		}
	}
	return out, nil
}

// Subscribe relays the store's live feed.
func (s StoreHistory) Subscribe(fn func(*proxy.Call)) func() {
	ch, cancel := s.H.Subscribe(256)
	go func() {
		for c := range ch {
			fn(fromStore(&c))
		}
	}()
	return cancel
}

// fromStore converts a stored call to the proxy's record the screens show.
func fromStore(c *store.Call) *proxy.Call {
	out := &proxy.Call{
		ID: c.ID, Start: c.Time, ClientUA: c.ClientUA, Client: c.ClientName(), InboundFormat: c.InboundFormat,
		Method: c.Method, Path: c.Path, Model: c.Model, Provider: c.Provider, UpstreamModel: c.UpstreamModel,
		Stream: c.Stream, Outcome: proxy.Outcome(c.Outcome), Status: c.Status,
		Duration: time.Duration(c.DurationMS) * time.Millisecond, TTFB: time.Duration(c.TTFBMS) * time.Millisecond,
		Error: c.Error, Events: []byte(c.Events), EventsTruncated: c.EventsTruncated,
		Usage: proxy.Usage{
			InputTokens: tokenCount(c.InputTokens), OutputTokens: tokenCount(c.OutputTokens),
			CacheReadTokens: tokenCount(c.CacheReadTokens), CacheWriteTokens: tokenCount(c.CacheWriteTokens),
			ReasoningTokens: tokenCount(c.ReasoningTokens),
		},
	}
	if c.CostUSD != nil {
		out.Cost, out.CostKnown = *c.CostUSD, true
	}
	for _, a := range c.Attempts {
		pa := proxy.Attempt{
			Provider: a.Provider, Model: a.Model, URL: a.URL, Status: a.Status, Error: a.Error,
			Class: proxy.ErrorClass(a.ErrorClass), Start: a.Start,
			Duration: time.Duration(a.DurationMS) * time.Millisecond, Delay: time.Duration(a.DelayMS) * time.Millisecond,
			Method: a.Method, KeySource: a.KeySource, KeyMask: a.KeyMask,
			Connect:       time.Duration(a.ConnectMS) * time.Millisecond,
			FirstByte:     time.Duration(a.FirstByteMS) * time.Millisecond,
			CircuitOpened: a.CircuitOpened, CircuitUntil: a.CircuitUntil,
		}
		if w := a.Wire; w != nil {
			pa.Sent, pa.Received = messagePtrFromStore(w.Request), messagePtrFromStore(w.Response)
			pa.SentSameAsClient, pa.ReceivedSameAsClient = w.RequestSameAsClient, w.ResponseSameAsClient
		}
		out.Attempts = append(out.Attempts, pa)
	}
	out.Request = messageFromStore(c.Request)
	out.Response = messageFromStore(c.Response)
	return out
}

func messageFromStore(m *store.Message) proxy.Message {
	if m == nil {
		return proxy.Message{}
	}
	out := proxy.Message{Body: []byte(m.Body), Truncated: m.Truncated}
	for _, h := range m.Headers {
		out.Headers = append(out.Headers, proxy.Header{Name: h.Name, Value: h.Value})
	}
	return out
}

// messagePtrFromStore is messageFromStore keeping "absent" as nil.
func messagePtrFromStore(m *store.Message) *proxy.Message {
	if m == nil {
		return nil
	}
	out := messageFromStore(m)
	return &out
}

func tokenCount(n *int64) int64 {
	if n == nil {
		return -1
	}
	return *n
}

// Usage reads the hourly usage rollups.
func (s StoreHistory) Usage(_ context.Context, q store.UsageQuery) (store.UsageReport, error) {
	return s.H.Usage(q)
}
