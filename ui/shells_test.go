package ui

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

func TestCurlCommandPowerShell(t *testing.T) {
	c := &store.Call{Method: "POST", Path: "/v1/messages", InboundFormat: "anthropic", Stream: true,
		Request: &store.Message{
			Headers: []store.Header{{Name: "x-api-key", Value: "sk-ant-123"}, {Name: "anthropic-version", Value: "2023-06-01"},
				{Name: "X-Title", Value: "Bob's ‘tool’"}, {Name: "Content-Length", Value: "42"},
				{Name: "X-Session-Token", Value: "[REDACTED]"}, {Name: "X-Odd$Key`", Value: "[REDACTED]"}},
			Body: `{"model":"claude","messages":[{"role":"user","content":"it's \"déjà vu\" 🙂"}]}`,
		}}
	got := curlCommand(c, "127.0.0.1:8765", "windows")
	want := `@'
{"model":"claude","messages":[{"role":"user","content":"it's \"d\u00e9j\u00e0 vu\" \ud83d\ude42"}]}
'@ | curl.exe 'http://127.0.0.1:8765/v1/messages' ` + "`" + `
  -H "x-api-key: $env:ANTHROPIC_API_KEY" ` + "`" + `
  -H 'anthropic-version: 2023-06-01' ` + "`" + `
  -H 'X-Title: Bob''s ‘‘tool’’' ` + "`" + `
  -H "X-Session-Token: $env:X_SESSION_TOKEN" ` + "`" + `
  -H "X-Odd` + "`$Key``" + `: $env:X_ODD_KEY_" ` + "`" + `
  --data-binary '@-' ` + "`" + `
  --no-buffer`
	if got != want {
		t.Errorf("curlCommand(windows) got\n%s\nwant\n%s", got, want)
	}
	// The piped body is the same JSON, in ASCII.
	body := strings.SplitN(got, "\n", 3)[1]
	var orig, piped any
	if err := json.Unmarshal([]byte(c.Request.Body), &orig); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(body), &piped); err != nil {
		t.Fatalf("piped body %q is not JSON: %v", body, err)
	}
	if o, p := mustJSON(t, orig), mustJSON(t, piped); o != p {
		t.Errorf("piped body decodes to %s, want %s", p, o)
	}
	for _, r := range body {
		if r > 127 {
			t.Fatalf("piped body has non-ASCII %q: Windows PowerShell would mangle it", r)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSnippetsPerOS(t *testing.T) {
	const addr = "127.0.0.1:8765"
	find := func(all []snippet, tool string) snippet {
		t.Helper()
		for _, s := range all {
			if s.Tool == tool {
				return s
			}
		}
		t.Fatalf("no snippet %q in %v", tool, all)
		return snippet{}
	}
	for _, goos := range []string{"linux", "darwin"} {
		if got, want := snippetsFor(addr, goos), snippets(addr); len(got) != len(want) || got[0] != want[0] {
			t.Errorf("%s: snippets changed: %v", goos, got)
		}
		if s := find(snippetsFor(addr, goos), "Claude Code"); !strings.HasPrefix(s.Text, "export ANTHROPIC_BASE_URL=http://127.0.0.1:8765\n") {
			t.Errorf("%s: Claude Code snippet %q", goos, s.Text)
		}
	}
	win := snippetsFor(addr, "windows")
	tests := []struct{ tool, where, want string }{
		{"OpenAI SDKs (env) (PowerShell)", "PowerShell",
			"$env:OPENAI_BASE_URL = 'http://127.0.0.1:8765/v1'\n$env:OPENAI_API_KEY = 'gatehouse'   # any value: Gatehouse adds the key from the keychain"},
		{"OpenAI SDKs (env) (cmd)", "cmd",
			"set OPENAI_BASE_URL=http://127.0.0.1:8765/v1\nrem any value: Gatehouse adds the key from the keychain\nset OPENAI_API_KEY=gatehouse"},
		{"Claude Code (PowerShell)", "PowerShell",
			"$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:8765'\n$env:ANTHROPIC_AUTH_TOKEN = 'gatehouse'   # any value: Gatehouse adds the key\nclaude"},
		{"Claude Code (cmd)", "cmd",
			"set ANTHROPIC_BASE_URL=http://127.0.0.1:8765\nrem any value: Gatehouse adds the key\nset ANTHROPIC_AUTH_TOKEN=gatehouse\nclaude"},
	}
	for _, tt := range tests {
		s := find(win, tt.tool)
		if s.Where != tt.where || s.Text != tt.want {
			t.Errorf("windows %s:\ngot  %s: %q\nwant %s: %q", tt.tool, s.Where, s.Text, tt.where, tt.want)
		}
	}
	for _, s := range win {
		if strings.Contains(s.Text, "export ") || strings.HasPrefix(s.Where, "~") {
			t.Errorf("windows snippet %q keeps POSIX syntax: %s %q", s.Tool, s.Where, s.Text)
		}
	}
	if s := find(win, "Continue"); s.Where != `%USERPROFILE%\.continue\config.yaml` {
		t.Errorf("windows Continue file %q", s.Where)
	}
}
