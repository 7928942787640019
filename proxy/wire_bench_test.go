package proxy

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkWireCaptureC1 is what recording an attempt's wire record (issue 16)
// adds to a call at concurrency 1, in one run: requests alternate between a
// Gatehouse with recording off ([history] enabled = false: no capture, no
// record) and one recording (the benchmarks' in-memory recorder, so only the
// request path's share shows). Reported: each one's p50 and their difference.
func BenchmarkWireCaptureC1(b *testing.B) {
	up := benchUpstream(b)
	_, quiet := benchServer(b, up, "[history]\nenabled = false\n")
	addrs := []string{quiet, benchGatehouse(b, up)}
	clients := make([]*fasthttp.HostClient, len(addrs))
	reqs := make([]*fasthttp.Request, len(addrs))
	for i, a := range addrs {
		clients[i] = &fasthttp.HostClient{Addr: a, MaxConns: 1}
		reqs[i] = newBenchRequest(a, benchRequest)
	}
	resp := &fasthttp.Response{}
	for i := range addrs { // warm up connections and pools
		for j := 0; j < 200; j++ {
			post(b, clients[i], reqs[i], resp)
		}
	}
	lat := make([][]time.Duration, len(addrs))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for k := range addrs {
			i := (n + k) % len(addrs)
			t0 := time.Now()
			post(b, clients[i], reqs[i], resp)
			lat[i] = append(lat[i], time.Since(t0))
		}
	}
	b.StopTimer()
	off, on := percentile(lat[0], 0.5), percentile(lat[1], 0.5)
	b.ReportMetric(us(off), "off-p50-µs")
	b.ReportMetric(us(on), "recording-p50-µs")
	b.ReportMetric(us(on-off), "recording-added-µs")
}
