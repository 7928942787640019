package main

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// waitInstance waits (≤ 15 s) for a serve process to advertise its address.
func waitInstance(t *testing.T, dir string, stderr *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if info, err := cli.ReadInstance(dir); err == nil {
			return "http://" + info.Addr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("gatehouse serve did not start within 15s:\n%s", stderr.String())
	return ""
}

// completed is a call whose response the client had fully received.
type completed struct {
	id string
	at time.Time
}

// TestKill9DuringTrafficKeepsHistory is issue 3's durability promise: kill -9 of
// `gatehouse serve` in the middle of heavy traffic, 20 times; each time the file
// opens, passes bbolt's consistency check, and holds every call whose response
// completed more than 1 s before the kill.
func TestKill9DuringTrafficKeepsHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs 20 rounds of traffic")
	}
	bin := testBinary(t) // main_test.go
	up := startUpstream(t)
	const rounds, workers = 20, 8
	var total, recent, recentMissing int
	for round := range rounds {
		dir := t.TempDir()
		writeTestConfig(t, dir, up)
		var stderr syncBuffer
		cmd := exec.Command(bin, "serve", "--data", dir, "--listen", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), "GATEHOUSE_TEST_KEY="+testProviderKey)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := waitInstance(t, dir, &stderr)

		stop := make(chan struct{})
		var mu sync.Mutex
		var done []completed
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 5 * time.Second}
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100_000; i++ { // bounded; the kill ends it far sooner
					select {
					case <-stop:
						return
					default:
					}
					content := "traffic"
					if (i+w)%5 == 0 {
						content = "please-fail"
					}
					body := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + content + `"}]}`
					resp, err := client.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
					if err != nil {
						continue // the process is gone, or going
					}
					_, err = bytes.NewBuffer(nil).ReadFrom(resp.Body)
					resp.Body.Close()
					if err != nil {
						continue
					}
					at := time.Now()
					mu.Lock()
					done = append(done, completed{resp.Header.Get("X-Gatehouse-Call"), at})
					mu.Unlock()
				}
			}()
		}
		time.Sleep(1500*time.Millisecond + rand.N(700*time.Millisecond))
		killAt := time.Now()
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		close(stop)
		wg.Wait()

		h, err := store.OpenHistory(dir, store.Options{})
		if err != nil {
			t.Fatalf("round %d: open after kill -9: %v", round, err)
		}
		if err := h.Check(); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		must := 0
		for _, c := range done {
			_, err := h.Get(c.id)
			switch age := killAt.Sub(c.at); {
			case age > time.Second:
				must++
				if err != nil {
					t.Errorf("round %d: call %s completed %v before the kill is missing: %v", round, c.id, age, err)
				}
			case age > 300*time.Millisecond:
				recent++
				if errors.Is(err, store.ErrNotFound) {
					recentMissing++
				}
			}
		}
		if must == 0 {
			t.Errorf("round %d: no call completed more than 1s before the kill (%d in all): traffic too light", round, len(done))
		}
		total += must
		h.Close()
	}
	t.Logf("%d rounds: %d calls completed >1s before kill -9, all present; of %d completed 0.3–1s before, %d missing",
		rounds, total, recent, recentMissing)
}
