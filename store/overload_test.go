package store

import (
	"testing"
	"time"
)

// TestOverloadDropsBodiesFirstThenCalls floods a small queue while the writer is
// stuck (its transaction lock is held, as during a slow commit) and checks that
// Record never waits, that bodies go before calls, and the counters.
func TestOverloadDropsBodiesFirstThenCalls(t *testing.T) {
	h := openTest(t, Options{QueueSize: 100, FlushInterval: 10 * time.Millisecond})
	h.mu.Lock() // the writer blocks in its first commit, of this call:
	h.Record(callAt(time.Now().Add(-time.Second), OutcomeOK, "openai"), nil)
	time.Sleep(50 * time.Millisecond)
	base := time.Now()
	const n = 300
	ids := make([]string, n)
	queued := make([]bool, n)
	refused := 0
	start := time.Now()
	for i := range n {
		c := callAt(base.Add(time.Duration(i)*time.Millisecond), OutcomeOK, "openai")
		ids[i] = c.ID
		queued[i] = h.Record(c, bodiesOf(reqBody(i), "{}"))
		if !queued[i] {
			refused++
		}
	}
	took := time.Since(start)
	h.mu.Unlock()
	if took > time.Second {
		t.Errorf("%d Record calls took %v with a stuck writer: Record must not wait", n, took)
	}
	d := h.Drops()
	if refused == 0 || d.Calls != uint64(refused) {
		t.Fatalf("refused %d calls, Drops %+v: want some refused, all counted", refused, d)
	}
	h.Flush()
	firstRefused := -1
	for i, q := range queued {
		if !q {
			firstRefused = i
			break
		}
	}
	bodiesDropped, firstBodiesDropped := 0, -1
	for i, id := range ids {
		c, err := h.Get(id)
		if queued[i] != (err == nil) {
			t.Fatalf("call %d: queued %v but Get err %v", i, queued[i], err)
		}
		if err == nil && c.BodiesDropped {
			bodiesDropped++
			if firstBodiesDropped < 0 {
				firstBodiesDropped = i
			}
			if c.Request != nil {
				t.Errorf("call %d marked bodies_dropped has a request body", i)
			}
		}
	}
	if firstBodiesDropped < 0 || firstBodiesDropped > firstRefused {
		t.Errorf("first call without bodies %d, first call refused %d: bodies must go first", firstBodiesDropped, firstRefused)
	}
	if d.Bodies != uint64(bodiesDropped) {
		t.Errorf("Drops.Bodies = %d, stored calls without bodies %d", d.Bodies, bodiesDropped)
	}
}

func TestOverloadByBytesDropsBodies(t *testing.T) {
	h := openTest(t, Options{QueueBytes: 1 << 20, FlushInterval: 10 * time.Millisecond})
	h.mu.Lock() // the writer blocks in its first commit, of this call:
	h.Record(callAt(time.Now().Add(-time.Second), OutcomeOK, "openai"), nil)
	time.Sleep(50 * time.Millisecond)
	big := padBody(100 << 10)
	for i := range 20 {
		h.Record(callAt(time.Now().Add(time.Duration(i)*time.Millisecond), OutcomeOK, "openai"), bodiesOf("{}", big))
	}
	h.mu.Unlock()
	if d := h.Drops(); d.Calls != 0 || d.Bodies != 15 {
		t.Errorf("Drops = %+v, want 0 calls and 15 bodies (only 512 KiB of bodies may wait)", d)
	}
}
