package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// maxErrorBody bounds how much of an upstream error body is read.
const maxErrorBody = 1 << 20

// noResponseTimeout stands for response_timeout = "0s" (off): a non-streaming
// request still needs a deadline of its own, or first_byte_timeout would apply.
const noResponseTimeout = 100 * 365 * 24 * time.Hour

// maxResponseBody bounds a non-streaming upstream response read whole (a
// variable so that a test need not send 256 MiB).
var maxResponseBody = 256 << 20

// errBodyTooBig is readBody's error for a body over its limit.
var errBodyTooBig = errors.New("body over the limit")

// call is the state of one client request while it is served.
type call struct {
	s     *Server
	cfg   *config.Config
	ctx   *fasthttp.RequestCtx
	ep    endpoint
	rec   *Call
	body  []byte       // the client's body; valid until the handler returns
	creds []clientCred // the keys the client sent
	tries int          // upstream attempts made so far
	// missing lists the targets skipped for want of a key, with how to add one.
	missing []string
	// gone is set when the client hung up (hungUp); up is the upstream
	// connection of the attempt in flight.
	gone   atomic.Bool
	watch  hangupWatch // the hang-up watch (hangup.go)
	goneMu sync.Mutex
	goneCh chan struct{} // closed when gone; made only when a backoff waits on it
	up     upstreamConn
	// inAttempt defers recording until the attempt is in the record;
	// finishPending says a response was sent meanwhile.
	inAttempt, finishPending bool
	// recorded: the record went to the recorder (a panic after that only logs).
	recorded bool
	// client is the client token the call came with (nil: none); res is its
	// budget reservation, settled when the call is recorded (spend.go).
	client *clientEntry
	res    *reservation
	// wire: the call is recorded, so the record captures headers and bodies
	// and each attempt keeps its wire record; an unrecorded call captures
	// nothing (issue 12: the observer reads none of it).
	// recvMsg and recvBuf are the attempt's response record and room for its
	// headers, allocated with its request's (wire.go).
	wire    bool
	recvMsg *Message
	recvBuf []byte
}

// attemptResult is how one attempt ended when it did not answer the client.
type attemptResult struct {
	// done: the client has its response (success, or an error that ends the call).
	done bool
	// stream: done, and a stream writer now owns the response and the record.
	stream bool
	// retryable: the same target may be tried again.
	retryable bool
	// nextTarget: skip the remaining tries of this target, go to the next one.
	nextTarget bool
	// tries is how many times this target was tried for this failure.
	tries      int
	class      ErrorClass
	status     int      // upstream status, 0 when there was no response
	hints      []Header // the upstream's rate-limit and request-id headers
	body       []byte   // upstream error body
	format     config.Format
	msg        string // what went wrong, for the client and the record
	retryAfter time.Duration
}

// serveCall routes, forwards and records one model call.
func (s *Server) serveCall(ctx *fasthttp.RequestCtx, ep endpoint, cfg *config.Config, cl *clientEntry) {
	start := time.Now()
	rec := &Call{
		ID:            callIDAt(start),
		Start:         start,
		ClientUA:      string(ctx.Request.Header.UserAgent()),
		Client:        LocalClient,
		InboundFormat: string(ep.format),
		Method:        string(ctx.Method()),
		Path:          string(ctx.Path()),
		Usage:         codec.UnknownUsage(),
	}
	rec.Attempts = rec.firstAttempt[:0]
	ctx.Response.Header.SetCanonical(headerCall, s2b(rec.ID))
	c := &call{s: s, cfg: cfg, ctx: ctx, ep: ep, rec: rec, body: ctx.PostBody(), creds: clientCreds(&ctx.Request), client: cl,
		wire: s.opts.Recorder != nil && cfg.History.RecordingEnabled()}
	if cl != nil {
		rec.Client = cl.Name
	}
	defer c.recoverPanic()
	if c.wire {
		rec.Request.HeaderBlock, rec.Request.Body, rec.Request.Truncated = captureRequest(&ctx.Request.Header, c.body, cfg.History.BodyCapBytes)
	}

	// Read the model first: a paused or malformed call shows it too (issue 16 §4);
	// gjson finds a top-level "model" in broken JSON as long as it comes first.
	rec.Model = ep.model
	if rec.Model == "" {
		rec.Model = gjson.GetBytes(c.body, "model").String()
	}

	if s.paused.Load() {
		c.fail(fasthttp.StatusServiceUnavailable, ClassProxy, "Gatehouse is paused: resume it from the tray menu")
		return
	}
	if int64(len(c.body)) > cfg.MaxBodyBytes {
		c.fail(fasthttp.StatusRequestEntityTooLarge, ClassBadRequest,
			fmt.Sprintf("request body is %d bytes; the limit is %d (max_body_bytes in config.toml)", len(c.body), cfg.MaxBodyBytes))
		return
	}
	if !gjson.ValidBytes(c.body) || !isObject(c.body) {
		c.fail(fasthttp.StatusBadRequest, ClassBadRequest, "malformed JSON in request body: "+jsonProblem(c.body))
		return
	}
	rec.Stream = ep.stream || (ep.format != config.FormatGemini && gjson.GetBytes(c.body, "stream").Bool())

	route := rec.Model
	if name, ok := strings.CutPrefix(rec.Model, config.PromptModelPrefix); ok {
		if route, ok = c.applyPrompt(name); !ok {
			return
		}
	}
	targets, err := resolve(cfg, route)
	if err != nil {
		c.fail(fasthttp.StatusNotFound, ClassNotFound, err.Error())
		return
	}
	if cl != nil && !c.admit(&targets) {
		return
	}
	// Notice a client that hangs up while nothing is sent yet (issue 19.7).
	w := c.s.hangups.watch(&c.watch, ctx.Conn(), c, start)
	defer w.stop()
	c.run(targets)
}

// hungUp is the hang-up watcher's report: the client is gone, so the attempt
// in flight is cut and nothing more is tried.
func (c *call) hungUp() {
	c.gone.Store(true)
	c.goneMu.Lock()
	if c.goneCh == nil {
		c.goneCh = closedChan
	} else {
		close(c.goneCh)
	}
	c.goneMu.Unlock()
	c.up.abort()
}

// goneChan is closed once the client hung up.
func (c *call) goneChan() <-chan struct{} {
	c.goneMu.Lock()
	defer c.goneMu.Unlock()
	if c.goneCh == nil {
		c.goneCh = make(chan struct{})
	}
	return c.goneCh
}

// closedChan is a closed channel.
var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// run tries each target in order, each up to retry.attempts times.
func (c *call) run(targets []target) {
	r := &c.cfg.Retry
	var last attemptResult
	bypass := len(c.ctx.Request.Header.Peek(BypassCircuitHeader)) > 0
	for _, t := range targets {
		name := t.provider.Name
		tk, ok, wait := c.s.circuits.allowBypass(name, time.Now(), bypass)
		if !ok {
			msg := fmt.Sprintf("%s is failing (circuit open after %d failures in a row); skipped", name, r.CircuitFailures)
			if wait > 0 {
				msg += fmt.Sprintf(" for another %s", wait.Round(time.Second))
			}
			now := time.Now()
			skip := Attempt{Provider: name, Model: t.model, Class: ClassCircuitOpen, Error: msg, Start: now}
			if wait > 0 {
				skip.CircuitUntil = now.Add(wait)
			}
			c.rec.Attempts = append(c.rec.Attempts, skip)
			last = attemptResult{class: ClassCircuitOpen, msg: msg, status: 0}
			continue
		}
		for n := 1; n <= r.Attempts; n++ {
			if c.gone.Load() || c.s.baseCtx.Err() != nil {
				c.s.circuits.release(name, tk)
				c.stopped()
				return
			}
			var delay time.Duration
			if n > 1 {
				delay = backoff(r, n-1)
				if last.retryAfter > 0 {
					delay = last.retryAfter
				}
				if !sleep(c.goneChan(), c.s.baseCtx, delay) {
					c.s.circuits.release(name, tk)
					c.stopped()
					return
				}
			}
			res := c.attempt(t, tk, delay)
			if res.done {
				return
			}
			res.tries = n
			last = res
			if res.class == ClassClientCancelled {
				c.stopped()
				return
			}
			if !res.retryable && !res.nextTarget {
				c.failWith(res)
				return
			}
			if res.nextTarget || (res.retryAfter > r.MaxDelay.Duration) || c.s.circuits.isOpen(name, time.Now()) {
				break
			}
		}
	}
	c.failWith(last)
}

// stopped ends a call whose work was cancelled: the client hung up (recorded,
// nobody to answer) or the server is shutting down.
func (c *call) stopped() {
	if c.gone.Load() {
		c.rec.Outcome = OutcomeClientCancelled
		c.rec.Error = errClientGone.Error()
		c.rec.Status = statusClientClosed
		c.ctx.SetStatusCode(statusClientClosed)
		c.ctx.SetConnectionClose()
		c.complete()
		return
	}
	c.fail(fasthttp.StatusServiceUnavailable, ClassProxy, "Gatehouse is shutting down")
}

// attempt makes one try of target t. delay is the backoff waited before it.
func (c *call) attempt(t target, tk ticket, delay time.Duration) attemptResult {
	p := t.provider
	s := c.s
	att := Attempt{Provider: p.Name, Model: t.model, Start: time.Now(), Delay: delay}
	c.tries++
	c.rec.Provider, c.rec.UpstreamModel = p.Name, t.model
	// The record is handed over only once this attempt is in it (issue 19.1).
	c.inAttempt = true
	res := c.tryTarget(t, &att)
	c.inAttempt = false
	if !res.done && c.gone.Load() {
		// The failure is the hang-up's doing (the upstream connection was cut).
		res = attemptResult{class: ClassClientCancelled, msg: errClientGone.Error()}
	}
	att.Duration = time.Since(att.Start)
	att.Class, att.Error, att.Status = res.class, res.msg, res.status
	if att.URL == "" {
		att.URL = upstreamURL(p, p.WireFormat(c.ep.format), c.ep.kind, t.model, c.rec.Stream)
	}
	// The circuit's verdict comes first: a failure that opens the circuit is
	// part of this attempt's record (issue 16 §2).
	switch {
	case res.done && res.class == ClassNone:
		if s.circuits.success(p.Name, tk) && s.opts.OnCircuit != nil {
			s.opts.OnCircuit(p.Name, false)
		}
	case res.retryable:
		opened, until := s.circuits.failure(p.Name, tk, &c.cfg.Retry, time.Now())
		att.CircuitOpened, att.CircuitUntil = !until.IsZero(), until
		if opened && s.opts.OnCircuit != nil {
			s.opts.OnCircuit(p.Name, true)
		}
	default:
		s.circuits.release(p.Name, tk)
	}
	// A stream's attempt is appended when the stream ends (stream.go).
	if !res.stream {
		c.rec.Attempts = append(c.rec.Attempts, att)
		if c.finishPending {
			c.finishPending = false
			c.finish()
		}
	}
	return res
}

// tryTarget builds and sends the upstream request and handles the response.
func (c *call) tryTarget(t target, att *Attempt) attemptResult {
	p, ep := t.provider, c.ep
	up := p.WireFormat(ep.format) // the format the upstream is spoken to in
	same := up == ep.format
	if ep.kind == kindCountTokens && !same {
		return c.estimateTokens(p)
	}
	if ep.kind != kindChat && !same {
		// 400, not 501: clients retry a 5xx (Codex did so 30 times).
		c.ctx.Response.Header.Set("x-should-retry", "false")
		return c.finalError(fasthttp.StatusBadRequest, ClassBadRequest, fmt.Sprintf(
			"%s is only forwarded to %s-format providers and %s speaks %s: ask for a model of an %s-format provider (\"provider/model\"), or use the chat endpoint of your format",
			c.rec.Path, ep.format, p.Name, p.Format, ep.format))
	}
	var upBody []byte
	var info codec.RequestInfo
	if same {
		upBody = c.body
		if up != config.FormatGemini {
			upBody = setModel(c.body, t.model)
		}
	} else {
		var err error
		upBody, info, err = codec.Request(ep.format, up, c.body, codec.RequestOptions{
			Model: t.model, Stream: c.rec.Stream, DefaultMaxTokens: c.cfg.DefaultMaxTokens, BaseURL: p.BaseURL,
		})
		switch {
		case errors.Is(err, codec.ErrUnsupported), errors.Is(err, codec.ErrInvalid):
			return c.finalError(fasthttp.StatusBadRequest, ClassBadRequest, err.Error())
		case err != nil:
			return c.finalError(fasthttp.StatusInternalServerError, ClassProxy, "translating the request: "+err.Error())
		}
	}
	if info.ClientModel == "" {
		info.ClientModel = c.rec.Model
	}

	key, src := c.s.resolveKey(p, c.creds)
	if c.wire {
		att.KeySource, att.KeyMask = c.s.keyFacts.get(src, p, key)
	}
	if !c.s.hasCredentials(p, key) {
		how := fmt.Sprintf("run `gatehouse keys set %s`", p.Name)
		if p.KeyEnv != "" {
			how += fmt.Sprintf(" or set %s", p.KeyEnv)
		}
		c.missing = append(c.missing, p.Name+" ("+how+")")
		msg := fmt.Sprintf("no API key for provider %s: %s", p.Name, how)
		if ks, ok := c.s.opts.Keys.(KeychainState); ok {
			if err := ks.Unavailable(); err != nil {
				// The key may well be in a keychain that cannot be read right now.
				msg = fmt.Sprintf("no API key for provider %s: %v; Gatehouse reads it again once the keychain is usable, no restart needed", p.Name, err)
			}
		}
		if !p.AcceptsClientKeys() && len(c.creds) > 0 {
			msg += " (a key the client sends goes only to providers with client_keys = true)"
		}
		return attemptResult{nextTarget: true, class: ClassAuth, status: 0, msg: msg}
	}

	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	url := upstreamURL(p, up, ep.kind, t.model, c.rec.Stream)
	att.URL = url
	req.SetRequestURI(url)
	req.Header.SetMethod(fasthttp.MethodPost)
	copyRequestHeaders(&req.Header, &c.ctx.Request.Header)
	if !same {
		dropVendorHeaders(&req.Header, p.Format)
	}
	req.Header.SetContentType("application/json")
	if p.Format == config.FormatAnthropic && len(req.Header.Peek("anthropic-version")) == 0 {
		req.Header.Set("anthropic-version", "2023-06-01")
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	if err := c.s.applyAuth(req, p, key, upBody); err != nil {
		return attemptResult{nextTarget: true, class: ClassAuth, msg: fmt.Sprintf("authenticating to %s: %v", p.Name, err)}
	}
	att.Method = fasthttp.MethodPost
	if c.wire {
		att.Sent, c.recvMsg = wireMessages()
		att.Sent.HeaderBlock, c.recvBuf = captureSent(&req.Header)
		att.Sent.Body, att.Sent.Truncated = c.sentBody(upBody)
	}
	if !c.rec.Stream {
		// A non-streaming answer may take minutes to its first byte (issue 19.6);
		// timedConn applies this deadline instead of first_byte_timeout.
		d := c.cfg.Retry.ResponseTimeout.Duration
		if d <= 0 {
			d = noResponseTimeout
		}
		req.SetTimeout(d)
	}

	resp := fasthttp.AcquireResponse()
	// The body is streamed from memory so that the attempt learns its
	// connection and a client hang-up can cut it (upstream_conn.go).
	body := c.up.body(c.s, upBody, resp)
	req.SetBodyStream(body, len(upBody))
	err := c.s.clientFor(p).Do(req, resp)
	c.up.timeConnect(att)
	if err != nil {
		c.up.unbind()
		fasthttp.ReleaseResponse(resp)
		class := classifyError(err, false)
		return attemptResult{retryable: c.retryable(class, err), class: class, msg: c.describeNetError(p, url, class, err)}
	}
	att.FirstByte = time.Since(att.Start)
	if c.wire {
		att.Received = c.recvMsg
		att.Received.HeaderBlock = captureReceived(&resp.Header, c.recvBuf)
	}
	status := resp.StatusCode()
	if status < 200 || status > 299 {
		defer c.up.release(resp)
		body, _ := readBody(resp, maxErrorBody)
		c.received(att, body)
		res := attemptResult{
			status: status, body: body, format: p.Format, class: classifyStatus(status),
			retryable:  containsInt(c.cfg.Retry.OnStatus, status),
			retryAfter: retryAfter(&resp.Header, time.Now()),
			hints:      clientHints(&resp.Header),
			// A rejected key is this target's problem: the next one may have a good one.
			nextTarget: status == fasthttp.StatusUnauthorized || status == fasthttp.StatusForbidden,
		}
		res.msg = fmt.Sprintf("%s answered %d: %s", p.Name, status, codec.ErrorMessage(body))
		return res
	}
	if c.rec.Stream && isEventStream(resp) {
		return c.startStream(t, resp, info, att)
	}
	if same && streamsThrough(resp) {
		return c.relayThrough(t, resp, att) // relay_big.go
	}
	defer c.up.release(resp)
	return c.relayBody(t, resp, info, same, att)
}

// retryable reports whether a transport failure may be tried again: a timeout
// after the request was written may have reached the model, which bills for
// it, so it is re-sent only with retry_timeouts (issue 19.6).
func (c *call) retryable(class ErrorClass, err error) bool {
	if class != ClassFirstByteTimeout && class != ClassIdleTimeout {
		return true
	}
	if errors.Is(err, fasthttp.ErrDialTimeout) || errors.Is(err, fasthttp.ErrNoFreeConns) {
		return true // nothing was sent
	}
	return c.cfg.Retry.RetryTimeouts
}

// relayBody answers a non-streaming success.
func (c *call) relayBody(t target, resp *fasthttp.Response, info codec.RequestInfo, same bool, att *Attempt) attemptResult {
	p := t.provider
	up := p.WireFormat(c.ep.format)
	// A pass-through relays body itself: the record's response shares it.
	// Unrecorded, nothing keeps it past the response: it is read into the
	// response's own pooled buffer instead of an allocation of its own.
	var body []byte
	pooled := same && !c.wire
	if pooled {
		body = c.ctx.Response.SwapBody(nil)[:0]
	}
	body, err := readBodyInto(body, resp, maxResponseBody)
	c.received(att, body)
	if errors.Is(err, errBodyTooBig) {
		// Sending it again would bring the same answer: not retried.
		return c.finalError(fasthttp.StatusBadGateway, ClassProxy, fmt.Sprintf(
			"%s's answer is over %d MiB, the most Gatehouse reads whole (to translate it, or when its size is not given): ask for a stream instead",
			p.Name, maxResponseBody>>20))
	}
	if err == nil && resp.Header.ContentLength() == -1 && c.up.closedByPeer() {
		// A chunked body cut at a chunk boundary: fasthttp reports a clean end.
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		class := classifyError(err, true)
		msg := fmt.Sprintf("%s: reading the response: %v", p.Name, err)
		if isTimeout(err) && c.cfg.Retry.ResponseTimeout.Duration > 0 {
			msg = fmt.Sprintf("%s: no complete response within response_timeout (%s) or idle_timeout", p.Name, c.cfg.Retry.ResponseTimeout.Duration)
		}
		return attemptResult{retryable: c.retryable(class, err), class: class, status: resp.StatusCode(), msg: msg}
	}
	out := body
	if same {
		c.rec.Usage = codec.UsageFromResponse(up, body)
	} else {
		out, c.rec.Usage, err = codec.Response(up, c.ep.format, body, info)
		if err != nil {
			return c.finalError(fasthttp.StatusBadGateway, ClassProxy,
				fmt.Sprintf("translating %s's response to %s: %v", p.Name, c.ep.format, err))
		}
	}
	ctx := c.ctx
	status := resp.StatusCode()
	if same {
		copyResponseHeaders(&ctx.Response.Header, &resp.Header)
	} else {
		ctx.Response.Header.SetContentType("application/json")
	}
	ctx.SetStatusCode(status)
	c.setAttemptsHeader()
	if pooled {
		ctx.Response.SwapBody(out) // the response's buffer back, holding the answer
	} else {
		ctx.Response.SetBodyRaw(out)
	}
	c.rec.Status = status
	c.rec.Outcome = OutcomeOK
	c.captureResponse(out)
	c.complete()
	return attemptResult{done: true, status: status}
}

// hasCredentials reports whether a call to p can be authenticated: a local
// server needs nothing; basic auth may hold only its password field.
func (s *Server) hasCredentials(p *config.Provider, key string) bool {
	if key != "" || p.NoKey || p.DefaultAuth() == "none" {
		return true
	}
	if p.DefaultAuth() == "basic" {
		_, ok := FieldLookup(s.opts.Keys, p)("password")
		return ok
	}
	return false
}

// estimateTokens answers a token count for a provider of another format, which
// has no such endpoint: about four bytes of text per token, marked as an
// estimate. Clients such as Claude Code use the count only to plan context.
func (c *call) estimateTokens(p *config.Provider) attemptResult {
	n := 0
	gjson.ParseBytes(c.body).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "model", "max_tokens", "stream":
		default:
			n += len(v.Raw)
		}
		return true
	})
	tokens := int64(n+3) / 4
	var body []byte
	if c.ep.format == config.FormatGemini {
		body = strconv.AppendInt([]byte(`{"totalTokens":`), tokens, 10)
	} else {
		body = strconv.AppendInt([]byte(`{"input_tokens":`), tokens, 10)
	}
	body = append(body, '}')
	ctx := c.ctx
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.Header.Set("X-Gatehouse-Estimate", "true; "+p.Name+" has no token-count endpoint")
	ctx.SetStatusCode(fasthttp.StatusOK)
	c.setAttemptsHeader()
	ctx.Response.SetBodyRaw(body)
	c.rec.Status, c.rec.Outcome = fasthttp.StatusOK, OutcomeOK
	c.rec.Usage.InputTokens = tokens
	c.rec.Response.Body = body
	c.complete()
	return attemptResult{done: true, status: fasthttp.StatusOK}
}

// finalError answers the client with an error that ends the call (not retried).
func (c *call) finalError(status int, class ErrorClass, msg string) attemptResult {
	c.fail(status, class, msg)
	return attemptResult{done: true, class: class, msg: msg}
}

// failWith answers the client with the last attempt's error. SDKs are told
// not to retry (x-should-retry: false) only when Gatehouse itself retried that
// failure or it is not retryable: a rate limit Gatehouse would not wait out goes
// back with the upstream's own hints, so the client can wait (issue 19.2).
func (c *call) failWith(res attemptResult) {
	ctx := c.ctx
	waitedOut := res.retryAfter > c.cfg.Retry.MaxDelay.Duration // the client may wait longer than Gatehouse
	if !waitedOut && (res.tries > 1 || (!res.retryable && !res.nextTarget && res.class != ClassNone)) {
		ctx.Response.Header.Set("x-should-retry", "false")
	}
	for _, h := range res.hints {
		ctx.Response.Header.Set(h.Name, h.Value)
	}
	msg := res.msg
	if len(c.missing) > 0 && res.status != 0 {
		msg += "; targets without a key: " + strings.Join(c.missing, ", ")
	}
	if res.status > 0 && res.body != nil {
		status, body := codec.TranslateError(res.format, c.ep.format, res.status, res.body)
		c.respondError(status, body, msg)
		return
	}
	status := failStatus(res.class)
	switch res.class {
	case ClassAuth:
		status = fasthttp.StatusUnauthorized
		if len(c.missing) > 1 {
			msg = "no target of this model has a usable API key: " + strings.Join(c.missing, ", ")
		}
	case ClassCircuitOpen:
		status = fasthttp.StatusServiceUnavailable
	case ClassNone:
		status = fasthttp.StatusBadGateway
	}
	if msg == "" {
		msg = "no provider could answer"
	}
	c.respondError(status, codec.ErrorBody(c.ep.format, status, msg, "gatehouse_"+string(res.class)), msg)
}

// fail answers with a Gatehouse error in the client's format.
func (c *call) fail(status int, class ErrorClass, msg string) {
	c.respondError(status, codec.ErrorBody(c.ep.format, status, msg, gatehouseCode(class)), msg)
}

func gatehouseCode(class ErrorClass) string {
	if class == ClassNone {
		return ""
	}
	return "gatehouse_" + string(class)
}

func (c *call) respondError(status int, body []byte, msg string) {
	ctx := c.ctx
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(status)
	c.setAttemptsHeader()
	ctx.Response.SetBodyRaw(body)
	c.rec.Status = status
	c.rec.Outcome = OutcomeError
	c.rec.Error = msg
	c.captureResponse(body)
	c.complete()
}

func (c *call) setAttemptsHeader() {
	var buf [8]byte
	c.ctx.Response.Header.SetCanonical(headerAttempts, strconv.AppendInt(buf[:0], int64(c.tries), 10))
}

// complete records the call once the response is sent; inside an attempt it
// waits for the attempt to be appended to the record.
func (c *call) complete() {
	if c.inAttempt {
		c.finishPending = true
		return
	}
	c.finish()
}

// finish completes the record and hands it to the recorder.
func (c *call) finish() {
	c.recorded = true
	c.redactClientKeys()
	now := time.Now()
	c.rec.Duration = now.Sub(c.rec.Start)
	if c.rec.TTFB == 0 && c.rec.Outcome != OutcomeClientCancelled {
		c.rec.TTFB = c.rec.Duration
	}
	c.price()
	c.settle(now)
	if o := c.s.opts.Observer; o != nil {
		o.Observe(c.rec)
	}
	if r := c.s.opts.Recorder; r != nil && c.cfg.History.RecordingEnabled() {
		r.Record(c.rec)
	}
}

// The headers every call answers with, in canonical form: set with
// SetCanonical, they skip fasthttp's normalising of the name.
var (
	headerCall     = []byte("X-Gatehouse-Call")
	headerAttempts = []byte("X-Gatehouse-Attempts")
)

// s2b is s as bytes without a copy, for fasthttp setters, which copy.
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// inPlace is b as a string without a copy, for gjson lookups whose results
// do not outlive b (GetBytes copies what it finds).
func inPlace(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// setModel returns body with its top-level "model" set to model (the body
// itself when it already is).
func setModel(body []byte, model string) []byte {
	r := gjson.Get(inPlace(body), "model")
	if r.Type == gjson.String && r.Str == model {
		return body
	}
	q := strconv.AppendQuote(nil, model)
	if !r.Exists() || r.Index == 0 {
		// No model field (or not addressable): add one after the opening brace.
		i := bytes.IndexByte(body, '{')
		if i < 0 {
			return body
		}
		out := make([]byte, 0, len(body)+len(q)+10)
		out = append(out, body[:i+1]...)
		out = append(out, `"model":`...)
		out = append(out, q...)
		if rest := bytes.TrimSpace(body[i+1:]); len(rest) > 0 && rest[0] != '}' {
			out = append(out, ',')
		}
		return append(out, body[i+1:]...)
	}
	out := make([]byte, 0, len(body)-len(r.Raw)+len(q))
	out = append(out, body[:r.Index]...)
	out = append(out, q...)
	return append(out, body[r.Index+len(r.Raw):]...)
}

// dropVendorHeaders removes the client vendor's headers when the target speaks
// another format.
func dropVendorHeaders(h *fasthttp.RequestHeader, target config.Format) {
	var drop []string
	for k := range h.All() {
		name := lowerASCII(k)
		if (strings.HasPrefix(name, "anthropic-") && target != config.FormatAnthropic) ||
			(strings.HasPrefix(name, "openai-") && target != config.FormatOpenAI) ||
			(strings.HasPrefix(name, "x-goog-") && target != config.FormatGemini) {
			drop = append(drop, string(k))
		}
	}
	for _, k := range drop {
		h.Del(k)
	}
}

func isEventStream(resp *fasthttp.Response) bool {
	return bytes.HasPrefix(resp.Header.ContentType(), []byte("text/event-stream"))
}

// readBody reads a streamed response body up to limit bytes.
func readBody(resp *fasthttp.Response, limit int) ([]byte, error) {
	return readBodyInto(nil, resp, limit)
}

// readBodyInto is readBody appending to buf[:0], which it grows when the body
// does not fit.
func readBodyInto(buf []byte, resp *fasthttp.Response, limit int) ([]byte, error) {
	bs := resp.BodyStream()
	if bs == nil {
		return append(buf[:0], resp.Body()...), nil
	}
	n := resp.Header.ContentLength()
	if n < 0 || n > limit {
		n = 4096
	}
	if cap(buf) < n+1 {
		buf = make([]byte, 0, n+1)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := bs.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if len(buf) > limit {
			return buf[:limit], fmt.Errorf("response body over %d bytes: %w", limit, errBodyTooBig)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// describeNetError explains a transport failure in plain words.
func (c *call) describeNetError(p *config.Provider, url string, class ErrorClass, err error) string {
	where := p.Name + " (" + redactURL(url) + ")"
	if class == ClassFirstByteTimeout && !c.rec.Stream && !errors.Is(err, fasthttp.ErrDialTimeout) {
		return fmt.Sprintf("no response from %s within response_timeout (%s)", where, c.cfg.Retry.ResponseTimeout.Duration)
	}
	switch class {
	case ClassRefused:
		return "connection refused at " + where + ": is the server running?"
	case ClassDNS:
		return "cannot resolve the host of " + where + ": " + err.Error()
	case ClassTLS:
		return "TLS failure talking to " + where + ": " + err.Error()
	case ClassFirstByteTimeout:
		return "no response from " + where + " within first_byte_timeout"
	case ClassIdleTimeout:
		return where + " went silent for idle_timeout"
	}
	return "connection to " + where + " failed: " + err.Error()
}

// redactURL removes a key=... query parameter.
func redactURL(u string) string {
	i := strings.Index(u, "key=")
	if i < 0 {
		return u
	}
	j := strings.IndexByte(u[i:], '&')
	if j < 0 {
		return u[:i] + "key=[REDACTED]"
	}
	return u[:i] + "key=[REDACTED]" + u[i+j:]
}

// capCopy copies at most limit bytes of b.
func capCopy(b []byte, limit int) ([]byte, bool) {
	if limit > 0 && len(b) > limit {
		return append([]byte(nil), b[:limit]...), true
	}
	return append([]byte(nil), b...), false
}

// capSlice returns at most limit bytes of b without copying (b must not change).
func capSlice(b []byte, limit int) ([]byte, bool) {
	if limit > 0 && len(b) > limit {
		return b[:limit:limit], true
	}
	return b, false
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// jsonProblem describes the first syntax error in b for the 400 message.
func jsonProblem(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return "the body is empty"
	}
	var v struct{}
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(b[:se.Offset], []byte("\n"))
		return fmt.Sprintf("%v (line %d, byte %d)", se, line, se.Offset)
	}
	if err != nil {
		return err.Error()
	}
	return "not a JSON object"
}
