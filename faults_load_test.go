package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// Issue 15 §3's fault shares: of the requests reaching the faulty provider,
// 10 % are reset, 5 % answered 502, 1 % hang and 1 % are cut midway.
var faultIssueMix = faultMix{Reset: 0.10, Bad: 0.05, Hang: 0.01, Cut: 0.01}

// The retry policy under test: every timeout 2 s, three tries per target with
// a short backoff, timed-out calls re-sent, and the circuit breaker off so that
// the faulty provider keeps getting its share for the whole run.
const (
	faultTimeout  = 2 * time.Second
	faultAttempts = 3
	faultMaxDelay = 50 * time.Millisecond
	faultConc     = 64
)

// faultBound is the longest a call may take under that policy: every try of
// the faulty provider runs into a timeout, with the longest backoff between
// them, and the spare then answers (allowed a second on a loaded machine).
const faultBound = faultAttempts*faultTimeout + (faultAttempts-1)*faultMaxDelay + time.Second

func faultConfig(spare string) string {
	return fmt.Sprintf(`
[[provider]]
name = "spare"
format = "openai"
base_url = "http://%s/v1"
models = []
key_env = "GATEHOUSE_TEST_KEY"

[[route]]
model = "gpt-4o"
targets = ["up/gpt-4o", "spare/gpt-4o"]

[retry]
attempts = %d
base_delay = "10ms"
max_delay = "%s"
first_byte_timeout = "%s"
response_timeout = "%s"
idle_timeout = "%s"
retry_timeouts = true
circuit_failures = 0
`, spare, faultAttempts, faultMaxDelay, faultTimeout, faultTimeout, faultTimeout)
}

// TestFaultsAtLoad is issue 15 §3: `gatehouse serve` under c=64 mixed load
// (every other call streams) whose route's first provider injects 10 % resets,
// 5 % 502s, 1 % hangs and 1 % mid-answer cuts, with a healthy spare as the
// fallback. Asserted:
//   - the only failure a client sees is a stream cut after bytes reached it,
//     ended by an error event in OpenAI's format and recorded as partial /
//     mid_stream; every other call gets its whole answer;
//   - p99 and the longest call stay within what the timeouts and retries allow
//     (faultBound);
//   - history holds every call once, with its attempts, and dropped nothing;
//   - afterwards serve holds no more descriptors than its idle upstream
//     connections, none half-closed, no client connection, no hung connection
//     at the upstream, and no goroutine beyond an idle twin's but idle pool
//     workers.
//
// GATEHOUSE_FAULTS sets the load's length (`make soak-faults`: 60 s, the
// issue's); by default it runs 15 s, the version CI runs.
func TestFaultsAtLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gatehouse serve under load")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads descriptors and sockets from /proc")
	}
	length := 15 * time.Second
	if d, err := time.ParseDuration(os.Getenv("GATEHOUSE_FAULTS")); err == nil {
		length = d
	}
	faulty := startRole(t, "faultupstream", faultIssueMix.env()...)
	spare := startRole(t, "upstream")
	env := []string{"GATEHOUSE_TEST_KEY=" + testProviderKey}
	dir, twinDir := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, twinDir} {
		writeUpstreamConfig(t, d, faulty, faultConfig(spare))
	}
	serve := startServe(t, dir, env...)
	// The twin gets no load: its goroutines are serve's idle baseline.
	twin := startServe(t, twinDir, env...)
	ports := []int{faultPortOf(t, serve.addr), faultPortOf(t, faulty), faultPortOf(t, spare)}
	sample := func() faultSample { return takeFaultSample(t, serve.cmd.Process.Pid, ports[0], ports[1], ports[2]) }
	time.Sleep(2 * time.Second) // start-up settled
	before := sample()
	idleTotal, idleBy := faultGoroutines(t, twin)

	start := time.Now()
	calls := runFaultLoadProcess(t, faultLoadSpec{Target: serve.addr, Conc: faultConc, Duration: length})
	took := time.Since(start)

	// Settle: the hung connections are closed, the clients' are gone.
	var after faultSample
	var stats map[string]int64
	for settle := time.Now(); ; time.Sleep(500 * time.Millisecond) {
		after, stats = sample(), faultUpstreamStats(t, faulty)
		quiet := after.FromClients.open() == 0 && after.ToFault["CLOSE_WAIT"] == 0 && stats["hang_open"] == 0 &&
			after.FaultSide.open() == after.ToFault.open()
		if quiet || time.Since(settle) > 20*time.Second {
			t.Logf("settled after %v", time.Since(settle).Round(100*time.Millisecond))
			break
		}
	}
	records, drops := faultHistory(t, dir, len(calls))
	total, by := faultGoroutines(t, serve)

	// What the clients saw.
	kinds := map[string]int{}
	var lat []int64
	var retried, extraTries, fallbacks, streams int
	var failed []string
	// Every request the faulty upstream saw is one attempt in the history,
	// and each fault it injected one failed attempt of the matching class: a
	// failure it did not inject (a dead pooled connection) shows here even
	// when a retry hid it from the client.
	upClasses, spareClasses := map[string]int64{}, map[string]int64{}
	for _, rec := range records {
		for _, a := range rec.Attempts {
			if a.Provider == "up" {
				upClasses[a.ErrorClass]++
			} else {
				spareClasses[a.ErrorClass]++
			}
		}
	}
	if len(spareClasses) > 1 || len(spareClasses) == 1 && spareClasses[""] == 0 {
		t.Errorf("attempts on the healthy spare by error class %v, want none failed", spareClasses)
	}
	var upAttempts int64
	for _, n := range upClasses {
		upAttempts += n
	}
	wantClasses := map[string]int64{
		"": stats["healthy"], "reset": stats["reset"] + stats["cut_body"], "upstream_5xx": stats["502"],
		"first_byte_timeout": stats["hang"], "mid_stream": stats["cut_stream"],
	}
	if upAttempts != stats["requests"] || !maps.Equal(upClasses, wantClasses) {
		t.Errorf("attempts on the faulty upstream by error class %v (%d in all), want %v (%d requests reached it)",
			upClasses, upAttempts, wantClasses, stats["requests"])
	}
	for _, c := range calls {
		kinds[c.Kind]++
		lat = append(lat, c.Micros)
		if c.Stream {
			streams++
		}
		rec, ok := records[c.ID]
		switch {
		case c.Kind == "failed":
			failed = append(failed, fmt.Sprintf("stream=%v: %s", c.Stream, c.Detail))
			continue
		case !ok:
			t.Errorf("call %s (%s) is not in the history", c.ID, c.Kind)
			continue
		}
		if c.Attempts > 1 {
			retried++
			extraTries += c.Attempts - 1
		}
		if len(rec.Attempts) != c.Attempts {
			t.Errorf("call %s: the client was told %d attempts, the history holds %d: %+v", c.ID, c.Attempts, len(rec.Attempts), rec.Attempts)
		}
		last := rec.Attempts[len(rec.Attempts)-1]
		if last.Provider == "spare" {
			fallbacks++
		}
		for _, a := range rec.Attempts[:len(rec.Attempts)-1] {
			if a.ErrorClass == "" {
				t.Errorf("call %s: an attempt before the last has no error class: %+v", c.ID, rec.Attempts)
			}
		}
		switch c.Kind {
		case "ok":
			if rec.Outcome != store.OutcomeOK {
				t.Errorf("call %s: the client got its answer, the history says %q", c.ID, rec.Outcome)
			}
		case "cut":
			// Unsavable by design: bytes had reached the client (issue 19.3).
			if !c.Stream || rec.Outcome != store.OutcomePartial || last.ErrorClass != "mid_stream" || last.Provider != "up" {
				t.Errorf("call %s: a cut the history records as outcome %q, last attempt %s/%s (stream=%v)",
					c.ID, rec.Outcome, last.Provider, last.ErrorClass, c.Stream)
			}
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d calls failed in a way retries or the fallback could have saved; the first: %s", len(failed), strings.Join(failed[:min(len(failed), 5)], " | "))
	}
	if len(records) != len(calls) {
		t.Errorf("the history holds %d calls, the clients sent %d", len(records), len(calls))
	}
	if drops != (store.Drops{}) {
		t.Errorf("the history dropped %+v", drops)
	}
	slices.Sort(lat)
	p50, p99, longest := faultPercentile(lat, 0.5), faultPercentile(lat, 0.99), faultPercentile(lat, 1)
	if p99 > faultBound {
		t.Errorf("p99 %v, over the %v the timeouts and retries allow", p99, faultBound)
	}
	// A hang the proxy does not end lasts faultHangCap; a late timeout a few seconds.
	if longest > faultBound+3*time.Second {
		t.Errorf("the longest call took %v, far over the %v the timeouts and retries allow", longest, faultBound)
	}

	// What was left behind.
	upstreamConns := after.ToFault.open() + after.ToSpare.open()
	if n := after.ToFault.open(); n > faultConc || after.ToFault["CLOSE_WAIT"] > 0 {
		t.Errorf("serve holds %d connections to the faulty upstream (%v), want ≤ %d idle ones and none half-closed", n, after.ToFault, faultConc)
	}
	if n := after.ToSpare.open(); n > faultConc || after.ToSpare["CLOSE_WAIT"] > 0 {
		t.Errorf("serve holds %d connections to the spare (%v), want ≤ %d idle ones and none half-closed", n, after.ToSpare, faultConc)
	}
	if n := after.FromClients.open(); n > 0 {
		t.Errorf("serve still holds %d client connections (%v) after the clients left", n, after.FromClients)
	}
	if stats["hang_open"] > 0 || after.FaultSide.open() > after.ToFault.open() {
		t.Errorf("the faulty upstream holds %v (%d hung requests) for serve's %v: connections serve gave up were not closed",
			after.FaultSide, stats["hang_open"], after.ToFault)
	}
	if extra := after.FDs - upstreamConns - before.FDs; extra > 2 {
		t.Errorf("serve holds %d descriptors, %d before the load plus %d idle upstream connections: %d more", after.FDs, before.FDs, upstreamConns, extra)
	}
	// fasthttp keeps idle server workers up to 10 s past their last request
	// (then reaps them), and starts a few cleaners once it has pooled
	// connections; none of them holds a call. A call's goroutine left behind
	// waits in Gatehouse's code.
	workers := by["chan receive github.com/valyala/fasthttp.(*workerPool).workerFunc"]
	if grew := total - workers - idleTotal; grew > 8 {
		t.Errorf("serve has %d goroutines (%d idle workers) after the load, the idle twin %d: %s", total, workers, idleTotal, faultDiff(idleBy, by))
	}
	for k, n := range by {
		if n > idleBy[k] && strings.Contains(k, "github.com/gatehouse/gatehouse/") {
			t.Errorf("%d more goroutines than the idle twin wait in %s", n-idleBy[k], k)
		}
	}

	t.Logf("%d calls in %v (%d streams, %d plain): %d ok, %d cut mid-stream (unsavable), %d failed",
		len(calls), took.Round(time.Second), streams, len(calls)-streams, kinds["ok"], kinds["cut"], kinds["failed"])
	t.Logf("faulty upstream: %v; attempts on it by error class %v", stats, upClasses)
	t.Logf("retried calls %d (%d extra attempts), answered by the spare %d; latency p50 %v, p99 %v, max %v (bound %v)",
		retried, extraTries, fallbacks, p50.Round(time.Microsecond), p99.Round(time.Millisecond), longest.Round(time.Millisecond), faultBound)
	t.Logf("history: %d calls, drops %+v", len(records), drops)
	t.Logf("serve before: %v", before)
	t.Logf("serve after:  %v", after)
	t.Logf("goroutines: idle twin %d, serve after the load %d (%d idle fasthttp workers); grown: %s", idleTotal, total, workers, faultDiff(idleBy, by))
}

// faultUpstreamStats reads the fault upstream's counters, on a connection of
// its own that it closes (the test counts the upstream's connections).
func faultUpstreamStats(tb testing.TB, addr string) map[string]int64 {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/fault/stats", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Close = true
	resp, err := testHTTP.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// faultHistory reads every call of serve's history through the admin API once
// it holds want calls (or has stopped growing for 5 s), and the drop counters.
func faultHistory(tb testing.TB, dir string, want int) (map[string]store.Call, store.Drops) {
	tb.Helper()
	c, ok := cli.FindRunning(dir)
	if !ok {
		tb.Fatal("serve's admin API is not found")
	}
	get := func(path string, out any) {
		tb.Helper()
		status, body, err := c.DoTimeout(http.MethodGet, path, nil, time.Minute)
		if err != nil || status != http.StatusOK {
			tb.Fatalf("GET %s: %d %v %.300s", path, status, err, body)
		}
		if err := json.Unmarshal(body, out); err != nil {
			tb.Fatalf("GET %s: %v", path, err)
		}
	}
	var calls map[string]store.Call
	for prev, still := -1, time.Now(); ; time.Sleep(time.Second) {
		calls = map[string]store.Call{}
		for before, pages := "", 0; pages < 1000; pages++ {
			var page store.Page
			get("history?limit=10000&before="+before, &page)
			for _, call := range page.Calls {
				if _, dup := calls[call.ID]; dup {
					tb.Errorf("call %s listed twice", call.ID)
				}
				calls[call.ID] = call
			}
			if before = page.Next; before == "" {
				break
			}
		}
		if len(calls) != prev {
			prev, still = len(calls), time.Now()
		}
		if len(calls) >= want || time.Since(still) > 5*time.Second {
			break
		}
	}
	var drops store.Drops
	get("history/drops", &drops)
	return calls, drops
}
