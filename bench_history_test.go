package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
	"github.com/valyala/fasthttp"
)

// BenchmarkProxyRecording measures the latency the proxy adds with call
// recording off and on, interleaved in one run so both see the same machine
// load: each op sends one request straight to the fake upstream, one through a
// proxy without a recorder and one through a proxy recording into a real
// history, in rotating order. Reported (medians): direct_µs, off_µs, on_µs, the
// added latencies added_off_µs and added_on_µs, and recording_% = how much
// recording adds to the proxy's added latency (issue 3: ≤ 10 %).
func BenchmarkProxyRecording(b *testing.B) {
	up, dir, cfg := benchSetup(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := store.OpenHistory(dir, store.Options{Logger: log, Secrets: func() []string { return []string{testProviderKey} }})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	req, err := os.ReadFile(filepath.Join("testdata", "history", "request_text.json"))
	if err != nil {
		b.Fatal(err)
	}
	targets := []latencyTarget{
		{"direct", up.addr, "Bearer " + testProviderKey},
		{"off", serveBench(b, cfg, proxy.Options{Logger: log}), ""},
		{"on", serveBench(b, cfg, proxy.Options{Recorder: cli.Recorder{H: h}, Logger: log}), ""},
	}
	med := interleavedMedians(b, &fasthttp.Client{MaxConnsPerHost: 4}, targets, req, nil)
	h.Flush()
	addedOff, addedOn := med[1]-med[0], med[2]-med[0]
	b.ReportMetric(addedOff, "added_off_µs")
	b.ReportMetric(addedOn, "added_on_µs")
	if addedOff > 0 {
		b.ReportMetric((addedOn-addedOff)/addedOff*100, "recording_%")
	}
	if d := h.Drops(); d.Calls != 0 {
		b.Errorf("history dropped %d calls", d.Calls)
	}
}
