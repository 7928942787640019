package codec

import (
	"strconv"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// This file appends JSON by hand: translated streams write one small object per
// event, and building them with encoding/json would cost a map or struct per event.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does, so the output is always valid JSON.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendKey appends "key": (with a leading comma unless first).
func appendKey(dst []byte, first bool, key string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// appendInt appends n.
func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// appendRawObject appends raw (compacted) when it is a JSON object, else "{}":
// Anthropic input and Gemini args must be objects.
func appendRawObject(dst []byte, raw string) []byte {
	if gjson.Valid(raw) && gjson.Parse(raw).IsObject() {
		return append(dst, compactJSON(raw)...)
	}
	return append(dst, '{', '}')
}

// compactJSON removes insignificant whitespace from valid JSON text (so that
// pretty-printed input does not put newlines into SSE data lines).
func compactJSON(raw string) string {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case ' ', '\n', '\r', '\t':
			return ugly(raw)
		}
	}
	return raw
}

func ugly(raw string) string {
	out := make([]byte, 0, len(raw))
	inStr := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inStr {
			out = append(out, c)
			if c == '\\' && i+1 < len(raw) {
				i++
				out = append(out, raw[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\n', '\r', '\t':
			continue
		case '"':
			inStr = true
		}
		out = append(out, c)
	}
	return string(out)
}

func jsonValid(s string) bool { return gjson.Valid(s) }
