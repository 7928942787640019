package cli

import (
	"os"
	"slices"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/doctor"
	"github.com/gatehouse/gatehouse/store"
)

// KeyAccounts lists the keychain accounts of cfg's providers: each main key and
// the extra fields of its auth scheme.
func KeyAccounts(cfg *config.Config) []string {
	var out []string
	for i := range cfg.Providers {
		out = append(out, providerAccounts(&cfg.Providers[i], "")...)
	}
	return out
}

// providerAccounts are p's keychain accounts, plus extra field when set.
func providerAccounts(p *config.Provider, extra string) []string {
	if p.NoKey && extra == "" {
		return nil
	}
	out := []string{store.Account(p.Name, "")}
	for _, f := range proxy.SecretFields(p) {
		out = append(out, store.Account(p.Name, f))
	}
	if extra != "" && !slices.Contains(out, store.Account(p.Name, extra)) {
		out = append(out, store.Account(p.Name, extra))
	}
	return out
}

// SecretValues returns the secret values in use: the keychain's (keys may be
// nil) and those of cfg's key_env variables. History redacts their literal
// values wherever they appear.
func SecretValues(keys *store.Keys, cfg *config.Config) []string {
	var out []string
	if keys != nil {
		out = keys.Values()
	}
	if cfg == nil {
		return out
	}
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		for _, f := range append([]string{""}, proxy.SecretFields(p)...) {
			if env := proxy.FieldEnv(p, f); env != "" {
				if v := os.Getenv(env); v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// EnvKeyNames lists the providers whose key_env variable is set.
func EnvKeyNames(cfg *config.Config) []string {
	var out []string
	for _, p := range cfg.Providers {
		if p.KeyEnv != "" && os.Getenv(p.KeyEnv) != "" {
			out = append(out, p.Name+"="+p.KeyEnv)
		}
	}
	return out
}

// The sources of a provider's main key, in the order the proxy consults them.
const (
	SourceKeychain = "keychain"
	SourceEnv      = "env"
	SourceNone     = "none"
)

// KeyStatus says where a provider's main key comes from: one line of `keys
// list`, and what the providers screen shows. It never holds the key.
type KeyStatus struct {
	Provider string `json:"provider"`
	Source   string `json:"source"` // SourceKeychain, SourceEnv or SourceNone (doctor.Key's sources)
	Mask     string `json:"mask"`   // e.g. "sk-…abcd"; "" without a key
}

// KeyStatusOf says where p's main key comes from; keys may be nil.
func KeyStatusOf(keys *store.Keys, p *config.Provider) KeyStatus {
	v, src := doctor.Key(p, keySource(keys))
	return KeyStatus{Provider: p.Name, Source: src, Mask: proxy.MaskKey(v)}
}

// ErrNoKey is CheckKey's answer when p needs a key and has none.
var ErrNoKey = doctor.ErrNoKey

// CheckKey makes one cheap authenticated call to p (GET its KeyCheckURL) with
// the key of KeyStatusOf(keys, p) and its scheme's other fields: nil means p
// accepted it. The error never holds a secret: every secret field is masked.
// version goes in the User-Agent.
func CheckKey(p *config.Provider, keys *store.Keys, version string) error {
	return doctor.CheckKey(p, keySource(keys), version)
}

// keySource is keys as a proxy.KeySource: a nil *store.Keys must stay a nil
// interface.
func keySource(keys *store.Keys) proxy.KeySource {
	if keys == nil {
		return nil
	}
	return keys
}
