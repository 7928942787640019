package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// ConfigFile is Providers and Settings on config.toml: it edits the file in
// place (comments and layout kept) and applies the result at once, as the file
// watcher would a second later.
type ConfigFile struct {
	// Path is the config file.
	Path string
	// Config returns the config in force.
	Config func() *config.Config
	// Apply puts a config just written in force.
	Apply func(*config.Config)
	// LoginArgs are the flags the app runs with when it starts at login
	// (--hidden is added).
	LoginArgs []string
}

var (
	_ Providers = ConfigFile{}
	_ Settings  = ConfigFile{}
)

func (c ConfigFile) Current() *config.Config { return c.Config() }

func (c ConfigFile) List() []config.Provider {
	ps := append([]config.Provider(nil), c.Current().Providers...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// Save adds p to the file, or sets the edited fields of its table.
func (c ConfigFile) Save(p config.Provider) error {
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

func (c ConfigFile) Remove(name string) error {
	if err := c.edit(func(src []byte) ([]byte, error) { return config.RemoveProvider(src, name) }); err != nil {
		return fmt.Errorf("remove provider %s: %w", name, err)
	}
	return nil
}

// SaveSettings writes every setting the screen edits.
func (c ConfigFile) SaveSettings(s AppSettings) error {
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
	// At login Gatehouse starts in the tray: the window opens from there.
	if err := SetAutostart(s.StartAtLogin, append([]string{"--hidden"}, c.LoginArgs...)); err != nil {
		return fmt.Errorf("settings saved, but start at login: %w", err)
	}
	return nil
}

// edit changes the config file and applies it.
func (c ConfigFile) edit(fn func([]byte) ([]byte, error)) error {
	if err := config.EditFile(c.Path, fn); err != nil {
		return err
	}
	cfg, err := config.Load(c.Path)
	if err != nil {
		return err
	}
	c.Apply(cfg)
	return nil
}
