package ui

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/gatehouse/gatehouse/store"
)

// recordUsage writes n calls over the last span into a real history: every
// 10th failed, every 7th saved by a retry, on three providers, priced.
func recordUsage(tb testing.TB, n int, span time.Duration, now time.Time) *store.History {
	tb.Helper()
	h, err := store.OpenHistory(tb.TempDir(), store.Options{MaxAge: -1, MaxSize: -1, NoRetention: true, Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	rng := rand.New(rand.NewPCG(7, 9))
	providers := []string{"openai", "anthropic", "gemini"}
	cost := 0.002
	in, out := int64(1200), int64(300)
	for i := range n {
		at := now.Add(-span + time.Duration(i)*(span/time.Duration(n)))
		p := providers[i%3]
		c := &store.Call{
			ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), Time: at, Path: "/v1/chat/completions",
			InboundFormat: "openai", Model: "m", Provider: p, UpstreamModel: p + "-model", Outcome: store.OutcomeOK, Status: 200,
			DurationMS: int64(rng.ExpFloat64()*900) + 20, TTFBMS: int64(rng.ExpFloat64()*300) + 5,
			Attempts:    []store.Attempt{{Provider: p, Status: 200}},
			InputTokens: &in, OutputTokens: &out, CostUSD: &cost,
		}
		switch {
		case i%10 == 3:
			c.Outcome, c.Status, c.CostUSD = store.OutcomeError, 502, nil
			c.Attempts[0].ErrorClass = "upstream_5xx"
		case i%7 == 2:
			c.Attempts = append([]store.Attempt{{Provider: p, Status: 429, ErrorClass: "rate_limited"}}, c.Attempts...)
		}
		for !h.Record(c, nil) { // the queue is full: let the writer catch up
			h.Flush()
		}
	}
	h.Flush()
	return h
}

// waitUsage drains the UI queue until the Usage screen shows a report.
func waitUsage(tb testing.TB, a *App) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !a.usage.ready; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal("the Usage screen showed nothing within 10 s")
		}
		drain()
	}
}

func TestUsageScreen(t *testing.T) {
	now := time.Now()
	e := newTestEnv(t)
	e.b.History = StoreHistory{H: recordUsage(t, 70, 6*24*time.Hour, now)}
	a := newTestApp(t, e)
	a.ShowTab(TabUsage)
	waitUsage(t, a)
	s := a.usage
	// 70 calls: 7 failed (i%10 == 3), 9 saved (i%7 == 2 but not 23, which failed).
	if got := s.headline.Text; got != "Retries and fallbacks saved 9 calls this week" {
		t.Errorf("headline = %q", got)
	}
	if s.calls.Text != "70" || s.failed.Text != "7" || s.saved.Text != "9" || s.cost.Text != "$0.126" {
		t.Errorf("figures: calls %s, failed %s, saved %s, cost %s; want 70, 7, 9, $0.126", s.calls.Text, s.failed.Text, s.saved.Text, s.cost.Text)
	}
	txt := strings.Join(labels(s.table), "|")
	for _, want := range []string{"openai", "anthropic", "gemini", "provider"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the table lacks %q: %s", want, txt)
		}
	}
	if len(s.rep.Series) != 7*24+1 && len(s.rep.Series) != 7*24 {
		t.Errorf("7 d chart has %d hourly steps", len(s.rep.Series))
	}
	img := s.drawTraffic(600, 120)
	painted := 0
	for y := range 120 {
		for x := range 600 {
			if _, _, _, al := img.At(x, y).RGBA(); al != 0 {
				painted++
			}
		}
	}
	if painted < 600 {
		t.Errorf("the calls chart paints %d pixels, want bars", painted)
	}
	// Big figures must not widen the window past its 1180 px (as the Overview's).
	big := store.UsageTotals{Calls: 12_345_678, Failures: 1_234_567, Saved: 123_456, InputTokens: 9_876_543_210, OutputTokens: 1_234_567_890,
		CostUSD: 123_456.78, CostUnknownCalls: 5, LatencyP50MS: 12_345, LatencyP95MS: 123_456, LatencyP99MS: 1_234_567, FirstByteP50MS: 54_321}
	s.show(store.UsageReport{Total: big, Groups: []store.UsageGroup{{Key: "claude-sonnet-4-5-20250929", UsageTotals: big}}})
	if min := a.Window().Content().MinSize(); min.Width > 1000 {
		t.Errorf("the Usage screen with big figures needs %v", min)
	}
	// The Overview's today figures carry the cost.
	a.refreshStats()
	drain()
	if c := a.overview.cost.Text; c == "–" || !strings.HasPrefix(c, "$") {
		t.Errorf("overview cost today = %q, want dollars", c)
	}
}

func TestHeadline(t *testing.T) {
	for _, tc := range []struct {
		t    store.UsageTotals
		want string
	}{
		{store.UsageTotals{}, "No calls this week"},
		{store.UsageTotals{Calls: 5, Saved: 1}, "Retries and fallbacks saved 1 call this week"},
		{store.UsageTotals{Calls: 5}, "All 5 calls answered this week"},
		{store.UsageTotals{Calls: 5, Failures: 2}, "2 of 5 calls failed this week"},
	} {
		if got := headline(tc.t, "this week"); got != tc.want {
			t.Errorf("headline(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

// BenchmarkUsageRedraw is one redraw of the Usage screen over 1,000,000
// calls in 30 days (issue 14: within 100 ms): the rollup query, the figures
// and table, and the three charts at 1000×130 pixels.
func BenchmarkUsageRedraw(b *testing.B) {
	now := time.Now()
	e := newTestEnv(b)
	// The 30 d range: today and the 29 days before it.
	e.b.History = StoreHistory{H: recordUsage(b, 1_000_000, now.Sub(startOfDay(now).Add(-29*24*time.Hour)), now)}
	a := newBenchApp(b, e)
	defer a.Close()
	s := a.usage
	s.rng = usageRanges[2]
	src := e.b.History.(Usage)
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		rep, err := s.query(src, s.rng, "model")
		if err != nil {
			b.Fatal(err)
		}
		s.by = "model"
		s.show(rep)
		s.drawTraffic(1000, 130)
		s.drawCost(1000, 130)
		s.drawLatency(1000, 130)
		worst = max(worst, time.Since(start))
		if rep.Total.Calls != 1_000_000 {
			b.Fatalf("%d calls in 30 days, want 1,000,000", rep.Total.Calls)
		}
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst_ms")
	if mean := b.Elapsed() / time.Duration(b.N); mean > 100*time.Millisecond {
		b.Errorf("a redraw over 1,000,000 calls took %s on average, want within 100 ms", mean)
	}
}
