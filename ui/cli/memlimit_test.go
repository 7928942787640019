package cli

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestMemoryLimitFollowsTheLiveHeap(t *testing.T) {
	const floor = 100 << 20
	for _, c := range []struct{ live, bodies, want int64 }{
		{0, 0, floor}, {40 << 20, 0, floor}, {50 << 20, 0, floor},
		{100 << 20, 0, 200 << 20}, // 1,000 open streams: the soak's heap
		{200 << 20, 0, 400 << 20},
		{150 << 20, 120 << 20, 180 << 20}, // 12 request bodies of 10 MiB held: they count once
		{150 << 20, 150 << 20, 150 << 20},
		{100 << 20, 300 << 20, floor}, // a peak above the live heap (sampled at another time)
	} {
		if got := memoryLimitFor(c.live, c.bodies, floor); got != c.want {
			t.Errorf("live %d MiB, bodies %d MiB: limit %d MiB, want %d MiB", c.live>>20, c.bodies>>20, got>>20, c.want>>20)
		}
	}
}

// limitWith64MiBLive runs KeepMemoryLimit with 64 MiB live and a floor of 16
// MiB until the limit has risen and a few ticks have passed; it returns the
// limit then, after checking that KeepMemoryLimit returns when told.
func limitWith64MiBLive(t *testing.T, bodies func() int64) int64 {
	t.Helper()
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	held := make([][]byte, 64)
	for i := range held {
		held[i] = make([]byte, 1<<20) // 64 MiB live
		held[i][0] = 1
	}
	runtime.GC() // the live heap is known after a cycle
	const floor, every = 16 << 20, 10 * time.Millisecond
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		KeepMemoryLimit(floor, every, bodies, done)
		close(stopped)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) <= floor && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(5 * every)
	got := debug.SetMemoryLimit(-1)
	close(done)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("KeepMemoryLimit did not return")
	}
	runtime.KeepAlive(held)
	return got
}

// With a live heap above the floor, the running limit rises to about twice it.
func TestKeepMemoryLimitRaisesItUnderALargeHeap(t *testing.T) {
	if got := limitWith64MiBLive(t, nil); got < 128<<20 {
		t.Errorf("limit %d MiB with 64 MiB live, want ≥ 128 MiB", got>>20)
	}
}

// When the live heap is request bodies, they get no headroom: the limit stays
// near the live heap instead of twice it.
func TestKeepMemoryLimitCountsRequestBodiesOnce(t *testing.T) {
	got := limitWith64MiBLive(t, func() int64 { return 64 << 20 })
	if got < 64<<20 || got >= 100<<20 {
		t.Errorf("limit %d MiB with 64 MiB live, all of it request bodies: want 64–100 MiB", got>>20)
	}
}
