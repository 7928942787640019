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
		{100 << 20, -1, 200 << 20},
	} {
		if got := memoryLimitFor(c.live, c.bodies, floor); got != c.want {
			t.Errorf("live %d MiB, bodies %d MiB: limit %d MiB, want %d MiB", c.live>>20, c.bodies>>20, got>>20, c.want>>20)
		}
	}
}

// With a live heap above the floor, the running limit rises above it within
// a tick, and KeepMemoryLimit returns when told.
func TestKeepMemoryLimitRaisesItUnderALargeHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	held := make([][]byte, 64)
	for i := range held {
		held[i] = make([]byte, 1<<20) // 64 MiB live
		held[i][0] = 1
	}
	const floor = 16 << 20
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		KeepMemoryLimit(floor, 10*time.Millisecond, nil, done)
		close(stopped)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) <= floor && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got < 64<<20 {
		t.Errorf("limit %d MiB with 64 MiB live, want ≥ 64 MiB", got>>20)
	}
	close(done)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("KeepMemoryLimit did not return")
	}
	runtime.KeepAlive(held)
}
