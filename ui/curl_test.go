package ui

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// The copied command, run by a real POSIX shell, sends every header of the
// call: the redacted ones carry what their variables hold. A stand-in curl on
// PATH prints the arguments it got.
func TestCurlCommandRunsInShellWithEveryHeader(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX shell")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	bin := t.TempDir()
	fake := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n"
	if err := os.WriteFile(filepath.Join(bin, "curl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	c := &store.Call{Method: "POST", Path: "/v1/chat/completions", InboundFormat: "openai",
		Request: &store.Message{
			Headers: []store.Header{{Name: "Authorization", Value: "[REDACTED]"}, {Name: "OpenAI-Organization", Value: "org-1"},
				{Name: "X-Portkey-Api-Key", Value: "[REDACTED]"}, {Name: "Cookie", Value: "[REDACTED]"}},
			Body: `{"model":"gpt-4o","messages":[]}`,
		}}
	cmd := exec.Command(sh, "-c", curlCommand(c, "127.0.0.1:8765", "linux"))
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "OPENAI_API_KEY=sk-one", "X_PORTKEY_API_KEY=pk-two", "COOKIE=session=3"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	args := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, want := range []string{"Authorization: Bearer sk-one", "OpenAI-Organization: org-1", "X-Portkey-Api-Key: pk-two", "Cookie: session=3", `{"model":"gpt-4o","messages":[]}`} {
		found := false
		for _, a := range args {
			found = found || a == want
		}
		if !found {
			t.Errorf("curl got %q, want an argument %q", args, want)
		}
	}
}
