package proxy

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
)

// An attempt's wire record (issue 16): what Gatehouse sent upstream and what
// came back, kept only when the call is recorded. Bodies that are the client's
// own share its memory instead of being copied; the store then keeps them once.

// keySourceLabel names where an attempt's key came from, as the record shows it.
func keySourceLabel(src keySource, p *config.Provider) string {
	if src == sourceEnv {
		return "env " + p.KeyEnv
	}
	return string(src)
}

// keyFacts caches the key source label and mask of an attempt: working them
// out for each attempt would cost allocations on the request path. Keys a
// client sent are not kept past their call. The map is replaced, never
// changed: a read takes no lock (a read lock's count is written by every
// call, from every core).
type keyFacts struct {
	mu sync.Mutex // one writer at a time
	m  atomic.Pointer[map[keyFactsKey]keyFact]
}

type keyFactsKey struct {
	src      keySource
	env, key string
}

type keyFact struct{ label, mask string }

// maxKeyFacts bounds the cache (keys change rarely; a full cache starts over).
const maxKeyFacts = 64

// get returns the label and mask for key from src for provider p.
func (kf *keyFacts) get(src keySource, p *config.Provider, key string) (label, mask string) {
	if src == sourceClient {
		return string(src), MaskKey(key)
	}
	k := keyFactsKey{src: src, env: p.KeyEnv, key: key}
	if m := kf.m.Load(); m != nil {
		if f, ok := (*m)[k]; ok {
			return f.label, f.mask
		}
	}
	f := keyFact{label: keySourceLabel(src, p), mask: MaskKey(key)}
	kf.mu.Lock()
	defer kf.mu.Unlock()
	next := make(map[keyFactsKey]keyFact)
	if m := kf.m.Load(); m != nil && len(*m) < maxKeyFacts {
		maps.Copy(next, *m)
	}
	next[k] = f
	kf.m.Store(&next)
	return f.label, f.mask
}

// wireMessages allocates an attempt's two wire messages at once; the second
// is used only once a response came.
func wireMessages() (sent, received *Message) {
	m := new([2]Message)
	return &m[0], &m[1]
}

// sentBody is the record of the body an attempt sent: the record's copy of the
// client's body when it went unchanged (no copy), else the attempt's own
// body (built for this attempt, never reused), capped.
func (c *call) sentBody(up []byte) ([]byte, bool) {
	if len(up) == len(c.body) && (len(up) == 0 || &up[0] == &c.body[0]) {
		return c.rec.Request.Body, c.rec.Request.Truncated
	}
	return capSlice(up, c.cfg.History.BodyCapBytes)
}

// captureResponse puts the client's response on the record of a recorded
// call: its headers and body (capped, shared: body must not change).
func (c *call) captureResponse(body []byte) {
	if !c.wire {
		return
	}
	c.rec.Response.HeaderBlock = captureHeaders(c.ctx.Response.Header.All())
	c.rec.Response.Body, c.rec.Response.Truncated = capSlice(body, c.cfg.History.BodyCapBytes)
}

// received records the body an attempt got back (owned by the attempt: read
// for it, never reused), capped.
func (c *call) received(att *Attempt, body []byte) {
	if att.Received != nil {
		att.Received.Body, att.Received.Truncated = capSlice(body, c.cfg.History.BodyCapBytes)
	}
}

// timeConnect sets att.Connect: when fasthttp began writing the request body,
// the connection was ready (dialled, or taken from the idle pool).
func (u *upstreamConn) timeConnect(att *Attempt) {
	if !u.rd.started.IsZero() {
		att.Connect = u.rd.started.Sub(att.Start)
	}
}

// appendCapped appends b to dst up to limit bytes in all; it reports whether
// anything was cut.
func appendCapped(dst, b []byte, limit int) ([]byte, bool) {
	room := limit - len(dst)
	if room <= 0 {
		return dst, len(b) > 0
	}
	if len(b) > room {
		return append(dst, b[:room]...), true
	}
	return append(dst, b...), false
}

// rawEvents joins the raw bytes of events read before a stream was committed:
// the response of an attempt whose stream failed before its first data event.
func rawEvents(evs []sse.Event) []byte {
	n := 0
	for _, ev := range evs {
		n += len(ev.Raw)
	}
	out := make([]byte, 0, n)
	for _, ev := range evs {
		out = append(out, ev.Raw...)
	}
	return out
}
