package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/ui"
)

// TestAppConfigEditsFileInPlace saves a provider and the settings the way the
// window does, and checks the config file keeps the user's comment, holds the
// new values, and that the running stack applied them at once.
func TestAppConfigEditsFileInPlace(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	const comment = "# my own note: keep me"
	if err := os.WriteFile(path, []byte(comment+"\n[retry]\nattempts = 2 # tried twice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, _ := startTestStack(t, dir)
	c := st.backend().Settings.(ui.ConfigFile)

	p := config.Provider{Name: "my-server", Format: config.FormatOpenAI, BaseURL: "http://127.0.0.1:9/v1", Models: []string{"local-*"}}
	if err := c.Save(p); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, ok := st.cfg.Load().Provider("my-server")
	if !ok || got.BaseURL != p.BaseURL || !got.InFile {
		t.Fatalf("after Save the stack has %+v, %v", got, ok)
	}
	p.BaseURL = "http://127.0.0.1:10/v1"
	p.ProxyURL = "none"
	if err := c.Save(p); err != nil {
		t.Fatalf("Save (edit): %v", err)
	}
	if got, _ := st.cfg.Load().Provider("my-server"); got.Network.Proxy() != "none" {
		t.Errorf("after Save with proxy none the stack has proxy %q", got.Network.Proxy())
	}

	s := *c.Current()
	s.Retry.FirstByteTimeout.Duration = 90 * time.Second
	s.AllowOrigins = []string{"http://localhost:3000"}
	off := false
	s.App.Notifications = &off
	s.App.StartAtLogin = true
	s.ProxyURL = "http://proxy.corp.example:3128"
	if _, err := c.SaveSettings(&s); err != nil {
		t.Fatalf("SaveSettings: %v", err)
	}
	cfg := c.Current()
	if cfg.Retry.FirstByteTimeout.Duration != 90*time.Second || cfg.App.NotificationsEnabled() || cfg.Retry.Attempts != 2 || cfg.ProxyURL != s.ProxyURL {
		t.Errorf("stack config after SaveSettings: first byte %v, notifications %v, attempts %d",
			cfg.Retry.FirstByteTimeout, cfg.App.NotificationsEnabled(), cfg.Retry.Attempts)
	}
	src, _ := os.ReadFile(path)
	for _, want := range []string{comment, "attempts = 2 # tried twice", `first_byte_timeout = "1m30s"`, `base_url = "http://127.0.0.1:10/v1"`, `allow_origins = ["http://localhost:3000"]`,
		`proxy_url = "none"`, `proxy_url = "http://proxy.corp.example:3128"`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("config file lacks %q:\n%s", want, src)
		}
	}
	if strings.Count(string(src), `name = "my-server"`) != 1 {
		t.Errorf("my-server is in the file %d times:\n%s", strings.Count(string(src), `name = "my-server"`), src)
	}
	entry, err := os.ReadFile(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "autostart", "gatehouse.desktop"))
	if err != nil || !strings.Contains(string(entry), " --hidden --data "+dir) {
		t.Errorf("autostart entry %q, %v; want one starting the app hidden in the tray with --data %s", entry, err, dir)
	}

	if err := c.Remove("my-server"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, ok := st.cfg.Load().Provider("my-server"); ok {
		t.Error("my-server still configured after Remove")
	}
	s = *c.Current()
	s.App.StartAtLogin = false
	if _, err := c.SaveSettings(&s); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "autostart", "gatehouse.desktop")); !os.IsNotExist(err) {
		t.Errorf("autostart entry still there: %v", err)
	}
}

// TestSecondLaunchAgainstServe: with `gatehouse serve` running on the data
// folder, launching the app says so clearly instead of failing on the lock.
func TestSecondLaunchAgainstServe(t *testing.T) {
	dir := t.TempDir()
	startTestStack(t, dir)
	var out, errb strings.Builder
	code := run([]string{"--data", dir}, strings.NewReader(""), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "gatehouse serve` is already running with data folder "+dir) {
		t.Errorf("second launch: code %d, stderr %q", code, errb.String())
	}
}

// TestAppKeysShareTheProxyCache sets a key the way the providers screen does
// and checks the proxy's own key source sees it at once, masked in the status.
func TestAppKeysShareTheProxyCache(t *testing.T) {
	keyring.MockInit() // as the keys tests do: never the real keychain here
	st, _ := startTestStack(t, t.TempDir())
	k := st.backend().Keys
	const secret = "sk-app-test-0123456789abcdef"
	if err := k.Set("mistral", secret); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, ok := st.keys.Secret("mistral", ""); !ok || got != secret {
		t.Errorf("the proxy's key source has %q, %v", got, ok)
	}
	if s := k.Status("mistral"); s.Source != ui.KeyKeychain || strings.Contains(s.Mask, secret) || s.Mask == "" {
		t.Errorf("status %+v", s)
	}
	if err := k.Delete("mistral"); err != nil {
		t.Fatal(err)
	}
	if s := k.Status("mistral"); s.Source != ui.KeyNone {
		t.Errorf("status after Delete %+v", s)
	}
	if err := k.Test(t.Context(), "mistral"); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Errorf("Test without a key: %v", err)
	}
	if s := k.Status("ollama"); s.Source != ui.KeyNotNeed {
		t.Errorf("ollama status %+v, want not needed", s)
	}
}
