package store

import "time"

// Yielding in the writer's long loops (issue 15 §1). Under a load that keeps
// hundreds of goroutines runnable on two cores (the soak's 1,000 streams), an
// execution trace showed the writer goroutine runnable but waiting for 5.9 s
// of every 6: a goroutine that runs for 10 ms is preempted onto the
// scheduler's global queue, which each processor looks at once in 61 turns,
// and the writer waited there for hundreds of milliseconds each time while
// its queue of calls filled up and bodies were dropped. A goroutine woken by a
// timer runs next on the processor that fired it instead. So the writer, in
// the loops of a batch (encoding, puts, the size budget's deletes), sleeps a
// moment after each yieldAfter of work: it gives up its turn before it is
// taken, and comes back next.

// yieldAfter is the work between yields; yieldFor the sleep, as short as the
// timer allows.
const (
	yieldAfter = time.Millisecond
	yieldFor   = time.Microsecond
)

// yield is yieldEvery for loops inside a write transaction: bbolt's write lock
// serializes them (the writer's batches, retention's deletes).
func (h *History) yield() { yieldEvery(&h.txYield) }

// yieldEvery sleeps a moment once yieldAfter has passed since *last, and
// notes when it did.
func yieldEvery(last *time.Time) {
	if time.Since(*last) < yieldAfter {
		return
	}
	time.Sleep(yieldFor)
	*last = time.Now()
}
