package store

import (
	"fmt"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// maxBatch bounds the calls of one write transaction, and maxBatchBytes its
// body bytes (also at most a 16th of the size budget, so that one batch never
// takes the file far past it).
const (
	maxBatch      = 4096
	maxBatchBytes = 16 << 20
)

// pending is a call waiting for the writer.
type pending struct {
	call   *Call
	bodies *Bodies
	size   int64
}

// Drops counts what overload kept out of the history since the file was opened.
type Drops struct {
	Calls  uint64 // calls not recorded at all: the queue was full
	Bodies uint64 // calls recorded without their bodies
}

// Drops returns the drop counters.
func (h *History) Drops() Drops {
	return Drops{Calls: h.droppedCalls.Load(), Bodies: h.droppedBodies.Load()}
}

// Record queues a finished call for writing and returns at once: it never waits
// for the disk. bodies may be nil. Under overload bodies are dropped first (once
// the queue is half full, in calls or in bytes), then whole calls (queue full);
// both are counted in Drops. Record reports whether the call was queued (false
// too once Close has begun). The History owns c and bodies afterwards.
func (h *History) Record(c *Call, bodies *Bodies) bool {
	if h.closing.Load() {
		return false // the writer is gone: nothing queued now would be written
	}
	size := bodies.size()
	queued := h.queuedBytes.Load()
	droppedBodies := false
	if bodies != nil && (queued+size > h.opts.QueueBytes/2 || len(h.queue) > cap(h.queue)/2) {
		// The caller may hold bodies with c in one allocation, and Attempts in
		// an array beside them (ui/cli's record): clear what they point at too,
		// or each queued call keeps its attempts' bodies alive (issue 15's soak
		// found 16,384 queued streams holding 270 MB).
		clear(bodies.Attempts)
		*bodies = Bodies{}
		bodies, size, droppedBodies = nil, 0, true
		c.BodiesDropped = true
	}
	h.queuedBytes.Add(size)
	select {
	case h.queue <- pending{call: c, bodies: bodies, size: size}:
		if droppedBodies {
			h.droppedBodies.Add(1)
		}
		// The writer sleeps until its next tick, so the request path wakes no
		// goroutine per call; it is kicked early only once the queue fills up.
		if len(h.queue) > cap(h.queue)/4 || queued+size > h.opts.QueueBytes/4 {
			select {
			case h.kick <- struct{}{}:
			default:
			}
		}
		return true
	default:
		h.queuedBytes.Add(-size)
		h.droppedCalls.Add(1)
		return false
	}
}

// Flush returns once every call queued before it is committed (or the History
// is closed).
func (h *History) Flush() {
	ack := make(chan struct{})
	select {
	case h.flushReq <- ack:
		<-ack
	case <-h.stop:
	}
}

// writeLoop commits queued calls in batches, at least every FlushInterval.
func (h *History) writeLoop() {
	defer h.done.Done()
	tick := time.NewTicker(h.opts.FlushInterval)
	defer tick.Stop()
	w := &writer{h: h}
	batch := make([]pending, 0, 256)
	var lastDrops Drops
	lastReport := time.Now()
	var batchBytes int64
	drain := func() {
		for {
			select {
			case p := <-h.queue:
				batch = append(batch, p)
				batchBytes += p.size
				if len(batch) >= maxBatch || batchBytes >= w.maxBytes() {
					batch, batchBytes = w.commit(batch), 0
				}
			default:
				return
			}
		}
	}
	for {
		select {
		case <-h.kick:
			drain()
			batch, batchBytes = w.commit(batch), 0
		case <-tick.C:
			drain()
			batch, batchBytes = w.commit(batch), 0
			w.syncIfDue(false)
			w.idle()
			if d := h.Drops(); d != lastDrops && time.Since(lastReport) > 10*time.Second {
				h.log.Warn("history overloaded: calls not recorded", "calls_dropped", d.Calls, "bodies_dropped", d.Bodies)
				lastDrops, lastReport = d, time.Now()
			}
		case ack := <-h.flushReq:
			drain()
			batch, batchBytes = w.commit(batch), 0
			close(ack)
		case <-h.stop:
			drain()
			w.commit(batch)
			w.syncIfDue(true)
			if d := h.Drops(); d != (Drops{}) {
				h.log.Warn("history overloaded: calls not recorded", "calls_dropped", d.Calls, "bodies_dropped", d.Bodies)
			}
			return
		}
	}
}

// writer is the state of the writer goroutine.
type writer struct {
	h          *History
	red        *redactor
	redFetched time.Time
	wrote      bool      // committed since the pages were last released
	released   time.Time // when they were
	busy       bool      // committed since OnIdle was last called
	lastCommit time.Time
	synced     time.Time // when the file was last synced
	buf        []byte    // the batch's encoded values (commit)
	out        []encoded // the batch's encoded calls (commit)
	lastYield  time.Time // yield.go, while encoding
}

// redactor returns the redactor, asking for the secrets again when stale.
func (w *writer) redactor() *redactor {
	if w.red == nil || time.Since(w.redFetched) > w.h.opts.SecretsRefresh {
		var secrets []string
		if w.h.opts.Secrets != nil {
			secrets = w.h.opts.Secrets()
		}
		w.red, w.redFetched = newRedactor(secrets), time.Now()
	}
	return w.red
}

// maxBytes is the body bytes past which a batch is committed.
func (w *writer) maxBytes() int64 {
	if limit := w.h.policy.Load().MaxSize; limit > 0 {
		return min(maxBatchBytes, limit/16)
	}
	return maxBatchBytes
}

// encoded is a call ready to put.
type encoded struct {
	key, summary, bodies []byte
	call                 *Call
}

// commit writes batch in one transaction and returns it emptied. A panic in it
// (a payload the encoder chokes on, a failing secrets source) loses this batch,
// counted as dropped, and never the process: the stack goes to the log.
func (w *writer) commit(batch []pending) (emptied []pending) {
	if len(batch) == 0 {
		return batch
	}
	h := w.h
	var bytes int64
	for _, p := range batch {
		bytes += p.size
	}
	h.queuedBytes.Add(-bytes)
	defer func() {
		if r := recover(); r != nil {
			h.droppedCalls.Add(uint64(len(batch)))
			h.log.Error("history writer panicked: batch not recorded", "calls", len(batch), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			clear(batch)
			emptied = batch[:0]
		}
	}()
	red := w.redactor()
	pol := h.policy.Load()
	// The batch's list of encoded calls is reused too: at thousands of calls a
	// second it is a large object, allocated fresh (and faulted in) per batch.
	out := w.out[:0]
	// One buffer, reused from batch to batch, holds the batch's values: bbolt
	// keeps them only until the commit. A fresh one per batch cost more than the
	// encoding (zeroed, faulted in, then scavenged).
	if need := int(bytes) + len(batch)*encodedOverhead; cap(w.buf) < need {
		w.buf = make([]byte, 0, need)
	}
	buf := w.buf[:0]
	var need int64
	for i := range batch {
		yieldEvery(&w.lastYield)
		p := &batch[i]
		var e encoded
		var err error
		e, buf, err = encodeCall(p, red, pol.BodyCap, buf)
		if err != nil {
			h.log.Error("history: call not recorded", "id", p.call.ID, "err", err)
			continue
		}
		need += int64(len(e.key)+len(e.summary)+len(e.bodies)) + 4*32
		out = append(out, e)
	}
	h.waitCopy()
	w.wrote, w.busy, w.lastCommit = true, true, time.Now()
	err := h.update(func(tx *bolt.Tx) error {
		calls, bodies, failed := tx.Bucket(bucketCalls), tx.Bucket(bucketBodies), tx.Bucket(bucketFailed)
		byProvider := providerIndex{parent: tx.Bucket(bucketByProvider)}
		if err := h.trim(tx, need, pol.MaxSize); err != nil { // budget.go: the oldest calls make room
			return fmt.Errorf("make room: %w", err)
		}
		// Keys are time-ordered, so calls are appended: fill the pages instead
		// of bbolt's half-full splits (half the pages to write and to keep).
		for _, b := range []*bolt.Bucket{calls, bodies, failed} {
			b.FillPercent = appendFill
		}
		for _, e := range out {
			h.yield()
			h.touch(e.key)
			if err := calls.Put(e.key, e.summary); err != nil {
				return err
			}
			if e.bodies != nil {
				if err := bodies.Put(e.key, e.bodies); err != nil {
					return err
				}
			}
			if e.call.Failed() {
				if err := failed.Put(e.key, nil); err != nil {
					return err
				}
			}
			if err := byProvider.add(e.call.Provider, e.key); err != nil {
				return err
			}
		}
		return rollupBatch(tx, out) // rollup.go: the hourly usage, in the same commit
	})
	h.setWriteErr(err) // a full disk degrades the history until a commit works again (fault.go)
	w.buf = buf[:0]    // the values are on disk: the buffer is free again
	if err != nil {
		h.droppedCalls.Add(uint64(len(out)))
		h.log.Error("history: batch not written", "calls", len(out), "err", err)
	} else {
		for _, e := range out {
			h.feed.publish(e.call)
		}
	}
	clear(out)
	w.out = out[:0]
	w.syncIfDue(false)
	w.upkeep()
	clear(batch)
	return batch[:0]
}

// encodedOverhead is the room a call takes in the batch buffer besides its
// bodies: the summary and the header blocks, typically.
const encodedOverhead = 2 << 10

// encodeCall redacts, caps and encodes one call, appending its values to buf.
func encodeCall(p *pending, red *redactor, limit int, buf []byte) (encoded, []byte, error) {
	c := p.call
	key, id := keyOf(c.ID, c.Time)
	c.ID = id
	red.summary(c)
	c.Request, c.Response, c.Events, c.EventsTruncated = nil, nil, "", false
	e := encoded{key: key, call: c}
	start := len(buf)
	buf = appendSummary(buf, c)
	e.summary = buf[start:len(buf):len(buf)]
	if p.bodies != nil {
		start = len(buf)
		var err error
		if buf, err = appendBodies(buf, p.bodies, red, limit); err != nil {
			return encoded{}, buf[:start], fmt.Errorf("call %s: %w", c.ID, err)
		}
		e.bodies = buf[start:len(buf):len(buf)]
		// The bodies are in buf now. Let go of the captured ones: the call
		// lives on in the feed's subscribers, and the caller may have allocated
		// it with its bodies (ui/cli's record).
		clear(p.bodies.Attempts)
		*p.bodies = Bodies{}
	}
	return e, buf, nil
}

// appendFill is the fill of pages split while appending.
const appendFill = 0.95

// indexProvider adds key to the provider's index bucket.
func indexProvider(idx *bolt.Bucket, provider string, key []byte) error {
	if provider == "" {
		return nil
	}
	b, err := providerBucket(idx, provider)
	if err != nil {
		return err
	}
	return b.Put(key, nil)
}

// providerBucket opens (or creates) the provider's index bucket for appending.
func providerBucket(idx *bolt.Bucket, provider string) (*bolt.Bucket, error) {
	b, err := idx.CreateBucketIfNotExists([]byte(provider))
	if err != nil {
		return nil, fmt.Errorf("index provider %q: %w", provider, err)
	}
	b.FillPercent = appendFill
	return b, nil
}

// providerIndex is indexProvider for many keys in one write transaction. It
// keeps each provider's bucket at hand: opening it by name for every call (a
// copy of the name, a lookup, a logger check) was a twentieth of the writer's
// time (issue 12).
type providerIndex struct {
	parent *bolt.Bucket
	opened map[string]*bolt.Bucket
}

// add adds key to the provider's index bucket.
func (x *providerIndex) add(provider string, key []byte) error {
	if provider == "" {
		return nil
	}
	b := x.opened[provider]
	if b == nil {
		var err error
		if b, err = providerBucket(x.parent, provider); err != nil {
			return err
		}
		if x.opened == nil {
			x.opened = make(map[string]*bolt.Bucket, 4)
		}
		x.opened[provider] = b
	}
	return b.Put(key, nil)
}
