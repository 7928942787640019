package codec

// This file is the canonical model every format converts to and from (hub and
// spoke, STYLE.md 4.10): a request, its messages and content parts, tools, a
// response, and the events a stream is made of.

import "unicode/utf8"

// PartKind says what a content part holds.
type PartKind uint8

// The kinds of content part.
const (
	PartText             PartKind = iota // Text
	PartImage                            // MediaType + Data (base64) or URL
	PartDocument                         // a PDF: MediaType + Data or URL
	PartThinking                         // Text, Signature
	PartRedactedThinking                 // Text holds Anthropic's opaque data
	PartToolCall                         // ToolID, ToolName, Args
	PartToolResult                       // ToolID, ToolName, Result, IsError
)

// Part is one piece of message content.
type Part struct {
	Kind      PartKind
	Text      string
	Signature string // thinking signature (Anthropic) or thoughtSignature (Gemini)
	MediaType string
	Data      string // base64, without a data: prefix
	URL       string
	ToolID    string
	ToolName  string
	Args      string // the tool call's arguments as JSON text (an object)
	Result    []Part // a tool result's content: text and images
	IsError   bool
	// CacheControl is Anthropic's cache_control object (raw JSON), "" when none.
	CacheControl string
}

// Role is who wrote a message.
type Role uint8

// The message roles. System prompts live in Request.System.
const (
	RoleUser Role = iota
	RoleAssistant
)

// Message is one turn. Tool results are parts of a user message.
type Message struct {
	Role  Role
	Parts []Part
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	Schema      string // JSON Schema of the arguments, raw JSON ("" for none)
	Strict      bool
}

// ToolChoiceMode says whether and how the model must call tools.
type ToolChoiceMode uint8

// The tool choice modes.
const (
	ToolChoiceDefault  ToolChoiceMode = iota // not set: the target's default
	ToolChoiceAuto                           // the model decides
	ToolChoiceNone                           // no tool calls
	ToolChoiceRequired                       // at least one tool call
	ToolChoiceNamed                          // this one tool (ToolChoice.Name)
)

// ToolChoice is the tool choice with the named tool when Mode is ToolChoiceNamed.
type ToolChoice struct {
	Mode ToolChoiceMode
	Name string
}

// ResponseFormat asks for JSON output.
type ResponseFormat struct {
	Type   string // "", "json_object" or "json_schema"
	Name   string
	Schema string // raw JSON Schema
	Strict bool
}

// Thinking is the reasoning configuration.
type Thinking struct {
	Enabled bool
	Budget  int    // budget tokens, 0 when unset
	Effort  string // OpenAI reasoning_effort (low, medium, high), "" when unset
	// Include is false when the client asked for thinking but not to see it.
	Include bool
}

// chatRequest is a chat request in canonical form. Pointer fields are nil when unset.
type chatRequest struct {
	Model             string
	System            []Part // text parts
	Messages          []Message
	Tools             []Tool
	ToolChoice        ToolChoice
	ParallelToolCalls *bool
	MaxTokens         *int
	Temperature       *float64
	TopP              *float64
	TopK              *int
	Stop              []string
	Seed              *int64
	PresencePenalty   *float64
	FrequencyPenalty  *float64
	N                 int
	User              string
	Stream            bool
	IncludeUsage      bool
	ResponseFormat    ResponseFormat
	Thinking          Thinking
}

// StopReason is why the model stopped, in canonical form.
type StopReason uint8

// The stop reasons.
const (
	StopUnknown  StopReason = iota // not said (a stream cut short)
	StopEnd                        // natural end of turn
	StopSequence                   // a stop sequence matched
	StopLength                     // the token limit
	StopTool                       // the model called tools
	StopFilter                     // a content filter or refusal
	StopPause                      // Anthropic pause_turn
)

// chatResponse is a complete (non-streaming) response in canonical form.
type chatResponse struct {
	ID           string
	Model        string
	Created      int64
	Parts        []Part
	Stop         StopReason
	StopSequence string
	Usage        Usage
}

// evKind is the kind of a canonical stream event.
type evKind uint8

const (
	evStart     evKind = iota // the response began: id, name (model), created
	evText                    // text fragment
	evThinking                // thinking fragment
	evSignature               // thinking signature (completes the thinking block)
	evRedacted                // a whole redacted thinking block (text = data)
	evToolStart               // a tool call began: key, id, name
	evToolArgs                // a fragment of tool call key's arguments
	evBlockStop               // the upstream closed a content block (key)
	evFinish                  // stop reason (stop, text = stop sequence)
	evUsage                   // usage so far (cumulative: set, never add)
	evPing                    // keep-alive
	evError                   // in-band error: status, text = message
	evDone                    // the upstream's own end marker ([DONE], message_stop)
)

// event is one canonical stream event. Which fields count depends on kind.
type event struct {
	kind    evKind
	key     int
	id      string
	name    string
	text    string
	stop    StopReason
	usage   Usage
	status  int
	created int64
}

// mergeUsage sets every count of u that next knows: upstream usage is
// cumulative, so a later report replaces an earlier one (set, never add).
func mergeUsage(u, next Usage) Usage {
	if next.InputTokens >= 0 {
		u.InputTokens = next.InputTokens
	}
	if next.OutputTokens >= 0 {
		u.OutputTokens = next.OutputTokens
	}
	if next.CacheReadTokens >= 0 {
		u.CacheReadTokens = next.CacheReadTokens
	}
	if next.CacheWriteTokens >= 0 {
		u.CacheWriteTokens = next.CacheWriteTokens
	}
	if next.ReasoningTokens >= 0 {
		u.ReasoningTokens = next.ReasoningTokens
	}
	return u
}

// known returns n, or 0 when it is unknown (negative), for fields a format requires.
func known(n int64) int64 {
	if n < 0 {
		return 0
	}
	return n
}

// builder rebuilds a canonical chatResponse from canonical stream events.
// Call response for the result.
type builder struct {
	resp  chatResponse
	tools map[int]int // event key → index in resp.Parts
	seen  bool
	// text and args grow each part's Text and Args (by part index) until
	// response moves them in: appending to a string copies all of it, which
	// over a stream of many small deltas is quadratic (issue 15 §2).
	text, args [][]byte
	// limit caps the bytes of text and arguments kept (0: no cap); cut says
	// some were dropped.
	limit, kept int
	cut         bool
}

// grow appends s to field, part i's Text or Args, within the builder's
// limit. The first piece is kept as it came; from the second on, the pieces
// go to part i's buffer in bufs.
func (b *builder) grow(bufs *[][]byte, field *string, i int, s string) {
	if b.cut {
		return // nothing after a cut: the kept content reads on without a gap
	}
	if b.limit > 0 {
		room := b.limit - b.kept
		if len(s) > room {
			room = max(room, 0)
			for room > 0 && !utf8.RuneStart(s[room]) {
				room-- // no rune cut in two
			}
			s, b.cut = s[:room], true
		}
	}
	if s == "" {
		return
	}
	b.kept += len(s)
	if *field == "" && (len(*bufs) <= i || len((*bufs)[i]) == 0) {
		*field = s
		return
	}
	for len(*bufs) <= i {
		*bufs = append(*bufs, nil)
	}
	buf := (*bufs)[i]
	if buf == nil {
		buf = make([]byte, 0, max(512, 2*(len(*field)+len(s))))
	}
	if *field != "" {
		buf = append(buf, *field...)
		*field = ""
	}
	(*bufs)[i] = append(buf, s...)
}

// response returns the rebuilt response; the builder may take more events after.
func (b *builder) response() *chatResponse {
	for i, t := range b.text {
		if len(t) > 0 {
			b.resp.Parts[i].Text = string(t)
			b.text[i] = t[:0]
		}
	}
	for i, a := range b.args {
		if len(a) > 0 {
			b.resp.Parts[i].Args = string(a)
			b.args[i] = a[:0]
		}
	}
	return &b.resp
}

func newBuilder() *builder {
	return &builder{resp: chatResponse{Usage: UnknownUsage()}}
}

func (b *builder) add(e *event) {
	b.seen = true
	r := &b.resp
	last := func(k PartKind) *Part {
		if n := len(r.Parts); n > 0 && r.Parts[n-1].Kind == k {
			return &r.Parts[n-1]
		}
		r.Parts = append(r.Parts, Part{Kind: k})
		return &r.Parts[len(r.Parts)-1]
	}
	switch e.kind {
	case evStart:
		if r.ID == "" {
			r.ID, r.Model, r.Created = e.id, e.name, e.created
		}
	case evText:
		p := last(PartText)
		b.grow(&b.text, &p.Text, len(r.Parts)-1, e.text)
	case evThinking:
		p := last(PartThinking)
		if p.Signature != "" { // a signed block is complete: this is a new one
			r.Parts = append(r.Parts, Part{Kind: PartThinking})
			p = &r.Parts[len(r.Parts)-1]
		}
		b.grow(&b.text, &p.Text, len(r.Parts)-1, e.text)
	case evSignature:
		p := last(PartThinking)
		p.Signature += e.text
	case evRedacted:
		r.Parts = append(r.Parts, Part{Kind: PartRedactedThinking, Text: e.text})
	case evToolStart:
		if b.tools == nil {
			b.tools = map[int]int{}
		}
		b.tools[e.key] = len(r.Parts)
		r.Parts = append(r.Parts, Part{Kind: PartToolCall, ToolID: e.id, ToolName: e.name})
	case evToolArgs:
		if i, ok := b.tools[e.key]; ok {
			b.grow(&b.args, &r.Parts[i].Args, i, e.text)
		}
	case evFinish:
		r.Stop, r.StopSequence = e.stop, e.text
	case evUsage:
		r.Usage = mergeUsage(r.Usage, e.usage)
	}
}
