package proxy

import (
	"fmt"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkTranslatedStreamOverhead measures what Gatehouse adds to a streamed
// call, translated or not. Each iteration times four calls over loopback:
//
//	direct-same: the client reads the upstream stream itself (no proxy)
//	pass:        the client goes through Gatehouse to a same-format provider
//	direct-x:    the other-format upstream stream, read directly
//	translated:  through Gatehouse to the other-format provider (translated)
//
// pass-µs = pass − direct-same and translated-µs = translated − direct-x are
// Gatehouse's overheads; ratio = translated-µs / pass-µs (target: ≤ 2).
func BenchmarkTranslatedStreamOverhead(b *testing.B) {
	cases := []struct {
		name              string
		path, body        string // the client's request (through Gatehouse)
		sameModel         string // routes to a provider of the client's format
		crossModel        string // routes to a provider of another format
		sameEvents        string // fixture the same-format provider streams
		crossEvents       string // fixture the other-format provider streams
		sameUp, crossUp   string // upstream paths for the direct calls
		sameBody, crossBd string
	}{
		{
			name: "anthropic_client_openai_upstream", path: "/v1/messages",
			body:      `{"model":"%s","max_tokens":512,"stream":true,"messages":[{"role":"user","content":"weather?"}]}`,
			sameModel: "claude-sonnet-4-5", crossModel: "gpt-4o",
			sameEvents: "translate/anthropic_stream_tool_use.sse", crossEvents: "translate/openai_stream_tool_calls.sse",
			sameUp: "/v1/messages", crossUp: "/v1/chat/completions",
		},
		{
			name: "openai_client_anthropic_upstream", path: "/v1/chat/completions",
			body:      `{"model":"%s","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"weather?"}]}`,
			sameModel: "gpt-4o", crossModel: "claude-sonnet-4-5",
			sameEvents: "translate/openai_stream_tool_calls.sse", crossEvents: "translate/anthropic_stream_tool_use.sse",
			sameUp: "/v1/chat/completions", crossUp: "/v1/messages",
		},
		{
			name: "openai_client_gemini_upstream", path: "/v1/chat/completions",
			body:      `{"model":"%s","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"weather?"}]}`,
			sameModel: "gpt-4o", crossModel: "gemini-2.5-flash",
			sameEvents: "translate/openai_stream_tool_calls.sse", crossEvents: "translate/gemini_stream_function_call.sse",
			sameUp: "/v1/chat/completions", crossUp: "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
		},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			up := newFakeUpstream(b)
			p := newTestProxy(b, testConfig(up, ""), nil)
			sameEv := splitEvents(readFixture(b, tc.sameEvents))
			crossEv := splitEvents(readFixture(b, tc.crossEvents))
			client := &fasthttp.Client{}
			call := func(url, body string, events [][]byte) time.Duration {
				up.then(step{events: events})
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI(url)
				req.Header.SetMethod("POST")
				req.Header.SetContentType("application/json")
				req.SetBodyString(body)
				start := time.Now()
				if err := client.DoTimeout(req, resp, 10*time.Second); err != nil || resp.StatusCode() != 200 {
					b.Fatalf("%s: %v %d %s", url, err, resp.StatusCode(), resp.Body())
				}
				return time.Since(start)
			}
			body := func(model string) string { return sprintf(tc.body, model) }
			upURL := "http://" + up.addr
			var directSame, pass, directX, translated time.Duration
			// Warm up connections and caches.
			call(p.url+tc.path, body(tc.crossModel), crossEv)
			call(p.url+tc.path, body(tc.sameModel), sameEv)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				directSame += call(upURL+tc.sameUp, body(tc.sameModel), sameEv)
				pass += call(p.url+tc.path, body(tc.sameModel), sameEv)
				directX += call(upURL+tc.crossUp, body(tc.crossModel), crossEv)
				translated += call(p.url+tc.path, body(tc.crossModel), crossEv)
			}
			n := float64(b.N)
			passOver := float64(pass-directSame) / n / 1e3
			transOver := float64(translated-directX) / n / 1e3
			b.ReportMetric(passOver, "pass-µs")
			b.ReportMetric(transOver, "translated-µs")
			if passOver > 0 {
				b.ReportMetric(transOver/passOver, "ratio")
			}
		})
	}
}

func sprintf(format, model string) string { return fmt.Sprintf(format, model) }
