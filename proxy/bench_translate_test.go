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
// The medians of pass − direct-same and translated − direct-x are Gatehouse's
// added latency; translated/pass is their ratio (target: ≤ 2).
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
		{
			name: "responses_client_anthropic_upstream", path: "/v1/responses",
			body:      `{"model":"%s","stream":true,"store":false,"input":"weather?"}`,
			sameModel: "gpt-4.1", crossModel: "claude-sonnet-4-5",
			sameEvents: "openai/responses/stream_function_call.sse", crossEvents: "translate/anthropic_stream_tool_use.sse",
			sameUp: "/v1/responses", crossUp: "/v1/messages",
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
			var directSame, pass, directX, translated []time.Duration
			// Warm up connections and caches.
			call(p.url+tc.path, body(tc.crossModel), crossEv)
			call(p.url+tc.path, body(tc.sameModel), sameEv)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				directSame = append(directSame, call(upURL+tc.sameUp, body(tc.sameModel), sameEv))
				pass = append(pass, call(p.url+tc.path, body(tc.sameModel), sameEv))
				directX = append(directX, call(upURL+tc.crossUp, body(tc.crossModel), crossEv))
				translated = append(translated, call(p.url+tc.path, body(tc.crossModel), crossEv))
			}
			// Medians: the machine is shared, and a mean would follow its hiccups.
			passOver := us(percentile(pass, 0.5) - percentile(directSame, 0.5))
			transOver := us(percentile(translated, 0.5) - percentile(directX, 0.5))
			b.ReportMetric(passOver, "pass-added-p50-µs")
			b.ReportMetric(transOver, "translated-added-p50-µs")
			if passOver > 0 {
				b.ReportMetric(transOver/passOver, "translated/pass")
			}
		})
	}
}

func sprintf(format, model string) string { return fmt.Sprintf(format, model) }
