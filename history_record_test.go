package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

func TestStreamedCallRecordsEvents(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	writeTestConfig(t, dir, up)
	t.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	st, base := startTestStack(t, dir)
	body, err := os.ReadFile(filepath.Join("testdata", "history", "request_stream_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(strings.ReplaceAll(string(body), `"stream": true`, `"stream":true`)))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("X-Gatehouse-Call")
	if resp.StatusCode != 200 || !strings.Contains(string(got), "data: ") {
		t.Fatalf("stream: status %d, body %.200q", resp.StatusCode, got)
	}
	st.history.Flush()
	c, err := st.history.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Stream || c.Outcome != store.OutcomeOK || !strings.Contains(c.Events, "data: ") || !strings.Contains(c.Events, "Canberra") {
		t.Errorf("streamed call: stream %v, outcome %s, events %.200q", c.Stream, c.Outcome, c.Events)
	}
	if len(c.Attempts) != 1 || c.Attempts[0].Status != 200 {
		t.Errorf("streamed call attempts = %+v, want one with status 200", c.Attempts)
	}
}
