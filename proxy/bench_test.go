package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/valyala/fasthttp"
)

// The benchmarks compare, in one run, three ways to reach the same upstream:
// direct, through a bare fasthttp forwarder (no routing, parsing or recording:
// the floor any proxy hop costs on this machine) and through Gatehouse with call
// recording on. Machines here are noisy: read ratios within one run.

// benchBody is a 1 KB OpenAI chat completion.
var benchBody = func() []byte {
	pad := bytes.Repeat([]byte("x"), 1024-200)
	return []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		string(pad) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}`)
}()

var benchRequest = []byte(`{"model":"gpt-4.1","messages":[{"role":"user","content":"What is the capital of Australia?"}]}`)

// benchStreamEvents is how many chunks a benchmark stream has, and benchCadence
// the upstream's pause between them.
const (
	benchStreamEvents = 20
	benchCadence      = 2 * time.Millisecond
)

// benchUpstream answers /v1/chat/completions with benchBody, or with a stream
// of benchStreamEvents chunks whose content is the upstream's send time in ns.
func benchUpstream(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: benchHandler}
	go srv.Serve(ln) //nolint:errcheck
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// benchHandler is benchUpstream's handler.
func benchHandler(ctx *fasthttp.RequestCtx) {
	if !bytes.Contains(ctx.PostBody(), []byte(`"stream":true`)) {
		ctx.SetContentType("application/json")
		ctx.SetBody(benchBody)
		return
	}
	ctx.SetContentType("text/event-stream")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		for i := 0; i < benchStreamEvents; i++ {
			if i > 0 {
				time.Sleep(benchCadence)
			}
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%d\"},\"finish_reason\":null}]}\n\n", time.Now().UnixNano())
			if w.Flush() != nil {
				return
			}
		}
		_, _ = w.WriteString("data: [DONE]\n\n")
		_ = w.Flush()
	})
}

// benchFloor is a bare fasthttp forwarder to upstream: the cost of any hop.
func benchFloor(tb testing.TB, upstream string) string {
	client := &fasthttp.Client{StreamResponseBody: true, MaxConnsPerHost: 4096}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		ctx.Request.CopyTo(req)
		req.SetHost(upstream)
		resp := fasthttp.AcquireResponse()
		if err := client.Do(req, resp); err != nil {
			fasthttp.ReleaseResponse(resp)
			ctx.Error(err.Error(), fasthttp.StatusBadGateway)
			return
		}
		ctx.SetStatusCode(resp.StatusCode())
		ctx.Response.Header.SetContentTypeBytes(resp.Header.ContentType())
		if !bytes.HasPrefix(resp.Header.ContentType(), []byte("text/event-stream")) {
			body, _ := io.ReadAll(resp.BodyStream())
			ctx.SetBody(body)
			fasthttp.ReleaseResponse(resp)
			return
		}
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			defer fasthttp.ReleaseResponse(resp)
			buf := make([]byte, 32<<10)
			for {
				n, err := resp.BodyStream().Read(buf)
				if n > 0 {
					_, _ = w.Write(buf[:n])
					if w.Flush() != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		})
	}}
	go srv.Serve(ln) //nolint:errcheck
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// benchRecorder keeps the last records in a ring, as the history store's queue
// does between its batched writes: queueing costs the request path an atomic
// add and a store, and wakes no goroutine (the store's writer runs on a tick;
// the root package's benchmark measures the real store on and off).
type benchRecorder struct {
	n    atomic.Uint64
	ring [4096]atomic.Pointer[Call]
}

func (r *benchRecorder) Record(c *Call) {
	r.ring[r.n.Add(1)%uint64(len(r.ring))].Store(c)
}

// benchGatehouse starts Gatehouse with recording on, routing gpt-* to upstream.
func benchGatehouse(tb testing.TB, upstream string) string {
	_, addr := benchServer(tb, upstream, "")
	return addr
}

// benchServer is benchGatehouse returning the server too, with extra TOML in
// its config.
func benchServer(tb testing.TB, upstream, extra string) (*Server, string) {
	cfg, err := config.Parse([]byte(extra+`
[[provider]]
name = "openai"
base_url = "http://`+upstream+`/v1"
`), "bench.toml")
	if err != nil {
		tb.Fatal(err)
	}
	rec := &benchRecorder{}
	s, err := New(cfg, Options{Keys: keys{"openai/": "sk-bench"}, Recorder: rec, Logger: discardLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	return s, serveLoopback(tb, s)
}

// benchTargets starts the upstream and both hops.
func benchTargets(tb testing.TB) (names []string, addrs []string) {
	up := benchUpstream(tb)
	return []string{"direct", "floor", "gatehouse"}, []string{up, benchFloor(tb, up), benchGatehouse(tb, up)}
}

// post sends one non-streaming request and checks the answer.
func post(tb testing.TB, c *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) {
	if err := c.Do(req, resp); err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode() != 200 || len(resp.Body()) != len(benchBody) {
		tb.Fatalf("status %d, %d bytes: %s", resp.StatusCode(), len(resp.Body()), resp.Body())
	}
}

func newBenchRequest(addr string, body []byte) *fasthttp.Request {
	req := fasthttp.AcquireRequest()
	req.SetRequestURI("http://" + addr + "/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", "Bearer client-key")
	req.SetBody(body)
	return req
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// BenchmarkPassThroughC1 interleaves one request per path per iteration
// (concurrency 1) and reports each path's p50/p99 and the latency each hop adds
// over direct.
func BenchmarkPassThroughC1(b *testing.B) {
	passThroughC1(b, "/v1/chat/completions", benchRequest)
}

// BenchmarkPassThroughResponsesC1 is BenchmarkPassThroughC1 for /v1/responses
// passed through to a provider that serves it.
func BenchmarkPassThroughResponsesC1(b *testing.B) {
	passThroughC1(b, "/v1/responses", []byte(`{"model":"gpt-4.1","input":"What is the capital of Australia?","store":false}`))
}

func passThroughC1(b *testing.B, path string, body []byte) {
	names, addrs := benchTargets(b)
	clients := make([]*fasthttp.HostClient, len(addrs))
	reqs := make([]*fasthttp.Request, len(addrs))
	for i, a := range addrs {
		clients[i] = &fasthttp.HostClient{Addr: a, MaxConns: 1}
		reqs[i] = newBenchRequest(a, body)
		reqs[i].SetRequestURI("http://" + a + path)
	}
	resp := &fasthttp.Response{}
	lat := make([][]time.Duration, len(addrs))
	for i := range addrs { // warm up connections and pools
		for j := 0; j < 200; j++ {
			post(b, clients[i], reqs[i], resp)
		}
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range addrs {
			t0 := time.Now()
			post(b, clients[i], reqs[i], resp)
			lat[i] = append(lat[i], time.Since(t0))
		}
	}
	b.StopTimer()
	direct := percentile(lat[0], 0.5)
	for i, name := range names {
		b.ReportMetric(us(percentile(lat[i], 0.5)), name+"-p50-µs")
		b.ReportMetric(us(percentile(lat[i], 0.99)), name+"-p99-µs")
		if i > 0 {
			b.ReportMetric(us(percentile(lat[i], 0.5)-direct), name+"-added-p50-µs")
		}
	}
	floorAdded := percentile(lat[1], 0.5) - direct
	if floorAdded > 0 {
		b.ReportMetric(float64(percentile(lat[2], 0.5)-direct)/float64(floorAdded), "gatehouse/floor-added")
	}
}

// BenchmarkPassThroughC64 measures req/s at concurrency 64 for each path. Each
// iteration is a round of benchC64Requests requests per path, the paths taking
// turns, so that load from elsewhere on the machine hits all three alike.
func BenchmarkPassThroughC64(b *testing.B) {
	names, addrs := benchTargets(b)
	clients := make([]*fasthttp.HostClient, len(addrs))
	for i, a := range addrs {
		clients[i] = &fasthttp.HostClient{Addr: a, MaxConns: 64}
		c64Round(b, clients[i], a, 640) // warm up
	}
	spent := make([]time.Duration, len(addrs))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i, a := range addrs {
			spent[i] += c64Round(b, clients[i], a, benchC64Requests)
		}
	}
	b.StopTimer()
	rate := make([]float64, len(addrs))
	for i, name := range names {
		rate[i] = float64(b.N*benchC64Requests) / spent[i].Seconds()
		b.ReportMetric(rate[i], name+"-req/s")
	}
	b.ReportMetric(rate[2]/rate[1], "gatehouse/floor-req/s")
}

// benchC64Requests is how many requests one round sends to one path.
const benchC64Requests = 6400

// c64Round sends n requests from 64 goroutines and returns the time it took.
func c64Round(tb testing.TB, c *fasthttp.HostClient, addr string, n int) time.Duration {
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := newBenchRequest(addr, benchRequest)
			defer fasthttp.ReleaseRequest(req)
			resp := &fasthttp.Response{}
			for i := 0; i < n/64; i++ {
				post(tb, c, req, resp)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkPassThroughAllocs reports a Gatehouse hop's allocations per request,
// net of the client's and the upstream's (the direct path's), recorded and not
// ([history] enabled = false: the request path captures nothing, issue 12).
func BenchmarkPassThroughAllocs(b *testing.B) {
	names, addrs := benchTargets(b)
	_, off := benchServer(b, addrs[0], "[history]\nenabled = false\n")
	names, addrs = append(names, "gatehouse-unrecorded"), append(addrs, off)
	for i, name := range names {
		addr := addrs[i]
		b.Run(name, func(b *testing.B) {
			client := &fasthttp.HostClient{Addr: addr, MaxConns: 1}
			req := newBenchRequest(addr, benchRequest)
			defer fasthttp.ReleaseRequest(req)
			resp := &fasthttp.Response{}
			b.ReportAllocs()
			for n := 0; n < b.N; n++ {
				post(b, client, req, resp)
			}
		})
	}
}

// BenchmarkStream measures, per path, the delay to the first chunk and how
// late each chunk arrives after the upstream sent it (the upstream writes its
// send time into each chunk): a relay that waits for the next chunk shows a lag
// of a whole cadence.
func BenchmarkStream(b *testing.B) {
	names, addrs := benchTargets(b)
	body := []byte(`{"model":"gpt-4.1","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	first := make([][]time.Duration, len(addrs))
	lag := make([][]time.Duration, len(addrs))
	for n := 0; n < b.N; n++ {
		for i, a := range addrs {
			f, l := streamOnce(b, a, body)
			first[i] = append(first[i], f)
			lag[i] = append(lag[i], l...)
		}
	}
	for i, name := range names {
		b.ReportMetric(us(percentile(first[i], 0.5)), name+"-first-chunk-µs")
		b.ReportMetric(us(percentile(lag[i], 0.5)), name+"-chunk-lag-p50-µs")
		b.ReportMetric(us(percentile(lag[i], 0.99)), name+"-chunk-lag-p99-µs")
	}
}

// streamOnce reads one stream, returning the time to the first chunk and each
// chunk's lag behind its upstream send time.
func streamOnce(tb testing.TB, addr string, body []byte) (time.Duration, []time.Duration) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	t0 := time.Now()
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer k\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	br := bufio.NewReader(conn)
	for { // headers
		line, err := br.ReadString('\n')
		if err != nil {
			tb.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	r := sse.NewReader(&chunkedReader{br: br}, 0)
	var firstChunk time.Duration
	var lags []time.Duration
	for i := 0; ; i++ {
		ev, err := r.Next()
		if err != nil {
			tb.Fatalf("stream from %s ended: %v", addr, err)
		}
		now := time.Now()
		if i == 0 {
			firstChunk = now.Sub(t0)
		}
		if sse.IsDone(ev.Data) {
			return firstChunk, lags
		}
		j := bytes.Index(ev.Data, []byte(`"content":"`))
		if j < 0 {
			continue
		}
		rest := ev.Data[j+11:]
		sent, err := strconv.ParseInt(string(rest[:bytes.IndexByte(rest, '"')]), 10, 64)
		if err == nil {
			lags = append(lags, now.Sub(time.Unix(0, sent)))
		}
	}
}

// chunkedReader decodes an HTTP/1.1 chunked body.
type chunkedReader struct {
	br   *bufio.Reader
	left int
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		line, err := c.br.ReadString('\n')
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace([]byte(line))), 16, 64)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		c.left = int(n)
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= n
	if c.left == 0 && err == nil {
		_, err = c.br.Discard(2)
	}
	return n, err
}
