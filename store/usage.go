package store

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// UsageDimensions are the values of UsageQuery.By.
var UsageDimensions = []string{"provider", "model", "client", "day", "hour", "status"}

// UsageQuery selects the hours and grouping of History.Usage.
type UsageQuery struct {
	// From and To bound the range (To exclusive). Rollups are hourly: every hour
	// that overlaps the range counts whole. Zero To means now, zero From 24 h
	// before To. Days (By "day", Step 24 h) are local days of From's location.
	From, To time.Time
	// By groups the report: "" (no groups) or one of UsageDimensions.
	By string
	// Step is the width of the series: 0 (no series), time.Hour or 24 h.
	Step time.Duration
}

// UsageTotals sum up a set of calls.
type UsageTotals struct {
	Calls    int64 `json:"calls"`
	Failures int64 `json:"failures"` // outcome not ok
	// Saved calls failed at least once (an attempt errored or a circuit was
	// open) and were still answered, by a retry or a fallback.
	Saved            int64   `json:"saved"`
	InputTokens      int64   `json:"input_tokens"`
	OutputTokens     int64   `json:"output_tokens"`
	CacheReadTokens  int64   `json:"cache_read_tokens"`
	CacheWriteTokens int64   `json:"cache_write_tokens"`
	ReasoningTokens  int64   `json:"reasoning_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	// CostUnknownCalls are the answered calls without a price (unknown model
	// or usage), which CostUSD leaves out. Failed calls without usage are in
	// neither: nothing was billed.
	CostUnknownCalls int64 `json:"cost_unknown_calls"`
	// Latency and first-byte percentiles in milliseconds, from histograms with
	// buckets about 9 % wide (each figure is its bucket's upper bound).
	LatencyP50MS   int64 `json:"latency_p50_ms"`
	LatencyP95MS   int64 `json:"latency_p95_ms"`
	LatencyP99MS   int64 `json:"latency_p99_ms"`
	FirstByteP50MS int64 `json:"first_byte_p50_ms"`
	FirstByteP95MS int64 `json:"first_byte_p95_ms"`
}

// UsageGroup is the usage of one group (a provider, a model, a day, ...).
type UsageGroup struct {
	Key string `json:"key"`
	UsageTotals
}

// UsagePoint is the usage of one step of the series.
type UsagePoint struct {
	Start time.Time `json:"start"`
	UsageTotals
}

// UsageReport is what History.Usage returns.
type UsageReport struct {
	From  time.Time   `json:"from"`
	To    time.Time   `json:"to"`
	By    string      `json:"by,omitempty"`
	Total UsageTotals `json:"total"`
	// Groups are sorted by calls, most first (by time for day and hour).
	Groups []UsageGroup `json:"groups,omitempty"`
	// Series covers the range step by step, oldest first, gaps included.
	Series []UsagePoint `json:"series,omitempty"`
}

// Usage summarises the calls of a range from the hourly rollups: it reads a
// few values per hour, never the calls, so a month of a million calls takes
// milliseconds (BenchmarkUsageMillion). Rollups outlive pruned calls: the
// report counts every call recorded in the range, including those retention
// or the size budget has since deleted.
func (h *History) Usage(q UsageQuery) (UsageReport, error) {
	if q.To.IsZero() {
		q.To = h.now()
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-24 * time.Hour)
	}
	if q.By != "" && !slices.Contains(UsageDimensions, q.By) {
		return UsageReport{}, fmt.Errorf("usage: cannot group by %q (use one of %v)", q.By, UsageDimensions)
	}
	loc := q.From.Location()
	rep := UsageReport{From: q.From, To: q.To, By: q.By}
	var total rollup
	groups := map[string]*rollup{}
	var series []rollup
	var seriesStart time.Time
	if q.Step > 0 {
		seriesStart = stepStart(q.From.In(loc), q.Step)
		n := int(q.To.Sub(seriesStart)/q.Step) + 1
		if n > 100_000 {
			return UsageReport{}, fmt.Errorf("usage: %d steps of %s are too many", n, q.Step)
		}
		series = make([]rollup, n)
	}
	from := binary.BigEndian.AppendUint64(nil, uint64(q.From.Truncate(time.Hour).Unix()))
	to := uint64(q.To.Unix())
	err := h.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRollups).Cursor()
		dsts := make([]*rollup, 0, 3)
		for k, v := c.Seek(from); k != nil; k, v = c.Next() {
			if len(k) < 8 || binary.BigEndian.Uint64(k) >= to {
				break
			}
			hour, provider, model, client, status, ok := rollupDims(k)
			if !ok {
				return fmt.Errorf("usage: %w: key %x", errBadRollup, k)
			}
			dsts = append(dsts[:0], &total)
			if q.By != "" {
				name := groupName(q.By, hour, provider, model, client, status, loc)
				g := groups[name]
				if g == nil {
					g = &rollup{}
					groups[name] = g
				}
				dsts = append(dsts, g)
			}
			if series != nil {
				if i := int(stepStart(hour.In(loc), q.Step).Sub(seriesStart) / q.Step); i >= 0 && i < len(series) {
					dsts = append(dsts, &series[i])
				}
			}
			if err := decodeInto(v, dsts...); err != nil {
				return fmt.Errorf("usage: key %x: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return UsageReport{}, err
	}
	rep.Total = total.totals()
	for name, g := range groups {
		rep.Groups = append(rep.Groups, UsageGroup{Key: name, UsageTotals: g.totals()})
	}
	slices.SortFunc(rep.Groups, func(a, b UsageGroup) int {
		if q.By != "day" && q.By != "hour" && a.Calls != b.Calls {
			return int(b.Calls - a.Calls)
		}
		return compareStrings(a.Key, b.Key)
	})
	for i := range series {
		rep.Series = append(rep.Series, UsagePoint{Start: seriesStart.Add(time.Duration(i) * q.Step), UsageTotals: series[i].totals()})
	}
	return rep, nil
}

func (r *rollup) totals() UsageTotals {
	return UsageTotals{
		Calls: int64(r.calls), Failures: int64(r.failures), Saved: int64(r.saved),
		InputTokens: int64(r.in), OutputTokens: int64(r.out), CacheReadTokens: int64(r.cacheRead),
		CacheWriteTokens: int64(r.cacheWrite), ReasoningTokens: int64(r.reasoning),
		CostUSD: r.cost, CostUnknownCalls: int64(r.costUnknown),
		LatencyP50MS: r.latency.percentile(50), LatencyP95MS: r.latency.percentile(95), LatencyP99MS: r.latency.percentile(99),
		FirstByteP50MS: r.firstByte.percentile(50), FirstByteP95MS: r.firstByte.percentile(95),
	}
}
