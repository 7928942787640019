package store

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"

	bolt "go.etcd.io/bbolt"
)

// StatsQuery selects the range and resolutions of Stats.
type StatsQuery struct {
	From, To time.Time // To exclusive; zero To means now, zero From means 24 h before To
	// TokenStep is the width of the token buckets: time.Hour (default) or 24*time.Hour.
	TokenStep time.Duration
	// SeriesStep is the width of the calls/failures series. Default 5 minutes.
	SeriesStep time.Duration
}

// Stats summarise the calls in a time range.
type Stats struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Calls    int       `json:"calls"`
	Failures int       `json:"failures"` // calls whose outcome is not ok
	// ErrorsByStatus counts failed calls by the status the client got.
	ErrorsByStatus map[int]int `json:"errors_by_status"`
	// ErrorsByProvider counts failed calls by the provider of their last attempt.
	ErrorsByProvider map[string]int `json:"errors_by_provider"`
	CallsByProvider  map[string]int `json:"calls_by_provider"`
	LatencyP50MS     int64          `json:"latency_p50_ms"`
	LatencyP95MS     int64          `json:"latency_p95_ms"`
	InputTokens      int64          `json:"input_tokens"`
	OutputTokens     int64          `json:"output_tokens"`
	// Tokens are token counts per TokenStep, provider and upstream model, oldest first.
	Tokens []TokenBucket `json:"tokens"`
	// Series are calls, failures and tokens per SeriesStep, oldest first, gaps included.
	Series []SeriesPoint `json:"series"`
}

// TokenBucket is the token use of one provider and model in one time step.
type TokenBucket struct {
	Start        time.Time `json:"start"`
	Provider     string    `json:"provider"`
	Model        string    `json:"model"`
	Calls        int       `json:"calls"`
	InputTokens  int64     `json:"input_tokens"`
	OutputTokens int64     `json:"output_tokens"`
}

// SeriesPoint is the traffic of one time step.
type SeriesPoint struct {
	Start        time.Time `json:"start"`
	Calls        int       `json:"calls"`
	Failures     int       `json:"failures"`
	InputTokens  int64     `json:"input_tokens"`
	OutputTokens int64     `json:"output_tokens"`
}

// Stats computes statistics over a time range by reading the range's summaries.
func (h *History) Stats(q StatsQuery) (Stats, error) {
	if q.To.IsZero() {
		q.To = h.now()
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-24 * time.Hour)
	}
	if q.TokenStep <= 0 {
		q.TokenStep = time.Hour
	}
	if q.SeriesStep <= 0 {
		q.SeriesStep = 5 * time.Minute
	}
	loc := q.From.Location()
	st := Stats{
		From: q.From, To: q.To,
		ErrorsByStatus: map[int]int{}, ErrorsByProvider: map[string]int{}, CallsByProvider: map[string]int{},
		Tokens: []TokenBucket{},
	}
	seriesStart := q.From.Truncate(q.SeriesStep)
	n := int(q.To.Sub(seriesStart)/q.SeriesStep) + 1
	if n > 0 && n <= 100_000 {
		st.Series = make([]SeriesPoint, n)
		for i := range st.Series {
			st.Series[i].Start = seriesStart.Add(time.Duration(i) * q.SeriesStep)
		}
	}
	type tokenKey struct {
		start           time.Time
		provider, model string
	}
	tokens := map[tokenKey]*TokenBucket{}
	var latencies []int64
	from, to := timeKey(q.From), timeKey(q.To)
	err := h.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCalls).Cursor()
		var row statsRow
		names := interner{}
		for k, v := c.Seek(from); k != nil && bytes.Compare(k, to) < 0; k, v = c.Next() {
			if err := row.decode(v); err != nil {
				return err
			}
			provider, model := names.get(row.provider), names.get(row.model)
			st.Calls++
			st.CallsByProvider[provider]++
			latencies = append(latencies, row.durationMS)
			failed := !row.ok
			if failed {
				st.Failures++
				st.ErrorsByStatus[row.status]++
				st.ErrorsByProvider[provider]++
			}
			t := keyTime(k)
			in, out := row.in, row.out
			if i := int(t.Sub(seriesStart) / q.SeriesStep); i >= 0 && i < len(st.Series) {
				p := &st.Series[i]
				p.Calls++
				if failed {
					p.Failures++
				}
				p.InputTokens += in
				p.OutputTokens += out
			}
			st.InputTokens += in
			st.OutputTokens += out
			tk := tokenKey{stepStart(t.In(loc), q.TokenStep), provider, model}
			b := tokens[tk]
			if b == nil {
				b = &TokenBucket{Start: tk.start, Provider: tk.provider, Model: tk.model}
				tokens[tk] = b
			}
			b.Calls++
			b.InputTokens += in
			b.OutputTokens += out
		}
		// The app repeats this scan every 30 s: give its pages back each time.
		releasePages(tx)
		return nil
	})
	if err != nil {
		return Stats{}, err
	}
	if len(latencies) > 0 {
		slices.Sort(latencies)
		st.LatencyP50MS = percentile(latencies, 50)
		st.LatencyP95MS = percentile(latencies, 95)
	}
	for _, b := range tokens {
		st.Tokens = append(st.Tokens, *b)
	}
	slices.SortFunc(st.Tokens, func(a, b TokenBucket) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if a.Provider != b.Provider {
			return compareStrings(a.Provider, b.Provider)
		}
		return compareStrings(a.Model, b.Model)
	})
	return st, nil
}

// statsRow is the part of a stored summary that Stats reads. The app
// recomputes a day of stats every 30 s: decoding whole calls made ~1 KB of
// garbage per summary (megabytes per refresh); walking the summary's top-level
// fields in place makes none.
type statsRow struct {
	provider, model string // point into the summary: valid only until the next row
	ok              bool
	status          int
	durationMS      int64
	in, out         int64
}

func (r *statsRow) decode(v []byte) error {
	if !gjson.ValidBytes(v) {
		return fmt.Errorf("decode call: invalid JSON summary %.40q", v)
	}
	*r = statsRow{}
	gjson.Parse(unsafe.String(unsafe.SliceData(v), len(v))).ForEach(func(key, val gjson.Result) bool {
		switch key.Str {
		case "provider":
			r.provider = val.Str
		case "upstream_model":
			r.model = val.Str
		case "outcome":
			r.ok = val.Str == OutcomeOK
		case "status":
			r.status = int(val.Int())
		case "duration_ms":
			r.durationMS = val.Int()
		case "input_tokens":
			r.in = val.Int() // 0 for null: unknown counts add nothing
		case "output_tokens":
			r.out = val.Int()
		}
		return true
	})
	return nil
}

// interner turns the few distinct provider and model names into strings of
// their own, once.
type interner map[string]string

func (in interner) get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	v := strings.Clone(s)
	in[v] = v
	return v
}

// Today is the tray's summary: the calls since local midnight.
type Today struct {
	Calls        int   `json:"calls"`
	Failures     int   `json:"failures"`
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
}

// Today counts today's calls, failures and tokens (local time).
func (h *History) Today() (Today, error) {
	now := h.now()
	y, m, d := now.Date()
	st, err := h.Stats(StatsQuery{From: time.Date(y, m, d, 0, 0, 0, 0, now.Location()), To: now.Add(time.Millisecond), SeriesStep: 24 * time.Hour})
	if err != nil {
		return Today{}, err
	}
	return Today{Calls: st.Calls, Failures: st.Failures, InputTokens: st.InputTokens, OutputTokens: st.OutputTokens}, nil
}

// stepStart is the start of t's step: whole hours, or local days for 24 h.
func stepStart(t time.Time, step time.Duration) time.Time {
	if step == 24*time.Hour {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	}
	return t.Truncate(step)
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []int64, p int) int64 {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
