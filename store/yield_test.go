package store

import (
	"testing"
	"time"
)

// TestYieldEveryMillisecond checks the writer's yield bookkeeping: it gives up
// its turn once a millisecond of work has passed since the last time, and not
// on every call (a loop of puts calls it per call). What the yield buys, the
// writer keeping up under 1,000 streams, only `make soak` shows.
func TestYieldEveryMillisecond(t *testing.T) {
	var last time.Time
	before := time.Now()
	yieldEvery(&last)
	if last.Before(before) {
		t.Fatalf("after a long spell of work the writer did not yield (last %v, before %v)", last, before)
	}
	first := last
	for range 100 {
		yieldEvery(&last)
	}
	if elapsed := time.Since(first); elapsed < yieldAfter && !last.Equal(first) {
		t.Errorf("yielded again within %v of work: want once per %v", elapsed, yieldAfter)
	}
	time.Sleep(2 * yieldAfter)
	yieldEvery(&last)
	if !last.After(first) {
		t.Errorf("no yield after %v of work", 2*yieldAfter)
	}
}
