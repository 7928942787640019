package main

import (
	"fmt"
	"io"
	"os"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// keyServices is the keychain part of services.
type keyServices struct{}

// openKeys returns the proxy's key source. Placeholder until the keychain lands:
// only key_env variables and client keys are used.
func (s *services) openKeys(cfg *config.Config) (proxy.KeySource, error) {
	return nil, nil
}

// keySecretValues returns the secret values in use (keychain and key_env).
func (s *services) keySecretValues() []string {
	var out []string
	if cfg := s.cfg.Load(); cfg != nil {
		for _, p := range cfg.Providers {
			if v := os.Getenv(p.KeyEnv); p.KeyEnv != "" && v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// keysConfigChanged reacts to a new provider list.
func (s *services) keysConfigChanged(cfg *config.Config) {}

// keysAPI serves /_gatehouse/api/keys/*.
func (s *services) keysAPI(ctx *fasthttp.RequestCtx, path string) {
	adminError(ctx, fasthttp.StatusNotImplemented, "keys are not available yet")
}

// runKeys is `gatehouse keys ...`.
func runKeys(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "gatehouse keys: not available yet")
	return 1
}

// runProviders is `gatehouse providers ...`.
func runProviders(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "gatehouse providers: not available yet")
	return 1
}
