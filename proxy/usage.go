package proxy

import (
	"net"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/pricing"
	"github.com/valyala/fasthttp"
)

// Observer receives every finished call, recorded or not (metrics, tracing).
// Observe runs on the request path: it must copy what it needs and return at
// once, never waiting; it must not keep or modify c beyond the call, except
// that c.Attempts may be read later (nothing changes it afterwards).
type Observer interface {
	Observe(c *Call)
}

// price puts the call's cost on its record, with the price table in force.
func (c *call) price() {
	c.rec.Cost, c.rec.CostKnown = c.s.prices.Load().Cost(c.rec.UpstreamModel, c.rec.Usage)
}

// setPrices builds the price table of cfg (built-in prices and [[price]]).
func (s *Server) setPrices(cfg *config.Config) { s.prices.Store(pricing.New(cfg.Prices)) }

var pathMetrics = []byte("/metrics")

// metrics serves GET /metrics with Options.Metrics, to the clients
// Options.AllowMetrics lets in (default: metricsClient).
func (s *Server) metrics(ctx *fasthttp.RequestCtx) {
	allow := s.opts.AllowMetrics
	if allow == nil {
		allow = s.metricsClient
	}
	if !allow(ctx) {
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetStatusCode(fasthttp.StatusForbidden)
		ctx.SetBodyString("/metrics answers this machine (127.0.0.1, ::1) and requests with a Gatehouse client token (`gatehouse clients add prometheus`, sent as Authorization: Bearer)\n")
		return
	}
	s.opts.Metrics(ctx)
}

// metricsClient lets in this machine, and any other with a valid, unexpired
// client token: a team's Prometheus scrapes a shared Gatehouse with a token of
// its own (issue 14 §4).
func (s *Server) metricsClient(ctx *fasthttp.RequestCtx) bool {
	if loopbackClient(ctx) {
		return true
	}
	tok := findToken(&ctx.Request)
	if tok == nil {
		return false
	}
	cl := s.lookupClient(tok)
	return cl != nil && (cl.Expires.IsZero() || time.Now().Before(cl.Expires))
}

// loopbackClient reports whether the request came from this machine.
func loopbackClient(ctx *fasthttp.RequestCtx) bool {
	addr, ok := ctx.RemoteAddr().(*net.TCPAddr)
	return ok && addr.IP.IsLoopback()
}
