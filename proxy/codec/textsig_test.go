package codec

import (
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

// TestGeminiTextSignatureComesBack checks MAPPING.md §5 for a thoughtSignature
// on a plain text part (issue 19 §9): an Anthropic or Responses client gets it
// in a thinking block (a reasoning item), sends that back, and Gemini receives
// the signature on the same text part; Anthropic never receives it.
func TestGeminiTextSignatureComesBack(t *testing.T) {
	const sig = "EpEBCo4BAb4+9vueD6qX=="
	upstream := `data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Canberra."}]}}],"responseId":"r1"}` + "\r\n\r\n" +
		`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"","thoughtSignature":"` + sig + `"}]},"finishReason":"STOP"}],"responseId":"r1"}` + "\r\n\r\n"
	stream := translateStream(t, gem, ant, []byte(upstream), RequestInfo{})
	var blocks []gjson.Result
	for _, ev := range events(t, stream) {
		if string(ev.Name) == "content_block_start" {
			blocks = append(blocks, gjson.GetBytes(ev.Data, "content_block"))
		}
		if d := gjson.GetBytes(ev.Data, "delta.signature"); d.Exists() {
			blocks[len(blocks)-1] = gjson.Parse(`{"type":"thinking","thinking":"","signature":` + d.Raw + `}`)
		}
	}
	if len(blocks) != 2 || blocks[0].Get("type").Str != "text" || blocks[1].Get("type").Str != "thinking" {
		t.Fatalf("Anthropic blocks got %v, want text then a signature-only thinking block", blocks)
	}
	echoed := `{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"Capital?"},` +
		`{"role":"assistant","content":[{"type":"text","text":"Canberra."},` + blocks[1].Raw + `]},{"role":"user","content":"Why?"}]}`

	body, _, err := Request(ant, gem, []byte(echoed), RequestOptions{Model: "gemini-2.5-flash"})
	if err != nil {
		t.Fatal(err)
	}
	part := gjson.GetBytes(body, "contents.1.parts.0")
	if part.Get("text").Str != "Canberra." || part.Get("thoughtSignature").Str != sig || gjson.GetBytes(body, "contents.1.parts.#").Int() != 1 {
		t.Errorf("Gemini got model turn %s, want the text with thoughtSignature %s", gjson.GetBytes(body, "contents.1"), sig)
	}

	// A Codex-style client brings it back as a reasoning item.
	out := translateStream(t, gem, config.FormatResponses, []byte(upstream), RequestInfo{})
	var reasoning string
	for _, ev := range events(t, out) {
		if it := gjson.GetBytes(ev.Data, "item"); string(ev.Name) == "response.output_item.done" && it.Get("type").Str == "reasoning" {
			reasoning = it.Raw
		}
	}
	if reasoning == "" {
		t.Fatalf("no reasoning item carries the signature:\n%s", out)
	}
	echoedResp := `{"model":"m","input":[{"role":"user","content":"Capital?"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Canberra."}]},` +
		reasoning + `,{"role":"user","content":"Why?"}]}`
	body, _, err = Request(config.FormatResponses, gem, []byte(echoedResp), RequestOptions{Model: "gemini-2.5-flash"})
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(body, "contents.1.parts.0.thoughtSignature").Str; got != sig {
		t.Errorf("Gemini got model turn %s from a Responses client, want thoughtSignature %s", gjson.GetBytes(body, "contents.1"), sig)
	}

	body, _, err = Request(config.FormatResponses, ant, []byte(echoedResp), RequestOptions{Model: "claude-sonnet-4-5"})
	if err != nil {
		t.Fatal(err)
	}
	if th := gjson.GetBytes(body, `messages.1.content.#(type=="thinking")`); th.Exists() {
		t.Errorf("Anthropic got Gemini's signature: %s", th)
	}
}
