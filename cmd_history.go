package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/valyala/fasthttp"
)

// historyServices is the call history part of services.
type historyServices struct {
	// history is the open store; nil until openHistory succeeds.
	history *store.History
}

// openHistory opens the call history in the data folder and returns the proxy's
// recorder and a closer that flushes the queue and closes the file.
func (s *services) openHistory(cfg *config.Config) (proxy.Recorder, func(), error) {
	h, err := store.OpenHistory(s.dataDir, historyOptions(cfg, s))
	if err != nil {
		return nil, func() {}, err
	}
	s.history = h
	return historyRecorder{h}, func() {
		if err := h.Close(); err != nil {
			s.log.Error("close history", "err", err)
		}
	}, nil
}

// historyOptions maps the config's [history] table to store options.
func historyOptions(cfg *config.Config, s *services) store.Options {
	opts := store.Options{
		BodyCap: cfg.History.BodyCapBytes,
		MaxAge:  cfg.History.MaxAge.Duration,
		MaxSize: cfg.History.MaxSizeMB << 20,
	}
	if s != nil {
		opts.Secrets, opts.Logger = s.secretValues, s.log
		// The heap a burst of calls grew stays resident for minutes unless
		// given back once recording goes idle (issue 17).
		opts.OnIdle = debug.FreeOSMemory
	}
	return opts
}

// historyConfigChanged applies new history limits.
func (s *services) historyConfigChanged(cfg *config.Config) {
	if s.history != nil {
		o := historyOptions(cfg, nil)
		s.history.SetPolicy(store.Policy{BodyCap: o.BodyCap, MaxAge: o.MaxAge, MaxSize: o.MaxSize})
	}
}

// historyRecorder adapts the store to proxy.Recorder.
type historyRecorder struct{ h *store.History }

var _ proxy.Recorder = historyRecorder{}

// Record converts and queues a call; it never blocks (the store drops under
// overload and counts it).
func (r historyRecorder) Record(c *proxy.Call) {
	sc, b := storeCall(c)
	r.h.Record(sc, b)
}

// storeCall converts a proxy call to the store's record. It shares the body
// slices (the recorder owns c) so the request path copies no body.
func storeCall(c *proxy.Call) (*store.Call, *store.Bodies) {
	sc := &store.Call{
		ID:               c.ID,
		Time:             c.Start,
		Method:           c.Method,
		Path:             c.Path,
		ClientUA:         c.ClientUA,
		InboundFormat:    c.InboundFormat,
		Model:            c.Model,
		Provider:         c.Provider,
		UpstreamModel:    c.UpstreamModel,
		Stream:           c.Stream,
		Outcome:          string(c.Outcome),
		Status:           c.Status,
		DurationMS:       c.Duration.Milliseconds(),
		TTFBMS:           c.TTFB.Milliseconds(),
		Attempts:         make([]store.Attempt, len(c.Attempts)),
		InputTokens:      store.Tokens(c.Usage.InputTokens),
		OutputTokens:     store.Tokens(c.Usage.OutputTokens),
		CacheReadTokens:  store.Tokens(c.Usage.CacheReadTokens),
		CacheWriteTokens: store.Tokens(c.Usage.CacheWriteTokens),
		ReasoningTokens:  store.Tokens(c.Usage.ReasoningTokens),
		Error:            c.Error,
	}
	for i, a := range c.Attempts {
		sc.Attempts[i] = store.Attempt{
			Provider: a.Provider, Model: a.Model, URL: a.URL, Status: a.Status,
			Error: a.Error, ErrorClass: string(a.Class), Start: a.Start,
			DurationMS: a.Duration.Milliseconds(), DelayMS: a.Delay.Milliseconds(),
		}
	}
	b := &store.Bodies{
		Request:         rawMessage(c.Request),
		Response:        rawMessage(c.Response),
		Events:          c.Events,
		EventsTruncated: c.EventsTruncated,
	}
	return sc, b
}

// rawMessage hands the captured header block over as it is: the store's writer
// parses it, off the request path.
func rawMessage(m proxy.Message) store.RawMessage {
	return store.RawMessage{HeaderBlock: m.HeaderBlock, Body: m.Body, Truncated: m.Truncated}
}

// historyAPI serves /_gatehouse/api/history/*:
//
//	GET  history?failed=1&outcome=&provider=&model=&status=&client=&since=&until=&search=&limit=&before=&bodies=1
//	                     a page of calls, newest first: {"calls":[...],"next":"ID"}
//	GET  history/calls/ID  one call in full
//	GET  history/stats?from=&to=&token_step=1h|24h&series_step=5m
//	GET  history/today     the tray's counts for today
//	GET  history/drops     calls and bodies dropped under overload
//	POST history/prune     retention now, then compaction
func (s *services) historyAPI(ctx *fasthttp.RequestCtx, path string) {
	h := s.history
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
	case path == "today" && ctx.IsGet():
		out, err = h.Today()
	case path == "drops" && ctx.IsGet():
		out = h.Drops()
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

// historySource is where the history commands read: the running instance's
// admin API, or the file itself when no instance runs.
type historySource interface {
	List(q store.Query) (store.Page, error)
	Get(id string) (store.Call, error)
	Prune() (store.Pruned, error)
	Close()
}

// remoteHistory asks a running instance.
type remoteHistory struct{ c *adminClient }

func (r remoteHistory) get(path string, out any) error {
	status, body, err := r.c.do(http.MethodGet, path, nil)
	return decodeAdmin(status, body, err, out)
}

func decodeAdmin(status int, body []byte, err error, out any) error {
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		if status == http.StatusNotFound && strings.Contains(e.Error, store.ErrNotFound.Error()) {
			return fmt.Errorf("%s: %w", e.Error, store.ErrNotFound)
		}
		return fmt.Errorf("running instance answered %d: %s", status, e.Error)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer of the running instance: %w", err)
	}
	return nil
}

func (r remoteHistory) List(q store.Query) (store.Page, error) {
	var p store.Page
	return p, r.get("history?"+historyQueryValues(q).Encode(), &p)
}

func (r remoteHistory) Get(id string) (store.Call, error) {
	var c store.Call
	return c, r.get("history/calls/"+url.PathEscape(id), &c)
}

func (r remoteHistory) Prune() (store.Pruned, error) {
	var p store.Pruned
	status, body, err := r.c.do(http.MethodPost, "history/prune", nil)
	return p, decodeAdmin(status, body, err, &p)
}

func (r remoteHistory) Close() {}

// Drops returns what the running instance could not record (overload).
func (r remoteHistory) Drops() (store.Drops, error) {
	var d store.Drops
	return d, r.get("history/drops", &d)
}

// dropSource is a historySource that knows its overload drops (a running
// instance; a file opened by the command has dropped nothing).
type dropSource interface {
	Drops() (store.Drops, error)
}

// localHistory reads the file directly.
type localHistory struct{ h *store.History }

func (l localHistory) List(q store.Query) (store.Page, error) { return l.h.List(q) }
func (l localHistory) Get(id string) (store.Call, error)      { return l.h.Get(id) }
func (l localHistory) Prune() (store.Pruned, error)           { return pruneAndCompact(l.h) }
func (l localHistory) Close()                                 { _ = l.h.Close() }

// openHistorySource finds the running instance of the data folder, or opens its
// file. Only prune applies retention (with the config's limits): browsing never
// deletes anything.
func openHistorySource(cf commonFlags, forPrune bool) (historySource, error) {
	dataDir, err := cf.dataDir()
	if err != nil {
		return nil, err
	}
	if c, ok := findRunning(dataDir); ok {
		return remoteHistory{c}, nil
	}
	opts := store.Options{MaxAge: -1, MaxSize: -1}
	if forPrune {
		cfg, err := cf.loadConfig(dataDir)
		if err != nil {
			return nil, err
		}
		opts = historyOptions(cfg, nil)
	}
	opts.NoRetention = true
	h, err := store.OpenHistory(dataDir, opts)
	if err != nil {
		return nil, err
	}
	return localHistory{h}, nil
}
