package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

const handWritten = `# My providers. Keep this comment.
listen = "127.0.0.1:8765"   # default port

[retry]
attempts = 2 # be quick
`

func TestProvidersAddListRemove(t *testing.T) {
	keyring.MockInit()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(handWritten), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := gatehouse(t, "", "providers", "add", "mygw", "--format", "anthropic",
		"--base-url", "https://gw.example/v1", "--models", "claude-*, corp-*", "--key-env", "MYGW_KEY", "--data", dir)
	if code != 0 {
		t.Fatalf("providers add: exit %d %q", code, errOut)
	}
	if !strings.Contains(out, "gatehouse keys set mygw") {
		t.Fatalf("providers add output %q lacks the next step", out)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), handWritten) {
		t.Fatalf("the user's lines changed:\n%s", b)
	}
	t.Setenv("MYGW_KEY", "gw-key-from-env-00004321")
	code, out, _ = gatehouse(t, "", "providers", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("providers --json: exit %d", code)
	}
	var found providerRow
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		var r providerRow
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if r.Name == "mygw" {
			found = r
		}
	}
	if len(lines) != 14 {
		t.Errorf("providers --json printed %d lines, want 13 presets + mygw", len(lines))
	}
	if found.Format != "anthropic" || found.BaseURL != "https://gw.example/v1" || strings.Join(found.Models, "|") != "claude-*|corp-*" ||
		found.KeySource != "env" || found.Preset {
		t.Fatalf("mygw row = %+v", found)
	}
	code, out, _ = gatehouse(t, "", "providers", "--data", dir)
	if code != 0 || !strings.Contains(out, "mygw") || !strings.Contains(out, "not needed") {
		t.Fatalf("providers (text): exit %d\n%s", code, out)
	}

	code, out, errOut = gatehouse(t, "", "providers", "remove", "mygw", "--data", dir)
	if code != 0 || !strings.Contains(out, "removed provider mygw") {
		t.Fatalf("providers remove: exit %d %q %q", code, out, errOut)
	}
	if b, _ := os.ReadFile(path); string(b) != handWritten {
		t.Fatalf("after add + remove the file is not the user's any more:\n%s", b)
	}
}

func TestProvidersRefusals(t *testing.T) {
	keyring.MockInit()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	src := handWritten + "\n[[provider]]\nname = \"box\"\nformat = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n\n[[route]]\nmodel = \"fast\"\ntargets = [\"box/m\"]\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad name", []string{"add", "My_GW", "--format", "openai", "--base-url", "https://x/v1"}, "must match [a-z0-9-]+"},
		{"bad format", []string{"add", "gw", "--format", "soap", "--base-url", "https://x/v1"}, "--format"},
		{"bad url", []string{"add", "gw", "--format", "openai", "--base-url", "ftp://x"}, "must start with http:// or https://"},
		{"exists", []string{"add", "openai", "--format", "openai", "--base-url", "https://x/v1"}, "exists already"},
		{"remove preset", []string{"remove", "openai"}, "built-in preset"},
		{"remove unknown", []string{"remove", "nope"}, `no provider "nope"`},
		{"remove used by a route", []string{"remove", "box"}, "would not load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := gatehouse(t, "", append(append([]string{"providers"}, tt.args...), "--data", dir)...)
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want failure with %q", code, errOut, tt.want)
			}
			if b, _ := os.ReadFile(path); string(b) != src {
				t.Fatal("a refused command changed the file")
			}
		})
	}
	// Removing a preset override restores the preset.
	over := handWritten + "\n[[provider]]\nname = \"openai\"\nbase_url = \"https://corp-proxy.example/v1\"\n"
	if err := os.WriteFile(path, []byte(over), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := gatehouse(t, "", "providers", "remove", "openai", "--data", dir)
	if code != 0 || !strings.Contains(out, "built-in preset applies again") {
		t.Fatalf("removing an override: exit %d %q %q", code, out, errOut)
	}
}
