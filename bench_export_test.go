package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
	up := startUpstream(b, "")
	dir := b.TempDir()
	writeTestConfig(b, dir, up)
	b.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	cfg, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		b.Fatal(err)
	}
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
	serve := func(c *config.Config, opts proxy.Options) string {
		opts.Recorder, opts.Logger = cli.Recorder{H: h}, log
		s, err := proxy.New(c, opts)
		if err != nil {
			b.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go s.Serve(ln) //nolint:errcheck // ends with Shutdown
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
	targets := []struct{ name, addr, auth string }{
		{"direct", up.addr, "Bearer " + testProviderKey},
		{"off", serve(cfg, proxy.Options{}), ""},
		{"on", serve(&traced, proxy.Options{Observer: exp, Metrics: exp.Handler()}), ""},
	}
	client := &fasthttp.Client{MaxConnsPerHost: 4}
	send := func(path, addr, auth string, body []byte) (time.Duration, int) {
		rq, rs := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(rq)
		defer fasthttp.ReleaseResponse(rs)
		rq.SetRequestURI("http://" + addr + path)
		if body != nil {
			rq.Header.SetMethod(fasthttp.MethodPost)
			rq.Header.SetContentType("application/json")
			rq.SetBody(body)
		}
		if auth != "" {
			rq.Header.Set("Authorization", auth)
		}
		start := time.Now()
		if err := client.DoTimeout(rq, rs, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), rs.StatusCode()
	}
	call := func(addr, auth string) time.Duration {
		took, status := send("/v1/chat/completions", addr, auth, req)
		if status != 200 {
			b.Fatalf("%s: status %d", addr, status)
		}
		return took
	}
	for _, t := range targets { // warm the connections
		call(t.addr, t.auth)
	}
	lat := make([][]time.Duration, len(targets))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range targets {
			k := (i + j) % len(targets)
			lat[k] = append(lat[k], call(targets[k].addr, targets[k].auth))
		}
		if i%100 == 99 {
			if _, status := send("/metrics", targets[2].addr, "", nil); status != 200 {
				b.Fatalf("/metrics: status %d", status)
			}
		}
	}
	b.StopTimer()
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
		b.ReportMetric((addedOn-addedOff)/addedOff*100, "export_%")
	}
	if err := exp.Close(context.Background()); err != nil {
		b.Error(err)
	}
	if b.N >= 100 && spans.Load() == 0 {
		b.Error("the OTLP receiver got no spans")
	}
}
