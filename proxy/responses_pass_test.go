package proxy

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// Issue 10 §1: a Responses stream ends with response.completed (or .incomplete
// / .failed), never [DONE]; a complete one is a success, not a broken stream.
func TestResponsesStreamPassThroughEndsCleanly(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	client := openai.NewClient(option.WithBaseURL(p.url+"/v1"), option.WithAPIKey("gatehouse"), option.WithMaxRetries(0))
	stream := client.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
		Model: "gpt-4.1",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("What is the capital of Australia?")},
	})
	var text strings.Builder
	var last string
	for stream.Next() {
		ev := stream.Current()
		last = ev.Type
		if ev.Type == "response.output_text.delta" {
			text.WriteString(ev.Delta)
		}
		if ev.Type == "error" {
			t.Errorf("the client got an error event after a complete stream: %s", ev.RawJSON())
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if last != "response.completed" || text.String() != "The capital of Australia is Canberra." {
		t.Errorf("last event %q, text %q: want response.completed and the fixture's text", last, text.String())
	}
	c := p.rec.next(t)
	if c.Outcome != OutcomeOK || c.Error != "" {
		t.Errorf("recorded %s (%q), want ok", c.Outcome, c.Error)
	}
	if n := len(c.Attempts); n != 1 || c.Attempts[0].Class != ClassNone {
		t.Errorf("attempts %+v, want one clean attempt", c.Attempts)
	}
}

// A Responses stream cut before its end event is still a broken stream.
func TestResponsesStreamPassThroughCutIsPartial(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	events := splitEvents(readFixture(t, "openai/responses/stream_text.sse"))
	up.then(step{events: events[:6]})
	_, br, _ := streamClient(t, p, "/v1/responses", `{"model":"gpt-4.1","input":"hi","stream":true}`)
	var got strings.Builder
	for i := 0; i < 64; i++ {
		b := readChunk(t, br)
		if len(b) == 0 {
			break
		}
		got.Write(b)
	}
	if !strings.Contains(got.String(), `"type":"error"`) {
		t.Errorf("the client got no error event after a cut stream:\n%s", got.String())
	}
	c := p.rec.next(t)
	if c.Outcome != OutcomePartial || c.Attempts[len(c.Attempts)-1].Class != ClassMidStream {
		t.Errorf("recorded %s, attempts %+v: want partial, mid_stream", c.Outcome, c.Attempts)
	}
}
