package codec

import (
	"os"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// TestReadConversation reads recorded calls of each format into the blocks the
// app's conversation view shows: system prompt, tools, the turns with their
// tool calls and results, and the answer (from a stream's events too).
func TestReadConversation(t *testing.T) {
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(fixturePath(name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name                   string
		f                      config.Format
		req, resp, events      string
		wantSystem, wantTool   string
		wantCalls, wantResults int
		wantAnswer             string
	}{
		{"anthropic tool round trip", config.FormatAnthropic, "testdata/anthropic/request_tool_result.json", "testdata/anthropic/response_after_tool_result.json", "",
			"helpful assistant", "get_weather", 2, 2, "Paris"},
		{"anthropic stream", config.FormatAnthropic, "testdata/anthropic/request_stream_text.json", "", "testdata/anthropic/stream_text.sse",
			"", "", 0, 0, ""},
		{"gemini function response", config.FormatGemini, "testdata/gemini/request_function_response.json", "testdata/gemini/response_after_function_response.json", "",
			"helpful assistant", "get_weather", 2, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp, events []byte
			if tc.resp != "" {
				resp = read(tc.resp)
			}
			if tc.events != "" {
				events = read(tc.events)
			}
			c, err := ReadConversation(tc.f, read(tc.req), resp, events)
			if err != nil {
				t.Fatalf("ReadConversation: %v", err)
			}
			if !c.Answered {
				t.Errorf("no answer read from the response")
			}
			var sys strings.Builder
			for _, p := range c.System {
				sys.WriteString(p.Text)
			}
			if !strings.Contains(sys.String(), tc.wantSystem) {
				t.Errorf("system %q, want it to contain %q", sys.String(), tc.wantSystem)
			}
			if tc.wantTool != "" && (len(c.Tools) == 0 || c.Tools[0].Name != tc.wantTool) {
				t.Errorf("tools %+v, want %s", c.Tools, tc.wantTool)
			}
			calls, results := 0, 0
			for _, m := range c.Messages[:len(c.Messages)-1] {
				for _, p := range m.Parts {
					switch p.Kind {
					case PartToolCall:
						calls++
						if p.ToolName == "" || !strings.HasPrefix(p.Args, "{") {
							t.Errorf("tool call %+v lacks its name or arguments", p)
						}
					case PartToolResult:
						results++
					}
				}
			}
			if calls != tc.wantCalls || results != tc.wantResults {
				t.Errorf("%d tool calls, %d results; want %d, %d", calls, results, tc.wantCalls, tc.wantResults)
			}
			last := c.Messages[len(c.Messages)-1]
			if last.Role != RoleAssistant || len(last.Parts) == 0 {
				t.Fatalf("last message %+v, want the assistant's answer", last)
			}
			if !strings.Contains(last.Parts[0].Text, tc.wantAnswer) {
				t.Errorf("answer %q, want it to contain %q", last.Parts[0].Text, tc.wantAnswer)
			}
		})
	}
	if _, err := ReadConversation(config.FormatOpenAI, []byte(`{"model":`), nil, nil); err == nil {
		t.Error("a malformed request read as a conversation")
	}
}
