package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// runHistory is `gatehouse history [list flags] | show ID | export | prune`.
func runHistory(args []string, stdout, stderr io.Writer) error {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "list":
		return historyList(args, stdout, stderr, false)
	case "export":
		return historyList(args, stdout, stderr, true)
	case "show":
		return historyShow(args, stdout, stderr)
	case "prune":
		return historyPrune(args, stdout, stderr)
	}
	return UsageError{Msg: fmt.Sprintf("unknown subcommand %q (list, show, export, prune)", sub)}
}

// historyFilters are the flags shared by list and export.
type historyFilters struct {
	failed                           bool
	outcome, provider, model, client string
	search, since, until             string
	status                           int
}

func (f *historyFilters) add(fs *flag.FlagSet) {
	fs.BoolVar(&f.failed, "failed", false, "only calls that did not end ok")
	fs.StringVar(&f.outcome, "outcome", "", "ok, error, partial or client_cancelled")
	fs.StringVar(&f.provider, "provider", "", "only this provider")
	fs.StringVar(&f.model, "model", "", "only this model (requested or upstream)")
	fs.StringVar(&f.client, "client", "", "only calls of this client token (local: without one), or whose User-Agent contains this")
	fs.IntVar(&f.status, "status", 0, "only this status code")
	fs.StringVar(&f.since, "since", "", "only calls newer than this: a duration (1h, 30m, 7d) or an RFC 3339 time")
	fs.StringVar(&f.until, "until", "", "only calls older than this: a duration or an RFC 3339 time")
	fs.StringVar(&f.search, "search", "", "only calls whose request or response body contains this text")
}

func (f *historyFilters) query(now time.Time) (store.Query, error) {
	q := store.Query{
		FailedOnly: f.failed, Outcome: f.outcome, Provider: f.provider, Model: f.model,
		Client: f.client, Status: f.status, Search: f.search,
	}
	switch f.outcome {
	case "", store.OutcomeOK, store.OutcomeError, store.OutcomePartial, store.OutcomeClientCancelled:
	default:
		return q, UsageError{Msg: fmt.Sprintf("--outcome %q: use ok, error, partial or client_cancelled", f.outcome)}
	}
	var err error
	if q.Since, err = parseWhen(f.since, now); err != nil {
		return q, UsageError{Msg: "--since: " + err.Error()}
	}
	if q.Until, err = parseWhen(f.until, now); err != nil {
		return q, UsageError{Msg: "--until: " + err.Error()}
	}
	return q, nil
}

// parseWhen reads "1h", "90m", "7d" (that long before now) or an RFC 3339 time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := parseDays(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (1h, 30m, 7d) nor an RFC 3339 time", s)
	}
	return now.Add(-d), nil
}

// historyList is `history` (a table or, with --json, JSON Lines of summaries) and
// `history export` (JSON Lines of full calls, every page).
func historyList(args []string, stdout, stderr io.Writer, export bool) error {
	name := "history"
	if export {
		name = "history export"
	}
	fs := NewFlagSet(name, stderr)
	var cf Flags
	cf.Add(fs, false)
	var f historyFilters
	f.add(fs)
	limit := fs.Int("limit", 50, "how many calls to list (export: all)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return UsageError{Msg: fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	q, err := f.query(time.Now())
	if err != nil {
		return err
	}
	src, err := openHistorySource(cf, false)
	if err != nil {
		return err
	}
	defer src.Close()
	if export {
		return exportCalls(src, q, stdout)
	}
	// A page may come back short when a rare filter hit the store's scan bound:
	// follow the cursor until the limit is met or the history ends.
	var page store.Page
	for q.Limit = *limit; ; q.Limit = *limit - len(page.Calls) {
		p, err := src.List(q)
		if err != nil {
			return err
		}
		page.Calls, page.Next = append(page.Calls, p.Calls...), p.Next
		if p.Next == "" || len(page.Calls) >= *limit {
			break
		}
		q.Before = p.Next
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, c := range page.Calls {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		return nil
	}
	printTable(stdout, page.Calls)
	if page.Next != "" {
		fmt.Fprintf(stderr, "(more calls: raise --limit or narrow the filters)\n")
	}
	warnDrops(src, stderr)
	return nil
}

// warnDrops says on stderr when the running instance could not record every
// call, or is not recording now (a full disk: issue 15 §4).
func warnDrops(src historySource, stderr io.Writer) {
	ds, ok := src.(dropSource)
	if !ok {
		return
	}
	if r, ok := src.(remoteHistory); ok {
		if h, err := r.Health(); err == nil {
			if h.Degraded != "" {
				fmt.Fprintf(stderr, "warning: history degraded: %s\n", h.Degraded)
			}
			if h.Notice != "" {
				fmt.Fprintf(stderr, "note: %s\n", h.Notice)
			}
		}
	}
	if d, err := ds.Drops(); err == nil && (d.Calls > 0 || d.Bodies > 0) {
		fmt.Fprintf(stderr, "note: since it started, Gatehouse was too busy to record %d calls, and the bodies of %d more\n", d.Calls, d.Bodies)
	}
}

// exportCalls writes every matching call in full, newest first, as JSON Lines.
func exportCalls(src historySource, q store.Query, w io.Writer) error {
	q.Limit, q.Bodies = 500, true
	enc := json.NewEncoder(w)
	for {
		page, err := src.List(q)
		if err != nil {
			return err
		}
		for _, c := range page.Calls {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		q.Before = page.Next
	}
}

// printTable writes calls as an aligned table.
func printTable(w io.Writer, calls []store.Call) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tID\tOUTCOME\tSTATUS\tPROVIDER\tMODEL\tDURATION\tTOKENS\tCOST\tERROR")
	for _, c := range calls {
		model := c.Model
		if c.UpstreamModel != "" && c.UpstreamModel != c.Model {
			model += " → " + c.UpstreamModel
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
			c.Time.Local().Format("2006-01-02 15:04:05"), c.ID, c.Outcome, c.Status, dash(c.Provider), model,
			(time.Duration(c.DurationMS) * time.Millisecond).String(), tokens(c.InputTokens, c.OutputTokens), CostText(c.CostUSD), oneLine(c.Error, 60))
	}
	tw.Flush()
}

func tokens(in, out *int64) string {
	f := func(p *int64) string {
		if p == nil {
			return "?"
		}
		return strconv.FormatInt(*p, 10)
	}
	return f(in) + "/" + f(out)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine flattens s and cuts it at n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// historyShow is `history show ID [--json]`.
func historyShow(args []string, stdout, stderr io.Writer) error {
	fs := NewFlagSet("history show", stderr)
	var cf Flags
	cf.Add(fs, false)
	asJSON := fs.Bool("json", false, "print the stored record as JSON")
	pos, err := Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError{Msg: "usage: gatehouse history show ID [--json]"}
	}
	src, err := openHistorySource(cf, false)
	if err != nil {
		return err
	}
	defer src.Close()
	c, err := src.Get(pos[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no call with id %s in this data folder", pos[0])
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, c)
	}
	printCall(stdout, &c)
	return nil
}

// printCall writes one call for people to read.
func printCall(w io.Writer, c *store.Call) {
	fmt.Fprintf(w, "Call      %s\n", c.ID)
	fmt.Fprintf(w, "Time      %s\n", c.Time.Local().Format(time.RFC3339Nano))
	fmt.Fprintf(w, "Request   %s %s (%s, client %s)\n", c.Method, c.Path, c.InboundFormat, dash(c.ClientUA))
	fmt.Fprintf(w, "Client    %s\n", c.ClientName())
	fmt.Fprintf(w, "Model     %s → %s %s (stream: %v)\n", c.Model, dash(c.Provider), c.UpstreamModel, c.Stream)
	fmt.Fprintf(w, "Outcome   %s, status %d, %d ms (first byte %d ms), tokens %s, cost %s\n", c.Outcome, c.Status, c.DurationMS, c.TTFBMS, tokens(c.InputTokens, c.OutputTokens), CostText(c.CostUSD))
	if c.Error != "" {
		fmt.Fprintf(w, "Error     %s\n", c.Error)
	}
	if c.BodiesDropped {
		fmt.Fprintln(w, "Bodies    not stored (history was overloaded)")
	}
	fmt.Fprintf(w, "\nAttempts (%d, %d sent upstream)\n", len(c.Attempts), c.Tries())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tPROVIDER\tMODEL\tSTATUS\tCLASS\tDELAY\tDURATION\tERROR")
	for i, a := range c.Attempts {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%d\t%s\t%dms\t%dms\t%s\n", i+1, a.Provider, a.Model, a.Status, dash(a.ErrorClass), a.DelayMS, a.DurationMS, oneLine(a.Error, 80))
	}
	tw.Flush()
	for _, side := range []struct {
		name string
		m    *store.Message
	}{{"Request", c.Request}, {"Response", c.Response}} {
		if side.m == nil {
			continue
		}
		fmt.Fprintf(w, "\n%s headers\n", side.name)
		for _, h := range side.m.Headers {
			fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Value)
		}
		note := ""
		if side.m.Truncated {
			note = " (truncated)"
		}
		fmt.Fprintf(w, "%s body%s\n%s\n", side.name, note, side.m.Body)
	}
	if c.Events != "" {
		note := ""
		if c.EventsTruncated {
			note = " (truncated)"
		}
		fmt.Fprintf(w, "\nStream events%s\n%s\n", note, c.Events)
	}
	if len(c.Attempts) > 0 {
		fmt.Fprintln(w, "\nGatehouse ⇄ upstream")
		printWires(w, c)
	}
}

// historyPrune is `history prune`: retention now, then compaction.
func historyPrune(args []string, stdout, stderr io.Writer) error {
	fs := NewFlagSet("history prune", stderr)
	var cf Flags
	cf.Add(fs, false)
	pos, err := Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return UsageError{Msg: fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	src, err := openHistorySource(cf, true)
	if err != nil {
		return err
	}
	defer src.Close()
	res, err := src.Prune()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pruned %d calls; history file %s → %s\n", res.Calls, mib(res.SizeBefore), mib(res.SizeAfter))
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
