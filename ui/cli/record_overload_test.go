package cli

import (
	"bytes"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// TestOverloadedHistoryHoldsNoBodies: when the history's writer falls behind
// and calls are queued without their bodies, the queue holds no body at all,
// not even an attempt's wire record (which shares one allocation with the
// queued call). The leak soak (issue 15) found 16,384 queued streams holding
// ~270 MB this way, past the history's queue bound (32 MB then).
func TestOverloadedHistoryHoldsNoBodies(t *testing.T) {
	// Any body is over half of QueueBytes, and the writer, ticking hourly, is
	// woken only past a quarter of the queue's 16,384 calls.
	h, err := store.OpenHistory(t.TempDir(), store.Options{QueueBytes: 2, FlushInterval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	const calls, events = 1000, 64 << 10
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	rec := Recorder{H: h}
	for range calls {
		rec.Record(overloadStream(events))
	}
	grew := int64(heap()) - int64(before)
	if d := h.Drops(); d.Bodies != calls || d.Calls != 0 || h.QueueDepth() != calls {
		t.Fatalf("drops %+v with %d queued, want %d bodies dropped and all queued", d, h.QueueDepth(), calls)
	}
	if limit := int64(calls * events / 8); grew > limit {
		t.Errorf("%d queued calls without bodies hold %.1f MB, want ≤ %.1f MB (their %d KB of events each must be free)",
			calls, float64(grew)/(1<<20), float64(limit)/(1<<20), events>>10)
	}
}

// overloadStream is a finished stream as the proxy hands it over: the raw
// events are both the client's record and the attempt's wire record.
func overloadStream(size int) *proxy.Call {
	ev := bytes.Repeat([]byte("x"), size)
	req := []byte(`{"model":"gpt-4o","stream":true}`)
	return &proxy.Call{
		ID: proxy.NewCallID(), Start: time.Now(), Path: "/v1/chat/completions", InboundFormat: "openai",
		Model: "gpt-4o", Provider: "openai", Stream: true, Outcome: proxy.OutcomeOK, Status: 200,
		Attempts: []proxy.Attempt{{Provider: "openai", Status: 200, Start: time.Now(),
			Sent: &proxy.Message{Body: req}, Received: &proxy.Message{Body: ev}}},
		Request: proxy.Message{Body: req},
		Events:  ev,
	}
}
