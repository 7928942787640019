// Package sse reads and writes Server-Sent Events as LLM providers send them:
// "event:" and "data:" fields, multi-line data, comment lines, LF or CRLF line
// ends, and events of any size up to a limit.
//
// The reader keeps each event's raw bytes so that a same-format relay can forward
// them untouched, and its parsed fields for everything else.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEvent is the default limit on one event's size.
const DefaultMaxEvent = 16 << 20

// ErrEventTooLarge is returned when an event exceeds the reader's limit.
var ErrEventTooLarge = errors.New("sse: event too large")

// Event is one dispatched event. Its slices are valid until the next call to Next.
type Event struct {
	// Name is the "event:" field, "" when absent.
	Name []byte
	// Data is the "data:" lines joined with "\n", nil when there was none.
	Data []byte
	// ID is the "id:" field.
	ID []byte
	// Raw is the event's bytes as read, blank-line terminator included.
	Raw []byte
	// Comment is true when the event held only comment lines (": keep-alive").
	Comment bool
}

// Reader reads events from a stream.
type Reader struct {
	br   *bufio.Reader
	max  int
	raw  []byte
	data []byte
	name []byte
	id   []byte
	line []byte
}

// NewReader returns a reader of r that refuses events larger than max bytes
// (DefaultMaxEvent when max ≤ 0).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxEvent
	}
	// A small buffer: every open stream holds one or two, and longer lines
	// are gathered in raw anyway (readLine).
	return &Reader{br: bufio.NewReaderSize(r, 4<<10), max: max}
}

// Reset makes the reader read from r, keeping its buffers.
func (r *Reader) Reset(rd io.Reader) {
	r.br.Reset(rd)
	r.raw, r.data, r.name, r.id = r.raw[:0], r.data[:0], r.name[:0], r.id[:0]
}

// Next returns the next event. At a clean end it returns io.EOF; when the stream
// ends inside an event, the partial event is returned with io.ErrUnexpectedEOF.
func (r *Reader) Next() (Event, error) {
	r.raw, r.data, r.name, r.id = r.raw[:0], r.data[:0], r.name[:0], r.id[:0]
	hasData, hasField, hasComment := false, false, false
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && len(r.raw) > 0 {
				if hasData || hasField || hasComment {
					return r.event(hasData, hasField, hasComment), io.ErrUnexpectedEOF
				}
				return Event{}, io.EOF
			}
			return Event{}, err
		}
		content := trimEOL(line)
		if len(content) == 0 {
			if hasData || hasField || hasComment {
				return r.event(hasData, hasField, hasComment), nil
			}
			continue // stray blank line (keep-alive padding)
		}
		if content[0] == ':' {
			hasComment = true
			continue
		}
		field, value := content, []byte(nil)
		if i := bytes.IndexByte(content, ':'); i >= 0 {
			field, value = content[:i], content[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
		case "event":
			r.name = append(r.name[:0], value...)
			hasField = true
		case "id":
			r.id = append(r.id[:0], value...)
			hasField = true
		default:
			hasField = true // retry: and unknown fields are ignored
		}
	}
}

func (r *Reader) event(hasData, hasField, hasComment bool) Event {
	ev := Event{Raw: r.raw, Name: r.name, ID: r.id, Comment: hasComment && !hasData && !hasField}
	if hasData {
		ev.Data = r.data
	}
	return ev
}

// readLine reads one line (terminator included), appending it to r.raw. The
// returned slice aliases r.raw.
func (r *Reader) readLine() ([]byte, error) {
	start := len(r.raw)
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.raw)+len(chunk) > r.max {
			return nil, fmt.Errorf("%w: over %d bytes", ErrEventTooLarge, r.max)
		}
		r.raw = append(r.raw, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(r.raw) > start {
				return r.raw[start:], nil // last line without terminator
			}
			return nil, err
		}
		return r.raw[start:], nil
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// AppendEvent appends an event with the given name ("" for none) and data to dst,
// one "data:" line per line of data, terminated by a blank line.
func AppendEvent(dst []byte, name string, data []byte) []byte {
	if name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexByte(data, '\n')
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		data = data[i+1:]
	}
	return append(dst, '\n', '\n')
}

// IsDone reports whether data is OpenAI's end-of-stream marker "[DONE]".
func IsDone(data []byte) bool { return string(bytes.TrimSpace(data)) == "[DONE]" }
