// Package codec translates between the wire formats Gatehouse speaks: OpenAI Chat
// Completions, the OpenAI Responses API, Anthropic Messages and Gemini
// generateContent. Translation goes
// through one canonical model; every function here is pure (bytes in, bytes out,
// explicit per-stream state) so that the I/O stays in package proxy.
package codec

import (
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
	"github.com/tidwall/gjson"
)

// ErrUnsupported wraps a request feature the target format cannot express (n > 1
// to Anthropic, ...). The proxy answers 400 in the client's format with the message.
var ErrUnsupported = errors.New("unsupported by the target format")

// ErrInvalid wraps a request the translator cannot read (malformed JSON, a wrong
// type). The proxy answers 400 in the client's format with the message.
var ErrInvalid = errors.New("invalid request")

// Usage is token usage. A negative count means unknown: the upstream never said.
//
// The counts mean the same whatever the format (MAPPING.md §7): InputTokens is
// every prompt token, cached ones included (OpenAI prompt_tokens, Gemini
// promptTokenCount, Anthropic input_tokens + cache_creation_input_tokens +
// cache_read_input_tokens); CacheReadTokens and CacheWriteTokens are the parts of
// it read from and written to the cache; OutputTokens includes reasoning (Gemini
// candidatesTokenCount + thoughtsTokenCount); ReasoningTokens is the part of it
// spent thinking.
type Usage struct {
	InputTokens      int64
	OutputTokens     int64
	CacheReadTokens  int64
	CacheWriteTokens int64
	ReasoningTokens  int64
}

// UnknownUsage is a Usage with every count unknown.
func UnknownUsage() Usage { return Usage{-1, -1, -1, -1, -1} }

// RequestOptions is what a request translation needs beyond the body.
type RequestOptions struct {
	// Model is the upstream model name to put in the body (not used for Gemini,
	// whose model is in the URL).
	Model string
	// Stream is true when the client asked for a stream (for Gemini the inbound
	// URL says so, not the body).
	Stream bool
	// DefaultMaxTokens is sent when the target requires max_tokens and the client
	// gave none.
	DefaultMaxTokens int
	// BaseURL is the upstream's base URL, "" when unknown. OpenAI-compatible
	// servers differ in what they accept (Mistral: no stream_options, 9-character
	// tool-call ids, ...); the translation adapts to the ones it recognises.
	BaseURL string
}

// RequestInfo carries what the response side must know about the request.
type RequestInfo struct {
	// ClientModel is the model name the client asked for, echoed in responses.
	ClientModel string
	// IncludeUsage is true when an OpenAI client asked for
	// stream_options.include_usage: the usage chunk reaches it only then.
	IncludeUsage bool
	// custom names a Responses client's custom (free-form) tools, offered to
	// the target as functions taking {"input": string}; their calls go back
	// to the client as custom_tool_call items.
	custom map[string]bool
}

// Request translates a request body from the client's format to the target's.
// Errors wrap ErrUnsupported or ErrInvalid.
func Request(from, to config.Format, body []byte, opt RequestOptions) ([]byte, RequestInfo, error) {
	if !gjson.ValidBytes(body) {
		return nil, RequestInfo{}, fmt.Errorf("read %s request: %w", from, invalid("body is not valid JSON"))
	}
	r := gjson.ParseBytes(body)
	if !r.IsObject() {
		return nil, RequestInfo{}, fmt.Errorf("read %s request: %w", from, invalid("body is not a JSON object"))
	}
	req, custom, err := decodeRequest(from, r, opt.Stream)
	if err != nil {
		return nil, RequestInfo{}, fmt.Errorf("read %s request: %w", from, err)
	}
	info := RequestInfo{ClientModel: req.Model, IncludeUsage: req.IncludeUsage, custom: custom}
	if from == config.FormatGemini {
		info.IncludeUsage = true // Gemini streams always carry usageMetadata
	}
	if from == to {
		return body, info, nil
	}
	if req.N > 1 {
		return nil, info, unsupported("n = %d: only one choice can be translated to %s", req.N, to)
	}
	if opt.Stream && from != config.FormatGemini {
		req.Stream = true
	}
	fillToolNames(req)
	fitTarget(req, to, opt.Model)
	return encodeRequest(to, req, opt), info, nil
}

// decodeRequest reads a request of format from into canonical form (stream:
// the Gemini URL asked for a stream).
func decodeRequest(from config.Format, r gjson.Result, stream bool) (req *chatRequest, custom map[string]bool, err error) {
	switch from {
	case config.FormatResponses:
		return decodeResponsesRequest(r)
	case config.FormatAnthropic:
		req, err = decodeAnthropicRequest(r)
	case config.FormatGemini:
		req, err = decodeGeminiRequest(r, stream)
	default:
		req, err = decodeOpenAIRequest(r)
	}
	return req, nil, err
}

// encodeRequest writes a canonical request in format to.
func encodeRequest(to config.Format, req *chatRequest, opt RequestOptions) []byte {
	switch to {
	case config.FormatResponses:
		return encodeResponsesRequest(req, opt)
	case config.FormatAnthropic:
		return encodeAnthropicRequest(req, opt)
	case config.FormatGemini:
		return encodeGeminiRequest(req)
	}
	return encodeOpenAIRequest(req, opt)
}

// Response translates a non-streaming success body from the upstream's format to
// the client's, and returns the usage it carried.
func Response(from, to config.Format, body []byte, info RequestInfo) ([]byte, Usage, error) {
	r, err := decodeResponse(from, body)
	if err != nil {
		return nil, UnknownUsage(), fmt.Errorf("read %s response: %w", from, err)
	}
	return encodeResponse(nil, to, r, info.ClientModel, info.custom), r.Usage, nil
}

// Stream translates one response stream, event by event. It is not safe for
// concurrent use; make one per call.
type Stream struct {
	from  config.Format
	dec   streamDecoder
	enc   streamEncoder
	evs   []event
	usage Usage
	ended bool
}

// streamEncoder writes canonical events in the client's format.
type streamEncoder interface {
	encode(dst []byte, ev *event) []byte
	end(dst []byte) []byte
}

// NewStream returns a translator of a from-format stream into a to-format stream.
func NewStream(from, to config.Format, info RequestInfo) *Stream {
	s := &Stream{from: from, dec: newDecoder(from), usage: UnknownUsage()}
	switch to {
	case config.FormatResponses:
		s.enc = newResponsesEncoder(info)
	case config.FormatAnthropic:
		s.enc = &anthropicEncoder{info: info, usage: UnknownUsage()}
	case config.FormatGemini:
		s.enc = &geminiEncoder{info: info, usage: UnknownUsage()}
	default:
		s.enc = &openaiEncoder{info: info, usage: UnknownUsage()}
	}
	return s
}

// Event appends the client-format bytes for one upstream event to dst. An
// upstream error event is translated into the client's in-band error. An event
// that is not valid JSON returns an error wrapping ErrInvalid and writes nothing.
func (s *Stream) Event(dst []byte, ev sse.Event) ([]byte, error) {
	var err error
	s.evs, err = decodeEvent(s.dec, s.evs[:0], ev)
	if err != nil {
		return dst, err
	}
	s.ended = s.ended || endsStream(s.from, s.evs)
	for i := range s.evs {
		if s.evs[i].kind == evUsage {
			s.usage = mergeUsage(s.usage, s.evs[i].usage)
		}
		dst = s.enc.encode(dst, &s.evs[i])
	}
	return dst, nil
}

// Ended reports whether the upstream stream has ended properly: its format's
// end marker or an in-band error came (see endsStream). When it has not, a
// stream that stops was cut, and End must not be used to fake a clean end.
func (s *Stream) Ended() bool { return s.ended }

// End appends what properly closes the client's stream after the upstream stream
// ended cleanly (closing blocks, final message_delta/message_stop, [DONE]). It
// writes nothing when the stream was already closed (or ended with an error).
func (s *Stream) End(dst []byte) []byte { return s.enc.end(dst) }

// Usage returns the usage seen so far.
func (s *Stream) Usage() Usage { return s.usage }
