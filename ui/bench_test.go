package ui

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// fillStore records n summaries (no bodies) over the last 10 days, one in 50
// failed, through the store's own writer, waiting when its queue is full.
func fillStore(tb testing.TB, h *store.History, n int) {
	tb.Helper()
	start := time.Now().Add(-10 * 24 * time.Hour)
	step := 10 * 24 * time.Hour / time.Duration(n)
	providers := []string{"openai", "anthropic", "gemini", "groq"}
	one := int64(42)
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * step)
		c := &store.Call{
			ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), Time: at, Method: "POST",
			Path: "/v1/chat/completions", InboundFormat: "openai", Model: "gpt-4o", Provider: providers[i%4],
			UpstreamModel: "gpt-4o", Outcome: store.OutcomeOK, Status: 200, DurationMS: 900, TTFBMS: 300,
			Attempts:    []store.Attempt{{Provider: providers[i%4], Model: "gpt-4o", Status: 200, DurationMS: 880}},
			InputTokens: &one, OutputTokens: &one,
		}
		if i%50 == 0 {
			c.Outcome, c.Status = store.OutcomeError, 502
			c.Attempts = []store.Attempt{{Provider: providers[i%4], Status: 502, ErrorClass: string(proxy.ClassUpstream5xx)}}
		}
		for !h.Record(c, nil) {
			h.Flush()
		}
	}
	h.Flush()
	if d := h.Drops(); d.Calls > 0 {
		tb.Logf("store dropped %d calls while filling", d.Calls)
	}
}

var (
	millionOnce sync.Once
	millionDir  string
)

// millionCalls returns a data folder holding 1,000,000 calls, built once per
// process (it takes a while) and removed by the OS's temp cleanup.
func millionCalls(b *testing.B) string {
	millionOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-ui-bench-")
		if err != nil {
			b.Fatal(err)
		}
		h, err := store.OpenHistory(dir, store.Options{MaxAge: -1, MaxSize: -1, QueueSize: 100_000})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		fillStore(b, h, 1_000_000)
		if err := h.Close(); err != nil {
			b.Fatal(err)
		}
		b.Logf("filled 1,000,000 calls in %v", time.Since(start))
		millionDir = dir
	})
	return millionDir
}

// BenchmarkOpenHistory1M measures opening the History tab on a real store of
// 1,000,000 calls: from the tab click to the first page in the list (the query,
// the conversion and the list refresh; headless, so without GL painting).
func BenchmarkOpenHistory1M(b *testing.B) {
	dir := millionCalls(b)
	h, err := store.OpenHistory(dir, store.Options{MaxAge: -1, MaxSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	e := newTestEnv(b)
	e.b.History = StoreHistory{H: h}
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a := newBenchApp(b, e)
		b.StartTimer()
		t0 := time.Now()
		a.ShowTab(TabHistory)
		pump(b, "first page", func() bool { return len(a.history.calls) > 0 })
		total += time.Since(t0)
		b.StopTimer()
		a.Close()
		drain()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/open")
}

// BenchmarkFailedFilter1M measures switching between "failed" and all calls on the same store.
func BenchmarkFailedFilter1M(b *testing.B) {
	dir := millionCalls(b)
	h, err := store.OpenHistory(dir, store.Options{MaxAge: -1, MaxSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	e := newTestEnv(b)
	e.b.History = StoreHistory{H: h}
	a := newBenchApp(b, e)
	defer a.Close()
	a.ShowTab(TabHistory)
	pump(b, "first page", func() bool { return len(a.history.calls) > 0 })
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if i%2 == 0 {
			a.history.show.SetSelected(ShowFailed)
		} else {
			a.history.show.SetSelected(ShowAll)
		}
		pump(b, "filtered page", func() bool { return !a.history.loading && len(a.history.calls) > 0 })
		total += time.Since(t0)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/filter")
}
