package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/valyala/fasthttp"
)

// errShutdown ends streams still running when the shutdown grace period is over.
var errShutdown = errors.New("gatehouse is shutting down")

// streamState is one relayed stream, from commit to its end.
type streamState struct {
	c        *call
	t        target
	att      Attempt
	resp     *fasthttp.Response
	body     fasthttp.ReadCloserWithError
	reader   *sse.Reader
	conn     *timedConn  // the upstream connection (nil: unknown)
	pending  []sse.Event // events read before commit (pings, comments, the first data event), copied
	same     bool
	tr       *codec.Stream       // translator (cross-format)
	usage    *codec.UsageTracker // same-format usage
	acc      *codec.Accumulator  // reassembles what the client received
	parse    *sse.Reader         // re-parses translated output for acc
	outBuf   bytes.Buffer        // feeds parse
	events   []byte              // raw client-format events for the record
	upFormat config.Format
	// The attempt's wire record of the upstream's events: same format, the
	// first upLen bytes of events (upCut: cut at the cap); cross-format, a
	// capped copy in upEvents.
	upLen    int
	upCut    bool
	upEvents []byte
}

// startStream reads the upstream stream up to its first data event. An error
// event there is retryable (nothing reached the client yet); otherwise the
// response is committed and handed to a stream writer.
func (c *call) startStream(t target, resp *fasthttp.Response, info codec.RequestInfo, att *Attempt) attemptResult {
	p := t.provider
	up := p.WireFormat(c.ep.format)
	st := &streamState{
		c: c, t: t, resp: resp, same: up == c.ep.format, upFormat: up,
		reader: sse.NewReader(resp.BodyStream(), sse.DefaultMaxEvent),
		acc:    codec.NewAccumulator(c.ep.wire()),
	}
	st.acc.Limit(c.cfg.History.BodyCapBytes)
	st.body, _ = resp.BodyStream().(fasthttp.ReadCloserWithError)
	if st.same {
		st.usage = codec.NewUsageTracker(up)
	} else {
		st.tr = codec.NewStream(up, c.ep.format, info)
		st.parse = sse.NewReader(&st.outBuf, sse.DefaultMaxEvent)
	}
	// No pooled object is touched after its release (issue 19.9).
	status := resp.StatusCode()
	// Buffer keep-alives until the first data event: it decides retry or commit.
	for i := 0; ; i++ {
		ev, err := st.reader.Next()
		if err != nil {
			c.up.release(resp)
			c.received(att, rawEvents(st.pending))
			class, retry := ClassReset, true
			if !errors.Is(err, io.EOF) {
				class = classifyError(err, true)
				retry = c.retryable(class, err)
			}
			return attemptResult{retryable: retry, class: class, status: status,
				msg: fmt.Sprintf("%s: the stream ended before its first event: %v", p.Name, err)}
		}
		st.pending = append(st.pending, copyEvent(ev))
		keepAlive := ev.Comment || ev.Data == nil || bytes.Equal(ev.Name, []byte("ping"))
		if keepAlive && i < 64 { // bounded: a stream of only keep-alives is committed anyway
			continue
		}
		if status, msg, ok := codec.StreamError(up, ev); ok {
			c.up.release(resp)
			c.received(att, rawEvents(st.pending))
			return attemptResult{
				retryable: containsInt(c.cfg.Retry.OnStatus, status), class: classifyStatus(status),
				// The event's payload is the upstream's error body.
				status: status, format: p.Format, body: append([]byte(nil), ev.Data...),
				msg: fmt.Sprintf("%s sent an error event before any data: %s", p.Name, msg),
			}
		}
		break
	}
	st.att = *att
	// From here the stream writer owns the connection and notices a hang-up
	// itself (a failed flush).
	st.conn = c.up.detach()
	// The stream writer starts on its own goroutine at once: nothing here may
	// touch st, resp or the record after this call.
	c.commitStream(st)
	return attemptResult{done: true, stream: true, status: status}
}

func copyEvent(ev sse.Event) sse.Event {
	return sse.Event{
		Name:    append([]byte(nil), ev.Name...),
		Data:    append([]byte(nil), ev.Data...),
		ID:      append([]byte(nil), ev.ID...),
		Raw:     append([]byte(nil), ev.Raw...),
		Comment: ev.Comment,
	}
}

// commitStream sends the status and headers and installs the writer that relays
// the rest of the stream.
func (c *call) commitStream(st *streamState) {
	ctx := c.ctx
	if st.same {
		copyResponseHeaders(&ctx.Response.Header, &st.resp.Header)
	}
	ctx.Response.Header.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	ctx.SetStatusCode(fasthttp.StatusOK)
	c.setAttemptsHeader()
	c.rec.Status = fasthttp.StatusOK
	c.captureResponse(nil) // the body is reassembled as it goes (capture)
	c.s.track(st)
	// The request body may be big and the stream long: let it go (reqbody.go).
	c.body, c.up.rd.b = nil, nil
	ctx.SetBodyStreamWriter(st.run)
}

// run is the stream writer: it runs after the handler returned, so it touches
// no RequestCtx, only what was copied into the call record.
func (st *streamState) run(w *bufio.Writer) {
	c := st.c
	defer c.s.untrack(st)
	defer fasthttp.ReleaseResponse(st.resp)
	var out []byte
	first := true
	defer st.recoverStream(w, func(b []byte) error { return st.write(w, b, &first) })
	emit := func(ev sse.Event) error {
		out = out[:0]
		var err error
		if st.same {
			st.usage.Observe(ev)
			if c.wire {
				st.acc.Add(ev)
			}
			out = append(out, ev.Raw...)
		} else {
			if st.att.Received != nil {
				var cut bool
				st.upEvents, cut = appendCapped(st.upEvents, ev.Raw, c.cfg.History.BodyCapBytes)
				st.upCut = st.upCut || cut
			}
			if out, err = st.tr.Event(out, ev); err != nil {
				return fmt.Errorf("translating a %s event: %w", st.upFormat, err)
			}
		}
		err = st.write(w, out, &first)
		if st.same {
			st.upLen, st.upCut = len(st.events), c.rec.EventsTruncated
		}
		return err
	}
	for _, ev := range st.pending {
		if err := emit(ev); err != nil {
			st.end(w, err)
			return
		}
	}
	st.pending = nil
	for {
		ev, err := st.reader.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			st.end(w, err)
			return
		}
		if err := emit(ev); err != nil {
			st.end(w, err)
			return
		}
	}
}

// errClientGone marks a failed flush: the client hung up.
var errClientGone = errors.New("the client closed the connection")

// write sends bytes to the client and flushes at once.
func (st *streamState) write(w *bufio.Writer, b []byte, first *bool) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := w.Write(b); err != nil {
		return errClientGone
	}
	if err := w.Flush(); err != nil {
		return errClientGone
	}
	if *first {
		*first = false
		st.c.rec.TTFB = time.Since(st.c.rec.Start)
	}
	st.capture(b)
	return nil
}

// capture keeps client-format bytes for the record: raw events (capped) and the
// reassembled message.
func (st *streamState) capture(b []byte) {
	if !st.c.wire {
		return
	}
	limit := st.c.cfg.History.BodyCapBytes
	if room := limit - len(st.events); room > 0 {
		if len(b) > room {
			st.events = append(st.events, b[:room]...)
			st.c.rec.EventsTruncated = true
		} else {
			st.events = append(st.events, b...)
		}
	} else if len(b) > 0 {
		st.c.rec.EventsTruncated = true
	}
	if st.same {
		return // same format: emit fed the upstream event to the accumulator
	}
	st.outBuf.Write(b)
	for {
		ev, err := st.parse.Next()
		if err != nil {
			break
		}
		st.acc.Add(ev)
	}
}

// ended reports whether the upstream stream ended properly (its format's end
// marker, or an in-band error): a stream that stops without one was cut, even
// on a clean EOF, and the client must not see a clean end (issue 19.3).
func (st *streamState) ended() bool {
	if st.same {
		return st.usage.Ended()
	}
	return st.tr.Ended()
}

// end closes the client's stream and records the call. err is nil for a clean
// upstream end.
func (st *streamState) end(w *bufio.Writer, err error) {
	c := st.c
	rec := c.rec
	first := rec.TTFB == 0
	switch {
	case errors.Is(err, errClientGone):
		if st.body != nil {
			_ = st.body.CloseWithError(err) // cancel the upstream at once
		}
		rec.Outcome = OutcomeClientCancelled
		st.att.Class = ClassClientCancelled
		st.att.Error = err.Error()
		rec.Error = err.Error()
	case err == nil && st.ended():
		// The translator closes the client's stream in its format (closing
		// blocks, message_stop, [DONE]).
		if !st.same {
			tail := st.tr.End(nil)
			if werr := st.write(w, tail, &first); werr != nil {
				st.end(w, werr)
				return
			}
		}
		rec.Outcome = OutcomeOK
	default:
		if err == nil {
			err = errors.New("the upstream stream ended without its end marker")
		}
		class := ClassMidStream
		if isTimeout(err) {
			class = ClassIdleTimeout
		}
		if errors.Is(err, errShutdown) {
			class = ClassProxy
		}
		status := failStatus(class)
		msg := fmt.Sprintf("%s: the stream broke after it had started: %v", st.t.provider.Name, err)
		_ = st.write(w, codec.StreamErrorEvent(c.ep.wire(), status, msg), &first)
		rec.Outcome = OutcomePartial
		rec.Error = msg
		st.att.Class = class
		st.att.Error = msg
	}
	st.att.Status = fasthttp.StatusOK
	st.att.Duration = time.Since(st.att.Start)
	if r := st.att.Received; r != nil {
		r.Body, r.Truncated = st.upEvents, st.upCut
		if st.same {
			r.Body = st.events[:st.upLen:st.upLen] // the client's events: stored once
		}
	}
	rec.Attempts = append(rec.Attempts, st.att)
	if st.body != nil && (rec.Outcome != OutcomeOK || st.conn.closedByPeer()) {
		// The connection is dead or in an unknown state: never pooled (issue 15 §3).
		_ = st.body.CloseWithError(errUpstreamClosed)
	}
	if st.same {
		rec.Usage = st.usage.Usage()
	} else {
		rec.Usage = st.tr.Usage()
	}
	rec.Events = st.events
	rec.Response.Body, rec.Response.Truncated = capSlice(st.acc.Body(), c.cfg.History.BodyCapBytes)
	rec.Response.Truncated = rec.Response.Truncated || st.acc.Truncated()
	c.finish()
}
