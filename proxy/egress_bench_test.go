package proxy

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// BenchmarkStreamThroughConnectProxy compares, in one run, a stream from a TLS
// upstream reached directly and through a local CONNECT proxy (the test's, which
// copies bytes as they come). Both go through Gatehouse; the tunnel is kept
// alive between streams, as it is in use. added-first-chunk-µs is the median
// first-chunk delay through the tunnel minus the direct one.
func BenchmarkStreamThroughConnectProxy(b *testing.B) {
	ca := newTestCA(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	up := &fasthttp.Server{Handler: benchHandler}
	go up.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{ca.server}})) //nolint:errcheck
	b.Cleanup(func() { _ = up.Shutdown() })
	px := newConnectProxy(b, "")
	base := "https://" + upstreamHost + ":" + portOf(ln.Addr().String()) + "/v1"
	cfg, err := config.Parse([]byte(`ca_file = "`+ca.path+`"

[[provider]]
name = "direct"
format = "openai"
base_url = "`+base+`"
proxy_url = "none"

[[provider]]
name = "tunnel"
format = "openai"
base_url = "`+base+`"
proxy_url = "`+px.url("")+`"
`), filepath.Join(b.TempDir(), "config.toml"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(cfg, Options{Keys: keys{"direct/": "sk-b", "tunnel/": "sk-b"}, Recorder: &benchRecorder{}, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	mapDirect(s)
	addr := serveLoopback(b, s)
	names := []string{"direct", "tunnel"}
	bodies := [][]byte{
		[]byte(`{"model":"direct/gpt-4.1","stream":true,"messages":[{"role":"user","content":"hi"}]}`),
		[]byte(`{"model":"tunnel/gpt-4.1","stream":true,"messages":[{"role":"user","content":"hi"}]}`),
	}
	for i := range bodies { // connect and handshake once, as a running proxy has
		streamOnce(b, addr, bodies[i])
	}
	first := make([][]time.Duration, 2)
	lag := make([][]time.Duration, 2)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range bodies {
			f, l := streamOnce(b, addr, bodies[i])
			first[i] = append(first[i], f)
			lag[i] = append(lag[i], l...)
		}
	}
	for i, name := range names {
		b.ReportMetric(us(percentile(first[i], 0.5)), name+"-first-chunk-µs")
		b.ReportMetric(us(percentile(lag[i], 0.5)), name+"-chunk-lag-p50-µs")
		b.ReportMetric(us(percentile(lag[i], 0.99)), name+"-chunk-lag-p99-µs")
	}
	b.ReportMetric(us(percentile(first[1], 0.5)-percentile(first[0], 0.5)), "added-first-chunk-µs")
	if tunnels, _, _ := px.counts(); tunnels == 0 {
		b.Error("the tunnel provider never went through the proxy")
	}
}
