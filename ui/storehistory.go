package ui

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// StoreHistory is History on the bbolt call history.
type StoreHistory struct{ H *store.History }

var (
	_ History       = StoreHistory{}
	_ Usage         = StoreHistory{}
	_ HistoryHealth = StoreHistory{}
)

// Health reports the store's disk and file faults.
func (s StoreHistory) Health() (degraded, notice string) {
	h := s.H.Health()
	return h.Degraded, h.Notice
}

// Page lists summaries newest first; the store bounds its own scan, so a filter
// matching little in a huge file still answers quickly, with a cursor.
func (s StoreHistory) Page(_ context.Context, q store.Query) (store.Page, error) {
	p, err := s.H.List(q)
	if err != nil {
		return store.Page{}, fmt.Errorf("history page: %w", err)
	}
	return p, nil
}

// Call returns one call in full.
func (s StoreHistory) Call(_ context.Context, id string) (*store.Call, error) {
	c, err := s.H.Get(id)
	if err != nil {
		return nil, err
	}
	return &c, nil
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
func (s StoreHistory) Subscribe(fn func(*store.Call)) func() {
	ch, cancel := s.H.Subscribe(256)
	go func() {
		for c := range ch {
			fn(&c)
		}
	}()
	return cancel
}

// Usage reads the hourly usage rollups.
func (s StoreHistory) Usage(_ context.Context, q store.UsageQuery) (store.UsageReport, error) {
	return s.H.Usage(q)
}
