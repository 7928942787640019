package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
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
	up := startUpstream(b)
	dir := b.TempDir()
	writeTestConfig(b, dir, up)
	b.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	cfg, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := store.OpenHistory(dir, store.Options{Logger: log, Secrets: func() []string { return []string{testProviderKey} }})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	serve := func(rec proxy.Recorder) string {
		s, err := proxy.New(cfg, proxy.Options{Recorder: rec, Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go s.Serve(ln) //nolint:errcheck
		b.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
		})
		return ln.Addr().String()
	}
	req, err := os.ReadFile(filepath.Join("testdata", "history", "request_text.json"))
	if err != nil {
		b.Fatal(err)
	}
	targets := []struct {
		name, addr, auth string
	}{
		{"direct", up.addr, "Bearer " + testProviderKey},
		{"off", serve(nil), ""},
		{"on", serve(cli.Recorder{H: h}), ""},
	}
	client := &fasthttp.Client{MaxConnsPerHost: 4}
	send := func(addr, auth string) time.Duration {
		rq, rs := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(rq)
		defer fasthttp.ReleaseResponse(rs)
		rq.SetRequestURI("http://" + addr + "/v1/chat/completions")
		rq.Header.SetMethod(fasthttp.MethodPost)
		rq.Header.SetContentType("application/json")
		if auth != "" {
			rq.Header.Set("Authorization", auth)
		}
		rq.SetBody(req)
		start := time.Now()
		if err := client.DoTimeout(rq, rs, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		if rs.StatusCode() != 200 {
			b.Fatalf("%s: status %d: %s", addr, rs.StatusCode(), rs.Body())
		}
		return took
	}
	for _, t := range targets { // warm the connections
		send(t.addr, t.auth)
	}
	lat := make([][]time.Duration, len(targets))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range targets {
			k := (i + j) % len(targets)
			lat[k] = append(lat[k], send(targets[k].addr, targets[k].auth))
		}
	}
	b.StopTimer()
	h.Flush()
	med := make([]float64, len(targets))
	for k := range lat {
		slices.Sort(lat[k])
		med[k] = float64(lat[k][len(lat[k])/2].Nanoseconds()) / 1000
		b.ReportMetric(med[k], targets[k].name+"_µs")
	}
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
