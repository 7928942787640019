package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui"
)

// appKeys is the keychain as the providers screen sees it.
type appKeys struct {
	st *stack
	k  *store.Keys
}

var _ ui.Keys = (*appKeys)(nil)

// newAppKeys loads the providers' keys into a cache. TODO(lead): once
// cmd_keys.go keeps the proxy's *store.Keys in services, use that instance here
// so that a key set in the window reaches the proxy at once.
func newAppKeys(st *stack) *appKeys {
	k := &appKeys{st: st, k: store.NewKeys()}
	var accounts []string
	for _, p := range st.svc.cfg.Load().Providers {
		accounts = append(accounts, store.Account(p.Name, ""))
	}
	go func() { _ = k.k.Load(accounts) }() // the keychain may prompt or hang: not on the UI thread
	return k
}

func (k *appKeys) Available() error { return k.k.Unavailable() }

func (k *appKeys) Status(provider string) ui.KeyStatus {
	p, ok := k.st.svc.cfg.Load().Provider(provider)
	if ok && p.NoKey {
		return ui.KeyStatus{Source: ui.KeyNotNeed}
	}
	if v, ok := k.k.Secret(provider, ""); ok {
		return ui.KeyStatus{Source: ui.KeyKeychain, Mask: store.Mask(v)}
	}
	if ok && p.KeyEnv != "" {
		if v := os.Getenv(p.KeyEnv); v != "" {
			return ui.KeyStatus{Source: ui.KeyEnv, Mask: store.Mask(v)}
		}
	}
	return ui.KeyStatus{Source: ui.KeyNone}
}

func (k *appKeys) Set(provider, secret string) error { return k.k.Set(provider, "", secret) }

func (k *appKeys) Delete(provider string) error {
	_, err := k.k.Delete(provider, "")
	return err
}

// Test makes the provider's key check call (a cheap authenticated GET).
func (k *appKeys) Test(ctx context.Context, provider string) error {
	p, ok := k.st.svc.cfg.Load().Provider(provider)
	if !ok {
		return fmt.Errorf("no provider %s", provider)
	}
	key, _ := k.k.Secret(provider, "")
	if key == "" && p.KeyEnv != "" {
		key = os.Getenv(p.KeyEnv)
	}
	if key == "" && !p.NoKey {
		return errors.New("no key: add one with the Key button, or set " + orWord(p.KeyEnv, "its key_env variable"))
	}
	check := p.KeyCheck
	if check == "" {
		check = "/models"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(p.BaseURL, "/")+check, nil)
	if err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	if key != "" {
		switch p.DefaultAuth() {
		case "bearer":
			req.Header.Set("Authorization", "Bearer "+key)
		case "x-api-key":
			req.Header.Set("x-api-key", key)
			req.Header.Set("anthropic-version", "2023-06-01")
		case "x-goog-api-key":
			req.Header.Set("x-goog-api-key", key)
		case "api-key":
			req.Header.Set("api-key", key)
		case "header":
			req.Header.Set(p.AuthOptions.Header, p.AuthOptions.Prefix+key)
		default:
			return fmt.Errorf("%s uses %s auth: check it with `gatehouse keys test %s`", provider, p.DefaultAuth(), provider)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unreachable: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == 401 || resp.StatusCode == 403:
		return fmt.Errorf("%d: the key was rejected", resp.StatusCode)
	}
	return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
}

func orWord(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// appConfig edits config.toml in place (comments and layout kept) and applies
// the result at once, as the file watcher would a second later.
type appConfig struct{ st *stack }

var (
	_ ui.Providers = appConfig{}
	_ ui.Settings  = appConfig{}
)

func (c appConfig) Current() *config.Config { return c.st.svc.cfg.Load() }

func (c appConfig) List() []config.Provider {
	ps := append([]config.Provider(nil), c.Current().Providers...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// Save adds p to the file, or sets the edited fields of its table.
func (c appConfig) Save(p config.Provider) error {
	old, exists := c.Current().Provider(p.Name)
	err := c.edit(func(src []byte) ([]byte, error) {
		if !exists || !old.InFile {
			return config.AddProvider(src, fileProvider(p, old))
		}
		sec := config.Section{Provider: p.Name}
		var err error
		for _, kv := range []struct {
			key string
			v   any
		}{{"format", string(p.Format)}, {"base_url", p.BaseURL}, {"models", p.Models}, {"key_env", p.KeyEnv}, {"no_key", p.NoKey}} {
			if src, err = config.SetValue(src, sec, kv.key, kv.v); err != nil {
				return nil, err
			}
		}
		return src, nil
	})
	if err != nil {
		return fmt.Errorf("save provider %s: %w", p.Name, err)
	}
	return nil
}

// fileProvider is what goes into a new [[provider]] table: for a preset, only
// the fields that differ from it (preset is nil for a new provider).
func fileProvider(p config.Provider, preset *config.Provider) config.Provider {
	if preset == nil {
		return config.Provider{Name: p.Name, Format: p.Format, BaseURL: p.BaseURL, Models: p.Models, KeyEnv: p.KeyEnv, NoKey: p.NoKey}
	}
	out := config.Provider{Name: p.Name}
	if p.Format != preset.Format {
		out.Format = p.Format
	}
	if p.BaseURL != preset.BaseURL {
		out.BaseURL = p.BaseURL
	}
	if strings.Join(p.Models, ",") != strings.Join(preset.Models, ",") {
		out.Models = p.Models
	}
	if p.KeyEnv != preset.KeyEnv {
		out.KeyEnv = p.KeyEnv
	}
	out.NoKey = p.NoKey && !preset.NoKey
	return out
}

func (c appConfig) Remove(name string) error {
	if err := c.edit(func(src []byte) ([]byte, error) { return config.RemoveProvider(src, name) }); err != nil {
		return fmt.Errorf("remove provider %s: %w", name, err)
	}
	return nil
}

// SaveSettings writes every setting the screen edits.
func (c appConfig) SaveSettings(s ui.AppSettings) error {
	type set struct {
		table, key string
		v          any
	}
	origins := s.AllowOrigins
	if origins == nil {
		origins = []string{}
	}
	sets := []set{
		{"", "listen", s.Listen},
		{"", "allow_origins", origins},
		{"retry", "attempts", s.Attempts},
		{"retry", "base_delay", s.BaseDelay},
		{"retry", "max_delay", s.MaxDelay},
		{"retry", "first_byte_timeout", s.FirstByteTimeout},
		{"retry", "idle_timeout", s.IdleTimeout},
		{"history", "max_age", s.MaxAge},
		{"history", "max_size_mb", s.MaxSizeMB},
		{"history", "body_cap_bytes", s.BodyCapBytes},
		{"app", "notifications", s.Notifications},
		{"app", "start_at_login", s.StartAtLogin},
	}
	err := c.edit(func(src []byte) ([]byte, error) {
		var err error
		for _, x := range sets {
			if src, err = config.SetValue(src, config.Section{Table: x.table}, x.key, x.v); err != nil {
				return nil, err
			}
		}
		return src, nil
	})
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := setAutostart(s.StartAtLogin, c.st.flags.args()); err != nil {
		return fmt.Errorf("settings saved, but start at login: %w", err)
	}
	return nil
}

// edit changes the config file and applies it.
func (c appConfig) edit(fn func([]byte) ([]byte, error)) error {
	path := c.st.flags.configPath(c.st.dataDir)
	if err := config.EditFile(path, fn); err != nil {
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	c.st.reload(cfg)
	return nil
}
