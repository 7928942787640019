package main

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// latencyTarget is one place a latency benchmark sends its call to.
type latencyTarget struct{ name, addr, auth string }

// serveBench runs a proxy for cfg on 127.0.0.1 until the benchmark ends and
// returns its address.
func serveBench(b *testing.B, cfg *config.Config, opts proxy.Options) string {
	b.Helper()
	s, err := proxy.New(cfg, opts)
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

// benchSend sends one request (a POST of body, or a GET when body is nil) and
// returns how long it took and the status.
func benchSend(b *testing.B, client *fasthttp.Client, url, auth string, body []byte) (time.Duration, int) {
	rq, rs := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(rq)
	defer fasthttp.ReleaseResponse(rs)
	rq.SetRequestURI(url)
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

// interleavedMedians sends the chat request body to every target once per op,
// in rotating order so that all see the same machine load, calls between(op)
// after each op (nil: nothing), and reports each target's median latency as
// NAME_µs. It returns the medians in µs, in targets' order.
func interleavedMedians(b *testing.B, client *fasthttp.Client, targets []latencyTarget, body []byte, between func(op int)) []float64 {
	b.Helper()
	call := func(t latencyTarget) time.Duration {
		took, status := benchSend(b, client, "http://"+t.addr+"/v1/chat/completions", t.auth, body)
		if status != 200 {
			b.Fatalf("%s: status %d", t.name, status)
		}
		return took
	}
	for _, t := range targets { // warm the connections
		call(t)
	}
	lat := make([][]time.Duration, len(targets))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range targets {
			k := (i + j) % len(targets)
			lat[k] = append(lat[k], call(targets[k]))
		}
		if between != nil {
			between(i)
		}
	}
	b.StopTimer()
	med := make([]float64, len(targets))
	for k := range lat {
		slices.Sort(lat[k])
		med[k] = float64(lat[k][len(lat[k])/2].Nanoseconds()) / 1000
		b.ReportMetric(med[k], targets[k].name+"_µs")
	}
	return med
}

// benchSetup starts the fake upstream and loads a config routing gpt-* to it
// from a fresh data folder, which it returns.
func benchSetup(b *testing.B) (up *fakeUpstream, dir string, cfg *config.Config) {
	b.Helper()
	up = startUpstream(b, "")
	dir = b.TempDir()
	writeTestConfig(b, dir, up)
	b.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	cfg, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		b.Fatal(err)
	}
	return up, dir, cfg
}
