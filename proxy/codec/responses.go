package codec

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// OpenAI Responses API (/v1/responses): request decode and encode,
// non-streaming response, usage and stop reasons (MAPPING.md §5-§8). The
// Responses API keeps conversation state server-side when asked to; a
// translated call has no such state, so what needs it is refused with a 400
// that says what would work instead.

// decodeResponsesRequest reads a Responses request into canonical form.
func decodeResponsesRequest(r gjson.Result) (*chatRequest, map[string]bool, error) {
	if err := responsesStateless(r); err != nil {
		return nil, nil, err
	}
	req := &chatRequest{Model: r.Get("model").String(), N: 1}
	if ins := r.Get("instructions"); ins.Type == gjson.String && ins.Str != "" {
		req.System = append(req.System, Part{Kind: PartText, Text: ins.Str})
	}
	custom, err := decodeResponsesTools(req, r)
	if err != nil {
		return nil, nil, err
	}
	if err := decodeResponsesInput(req, r.Get("input")); err != nil {
		return nil, nil, err
	}
	switch tc := r.Get("tool_choice"); {
	case tc.Type == gjson.String:
		req.ToolChoice.Mode = map[string]ToolChoiceMode{"auto": ToolChoiceAuto, "none": ToolChoiceNone, "required": ToolChoiceRequired}[tc.Str]
	case tc.IsObject() && (tc.Get("type").Str == "function" || tc.Get("type").Str == "custom"):
		req.ToolChoice = ToolChoice{Mode: ToolChoiceNamed, Name: tc.Get("name").String()}
	case tc.IsObject():
		req.ToolChoice.Mode = ToolChoiceAuto // allowed_tools and built-in choices: let the model pick
	}
	if p := r.Get("parallel_tool_calls"); p.IsBool() {
		v := p.Bool()
		req.ParallelToolCalls = &v
	}
	req.MaxTokens = optInt(r.Get("max_output_tokens"))
	req.Temperature = optFloat(r.Get("temperature"))
	req.TopP = optFloat(r.Get("top_p"))
	req.User = r.Get("safety_identifier").String()
	if req.User == "" {
		req.User = r.Get("user").String()
	}
	req.Stream = r.Get("stream").Bool()
	req.IncludeUsage = true // response.completed always carries usage
	switch f := r.Get("text.format"); f.Get("type").String() {
	case "json_schema":
		req.ResponseFormat = ResponseFormat{Type: "json_schema", Name: f.Get("name").String(),
			Schema: f.Get("schema").Raw, Strict: f.Get("strict").Bool()}
	case "json_object":
		req.ResponseFormat.Type = "json_object"
	}
	if e := r.Get("reasoning.effort").String(); e != "" && e != "none" {
		if e == "minimal" {
			e = "low"
		}
		s := r.Get("reasoning.summary").String()
		req.Thinking = Thinking{Enabled: true, Effort: e, Include: s != "" && s != "none"}
	}
	return req, custom, nil
}

// responsesStateless refuses what only a stateful Responses server can do.
func responsesStateless(r gjson.Result) error {
	if id := r.Get("previous_response_id").String(); id != "" {
		return unsupported("previous_response_id: this model's provider keeps no conversation state; " +
			"send the whole conversation in input with store: false (as Codex does), or use a model on a provider that serves /v1/responses (openai)")
	}
	if c := r.Get("conversation"); c.Exists() && c.Type != gjson.Null {
		return unsupported("conversation: this model's provider keeps no conversation state; send the whole conversation in input instead")
	}
	if r.Get("background").Bool() {
		return unsupported("background: true needs a provider that serves /v1/responses (openai); leave it out to get the answer directly")
	}
	return nil
}

// customInputSchema is the argument schema a free-form ("custom") tool is
// offered with: its whole input as one string.
const customInputSchema = `{"type":"object","properties":{"input":{"type":"string","description":"The tool's raw input."}},"required":["input"]}`

// decodeResponsesTools reads function and custom tools, and the function tools
// of namespaces. custom holds the names of the custom tools.
//
// Built-in tools (web_search, file_search, ...) run only on OpenAI's servers.
// Codex offers web_search on every request, so an offered one is left out
// (the model cannot call what it does not see), and only a tool_choice that
// requires one is refused.
func decodeResponsesTools(req *chatRequest, r gjson.Result) (custom map[string]bool, err error) {
	var add func(t gjson.Result)
	add = func(t gjson.Result) {
		switch t.Get("type").String() {
		case "function":
			req.Tools = append(req.Tools, Tool{Name: t.Get("name").String(), Description: t.Get("description").String(),
				Schema: t.Get("parameters").Raw, Strict: t.Get("strict").Bool()})
		case "custom":
			if custom == nil {
				custom = map[string]bool{}
			}
			name := t.Get("name").String()
			custom[name] = true
			desc := t.Get("description").String()
			if def := t.Get("format.definition").String(); def != "" {
				desc += "\n\nThe input must follow this " + t.Get("format.syntax").String() + " grammar:\n" + def
			}
			req.Tools = append(req.Tools, Tool{Name: name, Description: desc, Schema: customInputSchema})
		case "namespace":
			for _, nt := range t.Get("tools").Array() {
				add(nt)
			}
		}
	}
	for _, t := range r.Get("tools").Array() {
		add(t)
	}
	if tc := r.Get("tool_choice"); tc.IsObject() {
		switch typ := tc.Get("type").String(); typ {
		case "function", "custom", "allowed_tools":
		default:
			return nil, unsupported("tool_choice requires the %q tool, a built-in tool that only OpenAI's servers run; "+
				"use tool_choice \"auto\" or a function tool, or use a model on a provider that serves /v1/responses (openai)", typ)
		}
	}
	return custom, nil
}

// decodeResponsesInput reads input: a string, or a list of items.
func decodeResponsesInput(req *chatRequest, in gjson.Result) error {
	if in.Type == gjson.String {
		req.Messages = append(req.Messages, Message{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: in.Str}}})
		return nil
	}
	add := func(role Role, p ...Part) {
		if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == role {
			req.Messages[n-1].Parts = append(req.Messages[n-1].Parts, p...)
			return
		}
		req.Messages = append(req.Messages, Message{Role: role, Parts: p})
	}
	for i, it := range in.Array() {
		typ := it.Get("type").String()
		if typ == "" && it.Get("role").Exists() {
			typ = "message"
		}
		switch typ {
		case "message":
			parts := responsesContent(it.Get("content"))
			switch role := it.Get("role").String(); role {
			case "system", "developer":
				req.System = append(req.System, parts...)
			case "user":
				add(RoleUser, parts...)
			case "assistant":
				add(RoleAssistant, parts...)
			default:
				return invalid("input[%d].role %q is not one of user, assistant, system, developer", i, role)
			}
		case "function_call":
			add(RoleAssistant, Part{Kind: PartToolCall, ToolID: it.Get("call_id").String(),
				ToolName: it.Get("name").String(), Args: it.Get("arguments").String()})
		case "custom_tool_call":
			args := appendString([]byte(`{"input":`), it.Get("input").String())
			add(RoleAssistant, Part{Kind: PartToolCall, ToolID: it.Get("call_id").String(),
				ToolName: it.Get("name").String(), Args: string(append(args, '}'))})
		case "function_call_output", "custom_tool_call_output":
			add(RoleUser, Part{Kind: PartToolResult, ToolID: it.Get("call_id").String(), Result: responsesOutput(it.Get("output"))})
		case "reasoning":
			var text []string
			for _, s := range it.Get("summary").Array() {
				text = append(text, s.Get("text").String())
			}
			p := Part{Kind: PartThinking, Text: strings.Join(text, "\n\n"), Signature: it.Get("encrypted_content").String()}
			if p.Text != "" || p.Signature != "" {
				add(RoleAssistant, p)
			}
		case "item_reference":
			// The AI SDK (store on, its default) refers to the assistant's earlier
			// messages by id; nothing stores them here, so the reference is left
			// out, and a tool output whose call it was becomes text (unpairResults).
			continue
		default:
			return unsupported("input[%d].type %q runs only on OpenAI's servers; use a model on a provider that serves /v1/responses (openai)", i, typ)
		}
	}
	unpairResults(req.Messages)
	return nil
}

// unpairResults turns tool outputs whose call is not in the conversation (it
// was an item_reference) into text: every target refuses a result without
// its call.
func unpairResults(msgs []Message) {
	calls := map[string]bool{}
	for _, m := range msgs {
		for i := range m.Parts {
			p := &m.Parts[i]
			switch {
			case p.Kind == PartToolCall:
				calls[p.ToolID] = true
			case p.Kind == PartToolResult && !calls[p.ToolID]:
				*p = Part{Kind: PartText, Text: "Output of tool call " + p.ToolID + ":\n" + resultText(p.Result)}
			}
		}
	}
}

// responsesContent reads a message's content: a string or a list of parts.
func responsesContent(c gjson.Result) []Part {
	if c.Type == gjson.String {
		if c.Str == "" {
			return nil
		}
		return []Part{{Kind: PartText, Text: c.Str}}
	}
	var parts []Part
	for _, p := range c.Array() {
		switch p.Get("type").String() {
		case "input_text", "output_text", "text", "refusal", "summary_text":
			t := p.Get("text").String()
			if t == "" {
				t = p.Get("refusal").String()
			}
			if t != "" {
				parts = append(parts, Part{Kind: PartText, Text: t})
			}
		case "input_image":
			u := p.Get("image_url").String()
			if media, data, ok := dataURL(u); ok {
				parts = append(parts, mediaPart(media, data, ""))
			} else if u != "" {
				parts = append(parts, Part{Kind: PartImage, URL: u})
			}
		case "input_file":
			if media, data, ok := dataURL(p.Get("file_data").String()); ok {
				parts = append(parts, mediaPart(media, data, ""))
			} else if u := p.Get("file_url").String(); u != "" {
				parts = append(parts, Part{Kind: PartDocument, URL: u})
			}
		}
	}
	return parts
}

// responsesOutput reads a function_call_output's output: a string or parts.
func responsesOutput(o gjson.Result) []Part {
	if o.Type == gjson.String {
		return []Part{{Kind: PartText, Text: o.Str}}
	}
	return responsesContent(o)
}

// encodeResponsesRequest writes a Responses request, for providers whose api
// is "responses". store is false: the proxy sends the whole conversation.
func encodeResponsesRequest(req *chatRequest, opt RequestOptions) []byte {
	b := append([]byte(nil), `{"model":`...)
	b = appendString(b, opt.Model)
	if sys := resultText(req.System); sys != "" {
		b = appendString(append(b, `,"instructions":`...), sys)
	}
	b = appendResponsesInput(b, req.Messages)
	b = appendResponsesTools(b, req)
	if req.MaxTokens != nil {
		b = appendInt(append(b, `,"max_output_tokens":`...), int64(max(*req.MaxTokens, 16)))
	}
	if req.Temperature != nil {
		b = appendFloat(append(b, `,"temperature":`...), *req.Temperature)
	}
	if req.TopP != nil {
		b = appendFloat(append(b, `,"top_p":`...), *req.TopP)
	}
	if req.User != "" {
		b = appendString(append(b, `,"safety_identifier":`...), req.User)
	}
	switch f := req.ResponseFormat; f.Type {
	case "json_object":
		b = append(b, `,"text":{"format":{"type":"json_object"}}`...)
	case "json_schema":
		name := f.Name
		if name == "" {
			name = "response"
		}
		b = appendString(append(b, `,"text":{"format":{"type":"json_schema","name":`...), name)
		b = appendSchema(append(b, `,"schema":`...), f.Schema)
		if f.Strict {
			b = append(b, `,"strict":true`...)
		}
		b = append(b, `}}`...)
	}
	if req.Thinking.Enabled {
		b = appendString(append(b, `,"reasoning":{"effort":`...), thinkingEffort(req.Thinking))
		if req.Thinking.Include {
			b = append(b, `,"summary":"auto"`...)
		}
		b = append(b, '}')
	}
	b = append(b, `,"store":false`...)
	if req.Stream {
		b = append(b, `,"stream":true`...)
	}
	return append(b, '}')
}

// thinkingEffort maps a thinking configuration to a reasoning effort.
func thinkingEffort(t Thinking) string {
	switch {
	case t.Effort != "":
		return t.Effort
	case t.Budget > 0 && t.Budget <= 2048:
		return "low"
	case t.Budget > 8192:
		return "high"
	}
	return "medium"
}

// appendResponsesInput writes "input": messages, function calls and their
// outputs as items. Thinking is not sent: OpenAI accepts only its own
// encrypted reasoning back.
func appendResponsesInput(b []byte, msgs []Message) []byte {
	b = append(b, `,"input":[`...)
	n := 0
	sep := func() {
		if n > 0 {
			b = append(b, ',')
		}
		n++
	}
	for _, m := range msgs {
		var content []Part
		flush := func() {
			if len(content) == 0 {
				return
			}
			sep()
			b = appendResponsesMessage(b, m.Role, content)
			content = content[:0]
		}
		for i := range m.Parts {
			p := &m.Parts[i]
			switch p.Kind {
			case PartText, PartImage, PartDocument:
				content = append(content, *p)
			case PartToolCall:
				flush()
				sep()
				b = appendString(append(b, `{"type":"function_call","call_id":`...), p.ToolID)
				b = appendString(append(b, `,"name":`...), p.ToolName)
				args := p.Args
				if args == "" {
					args = "{}"
				}
				b = appendString(append(b, `,"arguments":`...), args)
				b = append(b, '}')
			case PartToolResult:
				flush()
				sep()
				b = appendString(append(b, `{"type":"function_call_output","call_id":`...), p.ToolID)
				b = appendString(append(b, `,"output":`...), resultText(p.Result))
				b = append(b, '}')
			}
		}
		flush()
	}
	return append(b, ']')
}

func appendResponsesMessage(b []byte, role Role, parts []Part) []byte {
	if role == RoleAssistant {
		b = append(b, `{"type":"message","role":"assistant","content":[`...)
	} else {
		b = append(b, `{"type":"message","role":"user","content":[`...)
	}
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case p.Kind == PartImage:
			b = appendString(append(b, `{"type":"input_image","image_url":`...), mediaURL(p))
		case p.Kind == PartDocument && p.URL != "":
			b = appendString(append(b, `{"type":"input_file","file_url":`...), p.URL)
		case p.Kind == PartDocument:
			b = appendString(append(b, `{"type":"input_file","filename":"document.pdf","file_data":`...), mediaURL(p))
		case role == RoleAssistant:
			b = appendString(append(b, `{"type":"output_text","text":`...), p.Text)
		default:
			b = appendString(append(b, `{"type":"input_text","text":`...), p.Text)
		}
		b = append(b, '}')
	}
	return append(b, `]}`...)
}

// appendResponsesTools writes tools (flat function definitions), tool_choice
// and parallel_tool_calls.
func appendResponsesTools(b []byte, req *chatRequest) []byte {
	if len(req.Tools) == 0 {
		return b
	}
	b = append(b, `,"tools":[`...)
	for i, t := range req.Tools {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(append(b, `{"type":"function","name":`...), t.Name)
		if t.Description != "" {
			b = appendString(append(b, `,"description":`...), t.Description)
		}
		b = appendSchema(append(b, `,"parameters":`...), t.Schema)
		if t.Strict {
			b = append(b, `,"strict":true`...)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	switch req.ToolChoice.Mode {
	case ToolChoiceAuto:
		b = append(b, `,"tool_choice":"auto"`...)
	case ToolChoiceNone:
		b = append(b, `,"tool_choice":"none"`...)
	case ToolChoiceRequired:
		b = append(b, `,"tool_choice":"required"`...)
	case ToolChoiceNamed:
		b = appendString(append(b, `,"tool_choice":{"type":"function","name":`...), req.ToolChoice.Name)
		b = append(b, '}')
	}
	if req.ParallelToolCalls != nil && !*req.ParallelToolCalls {
		b = append(b, `,"parallel_tool_calls":false`...)
	}
	return b
}

// responsesResponse reads a Responses response body.
func responsesResponse(r gjson.Result) *chatResponse {
	out := &chatResponse{ID: r.Get("id").String(), Model: r.Get("model").String(), Created: r.Get("created_at").Int(), Usage: UnknownUsage()}
	calls := false
	for _, it := range r.Get("output").Array() {
		switch it.Get("type").String() {
		case "message":
			for _, p := range responsesContent(it.Get("content")) {
				out.Parts = append(out.Parts, p)
			}
		case "reasoning":
			var text []string
			for _, s := range it.Get("summary").Array() {
				text = append(text, s.Get("text").String())
			}
			out.Parts = append(out.Parts, Part{Kind: PartThinking, Text: strings.Join(text, "\n\n"),
				Signature: it.Get("encrypted_content").String()})
		case "function_call":
			calls = true
			out.Parts = append(out.Parts, Part{Kind: PartToolCall, ToolID: it.Get("call_id").String(),
				ToolName: it.Get("name").String(), Args: it.Get("arguments").String()})
		}
	}
	out.Stop = stopFromResponses(r.Get("status").String(), r.Get("incomplete_details.reason").String(), calls)
	if u := r.Get("usage"); u.IsObject() {
		out.Usage = usageFromResponses(u)
	}
	return out
}

// respItem is one output item of a Responses response.
type respItem struct {
	kind   PartKind // PartText (a message), PartThinking (reasoning) or PartToolCall
	id     string
	text   string // message text, reasoning summary, or function arguments
	sig    string // reasoning encrypted_content
	callID string
	name   string
	custom bool // a custom tool call: text holds the JSON {"input": ...}
	part   bool // a stream announced its content or summary part
	done   bool
}

// respItemID gives output item n of response respID an id with the prefix
// OpenAI uses for its kind.
func respItemID(k PartKind, respID string, n int) string {
	prefix := "msg_"
	switch k {
	case PartThinking:
		prefix = "rs_"
	case PartToolCall:
		prefix = "fc_"
	}
	return prefix + sanitizeID(strings.TrimPrefix(respID, "resp_")) + "_" + strconv.Itoa(n)
}

// appendRespItem writes it as a complete output item (status completed, or
// in_progress when it is not done yet).
func appendRespItem(dst []byte, it *respItem) []byte {
	status := `"completed"`
	if !it.done {
		status = `"in_progress"`
	}
	switch {
	case it.kind == PartThinking:
		dst = appendString(append(dst, `{"id":`...), it.id)
		dst = append(dst, `,"type":"reasoning","summary":[`...)
		if it.text != "" {
			dst = appendString(append(dst, `{"type":"summary_text","text":`...), it.text)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
		if it.sig != "" {
			dst = appendString(append(dst, `,"encrypted_content":`...), it.sig)
		}
		return append(dst, '}')
	case it.kind == PartToolCall && it.custom:
		dst = appendString(append(dst, `{"id":`...), it.id)
		dst = append(dst, `,"type":"custom_tool_call","status":`...)
		dst = append(dst, status...)
		dst = appendString(append(dst, `,"call_id":`...), it.callID)
		dst = appendString(append(dst, `,"name":`...), it.name)
		dst = appendString(append(dst, `,"input":`...), customInput(it.text))
		return append(dst, '}')
	case it.kind == PartToolCall:
		dst = appendString(append(dst, `{"id":`...), it.id)
		dst = append(dst, `,"type":"function_call","status":`...)
		dst = append(dst, status...)
		args := it.text
		if args == "" && it.done {
			args = "{}"
		}
		dst = appendString(append(dst, `,"arguments":`...), args)
		dst = appendString(append(dst, `,"call_id":`...), it.callID)
		dst = appendString(append(dst, `,"name":`...), it.name)
		return append(dst, '}')
	}
	dst = appendString(append(dst, `{"id":`...), it.id)
	dst = append(dst, `,"type":"message","status":`...)
	dst = append(dst, status...)
	dst = append(dst, `,"role":"assistant","content":[`...)
	if it.done || it.text != "" {
		dst = appendString(append(dst, `{"type":"output_text","annotations":[],"text":`...), it.text)
		dst = append(dst, '}')
	}
	return append(dst, `]}`...)
}

// customInput is the raw input of a custom tool call from the JSON arguments
// the model wrote for it.
func customInput(args string) string {
	if in := gjson.Get(args, "input"); in.Type == gjson.String {
		return in.Str
	}
	return args
}

// respItems turns response parts into output items.
func respItems(parts []Part, respID string, custom map[string]bool) []respItem {
	items := make([]respItem, 0, len(parts))
	for i := range parts {
		p := &parts[i]
		it := respItem{kind: p.Kind, done: true}
		switch p.Kind {
		case PartText:
			if n := len(items); n > 0 && items[n-1].kind == PartText {
				items[n-1].text += p.Text
				continue
			}
			it.text = p.Text
		case PartThinking:
			it.text, it.sig = p.Text, p.Signature
		case PartToolCall:
			it.text, it.callID, it.name, it.custom = p.Args, p.ToolID, p.ToolName, custom[p.ToolName]
		default:
			continue
		}
		it.id = respItemID(it.kind, respID, len(items))
		items = append(items, it)
	}
	return items
}

// appendResponsesResponse writes a complete Responses response body.
func appendResponsesResponse(dst []byte, r *chatResponse, model string, custom map[string]bool) []byte {
	id := responsesID(r.ID)
	return appendRespObject(dst, respMeta{id, model, r.Created}, respItems(r.Parts, id, custom), r.Stop, r.Usage, respComplete, "")
}

// respMeta identifies a response.
type respMeta struct {
	id, model string
	created   int64
}

// respState is how far a response object is.
type respState uint8

const (
	respInProgress respState = iota // no usage yet
	respComplete                    // completed, or incomplete after a length or filter stop
	respFailed                      // failed with an error message
)

// appendRespObject writes the response object with its output items.
func appendRespObject(dst []byte, m respMeta, items []respItem, stop StopReason, u Usage, st respState, errMsg string) []byte {
	if m.created == 0 {
		m.created = now().Unix()
	}
	dst = appendString(append(dst, `{"id":`...), m.id)
	dst = appendInt(append(dst, `,"object":"response","created_at":`...), m.created)
	status, reason := "in_progress", ""
	switch st {
	case respFailed:
		status = "failed"
	case respComplete:
		status = "completed"
		switch stop {
		case StopLength:
			status, reason = "incomplete", "max_output_tokens"
		case StopFilter:
			status, reason = "incomplete", "content_filter"
		}
	}
	dst = append(dst, `,"status":"`...)
	dst = append(dst, status...)
	if st == respFailed {
		dst = appendString(append(dst, `","error":{"code":"server_error","message":`...), errMsg)
		dst = append(dst, `},"incomplete_details":`...)
	} else {
		dst = append(dst, `","error":null,"incomplete_details":`...)
	}
	if reason == "" {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"reason":"`...)
		dst = append(dst, reason...)
		dst = append(dst, `"}`...)
	}
	dst = appendString(append(dst, `,"model":`...), m.model)
	dst = append(dst, `,"output":[`...)
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendRespItem(dst, &items[i])
	}
	dst = append(dst, `],"parallel_tool_calls":true,"tool_choice":"auto","tools":[],"usage":`...)
	if st == respInProgress {
		dst = append(dst, "null"...)
	} else {
		dst = appendResponsesUsage(dst, u)
	}
	return append(dst, '}')
}

func appendResponsesUsage(dst []byte, u Usage) []byte {
	in, outTok := known(u.InputTokens), known(u.OutputTokens)
	dst = appendInt(append(dst, `{"input_tokens":`...), in)
	dst = appendInt(append(dst, `,"input_tokens_details":{"cached_tokens":`...), known(u.CacheReadTokens))
	dst = appendInt(append(dst, `},"output_tokens":`...), outTok)
	dst = appendInt(append(dst, `,"output_tokens_details":{"reasoning_tokens":`...), known(u.ReasoningTokens))
	dst = appendInt(append(dst, `},"total_tokens":`...), in+outTok)
	return append(dst, '}')
}

// responsesID gives a response id the resp_ prefix, keeping the upstream id
// recognisable.
func responsesID(id string) string { return prefixedID("resp_", id) }

// responsesUsage is where a Responses usage object keeps each count
// (MAPPING.md §7): input includes cached tokens, output includes reasoning;
// there is no cache-write count.
var responsesUsage = usagePaths{
	{"input_tokens", ""}, {"output_tokens", ""},
	{"input_tokens_details", "cached_tokens"}, {},
	{"output_tokens_details", "reasoning_tokens"},
}

func usageFromResponses(u gjson.Result) Usage { return responsesUsage.read(u) }

// stopFromResponses maps a response status to a stop reason: the Responses API
// has no finish reason, only completed or incomplete with a reason.
func stopFromResponses(status, reason string, calls bool) StopReason {
	switch {
	case status == "incomplete" && reason == "max_output_tokens":
		return StopLength
	case status == "incomplete" && reason == "content_filter":
		return StopFilter
	case status == "incomplete":
		return StopLength
	case calls:
		return StopTool
	case status == "completed":
		return StopEnd
	}
	return StopUnknown
}
