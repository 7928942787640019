package codec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Helpers every request format shares: errors, optional fields, media parts, the
// merging of turns and the JSON writers the encoders build on. Each format's
// decode and encode live in its own file (openai_chat.go, anthropic.go,
// gemini.go); only fields a target is known to accept are written: Gemini and
// Mistral reject unknown fields (MAPPING.md §2), so nothing is passed through
// blindly.

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

func optInt(r gjson.Result) *int {
	if r.Type != gjson.Number {
		return nil
	}
	v := int(r.Int())
	return &v
}

func optFloat(r gjson.Result) *float64 {
	if r.Type != gjson.Number {
		return nil
	}
	v := r.Float()
	return &v
}

// dataURL splits "data:<media>;base64,<data>"; ok is false for other URLs.
func dataURL(u string) (media, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found || !strings.HasSuffix(meta, ";base64") {
		return "", "", false
	}
	return strings.TrimSuffix(meta, ";base64"), data, true
}

func mediaPart(media, data, url string) Part {
	k := PartImage
	if media == "application/pdf" {
		k = PartDocument
	}
	return Part{Kind: k, MediaType: media, Data: data, URL: url}
}

func mediaURL(p Part) string {
	if p.URL != "" {
		return p.URL
	}
	return "data:" + p.MediaType + ";base64," + p.Data
}

// fillToolNames gives every tool result the name of its call (Gemini needs it;
// OpenAI tool messages carry only the id).
func fillToolNames(req *chatRequest) {
	names := map[string]string{}
	for _, m := range req.Messages {
		for i := range m.Parts {
			p := &m.Parts[i]
			switch p.Kind {
			case PartToolCall:
				names[p.ToolID] = p.ToolName
			case PartToolResult:
				if p.ToolName == "" {
					p.ToolName = names[p.ToolID]
				}
			}
		}
	}
}

// appendTurns writes msgs, merged by role, as the elements of a JSON array:
// each turn opens with assistantOpen or userOpen, holds its parts as part
// writes them, falls back to empty when none could be written (the APIs reject
// a turn without content) and closes with "]}".
func appendTurns(b []byte, msgs []Message, assistantOpen, userOpen, empty string, part func([]byte, Part, Role) ([]byte, bool)) []byte {
	for i, m := range mergeRoles(msgs) {
		if i > 0 {
			b = append(b, ',')
		}
		if m.Role == RoleAssistant {
			b = append(b, assistantOpen...)
		} else {
			b = append(b, userOpen...)
		}
		var n int
		if b, n = appendParts(b, m.Parts, m.Role, part); n == 0 {
			b = append(b, empty...)
		}
		b = append(b, `]}`...)
	}
	return b
}

// appendParts writes parts comma-separated; a part that part cannot write is
// left out whole. n is how many were written.
func appendParts(b []byte, parts []Part, role Role, part func([]byte, Part, Role) ([]byte, bool)) (_ []byte, n int) {
	for _, p := range parts {
		before := len(b)
		if n > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = part(b, p, role); !ok {
			b = b[:before]
			continue
		}
		n++
	}
	return b, n
}

// mergeRoles joins consecutive turns of the same role (Anthropic would combine
// them anyway; Gemini requires alternation) and puts tool results first in a
// user turn, as Anthropic requires.
func mergeRoles(msgs []Message) []Message {
	var out []Message
	for _, m := range msgs {
		if len(m.Parts) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Role == m.Role {
			out[n-1].Parts = append(out[n-1].Parts, m.Parts...)
			continue
		}
		out = append(out, Message{Role: m.Role, Parts: append([]Part(nil), m.Parts...)})
	}
	for i := range out {
		if out[i].Role != RoleUser {
			continue
		}
		var results, rest []Part
		for _, p := range out[i].Parts {
			if p.Kind == PartToolResult {
				results = append(results, p)
			} else {
				rest = append(rest, p)
			}
		}
		if len(results) > 0 {
			out[i].Parts = append(results, rest...)
		}
	}
	return out
}

func resultText(parts []Part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Kind == PartText {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func appendFloat(dst []byte, f float64) []byte { return strconv.AppendFloat(dst, f, 'g', -1, 64) }

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

func appendSchema(dst []byte, raw string) []byte {
	if raw == "" {
		return append(dst, `{"type":"object","properties":{}}`...)
	}
	return appendRawObject(dst, raw)
}

// effortBudget maps an OpenAI reasoning_effort to a thinking budget.
func effortBudget(effort string) int {
	switch effort {
	case "low":
		return 1024
	case "high", "xhigh", "max":
		return 16384
	}
	return 4096
}
