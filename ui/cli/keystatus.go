package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
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
	Source   string `json:"source"` // SourceKeychain, SourceEnv or SourceNone
	Mask     string `json:"mask"`   // e.g. "sk-…abcd"; "" without a key
}

// KeyStatusOf says where p's main key comes from; keys may be nil.
func KeyStatusOf(keys *store.Keys, p *config.Provider) KeyStatus {
	st := KeyStatus{Provider: p.Name, Source: SourceNone}
	if keys != nil {
		if v, ok := keys.Secret(p.Name, ""); ok {
			st.Source, st.Mask = SourceKeychain, proxy.MaskKey(v)
			return st
		}
	}
	if p.KeyEnv != "" {
		if v := os.Getenv(p.KeyEnv); v != "" {
			st.Source, st.Mask = SourceEnv, proxy.MaskKey(v)
		}
	}
	return st
}

// ErrNoKey is CheckKey's answer when p needs a key and has none.
var ErrNoKey = errors.New("no key")

// keyCheckTimeout bounds one key check.
const keyCheckTimeout = 20 * time.Second

// CheckKey makes one cheap authenticated call to p (GET its KeyCheckURL) with
// the key of KeyStatusOf(keys, p) and its scheme's other fields: nil means p
// accepted it. Providers sometimes echo what they were sent, so the error never
// holds a secret: every secret field is masked. version goes in the User-Agent.
func CheckKey(p *config.Provider, keys *store.Keys, version string) error {
	key := ""
	if keys != nil {
		key, _ = keys.Secret(p.Name, "")
	}
	if key == "" && p.KeyEnv != "" {
		key = os.Getenv(p.KeyEnv)
	}
	if key == "" && !p.NoKey && p.DefaultAuth() != "none" {
		return ErrNoKey
	}
	var ks proxy.KeySource // a nil *store.Keys must stay a nil interface
	if keys != nil {
		ks = keys
	}
	fields := proxy.FieldLookup(ks, p)
	secrets := []string{key}
	for _, f := range proxy.SecretFields(p) {
		if v, ok := fields(f); ok {
			secrets = append(secrets, v)
		}
	}
	mask := func(s string) error {
		for _, v := range secrets {
			if v != "" {
				s = strings.ReplaceAll(s, v, proxy.MaskKey(v))
			}
		}
		return errors.New(s)
	}
	status, msg, err := checkKey(p, key, fields, version)
	if err != nil {
		return mask(err.Error())
	}
	if status >= 200 && status < 300 {
		return nil
	}
	return mask(fmt.Sprintf("%d %s: %s", status, statusMeaning(status), msg))
}

// checkKey sends p's key check and returns the status and the provider's error
// message.
func checkKey(p *config.Provider, key string, field func(string) (string, bool), version string) (int, string, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	u := p.KeyCheckURL()
	req.SetRequestURI(u)
	req.Header.SetMethod(fasthttp.MethodGet)
	req.Header.Set("User-Agent", "gatehouse/"+version)
	if p.Format == config.FormatAnthropic {
		req.Header.Set("anthropic-version", "2023-06-01")
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	if err := proxy.NewAuthenticator(nil).Apply(req, p, proxy.Credentials{Key: key, Field: field}, nil); err != nil {
		return 0, "", err
	}
	c := proxy.NewUpstreamClient(p) // the proxy's own network path: HTTPS_PROXY, proxy_url, ca_file
	c.ReadTimeout, c.WriteTimeout = keyCheckTimeout, keyCheckTimeout
	if err := c.DoTimeout(req, resp, keyCheckTimeout); err != nil {
		return 0, "", fmt.Errorf("unreachable (GET %s): %w", u, err)
	}
	body := resp.Body()
	msg := ""
	for _, path := range []string{"error.message", "error", "message", "detail"} {
		if r := gjson.GetBytes(body, path); r.Type == gjson.String && r.Str != "" {
			msg = r.Str
			break
		}
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
	}
	return resp.StatusCode(), msg, nil
}

// statusMeaning says in words what a key check's status means.
func statusMeaning(status int) string {
	switch {
	case status == 401:
		return "invalid key"
	case status == 403:
		return "key not allowed"
	case status == 404:
		return "key check endpoint not found (check base_url and key_check)"
	case status == 429:
		return "rate limited or out of quota"
	case status >= 500:
		return "provider error"
	}
	return "rejected"
}
