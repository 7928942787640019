package store

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// fill records n calls one second apart ending at end: every third failed with
// anthropic, the rest ok with openai. It returns the ids, oldest first.
func fill(t testing.TB, h *History, n int, end time.Time) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		at := end.Add(-time.Duration(n-1-i) * time.Second)
		c := callAt(at, OutcomeOK, "openai")
		if i%3 == 0 {
			c = callAt(at, OutcomeError, "anthropic")
			c.Model = "claude-test"
			c.ClientUA = "claude-cli/2.0"
		}
		ids[i] = c.ID
		h.Record(c, bodiesOf(reqBody(i), `{"answer":"reply number `+string(rune('A'+i%26))+`"}`))
	}
	h.Flush()
	return ids
}

func TestListNewestFirstWithCursor(t *testing.T) {
	h := openTest(t, Options{})
	ids := fill(t, h, 250, time.Now())
	var got []string
	q := Query{Limit: 100}
	for pages := 0; pages < 10; pages++ {
		p, err := h.List(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Calls {
			got = append(got, c.ID)
		}
		if p.Next == "" {
			break
		}
		q.Before = p.Next
	}
	if len(got) != len(ids) {
		t.Fatalf("paged through %d calls, want %d", len(got), len(ids))
	}
	for i, id := range got {
		if want := ids[len(ids)-1-i]; id != want {
			t.Fatalf("call %d = %s, want %s (newest first)", i, id, want)
		}
	}
}

func TestListFilters(t *testing.T) {
	h := openTest(t, Options{})
	end := time.Now()
	fill(t, h, 30, end) // 10 failed (anthropic), 20 ok (openai)
	tests := []struct {
		name string
		q    Query
		want int
	}{
		{"all", Query{}, 30},
		{"failed only", Query{FailedOnly: true}, 10},
		{"outcome error", Query{Outcome: OutcomeError}, 10},
		{"outcome ok", Query{Outcome: OutcomeOK}, 20},
		{"outcome partial", Query{Outcome: OutcomePartial}, 0},
		{"status 502", Query{Status: 502}, 10},
		{"provider openai", Query{Provider: "openai"}, 20},
		{"provider unknown", Query{Provider: "nobody"}, 0},
		{"provider and failed", Query{Provider: "anthropic", FailedOnly: true}, 10},
		{"provider with no failures", Query{Provider: "openai", FailedOnly: true}, 0},
		{"provider and outcome", Query{Provider: "anthropic", Outcome: OutcomeError}, 10},
		{"model requested", Query{Model: "claude-test"}, 10},
		{"model upstream", Query{Model: "gpt-test-up"}, 30},
		{"client substring any case", Query{Client: "CLAUDE-cli"}, 10},
		{"since 10s", Query{Since: end.Add(-9500 * time.Millisecond)}, 10},
		{"until", Query{Until: end.Add(-19500 * time.Millisecond)}, 10},
		{"search request body", Query{Search: "QUESTION 7"}, 1},
		{"search response body", Query{Search: "reply number C"}, 2}, // i=2 and i=28
		{"search and failed", Query{Search: "question 3", FailedOnly: true}, 1},
		{"search nothing", Query{Search: "no such text"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := h.List(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Calls) != tt.want {
				t.Errorf("List(%+v) = %d calls, want %d", tt.q, len(p.Calls), tt.want)
			}
			for _, c := range p.Calls {
				if !tt.q.matches(&c, "") || (tt.q.FailedOnly && c.Outcome == OutcomeOK) {
					t.Errorf("List(%+v) returned non-matching call %+v", tt.q, c)
				}
				if c.Request != nil || c.Response != nil {
					t.Errorf("List returned bodies for %s", c.ID)
				}
			}
		})
	}
}

func TestFailedOnlyPagesWalkTheIndex(t *testing.T) {
	h := openTest(t, Options{})
	fill(t, h, 300, time.Now()) // 100 failed
	q := Query{FailedOnly: true, Limit: 40}
	total := 0
	for range 10 {
		p, err := h.List(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Calls {
			if c.Outcome == OutcomeOK {
				t.Fatalf("failed-only page holds ok call %s", c.ID)
			}
		}
		total += len(p.Calls)
		if p.Next == "" {
			break
		}
		q.Before = p.Next
	}
	if total != 100 {
		t.Errorf("failed-only pages held %d calls, want 100", total)
	}
}

func TestStats(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	h := openTest(t, Options{Now: func() time.Time { return now }, MaxAge: -1})
	// 6 calls in the last hour: 4 ok (openai, 100..400 ms), 2 errors (anthropic, 502 and 429).
	for i, d := range []int64{100, 200, 300, 400} {
		c := callAt(now.Add(-time.Duration(50-i)*time.Minute), OutcomeOK, "openai")
		c.DurationMS = d
		h.Record(c, nil)
	}
	e1 := callAt(now.Add(-20*time.Minute), OutcomeError, "anthropic")
	e1.DurationMS, e1.InputTokens, e1.OutputTokens = 1000, nil, nil
	e2 := callAt(now.Add(-10*time.Minute), OutcomeError, "anthropic")
	e2.Status, e2.DurationMS = 429, 2000
	h.Record(e1, nil)
	h.Record(e2, nil)
	// One call two hours ago, outside the range.
	h.Record(callAt(now.Add(-2*time.Hour), OutcomeError, "openai"), nil)
	h.Flush()

	st, err := h.Stats(StatsQuery{From: now.Add(-time.Hour), To: now})
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls != 6 || st.Failures != 2 {
		t.Errorf("calls/failures = %d/%d, want 6/2", st.Calls, st.Failures)
	}
	if st.ErrorsByStatus[502] != 1 || st.ErrorsByStatus[429] != 1 || st.ErrorsByProvider["anthropic"] != 2 {
		t.Errorf("errors by status %v, by provider %v", st.ErrorsByStatus, st.ErrorsByProvider)
	}
	if st.LatencyP50MS != 300 || st.LatencyP95MS != 2000 {
		t.Errorf("p50/p95 = %d/%d ms, want 300/2000", st.LatencyP50MS, st.LatencyP95MS)
	}
	// Tokens: 5 calls with 10 in / 5 out (e1 unknown).
	if st.InputTokens != 50 || st.OutputTokens != 25 {
		t.Errorf("tokens = %d/%d, want 50/25", st.InputTokens, st.OutputTokens)
	}
	var openaiIn int64
	for _, b := range st.Tokens {
		if b.Provider == "openai" {
			openaiIn += b.InputTokens
		}
	}
	if openaiIn != 40 {
		t.Errorf("openai input tokens per hour sum = %d, want 40 (%+v)", openaiIn, st.Tokens)
	}
	series := 0
	for _, p := range st.Series {
		series += p.Calls
	}
	if series != 6 || len(st.Series) != 13 {
		t.Errorf("series: %d points holding %d calls, want 13 points (5 min over 1 h) holding 6", len(st.Series), series)
	}
	today, err := h.Today()
	if err != nil {
		t.Fatal(err)
	}
	if today.Calls != 7 || today.Failures != 3 {
		t.Errorf("Today = %+v, want 7 calls, 3 failures", today)
	}
}

func TestSubscribeGetsCommittedCalls(t *testing.T) {
	h := openTest(t, Options{})
	feed, cancel := h.Subscribe(10)
	defer cancel()
	c := callAt(time.Now(), OutcomeOK, "openai")
	id := c.ID
	h.Record(c, nil)
	select {
	case got := <-feed:
		if got.ID != id {
			t.Errorf("feed gave %s, want %s", got.ID, id)
		}
		if _, err := h.Get(id); err != nil {
			t.Errorf("call %s from the feed is not readable: %v", id, err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no call on the feed within 2s")
	}
	// A subscriber that never reads must not hold the writer up.
	slow, cancelSlow := h.Subscribe(1)
	defer cancelSlow()
	for i := range 50 {
		h.Record(callAt(time.Now().Add(time.Duration(i)*time.Millisecond), OutcomeOK, "openai"), nil)
		h.Flush()
	}
	if len(slow) != 1 {
		t.Errorf("slow subscriber holds %d calls, want 1 (buffer)", len(slow))
	}
}

func TestListCursorWithinTimeRange(t *testing.T) {
	h := openTest(t, Options{})
	end := time.Now()
	ids := fill(t, h, 40, end) // one call per second
	// Call i is at end-(39-i)s: calls 9..29 lie in the range; page 7 at a time.
	q := Query{Since: end.Add(-30500 * time.Millisecond), Until: end.Add(-9500 * time.Millisecond), Limit: 7}
	var got []string
	for range 10 {
		p, err := h.List(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Calls {
			got = append(got, c.ID)
		}
		if p.Next == "" {
			break
		}
		q.Before = p.Next
	}
	if len(got) != 21 || got[0] != ids[29] || got[20] != ids[9] {
		t.Errorf("paged %d calls from %s to %s, want 21 from %s to %s", len(got), got[0], got[len(got)-1], ids[29], ids[9])
	}
}

// TestListScanBoundReturnsCursor checks that a filter matching little stops at
// the scan bound with a cursor instead of reading a huge file to the end, and
// that following the cursors finds every match.
func TestListScanBoundReturnsCursor(t *testing.T) {
	defer func(old int) { maxScan = old }(maxScan)
	maxScan = 10
	h := openTest(t, Options{})
	fill(t, h, 30, time.Now())
	p, err := h.List(Query{Model: "no-such-model"})
	if err != nil || len(p.Calls) != 0 || p.Next == "" {
		t.Fatalf("List(no match) = %+v, %v; want no calls and a cursor", p, err)
	}
	q := Query{Model: "claude-test"} // 10 of the 30, spread out
	found := 0
	for pages := 0; pages < 20; pages++ {
		p, err := h.List(q)
		if err != nil {
			t.Fatal(err)
		}
		found += len(p.Calls)
		if p.Next == "" {
			break
		}
		q.Before = p.Next
	}
	if found != 10 {
		t.Errorf("followed cursors found %d claude-test calls, want 10", found)
	}
}

// The app recomputes a day of stats every 30 s, so the scan must not turn every
// summary into garbage: decoding whole calls cost ~21 allocations and ~1 KB
// per summary.
func TestStatsAllocatesLittlePerCall(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	h := openTest(t, Options{Now: func() time.Time { return now }, MaxAge: -1})
	const n = 2000
	for i := range n {
		c := callAt(now.Add(-time.Duration(i+1)*time.Second), OutcomeOK, []string{"openai", "anthropic"}[i%2])
		if i%3 == 0 {
			c.InputTokens, c.OutputTokens = nil, nil
		}
		h.Record(c, nil)
	}
	h.Flush()
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if st, err := h.Stats(StatsQuery{From: now.Add(-time.Hour), To: now}); err != nil || st.Calls != n {
				b.Fatalf("stats: %d calls, %v", st.Calls, err)
			}
		}
	})
	allocs, bytes := float64(res.AllocsPerOp())/n, float64(res.AllocedBytesPerOp())/n
	t.Logf("per call scanned: %.1f allocations, %.0f bytes", allocs, bytes)
	if allocs > 1 || bytes > 200 {
		t.Errorf("Stats allocates %.1f times and %.0f bytes per call scanned, want at most 1 and 200", allocs, bytes)
	}
}

// Issue 16 §4: "retried" is a call that failed at least once and was then
// answered; the error class filter looks at every attempt. Matches (the live
// view's filter) agrees with List.
func TestListRetriedAndErrorClass(t *testing.T) {
	h := openTest(t, Options{})
	now := time.Now()
	plain := callAt(now.Add(-3*time.Second), OutcomeOK, "openai")
	retried := callAt(now.Add(-2*time.Second), OutcomeOK, "openai")
	retried.Attempts = append([]Attempt{{Provider: "openai", Status: 502, ErrorClass: "upstream_5xx"}}, retried.Attempts...)
	limited := callAt(now.Add(-time.Second), OutcomeError, "openai")
	limited.Attempts = []Attempt{{Provider: "openai", Status: 429, ErrorClass: "rate_limited"}, {Provider: "openai", Status: 429, ErrorClass: "rate_limited"}}
	for _, c := range []*Call{plain, retried, limited} {
		h.Record(c, bodiesOf("{}", "{}"))
	}
	h.Flush()
	for _, tt := range []struct {
		name string
		q    Query
		want []string
	}{
		{"retried", Query{Retried: true}, []string{retried.ID}},
		{"class upstream_5xx", Query{ErrorClass: "upstream_5xx"}, []string{retried.ID}},
		{"class rate_limited", Query{ErrorClass: "rate_limited"}, []string{limited.ID}},
		{"retried and failed", Query{Retried: true, FailedOnly: true}, nil},
		{"class and since", Query{ErrorClass: "upstream_5xx", Since: now.Add(-1500 * time.Millisecond)}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := h.List(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range p.Calls {
				got = append(got, c.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("List(%+v) got %v, want %v", tt.q, got, tt.want)
			}
			for _, c := range []*Call{plain, retried, limited} {
				if m, listed := tt.q.Matches(c), slices.Contains(tt.want, c.ID); m != listed {
					t.Errorf("Matches(%s) = %v, but List listed it: %v", c.ID, m, listed)
				}
			}
		})
	}
}
