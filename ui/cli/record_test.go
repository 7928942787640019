package cli

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/codec"
)

func TestStoreCallConversion(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := &proxy.Call{
		ID: proxy.NewCallID(), Start: start, ClientUA: "tool/1", InboundFormat: "anthropic", Method: "POST",
		Path: "/v1/messages", Model: "claude-x", Provider: "ant", UpstreamModel: "claude-x-up", Stream: true,
		Outcome: proxy.OutcomePartial, Status: 200, Duration: 1500 * time.Millisecond, TTFB: 300 * time.Millisecond,
		Attempts: []proxy.Attempt{
			{Provider: "ant", Model: "claude-x-up", URL: "https://a/v1/messages", Status: 529, Error: "overloaded",
				Class: proxy.ClassOverloaded, Start: start, Duration: 200 * time.Millisecond},
			{Provider: "ant", Model: "claude-x-up", Status: 200, Error: "stream broke", Class: proxy.ClassMidStream,
				Start: start.Add(time.Second), Duration: time.Second, Delay: 250 * time.Millisecond},
		},
		Usage:    codec.Usage{InputTokens: 12, OutputTokens: -1, CacheReadTokens: 3, CacheWriteTokens: -1, ReasoningTokens: 0},
		Error:    "stream broke",
		Request:  proxy.Message{HeaderBlock: []byte("X-Api-Key: [REDACTED]\n"), Body: []byte(`{"a":1}`)},
		Response: proxy.Message{Body: []byte(`{"content":[]}`), Truncated: true},
		Events:   []byte("event: ping\ndata: {}\n\n"), EventsTruncated: true,
	}
	sc, b := StoreCall(c)
	if sc.ID != c.ID || !sc.Time.Equal(start) || sc.Outcome != "partial" || sc.DurationMS != 1500 || sc.TTFBMS != 300 ||
		sc.InboundFormat != "anthropic" || !sc.Stream || sc.ClientUA != "tool/1" || sc.Error != "stream broke" {
		t.Errorf("summary = %+v", sc)
	}
	if *sc.InputTokens != 12 || sc.OutputTokens != nil || *sc.CacheReadTokens != 3 || sc.CacheWriteTokens != nil || *sc.ReasoningTokens != 0 {
		t.Errorf("tokens: in %v out %v cache r/w %v/%v reasoning %v; want 12, null, 3, null, 0",
			sc.InputTokens, sc.OutputTokens, sc.CacheReadTokens, sc.CacheWriteTokens, sc.ReasoningTokens)
	}
	a := sc.Attempts[1]
	if len(sc.Attempts) != 2 || sc.Attempts[0].ErrorClass != "overloaded" || sc.Attempts[0].Status != 529 ||
		a.DelayMS != 250 || a.DurationMS != 1000 || a.ErrorClass != "mid_stream" || !a.Start.Equal(start.Add(time.Second)) {
		t.Errorf("attempts = %+v", sc.Attempts)
	}
	if string(b.Request.Body) != `{"a":1}` || string(b.Request.HeaderBlock) != "X-Api-Key: [REDACTED]\n" || !b.Response.Truncated ||
		string(b.Events) != "event: ping\ndata: {}\n\n" || !b.EventsTruncated {
		t.Errorf("bodies = %+v", b)
	}
	if &b.Request.Body[0] != &c.Request.Body[0] {
		t.Error("the request body was copied on the request path")
	}
}
