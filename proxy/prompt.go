package proxy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// Prompt endpoints (issue 13): a [[prompt]] of config.toml is called as the
// model "prompt/NAME" from any client format (its last user message fills
// {{input}}), or as POST /v1/prompts/NAME with {"variables": {...}}, which
// answers {"output", "usage", "call_id"} (with "stream": true, SSE events
// "delta" {"text"} and a last "done" carrying the same object).

// applyPrompt rewrites the call's body for prompt name and returns the model
// to route it to; false when the call was answered (404, 400) instead.
func (c *call) applyPrompt(name string) (string, bool) {
	p, ok := c.cfg.Prompt(name)
	if !ok {
		c.fail(fasthttp.StatusNotFound, ClassNotFound, fmt.Sprintf("no prompt %q in config.toml (gatehouse prompts list)", name))
		return "", false
	}
	vars := c.ep.vars
	if vars == nil {
		text, err := codec.LastUserText(c.ep.format, c.body, c.rec.Stream)
		if err != nil {
			c.fail(fasthttp.StatusBadRequest, ClassBadRequest, err.Error())
			return "", false
		}
		vars = map[string]string{config.InputVariable: text}
	}
	if missing := p.Missing(vars); len(missing) > 0 {
		c.fail(fasthttp.StatusBadRequest, ClassBadRequest, missingMessage(p, missing))
		return "", false
	}
	system, user := p.Render(vars)
	body, err := codec.ApplyPrompt(c.ep.format, c.body, c.rec.Stream, codec.Prompt{
		System: system, User: user, Temperature: p.Temperature, MaxTokens: p.MaxTokens,
		ResponseFormat: p.ResponseFormat, JSONSchema: p.JSONSchema,
	})
	if err != nil {
		c.fail(fasthttp.StatusBadRequest, ClassBadRequest, err.Error())
		return "", false
	}
	c.body = body
	return p.Model, true
}

func missingMessage(p *config.Prompt, missing []string) string {
	msg := fmt.Sprintf("prompt %q is missing variables: %s", p.Name, strings.Join(missing, ", "))
	if len(missing) == 1 && missing[0] != config.InputVariable || len(missing) > 1 {
		msg += fmt.Sprintf(" (called as a model, only {{%s}} is filled: use POST /v1/prompts/%s with \"variables\")", config.InputVariable, p.Name)
	}
	return msg
}

// promptRequest is the body of POST /v1/prompts/NAME.
type promptRequest struct {
	Variables map[string]any `json:"variables"`
	Stream    bool           `json:"stream"`
}

// PromptResult is the answer of POST /v1/prompts/NAME (and the "done" event
// of its stream).
type PromptResult struct {
	Output string      `json:"output"`
	Usage  PromptUsage `json:"usage"`
	CallID string      `json:"call_id"`
}

// PromptUsage is a prompt call's token usage; nil counts are unknown.
type PromptUsage struct {
	InputTokens  *int64 `json:"input_tokens"`
	OutputTokens *int64 `json:"output_tokens"`
}

// servePrompt answers POST /v1/prompts/NAME: it runs the prompt as an OpenAI
// chat call to the model "prompt/NAME" through the whole proxy (routing,
// scopes, budgets, retries, history) on an in-process request, and reshapes
// the answer.
func (s *Server) servePrompt(ctx *fasthttp.RequestCtx, ep endpoint, cfg *config.Config, cl *clientEntry) {
	name := ep.model
	p, ok := cfg.Prompt(name)
	if !ok {
		s.reject(ctx, config.FormatOpenAI, fasthttp.StatusNotFound, fmt.Sprintf("no prompt %q in config.toml (gatehouse prompts list)", name))
		return
	}
	var in promptRequest
	if err := json.Unmarshal(ctx.PostBody(), &in); err != nil {
		s.reject(ctx, config.FormatOpenAI, fasthttp.StatusBadRequest, `the body must be {"variables": {"name": "value", ...}, "stream": false}: `+err.Error())
		return
	}
	vars := make(map[string]string, len(in.Variables))
	for k, v := range in.Variables {
		if str, ok := v.(string); ok {
			vars[k] = str
		} else {
			b, _ := json.Marshal(v) // decoded from JSON: encodes again
			vars[k] = string(b)
		}
	}
	if missing := p.Missing(vars); len(missing) > 0 {
		sort.Strings(missing)
		s.reject(ctx, config.FormatOpenAI, fasthttp.StatusBadRequest, fmt.Sprintf("prompt %q is missing variables: %s", name, strings.Join(missing, ", ")))
		return
	}
	msg := map[string]any{"model": config.PromptModelPrefix + name, "messages": []map[string]string{{"role": "user", "content": ""}}}
	if in.Stream {
		msg["stream"], msg["stream_options"] = true, map[string]bool{"include_usage": true}
	}
	body, _ := json.Marshal(msg) // strings and bools: cannot fail
	var inner fasthttp.RequestCtx
	req := fasthttp.AcquireRequest()
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURIBytes(ctx.Path())
	req.Header.SetUserAgentBytes(ctx.Request.Header.UserAgent())
	req.Header.SetContentType("application/json")
	req.SetBodyRaw(body)
	inner.Init(req, ctx.RemoteAddr(), nil)
	fasthttp.ReleaseRequest(req)
	s.serveCall(&inner, endpoint{kind: kindChat, format: config.FormatOpenAI, vars: vars}, cfg, cl)

	resp := &inner.Response
	id := string(resp.Header.Peek("X-Gatehouse-Call"))
	ctx.Response.Header.Set("X-Gatehouse-Call", id)
	ctx.Response.Header.SetBytesV("X-Gatehouse-Attempts", resp.Header.Peek("X-Gatehouse-Attempts"))
	if v := resp.Header.Peek("Retry-After"); len(v) > 0 {
		ctx.Response.Header.SetBytesV("Retry-After", v)
	}
	if resp.IsBodyStream() && resp.StatusCode() == fasthttp.StatusOK {
		bs := resp.BodyStream()
		ctx.SetContentType("text/event-stream")
		ctx.Response.Header.Set("Cache-Control", "no-cache")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) { relayPromptStream(w, bs, id) })
		return
	}
	out := resp.Body()
	ctx.SetStatusCode(resp.StatusCode())
	ctx.SetContentType("application/json")
	if resp.StatusCode() != fasthttp.StatusOK {
		ctx.SetBody(out) // already an OpenAI-format error
		return
	}
	r := gjson.ParseBytes(out)
	res := PromptResult{Output: r.Get("choices.0.message.content").String(), CallID: id, Usage: promptUsage(r.Get("usage"))}
	b, _ := json.Marshal(res) // plain fields: cannot fail
	ctx.SetBody(b)
}

func promptUsage(u gjson.Result) PromptUsage {
	get := func(path string) *int64 {
		if v := u.Get(path); v.Type == gjson.Number {
			n := v.Int()
			return &n
		}
		return nil
	}
	return PromptUsage{InputTokens: get("prompt_tokens"), OutputTokens: get("completion_tokens")}
}

// relayPromptStream turns the inner call's OpenAI chat stream into the
// prompt API's events. It touches no RequestCtx. Closing bs when the client
// is gone ends the inner call's stream (recorded as cut short).
func relayPromptStream(w *bufio.Writer, bs io.Reader, id string) {
	if c, ok := bs.(io.Closer); ok {
		defer c.Close()
	}
	rd := sse.NewReader(bs, sse.DefaultMaxEvent)
	var out strings.Builder
	res := PromptResult{CallID: id}
	var buf []byte
	for {
		ev, err := rd.Next()
		if err != nil {
			if err != io.EOF {
				buf = sse.AppendEvent(buf[:0], "error", errorJSON("the stream broke: "+err.Error()))
				_, _ = w.Write(buf)
				_ = w.Flush()
			}
			return
		}
		if ev.Data == nil {
			continue
		}
		if sse.IsDone(ev.Data) {
			res.Output = out.String()
			b, _ := json.Marshal(res)
			buf = sse.AppendEvent(buf[:0], "done", b)
			_, _ = w.Write(buf)
			_ = w.Flush()
			return
		}
		if _, msg, isErr := codec.StreamError(config.FormatOpenAI, sse.Event{Name: ev.Name, Data: ev.Data}); isErr {
			buf = sse.AppendEvent(buf[:0], "error", errorJSON(msg))
			_, _ = w.Write(buf)
			_ = w.Flush()
			return
		}
		r := gjson.ParseBytes(ev.Data)
		if u := r.Get("usage"); u.IsObject() {
			res.Usage = promptUsage(u)
		}
		text := r.Get("choices.0.delta.content").String()
		if text == "" {
			continue
		}
		out.WriteString(text)
		b, _ := json.Marshal(struct {
			Text string `json:"text"`
		}{text})
		buf = sse.AppendEvent(buf[:0], "delta", b)
		if _, err := w.Write(buf); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}

func errorJSON(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return b
}

// RunPrompt runs prompt name with vars in process, as a local call without a
// token (the desktop app's Try): routing, retries and history as for
// POST /v1/prompts/NAME. An error carries the message that API would answer.
func (s *Server) RunPrompt(name string, vars map[string]string) (PromptResult, error) {
	in := promptRequest{Variables: make(map[string]any, len(vars))}
	for k, v := range vars {
		in.Variables[k] = v
	}
	body, _ := json.Marshal(in) // strings: cannot fail
	var ctx fasthttp.RequestCtx
	req := fasthttp.AcquireRequest()
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI("/v1/prompts/" + name)
	req.Header.SetUserAgent("Gatehouse app")
	req.SetBodyRaw(body)
	ctx.Init(req, nil, nil)
	fasthttp.ReleaseRequest(req)
	s.servePrompt(&ctx, endpoint{kind: kindPrompt, format: config.FormatOpenAI, model: name}, s.cfg.Load(), nil)
	out := ctx.Response.Body()
	var res PromptResult
	if ctx.Response.StatusCode() != fasthttp.StatusOK {
		return res, fmt.Errorf("%d: %s", ctx.Response.StatusCode(), codec.ErrorMessage(out))
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("read the prompt's answer: %w", err)
	}
	return res, nil
}
