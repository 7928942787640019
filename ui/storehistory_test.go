package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

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

// TestHistoryOnRealStore drives the history screen on a real bbolt file:
// filter to failed calls, open one, see its three attempts and its bodies; a
// call recorded afterwards shows up live at the top.
func TestHistoryOnRealStore(t *testing.T) {
	e := newTestEnv(t)
	h := e.hist
	now := time.Now()
	calls := sampleCalls(30, now)
	for _, c := range calls {
		e.add(c)
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

	hs.show.SetSelected(ShowFailed)
	pump(t, "failed only", func() bool { return !hs.loading && len(hs.calls) == 4 }) // i%7 == 3 for i < 30
	hs.table.Select(widget.TableCellID{Row: 0})
	d := hs.detail
	pump(t, "detail", func() bool { return d.call != nil && d.body.Visible() })
	test(len(d.attempts.Objects) == 3, "attempts timeline has %d rows, want 3", len(d.attempts.Objects))
	test(strings.Contains(d.diagnosis.Text, "502 3 times"), "diagnosis %q", d.diagnosis.Text)
	test(strings.Contains(strings.Join(d.request.Text(), "\n"), `"model": "gpt-4o"`), "request tab %q", d.request.Text())
	test(strings.Contains(strings.Join(d.request.Text(), "\n"), "Authorization: [REDACTED]"), "request tab %q", d.request.Text())

	// Copy JSON gives the stored record, as `history show --json` prints it.
	d.doCopyJSON()
	pump(t, "Copy JSON", func() bool { return strings.HasPrefix(d.status.Text, "Copied") })
	j := a.fy.Clipboard().Content()
	test(strings.Contains(j, `"id": "`+d.call.ID+`"`) && strings.Contains(j, `"error_class": "upstream_5xx"`) && strings.Contains(j, `"name": "Authorization"`),
		"Copy JSON gave %.300s", j)

	fresh := at(sampleCalls(4, time.Now())[3], time.Now()) // a failed one
	e.add(fresh)
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
