package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// TestNoProviderKeyInDataFolder sends calls that carry the provider key in every
// way a call can (the proxy injects it upstream; the upstream quotes it back in
// success and error bodies; a client sends it itself, in its header and in its
// prompt), stops Gatehouse, and greps every byte of the data folder for it.
func TestNoProviderKeyInDataFolder(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t, "")
	writeTestConfig(t, dir, up)
	t.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	st, base := startTestStack(t, dir)

	var ids []string
	for i := range 10 {
		id, status := chat(t, base, "hello "+string(rune('a'+i)), "")
		if status != 200 {
			t.Fatalf("chat: status %d", status)
		}
		ids = append(ids, id)
	}
	for range 3 {
		id, _ := chat(t, base, "please-fail", "")
		ids = append(ids, id)
	}
	id, _ := chat(t, base, "my key is "+testProviderKey+", keep it safe", "Bearer "+testProviderKey)
	ids = append(ids, id)
	st.stop() // flushes the history queue

	if up.calls.Load() < 14 {
		t.Fatalf("upstream saw %d calls, want ≥ 14", up.calls.Load())
	}
	files := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if i := bytes.Index(b, []byte(testProviderKey)); i >= 0 {
			t.Errorf("%s holds the provider key at byte %d", p, i)
		}
		// A prefix long enough to identify the key must not survive either.
		if bytes.Contains(b, []byte(testProviderKey[:16])) {
			t.Errorf("%s holds the first 16 bytes of the provider key", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The calls are recorded, with the key replaced where it was quoted: the
	// grep above looked at a file that did receive the key.
	h, err := store.OpenHistory(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, id := range ids {
		if _, err := h.Get(id); err != nil {
			t.Errorf("call %s not recorded: %v", id, err)
		}
	}
	ok, _ := h.Get(ids[0])
	if ok.Response == nil || !strings.Contains(ok.Response.Body, store.Redacted) {
		t.Errorf("upstream's echo of the key in the response body not redacted: %+v", ok.Response)
	}
	own, _ := h.Get(ids[len(ids)-1])
	if own.Request == nil || !strings.Contains(own.Request.Body, "my key is "+store.Redacted) {
		t.Errorf("client's own key in its prompt not redacted: %+v", own.Request)
	}
	t.Logf("%d files in the data folder checked", files)
}
