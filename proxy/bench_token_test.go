package proxy

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkClientTokenC1 measures what a client token costs a call at
// concurrency 1: the same Gatehouse is called in turn without a token and
// with one (scopes and a daily budget on, so the reservation is included),
// and the difference of the p50s is the token's added latency.
func BenchmarkClientTokenC1(b *testing.B) {
	up := benchUpstream(b)
	s, addr := benchServer(b, up, "")
	c := Client{Name: "bench", Hash: sha256.Sum256([]byte(testToken)), Models: []string{"gpt-*"}, Providers: []string{"openai"}, DailyTokens: 1 << 50}
	s.SetClients([]Client{c})
	client := &fasthttp.HostClient{Addr: addr, MaxConns: 1}
	plain := newBenchRequest(addr, benchRequest)
	withToken := newBenchRequest(addr, benchRequest)
	withToken.Header.Set("Authorization", "Bearer "+testToken)
	reqs := []*fasthttp.Request{plain, withToken}
	resp := &fasthttp.Response{}
	for range 200 { // warm up
		for _, r := range reqs {
			post(b, client, r, resp)
		}
	}
	lat := make([][]time.Duration, len(reqs))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i, r := range reqs {
			t0 := time.Now()
			post(b, client, r, resp)
			lat[i] = append(lat[i], time.Since(t0))
		}
	}
	b.StopTimer()
	p0, p1 := percentile(lat[0], 0.5), percentile(lat[1], 0.5)
	b.ReportMetric(us(p0), "no-token-p50-µs")
	b.ReportMetric(us(p1), "token-p50-µs")
	b.ReportMetric(us(p1-p0), "token-added-p50-µs")
	if u := s.ClientUsage()["bench"]; u.Tokens == 0 {
		b.Fatalf("the token's calls were not counted: %+v", u)
	}
}

// BenchmarkTokenCheck is the check on its own: find the token in the headers,
// hash it, look it up. It must not allocate.
func BenchmarkTokenCheck(b *testing.B) {
	s := &Server{}
	s.SetClients([]Client{{Name: "bench", Hash: sha256.Sum256([]byte(testToken))}})
	req := &fasthttp.Request{}
	req.SetRequestURI("http://127.0.0.1/v1/chat/completions")
	req.Header.Set("Authorization", "Bearer "+testToken)
	b.ReportAllocs()
	for b.Loop() {
		if s.lookupClient(findToken(req)) == nil {
			b.Fatal("token not found")
		}
	}
}
