package codec

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// accStream is an OpenAI stream of n text deltas of word, then a tool call
// whose arguments come in two pieces.
func accStream(tb testing.TB, n int, word string) []byte {
	var b strings.Builder
	for range n {
		b.WriteString(oaChunk(`{"content":"`+word+`"}`, "null"))
	}
	b.WriteString(oaChunk(`{"tool_calls":[{"index":0,"id":"a1","type":"function","function":{"name":"f","arguments":"{\"x\":"}}]}`, "null"))
	b.WriteString(oaChunk(`{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}`, "null"))
	b.WriteString(oaChunk(`{}`, `"tool_calls"`) + "data: [DONE]\n\n")
	return []byte(b.String())
}

// TestAccumulatorLimit is issue 15 §2: a long stream's record keeps only
// body_cap_bytes of its content, cut on a rune boundary and said so, and
// without a limit every delta is kept in order.
func TestAccumulatorLimit(t *testing.T) {
	evs := parseEvents(t, accStream(t, 1000, "héllo "))
	all := NewAccumulator(oai)
	for _, ev := range evs {
		all.Add(ev)
	}
	if got := gjson.GetBytes(all.Body(), "choices.0.message.content").String(); got != strings.Repeat("héllo ", 1000) || all.Truncated() {
		t.Errorf("no limit: content %d bytes (truncated %v), want all %d", len(got), all.Truncated(), 7000)
	}
	if got := gjson.GetBytes(all.Body(), "choices.0.message.tool_calls.0.function.arguments").String(); got != `{"x":1}` {
		t.Errorf("no limit: arguments %q", got)
	}

	capped := NewAccumulator(oai)
	capped.Limit(100) // 14 words and "h", then é would be cut in two
	for _, ev := range evs {
		capped.Add(ev)
	}
	body := capped.Body()
	if got := gjson.GetBytes(body, "choices.0.message.content").String(); got != strings.Repeat("héllo ", 14)+"h" || !capped.Truncated() {
		t.Errorf("limit 100: content %q (truncated %v), want 14 words and \"h\", truncated", got, capped.Truncated())
	}
	if !gjson.ValidBytes(body) || gjson.GetBytes(body, "choices.0.finish_reason").String() != "tool_calls" {
		t.Errorf("limit 100: the body lost its shape: %s", body)
	}
}

// BenchmarkAccumulatorLongStream reassembles a stream of 20,000 small text
// deltas: the cost per event must not grow with the stream's length.
func BenchmarkAccumulatorLongStream(b *testing.B) {
	evs := parseEvents(b, accStream(b, 20000, "word "))
	b.ReportAllocs()
	for b.Loop() {
		acc := NewAccumulator(oai)
		for _, ev := range evs {
			acc.Add(ev)
		}
		_ = acc.Body()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}
