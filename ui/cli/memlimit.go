package cli

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// KeepMemoryLimit gives serve a soft memory limit of floor that rises with the
// live heap and comes back down when the heap does; it returns when done is
// closed. bodies reports the most request body bytes held at once since it
// was last called (proxy.Server.RequestBodiesPeak; nil: none).
//
// A fixed limit below what the open calls need makes the collector run
// without pause (at 1,000 open streams, ~100 MB live against 100 MiB: GC took
// half the CPU and the history dropped calls, issue 15). A limit at 1.5 × the
// live heap still ran it twice as often as Go's default, and the history
// writer, whose allocations start and finish most cycles, dropped bodies; at
// 2 × the soak records everything. Request bodies are the exception: they are
// held whole while their calls last, up to the proxy's 128 MiB budget, and
// twice them is what took 100 concurrent 10 MiB uploads past their 300 MB
// bound. So the rest of the heap gets its own size again as headroom, the
// bodies none. The floor keeps 500 streams within 150 MB resident (issue 17).
func KeepMemoryLimit(floor int64, every time.Duration, bodies func() int64, done <-chan struct{}) {
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
		var held int64
		if bodies != nil {
			held = bodies()
		}
		debug.SetMemoryLimit(memoryLimitFor(int64(sample[0].Value.Uint64()), held, floor))
	}
}

// memoryLimitFor is the soft limit for a live heap of live bytes, bodies of
// them request bodies: twice the rest, and the bodies once. The bodies' peak
// and the live heap are sampled at different moments, so the peak may exceed it.
func memoryLimitFor(live, bodies, floor int64) int64 {
	return max(floor, 2*live-min(bodies, live))
}
