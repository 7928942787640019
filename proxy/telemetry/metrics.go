package telemetry

import (
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/pricing"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/valyala/fasthttp"
)

// metrics are the Prometheus collectors, in a registry of their own.
//
// Label values are bounded: provider names come from the config; a model is
// kept when the config names it (a route alias or target, a provider's exact
// model, a [[price]]) or the price table knows it (as its table name, so dated
// variants share one series), and is "other" otherwise; status is the HTTP
// status, class one of proxy.ErrorClasses or "none".
type metrics struct {
	e        *Exporter
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ttfb     *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	cost     *prometheus.CounterVec
	unpriced *prometheus.CounterVec
	attempts *prometheus.CounterVec
	retries  *prometheus.CounterVec
	saved    prometheus.Counter

	models atomic.Pointer[modelSet]
}

// modelSet is the models of one config that keep their own label.
type modelSet struct {
	cfg    *config.Config
	prices *pricing.Table
	names  map[string]bool
}

var latencyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300}

func newMetrics(e *Exporter) *metrics {
	m := &metrics{e: e, reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_requests_total",
		Help: "Model calls by provider, upstream model, status sent to the client and error class of the last attempt (none when ok)."},
		[]string{"provider", "model", "status", "class"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gatehouse_request_duration_seconds",
		Help: "Time from the request's arrival to the last byte sent.", Buckets: latencyBuckets}, []string{"provider", "model"})
	m.ttfb = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gatehouse_first_byte_seconds",
		Help: "Time from the request's arrival to the first response byte sent.", Buckets: latencyBuckets}, []string{"provider", "model"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_tokens_total",
		Help: "Tokens the upstreams reported, by type (input includes cache_read and cache_write; output includes reasoning)."},
		[]string{"provider", "model", "type"})
	m.cost = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_cost_usd_total",
		Help: "What the calls cost in US dollars, from the price table."}, []string{"provider", "model"})
	m.unpriced = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_unpriced_calls_total",
		Help: "Calls whose cost is unknown (no price for the model, or no usage reported)."}, []string{"provider", "model"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_attempts_total",
		Help: "Upstream attempts by provider and error class (none: it answered)."}, []string{"provider", "class"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_retries_total",
		Help: "Attempts after a call's first: retries and fallbacks, by the provider tried."}, []string{"provider"})
	m.saved = prometheus.NewCounter(prometheus.CounterOpts{Name: "gatehouse_saved_calls_total",
		Help: "Calls that failed at least once and were still answered by a retry or a fallback."})
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.ttfb, m.tokens, m.cost, m.unpriced, m.attempts, m.retries, m.saved} {
		f(c)
	}
	f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_telemetry_dropped_total",
		Help: "Calls left out of metrics and traces because the exporter's queue was full."},
		func() float64 { return float64(e.dropped.Load()) }))
	// The standard Go runtime and process metrics (go_goroutines,
	// go_memstats_heap_alloc_bytes, process_open_fds,
	// process_resident_memory_bytes, ...): what a leak shows in, and what the
	// soak test (issue 15) samples from outside the process.
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "gatehouse_build_info", Help: "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": e.opts.Version, "goversion": runtime.Version()}})
	build.Set(1)
	f(build)
	if e.opts.History != nil {
		h := e.opts.History
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gatehouse_history_queue_depth", Help: "Calls waiting to be written to the history."},
			func() float64 { return float64(h().QueueDepth) }))
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_history_dropped_calls_total", Help: "Calls not recorded: the history's queue was full."},
			func() float64 { return float64(h().DroppedCalls) }))
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_history_dropped_bodies_total", Help: "Calls recorded without their bodies under overload."},
			func() float64 { return float64(h().DroppedBodies) }))
	}
	if e.opts.Circuits != nil {
		f(circuitCollector{e.opts.Circuits})
	}
	return m
}

// label bounds a model name (see metrics).
func (m *metrics) label(model string) string {
	cfg := m.e.opts.Config()
	set := m.models.Load()
	if set == nil || set.cfg != cfg {
		set = newModelSet(cfg)
		m.models.Store(set)
	}
	if model == "" {
		return "none"
	}
	if set.names[model] {
		return model
	}
	if key, ok := set.prices.Key(model); ok {
		return key
	}
	return "other"
}

func newModelSet(cfg *config.Config) *modelSet {
	s := &modelSet{cfg: cfg, prices: pricing.New(cfg.Prices), names: map[string]bool{}}
	for _, r := range cfg.Routes {
		s.names[r.Model] = true
		for _, t := range r.Targets {
			if _, model, ok := strings.Cut(t, "/"); ok {
				s.names[model] = true
			}
		}
	}
	for _, p := range cfg.Providers {
		for _, g := range p.Models {
			if !strings.ContainsAny(g, "*?") {
				s.names[g] = true
			}
		}
	}
	for _, p := range cfg.Prices {
		s.names[p.Model] = true
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (m *metrics) observe(o *observation) {
	provider, model := orNone(o.provider), m.label(o.upstr)
	m.requests.WithLabelValues(provider, model, strconv.Itoa(o.status), orNone(string(o.class))).Inc()
	m.latency.WithLabelValues(provider, model).Observe(o.duration.Seconds())
	if o.ttfb > 0 {
		m.ttfb.WithLabelValues(provider, model).Observe(o.ttfb.Seconds())
	}
	u := o.usage
	for _, t := range []struct {
		name string
		n    int64
	}{{"input", u.InputTokens}, {"output", u.OutputTokens}, {"cache_read", u.CacheReadTokens}, {"cache_write", u.CacheWriteTokens}, {"reasoning", u.ReasoningTokens}} {
		if t.n > 0 {
			m.tokens.WithLabelValues(provider, model, t.name).Add(float64(t.n))
		}
	}
	if o.costKnown {
		m.cost.WithLabelValues(provider, model).Add(o.cost)
	} else {
		m.unpriced.WithLabelValues(provider, model).Inc()
	}
	saved := false
	for i, a := range o.attempts {
		p := orNone(a.Provider)
		m.attempts.WithLabelValues(p, orNone(string(a.Class))).Inc()
		if i > 0 {
			m.retries.WithLabelValues(p).Inc()
		}
		saved = saved || a.Class != proxy.ClassNone
	}
	if saved && o.outcome == proxy.OutcomeOK {
		m.saved.Inc()
	}
}

// circuitCollector reports the breakers at scrape time.
type circuitCollector struct{ states func() []proxy.CircuitState }

var circuitDesc = prometheus.NewDesc("gatehouse_circuit_open",
	"1 while the provider's circuit breaker is open (calls skip it), else 0.", []string{"provider"}, nil)

func (c circuitCollector) Describe(ch chan<- *prometheus.Desc) { ch <- circuitDesc }

func (c circuitCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.states() {
		v := 0.0
		if s.Open {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(circuitDesc, prometheus.GaugeValue, v, s.Provider)
	}
}

// textFormat is the Prometheus text exposition format, version 0.0.4.
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// Handler serves GET /metrics in the text format (nil when metrics are off).
// It first turns the calls still queued into metrics.
func (e *Exporter) Handler() fasthttp.RequestHandler {
	if e.metrics == nil {
		return nil
	}
	return func(ctx *fasthttp.RequestCtx) {
		e.drain()
		mfs, err := e.metrics.reg.Gather()
		if err != nil {
			e.log.Warn("metrics: gather", "err", err)
		}
		ctx.SetContentType(string(textFormat))
		enc := expfmt.NewEncoder(ctx, textFormat)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				e.log.Warn("metrics: encode", "err", err)
				return
			}
		}
	}
}
