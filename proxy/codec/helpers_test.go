package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
)

func init() {
	// Pin the clock so that golden files are stable.
	now = func() time.Time { return time.Unix(1767268800, 0) }
}

// readEvents parses an SSE file into events (copied: sse slices are reused).
func readEvents(tb testing.TB, path string) []sse.Event {
	tb.Helper()
	b, err := os.ReadFile(fixturePath(path))
	if err != nil {
		tb.Fatal(err)
	}
	return parseEvents(tb, b)
}

func parseEvents(tb testing.TB, b []byte) []sse.Event {
	tb.Helper()
	r := sse.NewReader(bytes.NewReader(b), 0)
	var evs []sse.Event
	for i := 0; i < 100000; i++ {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			tb.Fatalf("read events: %v", err)
		}
		evs = append(evs, sse.Event{
			Name: bytes.Clone(ev.Name), Data: bytes.Clone(ev.Data),
			Raw: bytes.Clone(ev.Raw), Comment: ev.Comment,
		})
		if err != nil {
			return evs
		}
	}
	tb.Fatal("too many events")
	return nil
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(fixturePath(path))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// formatOfFixture returns the wire format of a testdata file by its folder.
func formatOfFixture(path string) config.Format {
	switch filepath.Base(filepath.Dir(path)) {
	case "responses":
		return config.FormatResponses
	case "anthropic":
		return config.FormatAnthropic
	case "gemini":
		return config.FormatGemini
	}
	return config.FormatOpenAI
}

// indentJSON pretty-prints a JSON body for readable golden files; it fails the
// test when the body is not valid JSON.
func indentJSON(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		tb.Fatalf("invalid JSON %v: %s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}
