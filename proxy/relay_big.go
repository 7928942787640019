package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// A non-streaming answer is read whole before the client sees it: it can still
// be retried if the upstream breaks off, and a translated one needs all of it.
// A same-format answer of known size over streamThrough is relayed as it comes
// instead, so that a 200 MB answer does not cost 200 MB (issue 15 §2); the
// history keeps its first body_cap_bytes and the usage found at its end.

// streamThrough is the size from which a same-format answer streams through.
const streamThrough = 8 << 20

// usageTail is how much of a streamed-through answer's end is kept to find its
// usage, which every format puts last.
const usageTail = 8 << 10

// streamsThrough reports whether a same-format answer streams through.
func streamsThrough(resp *fasthttp.Response) bool {
	return resp.BodyStream() != nil && resp.Header.ContentLength() > streamThrough
}

// relayThrough commits the upstream's status and headers and lets fasthttp
// copy the body to the client after the handler returns; bigBody completes
// the record when the copy ends. Nothing may touch resp or the record after.
func (c *call) relayThrough(t target, resp *fasthttp.Response, att *Attempt) attemptResult {
	ctx := c.ctx
	status := resp.StatusCode()
	copyResponseHeaders(&ctx.Response.Header, &resp.Header)
	ctx.SetStatusCode(status)
	c.setAttemptsHeader()
	c.rec.Status = status
	c.captureResponse(nil) // the body's head is kept as it goes (bigBody.keep)
	// From here a hang-up shows as a failed write to the client.
	c.up.unbind()
	b := &bigBody{c: c, t: t, att: *att, resp: resp, r: resp.BodyStream(), size: resp.Header.ContentLength()}
	ctx.Response.SetBodyStream(b, b.size)
	return attemptResult{done: true, stream: true, status: status}
}

// bigBody is a streamed-through answer as fasthttp copies it to the client.
type bigBody struct {
	c    *call
	t    target
	att  Attempt
	resp *fasthttp.Response
	r    io.Reader
	size int
	n    int    // bytes read so far
	head []byte // the first body_cap_bytes, for the record
	tail []byte // the last usageTail bytes
	err  error  // the upstream's read error, if any
}

func (b *bigBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.keep(p[:n])
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = err
	}
	return n, err
}

// keep copies what the record needs of p: the head up to the cap, the tail.
func (b *bigBody) keep(p []byte) {
	b.n += len(p)
	if b.c.wire {
		b.head, _ = appendCapped(b.head, p, b.c.cfg.History.BodyCapBytes)
	}
	if len(p) >= usageTail {
		b.tail = append(b.tail[:0], p[len(p)-usageTail:]...)
		return
	}
	if over := len(b.tail) + len(p) - usageTail; over > 0 {
		b.tail = append(b.tail[:0], b.tail[over:]...)
	}
	b.tail = append(b.tail, p...)
}

// CloseWithError is called by fasthttp once the copy ended; werr is why it
// failed (nil: the client has the whole body).
func (b *bigBody) CloseWithError(werr error) error {
	c, rec := b.c, b.c.rec
	switch {
	case werr == nil && b.n == b.size:
		rec.Outcome = OutcomeOK
	case b.err == nil && b.n < b.size && werr != nil:
		// The upstream had more: the client's side failed.
		if bs, ok := b.resp.BodyStream().(fasthttp.ReadCloserWithError); ok {
			_ = bs.CloseWithError(errClientGone)
		}
		rec.Outcome, b.att.Class = OutcomeClientCancelled, ClassClientCancelled
		rec.Error = errClientGone.Error()
	default:
		class := ClassMidStream
		if isTimeout(b.err) {
			class = ClassIdleTimeout
		}
		msg := fmt.Sprintf("%s: the response broke off after %d of %d bytes: %v", b.t.provider.Name, b.n, b.size, cmpErr(b.err, werr))
		rec.Outcome, rec.Error, b.att.Class = OutcomePartial, msg, class
	}
	b.att.Error = rec.Error
	b.att.Status = rec.Status
	b.att.Duration = time.Since(b.att.Start)
	fasthttp.ReleaseResponse(b.resp)
	c.received(&b.att, b.head)
	rec.Attempts = append(rec.Attempts, b.att)
	rec.Usage = tailUsage(b.t.provider.WireFormat(c.ep.format), b.tail)
	rec.Response.Body, rec.Response.Truncated = b.head, b.n > len(b.head)
	c.finish()
	return nil
}

// cmpErr is the first non-nil error.
func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return io.ErrUnexpectedEOF
}

// tailUsage reads the usage from the end of an answer of format f: its last
// "usage" (Gemini: "usageMetadata") member, which closes the object.
func tailUsage(f config.Format, tail []byte) codec.Usage {
	for _, key := range []string{`"usage"`, `"usageMetadata"`} {
		if i := bytes.LastIndex(tail, []byte(key)); i >= 0 {
			return codec.UsageFromResponse(f, append([]byte("{"), tail[i:]...))
		}
	}
	return codec.UnknownUsage()
}
