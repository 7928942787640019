package doctor

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// ErrNoKey is CheckKey's answer when p needs a key and has none.
var ErrNoKey = errors.New("no key")

// keyCheckTimeout bounds one authenticated call.
const keyCheckTimeout = 20 * time.Second

// Answer is what a provider answered an authenticated GET with.
type Answer struct {
	Status  int
	Message string            // the provider's error message, secrets masked
	Header  map[string]string // response headers, lower-case names
	Body    []byte
}

// Key returns p's main key and where it comes from: the keychain (keys may be
// nil), then p's key_env variable. source is "keychain", "env" or "none".
func Key(p *config.Provider, keys proxy.KeySource) (key, source string) {
	if keys != nil {
		if v, ok := keys.Secret(p.Name, ""); ok && v != "" {
			return v, "keychain"
		}
	}
	if p.KeyEnv != "" {
		if v := os.Getenv(p.KeyEnv); v != "" {
			return v, "env"
		}
	}
	return "", "none"
}

// CheckKey makes one cheap authenticated call to p (GET its KeyCheckURL) with
// its key and its scheme's other fields: nil means p accepted it. Providers
// sometimes echo what they were sent, so the error never holds a secret: each
// is masked (proxy.MaskKey). version goes in the User-Agent. It returns
// ErrNoKey when p needs a key and has none.
func CheckKey(p *config.Provider, keys proxy.KeySource, version string) error {
	a, err := Get(p, keys, p.KeyCheckURL(), version)
	if err != nil {
		return err
	}
	if a.Status >= 200 && a.Status < 300 {
		return nil
	}
	return fmt.Errorf("%d %s: %s", a.Status, StatusMeaning(a.Status), a.Message)
}

// Get sends an authenticated GET of url to p, the way the proxy reaches p, and
// returns its answer with every secret masked (proxy.MaskKey). keys may be nil.
func Get(p *config.Provider, keys proxy.KeySource, url, version string) (Answer, error) {
	key, _ := Key(p, keys)
	if key == "" && !p.NoKey && p.DefaultAuth() != "none" {
		return Answer{}, ErrNoKey
	}
	fields := proxy.FieldLookup(keys, p)
	secrets := []string{key}
	for _, f := range proxy.SecretFields(p) {
		if v, ok := fields(f); ok {
			secrets = append(secrets, v)
		}
	}
	hide := func(s string) string {
		for _, v := range secrets {
			if v != "" {
				s = strings.ReplaceAll(s, v, proxy.MaskKey(v))
			}
		}
		return s
	}
	a, err := get(p, url, proxy.Credentials{Key: key, Field: fields}, version)
	if err != nil {
		return Answer{}, errors.New(hide(err.Error()))
	}
	a.Message = hide(a.Message)
	return a, nil
}

func get(p *config.Provider, url string, creds proxy.Credentials, version string) (Answer, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod(fasthttp.MethodGet)
	req.Header.Set("User-Agent", "gatehouse/"+version)
	if p.Format == config.FormatAnthropic {
		req.Header.Set("anthropic-version", "2023-06-01")
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	if err := proxy.NewAuthenticator(nil).Apply(req, p, creds, nil); err != nil {
		return Answer{}, err
	}
	c := proxy.NewUpstreamClient(p) // the proxy's own network path: HTTPS_PROXY, proxy_url, ca_file
	c.ReadTimeout, c.WriteTimeout = keyCheckTimeout, keyCheckTimeout
	if err := c.DoTimeout(req, resp, keyCheckTimeout); err != nil {
		return Answer{}, fmt.Errorf("unreachable (GET %s): %w", url, err)
	}
	a := Answer{Status: resp.StatusCode(), Header: map[string]string{}, Body: append([]byte(nil), resp.Body()...)}
	for k, v := range resp.Header.All() {
		a.Header[strings.ToLower(string(k))] = string(v)
	}
	if a.Status < 200 || a.Status > 299 {
		a.Message = errorMessage(a.Body)
	}
	return a, nil
}

// errorMessage is the message of a provider's error body, or the body's start.
func errorMessage(body []byte) string {
	for _, path := range []string{"error.message", "error", "message", "detail"} {
		if r := gjson.GetBytes(body, path); r.Type == gjson.String && r.Str != "" {
			return r.Str
		}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// StatusMeaning says in words what a key check's status means.
func StatusMeaning(status int) string {
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
