package main

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Disk and file faults at the process level (issue 15 §4): the proxy keeps
// serving whatever happens to its data folder, and says what is wrong.

// mountTmpfs mounts a small tmpfs for the test, or skips where mounting is not
// permitted (CI without root or CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// health reads /_gatehouse/health.
func health(t *testing.T, addr string) map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/_gatehouse/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var h map[string]string
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("health %s: %v", b, err)
	}
	return h
}

// waitHealth polls the health endpoint until cond holds (5 s at most).
func waitHealth(t *testing.T, addr, what string, cond func(map[string]string) bool) map[string]string {
	t.Helper()
	var h map[string]string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if h = health(t, addr); cond(h) {
			return h
		}
	}
	t.Fatalf("health never showed %s: %v", what, h)
	return nil
}

func TestServeWithAFullDisk(t *testing.T) {
	data := mountTmpfs(t, "16m")
	up := startUpstream(t, "")
	writeTestConfig(t, data, up)
	p := startServe(t, data, "GATEHOUSE_TEST_KEY=sk-full-disk-0001")
	base := "http://" + p.addr
	if _, status := chat(t, base, "before", ""); status != 200 {
		t.Fatalf("call before the disk filled: %d", status)
	}
	filler := filepath.Join(data, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 256<<10)
	for i := 0; i < 1024; i++ {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()

	for i := 0; i < 30; i++ { // enough to need new pages
		if _, status := chat(t, base, strings.Repeat("full ", 2000), ""); status != 200 {
			t.Fatalf("call %d with a full disk: %d, want the proxy to keep serving", i, status)
		}
	}
	h := waitHealth(t, p.addr, "history degraded", func(h map[string]string) bool { return h["history"] == "degraded" })
	if h["status"] != "ok" || !strings.Contains(h["history_degraded"], "is full: calls are not being recorded until space is freed") {
		t.Errorf("health with a full disk: %v", h)
	}
	env := append(os.Environ(), "GATEHOUSE_DATA="+data)
	code, _, errOut := gatehouseProc(t, env, "", "history", "--limit", "1")
	if code != 0 || !strings.Contains(errOut, "warning: history degraded: the disk holding") {
		t.Errorf("history with a full disk: exit %d, stderr %q, want a warning", code, errOut)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	id, status := chat(t, base, "after", "")
	if status != 200 {
		t.Fatalf("call after space returned: %d", status)
	}
	waitHealth(t, p.addr, "history ok again", func(h map[string]string) bool { return h["history"] == "ok" })
	if code, out, errOut := gatehouseProc(t, env, "", "history", "show", id); code != 0 || !strings.Contains(out, id) {
		t.Errorf("the call after space returned is not in history: exit %d %s %s", code, out, errOut)
	}
	if err := p.stop(t); err != nil {
		t.Errorf("serve exit: %v", err)
	}
	if strings.Contains(p.stderr.String(), "panic") {
		t.Errorf("serve panicked:\n%s", p.stderr)
	}
}

func TestServeWithAReadOnlyDataFolder(t *testing.T) {
	data := mountTmpfs(t, "1m")
	up := startUpstream(t, "")
	writeTestConfig(t, data, up)
	if out, err := exec.Command("mount", "-o", "remount,ro", data).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v %s", err, out)
	}
	p := startServe(t, data, "GATEHOUSE_TEST_KEY=sk-read-only-0001")
	if _, status := chat(t, "http://"+p.addr, "read-only", ""); status != 200 {
		t.Fatalf("call with a read-only data folder: %d", status)
	}
	h := health(t, p.addr)
	if h["history"] != "degraded" || !strings.Contains(h["history_degraded"], data+" cannot be written") {
		t.Errorf("health with a read-only data folder: %v", h)
	}
	if log := p.stderr.String(); !strings.Contains(log, "data folder not writable, recording to a temporary file until exit") {
		t.Errorf("the log does not say the data folder is read-only:\n%s", log)
	}
	if err := p.stop(t); err != nil {
		t.Errorf("serve exit: %v", err)
	}
}

func TestServeMovesADamagedHistoryAside(t *testing.T) {
	for _, kind := range []string{"random bytes", "wrong magic"} {
		t.Run(kind, func(t *testing.T) {
			data := t.TempDir()
			up := startUpstream(t, "")
			writeTestConfig(t, data, up)
			bad := make([]byte, 64<<10)
			_, _ = rand.Read(bad)
			if kind == "wrong magic" {
				bad = make([]byte, 64<<10) // zeros: no bbolt magic at all
			}
			path := filepath.Join(data, "history.db")
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			env := append(os.Environ(), "GATEHOUSE_DATA="+data)
			code, _, errOut := gatehouseProc(t, env, "", "history")
			if code != 1 || !strings.Contains(errOut, "the history file is damaged") || !strings.Contains(errOut, "start Gatehouse") {
				t.Fatalf("history on a damaged file: exit %d, stderr %q", code, errOut)
			}

			p := startServe(t, data, "GATEHOUSE_TEST_KEY=sk-damaged-0001")
			h := health(t, p.addr)
			if h["history"] != "ok" || !strings.Contains(h["history_notice"], "history.db was damaged") {
				t.Errorf("health after a damaged file: %v", h)
			}
			matches, _ := filepath.Glob(path + ".corrupt-*")
			if len(matches) != 1 {
				t.Fatalf("moved-aside files: %v", matches)
			}
			if !strings.Contains(p.stderr.String(), "history file damaged: moved aside, a new one started") {
				t.Errorf("the log does not say the file was moved aside:\n%s", p.stderr)
			}
			id, status := chat(t, "http://"+p.addr, "fresh", "")
			if status != 200 {
				t.Fatalf("call: %d", status)
			}
			time.Sleep(400 * time.Millisecond) // one flush interval
			code, out, errOut := gatehouseProc(t, env, "", "history", "show", id)
			if code != 0 {
				t.Errorf("history show in the new file: exit %d %s %s", code, out, errOut)
			}
			if !strings.Contains(errOut, "note: history.db was damaged") {
				// history show does not print notes; the list does.
				_, _, errOut = gatehouseProc(t, env, "", "history")
				if !strings.Contains(errOut, "note: history.db was damaged") {
					t.Errorf("history does not mention the damaged file: %q", errOut)
				}
			}
		})
	}
}
