package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
	"golang.org/x/sync/semaphore"
)

// A call needs its whole request body: the proxy checks the JSON, routes on its
// model and sends it again on a retry or to a fallback. Bodies in flight are
// bounded in total by bodyBudget, so that many big requests at once (100 of
// 10 MiB: 1 GiB, which fasthttp would hold in 16 MiB buffers) cannot make the
// proxy's memory grow with their number (issue 15 §2). The server hands the
// handler the body as a stream (StreamRequestBody); loadBody reads it once
// there is room, and the requests that wait simply stop reading, so their
// clients' uploads pause.

// bodyBudget is the request body bytes held at once. A body bigger than it
// (max_body_bytes may reach MaxBodyCeiling) waits until it is alone.
const bodyBudget = 128 << 20

// bodyBudgetFor is what a body of n bytes takes from the budget.
func bodyBudgetFor(n int) int64 { return int64(min(n, bodyBudget)) }

// bodyRoom is the budget loadBody draws from. It also counts the bytes held
// and their peak, which serve's memory limit reads (RequestBodiesPeak).
type bodyRoom struct {
	sem  *semaphore.Weighted
	held atomic.Int64
	peak atomic.Int64 // the most held since the last RequestBodiesPeak
}

func newBodyRoom() *bodyRoom { return &bodyRoom{sem: semaphore.NewWeighted(bodyBudget)} }

func (r *bodyRoom) tryAcquire(n int64) bool {
	if !r.sem.TryAcquire(n) {
		return false
	}
	r.took(n)
	return true
}

func (r *bodyRoom) acquire(ctx context.Context, n int64) error {
	if err := r.sem.Acquire(ctx, n); err != nil {
		return err
	}
	r.took(n)
	return nil
}

func (r *bodyRoom) took(n int64) {
	held := r.held.Add(n)
	for peak := r.peak.Load(); held > peak && !r.peak.CompareAndSwap(peak, held); peak = r.peak.Load() {
	}
}

func (r *bodyRoom) release(n int64) {
	r.held.Add(-n)
	r.sem.Release(n)
}

// RequestBodiesPeak returns the most request body bytes held in memory at once
// since its last call, and starts the next period from what is held now.
// Serve's soft memory limit leaves these bytes out of the headroom it gives
// the rest of the heap (ui/cli.KeepMemoryLimit).
func (s *Server) RequestBodiesPeak() int64 {
	return s.bodies.peak.Swap(s.bodies.held.Load())
}

// loadBody reads the request body into memory once the budget has room for
// it; release gives the room back, after the handler is done with the body.
// When it returns false the client has its answer (413, 503 or 400 in its
// format) and the connection closes.
func (s *Server) loadBody(ctx *fasthttp.RequestCtx, f config.Format) (release func(), ok bool) {
	stream := ctx.RequestBodyStream()
	if stream == nil {
		return func() {}, true
	}
	n := ctx.Request.Header.ContentLength() // -1: chunked
	if n > config.MaxBodyCeiling {
		ctx.SetConnectionClose()
		s.reject(ctx, f, fasthttp.StatusRequestEntityTooLarge, s.tooLargeMessage())
		return nil, false
	}
	var took int64
	acquire := func(size int) bool {
		took = bodyBudgetFor(size)
		if s.bodies.tryAcquire(took) {
			return true // the usual case: no timer, no context on the request path
		}
		wait, cancel := context.WithTimeout(s.baseCtx, s.opts.RequestReadTimeout)
		defer cancel()
		if err := s.bodies.acquire(wait, took); err != nil {
			ctx.SetConnectionClose()
			s.reject(ctx, f, fasthttp.StatusServiceUnavailable, fmt.Sprintf(
				"Gatehouse is busy: request bodies of %d MiB in all are being served and this one waited %s for room; send it again",
				bodyBudget>>20, s.opts.RequestReadTimeout))
			return false
		}
		// The wait does not count against reading the body itself. Without
		// a wait, the server's ReadTimeout deadline (from the request's
		// first byte) is still armed and bounds the read (handle).
		_ = ctx.Conn().SetReadDeadline(time.Now().Add(s.opts.RequestReadTimeout))
		return true
	}
	if n >= 0 && !acquire(n) {
		return nil, false
	}
	body, err := readRequestBody(stream, n)
	if err != nil {
		s.bodies.release(took)
		ctx.SetConnectionClose()
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			s.reject(ctx, f, fasthttp.StatusRequestEntityTooLarge, s.tooLargeMessage())
		} else {
			s.reject(ctx, f, fasthttp.StatusBadRequest, "cannot read the request: "+err.Error())
		}
		return nil, false
	}
	// A chunked body's size is known only now: it takes its room once read.
	if n < 0 && !acquire(len(body)) {
		return nil, false
	}
	ctx.Request.SetBodyRaw(body)
	return func() {
		// Nothing holds on to the body past the handler: a stream it started
		// runs for minutes, and the room it leaves must be free memory.
		ctx.Request.ResetBody()
		s.bodies.release(took)
	}, true
}

// readRequestBody reads a body of n bytes (n < 0: until EOF, up to
// MaxBodyCeiling) into a buffer of its exact size when n is known.
func readRequestBody(r io.Reader, n int) ([]byte, error) {
	if n >= 0 {
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(r, config.MaxBodyCeiling+1))
	if err != nil {
		return nil, err
	}
	if len(body) > config.MaxBodyCeiling {
		return nil, fasthttp.ErrBodyTooLarge
	}
	return body, nil
}

// tooLargeMessage is the 413 for a body over the limit Gatehouse started with.
func (s *Server) tooLargeMessage() string {
	return fmt.Sprintf("request body is over the limit of %d bytes (max_body_bytes in config.toml)", s.cfg.Load().MaxBodyBytes)
}
