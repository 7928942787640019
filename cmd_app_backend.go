package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/proxy"
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

// newAppKeys uses the stack's key cache, the one the proxy reads, so a key set
// in the window is used by the very next call.
func newAppKeys(st *stack) *appKeys {
	k := st.svc.keys
	if k == nil {
		k = store.NewKeys()
	}
	return &appKeys{st: st, k: k}
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

// Test makes the provider's key check call (keys test), any auth scheme.
func (k *appKeys) Test(ctx context.Context, provider string) error {
	p, ok := k.st.svc.cfg.Load().Provider(provider)
	if !ok {
		return fmt.Errorf("no provider %s", provider)
	}
	key, _ := k.k.Secret(provider, "")
	if key == "" && p.KeyEnv != "" {
		key = os.Getenv(p.KeyEnv)
	}
	if key == "" && !p.NoKey && p.DefaultAuth() != "none" {
		return errors.New("no key: add one with the Key button, or set " + orWord(p.KeyEnv, "its key_env variable"))
	}
	status, msg, err := checkKey(p, key, proxy.FieldLookup(k.k, p))
	if err != nil {
		return maskKey(err.Error(), key)
	}
	if status >= 200 && status < 300 {
		return nil
	}
	return maskKey(fmt.Sprintf("%d %s: %s", status, statusMeaning(status), msg), key)
}

// maskKey returns msg as an error with key's literal value masked.
func maskKey(msg, key string) error {
	if key != "" {
		msg = strings.ReplaceAll(msg, key, store.Mask(key))
	}
	return errors.New(msg)
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
		}{{"format", string(p.Format)}, {"base_url", p.BaseURL}, {"models", p.Models}, {"key_env", p.KeyEnv}, {"no_key", p.NoKey},
			{"proxy_url", orNil(p.ProxyURL)}, {"ca_file", orNil(p.CAFile)}, {"insecure_skip_verify", orNil(p.InsecureSkipVerify)}} {
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
		return config.Provider{Name: p.Name, Format: p.Format, BaseURL: p.BaseURL, Models: p.Models, KeyEnv: p.KeyEnv, NoKey: p.NoKey,
			ProxyURL: p.ProxyURL, CAFile: p.CAFile, InsecureSkipVerify: p.InsecureSkipVerify}
	}
	out := config.Provider{Name: p.Name, ProxyURL: p.ProxyURL, CAFile: p.CAFile, InsecureSkipVerify: p.InsecureSkipVerify}
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
		{"", "proxy_url", orNil(s.ProxyURL)},
		{"", "ca_file", orNil(s.CAFile)},
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
	// At login Gatehouse starts in the tray: the window opens from there.
	if err := setAutostart(s.StartAtLogin, append([]string{"--hidden"}, c.st.flags.args()...)); err != nil {
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

// orNil is v, or nil (remove the key) for its zero value.
func orNil[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}
