package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ui/cli"
)

// TestScreenshotsClientsAndPrompts is part of `make screenshots`: the Clients
// screen with three tokens in use (one near its budget) and the Prompts
// screen with a prompt that was tried.
func TestScreenshotsClientsAndPrompts(t *testing.T) {
	out := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if out == "" || os.Getenv("DISPLAY") == "" {
		t.Skip("set GATEHOUSE_SCREENSHOTS=DIR and DISPLAY (see .ci/screenshots)")
	}
	up := startUpstream(t, "")
	dir := t.TempDir()
	writeUpstreamConfig(t, dir, up.addr, `
# Prompt endpoints: the model "prompt/NAME", or POST /v1/prompts/NAME.
[[prompt]]
name = "commit-message"
model = "gpt-4o"
system = "You write concise git commit messages in the {{style}} style."
template = "Write a commit message for this diff:\n{{input}}"
temperature = 0.2
max_tokens = 200

[[prompt]]
name = "translate"
model = "gpt-4o-mini"
template = "Translate into {{language}}:\n{{input}}"
`)
	app, base := startApp(t, dir, []string{"GATEHOUSE_TEST_KEY=" + testProviderKey})
	c, ok := cli.FindRunning(dir)
	if !ok {
		t.Fatalf("the app's admin API does not answer\n%s", app.stderr.String())
	}
	add := func(spec cli.ClientSpec) string {
		b, _ := json.Marshal(spec)
		status, body, err := c.Do("POST", "clients", b)
		if err != nil || status != 200 {
			t.Fatalf("clients add: %d %s %v", status, body, err)
		}
		var r struct{ Token string }
		_ = json.Unmarshal(body, &r)
		return r.Token
	}
	tokens := []string{
		add(cli.ClientSpec{Name: "aider", Models: []string{"gpt-4o*", "claude-*"}, DailyTokens: 200000}),
		add(cli.ClientSpec{Name: "ci-bot", Models: []string{"gpt-4o*", "prompt/*"}, Providers: []string{"up"}, DailyTokens: 400, Expires: 30 * 24 * time.Hour}),
		add(cli.ClientSpec{Name: "laptop-anna"}),
	}
	for i := 0; i < 20; i++ {
		chat(t, base, "Summarise this diff", "Bearer "+tokens[i%2])
	}
	show := func(tab string) {
		t.Helper()
		status, b, err := c.Do("POST", "app/show", []byte(`{"tab":"`+tab+`"}`))
		for i := 0; i < 100 && err == nil && status == 503; i++ {
			time.Sleep(100 * time.Millisecond)
			status, b, err = c.Do("POST", "app/show", []byte(`{"tab":"`+tab+`"}`))
		}
		if err != nil || status != 200 {
			t.Fatalf("show %s: %d %s %v", tab, status, b, err)
		}
		time.Sleep(4 * time.Second) // the list loads in the background; a loaded machine draws late
	}
	show("Clients")
	capture(t, filepath.Join(out, "clients.png"))
	show("Prompts")
	capture(t, filepath.Join(out, "prompts.png"))
	if err := os.WriteFile(filepath.Join(os.TempDir(), "gatehouse-screenshots-clients.log"), []byte(app.stderr.String()), 0o600); err != nil {
		t.Log(err)
	}
}
