package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// Display limits that keep a huge body from freezing the window: the text is
// prepared off the UI thread and shown in a virtualised list of rows.
const (
	maxShownBytes = 2 << 20 // bodies beyond this are cut for display
	maxLineRunes  = 100_000 // longer lines are cut (they wrap into rows up to that)
)

// shownText is a body prepared for a linesView.
type shownText struct {
	lines []string
	note  string   // what was cut or is wrong; "" when nothing
	mark  position // a malformed JSON's error position; line -1: none
}

// bodyLines prepares a body for display: pretty JSON when it parses, the text
// otherwise, cut to the display limits, split into lines. note says what was
// cut, or is "".
func bodyLines(body []byte, truncated bool) (lines []string, note string) {
	t := bodyText(body, truncated)
	return t.lines, t.note
}

// bodyText is bodyLines that also locates the error of a body that looks like
// JSON but does not parse (issue 16 §3: the error at byte 62 sat past the
// right edge).
func bodyText(body []byte, truncated bool) shownText {
	out := shownText{mark: position{-1, 0}}
	if len(body) == 0 {
		out.lines = []string{"(empty)"}
		return out
	}
	var notes []string
	if truncated {
		notes = append(notes, "stored body was truncated at the capture cap")
	}
	body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	text := prettyJSON(body)
	errAt := -1
	if t := bytes.TrimSpace(body); !truncated && len(t) > 0 && (t[0] == '{' || t[0] == '[') && text == string(body) {
		if at, msg, ok := jsonError(body); ok {
			errAt = at
			notes = append(notes, fmt.Sprintf("malformed JSON: %s at byte %d (marked in red)", msg, at))
		}
	}
	if len(text) > maxShownBytes {
		notes = append(notes, "showing the first "+byteSize(maxShownBytes)+" of "+byteSize(len(text))+"; Copy JSON has it all")
		text = text[:maxShownBytes]
	}
	out.lines = strings.Split(text, "\n")
	for i, l := range out.lines {
		if len(l) > maxLineRunes {
			if r := []rune(l); len(r) > maxLineRunes {
				out.lines[i] = string(r[:maxLineRunes]) + " …"
			}
		}
		out.lines[i] = strings.ReplaceAll(out.lines[i], "\t", "    ")
	}
	if errAt >= 0 && errAt <= len(text) {
		start := strings.LastIndexByte(text[:errAt], '\n') + 1
		line := strings.Count(text[:errAt], "\n")
		col := len(strings.ReplaceAll(text[start:errAt], "\t", "    "))
		if line < len(out.lines) && col <= len(out.lines[line]) {
			out.mark = position{line, col}
		}
	}
	out.note = strings.Join(notes, "; ")
	return out
}

// jsonError locates the first syntax error of body: the byte offset of the
// character that broke it and what was wrong.
func jsonError(body []byte) (offset int, msg string, ok bool) {
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if err == nil || !errors.As(err, &se) {
		return 0, "", false
	}
	// Offset counts the bytes read, the offending one included.
	return max(int(se.Offset)-1, 0), strings.TrimPrefix(se.Error(), "invalid character "), true
}

// prettyJSON indents body when it is JSON, and returns it as text otherwise.
func prettyJSON(body []byte) string {
	t := bytes.TrimSpace(body)
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		var out bytes.Buffer
		if json.Indent(&out, t, "", "  ") == nil {
			return out.String()
		}
	}
	return string(body)
}

// responseText is the text of a chat response body in any of the three formats
// ("" when there is none): what a streamed answer reads like, reassembled.
func responseText(body []byte) string {
	if !gjson.ValidBytes(body) {
		return ""
	}
	var parts []string
	add := func(r gjson.Result) {
		if s := r.String(); s != "" {
			parts = append(parts, s)
		}
	}
	r := gjson.ParseBytes(body)
	r.Get("choices.#.message.content").ForEach(func(_, v gjson.Result) bool { add(v); return true })
	r.Get("content.#(type==\"text\")#.text").ForEach(func(_, v gjson.Result) bool { add(v); return true })
	r.Get("candidates.0.content.parts.#.text").ForEach(func(_, v gjson.Result) bool { add(v); return true })
	return strings.Join(parts, "\n")
}
