package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestMissingFileGivesDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != DefaultListen || c.Retry.Attempts != 3 || c.Retry.BaseDelay.Duration != 250*time.Millisecond ||
		c.Retry.MaxDelay.Duration != 8*time.Second || c.Retry.FirstByteTimeout.Duration != 60*time.Second ||
		c.Retry.IdleTimeout.Duration != 120*time.Second || c.Path != path {
		t.Errorf("defaults wrong: %+v", c)
	}
	for _, name := range []string{"openai", "anthropic", "gemini", "mistral", "groq", "openrouter", "deepseek", "ollama", "lmstudio"} {
		if _, ok := c.Provider(name); !ok {
			t.Errorf("preset %s missing", name)
		}
	}
	o, _ := c.Provider("ollama")
	if o.BaseURL != "http://127.0.0.1:11434/v1" || !o.NoKey {
		t.Errorf("ollama preset %+v", o)
	}
}

func TestFileOverridesPresetFields(t *testing.T) {
	c, err := Parse([]byte(`
[[provider]]
name = "openai"
base_url = "http://127.0.0.1:9999/v1"

[[provider]]
name = "corp"
format = "anthropic"
base_url = "https://llm.corp.example/v1"
models = ["corp-*"]
`), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	o, _ := c.Provider("openai")
	if o.BaseURL != "http://127.0.0.1:9999/v1" || o.KeyEnv != "OPENAI_API_KEY" || len(o.Models) == 0 || !o.Preset {
		t.Errorf("override lost preset fields: %+v", o)
	}
	corp, ok := c.Provider("corp")
	if !ok || corp.Format != FormatAnthropic || corp.Preset {
		t.Errorf("custom provider %+v", corp)
	}
}

func TestBadFileNamesFileLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"syntax", "listen = \"127.0.0.1:1\"\n[retry\nattempts = 3\n", []string{"c.toml:", "table name"}},
		{"type", "[retry]\nattempts = \"three\"\n", []string{"c.toml:2", "attempts"}},
		{"bad duration", "[retry]\nbase_delay = \"soon\"\n", []string{"c.toml:2", "base_delay", "invalid duration"}},
		{"unknown field", "[retry]\nattempts = 3\nretries = 5\n", []string{"c.toml:3", "retry.retries", "unknown field"}},
		{"bad format", "[[provider]]\nname = \"x\"\nformat = \"soap\"\nbase_url = \"http://127.0.0.1/v1\"\n", []string{"c.toml:3", "provider[0].format", "soap"}},
		{"bad name", "[[provider]]\nname = \"My Provider\"\nformat = \"openai\"\nbase_url = \"http://127.0.0.1/v1\"\n", []string{"c.toml:2", "provider[0].name"}},
		{"bad url", "[[provider]]\nname = \"x\"\nformat = \"openai\"\nbase_url = \"ftp://h/v1\"\n", []string{"c.toml:4", "base_url", "http"}},
		{"second provider", "[[provider]]\nname = \"a\"\nformat = \"openai\"\nbase_url = \"http://h/v1\"\n[[provider]]\nname = \"b\"\nformat = \"openai\"\nbase_url = \"nope\"\n", []string{"c.toml:8", "provider[1].base_url"}},
		{"route target", "[[route]]\nmodel = \"smart\"\ntargets = [\"nobody/m\"]\n", []string{"c.toml:3", "route[0].targets", "nobody"}},
		{"attempts range", "[retry]\nattempts = -1\n", []string{"c.toml:2", "retry.attempts"}},
		// Issue 19.9: a value that is present is checked, not replaced by the default.
		{"attempts zero", "[retry]\nbase_delay = \"1s\"\nattempts = 0\n", []string{"c.toml:3", "retry.attempts"}},
		{"negative timeout", "[retry]\nfirst_byte_timeout = \"-1s\"\n", []string{"c.toml:2", "retry.first_byte_timeout"}},
		{"zero body cap", "[history]\nbody_cap_bytes = 0\n", []string{"c.toml:2", "history.body_cap_bytes"}},
		{"zero cooldown", "[retry]\ncircuit_cooldown = \"0s\"\n", []string{"c.toml:2", "retry.circuit_cooldown", "circuit_failures = 0"}},
		{"price without output", "[[price]]\nmodel = \"a\"\ninput = 1\noutput = 1\n[[price]]\nmodel = \"b\"\ninput = 1\n", []string{"c.toml:5", "price[1].output", "required"}},
		{"negative price", "[[price]]\nmodel = \"a\"\ninput = 1\noutput = -2\n", []string{"c.toml:4", "price[0].output"}},
		{"price twice", "[[price]]\nmodel = \"a\"\ninput = 1\noutput = 1\n[[price]]\nmodel = \"a\"\ninput = 1\noutput = 1\n", []string{"c.toml:6", "price[1].model", "twice"}},
		{"price as text", "[[price]]\nmodel = \"a\"\ninput = \"cheap\"\n", []string{"c.toml:3", "input"}},
		{"tracing protocol", "[tracing]\nenabled = true\nprotocol = \"zipkin\"\n", []string{"c.toml:3", "tracing.protocol", "grpc"}},
		{"tracing endpoint", "[tracing]\nendpoint = \"127.0.0.1:4318\"\n", []string{"c.toml:2", "tracing.endpoint", "http://"}},
		{"glob class", "[[provider]]\nname = \"x\"\nformat = \"openai\"\nbase_url = \"http://h/v1\"\nmodels = [\"gpt-[45]*\"]\n", []string{"c.toml:5", "provider[0].models", "[...]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "c.toml")
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tc.src)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestWatchAppliesGoodEditsAndKeepsLastGood saves the way editors do (a rename):
// os.WriteFile truncates first, and a tick that read the half-written file
// applied "[retry]" alone, which made this test flaky under load.
func TestWatchAppliesGoodEditsAndKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[retry]\nattempts = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	applied := make(chan *Config, 4)
	failed := make(chan error, 4)
	from, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	go Watch(ctx, from, 20*time.Millisecond, func(c *Config) { applied <- c }, func(err error) { failed <- err })
	if err := WriteFileAtomic(path, []byte("[retry]\nattempts = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if !strings.Contains(err.Error(), "config.toml:2") {
			t.Errorf("error %q does not locate the bad line", err)
		}
	case c := <-applied:
		t.Fatalf("bad file applied: %+v", c.Retry)
	case <-time.After(3 * time.Second):
		t.Fatal("bad edit not reported")
	}
	if err := WriteFileAtomic(path, []byte("[retry]\nattempts = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-applied:
		if c.Retry.Attempts != 5 {
			t.Errorf("applied attempts = %d, want 5", c.Retry.Attempts)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("good edit not applied")
	}
}

// TestWatchOnlyStatsAnUnchangedFile: the watcher must not keep config.toml open
// tick after tick (on Windows that blocks saves, issue 18): an unchanged file is
// read at most once, and a change is still picked up.
func TestWatchOnlyStatsAnUnchangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[retry]\nattempts = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	from, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	w := watcher{stat: os.Stat, now: time.Now, read: func(p string) ([]byte, error) {
		reads.Add(1)
		return os.ReadFile(p)
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	applied := make(chan *Config, 4)
	go w.run(ctx, from, 5*time.Millisecond, func(c *Config) { applied <- c }, func(err error) { t.Error(err) })
	time.Sleep(200 * time.Millisecond) // about 40 ticks
	if n := reads.Load(); n > 1 {
		t.Fatalf("the watcher read an unchanged config.toml %d times in 40 ticks; want at most once", n)
	}
	// Same size, an hour-old time a second later than before: still seen.
	if err := os.WriteFile(path, []byte("[retry]\nattempts = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, old.Add(time.Second), old.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-applied:
		if c.Retry.Attempts != 5 {
			t.Errorf("applied attempts = %d, want 5", c.Retry.Attempts)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a changed config.toml was not applied")
	}
}

// TestWatchRereadsARacilyCleanFile: a same-size edit that keeps the file's
// time (a coarse file system clock) is still seen while that time is recent.
func TestWatchRereadsARacilyCleanFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[retry]\nattempts = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	from, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	applied := make(chan *Config, 4)
	w := watcher{stat: os.Stat, read: os.ReadFile, now: time.Now}
	go w.run(ctx, from, 5*time.Millisecond, func(c *Config) { applied <- c }, func(err error) { t.Error(err) })
	time.Sleep(50 * time.Millisecond)
	if err := os.WriteFile(path, []byte("[retry]\nattempts = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-applied:
		if c.Retry.Attempts != 7 {
			t.Errorf("applied attempts = %d, want 7", c.Retry.Attempts)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a same-size edit with an unchanged, recent time was not applied")
	}
}

func TestPresentZeroesMeanOff(t *testing.T) {
	c, err := Parse([]byte("[retry]\nfirst_byte_timeout = \"0s\"\nidle_timeout = \"0s\"\nresponse_timeout = \"0s\"\ncircuit_failures = 0\n"), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Retry
	if r.FirstByteTimeout.Duration != 0 || r.IdleTimeout.Duration != 0 || r.ResponseTimeout.Duration != 0 || r.CircuitFailures != 0 {
		t.Errorf("zeroes replaced by defaults: %+v", r)
	}
	d := Default().Retry
	if d.ResponseTimeout.Duration != 10*time.Minute || d.RetryTimeouts || d.CircuitFailures != 5 {
		t.Errorf("defaults %+v: want response_timeout 10m, retry_timeouts off, circuit_failures 5", d)
	}
}

func TestClientKeysOnlyForFirstPartyPresets(t *testing.T) {
	c, err := Parse([]byte("[[provider]]\nname = \"openai\"\nclient_keys = false\n[[provider]]\nname = \"corp\"\nformat = \"openai\"\nbase_url = \"http://h/v1\"\n"), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"openai": false, "anthropic": true, "gemini": true, "deepseek": false, "openrouter": false, "corp": false} {
		p, _ := c.Provider(name)
		if got := p.AcceptsClientKeys(); got != want {
			t.Errorf("%s accepts client keys = %v, want %v", name, got, want)
		}
	}
}
