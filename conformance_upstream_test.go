package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// The conformance upstreams are fake providers on 127.0.0.1 that answer with the
// recorded fixtures of proxy/testdata, so a real client, through Gatehouse, reads
// the bytes a real provider would send. They play three scenarios, chosen by the
// request as a real model would: plain text; a tool call when the prompt contains
// toolPhrase and a tool the upstream knows is on offer; and, once the tool's
// result (carrying toolMarker) is in the conversation, plain text again.

// upstreamKind is the wire format a fake upstream speaks.
type upstreamKind string

const (
	upOpenAI    upstreamKind = "openai"    // Chat Completions and the Responses API, like api.openai.com
	upChatOnly  upstreamKind = "chat"      // Chat Completions only, like Ollama or vLLM: /v1/responses is a 404
	upAnthropic upstreamKind = "anthropic" // Messages
	upGemini    upstreamKind = "gemini"    // generateContent
	// upResponsesOnly serves a model that exists only on the Responses API: its
	// /v1/chat/completions answers 404, as OpenAI does for such models.
	upResponsesOnly upstreamKind = "responses"
)

const (
	// toolPhrase in a prompt asks the fake model for a tool call.
	toolPhrase = "conformance tool round trip"
	// toolMarker is what the called tool prints: `echo gatehouse-$((6*7))` for the
	// shell tools, the same string from sdk.mjs's get_weather. The upstream answers
	// the final text only when it finds it in a tool result.
	toolMarker = "gatehouse-42"
	// upstreamKey is the provider key Gatehouse sends upstream (from key_env).
	upstreamKey = "sk-conformance-upstream-7d1e0c5b9a"
	// fixtureText is the text every text fixture answers.
	fixtureText = "The capital of Australia is Canberra."
)

// toolArgs are the arguments the fake model calls each known tool with: the SDK
// scripts' get_weather, Codex's exec_command and shell, Claude Code's Bash.
var toolArgs = []struct{ name, args string }{
	{"get_weather", `{"city":"Paris"}`},
	{"exec_command", `{"cmd":"echo gatehouse-$((6*7))"}`},
	{"shell", `{"command":["bash","-lc","echo gatehouse-$((6*7))"]}`},
	{"Bash", `{"command":"echo gatehouse-$((6*7))","description":"Print the conformance marker"}`},
}

// upstreamRequest is one request a fake upstream received.
type upstreamRequest struct {
	Method, Path string
	Headers      map[string]string
	Body         []byte
	Status       int    // what the upstream answered
	Scenario     string // text, tool_call, after_tool, error
}

// confUpstream is one fake provider.
type confUpstream struct {
	kind upstreamKind
	addr string
	// failNext makes the next n model calls answer 502 (the retry case).
	failNext atomic.Int32
	mu       sync.Mutex
	reqs     []upstreamRequest
}

func startConfUpstream(t testing.TB, kind upstreamKind) *confUpstream {
	t.Helper()
	u := &confUpstream{kind: kind}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: u.handle, CloseOnShutdown: true, NoDefaultServerHeader: true}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { _ = srv.Shutdown() })
	u.addr = ln.Addr().String()
	return u
}

func (u *confUpstream) requests() []upstreamRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]upstreamRequest(nil), u.reqs...)
}

// reply is what the upstream sends back.
type reply struct {
	status   int
	ctype    string
	body     []byte
	scenario string
}

func (u *confUpstream) handle(ctx *fasthttp.RequestCtx) {
	r := upstreamRequest{Method: string(ctx.Method()), Path: string(ctx.RequestURI()), Headers: map[string]string{},
		Body: append([]byte(nil), ctx.PostBody()...)}
	for k, v := range ctx.Request.Header.All() {
		r.Headers[strings.ToLower(string(k))] = string(v)
	}
	rep := u.answer(ctx, r)
	r.Status, r.Scenario = rep.status, rep.scenario
	u.mu.Lock()
	u.reqs = append(u.reqs, r)
	u.mu.Unlock()
	ctx.SetStatusCode(rep.status)
	ctx.SetContentType(rep.ctype)
	if rep.ctype != "text/event-stream" {
		ctx.SetBody(rep.body)
		return
	}
	// Streams go out event by event, each flushed, as a provider sends them.
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		for _, ev := range splitSSE(rep.body) {
			if _, err := w.Write(ev); err != nil {
				return
			}
			if err := w.Flush(); err != nil {
				return
			}
		}
	})
}

// splitSSE cuts a raw event stream after each blank line (LF or CRLF framing).
func splitSSE(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i, n := bytes.Index(b, []byte("\n\n")), 2
		if j := bytes.Index(b, []byte("\r\n\r\n")); j >= 0 && (i < 0 || j < i) {
			i, n = j, 4
		}
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i+n])
		b = b[i+n:]
	}
	return out
}

// answer picks the reply to one request.
func (u *confUpstream) answer(ctx *fasthttp.RequestCtx, r upstreamRequest) reply {
	path := string(ctx.Path())
	op, ok := u.operation(string(ctx.Method()), path)
	if !ok {
		return u.errorReply(404, "not_found", fmt.Sprintf("no route for %s %s", r.Method, path))
	}
	if !u.authorized(ctx) {
		return u.errorReply(401, "authentication_error", "invalid or missing API key")
	}
	switch op {
	case "models":
		return jsonReply(u.modelList())
	case "count_tokens":
		if u.kind == upGemini {
			return jsonReply(`{"totalTokens": 27}`)
		}
		return jsonReply(`{"input_tokens":27}`)
	}
	if n := u.failNext.Load(); n > 0 && u.failNext.CompareAndSwap(n, n-1) {
		return u.errorReply(502, "server_error", "upstream connect error (conformance: failing on purpose)")
	}
	body := gjson.ParseBytes(r.Body)
	stream := body.Get("stream").Bool() || strings.HasSuffix(path, ":streamGenerateContent")
	result, sawResult := u.toolResult(op, body)
	switch {
	case sawResult && !strings.Contains(result, toolMarker):
		// The round trip lost the tool's output: say so in the text the client prints.
		return u.textReply(op, stream, "the tool result did not carry the marker: "+result, "after_tool_broken")
	case sawResult:
		return u.textReply(op, stream, "", "after_tool")
	case bytes.Contains(r.Body, []byte(toolPhrase)):
		if name, args, ok := u.offeredTool(op, body); ok {
			return u.toolReply(op, stream, name, args)
		}
	}
	return u.textReply(op, stream, "", "text")
}

// operation maps a request line to what it asks for: chat, responses, count_tokens, models.
func (u *confUpstream) operation(method, path string) (string, bool) {
	post := method == "POST"
	switch u.kind {
	case upOpenAI, upChatOnly, upResponsesOnly:
		switch path {
		case "/v1/chat/completions":
			return "chat", post && u.kind != upResponsesOnly
		case "/v1/responses":
			return "responses", post && u.kind != upChatOnly
		case "/v1/models":
			return "models", method == "GET"
		}
	case upAnthropic:
		switch path {
		case "/v1/messages":
			return "messages", post
		case "/v1/messages/count_tokens":
			return "count_tokens", post
		case "/v1/models":
			return "models", method == "GET"
		}
	case upGemini:
		rest, ok := strings.CutPrefix(path, "/v1beta/models")
		switch {
		case !ok:
		case rest == "":
			return "models", method == "GET"
		case strings.HasSuffix(rest, ":generateContent"), strings.HasSuffix(rest, ":streamGenerateContent"):
			return "generate", post
		case strings.HasSuffix(rest, ":countTokens"):
			return "count_tokens", post
		}
	}
	return "", false
}

// authorized checks that Gatehouse replaced the client's key with the provider's.
func (u *confUpstream) authorized(ctx *fasthttp.RequestCtx) bool {
	h := &ctx.Request.Header
	switch u.kind {
	case upAnthropic:
		return string(h.Peek("X-Api-Key")) == upstreamKey
	case upGemini:
		return string(h.Peek("X-Goog-Api-Key")) == upstreamKey
	}
	return string(h.Peek("Authorization")) == "Bearer "+upstreamKey
}

// toolResult finds the text of the newest tool result in a request, if any.
func (u *confUpstream) toolResult(op string, body gjson.Result) (string, bool) {
	var out string
	var found bool
	switch op {
	case "chat":
		body.Get("messages").ForEach(func(_, m gjson.Result) bool {
			if m.Get("role").String() == "tool" {
				out, found = m.Get("content").Raw, true
			}
			return true
		})
	case "responses":
		body.Get("input").ForEach(func(_, it gjson.Result) bool {
			if it.Get("type").String() == "function_call_output" {
				out, found = it.Get("output").Raw, true
			}
			return true
		})
	case "messages":
		body.Get("messages").ForEach(func(_, m gjson.Result) bool {
			m.Get("content").ForEach(func(_, b gjson.Result) bool {
				if b.Get("type").String() == "tool_result" {
					out, found = b.Get("content").Raw, true
				}
				return true
			})
			return true
		})
	case "generate":
		body.Get("contents").ForEach(func(_, c gjson.Result) bool {
			c.Get("parts").ForEach(func(_, p gjson.Result) bool {
				if fr := p.Get("functionResponse"); fr.Exists() {
					out, found = fr.Get("response").Raw, true
				}
				return true
			})
			return true
		})
	}
	return out, found
}

// offeredTool returns the first known tool the request offers and its arguments.
func (u *confUpstream) offeredTool(op string, body gjson.Result) (string, string, bool) {
	var names []string
	body.Get("tools").ForEach(func(_, t gjson.Result) bool {
		for _, p := range []string{"name", "function.name"} {
			if n := t.Get(p); n.Exists() {
				names = append(names, n.String())
			}
		}
		t.Get("functionDeclarations").ForEach(func(_, f gjson.Result) bool {
			names = append(names, f.Get("name").String())
			return true
		})
		return true
	})
	for _, k := range toolArgs {
		for _, n := range names {
			if n == k.name {
				return k.name, k.args, true
			}
		}
	}
	return "", "", false
}

func jsonReply(body string) reply {
	return reply{status: 200, ctype: "application/json", body: []byte(body), scenario: "meta"}
}

// fixture reads proxy/testdata/NAME, the provider recordings the proxy's tests use.
func fixture(name string) []byte {
	b, err := os.ReadFile(filepath.Join("proxy", "testdata", filepath.FromSlash(name)))
	if err != nil {
		panic(err) // a missing fixture is a broken checkout
	}
	return b
}

// textReply is the recorded text answer of the operation's format; with a
// non-empty text, that text replaces the recorded one (non-streaming only).
func (u *confUpstream) textReply(op string, stream bool, text, scenario string) reply {
	var name string
	switch op {
	case "chat":
		name = "openai/chat/response_text.json"
		if stream {
			name = "openai/chat/stream_text.sse"
		}
	case "responses":
		name = "openai/responses/response_text.json"
		if stream {
			name = "openai/responses/stream_text.sse"
		}
	case "messages":
		name = "anthropic/messages/response_text.json"
		if stream {
			name = "anthropic/messages/stream_text.sse"
		}
	case "generate":
		name = "gemini/response_generate_content_text.json"
		if stream {
			name = "gemini/stream_text.sse"
		}
	}
	b := fixture(name)
	if text != "" {
		// The recorded text is split across deltas in streams; a broken round trip
		// only needs to be visible, so it replaces the first delta's words.
		q, _ := json.Marshal(text)
		for _, recorded := range []string{`"The capital of Australia is Canberra."`, `"The capital"`, `"The"`, `"The capital of Australia"`} {
			if bytes.Contains(b, []byte(recorded)) {
				b = bytes.Replace(b, []byte(recorded), q, 1)
				break
			}
		}
	}
	rep := reply{status: 200, ctype: "application/json", body: b, scenario: scenario}
	if stream {
		rep.ctype = "text/event-stream"
	}
	return rep
}

// errorReply is an error in the upstream's own format.
func (u *confUpstream) errorReply(status int, typ, msg string) reply {
	q, _ := json.Marshal(msg)
	var body string
	switch u.kind {
	case upAnthropic:
		body = `{"type":"error","error":{"type":"` + typ + `","message":` + string(q) + `},"request_id":"req_011CconformanceFake"}`
	case upGemini:
		st := map[int]string{401: "UNAUTHENTICATED", 404: "NOT_FOUND", 502: "UNAVAILABLE"}[status]
		body = fmt.Sprintf(`{"error": {"code": %d, "message": %s, "status": %q}}`, status, q, st)
	default:
		body = `{"error":{"message":` + string(q) + `,"type":"` + typ + `","param":null,"code":null}}`
	}
	return reply{status: status, ctype: "application/json", body: []byte(body), scenario: "error"}
}

// modelList is GET /models in the upstream's format.
func (u *confUpstream) modelList() string {
	switch u.kind {
	case upAnthropic:
		return `{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"claude-sonnet-4-5"}`
	case upGemini:
		return `{"models": [{"name": "models/gemini-2.5-flash","version": "001","displayName": "Gemini 2.5 Flash","supportedGenerationMethods": ["generateContent","countTokens"]}]}`
	}
	return `{"object":"list","data":[{"id":"gpt-4.1","object":"model","created":1744316542,"owned_by":"system"}]}`
}
