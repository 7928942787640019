package codec

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// events returns the (name, data) pairs of a translated stream.
func events(t *testing.T, out []byte) []sse.Event {
	t.Helper()
	return parseEvents(t, out)
}

func names(evs []sse.Event) string {
	var b []string
	for _, ev := range evs {
		switch {
		case ev.Comment:
			b = append(b, ":")
		case len(ev.Name) > 0:
			b = append(b, string(ev.Name))
		case sse.IsDone(ev.Data):
			b = append(b, "[DONE]")
		default:
			b = append(b, "data")
		}
	}
	return strings.Join(b, " ")
}

const chunk = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}` + "\n\n"

func oaChunk(delta, finish string) string {
	return strings.Replace(strings.Replace(chunk, "%s", delta, 1), "%s", finish, 1)
}

func TestOpenAIStreamWithoutFinishStillCloses(t *testing.T) {
	up := oaChunk(`{"role":"assistant","content":""}`, "null") + oaChunk(`{"content":"Hel"}`, "null") + oaChunk(`{"content":"lo"}`, "null")
	out := translateStream(t, oai, ant, []byte(up), RequestInfo{})
	if err := validStream(ant, out); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	evs := events(t, out)
	if got := names(evs); got != "message_start content_block_start content_block_delta content_block_delta content_block_stop message_delta message_stop" {
		t.Errorf("events got %s", got)
	}
	if sr := gjson.GetBytes(evs[5].Data, "delta.stop_reason").String(); sr != "end_turn" {
		t.Errorf("stop_reason got %q, want end_turn", sr)
	}
}

func TestOpenAIUsageChunkReachesMessageDelta(t *testing.T) {
	up := oaChunk(`{"content":"Hi"}`, "null") + oaChunk(`{}`, `"length"`) +
		`data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}}` + "\n\n" +
		"data: [DONE]\n\n"
	s := NewStream(oai, ant, RequestInfo{})
	var out []byte
	evs := parseEvents(t, []byte(up))
	for i, ev := range evs {
		before := len(out)
		out, _ = s.Event(out, ev)
		// message_delta is held after finish_reason until the usage chunk.
		if i == 1 && strings.Contains(string(out[before:]), "message_delta") {
			t.Errorf("message_delta written before the usage chunk")
		}
	}
	if tail := s.End(nil); len(tail) != 0 {
		t.Errorf("End after [DONE] wrote %q", tail)
	}
	got := events(t, out)
	md := got[len(got)-2]
	want := map[string]string{"delta.stop_reason": "max_tokens", "usage.input_tokens": "6", "usage.cache_read_input_tokens": "4", "usage.output_tokens": "3"}
	for p, w := range want {
		if g := gjson.GetBytes(md.Data, p).String(); g != w {
			t.Errorf("message_delta %s got %q, want %q (%s)", p, g, w, md.Data)
		}
	}
	if u := s.Usage(); u.InputTokens != 10 || u.OutputTokens != 3 || u.CacheReadTokens != 4 {
		t.Errorf("Usage() got %+v", u)
	}
}

func TestUsageChunkOnlyWhenAsked(t *testing.T) {
	up := readFile(t, "testdata/anthropic/stream_text.sse")
	for _, asked := range []bool{false, true} {
		out := translateStream(t, ant, oai, up, RequestInfo{IncludeUsage: asked})
		if err := validStream(oai, out); err != nil {
			t.Fatal(err)
		}
		n := strings.Count(string(out), `"choices":[],"usage"`)
		if asked && n != 1 || !asked && n != 0 {
			t.Errorf("include_usage=%v: %d usage chunks", asked, n)
		}
		if strings.Contains(string(out), `"usage":null`) {
			t.Errorf("usage:null chunk")
		}
	}
}

func TestMidStreamErrorBecomesClientError(t *testing.T) {
	tests := []struct {
		file string
		from config.Format
	}{
		{"testdata/anthropic/stream_error_overloaded.sse", ant},
		{"testdata/openai/stream_midstream_error.sse", oai},
		{"testdata/gemini/stream_midstream_error.sse", gem},
		{"testdata/responses/stream_failed.sse", config.FormatResponses},
	}
	for _, tt := range tests {
		for _, to := range formats {
			if to == tt.from {
				continue
			}
			t.Run(tt.file+"_to_"+string(to), func(t *testing.T) {
				out := translateStream(t, tt.from, to, readFile(t, tt.file), RequestInfo{IncludeUsage: true})
				if err := validStream(to, out); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				evs := events(t, out)
				last := evs[len(evs)-1]
				switch to {
				case ant:
					if string(last.Name) != "error" || gjson.GetBytes(last.Data, "error.type").String() == "" {
						t.Errorf("last event got %s %s, want an error event", last.Name, last.Data)
					}
				case config.FormatResponses:
					if string(last.Name) != "response.failed" || gjson.GetBytes(last.Data, "response.error.message").String() == "" {
						t.Errorf("last event got %s %s, want response.failed with the error", last.Name, last.Data)
					}
				default:
					if !gjson.GetBytes(last.Data, "error.message").Exists() {
						t.Errorf("last event got %s, want an error object", last.Data)
					}
				}
				if strings.Contains(string(out), "[DONE]") || strings.Contains(string(out), "message_stop") || strings.Contains(string(out), "response.completed") {
					t.Errorf("a failed stream ends as if clean:\n%s", out)
				}
			})
		}
	}
	s := NewStream(ant, oai, RequestInfo{})
	out, _ := s.Event(nil, sse.Event{Name: []byte("error"), Data: []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)})
	if !strings.Contains(string(out), "service_unavailable_error") {
		t.Errorf("overloaded_error to OpenAI got %s", out)
	}
}

func TestThinkingThenTextBlocksInOrder(t *testing.T) {
	out := translateStream(t, gem, ant, readFile(t, "testdata/gemini/stream_thinking.sse"), RequestInfo{})
	if err := validStream(ant, out); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var types []string
	for _, ev := range events(t, out) {
		if string(ev.Name) == "content_block_start" {
			types = append(types, gjson.GetBytes(ev.Data, "content_block.type").String())
		}
	}
	// The last block carries the text part's thoughtSignature back (textsig_test.go).
	if strings.Join(types, ",") != "thinking,text,thinking" {
		t.Errorf("blocks got %v, want thinking, text, then the text's signature", types)
	}
	// Anthropic thinking with its signature reaches an OpenAI client as reasoning_content.
	out = translateStream(t, ant, oai, readFile(t, "testdata/anthropic/stream_thinking.sse"), RequestInfo{})
	if !strings.Contains(string(out), `"reasoning_content":"Check divisibility`) {
		t.Errorf("no reasoning_content:\n%s", out)
	}
}

func TestPingsAreKeptAlive(t *testing.T) {
	up := ": keep-alive\n\n" + oaChunk(`{"content":"x"}`, "null") + ": keep-alive\n\n" + oaChunk(`{}`, `"stop"`) + "data: [DONE]\n\n"
	out := translateStream(t, oai, ant, []byte(up), RequestInfo{})
	if err := validStream(ant, out); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := strings.Count(string(out), "event: ping"); n != 2 {
		t.Errorf("got %d pings, want 2\n%s", n, out)
	}
}

func TestInvalidUpstreamEventIsAnError(t *testing.T) {
	s := NewStream(oai, ant, RequestInfo{})
	out, err := s.Event(nil, sse.Event{Data: []byte(`{"choices":[`)})
	if err == nil || len(out) != 0 {
		t.Errorf("Event(truncated JSON) got (%q, %v), want an error and no output", out, err)
	}
}

func TestGeminiCallIDsCarrySignatures(t *testing.T) {
	id := geminiCallID("", "resp-1", 0, "CvMB+/sig==")
	if strings.ContainsAny(id, "+/=.") {
		t.Errorf("id %q has characters Anthropic rejects", id)
	}
	gid, sig := splitCallID(id)
	if gid != "" || sig != "CvMB+/sig==" {
		t.Errorf("splitCallID(%q) got (%q, %q)", id, gid, sig)
	}
	gid, sig = splitCallID(geminiCallID("8hd01vsf", "r", 1, ""))
	if gid != "8hd01vsf" || sig != "" {
		t.Errorf("Gemini 3 id got (%q, %q)", gid, sig)
	}
	if a, b := geminiCallID("", "r", 0, ""), geminiCallID("", "r", 1, ""); a == b {
		t.Errorf("two calls got the same id %q", a)
	}
	if a, b := geminiCallID("", "", 0, ""), geminiCallID("", "", 0, ""); a == b {
		t.Errorf("calls of responses without ids share id %q", a)
	}
}

func TestToolCallsWithoutIndex(t *testing.T) {
	up := oaChunk(`{"tool_calls":[{"id":"a1","type":"function","function":{"name":"f","arguments":"{\"x\":"}}]}`, "null") +
		oaChunk(`{"tool_calls":[{"function":{"arguments":"1}"}}]}`, "null") +
		oaChunk(`{"tool_calls":[{"id":"b2","type":"function","function":{"name":"g","arguments":"{}"}}]}`, "null") +
		oaChunk(`{}`, `"tool_calls"`) + "data: [DONE]\n\n"
	out := translateStream(t, oai, ant, []byte(up), RequestInfo{})
	if err := validStream(ant, out); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	acc := NewAccumulator(ant)
	for _, ev := range parseEvents(t, out) {
		acc.Add(ev)
	}
	body := acc.Body()
	expect(t, body, map[string]string{"content.#": "2", "content.0.id": "a1", "content.0.input.x": "1", "content.1.id": "b2", "content.1.name": "g", "stop_reason": "tool_use"})
}

func TestLargeEventTranslates(t *testing.T) {
	big := strings.Repeat("日本語テキスト ", 8<<10) // ~180 KiB in one delta
	data, _ := json.Marshal(big)
	up := oaChunk(`{"content":`+string(data)+`}`, "null") + oaChunk(`{}`, `"stop"`) + "data: [DONE]\n\n"
	out := translateStream(t, oai, ant, []byte(up), RequestInfo{})
	if err := validStream(ant, out); err != nil {
		t.Fatal(err)
	}
	for _, ev := range parseEvents(t, out) {
		if gjson.GetBytes(ev.Data, "delta.type").String() == "text_delta" && gjson.GetBytes(ev.Data, "delta.text").String() != big {
			t.Errorf("the large text delta changed in translation")
		}
	}
}
