package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/zalando/go-keyring"
)

// The test binary doubles as the gatehouse binary: with GATEHOUSE_TEST_MAIN=1 it
// runs the command line in its arguments, so tests can run commands in a process
// of their own (a real keychain, another D-Bus, no D-Bus at all).
func init() {
	if os.Getenv("GATEHOUSE_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
}

// gatehouse runs a command line in this process.
func gatehouse(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// upstream is a real fasthttp server on 127.0.0.1 standing in for a provider. It
// accepts only "Authorization: Bearer <want>" and records the keys it saw.
type upstream struct {
	URL  string
	mu   sync.Mutex
	want string
	seen []string
}

func newUpstream(t *testing.T, want string) *upstream {
	t.Helper()
	u := &upstream{want: want}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		got := string(ctx.Request.Header.Peek("Authorization"))
		u.mu.Lock()
		u.seen = append(u.seen, got)
		ok := got == "Bearer "+u.want
		u.mu.Unlock()
		ctx.SetContentType("application/json")
		if !ok {
			ctx.SetStatusCode(401)
			ctx.SetBodyString(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		if string(ctx.Path()) == "/v1/models" {
			ctx.SetBodyString(`{"object":"list","data":[{"id":"m1","object":"model"}]}`)
			return
		}
		ctx.SetBodyString(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m1","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	u.URL = "http://" + ln.Addr().String()
	return u
}

func (u *upstream) lastKey() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		return ""
	}
	return strings.TrimPrefix(u.seen[len(u.seen)-1], "Bearer ")
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

func keyRows(t *testing.T, out string) map[string]keyStatus {
	t.Helper()
	rows := map[string]keyStatus{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r keyStatus
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("keys list --json line %q: %v", line, err)
		}
		rows[r.Provider] = r
	}
	return rows
}

func TestKeysSetListDelete(t *testing.T) {
	keyring.MockInit()
	dir := dataWithProvider(t, "http://127.0.0.1:1")
	const secret = "sk-proj-setlist-0123456789wxyz"
	t.Setenv("GROQ_API_KEY", "gsk_from_env_000000001234")
	t.Setenv("OPENAI_API_KEY", "")

	code, out, errOut := gatehouse(t, secret+"\n", "keys", "set", "openai", "--data", dir)
	if code != 0 {
		t.Fatalf("keys set: exit %d, %s", code, errOut)
	}
	if strings.Contains(out+errOut, secret) || !strings.Contains(out, "sk-…wxyz") {
		t.Fatalf("keys set output %q: want the mask, never the key", out)
	}
	if v, err := keyring.Get("gatehouse", "openai"); err != nil || v != secret {
		t.Fatalf("keychain gatehouse/openai = %q, %v", v, err)
	}

	code, out, _ = gatehouse(t, "", "keys", "list", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("keys list: exit %d", code)
	}
	rows := keyRows(t, out)
	for name, want := range map[string]keyStatus{
		"openai":    {"openai", "keychain", "sk-…wxyz"},
		"groq":      {"groq", "env", "…1234"},
		"anthropic": {"anthropic", "none", ""},
		"local":     {"local", "none", ""},
	} {
		if rows[name] != want {
			t.Errorf("keys list %s = %+v, want %+v", name, rows[name], want)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, "gsk_from_env") {
		t.Fatal("keys list shows a key")
	}
	code, out, _ = gatehouse(t, "", "keys", "list", "--data", dir)
	if code != 0 || !strings.Contains(out, "openai") || !strings.Contains(out, "(GROQ_API_KEY)") || !strings.Contains(out, "(no key needed)") {
		t.Fatalf("keys list (text): exit %d\n%s", code, out)
	}

	// A field of a multi-part credential.
	if code, _, errOut := gatehouse(t, "aksk-secret-part\n", "keys", "set", "local", "--field", "secret", "--data", dir); code != 0 {
		t.Fatalf("keys set --field: %s", errOut)
	}
	if v, _ := keyring.Get("gatehouse", "local:secret"); v != "aksk-secret-part" {
		t.Fatalf("keychain gatehouse/local:secret = %q", v)
	}

	code, out, errOut = gatehouse(t, "", "keys", "delete", "openai", "--data", dir)
	if code != 0 || !strings.Contains(out, "deleted openai") {
		t.Fatalf("keys delete: exit %d %q %q", code, out, errOut)
	}
	if _, err := keyring.Get("gatehouse", "openai"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("key still in the keychain: %v", err)
	}
	if code, out, _ := gatehouse(t, "", "keys", "delete", "openai", "--data", dir); code != 0 || !strings.Contains(out, "no key") {
		t.Fatalf("deleting again: exit %d %q", code, out)
	}
	assertNotInDir(t, dir, secret)
	assertNotInDir(t, dir, "aksk-secret-part")
}

func TestKeysSetRefusals(t *testing.T) {
	keyring.MockInit()
	dir := dataWithProvider(t, "http://127.0.0.1:1")
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"unknown provider", "sk-x\n", []string{"keys", "set", "nope"}, `no provider "nope"`},
		{"empty stdin", "\n", []string{"keys", "set", "openai"}, "no secret on stdin"},
		{"local server", "k\n", []string{"keys", "set", "ollama"}, "needs no key"},
		{"bad field", "k\n", []string{"keys", "set", "openai", "--field", "A B"}, "must match"},
		{"too big", strings.Repeat("k", 3000) + "\n", []string{"keys", "set", "openai"}, "too large"},
		{"no name", "", []string{"keys", "set"}, "Usage"},
		{"unknown subcommand", "", []string{"keys", "frob"}, "unknown subcommand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := gatehouse(t, tt.stdin, append(tt.args, "--data", dir)...)
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want non-zero and %q", code, errOut, tt.want)
			}
			if _, err := keyring.Get("gatehouse", "openai"); !errors.Is(err, keyring.ErrNotFound) {
				t.Fatal("a refused keys set stored something")
			}
		})
	}
}

func TestKeysWithoutKeychain(t *testing.T) {
	keyring.MockInitWithError(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
	t.Cleanup(keyring.MockInit)
	dir := dataWithProvider(t, "http://127.0.0.1:1")
	t.Setenv("LOCAL_TEST_KEY", "env-key-for-local-5678")
	const secret = "sk-never-stored-anywhere-0000"
	code, out, errOut := gatehouse(t, secret+"\n", "keys", "set", "openai", "--data", dir)
	if code != 1 {
		t.Fatalf("keys set without keychain: exit %d, want 1", code)
	}
	for _, want := range []string{"no Secret Service found on D-Bus", "install and unlock gnome-keyring or KWallet", "key_env"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
	if strings.Contains(out+errOut, secret) {
		t.Fatal("the secret was printed")
	}
	assertNotInDir(t, dir, secret)

	// Listings still work from env keys and say why the keychain is missing.
	code, out, errOut = gatehouse(t, "", "keys", "list", "--json", "--data", dir)
	if code != 0 || !strings.Contains(errOut, "no Secret Service") {
		t.Fatalf("keys list without keychain: exit %d, stderr %q", code, errOut)
	}
	if r := keyRows(t, out)["local"]; r.Source != "env" || r.Mask != "env-…5678" {
		t.Fatalf("local = %+v, want env env-…5678", r)
	}
}

// startInstance runs `gatehouse serve` in this process on 127.0.0.1:0 with dir as
// its data folder, as a running instance the commands can find.
func startInstance(t *testing.T, dir string) *stack {
	t.Helper()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("instance log:\n%s", logs.String())
		}
	})
	st, err := startStack(commonFlags{data: dir, listen: "127.0.0.1:0"}, false, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.stop)
	return st
}

// chat sends one chat completion through the proxy and returns its status.
func chatThrough(t *testing.T, st *stack, model string) int {
	t.Helper()
	return chatAt(t, st.server.Addr(), model)
}

// chatAt sends one chat completion to the proxy at addr and returns its status.
func chatAt(t *testing.T, addr, model string) int {
	t.Helper()
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + "/v1/chat/completions")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.SetBodyString(`{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`)
	if err := (&fasthttp.Client{}).DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode()
}

func TestKeysSetReachesRunningInstance(t *testing.T) {
	keyring.MockInit()
	const first, second = "sk-first-key-000000000001", "sk-second-key-00000000002"
	up := newUpstream(t, first)
	dir := dataWithProvider(t, up.URL)
	st := startInstance(t, dir)

	if code, _, errOut := gatehouse(t, first+"\n", "keys", "set", "local", "--data", dir); code != 0 {
		t.Fatalf("keys set: %s", errOut)
	}
	if status := chatThrough(t, st, "local/m1"); status != 200 || up.lastKey() != first {
		t.Fatalf("call after keys set: status %d, upstream saw %q; want 200 with the new key", status, up.lastKey())
	}
	// Rotating the key: the instance must not keep serving the old one.
	up.mu.Lock()
	up.want = second
	up.mu.Unlock()
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
	c, ok := findRunning(dir)
	if !ok {
		t.Fatal("instance not found")
	}
	status, body, err := c.do("GET", "keys", nil)
	if err != nil || status != 200 || !strings.Contains(string(body), `{"provider":"local","source":"env","mask":"env-…0009"}`) {
		t.Fatalf("GET keys = %d %s %v", status, body, err)
	}
	if vals := st.svc.keySecretValues(); !contains(vals, "env-fallback-key-0000009") {
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

func TestKeysTest(t *testing.T) {
	keyring.MockInit()
	const key = "sk-testing-key-0000000000ab"
	up := newUpstream(t, key)
	dir := dataWithProvider(t, up.URL)
	t.Setenv("LOCAL_TEST_KEY", "")

	code, _, errOut := gatehouse(t, "", "keys", "test", "local", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "no key") || !strings.Contains(errOut, "LOCAL_TEST_KEY") {
		t.Fatalf("keys test without a key: exit %d %q", code, errOut)
	}
	gatehouse(t, key+"\n", "keys", "set", "local", "--data", dir)
	code, out, errOut := gatehouse(t, "", "keys", "test", "local", "--data", dir)
	if code != 0 || !strings.HasPrefix(out, "ok: local accepted the key from keychain sk-…00ab") {
		t.Fatalf("keys test (good key): exit %d, %q %q", code, out, errOut)
	}
	if up.lastKey() != key {
		t.Fatalf("upstream saw %q", up.lastKey())
	}
	const wrong = "sk-wrong-key-000000000000cd"
	gatehouse(t, wrong+"\n", "keys", "set", "local", "--data", dir)
	code, out, errOut = gatehouse(t, "", "keys", "test", "local", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "401 invalid key: Incorrect API key provided") || strings.Contains(out+errOut, wrong) {
		t.Fatalf("keys test (wrong key): exit %d, %q %q", code, out, errOut)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	deadDir := dataWithProvider(t, dead)
	gatehouse(t, key+"\n", "keys", "set", "local", "--data", deadDir)
	code, _, errOut = gatehouse(t, "", "keys", "test", "local", "--data", deadDir)
	if code != 1 || !strings.Contains(errOut, "unreachable") {
		t.Fatalf("keys test (dead upstream): exit %d, %q", code, errOut)
	}
}
