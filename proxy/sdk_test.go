package proxy

import (
	"context"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

// fixtureStreamText concatenates the text deltas of an SSE fixture.
func fixtureStreamText(t *testing.T, name, path string) string {
	t.Helper()
	var b strings.Builder
	for _, ev := range splitEvents(readFixture(t, name)) {
		r := sse.NewReader(strings.NewReader(string(ev)), 0)
		e, err := r.Next()
		if err != nil || e.Data == nil {
			continue
		}
		b.WriteString(gjson.GetBytes(e.Data, path).String())
	}
	return b.String()
}

func TestOpenAISDKThroughProxy(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	client := openai.NewClient(option.WithBaseURL(p.url+"/v1"), option.WithAPIKey("not-a-real-key"), option.WithMaxRetries(0))
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:    "gpt-4.1",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the capital of Australia?")},
	}

	res, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatalf("non-streaming call: %v", err)
	}
	want := gjson.GetBytes(readFixture(t, "openai/chat/response_text.json"), "choices.0.message.content").String()
	if res.Choices[0].Message.Content != want || res.Usage.TotalTokens == 0 {
		t.Errorf("content %q (usage %d), want %q", res.Choices[0].Message.Content, res.Usage.TotalTokens, want)
	}
	if up.last().headers["authorization"] != "Bearer sk-oai-secret" {
		t.Errorf("the SDK's key was not replaced by the provider key")
	}

	stream := client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("streaming call: %v", err)
	}
	wantStream := fixtureStreamText(t, "openai/chat/stream_text.sse", "choices.0.delta.content")
	if got := acc.Choices[0].Message.Content; got != wantStream {
		t.Errorf("streamed content %q, want %q", got, wantStream)
	}
}

func TestAnthropicSDKThroughProxy(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	client := anthropic.NewClient(aoption.WithBaseURL(p.url), aoption.WithAPIKey("not-a-real-key"), aoption.WithMaxRetries(0))
	ctx := context.Background()
	params := anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 256,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is the capital of Australia?"))},
	}
	msg, err := client.Messages.New(ctx, params)
	if err != nil {
		t.Fatalf("non-streaming call: %v", err)
	}
	want := gjson.GetBytes(readFixture(t, "anthropic/messages/response_text.json"), "content.0.text").String()
	if len(msg.Content) == 0 || msg.Content[0].Text != want {
		t.Errorf("content %+v, want %q", msg.Content, want)
	}
	if up.last().headers["x-api-key"] != "sk-ant-secret" {
		t.Errorf("the SDK's key was not replaced by the provider key")
	}

	stream := client.Messages.NewStreaming(ctx, params)
	var acc anthropic.Message
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatalf("accumulate: %v", err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("streaming call: %v", err)
	}
	wantStream := fixtureStreamText(t, "anthropic/messages/stream_text.sse", "delta.text")
	if len(acc.Content) == 0 || acc.Content[0].Text != wantStream || acc.StopReason == "" {
		t.Errorf("streamed message %+v, want text %q and a stop reason", acc.Content, wantStream)
	}
}

func TestSDKsSeeErrorsInTheirOwnFormat(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	oc := openai.NewClient(option.WithBaseURL(p.url+"/v1"), option.WithAPIKey("x"), option.WithMaxRetries(0))
	_, err := oc.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "unrouted-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	var oerr *openai.Error
	if !asError(err, &oerr) || oerr.StatusCode != 404 || !strings.Contains(oerr.Message, "unrouted-model") {
		t.Errorf("openai SDK error %v, want a 404 naming the model", err)
	}
	ac := anthropic.NewClient(aoption.WithBaseURL(p.url), aoption.WithAPIKey("x"), aoption.WithMaxRetries(0))
	_, err = ac.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "unrouted-model", MaxTokens: 5,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	var aerr *anthropic.Error
	if !asError(err, &aerr) || aerr.StatusCode != 404 || !strings.Contains(aerr.Error(), "not_found_error") {
		t.Errorf("anthropic SDK error %v, want a 404 not_found_error", err)
	}
}
