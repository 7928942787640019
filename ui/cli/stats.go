package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// usageSource is a history source that reads the usage rollups.
type usageSource interface {
	Usage(q store.UsageQuery) (store.UsageReport, error)
}

func (r remoteHistory) Usage(q store.UsageQuery) (store.UsageReport, error) {
	var u store.UsageReport
	return u, r.get("history/usage?"+usageQueryValues(q).Encode(), &u)
}

func (l localHistory) Usage(q store.UsageQuery) (store.UsageReport, error) { return l.h.Usage(q) }

// runStats is `gatehouse stats [--since 7d | --from T --to T] [--by DIM] [--json]`.
func runStats(args []string, stdout, stderr io.Writer) error {
	fs := NewFlagSet("stats", stderr)
	var cf Flags
	cf.Add(fs, false)
	since := fs.String("since", "7d", "the range ending now: a duration (24h, 7d, 30d)")
	from := fs.String("from", "", "the range's start instead: an RFC 3339 time or a duration ago")
	to := fs.String("to", "", "the range's end (default now): an RFC 3339 time or a duration ago")
	by := fs.String("by", "", "group by provider, model, client, day, hour or status")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return UsageError{Msg: fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	q, err := statsQuery(time.Now(), *since, *from, *to, *by)
	if err != nil {
		return err
	}
	src, err := openHistorySource(cf, false)
	if err != nil {
		return err
	}
	defer src.Close()
	us, ok := src.(usageSource)
	if !ok {
		return fmt.Errorf("this history source has no usage rollups")
	}
	rep, err := us.Usage(q)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	printUsage(stdout, &rep)
	return nil
}

// printJSON writes v as indented JSON (the --json of show and stats).
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// statsQuery reads the range and grouping flags.
func statsQuery(now time.Time, since, from, to, by string) (store.UsageQuery, error) {
	q := store.UsageQuery{By: by, To: now}
	if by != "" && !slices.Contains(store.UsageDimensions, by) {
		return q, UsageError{Msg: fmt.Sprintf("--by %q: use one of %s", by, strings.Join(store.UsageDimensions, ", "))}
	}
	var err error
	if to != "" {
		if q.To, err = parseWhen(to, now); err != nil {
			return q, UsageError{Msg: "--to: " + err.Error()}
		}
	}
	if from == "" {
		from = since
	}
	if q.From, err = parseWhen(from, q.To); err != nil {
		return q, UsageError{Msg: "--from/--since: " + err.Error()}
	}
	if !q.From.Before(q.To) {
		return q, UsageError{Msg: fmt.Sprintf("the range %s → %s is empty", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))}
	}
	return q, nil
}

// printUsage writes a report for people to read.
func printUsage(w io.Writer, rep *store.UsageReport) {
	t := &rep.Total
	fmt.Fprintf(w, "Usage %s → %s (whole hours)\n", rep.From.Local().Format("2006-01-02 15:04"), rep.To.Local().Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "calls %d, failures %d (%s), saved by retries and fallbacks %d\n", t.Calls, t.Failures, percent(t.Failures, t.Calls), t.Saved)
	fmt.Fprintf(w, "tokens in %d, out %d; cost %s\n", t.InputTokens, t.OutputTokens, costTotal(t))
	fmt.Fprintf(w, "latency p50 %s, p95 %s, p99 %s; first byte p50 %s, p95 %s\n",
		ms(t.LatencyP50MS), ms(t.LatencyP95MS), ms(t.LatencyP99MS), ms(t.FirstByteP50MS), ms(t.FirstByteP95MS))
	if rep.By == "" {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tCALLS\tFAILED\tSAVED\tIN\tOUT\tCOST\tP50\tP95\tP99\tTTFB P50\tTTFB P95\n", strings.ToUpper(rep.By))
	for _, g := range rep.Groups {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Key, g.Calls, g.Failures, g.Saved, g.InputTokens, g.OutputTokens,
			costTotal(&g.UsageTotals), ms(g.LatencyP50MS), ms(g.LatencyP95MS), ms(g.LatencyP99MS), ms(g.FirstByteP50MS), ms(g.FirstByteP95MS))
	}
	tw.Flush()
}

// costTotal is the cost of a set of calls: "–" when only unpriced ones cost anything, and
// "$1.23 + 4 unpriced" when some had none.
func costTotal(t *store.UsageTotals) string {
	if t.CostUnknownCalls > 0 && t.CostUSD == 0 {
		return "–"
	}
	s := FormatUSD(t.CostUSD)
	if t.CostUnknownCalls > 0 {
		s += fmt.Sprintf(" + %d unpriced", t.CostUnknownCalls)
	}
	return s
}

// FormatUSD prints dollars with the precision small sums need: "$12.34",
// "$0.123", "$0.0042", "<$0.0001".
func FormatUSD(usd float64) string {
	switch {
	case usd == 0:
		return "$0.00"
	case usd >= 1:
		return fmt.Sprintf("$%.2f", usd)
	case usd >= 0.01:
		return fmt.Sprintf("$%.3f", usd)
	case usd >= 0.0001:
		return fmt.Sprintf("$%.4f", usd)
	}
	return "<$0.0001"
}

// CostText is a call's cost: "–" when unknown, never "$0" for it.
func CostText(usd *float64) string {
	if usd == nil {
		return "–"
	}
	return FormatUSD(*usd)
}

func percent(n, of int64) string {
	if of == 0 {
		return "0 %"
	}
	return fmt.Sprintf("%.1f %%", float64(n)*100/float64(of))
}

func ms(n int64) string {
	if n >= 10_000 {
		return fmt.Sprintf("%.0f s", float64(n)/1000)
	}
	if n >= 1000 {
		return fmt.Sprintf("%.1f s", float64(n)/1000)
	}
	return fmt.Sprintf("%d ms", n)
}

// usageQueryValues encodes a usage query for the admin API (parseUsageQuery decodes it).
func usageQueryValues(q store.UsageQuery) url.Values {
	v := url.Values{}
	v.Set("from", q.From.Format(time.RFC3339Nano))
	v.Set("to", q.To.Format(time.RFC3339Nano))
	if q.By != "" {
		v.Set("by", q.By)
	}
	if q.Step > 0 {
		v.Set("step", q.Step.String())
	}
	return v
}

func parseUsageQuery(v url.Values) (store.UsageQuery, error) {
	q := store.UsageQuery{By: v.Get("by")}
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := v.Get(f.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return q, fmt.Errorf("%w: %s %q is not an RFC 3339 time", errBadQuery, f.name, s)
			}
			*f.t = t
		}
	}
	if s := v.Get("step"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || (d != time.Hour && d != 24*time.Hour) {
			return q, fmt.Errorf("%w: step %q is not 1h or 24h", errBadQuery, s)
		}
		q.Step = d
	}
	if q.By != "" && !slices.Contains(store.UsageDimensions, q.By) {
		return q, fmt.Errorf("%w: by %q is not one of %s", errBadQuery, q.By, strings.Join(store.UsageDimensions, ", "))
	}
	return q, nil
}
