package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// TestScreenshots is `make screenshots`: it runs the real app under Xvfb
// (.ci/screenshots starts it) against a fake upstream with some failed calls,
// and saves PNGs of the Overview, History (a failed call with 3 attempts
// selected; a translated call's upstream view and its conversation),
// Providers and Usage screens into $GATEHOUSE_SCREENSHOTS.
func TestScreenshots(t *testing.T) {
	out := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if out == "" || os.Getenv("DISPLAY") == "" {
		t.Skip("set GATEHOUSE_SCREENSHOTS=DIR and DISPLAY (see .ci/screenshots)")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	up := startUpstream(t, "")
	dir := t.TempDir()
	cfg := `[retry]
attempts = 3
base_delay = "150ms"
max_delay = "400ms"
circuit_failures = 1000

# Xvfb has no notification service: keep its notice out of the pictures.
[app]
notifications = false

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
	seedDay(t, dir)
	app, base := startApp(t, dir, []string{"GATEHOUSE_TEST_KEY=" + testProviderKey})
	stderr := &app.stderr

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
	c, ok := cli.FindRunning(dir)
	if !ok {
		t.Fatal("the app's admin API does not answer")
	}
	show := func(body string) {
		t.Helper()
		status, b, err := c.Do("POST", "app/show", []byte(body))
		for i := 0; i < 100 && err == nil && status == 503; i++ { // the window is being built
			time.Sleep(100 * time.Millisecond)
			status, b, err = c.Do("POST", "app/show", []byte(body))
		}
		if err != nil || status != 200 {
			t.Fatalf("show %s: %d %s %v", body, status, b, err)
		}
		time.Sleep(2500 * time.Millisecond) // stats refresh every 2 s; pages load in the background
	}
	translatedID := claudeCodeCall(t, base)
	show(`{"tab":"Overview"}`)
	time.Sleep(4 * time.Second) // the overview refreshes at most every 5 s under traffic
	capture(t, filepath.Join(out, "overview.png"))
	show(`{"call":"` + failedID + `"}`)
	capture(t, filepath.Join(out, "history.png"))
	// A call translated from Anthropic's format to the upstream's OpenAI one:
	// the request as Gatehouse sent it upstream, and the conversation.
	show(`{"call":"` + translatedID + `","tab":"` + ui.TabUpstream + `"}`)
	capture(t, filepath.Join(out, "upstream.png"))
	show(`{"call":"` + translatedID + `","tab":"` + ui.TabConversation + `"}`)
	capture(t, filepath.Join(out, "conversation.png"))
	show(`{"tab":"Providers"}`)
	capture(t, filepath.Join(out, "providers.png"))
	show(`{"tab":"Usage"}`)
	capture(t, filepath.Join(out, "usage.png"))
	if err := os.WriteFile(filepath.Join(os.TempDir(), "gatehouse-screenshots.log"), []byte(stderr.String()), 0o600); err != nil {
		t.Log(err)
	}
}

// claudeCodeCall sends an Anthropic Messages call with a tool round trip, as
// Claude Code would, for a model the OpenAI-format upstream serves: Gatehouse
// translates it both ways. It returns the call's ID.
func claudeCodeCall(t *testing.T, base string) string {
	t.Helper()
	body := `{"model":"gpt-4o","max_tokens":1024,"system":"You are a coding assistant. Use the tools to read files before answering.",
"tools":[{"name":"read_file","description":"Read a file of the repository","input_schema":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}],
"messages":[
{"role":"user","content":"Why does the history list look empty after a restart? Look at store/query.go."},
{"role":"assistant","content":[{"type":"text","text":"Let me read the query code first."},{"type":"tool_use","id":"toolu_01","name":"read_file","input":{"path":"store/query.go"}}]},
{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"func (h *History) List(q Query) (Page, error) {\n\t// Walk an index that holds every match …\n}"}]}]}`
	req, err := http.NewRequest(http.MethodPost, base+"/v1/messages", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("User-Agent", "claude-cli/2.1.332 (external, cli)")
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("translated call: %s", resp.Status)
	}
	return resp.Header.Get("X-Gatehouse-Call")
}

// seedDay records a day of earlier traffic in dir's history, so that the
// overview's chart has something to show: a daily rhythm and a burst of 502s.
func seedDay(t *testing.T, dir string) {
	t.Helper()
	h, err := store.OpenHistory(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	one := int64(350)
	cost := (350*2.50 + 350*10.00) / 1e6 // gpt-4o's price
	for i := 0; i < 24*12; i++ {         // 5-minute slots
		at := now.Add(-24*time.Hour + time.Duration(i)*5*time.Minute)
		hour := at.Hour()
		n := 2 + int(6*(1+math.Sin(float64(hour-9)/24*2*math.Pi)))
		for k := 0; k < n; k++ {
			ts := at.Add(time.Duration(k) * time.Second)
			c := &store.Call{ID: ulid.MustNew(ulid.Timestamp(ts), ulid.DefaultEntropy()).String(), Time: ts,
				Method: "POST", Path: "/v1/chat/completions", InboundFormat: "openai", Model: "gpt-4o",
				Provider: "local-llama", UpstreamModel: "gpt-4o", Outcome: store.OutcomeOK, Status: 200,
				DurationMS: int64(900 + 500*math.Sin(float64(hour)/3) + float64(k*97%700)), TTFBMS: 400, InputTokens: &one, OutputTokens: &one,
				Attempts: []store.Attempt{{Provider: "local-llama", Model: "gpt-4o", Status: 200, DurationMS: 1190}}, CostUSD: &cost}
			if i%11 == 3 && k == 0 { // a 429 that a retry got past
				c.Attempts = append([]store.Attempt{{Provider: "local-llama", Model: "gpt-4o", Status: 429, ErrorClass: "rate_limited"}}, c.Attempts...)
			}
			if i%37 == 5 && k < n/2 {
				c.Outcome, c.Status, c.InputTokens, c.OutputTokens, c.CostUSD = store.OutcomeError, 502, nil, nil, nil
				c.Attempts = []store.Attempt{{Provider: "local-llama", Model: "gpt-4o", Status: 502, ErrorClass: "upstream_5xx"}}
			}
			h.Record(c, nil)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}

// capture saves the Gatehouse window (or the whole screen) as a PNG.
func capture(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	target := "root"
	if ids := gatehouseWindows(); len(ids) > 0 {
		target = ids[len(ids)-1]
	}
	if out, err := exec.CommandContext(ctx, "import", "-window", target, path).CombinedOutput(); err != nil {
		t.Fatalf("import -window %s: %v\n%s", target, err, out)
	}
	fmt.Println("saved", path)
}
