package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// openStore opens a real history file in a temp folder, closed at cleanup.
func openStore(t testing.TB) *store.History {
	t.Helper()
	h, err := store.OpenHistory(t.TempDir(), store.Options{FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("open history: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("close history: %v", err)
		}
	})
	return h
}

// record writes c to the store the way main's recorder does.
func record(h *store.History, c *proxy.Call) {
	sc := &store.Call{
		ID: c.ID, Time: c.Start, Method: c.Method, Path: c.Path, ClientUA: c.ClientUA,
		InboundFormat: c.InboundFormat, Model: c.Model, Provider: c.Provider, UpstreamModel: c.UpstreamModel,
		Stream: c.Stream, Outcome: string(c.Outcome), Status: c.Status,
		DurationMS: c.Duration.Milliseconds(), TTFBMS: c.TTFB.Milliseconds(), Error: c.Error,
		InputTokens: store.Tokens(c.Usage.InputTokens), OutputTokens: store.Tokens(c.Usage.OutputTokens),
	}
	for _, a := range c.Attempts {
		sc.Attempts = append(sc.Attempts, store.Attempt{Provider: a.Provider, Model: a.Model, URL: a.URL,
			Status: a.Status, Error: a.Error, ErrorClass: string(a.Class),
			DurationMS: a.Duration.Milliseconds(), DelayMS: a.Delay.Milliseconds()})
	}
	raw := func(m proxy.Message) store.RawMessage {
		r := store.RawMessage{Body: m.Body, Truncated: m.Truncated}
		for _, hd := range m.Headers {
			r.Headers = append(r.Headers, store.Header{Name: hd.Name, Value: hd.Value})
		}
		return r
	}
	h.Record(sc, &store.Bodies{Request: raw(c.Request), Response: raw(c.Response), Events: c.Events})
}

// TestHistoryOnRealStore drives the history screen on a real bbolt file:
// filter to failed calls, open one, see its three attempts and its bodies; a
// call recorded afterwards shows up live at the top.
func TestHistoryOnRealStore(t *testing.T) {
	h := openStore(t)
	e := newTestEnv()
	e.b.History = StoreHistory{H: h}
	now := time.Now()
	calls := sampleCalls(30, now)
	for _, c := range calls {
		record(h, c)
	}
	h.Flush()

	a := newTestApp(t, e)
	a.ShowTab(TabHistory)
	hs := a.history
	pump(t, "first page", func() bool { return len(hs.calls) == 30 })
	test := func(cond bool, format string, args ...any) {
		t.Helper()
		if !cond {
			t.Errorf(format, args...)
		}
	}
	test(hs.calls[0].ID == calls[29].ID, "first row %s, want the newest call %s", hs.calls[0].ID, calls[29].ID)

	hs.failedOnly.SetChecked(true)
	pump(t, "failed only", func() bool { return !hs.loading && len(hs.calls) == 4 }) // i%7 == 3 for i < 30
	hs.list.Select(0)
	d := hs.detail
	pump(t, "detail", func() bool { return d.call != nil && d.body.Visible() })
	test(len(d.attempts.Objects) == 3, "attempts timeline has %d rows, want 3", len(d.attempts.Objects))
	test(strings.Contains(d.diagnosis.Text, "502 3 times"), "diagnosis %q", d.diagnosis.Text)
	test(strings.Contains(strings.Join(d.request.Text(), "\n"), `"model": "gpt-4o"`), "request tab %q", d.request.Text())
	test(strings.Contains(strings.Join(d.headers.Text(), "\n"), "Authorization: [REDACTED]"), "headers tab %q", d.headers.Text())

	// Copy JSON gives the stored record, as `history show --json` prints it.
	d.doCopyJSON()
	pump(t, "Copy JSON", func() bool { return strings.HasPrefix(d.status.Text, "Copied") })
	j := a.fy.Clipboard().Content()
	test(strings.Contains(j, `"id": "`+d.call.ID+`"`) && strings.Contains(j, `"error_class": "upstream_5xx"`) && strings.Contains(j, `"name": "Authorization"`),
		"Copy JSON gave %.300s", j)

	fresh := sampleCalls(4, time.Now())[3] // a failed one
	record(h, fresh)
	pump(t, "live failed call", func() bool { return len(hs.calls) == 5 })
	test(hs.calls[0].ID == fresh.ID, "live call %s not on top (top is %s)", fresh.ID, hs.calls[0].ID)

	st, err := e.b.History.Stats(t.Context(), now.Add(-2*time.Hour), now.Add(time.Hour))
	test(err == nil && st.Calls == 31 && st.Failed == 5, "stats %+v, %v; want 31 calls, 5 failed", st, err)
	bs, err := e.b.History.Activity(t.Context(), now.Add(-2*time.Hour).Truncate(5*time.Minute), now.Add(-2*time.Hour).Truncate(5*time.Minute).Add(3*time.Hour), 5*time.Minute)
	var sum, failed int
	var in, out int64
	for _, b := range bs {
		sum += b.Calls
		failed += b.Failed
		in, out = in+b.InputTokens, out+b.OutputTokens
	}
	test(err == nil && len(bs) == 36 && sum == 31 && failed == 5, "activity: %d buckets, %d calls, %d failed, %v", len(bs), sum, failed, err)
	test(in == st.InputTokens && out == st.OutputTokens && in > 0, "activity tokens %d/%d, stats %d/%d", in, out, st.InputTokens, st.OutputTokens)
}
