package codec

import (
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// The fuzzers feed arbitrary bytes to every parser and translator and check the
// invariants a client relies on: no panic, valid JSON out, and a well-formed
// event order (validStream) whatever the upstream sent.

func seedFiles(f *testing.F, pattern string) {
	files, _ := globFixtures(pattern)
	for _, p := range files {
		f.Add(uint8(0), uint8(0), readFile(f, p))
	}
}

func pickFormats(a, b uint8) (config.Format, config.Format) {
	return formats[int(a)%len(formats)], formats[int(b)%len(formats)]
}

func FuzzRequest(f *testing.F) {
	seedFiles(f, "request_*.json")
	f.Fuzz(func(t *testing.T, a, b uint8, body []byte) {
		from, to := pickFormats(a, b)
		out, _, err := Request(from, to, body, RequestOptions{Model: "m", DefaultMaxTokens: 100, Stream: a&4 != 0})
		if err != nil {
			return
		}
		if !gjson.ValidBytes(out) {
			t.Fatalf("Request(%s→%s) wrote invalid JSON: %s", from, to, out)
		}
		if to == config.FormatAnthropic && from != to && gjson.GetBytes(out, "max_tokens").Int() <= 0 {
			t.Fatalf("Anthropic request without max_tokens: %s", out)
		}
	})
}

func FuzzResponse(f *testing.F) {
	seedFiles(f, "response_*.json")
	f.Fuzz(func(t *testing.T, a, b uint8, body []byte) {
		from, to := pickFormats(a, b)
		out, _, err := Response(from, to, body, RequestInfo{})
		if err != nil {
			return
		}
		if !gjson.ValidBytes(out) {
			t.Fatalf("Response(%s→%s) wrote invalid JSON: %s", from, to, out)
		}
	})
}

// FuzzStream translates arbitrary streams: each line of the input that parses
// as SSE is an upstream event.
func FuzzStream(f *testing.F) {
	seedFiles(f, "*.sse")
	f.Fuzz(func(t *testing.T, a, b uint8, upstream []byte) {
		from, to := pickFormats(a, b)
		if from == to {
			to = formats[(int(b)+1)%len(formats)]
		}
		s := NewStream(from, to, RequestInfo{ClientModel: "m", IncludeUsage: a&8 != 0})
		acc := NewAccumulator(from)
		tr := NewUsageTracker(from)
		var out []byte
		for _, ev := range parseEventsLenient(upstream) {
			out, _ = s.Event(out, ev) // an invalid event is an error, not a panic
			acc.Add(ev)
			tr.Observe(ev)
			StreamError(from, ev)
		}
		out = s.End(out)
		if err := validStream(to, out); err != nil {
			t.Fatalf("%s→%s: %v\n%s", from, to, err, out)
		}
		if body := acc.Body(); body != nil && !gjson.ValidBytes(body) {
			t.Fatalf("Accumulator(%s) body is invalid JSON: %s", from, body)
		}
	})
}

func parseEventsLenient(b []byte) []sse.Event {
	r := sse.NewReader(bytesReader(b), 1<<20)
	var evs []sse.Event
	for i := 0; i < 10000; i++ {
		ev, err := r.Next()
		if err != nil && ev.Raw == nil {
			break
		}
		evs = append(evs, sse.Event{Name: clone(ev.Name), Data: clone(ev.Data), Raw: clone(ev.Raw), Comment: ev.Comment})
		if err != nil {
			break
		}
	}
	return evs
}
