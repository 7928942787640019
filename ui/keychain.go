package ui

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// Keychain is Keys on the OS keychain, with the same status and key check the
// `keys` commands use.
type Keychain struct {
	// Keys is the proxy's key cache, so a key set in the window is used by the
	// very next call.
	Keys *store.Keys
	// Config returns the config in force.
	Config func() *config.Config
	// Version goes in the key check's User-Agent.
	Version string
}

var _ Keys = Keychain{}

func (k Keychain) Available() error { return k.Keys.Unavailable() }

func (k Keychain) Status(provider string) KeyStatus {
	p, ok := k.Config().Provider(provider)
	if ok && p.NoKey {
		return KeyStatus{Source: KeyNotNeed}
	}
	if !ok {
		p = &config.Provider{Name: provider}
	}
	st := cli.KeyStatusOf(k.Keys, p)
	return KeyStatus{Source: KeySource(st.Source), Mask: st.Mask}
}

func (k Keychain) Set(provider, secret string) error { return k.Keys.Set(provider, "", secret) }

func (k Keychain) Delete(provider string) error {
	_, err := k.Keys.Delete(provider, "")
	return err
}

// Test makes the provider's key check call (keys test), any auth scheme.
func (k Keychain) Test(_ context.Context, provider string) error {
	p, ok := k.Config().Provider(provider)
	if !ok {
		return fmt.Errorf("no provider %s", provider)
	}
	err := cli.CheckKey(p, k.Keys, k.Version)
	if errors.Is(err, cli.ErrNoKey) {
		env := p.KeyEnv
		if env == "" {
			env = "its key_env variable"
		}
		return errors.New("no key: add one with the Key button, or set " + env)
	}
	return err
}
