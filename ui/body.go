package ui

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"
)

// Display limits that keep a huge body from freezing the window: the text is
// prepared off the UI thread and shown in a virtualised list of lines.
const (
	maxShownBytes = 2 << 20 // bodies beyond this are cut for display
	maxLineRunes  = 2000    // longer lines are cut (minified JSON is pretty-printed first)
)

// bodyLines prepares a body for display: pretty JSON when it parses, the text
// otherwise, cut to the display limits, split into lines. note says what was
// cut, or is "".
func bodyLines(body []byte, truncated bool) (lines []string, note string) {
	if len(body) == 0 {
		return []string{"(empty)"}, ""
	}
	var notes []string
	if truncated {
		notes = append(notes, "stored body was truncated at the capture cap")
	}
	text := prettyJSON(body)
	if len(text) > maxShownBytes {
		notes = append(notes, "showing the first "+byteSize(maxShownBytes)+" of "+byteSize(len(text))+"; Copy JSON has it all")
		text = text[:maxShownBytes]
	}
	lines = strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		if len(l) > maxLineRunes {
			r := []rune(l)
			if len(r) > maxLineRunes {
				lines[i] = string(r[:maxLineRunes]) + " …"
			}
		}
		lines[i] = strings.ReplaceAll(lines[i], "\t", "    ")
	}
	return lines, strings.Join(notes, "; ")
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
