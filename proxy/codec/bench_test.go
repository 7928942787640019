package codec

import (
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// BenchmarkStream measures translating whole upstream streams (fixtures) into
// each other client format: ns per stream (ns/op) and per upstream event (ns/event).
func BenchmarkStream(b *testing.B) {
	cases := []struct {
		file     string
		from, to config.Format
	}{
		{"openai/stream_tool_calls.sse", oai, ant},
		{"openai/stream_text.sse", oai, ant},
		{"openai/stream_tool_calls.sse", oai, gem},
		{"anthropic/stream_tool_use.sse", ant, oai},
		{"anthropic/stream_thinking.sse", ant, oai},
		{"anthropic/stream_tool_use.sse", ant, gem},
		{"gemini/stream_function_call.sse", gem, oai},
		{"gemini/stream_text.sse", gem, ant},
		{"responses/stream_function_call.sse", rsp, ant},
		{"responses/stream_text.sse", rsp, oai},
		{"anthropic/stream_tool_use.sse", ant, rsp},
		{"openai/stream_tool_calls.sse", oai, rsp},
		{"gemini/stream_function_call.sse", gem, rsp},
	}
	for _, tc := range cases {
		evs := readEvents(b, "testdata/"+tc.file)
		b.Run(tc.file+"_to_"+string(tc.to), func(b *testing.B) {
			var out []byte
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s := NewStream(tc.from, tc.to, RequestInfo{ClientModel: "m", IncludeUsage: true})
				out = out[:0]
				for _, ev := range evs {
					out, _ = s.Event(out, ev)
				}
				out = s.End(out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
		})
	}
}

// BenchmarkPassThroughInspection is what a same-format stream costs: usage
// tracking and accumulation for the history, per upstream event.
func BenchmarkPassThroughInspection(b *testing.B) {
	passThroughInspection(b, ant, "anthropic/stream_tool_use.sse")
}

// BenchmarkPassThroughInspectionResponses is the same for a Responses stream
// passed through (/v1/responses to OpenAI).
func BenchmarkPassThroughInspectionResponses(b *testing.B) {
	passThroughInspection(b, rsp, "responses/stream_function_call.sse")
}

func passThroughInspection(b *testing.B, f config.Format, file string) {
	evs := readEvents(b, "testdata/"+file)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tr, acc := NewUsageTracker(f), NewAccumulator(f)
		for _, ev := range evs {
			tr.Observe(ev)
			acc.Add(ev)
		}
		_ = acc.Body()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}

func BenchmarkRequest(b *testing.B) {
	cases := []struct {
		file     string
		from, to config.Format
	}{
		{"openai/request_tool_result_followup.json", oai, ant},
		{"openai/request_tool_result_followup.json", oai, gem},
		{"openai/request_tool_result_followup.json", oai, rsp},
		{"responses/request_function_call_output.json", rsp, ant},
		{"responses/request_function_call_output.json", rsp, oai},
	}
	for _, tc := range cases {
		body := readFile(b, "testdata/"+tc.file)
		b.Run(string(tc.from)+"_to_"+string(tc.to), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := Request(tc.from, tc.to, body, RequestOptions{Model: "m"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkResponse(b *testing.B) {
	body := readFile(b, "testdata/anthropic/response_tool_use.json")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := Response(ant, oai, body, RequestInfo{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponseResponses(b *testing.B) {
	for _, tc := range []struct {
		file     string
		from, to config.Format
	}{
		{"anthropic/response_tool_use.json", ant, rsp},
		{"responses/response_function_call.json", rsp, ant},
	} {
		body := readFile(b, "testdata/"+tc.file)
		b.Run(string(tc.from)+"_to_"+string(tc.to), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := Response(tc.from, tc.to, body, RequestInfo{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUsageFromResponse is the usage read of every non-streaming
// pass-through answer, per format's fixture.
func BenchmarkUsageFromResponse(b *testing.B) {
	for _, file := range []string{"openai/response_text.json", "anthropic/response_tool_use.json", "gemini/response_thinking_include_thoughts.json", "responses/response_function_call.json"} {
		path := "testdata/" + file
		body, f := readFile(b, path), formatOfFixture(path)
		b.Run(file, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				UsageFromResponse(f, body)
			}
		})
	}
}
