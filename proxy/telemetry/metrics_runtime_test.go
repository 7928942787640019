package telemetry

import (
	"os"
	"runtime"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// TestMetricsRuntimeAndProcess: /metrics carries the standard Go and process
// metrics, and they follow the process: 100 more goroutines and 20 more open
// files show in go_goroutines and process_open_fds (the soak test of issue 15
// samples these from outside to find leaks).
func TestMetricsRuntimeAndProcess(t *testing.T) {
	_, addr := stack(t, flakyUpstream(t), "")
	gauge := func(mfs map[string]*dto.MetricFamily, name string) float64 {
		t.Helper()
		v := value(mfs, name, map[string]string{})
		if v <= 0 {
			t.Fatalf("%s = %v, want a positive value", name, v)
		}
		return v
	}
	names := []string{"go_goroutines", "go_memstats_heap_alloc_bytes"}
	if runtime.GOOS == "linux" { // the process collector reads /proc
		names = append(names, "process_open_fds", "process_resident_memory_bytes")
	}
	before := scrape(t, addr)
	for _, n := range names {
		gauge(before, n)
	}

	const goroutines, files = 100, 20
	release := make(chan struct{})
	defer close(release)
	for range goroutines {
		go func() { <-release }()
	}
	for range files {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	after := scrape(t, addr)
	// The first count may include a few goroutines that have ended since (the
	// scrape's own connection, a test before this one): allow for them.
	const transient = 10
	if got, was := gauge(after, "go_goroutines"), gauge(before, "go_goroutines"); got < was+goroutines-transient {
		t.Errorf("go_goroutines %v with %d more goroutines, want ≥ %v", got, goroutines, was+goroutines-transient)
	}
	if runtime.GOOS == "linux" {
		if got, was := gauge(after, "process_open_fds"), gauge(before, "process_open_fds"); got < was+files {
			t.Errorf("process_open_fds %v with %d more open files, want ≥ %v", got, files, was+files)
		}
	}
}
