package doctor

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
)

// defaultStepTimeout bounds each network step.
const defaultStepTimeout = 10 * time.Second

// Doctor runs the checks. The zero value works: no keychain, key_env keys only.
type Doctor struct {
	// Keys gives the keychain's secrets: the running proxy's cache when there is
	// one, so that the keys its calls use are the ones checked. Nil: key_env only.
	Keys proxy.KeySource
	// KeysErr is why the keychain is unavailable, if it is; the configuration
	// check names it when a provider has no key.
	KeysErr error
	// Version goes in the User-Agent of the authenticated calls.
	Version string
	// StepTimeout bounds each network step. Default 10 s.
	StepTimeout time.Duration
	// Now is the clock for certificate expiry. Nil: time.Now.
	Now func() time.Time
}

// For runs the checks for what the user named: "" (every provider with a key,
// or that needs none), a provider name, "provider/model", or a model as a call
// would ask for it (every target of its route is checked).
func (d *Doctor) For(ctx context.Context, cfg *config.Config, what string) ([]Report, error) {
	if what == "" {
		var out []Report
		for i := range cfg.Providers {
			p := &cfg.Providers[i]
			if _, src := Key(p, d.Keys); src == "none" && !p.NoKey && p.Preset {
				continue // a preset the user has not set up
			}
			out = append(out, d.Run(ctx, cfg, p, "", ""))
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no provider has a key yet: add one with `gatehouse keys set NAME`, or name the provider to check")
		}
		return out, nil
	}
	if p, ok := cfg.Provider(what); ok {
		return []Report{d.Run(ctx, cfg, p, "", "")}, nil
	}
	targets, err := proxy.Targets(cfg, what)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a provider nor a routed model: %w", what, err)
	}
	out := make([]Report, 0, len(targets))
	for i, t := range targets {
		route := routeWords(cfg, what, t, i, len(targets))
		out = append(out, d.Run(ctx, cfg, t.Provider, t.Model, route))
	}
	return out, nil
}

// routeWords says how a requested model reached target i of n.
func routeWords(cfg *config.Config, asked string, t proxy.Target, i, n int) string {
	switch {
	case strings.HasPrefix(asked, t.Provider.Name+"/"):
		return fmt.Sprintf("%s names the provider", asked)
	case n > 1:
		return fmt.Sprintf("%s is a [[route]]: target %d of %d", asked, i+1, n)
	}
	if _, ok := cfg.Route(asked); ok {
		return fmt.Sprintf("%s is a [[route]] to %s/%s", asked, t.Provider.Name, t.Model)
	}
	return fmt.Sprintf("%s matches the model globs of %s (%s)", asked, t.Provider.Name, strings.Join(t.Provider.Models, ", "))
}

// Run checks provider p, and model (the upstream name; "" for none) in its
// model list. route says how the model was routed to p ("" when p was named).
func (d *Doctor) Run(ctx context.Context, cfg *config.Config, p *config.Provider, model, route string) Report {
	r := &run{d: d, ctx: ctx, cfg: cfg, p: p, model: model, rep: Report{Provider: p.Name, Model: model}}
	r.all(route)
	r.rep.finish()
	return r.rep
}

func (d *Doctor) stepTimeout() time.Duration {
	if d.StepTimeout > 0 {
		return d.StepTimeout
	}
	return defaultStepTimeout
}

func (d *Doctor) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// configCheck: the provider's settings and where its key comes from.
func (r *run) configCheck(route string) (proxy.Path, bool) {
	p := r.p
	parts := []string{fmt.Sprintf("%s format, base URL %s", p.Format, p.BaseURL)}
	if route != "" {
		parts = append(parts, "route: "+route)
	}
	path, err := proxy.PathOf(p, p.KeyCheckURL())
	if err != nil {
		r.add(Check{Name: CheckConfig, Status: Fail, Detail: strings.Join(parts, "; ") + "; " + err.Error(),
			Fix: "correct base_url, ca_file or proxy_url of [[provider]] " + p.Name + " in config.toml (or in Providers → Edit)"})
		return path, false
	}
	key, src := Key(p, r.d.Keys)
	switch {
	case p.NoKey || p.DefaultAuth() == "none":
		parts = append(parts, "no key needed")
	case src == "none":
		detail := "no key"
		if r.d.KeysErr != nil {
			detail += " (the keychain is unavailable: " + r.d.KeysErr.Error() + ")"
		}
		r.add(Check{Name: CheckConfig, Status: Fail, Detail: strings.Join(parts, "; ") + "; " + detail, Fix: noKeyFix(p)})
		return path, true
	case src == "env":
		parts = append(parts, fmt.Sprintf("key from %s (%s)", p.KeyEnv, proxy.MaskKey(key)))
	default:
		parts = append(parts, fmt.Sprintf("key from the keychain (%s)", proxy.MaskKey(key)))
	}
	r.add(Check{Name: CheckConfig, Status: OK, Detail: strings.Join(parts, "; ")})
	return path, true
}

func noKeyFix(p *config.Provider) string {
	fix := "run `gatehouse keys set " + p.Name + "` (or use Providers → Key)"
	if p.KeyEnv != "" {
		fix += ", or set " + p.KeyEnv
	}
	return fix
}

// proxyCheck: the proxy variables in effect and the way this provider goes.
func (r *run) proxyCheck(path proxy.Path) {
	var vars []string
	for _, name := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"} {
		if v := os.Getenv(name); v != "" {
			vars = append(vars, name+"="+config.RedactProxyURL(v))
		}
	}
	env := "no proxy variables set"
	if len(vars) > 0 {
		env = strings.Join(vars, ", ")
	}
	r.add(Check{Name: CheckProxy, Status: OK, Detail: path.Words + "; " + env})
}
