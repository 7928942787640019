package main

import (
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
	"github.com/valyala/fasthttp"
)

// The memory-bound tests (issue 15 §2) run `gatehouse serve` with history on
// against a fake upstream served from the test process itself, so that the
// test sees exactly what the upstream managed to write, and sample the serve
// process's resident memory from /proc all along.

// memSkip skips where the tests cannot run: -short, or no /proc.
func memSkip(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("moves hundreds of MB through gatehouse serve")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads the resident memory from /proc")
	}
}

// memServe starts `gatehouse serve` in a fresh data folder routing gpt-* to
// the upstream at addr, history on with its default caps.
func memServe(t *testing.T, addr string) *serveProcess {
	t.Helper()
	dir := t.TempDir()
	writeUpstreamConfig(t, dir, addr, "")
	return startServe(t, dir, "GATEHOUSE_TEST_KEY="+testProviderKey)
}

// memUpstream serves h on 127.0.0.1:0 in this process until the test ends.
func memUpstream(t *testing.T, h fasthttp.RequestHandler, streamBody bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h, StreamRequestBody: streamBody, MaxRequestBodySize: 64 << 20}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// memSampler samples a process's resident memory every 100 ms.
type memSampler struct {
	pid  int
	peak atomic.Int64
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func memSample(pid int) *memSampler {
	m := &memSampler{pid: pid, stop: make(chan struct{})}
	m.peak.Store(rssBytes(pid))
	m.wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
				if r := rssBytes(pid); r > m.peak.Load() {
					m.peak.Store(r)
				}
			}
		}
	})
	return m
}

// Peak is the highest RSS seen so far, in bytes.
func (m *memSampler) Peak() int64 {
	if r := rssBytes(m.pid); r > m.peak.Load() {
		m.peak.Store(r)
	}
	return m.peak.Load()
}

// Stop ends the sampling and returns the peak; it may be called again.
func (m *memSampler) Stop() int64 {
	m.once.Do(func() { close(m.stop) })
	m.wg.Wait()
	return m.Peak()
}

// memMB is n bytes in MB, for messages.
func memMB(n int64) float64 { return float64(n) / (1 << 20) }

// memHistoryCall waits (up to 15 s) for call id to be in serve's history and
// returns it in full.
func memHistoryCall(t *testing.T, p *serveProcess, id string) store.Call {
	t.Helper()
	c, ok := cli.FindRunning(p.data)
	if !ok {
		t.Fatal("gatehouse serve is not found in its data folder")
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body, err := c.Do(http.MethodGet, "history/calls/"+id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status == http.StatusOK {
			var call store.Call
			if err := json.Unmarshal(body, &call); err != nil {
				t.Fatalf("history/calls/%s: %v", id, err)
			}
			return call
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s is not in the history after 15 s (status %d: %.200s)", id, status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
