package main

import (
	"bufio"
	"cmp"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// soakLeak is one figure the leak soak samples from serve's /metrics, with
// the growth it tolerates per call after the warm-up.
type soakLeak struct {
	metric  string
	unit    float64 // divisor for the log: 1, or 1<<20 for MB
	perCall float64 // the largest slope allowed, per call served
	// long: asserted only in `make soak`. In the CI minute heap and RSS are
	// still warming up (the history's queue fills when its writer falls behind
	// on a saturated machine, and history.db's mapped pages grow until the
	// file reaches max_size_mb); there the idle check catches a heap leak.
	long bool
}

// soakLeaks are the leak soak's limits. Each is 10× below a real leak: one
// goroutine or one file descriptor left per 100 calls grows 0.01 per call,
// 1 KB of heap kept per call 1024 bytes per call; the limits are 0.001, 0.001
// and 100 bytes. Resident memory gets the heap's limit (what the heap keeps is
// resident). A slope fails when it exceeds its limit by more than three
// standard errors of the fit: in `make soak` (45 samples over 7.5 minutes,
// ± 30 bytes per call for the heap's GC sawtooth) that still fails a 1 KB/call
// leak.
var soakLeaks = []soakLeak{
	{"go_goroutines", 1, 0.001, false},
	{"process_open_fds", 1, 0.001, false},
	{"go_memstats_heap_alloc_bytes", 1 << 20, 100, true},
	{"process_resident_memory_bytes", 1 << 20, 100, true},
}

// Once the load has ended and serve is idle again, goroutines and heap return
// to within these of where they were before the first call (a leak of one
// goroutine per 100 calls leaves hundreds after the CI minute, one of 1 KB
// per call tens of MB). Open files are only reported: serve keeps idle
// upstream connections for 90 s.
const (
	soakIdleGoroutines = 20
	soakIdleHeap       = 12 << 20
	soakIdleWithin     = time.Minute
)

// TestSoakLeaks is issue 15 §1: 1,000 concurrent streams (50 chunks 20 ms
// apart) and 64 clients of non-streaming calls, closed loops each in a process
// of its own, against `gatehouse serve` with history on (max_size_mb = 512,
// the default, so that the file stops growing; GATEHOUSE_SOAK_MAXMB sets
// another: with 64 the file fills within seconds at this load, which puts the
// writer's size upkeep under load from the start), for GATEHOUSE_SOAK_LEAKS
// (`make soak`: 10m; by default 60s, the version CI runs). history.db must
// stay within 1.25 × max_size_mb (issue 17). Sixty samples of serve's /metrics, one
// every length/60 (10 s in `make soak`); after the warm-up (a quarter of the
// run, at least 20 s) the least-squares slopes of goroutines, open file
// descriptors, heap and resident memory, per call served, stay within
// soakLeaks (CI: goroutines and descriptors; see soakLeak.long); afterwards
// goroutines and heap return to their idle levels. Every call must succeed (a
// stream must end with [DONE]). `make soak` also wants no history drops; CI,
// where serve shares a saturated machine and its writer may fall behind
// (README "Overload"), only logs them.
func TestSoakLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gatehouse serve under load")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the process metrics read /proc")
	}
	const streams, plain = 1000, 64
	// Serve holds two descriptors per stream (client and upstream); Go raises
	// each process's soft limit to the hard one, which must leave room.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Max < 4*(streams+plain) {
		t.Skipf("the hard limit on open files is %d, want ≥ %d (ulimit -Hn)", lim.Max, 4*(streams+plain))
	}
	length := 60 * time.Second
	d, err := time.ParseDuration(os.Getenv("GATEHOUSE_SOAK_LEAKS"))
	strict := err == nil
	if strict {
		length = d
	}
	every := length / 60
	warmup := max(length/4, 20*time.Second)

	up := startRole(t, "upstream", "ROLE_EVENTS=50", "ROLE_CADENCE=20ms")
	dir := t.TempDir()
	maxMB, err := strconv.Atoi(cmp.Or(os.Getenv("GATEHOUSE_SOAK_MAXMB"), "512"))
	if err != nil {
		t.Fatalf("GATEHOUSE_SOAK_MAXMB: %v", err)
	}
	writeUpstreamConfig(t, dir, up, "[history]\nmax_size_mb = "+strconv.Itoa(maxMB)+"\n")
	serve := startServe(t, dir, "GATEHOUSE_TEST_KEY="+testProviderKey)
	idle := soakScrape(t, serve.addr)
	db := filepath.Join(dir, store.FileName)

	var samples []soakSample
	var peakRSS float64
	var peakFile int64
	results := soakUnderLoad(t, every, length, func(at time.Duration) {
		s := soakScrape(t, serve.addr)
		s.at = at
		peakRSS = max(peakRSS, s.m["process_resident_memory_bytes"])
		peakFile = max(peakFile, fileBytes(db))
		s.log(t)
		if at >= warmup && at <= length {
			samples = append(samples, s)
		}
	}, loadSpec{Target: serve.addr, Conc: streams, Duration: length, Stream: true, Body: "request_stream_text.json"},
		loadSpec{Target: serve.addr, Conc: plain, Duration: length, Body: "request_text.json"})
	end := soakScrape(t, serve.addr)
	streamed, answered := results[0], results[1]
	t.Logf("load: %d streams and %d plain calls in %v (%d calls served), client errors %d + %d; history dropped %v calls, %v bodies; peak RSS %.1f MB; peak history.db %.1f MB (max_size_mb %d)",
		streamed.Calls, answered.Calls, length, int(end.m["gatehouse_requests_total"]), streamed.Errors, answered.Errors,
		end.m["gatehouse_history_dropped_calls_total"], end.m["gatehouse_history_dropped_bodies_total"], peakRSS/(1<<20), float64(peakFile)/(1<<20), maxMB)
	if limit := int64(maxMB) << 20 * 5 / 4; peakFile > limit { // issue 17's bound
		t.Errorf("history.db reached %d bytes, over 1.25 × max_size_mb (%d)", peakFile, limit)
	}
	if errs := streamed.Errors + answered.Errors; errs > 0 {
		t.Errorf("%d client errors (first: %s%s)", errs, streamed.FirstError, answered.FirstError)
	}
	for _, m := range []string{"gatehouse_history_dropped_calls_total", "gatehouse_history_dropped_bodies_total"} {
		if n := end.m[m]; n != 0 && strict {
			t.Errorf("%s = %v, want 0", m, n)
		}
	}
	soakCheckSlopes(t, samples, warmup, strict)

	// Idle again: what the calls left behind.
	idleStart := time.Now()
	for {
		time.Sleep(time.Second)
		s := soakScrape(t, serve.addr)
		s.at = time.Since(idleStart)
		s.log(t)
		gr, heap := s.m["go_goroutines"]-idle.m["go_goroutines"], s.m["go_memstats_heap_alloc_bytes"]-idle.m["go_memstats_heap_alloc_bytes"]
		if gr <= soakIdleGoroutines && heap <= soakIdleHeap {
			t.Logf("idle after %v: goroutines %+.0f, heap %+.1f MB, open files %+.0f, RSS %+.1f MB against before the load",
				time.Since(idleStart).Truncate(time.Second), gr, heap/(1<<20), s.m["process_open_fds"]-idle.m["process_open_fds"],
				(s.m["process_resident_memory_bytes"]-idle.m["process_resident_memory_bytes"])/(1<<20))
			break
		}
		if time.Since(idleStart) > soakIdleWithin {
			t.Errorf("%v after the load: goroutines %+.0f, heap %+.1f MB against before it, want ≤ %d and ≤ %d MB",
				soakIdleWithin, gr, heap/(1<<20), soakIdleGoroutines, soakIdleHeap>>20)
			break
		}
	}
}

// fileBytes is the size of the file at path, 0 if it cannot be read.
func fileBytes(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// soakUnderLoad runs a load generator process per spec, all at once, and
// calls sample every interval (with the time since the start) until they have
// all ended; they must end within length and two minutes.
func soakUnderLoad(t *testing.T, every, length time.Duration, sample func(at time.Duration), specs ...loadSpec) []loadResult {
	t.Helper()
	var wg sync.WaitGroup
	results := make([]loadResult, len(specs))
	for i, spec := range specs {
		wg.Go(func() { results[i] = runLoadProcess(t, spec) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(every)
	defer tick.Stop()
	start := time.Now()
	deadline := time.After(length + 2*time.Minute)
	for {
		select {
		case <-done:
			return results
		case <-tick.C:
			sample(time.Since(start))
		case <-deadline:
			t.Fatal("the load did not end")
		}
	}
}

// soakCheckSlopes fits each of soakLeaks over the samples after the warm-up.
// Only the long run asserts the long ones.
func soakCheckSlopes(t *testing.T, samples []soakSample, warmup time.Duration, long bool) {
	t.Helper()
	if len(samples) < 10 {
		t.Fatalf("%d samples after the warm-up, want ≥ 10", len(samples))
	}
	first, last := samples[0], samples[len(samples)-1]
	rate := (last.m["gatehouse_requests_total"] - first.m["gatehouse_requests_total"]) / (last.at - first.at).Seconds()
	t.Logf("after the %v warm-up: %d samples, %.0f calls/s", warmup, len(samples), rate)
	for _, l := range soakLeaks {
		slope, se, mean := soakSlope(samples, l.metric)
		t.Logf("%-30s start %8.1f end %8.1f  slope %+9.3g/s ± %.2g = %+9.3g per call (limit %g) = %+6.1f %%/hour of %.1f",
			l.metric, first.m[l.metric]/l.unit, last.m[l.metric]/l.unit, slope/l.unit, se/l.unit, slope/rate, l.perCall, 100*slope*3600/mean, mean/l.unit)
		if (slope-3*se)/rate > l.perCall && (long || !l.long) {
			t.Errorf("%s grows %.3g ± %.2g per call after the warm-up, want ≤ %g", l.metric, slope/rate, se/rate, l.perCall)
		}
	}
}

// soakSample is one scrape of serve's /metrics: each metric's value, summed
// over its labels.
type soakSample struct {
	at time.Duration
	m  map[string]float64
}

func (s soakSample) log(t *testing.T) {
	t.Helper()
	t.Logf("%4.0fs: %6.0f calls, %4.0f goroutines, %4.0f fds, heap %5.1f MB, RSS %5.1f MB, CPU %5.1f s; history queue %4.0f, dropped %.0f calls %.0f bodies",
		s.at.Seconds(), s.m["gatehouse_requests_total"], s.m["go_goroutines"], s.m["process_open_fds"],
		s.m["go_memstats_heap_alloc_bytes"]/(1<<20), s.m["process_resident_memory_bytes"]/(1<<20), s.m["process_cpu_seconds_total"],
		s.m["gatehouse_history_queue_depth"], s.m["gatehouse_history_dropped_calls_total"], s.m["gatehouse_history_dropped_bodies_total"])
}

var soakHTTP = &http.Client{Timeout: 10 * time.Second}

// soakScrape reads serve's /metrics.
func soakScrape(t testing.TB, addr string) soakSample {
	t.Helper()
	resp, err := soakHTTP.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", resp.StatusCode)
	}
	s := soakSample{m: map[string]float64{}}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("scrape: %q: %v", line, err)
		}
		s.m[name] += v
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return s
}

// soakSlope is the least-squares slope of metric over the samples, per
// second, its standard error, and the metric's mean.
func soakSlope(samples []soakSample, metric string) (slope, se, mean float64) {
	n := float64(len(samples))
	var sx, sy float64
	for _, s := range samples {
		sx += s.at.Seconds()
		sy += s.m[metric]
	}
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for _, s := range samples {
		dx := s.at.Seconds() - mx
		sxy += dx * (s.m[metric] - my)
		sxx += dx * dx
	}
	if sxx == 0 || n < 3 {
		return math.NaN(), math.NaN(), my
	}
	slope = sxy / sxx
	var rss float64
	for _, s := range samples {
		r := s.m[metric] - my - slope*(s.at.Seconds()-mx)
		rss += r * r
	}
	return slope, math.Sqrt(rss / (n - 2) / sxx), my
}
