package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type got struct {
	name, data string
	comment    bool
}

// readAll reads every event from r, copying them (the reader reuses its buffers).
func readAll(t testing.TB, r *Reader) ([]got, error) {
	t.Helper()
	var out []got
	for i := 0; i < 10000; i++ {
		ev, err := r.Next()
		if err != nil && ev.Raw == nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, got{string(ev.Name), string(ev.Data), ev.Comment})
		if err != nil {
			return out, err
		}
	}
	t.Fatal("too many events")
	return nil, nil
}

func TestReaderShapes(t *testing.T) {
	big := strings.Repeat("é", 70<<10) // 140 KiB of 2-byte characters: > 64 KiB and > the 32 KiB buffer
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"openai LF", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []got{{"", `{"a":1}`, false}, {"", "[DONE]", false}}},
		{"anthropic event names", "event: ping\ndata: {\"type\": \"ping\"}\n\n", []got{{"ping", `{"type": "ping"}`, false}}},
		{"gemini CRLF", "data: {\"x\":1}\r\n\r\ndata: {\"x\":2}\r\n\r\n", []got{{"", `{"x":1}`, false}, {"", `{"x":2}`, false}}},
		{"comment alone", ": OPENROUTER PROCESSING\n\ndata: 1\n\n", []got{{"", "", true}, {"", "1", false}}},
		{"comment inside an event", "data: 1\n: keep-alive\ndata: 2\n\n", []got{{"", "1\n2", false}}},
		{"multi-line data", "data: line one\ndata: line two\ndata:\n\n", []got{{"", "line one\nline two\n", false}}},
		{"no space after colon", "data:{\"a\":1}\n\n", []got{{"", `{"a":1}`, false}}},
		{"blank lines between events", "\n\n\ndata: 1\n\n\n\ndata: 2\n\n", []got{{"", "1", false}, {"", "2", false}}},
		{"unknown fields ignored", "retry: 100\nid: 7\ndata: x\n\n", []got{{"", "x", false}}},
		{"large event", "data: " + big + "\n\n", []got{{"", big, false}}},
		{"last event without blank line", "data: 1\n\ndata: 2", []got{{"", "1", false}, {"", "2", false}}},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			name := tt.name
			var src io.Reader = strings.NewReader(tt.in)
			if oneByte {
				// One byte per read: multi-byte characters and CRLF pairs are split across reads.
				name += " one byte per read"
				src = iotest.OneByteReader(src)
			}
			t.Run(name, func(t *testing.T) {
				evs, err := readAll(t, NewReader(src, 0))
				if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("Next: %v", err)
				}
				if len(evs) != len(tt.want) {
					t.Fatalf("got %d events %+v, want %d %+v", len(evs), short(evs), len(tt.want), short(tt.want))
				}
				for i := range evs {
					if evs[i] != tt.want[i] {
						t.Errorf("event %d got %+v, want %+v", i, short(evs[i:i+1]), short(tt.want[i:i+1]))
					}
				}
			})
		}
	}
}

func short(evs []got) []got {
	out := append([]got(nil), evs...)
	for i := range out {
		if len(out[i].data) > 60 {
			out[i].data = out[i].data[:60] + "…"
		}
	}
	return out
}

func TestReaderRawKeepsBytes(t *testing.T) {
	in := "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n"
	r := NewReader(strings.NewReader(in), 0)
	ev, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Raw) != in {
		t.Errorf("Raw got %q, want %q", ev.Raw, in)
	}
}

func TestReaderLimit(t *testing.T) {
	r := NewReader(strings.NewReader("data: "+strings.Repeat("x", 5000)+"\n\n"), 1024)
	if _, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("Next got %v, want ErrEventTooLarge", err)
	}
}

func TestReaderTruncatedEvent(t *testing.T) {
	r := NewReader(strings.NewReader("data: 1\n\ndata: {\"partial"), 0)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	ev, err := r.Next()
	if !errors.Is(err, io.ErrUnexpectedEOF) || string(ev.Data) != `{"partial` {
		t.Errorf("Next got (%q, %v), want the partial event and io.ErrUnexpectedEOF", ev.Data, err)
	}
}

func TestAppendEventRoundTrip(t *testing.T) {
	b := AppendEvent(nil, "content_block_delta", []byte("a\nb"))
	evs, err := readAll(t, NewReader(bytes.NewReader(b), 0))
	if err != nil || len(evs) != 1 || evs[0] != (got{"content_block_delta", "a\nb", false}) {
		t.Errorf("round trip of %q got %+v, %v", b, evs, err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("event: a\ndata: 1\r\n\r\n: c\n\ndata: x\ndata: y\n\n"))
	f.Add([]byte("data: [DONE]\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), 4096)
		total := 0
		for i := 0; i < 10000; i++ {
			ev, err := r.Next()
			total += len(ev.Raw)
			if err != nil {
				break
			}
			if len(ev.Raw) == 0 {
				t.Fatal("event with no raw bytes")
			}
		}
		if total > len(in) {
			t.Fatalf("events hold %d raw bytes, input had %d", total, len(in))
		}
		// What AppendEvent writes reads back the same.
		name := strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, string(in))
		data := bytes.ReplaceAll(bytes.ReplaceAll(in, []byte("\r"), nil), []byte("\n"), []byte(" "))
		evs, err := readAll(t, NewReader(bytes.NewReader(AppendEvent(nil, name, data)), 0))
		if err != nil || len(evs) != 1 || evs[0].data != string(data) || evs[0].name != name {
			t.Fatalf("round trip got %+v, %v; want name %q data %q", evs, err, name, data)
		}
	})
}
