package main

import (
	"testing"
	"time"
)

// TestMemoryKeptBetweenBursts: serve keeps the heap a burst of recorded calls
// grew while calls come back within seconds, and gives it back later (issue
// 17's minute, TestSoakHistoryStaysBounded). It used to give it back 5 s after
// recording went idle, so bursts a few seconds apart each faulted the heap in
// again: on this kind of VM a fault costs ~16 µs, and BenchmarkOutOfProcess's
// rounds paid 0.77 faults, 14 µs, a call for it (issue 12).
func TestMemoryKeptBetweenBursts(t *testing.T) {
	memSkip(t)
	const (
		calls = 10000
		gap   = 8 * time.Second // longer than the old 5 s and a writer tick
	)
	up := startRole(t, "upstream")
	p := memServe(t, up)
	pid := p.cmd.Process.Pid
	idle := rssBytes(pid)
	burst := func() float64 {
		before := procFaults(pid)
		r := runLoadProcess(t, loadSpec{Target: p.addr, Conc: 64, Calls: calls, Body: "request_text.json"})
		if r.Errors > 0 {
			t.Fatalf("%d errors in a burst of %d calls", r.Errors, calls)
		}
		return float64(procFaults(pid)-before) / calls
	}
	firstFaults := burst()
	afterBurst := rssBytes(pid)
	time.Sleep(gap)
	afterGap := rssBytes(pid)
	secondFaults := burst()
	t.Logf("serve RSS idle %.1f MB, after a burst of %d calls %.1f MB, %v later %.1f MB; page faults a call: first burst %.2f, second %.2f",
		memMB(idle), calls, memMB(afterBurst), gap, memMB(afterGap), firstFaults, secondFaults)
	if afterBurst-idle < 8<<20 {
		t.Skipf("the burst grew serve by only %.1f MB: nothing to keep", memMB(afterBurst-idle))
	}
	// What the burst grew is still there: at most a quarter went back.
	if kept := afterGap - idle; kept*4 < (afterBurst-idle)*3 {
		t.Errorf("%v after the burst serve's RSS was %.1f MB, down from %.1f (idle %.1f): it gave back what the burst grew, and calls resuming now fault it in again",
			gap, memMB(afterGap), memMB(afterBurst), memMB(idle))
	}
}
