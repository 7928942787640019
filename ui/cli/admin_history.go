package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/valyala/fasthttp"
)

// historyAPI serves /_gatehouse/api/history/*:
//
//	GET  history?failed=1&outcome=&provider=&model=&status=&client=&since=&until=&search=&limit=&before=&bodies=1
//	                     a page of calls, newest first: {"calls":[...],"next":"ID"}
//	GET  history/calls/ID  one call in full
//	GET  history/stats?from=&to=&token_step=1h|24h&series_step=5m
//	GET  history/today     the tray's counts for today
//	GET  history/usage?from=&to=&by=&step=1h|24h   usage from the hourly rollups (stats.go)
//	GET  history/drops     calls and bodies dropped under overload
//	GET  history/health    {"degraded","notice"}: a full disk, a damaged file moved aside
//	POST history/prune     retention now, then compaction
func (a *Admin) historyAPI(ctx *fasthttp.RequestCtx, path string) {
	h := a.History
	if h == nil {
		adminError(ctx, fasthttp.StatusServiceUnavailable, "history is not open")
		return
	}
	args := url.Values{}
	for k, v := range ctx.QueryArgs().All() {
		args.Add(string(k), string(v))
	}
	var out any
	var err error
	switch {
	case path == "" && ctx.IsGet():
		var q store.Query
		if q, err = parseHistoryQuery(args); err == nil {
			out, err = h.List(q)
		}
	case strings.HasPrefix(path, "calls/") && ctx.IsGet():
		out, err = h.Get(strings.TrimPrefix(path, "calls/"))
	case path == "stats" && ctx.IsGet():
		var q store.StatsQuery
		if q, err = parseStatsQuery(args); err == nil {
			out, err = h.Stats(q)
		}
	case path == "usage" && ctx.IsGet():
		var q store.UsageQuery
		if q, err = parseUsageQuery(args); err == nil {
			out, err = h.Usage(q)
		}
	case path == "today" && ctx.IsGet():
		out, err = h.Today()
	case path == "drops" && ctx.IsGet():
		out = h.Drops()
	case path == "health" && ctx.IsGet():
		out = h.Health()
	case path == "prune" && ctx.IsPost():
		out, err = pruneAndCompact(h)
	default:
		adminError(ctx, fasthttp.StatusNotFound, "no history endpoint "+string(ctx.Method())+" "+path)
		return
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		adminError(ctx, fasthttp.StatusNotFound, err.Error())
		return
	case errors.Is(err, errBadQuery):
		adminError(ctx, fasthttp.StatusBadRequest, err.Error())
		return
	case err != nil:
		adminError(ctx, fasthttp.StatusInternalServerError, err.Error())
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		adminError(ctx, fasthttp.StatusInternalServerError, err.Error())
		return
	}
	ctx.SetBody(b)
}

// pruneAndCompact applies retention at once and shrinks the file.
func pruneAndCompact(h *store.History) (store.Pruned, error) {
	res, err := h.Prune()
	if err != nil {
		return res, err
	}
	if res.SizeAfter, err = h.Compact(); err != nil {
		return res, err
	}
	return res, nil
}

// errBadQuery marks a malformed filter.
var errBadQuery = errors.New("bad history query")

// historyQueryValues encodes a query for the admin API (parseHistoryQuery decodes it).
func historyQueryValues(q store.Query) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("before", q.Before)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	set("outcome", q.Outcome)
	if q.FailedOnly {
		v.Set("failed", "1")
	}
	if q.Status != 0 {
		v.Set("status", strconv.Itoa(q.Status))
	}
	set("provider", q.Provider)
	set("model", q.Model)
	set("client", q.Client)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	set("search", q.Search)
	if q.Bodies {
		v.Set("bodies", "1")
	}
	return v
}

func parseHistoryQuery(v url.Values) (store.Query, error) {
	q := store.Query{
		Before: v.Get("before"), Outcome: v.Get("outcome"), FailedOnly: v.Get("failed") == "1",
		Provider: v.Get("provider"), Model: v.Get("model"), Client: v.Get("client"),
		Search: v.Get("search"), Bodies: v.Get("bodies") == "1",
	}
	var err error
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil {
			return q, fmt.Errorf("%w: limit %q is not a number", errBadQuery, s)
		}
	}
	if s := v.Get("status"); s != "" {
		if q.Status, err = strconv.Atoi(s); err != nil {
			return q, fmt.Errorf("%w: status %q is not a number", errBadQuery, s)
		}
	}
	for name, t := range map[string]*time.Time{"since": &q.Since, "until": &q.Until} {
		if s := v.Get(name); s != "" {
			if *t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return q, fmt.Errorf("%w: %s %q is not an RFC 3339 time", errBadQuery, name, s)
			}
		}
	}
	return q, nil
}

func parseStatsQuery(v url.Values) (store.StatsQuery, error) {
	var q store.StatsQuery
	var err error
	for name, t := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			if *t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return q, fmt.Errorf("%w: %s %q is not an RFC 3339 time", errBadQuery, name, s)
			}
		}
	}
	for name, d := range map[string]*time.Duration{"token_step": &q.TokenStep, "series_step": &q.SeriesStep} {
		if s := v.Get(name); s != "" {
			if *d, err = time.ParseDuration(s); err != nil {
				return q, fmt.Errorf("%w: %s %q is not a duration", errBadQuery, name, s)
			}
		}
	}
	return q, nil
}
