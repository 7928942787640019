package cli

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/zalando/go-keyring"
)

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
	for name, want := range map[string]KeyStatus{
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

func TestKeysTestAnthropicFormat(t *testing.T) {
	keyring.MockInit()
	const key = "sk-ant-api03-keytest-00000000ef"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Anthropic's /v1/models wants x-api-key and anthropic-version, never Bearer.
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		h := &ctx.Request.Header
		if string(ctx.Path()) != "/v1/models" || string(h.Peek("x-api-key")) != key ||
			len(h.Peek("anthropic-version")) == 0 || len(h.Peek("Authorization")) > 0 {
			ctx.SetStatusCode(401)
			ctx.SetBodyString(`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key ` + string(h.Peek("x-api-key")) + `"}}`)
			return
		}
		ctx.SetBodyString(`{"data":[],"has_more":false}`)
	}}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	dir := t.TempDir()
	cfg := "[[provider]]\nname = \"ant\"\nformat = \"anthropic\"\nbase_url = \"http://" + ln.Addr().String() + "/v1\"\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gatehouse(t, key+"\n", "keys", "set", "ant", "--data", dir)
	if code, out, errOut := gatehouse(t, "", "keys", "test", "ant", "--data", dir); code != 0 {
		t.Fatalf("keys test (anthropic): exit %d %q %q", code, out, errOut)
	}
	const wrong = "sk-ant-api03-wrong-000000000012"
	gatehouse(t, wrong+"\n", "keys", "set", "ant", "--data", dir)
	code, out, errOut := gatehouse(t, "", "keys", "test", "ant", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "401 invalid key: invalid x-api-key sk-…0012") || strings.Contains(out+errOut, wrong) {
		t.Fatalf("keys test (wrong anthropic key): exit %d %q %q; want the provider's message with the key masked", code, out, errOut)
	}
}
