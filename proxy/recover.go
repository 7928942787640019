package proxy

import (
	"bytes"
	"fmt"
	"runtime/debug"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// Panics: one bad payload must never take the process down (issue 19.8). Each
// request and each stream writer recovers; the client gets a 500 (or an error
// event) in its format, the call is recorded with class proxy, and the stack
// goes to the log, never to history.

// panicMessage is what the client and the record say about a recovered panic.
func panicMessage(v any) string {
	return fmt.Sprintf("internal error in Gatehouse (%v); the stack trace is in Gatehouse's log", v)
}

// recoverRequest is the last guard of a request that is not a model call (the
// model list, the admin API, ...): it answers 500 in the client's format.
func (s *Server) recoverRequest(ctx *fasthttp.RequestCtx) {
	v := recover()
	if v == nil {
		return
	}
	s.log.Error("panic serving a request", "path", string(ctx.Path()), "panic", v, "stack", string(debug.Stack()))
	format := config.FormatOpenAI
	if ep, ok := parseEndpoint(ctx.Method(), ctx.Path()); ok {
		format = ep.format
	}
	ctx.Response.Reset()
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(fasthttp.StatusInternalServerError)
	ctx.Response.SetBodyRaw(codec.ErrorBody(format, fasthttp.StatusInternalServerError, panicMessage(v), "gatehouse_proxy"))
}

// recoverPanic guards serveCall: the client gets a 500 in its format and the
// call is recorded with an attempt of class proxy.
func (c *call) recoverPanic() {
	v := recover()
	if v == nil {
		return
	}
	c.s.log.Error("panic serving a call", "call", c.rec.ID, "panic", v, "stack", string(debug.Stack()))
	if c.recorded {
		return // the panic came from the recorder: nothing more to do
	}
	msg := panicMessage(v)
	c.rec.Attempts = append(c.rec.Attempts, Attempt{Provider: c.rec.Provider, Model: c.rec.UpstreamModel, Class: ClassProxy, Error: msg})
	c.inAttempt, c.finishPending = false, false
	id := c.ctx.Response.Header.Peek("X-Gatehouse-Call")
	id = bytes.Clone(id)
	c.ctx.Response.Reset()
	c.ctx.Response.Header.SetBytesV("X-Gatehouse-Call", id)
	c.fail(fasthttp.StatusInternalServerError, ClassProxy, msg)
}

// recoverStream guards a stream writer: a panic ends the client's stream with
// an error event in its format and records the call as partial, class proxy.
func (st *streamState) recoverStream(w interface{ Flush() error }, write func([]byte) error) {
	v := recover()
	if v == nil {
		return
	}
	c := st.c
	c.s.log.Error("panic relaying a stream", "call", c.rec.ID, "panic", v, "stack", string(debug.Stack()))
	if c.recorded {
		return
	}
	msg := panicMessage(v)
	_ = write(codec.StreamErrorEvent(c.ep.wire(), fasthttp.StatusInternalServerError, msg))
	_ = w.Flush()
	c.rec.Outcome, c.rec.Error = OutcomePartial, msg
	st.att.Class, st.att.Error, st.att.Status = ClassProxy, msg, fasthttp.StatusOK
	c.rec.Attempts = append(c.rec.Attempts, st.att)
	c.finish()
}
