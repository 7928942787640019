package cli

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// KeepMemoryLimit gives serve a soft memory limit of floor that rises with the
// live heap, to 1.5 × it, and comes back down when the heap does; it returns
// when done is closed. A fixed limit below what the open calls need makes the
// collector run without pause (at 1,000 open streams, ~100 MB live against 100
// MiB: GC took half the CPU, throughput fell to a third and the history
// dropped calls, issue 15); above the live heap the limit still keeps the heap
// from growing to twice it, which is what keeps 500 streams within 150 MB
// resident (issue 17).
func KeepMemoryLimit(floor int64, every time.Duration, done <-chan struct{}) {
	debug.SetMemoryLimit(floor)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return // the runtime no longer reports it: keep the floor
		}
		debug.SetMemoryLimit(memoryLimitFor(int64(sample[0].Value.Uint64()), floor))
	}
}

// memoryLimitFor is the soft limit for a live heap of live bytes.
func memoryLimitFor(live, floor int64) int64 {
	return max(floor, live+live/2)
}
