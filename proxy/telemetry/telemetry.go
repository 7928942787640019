// Package telemetry exports what the proxy does to the systems teams already
// run: Prometheus metrics (metrics.go, GET /metrics) and OpenTelemetry traces
// over OTLP (tracing.go). Exporter is the proxy's Observer: on the request
// path it only queues a copy of the finished call; a background loop turns the
// queue into metrics and spans, and the SDK's batch processor sends the spans.
package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
)

// HistoryStats is the call history's load, for the metrics.
type HistoryStats struct {
	QueueDepth    int    // calls waiting for the writer
	DroppedCalls  uint64 // calls not recorded (queue full) since start
	DroppedBodies uint64 // calls recorded without bodies since start
}

// Options plug an Exporter in. Config is required; the rest may be nil.
type Options struct {
	// Config returns the config in force: its providers, routes and prices
	// bound the model label, its [tracing] table is read once by New.
	Config func() *config.Config
	// Version is the build's version (gatehouse_build_info, the spans' resource).
	Version string
	// Circuits returns the providers' breakers (gatehouse_circuit_open).
	Circuits func() []proxy.CircuitState
	// History returns the history's queue and drops.
	History func() HistoryStats
	// Metrics turns the Prometheus collectors on.
	Metrics bool
	Logger  *slog.Logger
}

// maxQueued bounds the calls waiting for the loop; past it calls are counted
// in gatehouse_telemetry_dropped_total instead.
const maxQueued = 1 << 16

// drainEvery is how often the loop turns queued calls into metrics and spans.
// A scrape drains first, so /metrics is never behind.
const drainEvery = 100 * time.Millisecond

// Exporter is a proxy.Observer feeding metrics and traces. It is safe for
// concurrent use.
type Exporter struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics // nil when off
	tracer  *tracer  // nil when off

	mu      sync.Mutex
	queue   []observation
	spare   []observation
	dropped atomic.Uint64

	drainMu sync.Mutex // one drain at a time (loop or scrape)
	once    sync.Once
	stop    chan struct{}
	done    chan struct{}
}

var _ proxy.Observer = (*Exporter)(nil)

// observation is what the loop needs of a finished call.
type observation struct {
	id                     string
	start                  time.Time
	duration, ttfb         time.Duration
	provider, model, upstr string
	status                 int
	outcome                proxy.Outcome
	class                  proxy.ErrorClass
	usage                  proxy.Usage
	cost                   float64
	costKnown              bool
	stream                 bool
	attempts               []proxy.Attempt // read only: nothing changes a finished call's attempts
}

// New starts an exporter: metrics when opts.Metrics, traces when the config's
// [tracing] table is enabled. Close stops it and sends the last spans.
func New(opts Options) (*Exporter, error) {
	e := &Exporter{opts: opts, log: opts.Logger, stop: make(chan struct{}), done: make(chan struct{})}
	if e.log == nil {
		e.log = slog.Default()
	}
	if opts.Metrics {
		e.metrics = newMetrics(e)
	}
	if tc := opts.Config().Tracing; tc.Enabled {
		t, err := newTracer(tc, opts.Version)
		if err != nil {
			return nil, err
		}
		e.tracer = t
	}
	go e.loop()
	return e, nil
}

// Observe queues a copy of c; it never blocks.
func (e *Exporter) Observe(c *proxy.Call) {
	o := observation{
		id: c.ID, start: c.Start, duration: c.Duration, ttfb: c.TTFB,
		provider: c.Provider, model: c.Model, upstr: c.UpstreamModel,
		status: c.Status, outcome: c.Outcome, usage: c.Usage, cost: c.Cost, costKnown: c.CostKnown,
		stream: c.Stream, attempts: c.Attempts,
	}
	if c.Outcome != proxy.OutcomeOK && len(c.Attempts) > 0 {
		o.class = c.Attempts[len(c.Attempts)-1].Class
	}
	e.mu.Lock()
	if len(e.queue) < maxQueued {
		e.queue = append(e.queue, o)
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	e.dropped.Add(1)
}

// loop drains the queue every drainEvery until Close.
func (e *Exporter) loop() {
	defer close(e.done)
	t := time.NewTicker(drainEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			e.drain()
		case <-e.stop:
			e.drain()
			return
		}
	}
}

// drain turns every queued call into metrics and spans.
func (e *Exporter) drain() {
	e.drainMu.Lock()
	defer e.drainMu.Unlock()
	e.mu.Lock()
	batch := e.queue
	e.queue, e.spare = e.spare[:0], nil
	e.mu.Unlock()
	for i := range batch {
		if e.metrics != nil {
			e.metrics.observe(&batch[i])
		}
		if e.tracer != nil {
			e.tracer.emit(&batch[i])
		}
	}
	clear(batch)
	e.mu.Lock()
	e.spare = batch[:0]
	e.mu.Unlock()
}

// Close stops the loop and sends the spans still buffered, waiting until ctx
// is done at most.
func (e *Exporter) Close(ctx context.Context) error {
	var err error
	e.once.Do(func() {
		close(e.stop)
		<-e.done
		if e.tracer != nil {
			err = e.tracer.shutdown(ctx)
		}
	})
	return err
}
