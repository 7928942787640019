package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ui/cli"
	"github.com/valyala/fasthttp"
	"github.com/zalando/go-keyring"
)

// gatehouse runs a command line in this process.
func gatehouse(t testing.TB, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// dataWithProvider returns a data folder whose config has provider "local"
// pointing at base.
func dataWithProvider(t *testing.T, base string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := "# test config\n[[provider]]\nname = \"local\"\nformat = \"openai\"\nbase_url = \"" + base + "/v1\"\nkey_env = \"LOCAL_TEST_KEY\"\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// assertNotInDir fails if secret's bytes appear in any file under dir.
func assertNotInDir(t *testing.T, dir, secret string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the secret is in %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func keyRows(t *testing.T, out string) map[string]cli.KeyStatus {
	t.Helper()
	rows := map[string]cli.KeyStatus{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r cli.KeyStatus
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("keys list --json line %q: %v", line, err)
		}
		rows[r.Provider] = r
	}
	return rows
}

// chatThrough sends one chat completion through the proxy and returns its status.
func chatThrough(t *testing.T, st *stack, model string) int {
	t.Helper()
	return chatAt(t, st.server.Addr(), model)
}

// chatBody sends one chat completion to the proxy at addr and returns the
// status and body.
func chatBody(t *testing.T, addr, model string) (int, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + "/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.SetBodyString(`{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`)
	if err := (&fasthttp.Client{}).DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode(), string(resp.Body())
}

// chatAt is chatBody's status.
func chatAt(t *testing.T, addr, model string) int {
	t.Helper()
	status, _ := chatBody(t, addr, model)
	return status
}

func TestKeysSetReachesRunningInstance(t *testing.T) {
	keyring.MockInit()
	const first, second = "sk-first-key-000000000001", "sk-second-key-00000000002"
	up := startUpstream(t, first)
	dir := dataWithProvider(t, up.URL)
	st, _ := startTestStack(t, dir)

	if code, _, errOut := gatehouse(t, first+"\n", "keys", "set", "local", "--data", dir); code != 0 {
		t.Fatalf("keys set: %s", errOut)
	}
	if status := chatThrough(t, st, "local/m1"); status != 200 || up.lastKey() != first {
		t.Fatalf("call after keys set: status %d, upstream saw %q; want 200 with the new key", status, up.lastKey())
	}
	// Rotating the key: the instance must not keep serving the old one.
	up.setWant(second)
	code, out, errOut := gatehouse(t, second+"\n", "keys", "set", "local", "--data", dir)
	if code != 0 || !strings.Contains(out, "running Gatehouse uses the change now") {
		t.Fatalf("keys set (rotate): exit %d, %q %q", code, out, errOut)
	}
	if status := chatThrough(t, st, "local/m1"); status != 200 || up.lastKey() != second {
		t.Fatalf("call after rotation: status %d, upstream saw %q; want the rotated key", status, up.lastKey())
	}
	// Deleted: the proxy falls back to key_env.
	t.Setenv("LOCAL_TEST_KEY", "env-fallback-key-0000009")
	if code, _, errOut := gatehouse(t, "", "keys", "delete", "local", "--data", dir); code != 0 {
		t.Fatalf("keys delete: %s", errOut)
	}
	chatThrough(t, st, "local/m1")
	if up.lastKey() != "env-fallback-key-0000009" {
		t.Fatalf("after keys delete the upstream saw %q, want the key_env key", up.lastKey())
	}
	// The admin listing agrees.
	c, ok := cli.FindRunning(dir)
	if !ok {
		t.Fatal("instance not found")
	}
	status, body, err := c.Do("GET", "keys", nil)
	if err != nil || status != 200 || !strings.Contains(string(body), `{"provider":"local","source":"env","mask":"env-…0009"}`) {
		t.Fatalf("GET keys = %d %s %v", status, body, err)
	}
	if vals := cli.SecretValues(st.keys, st.cfg.Load()); !contains(vals, "env-fallback-key-0000009") {
		t.Fatalf("keySecretValues lacks the env key: %d values", len(vals))
	}
	assertNotInDir(t, dir, first)
	assertNotInDir(t, dir, second)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestRunningInstanceRecoversKeychain(t *testing.T) {
	keyring.MockInitWithError(errors.New(`failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'`))
	dir := dataWithProvider(t, "http://127.0.0.1:1")
	st, _ := startTestStack(t, dir) // starts on env keys: the keychain is locked
	if err := st.keys.Unavailable(); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("Unavailable() = %v, want the locked-keychain explanation", err)
	}
	// The user unlocks the keychain, which already holds an openai key, and sets
	// another key: the instance must pick up both.
	keyring.MockInit()
	if err := keyring.Set("gatehouse", "openai", "sk-was-there-before-0000001"); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := gatehouse(t, "sk-local-key-000000000002\n", "keys", "set", "local", "--data", dir); code != 0 {
		t.Fatalf("keys set: %s", errOut)
	}
	for _, want := range [][2]string{{"local", "sk-local-key-000000000002"}, {"openai", "sk-was-there-before-0000001"}} {
		if v, _ := st.keys.Secret(want[0], ""); v != want[1] {
			t.Errorf("instance key of %s = %q, want %q", want[0], v, want[1])
		}
	}
}
