package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func TestProvidersAddReachesRunningInstance(t *testing.T) {
	keyring.MockInit()
	const key = "sk-late-provider-key-000001"
	up := newUpstream(t, key)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte("[retry]\nattempts = 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := startInstance(t, dir)
	// config.Watch reads its baseline in its own goroutine: an edit made before
	// that read would go unnoticed. Change the file until a change is seen.
	n := 3
	waitFor(t, "the config watcher to start", func() bool {
		n = n%15 + 4 // 4..18, a new content each time
		_ = os.WriteFile(path, []byte(fmt.Sprintf("[retry]\nattempts = %d\n", n)), 0o600)
		return st.cfg.Load().Retry.Attempts != 3
	})
	if code, _, errOut := gatehouse(t, "", "providers", "add", "late", "--format", "openai", "--base-url", up.URL+"/v1", "--data", dir); code != 0 {
		t.Fatalf("providers add: %s", errOut)
	}
	// config.Watch polls every second.
	waitFor(t, "the instance to pick up the new provider", func() bool {
		_, ok := st.cfg.Load().Provider("late")
		return ok
	})
	if code, _, errOut := gatehouse(t, key+"\n", "keys", "set", "late", "--data", dir); code != 0 {
		t.Fatalf("keys set: %s", errOut)
	}
	if status := chatThrough(t, st, "late/m1"); status != 200 || up.lastKey() != key {
		t.Fatalf("call to the added provider: status %d, upstream saw %q", status, up.lastKey())
	}
}

// waitFor polls cond every 50ms for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 10s waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
