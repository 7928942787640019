package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/telemetry"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
	"github.com/valyala/fasthttp"
)

// BenchmarkExportOverhead measures what metrics and tracing add to the
// latency of a call at c=1 (issue 14: ≤ 5 %), interleaved in one run: each op
// sends one request straight to the fake upstream, one through a recording
// proxy without export and one through a recording proxy with the Prometheus
// metrics and OTLP/HTTP tracing on (a receiver on 127.0.0.1 takes the spans;
// /metrics is scraped every 100 ops). Reported (medians): direct_µs, off_µs,
// on_µs, added_off_µs, added_on_µs and export_% = how much export adds to the
// proxy's added latency.
func BenchmarkExportOverhead(b *testing.B) {
	up, dir, cfg := benchSetup(b)
	var spans atomic.Int64
	sink := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		spans.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf")
	})}
	sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go sink.Serve(sinkLn) //nolint:errcheck // ends with Close
	defer sink.Close()
	traced := *cfg
	traced.Tracing = config.Tracing{Enabled: true, Protocol: "http/protobuf", Endpoint: "http://" + sinkLn.Addr().String()}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := store.OpenHistory(dir, store.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	exp, err := telemetry.New(telemetry.Options{Config: func() *config.Config { return &traced }, Metrics: true, Version: "bench", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer exp.Close(context.Background())
	req, err := os.ReadFile(filepath.Join("testdata", "history", "request_text.json"))
	if err != nil {
		b.Fatal(err)
	}
	rec := cli.Recorder{H: h}
	targets := []latencyTarget{
		{"direct", up.addr, "Bearer " + testProviderKey},
		{"off", serveBench(b, cfg, proxy.Options{Recorder: rec, Logger: log}), ""},
		{"on", serveBench(b, &traced, proxy.Options{Recorder: rec, Logger: log, Observer: exp, Metrics: exp.Handler()}), ""},
	}
	client := &fasthttp.Client{MaxConnsPerHost: 4}
	med := interleavedMedians(b, client, targets, req, func(op int) {
		if op%100 == 99 {
			if _, status := benchSend(b, client, "http://"+targets[2].addr+"/metrics", "", nil); status != 200 {
				b.Fatalf("/metrics: status %d", status)
			}
		}
	})
	addedOff, addedOn := med[1]-med[0], med[2]-med[0]
	b.ReportMetric(addedOff, "added_off_µs")
	b.ReportMetric(addedOn, "added_on_µs")
	if addedOff > 0 {
		b.ReportMetric((addedOn-addedOff)/addedOff*100, "export_%")
	}
	if err := exp.Close(context.Background()); err != nil {
		b.Error(err)
	}
	if b.N >= 100 && spans.Load() == 0 {
		b.Error("the OTLP receiver got no spans")
	}
}
