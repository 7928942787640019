package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// TestHistoryAdminAPI checks the endpoints the desktop app and the commands use,
// through the running stack's admin API (token from the data folder).
func TestHistoryAdminAPI(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	writeTestConfig(t, dir, up)
	t.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	st, base := startTestStack(t, dir)
	for range 3 {
		chat(t, base, "hello", "")
	}
	failID, _ := chat(t, base, "please-fail", "")
	st.history.Flush()

	c, ok := cli.FindRunning(dir)
	if !ok {
		t.Fatal("findRunning: the stack is not found")
	}
	get := func(path string, out any) int {
		t.Helper()
		status, body, err := c.Do(http.MethodGet, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status == http.StatusOK && out != nil {
			if err := json.Unmarshal(body, out); err != nil {
				t.Fatalf("%s: %v in %s", path, err, body)
			}
		}
		return status
	}

	var page store.Page
	if s := get("history?failed=1&limit=10", &page); s != 200 || len(page.Calls) != 1 || page.Calls[0].ID != failID {
		t.Errorf("history?failed=1: status %d, %+v", s, page)
	}
	var stats store.Stats
	q := url.Values{"from": {time.Now().Add(-time.Hour).Format(time.RFC3339Nano)}, "to": {time.Now().Add(time.Minute).Format(time.RFC3339Nano)}}
	if s := get("history/stats?"+q.Encode(), &stats); s != 200 || stats.Calls != 4 || stats.Failures != 1 ||
		stats.ErrorsByStatus[502] != 1 || stats.ErrorsByProvider["up"] != 1 || len(stats.Series) == 0 {
		t.Errorf("history/stats: status %d, %+v", s, stats)
	}
	var today store.Today
	if s := get("history/today", &today); s != 200 || today.Calls != 4 || today.Failures != 1 {
		t.Errorf("history/today: status %d, %+v", s, today)
	}
	var drops store.Drops
	if s := get("history/drops", &drops); s != 200 || drops != (store.Drops{}) {
		t.Errorf("history/drops: status %d, %+v", s, drops)
	}
	if s := get("history/calls/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil); s != 404 {
		t.Errorf("unknown call: status %d, want 404", s)
	}
	if s := get("history?since=yesterday", nil); s != 400 {
		t.Errorf("bad since: status %d, want 400", s)
	}

	// Without the token the admin API answers nothing.
	resp, err := http.Get(base + "/_gatehouse/api/history")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Errorf("history without the admin token: status 200")
	}
}
