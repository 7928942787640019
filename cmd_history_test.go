package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/oklog/ulid/v2"
)

// seedHistory writes calls straight into DATA/history.db: five ok calls with
// openai in the last minutes, two failed ones with anthropic, and one ok call
// two days old. It returns the ids, newest first.
func seedHistory(t *testing.T, dataDir string) []string {
	t.Helper()
	h, err := store.OpenHistory(dataDir, store.Options{MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ids []string
	add := func(at time.Time, outcome, provider string, status int, content string) {
		c := &store.Call{
			ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), Time: at,
			Method: "POST", Path: "/v1/chat/completions", ClientUA: "cli-test/1", InboundFormat: "openai",
			Model: "gpt-4o", Provider: provider, UpstreamModel: "gpt-4o-up", Outcome: outcome, Status: status,
			DurationMS: 250, TTFBMS: 90,
			Attempts:    []store.Attempt{{Provider: provider, Model: "gpt-4o-up", Status: status, ErrorClass: "", DurationMS: 200}},
			InputTokens: store.Tokens(27), OutputTokens: store.Tokens(-1),
		}
		if outcome != store.OutcomeOK {
			c.Error = "upstream answered 502"
			c.Attempts[0].Error, c.Attempts[0].ErrorClass = "bad gateway", "upstream_5xx"
		}
		ids = append([]string{c.ID}, ids...)
		h.Record(c, &store.Bodies{
			Request:  store.RawMessage{Headers: []store.Header{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(`{"messages":[{"content":"` + content + `"}]}`)},
			Response: store.RawMessage{Headers: []store.Header{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(`{"answer":"Canberra"}`)},
		})
	}
	add(now.Add(-48*time.Hour), store.OutcomeOK, "openai", 200, "old question")
	for i := range 5 {
		add(now.Add(time.Duration(i-10)*time.Minute), store.OutcomeOK, "openai", 200, "question "+string(rune('a'+i)))
	}
	add(now.Add(-3*time.Minute), store.OutcomeError, "anthropic", 502, "failing question one")
	add(now.Add(-2*time.Minute), store.OutcomeError, "anthropic", 502, "failing question two")
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestHistoryCLIAgainstRunningInstance(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	writeTestConfig(t, dir, up)
	t.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	st, base := startTestStack(t, dir)

	var okIDs, failIDs []string
	for i := range 3 {
		id, status := chat(t, base, "capital question "+string(rune('a'+i)), "")
		if status != 200 || id == "" {
			t.Fatalf("chat: status %d, id %q", status, id)
		}
		okIDs = append(okIDs, id)
	}
	for range 2 {
		id, status := chat(t, base, "please-fail", "")
		if status != 502 {
			t.Fatalf("failing chat: status %d", status)
		}
		failIDs = append(failIDs, id)
	}
	// The file is locked by the running stack: these answers can only come from
	// its admin API. Calls reach the file within a flush interval.
	var lines []map[string]any
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		code, out, errOut := gatehouse(t, "", "history", "--data", dir, "--json")
		if code != 0 {
			t.Fatalf("history while running: exit %d: %s", code, errOut)
		}
		if lines = jsonLines(t, out); len(lines) == 5 {
			break
		}
	}
	if len(lines) != 5 || lines[0]["id"] != failIDs[1] {
		t.Fatalf("history while running: %d calls (first %v), want 5 with %s first", len(lines), lines, failIDs[1])
	}
	if lines[0]["provider"] != "up" || lines[0]["status"] != 502.0 || lines[0]["outcome"] != "error" {
		t.Errorf("failed call summary: %v", lines[0])
	}
	if atts, _ := lines[0]["attempts"].([]any); len(atts) != 2 || atts[1].(map[string]any)["error_class"] != "upstream_5xx" || atts[1].(map[string]any)["status"] != 502.0 {
		t.Errorf("failed call attempts = %v, want 2 with upstream_5xx/502", lines[0]["attempts"])
	}
	// The success attempt of a non-streamed call is not asserted: the proxy hands
	// the call to the recorder before it appends that attempt (forward.go).
	if lines[4]["outcome"] != "ok" || lines[4]["upstream_model"] != "gpt-4o" || lines[4]["client_ua"] != "history-test/1.0" ||
		lines[4]["input_tokens"] != 27.0 || lines[4]["output_tokens"] != 8.0 {
		t.Errorf("ok call summary: %v", lines[4])
	}

	code, out, _ := gatehouse(t, "", "history", "--data", dir, "--failed", "--json")
	if n := len(jsonLines(t, out)); code != 0 || n != 2 {
		t.Errorf("--failed while running: exit %d, %d calls, want 2", code, n)
	}
	code, out, _ = gatehouse(t, "", "history", "show", okIDs[0], "--data", dir, "--json")
	c := jsonLines(t, out)
	if code != 0 || len(c) != 1 || !strings.Contains(c[0]["response"].(map[string]any)["body"].(string), "Canberra") ||
		!strings.Contains(c[0]["request"].(map[string]any)["body"].(string), "capital question a") {
		t.Errorf("show while running: exit %d, %v", code, c)
	}
	code, out, _ = gatehouse(t, "", "history", "export", "--data", dir, "--search", "capital question")
	if n := len(jsonLines(t, out)); code != 0 || n != 3 {
		t.Errorf("export --search while running: exit %d, %d calls, want 3", code, n)
	}
	code, out, errOut := gatehouse(t, "", "history", "prune", "--data", dir)
	if code != 0 || !strings.Contains(out, "pruned 0 calls") {
		t.Errorf("prune while running: exit %d, %q %q", code, out, errOut)
	}
	// Recording goes on after the running instance compacted its file.
	id, _ := chat(t, base, "after prune", "")
	st.history.Flush()
	code, _, errOut = gatehouse(t, "", "history", "show", id, "--data", dir)
	if code != 0 {
		t.Errorf("show after prune: exit %d: %s", code, errOut)
	}

	// Once it stops, the same commands read the file.
	st.stop()
	code, out, errOut = gatehouse(t, "", "history", "--data", dir, "--json")
	if n := len(jsonLines(t, out)); code != 0 || n != 6 {
		t.Errorf("history after stop: exit %d, %d calls, want 6: %s", code, n, errOut)
	}
}

// TestSecondServeRefusedQuickly: a second instance on the same data folder gets
// the clear error within 2 s instead of hanging (issue 3).
func TestSecondServeRefusedQuickly(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	writeTestConfig(t, dir, up)
	startTestStack(t, dir)
	start := time.Now()
	code, _, errOut := gatehouse(t, "", "serve", "--data", dir, "--listen", "127.0.0.1:0")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("second serve took %v to give up, want < 2s", took)
	}
	if code == 0 || !strings.Contains(errOut, "Gatehouse is already running with data folder "+dir) {
		t.Errorf("second serve: exit %d, stderr %q", code, errOut)
	}
}
