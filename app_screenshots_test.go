package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestScreenshots is `make screenshots`: it runs the real app under Xvfb
// (.ci/screenshots starts it) against a fake upstream with some failed calls,
// and saves PNGs of the Overview, History (a failed call with 3 attempts
// selected) and Providers screens into $GATEHOUSE_SCREENSHOTS.
func TestScreenshots(t *testing.T) {
	out := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if out == "" || os.Getenv("DISPLAY") == "" {
		t.Skip("set GATEHOUSE_SCREENSHOTS=DIR and DISPLAY (see .ci/screenshots)")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildGatehouse(t)
	up := startUpstream(t)
	dir := t.TempDir()
	cfg := `[retry]
attempts = 3
base_delay = "150ms"
max_delay = "400ms"
circuit_failures = 1000

[[provider]]
name = "openai"
models = []

[[provider]]
name = "local-llama"
format = "openai"
base_url = "http://` + up.addr + `/v1"
models = ["gpt-*", "llama-*"]
key_env = "GATEHOUSE_TEST_KEY"
`
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd := exec.Command(bin, "--data", dir, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8", "GATEHOUSE_TEST_KEY="+testProviderKey)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	base := waitInstance(t, dir, &stderr)

	var failedID string
	prompts := []string{"Summarise this diff", "Write a haiku about gates", "Explain bbolt cursors", "Refactor this function", "Translate to French"}
	for i := 0; i < 36; i++ {
		content := prompts[i%len(prompts)]
		if i%9 == 4 {
			content += " please-fail"
		}
		id, status := chat(t, base, content, "")
		if status == 502 {
			failedID = id
		}
	}
	if failedID == "" {
		t.Fatalf("no call failed\n%s", stderr.String())
	}
	c, ok := findRunning(dir)
	if !ok {
		t.Fatal("the app's admin API does not answer")
	}
	show := func(body string) {
		t.Helper()
		if status, b, err := c.do("POST", "app/show", []byte(body)); err != nil || status != 200 {
			t.Fatalf("show %s: %d %s %v", body, status, b, err)
		}
		time.Sleep(2500 * time.Millisecond) // stats refresh every 2 s; pages load in the background
	}
	show(`{"tab":"Overview"}`)
	capture(t, filepath.Join(out, "overview.png"))
	show(`{"call":"` + failedID + `"}`)
	capture(t, filepath.Join(out, "history.png"))
	show(`{"tab":"Providers"}`)
	capture(t, filepath.Join(out, "providers.png"))
}

// capture saves the Gatehouse window (or the whole screen) as a PNG.
func capture(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	target := "root"
	if out, err := exec.CommandContext(ctx, "xdotool", "search", "--name", "^Gatehouse$").Output(); err == nil {
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			target = ids[len(ids)-1]
		}
	}
	if out, err := exec.CommandContext(ctx, "import", "-window", target, path).CombinedOutput(); err != nil {
		t.Fatalf("import -window %s: %v\n%s", target, err, out)
	}
	fmt.Println("saved", path)
}
