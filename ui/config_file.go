package ui

import (
	"fmt"
	"reflect"
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
		}{{"format", string(p.Format)}, {"base_url", p.BaseURL}, {"models", p.Models}, {"key_env", p.KeyEnv}, {"no_key", p.NoKey},
			{"proxy_url", orNil(p.ProxyURL)}, {"ca_file", orNil(p.CAFile)}, {"insecure_skip_verify", orNil(p.InsecureSkipVerify)},
			{"auth", orNil(p.Auth)}, {"key_check", orNil(p.KeyCheck)}} {
			if src, err = config.SetValue(src, sec, kv.key, kv.v); err != nil {
				return nil, err
			}
		}
		opts := config.Section{Provider: p.Name, Table: "auth_options"}
		for _, kv := range []struct{ key, v string }{{"header", p.AuthOptions.Header}, {"user", p.AuthOptions.User}} {
			if src, err = config.SetValue(src, opts, kv.key, orNil(kv.v)); err != nil {
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
			ProxyURL: p.ProxyURL, CAFile: p.CAFile, InsecureSkipVerify: p.InsecureSkipVerify,
			Auth: p.Auth, AuthOptions: p.AuthOptions, KeyCheck: p.KeyCheck}
	}
	out := config.Provider{Name: p.Name, ProxyURL: p.ProxyURL, CAFile: p.CAFile, InsecureSkipVerify: p.InsecureSkipVerify}
	if p.Auth != preset.Auth {
		out.Auth, out.AuthOptions = p.Auth, p.AuthOptions
	}
	if p.KeyCheck != preset.KeyCheck {
		out.KeyCheck = p.KeyCheck
	}
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

// SaveSettings writes the settings of updated that differ from the config in
// force (config.AppFields and the routes), and only those.
func (c ConfigFile) SaveSettings(updated *config.Config) ([]config.Field, error) {
	var changed []config.Field
	err := c.edit(func(src []byte) ([]byte, error) {
		var err error
		src, changed, err = EditSettings(src, c.Current(), updated)
		return src, err
	})
	if err != nil {
		return nil, fmt.Errorf("save settings: %w", err)
	}
	// At login Gatehouse starts in the tray: the window opens from there.
	if err := SetAutostart(updated.App.StartAtLogin, append([]string{"--hidden"}, c.LoginArgs...)); err != nil {
		return changed, fmt.Errorf("settings saved, but start at login: %w", err)
	}
	return changed, nil
}

// EditSettings writes into a config file's text what the Settings screen
// changed: the app fields whose values differ between old and updated, and the
// routes when they differ. changed lists what was written.
func EditSettings(src []byte, old, updated *config.Config) (out []byte, changed []config.Field, err error) {
	if out, changed, err = config.SetChanged(src, old, updated, config.AppFields); err != nil {
		return nil, nil, err
	}
	if !reflect.DeepEqual(old.Routes, updated.Routes) {
		if out, err = config.SetRoutes(out, updated.Routes); err != nil {
			return nil, nil, err
		}
		changed = append(changed, config.Field{Key: "route"})
	}
	return out, changed, nil
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

// orNil is v, or nil (remove the key) for its zero value.
func orNil[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}
