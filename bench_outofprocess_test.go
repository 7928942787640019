package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkOutOfProcess is issue 12's figure: the fake upstream, a closed-loop
// load generator and `gatehouse serve` run as separate processes on the same
// cores, so that the history writer competes with them as it does on a laptop.
// Rounds interleave four targets: direct to the upstream, the bare forwarder,
// Gatehouse with history on and with `[history] enabled = false`. Each round
// measures c=64 req/s and p50/p99, c=1 p50, and the first byte of c=1 streams.
// Reported: medians over the rounds of the per-round ratios (read ratios, not
// absolute figures: the machine is shared), and the CPU time each process
// spends per call (from /proc), which a busy machine disturbs far less. It runs once whatever b.N is.
// GATEHOUSE_BENCH_BEFORE=/path/to/gatehouse adds that build, history on, as
// target "before": before/after figures from one run. GATEHOUSE_BENCH_ROUNDS
// sets the number of rounds (default 3).
func BenchmarkOutOfProcess(b *testing.B) {
	if testing.Short() {
		b.Skip("starts six processes and runs for about a minute")
	}
	rounds, calls := 3, 20000
	if os.Getenv("GATEHOUSE_BENCH_QUICK") != "" {
		rounds, calls = 1, 5000
	}
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n // more rounds on a noisy machine
	}
	up, upPID := startRolePID(b, "upstream")
	fwd, fwdPID := startRolePID(b, "forwarder", "ROLE_UPSTREAM="+up)
	env := "GATEHOUSE_TEST_KEY=" + testProviderKey
	onDir, offDir := b.TempDir(), b.TempDir()
	writeUpstreamConfig(b, onDir, up, "")
	writeUpstreamConfig(b, offDir, up, "[history]\nenabled = false\n")
	on, off := startServe(b, onDir, env), startServe(b, offDir, env)
	time.Sleep(3 * time.Second) // idle: start-up settled (serve trims its memory then)
	idleRSS := rssBytes(on.cmd.Process.Pid)

	// pid is the process between the load and the upstream (0: none).
	type target struct {
		name, addr, auth string
		pid              int
	}
	targets := []target{
		{"direct", up, "Bearer " + testProviderKey, 0},
		{"forwarder", fwd, "Bearer " + testProviderKey, fwdPID},
		{"on", on.addr, "", on.cmd.Process.Pid},
		{"off", off.addr, "", off.cmd.Process.Pid},
	}
	if bin := os.Getenv("GATEHOUSE_BENCH_BEFORE"); bin != "" {
		dir := b.TempDir()
		writeUpstreamConfig(b, dir, up, "")
		before := startServeBinary(b, bin, dir, env)
		targets = append(targets, target{"before", before.addr, "", before.cmd.Process.Pid})
	}
	// cpuTarget, cpuUp and cpuLoad are the CPU µs per c=64 call of the process
	// in the middle, the upstream and the load generator: a figure that, unlike
	// req/s, hardly depends on what else the machine runs.
	// faults is the proxy's minor page faults per c=64 call.
	type figures struct{ rps, p50, p99, c1p50, stream1st, cpuTarget, cpuUp, cpuLoad, faults []float64 }
	got := map[string]*figures{}
	for _, t := range targets {
		got[t.name] = &figures{}
	}
	b.ResetTimer()
	for round := range rounds {
		for i := range targets {
			t := targets[(i+round)%len(targets)] // rotate the order each round
			f := got[t.name]
			const warmup = 2000
			targetCPU, upCPU, targetFaults := procCPU(t.pid), procCPU(upPID), procFaults(t.pid)
			r := runLoadProcess(b, loadSpec{Target: t.addr, Auth: t.auth, Conc: 64, Calls: calls, Warmup: warmup, Body: "request_text.json"})
			if r.Errors > 0 {
				b.Fatalf("%s: %d errors at c=64", t.name, r.Errors)
			}
			perCall := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(r.Calls+warmup) }
			if t.pid != 0 {
				f.cpuTarget = append(f.cpuTarget, perCall(procCPU(t.pid)-targetCPU))
				f.faults = append(f.faults, float64(procFaults(t.pid)-targetFaults)/float64(r.Calls+warmup))
			}
			f.cpuUp, f.cpuLoad = append(f.cpuUp, perCall(procCPU(upPID)-upCPU)), append(f.cpuLoad, perCall(r.CPU))
			f.rps, f.p50, f.p99 = append(f.rps, r.RPS), append(f.p50, r.P50us), append(f.p99, r.P99us)
			r = runLoadProcess(b, loadSpec{Target: t.addr, Auth: t.auth, Conc: 1, Calls: 2000, Warmup: 200, Body: "request_text.json"})
			f.c1p50 = append(f.c1p50, r.P50us)
			r = runLoadProcess(b, loadSpec{Target: t.addr, Auth: t.auth, Conc: 1, Calls: 200, Warmup: 20, Stream: true, Body: "request_stream_text.json"})
			f.stream1st = append(f.stream1st, r.P50us)
		}
	}
	b.StopTimer()
	median := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	ratio := func(a, c string, pick func(*figures) []float64) float64 {
		var r []float64
		for i := range got[a].rps {
			r = append(r, pick(got[a])[i]/pick(got[c])[i])
		}
		return median(r)
	}
	rps := func(f *figures) []float64 { return f.rps }
	added := func(pick func(*figures) []float64, name string) float64 {
		var d []float64
		for i := range got[name].rps {
			d = append(d, pick(got[name])[i]-pick(got["direct"])[i])
		}
		return median(d)
	}
	c1 := func(f *figures) []float64 { return f.c1p50 }
	st := func(f *figures) []float64 { return f.stream1st }
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-10s %10s %9s %9s %10s %12s   %s\n", "target", "c64 req/s", "p50 µs", "p99 µs", "c1 p50 µs", "stream 1st µs", "c64 CPU µs/call: proxy upstream load; proxy faults/call")
	for _, t := range targets {
		f := got[t.name]
		fmt.Fprintf(&sb, "%-10s %10.0f %9.0f %9.0f %10.0f %12.0f   %5.1f %5.1f %5.1f; %.2f\n", t.name, median(f.rps), median(f.p50), median(f.p99), median(f.c1p50), median(f.stream1st),
			median(f.cpuTarget), median(f.cpuUp), median(f.cpuLoad), median(f.faults))
	}
	fmt.Fprintf(&sb, "ratios (median of %d rounds): on/forwarder %.2f, off/forwarder %.2f, on/off %.2f, forwarder/direct %.2f\n",
		rounds, ratio("on", "forwarder", rps), ratio("off", "forwarder", rps), ratio("on", "off", rps), ratio("forwarder", "direct", rps))
	if _, ok := got["before"]; ok {
		fmt.Fprintf(&sb, "before: before/forwarder %.2f, on/before %.2f\n", ratio("before", "forwarder", rps), ratio("on", "before", rps))
	}
	fmt.Fprintf(&sb, "added c1 p50 µs: forwarder %.0f, on %.0f, off %.0f; added stream first byte µs: forwarder %.0f, on %.0f\n",
		added(c1, "forwarder"), added(c1, "on"), added(c1, "off"), added(st, "forwarder"), added(st, "on"))
	fmt.Fprintf(&sb, "serve (history on) RSS: idle at start %.1f MB, after the load %.1f MB\n",
		float64(idleRSS)/(1<<20), float64(rssBytes(on.cmd.Process.Pid))/(1<<20))
	b.Log(sb.String())
	b.ReportMetric(ratio("on", "forwarder", rps), "on/fwd")
	b.ReportMetric(ratio("off", "forwarder", rps), "off/fwd")
	b.ReportMetric(ratio("on", "off", rps), "on/off")
	b.ReportMetric(added(c1, "on"), "c1_added_µs")
	b.ReportMetric(float64(idleRSS)/(1<<20), "idle_MB")
	b.ReportMetric(median(got["on"].cpuTarget), "on_cpu_µs/call")
	b.ReportMetric(median(got["off"].cpuTarget), "off_cpu_µs/call")
	b.ReportMetric(median(got["forwarder"].cpuTarget), "fwd_cpu_µs/call")
	b.ReportMetric(median(got["on"].faults), "on_faults/call")
	b.ReportMetric(median(got["off"].faults), "off_faults/call")
}
