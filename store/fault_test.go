package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// damage is one way history.db goes bad.
var damage = []struct {
	name string
	fn   func(b []byte) []byte
}{
	{"random bytes", func(b []byte) []byte { _, _ = rand.Read(b); return b }},
	{"truncated", func(b []byte) []byte { return b[:len(b)/3] }},
	{"wrong magic", func(b []byte) []byte {
		for _, off := range []int{0, pageSize} { // both meta pages (a new file's page size)
			b[off+metaOffset] ^= 0xff
		}
		return b
	}},
}

// damagedHistory writes a history of n calls with 3 KB bodies (so the data
// fills the file and truncating it cuts into live pages), closes it and
// applies fn to the file. It returns the folder and the damaged bytes.
func damagedHistory(t *testing.T, fn func([]byte) []byte) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	h, err := OpenHistory(dir, Options{NoRetention: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i++ {
		h.Record(callAt(time.Now(), OutcomeOK, "p"), bodiesOf(strings.Repeat("x", 3000), "resp"))
	}
	h.Flush()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = fn(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, b
}

// TestDamagedHistory: a damaged history.db never crashes the process. The
// history command's open says it is damaged; the running instance's open
// (Resilient) moves it aside as history.db.corrupt-<time>, says so, and records
// into a new file. Before issue 15 §4 a truncated file killed the process with
// SIGBUS inside bolt.Open.
func TestDamagedHistory(t *testing.T) {
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			dir, bad := damagedHistory(t, d.fn)
			_, err := OpenHistory(dir, Options{NoRetention: true})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "the history file is damaged") {
				t.Fatalf("plain open of a damaged file: %v, want ErrCorrupt", err)
			}
			now := time.Date(2026, 11, 30, 7, 45, 0, 0, time.UTC)
			h, err := OpenHistory(dir, Options{NoRetention: true, Resilient: true, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatalf("resilient open: %v", err)
			}
			defer h.Close()
			aside := filepath.Join(dir, "history.db.corrupt-20261130T074500Z")
			if got, err := os.ReadFile(aside); err != nil || !bytes.Equal(got, bad) {
				t.Errorf("the damaged file was not moved aside intact as %s: %v", aside, err)
			}
			if n := h.Notice(); !strings.Contains(n, "history.db was damaged") || !strings.Contains(n, "moved aside as "+aside) {
				t.Errorf("Notice() = %q, want it to say the file was moved aside", n)
			}
			if err := h.Degraded(); err != nil {
				t.Errorf("Degraded() = %v after a successful recovery", err)
			}
			c := callAt(time.Now(), OutcomeOK, "p")
			h.Record(c, nil)
			h.Flush()
			if p, err := h.List(Query{}); err != nil || len(p.Calls) != 1 || p.Calls[0].ID != c.ID {
				t.Errorf("the new history holds %d calls (%v), want the one recorded", len(p.Calls), err)
			}
		})
	}
}

// mountTmpfs mounts a tmpfs of size at a new folder for the test, or skips
// when this process may not mount (not root, or in a container without
// CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the disk is full and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for i := 0; i < 1<<16; i++ {
		if _, err := f.Write(chunk); err != nil {
			return path
		}
	}
	t.Fatal("the disk never filled up")
	return ""
}

// TestFullDiskDegradesAndRecovers: with the data folder's disk full, calls are
// dropped and Degraded says the disk is full; once space returns the next
// commit records again and Degraded clears, with no restart.
func TestFullDiskDegradesAndRecovers(t *testing.T) {
	dir := mountTmpfs(t, "8m")
	h, err := OpenHistory(dir, Options{NoRetention: true, Resilient: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.Record(callAt(time.Now(), OutcomeOK, "p"), bodiesOf("before", "full"))
	h.Flush()
	filler := fillDisk(t, dir)
	for i := 0; i < 20; i++ {
		h.Record(callAt(time.Now(), OutcomeOK, "p"), bodiesOf(strings.Repeat("y", 20000), "resp"))
	}
	h.Flush()
	err = h.Degraded()
	if err == nil || !strings.Contains(err.Error(), "is full: calls are not being recorded until space is freed") {
		t.Fatalf("Degraded() with a full disk = %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	after := callAt(time.Now(), OutcomeOK, "p")
	h.Record(after, bodiesOf("after", "space returned"))
	h.Flush()
	if err := h.Degraded(); err != nil {
		t.Errorf("Degraded() once space returned = %v, want nil", err)
	}
	if _, err := h.Get(after.ID); err != nil {
		t.Errorf("the call made after space returned was not recorded: %v", err)
	}
	if err := h.Check(); err != nil {
		t.Errorf("the file after a full disk: %v", err)
	}
}

// TestUnwritableFolderFallsBack: a data folder that cannot be written gives a
// temporary history (removed at Close) and Degraded says so.
func TestUnwritableFolderFallsBack(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v %s", err, out)
	}
	_, err := OpenHistory(dir, Options{NoRetention: true})
	if err == nil {
		t.Fatal("plain open in a read-only folder succeeded")
	}
	h, err := OpenHistory(dir, Options{NoRetention: true, Resilient: true})
	if err != nil {
		t.Fatalf("resilient open in a read-only folder: %v", err)
	}
	if d := h.Degraded(); d == nil || !strings.Contains(d.Error(), "cannot be written") || !strings.Contains(d.Error(), "temporary file until Gatehouse exits") {
		t.Errorf("Degraded() = %v", d)
	}
	c := callAt(time.Now(), OutcomeOK, "p")
	h.Record(c, nil)
	h.Flush()
	if _, err := h.Get(c.ID); err != nil {
		t.Errorf("the temporary history did not record: %v", err)
	}
	tmp := filepath.Dir(h.Path())
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("the temporary history %s is left behind: %v", tmp, err)
	}
}
