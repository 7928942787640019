package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
	"golang.org/x/term"
)

// keyServices is the keychain part of services.
type keyServices struct {
	keys *store.Keys // nil until openKeys
}

// keyAccounts lists the keychain accounts of cfg's providers: each main key and
// the extra fields of its auth scheme.
func keyAccounts(cfg *config.Config) []string {
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

// openKeys reads cfg's keys from the keychain into memory and returns them as the
// proxy's key source. Without a usable keychain Gatehouse still runs on key_env
// variables and clients' own keys, and says what is missing and how to fix it.
func (s *services) openKeys(cfg *config.Config) (proxy.KeySource, error) {
	s.keys = store.NewKeys()
	if err := s.keys.Load(keyAccounts(cfg)); err != nil {
		var ke *store.KeychainError
		if errors.As(err, &ke) {
			s.log.Warn("keychain unavailable: using key_env variables and the keys clients send",
				"missing", ke.Reason, "fix", ke.Fix, "env_keys", envKeyNames(cfg))
		} else {
			s.log.Warn("keychain unavailable: using key_env variables and the keys clients send", "err", err)
		}
	}
	return s.keys, nil
}

// envKeyNames lists the providers whose key_env variable is set.
func envKeyNames(cfg *config.Config) []string {
	var out []string
	for _, p := range cfg.Providers {
		if p.KeyEnv != "" && os.Getenv(p.KeyEnv) != "" {
			out = append(out, p.Name+"="+p.KeyEnv)
		}
	}
	return out
}

// keySecretValues returns the secret values in use (keychain and key_env).
func (s *services) keySecretValues() []string {
	var out []string
	if s.keys != nil {
		out = s.keys.Values()
	}
	if cfg := s.cfg.Load(); cfg != nil {
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
	}
	return out
}

// keysConfigChanged reads the keys of providers the new config added. It runs
// on the config watcher's goroutine, never on the request path.
func (s *services) keysConfigChanged(cfg *config.Config) {
	if s.keys == nil {
		return
	}
	if err := s.keys.Load(keyAccounts(cfg)); err != nil {
		s.log.Warn("keychain unavailable for the new providers", "err", err)
	}
}

// keyStatus is one line of `keys list`.
type keyStatus struct {
	Provider string `json:"provider"`
	Source   string `json:"source"` // keychain | env | none
	Mask     string `json:"mask"`
}

// keyStatusOf says where p's main key comes from; keys may be nil.
func keyStatusOf(keys *store.Keys, p *config.Provider) keyStatus {
	st := keyStatus{Provider: p.Name, Source: "none"}
	if keys != nil {
		if v, ok := keys.Secret(p.Name, ""); ok {
			st.Source, st.Mask = "keychain", store.Mask(v)
			return st
		}
	}
	if p.KeyEnv != "" {
		if v := os.Getenv(p.KeyEnv); v != "" {
			st.Source, st.Mask = "env", store.Mask(v)
		}
	}
	return st
}

// keysAPI serves /_gatehouse/api/keys/*:
//
//	GET  keys                               [{"provider","source","mask"}, ...]
//	POST keys/reload?provider=P[&field=F]   re-read P's keys from the keychain
func (s *services) keysAPI(ctx *fasthttp.RequestCtx, path string) {
	cfg := s.cfg.Load()
	switch {
	case path == "" && ctx.IsGet():
		list := make([]keyStatus, 0, len(cfg.Providers))
		for i := range cfg.Providers {
			list = append(list, keyStatusOf(s.keys, &cfg.Providers[i]))
		}
		b, _ := json.Marshal(list)
		ctx.SetBody(b)
	case path == "reload" && ctx.IsPost():
		name := string(ctx.QueryArgs().Peek("provider"))
		p, ok := cfg.Provider(name)
		if !ok {
			adminError(ctx, fasthttp.StatusNotFound, "no provider "+name)
			return
		}
		if s.keys == nil {
			adminError(ctx, fasthttp.StatusServiceUnavailable, "keys are not open")
			return
		}
		wasUnavailable := s.keys.Unavailable() != nil
		if err := s.keys.Reload(providerAccounts(p, string(ctx.QueryArgs().Peek("field")))); err != nil {
			adminError(ctx, fasthttp.StatusServiceUnavailable, err.Error())
			return
		}
		if wasUnavailable {
			// The keychain is back (e.g. unlocked since start-up): read the other
			// providers' keys too.
			if err := s.keys.Load(keyAccounts(cfg)); err != nil {
				s.log.Warn("keychain unavailable", "err", err)
			}
		}
		s.log.Info("keys reloaded from the keychain", "provider", name)
		b, _ := json.Marshal(keyStatusOf(s.keys, p))
		ctx.SetBody(b)
	default:
		adminError(ctx, fasthttp.StatusNotFound, "no keys endpoint "+string(ctx.Method())+" "+path)
	}
}

const keysUsage = `Usage:
  gatehouse keys set NAME [--field F]   secret from stdin (no echo on a terminal)
  gatehouse keys list [--json]
  gatehouse keys delete NAME [--field F]
  gatehouse keys test NAME
Every subcommand takes --data DIR and --config FILE.
`

// runKeys is `gatehouse keys ...`.
func runKeys(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet("keys "+sub, stderr)
	var cf commonFlags
	cf.addCommon(fs, false)
	field := fs.String("field", "", "part of a multi-part credential (secret, password, ...)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		return 2
	}
	if *field != "" && !config.ValidName(*field) {
		fmt.Fprintf(stderr, "gatehouse keys: --field %q must match [a-z0-9-]+\n", *field)
		return 2
	}
	needName := sub == "set" || sub == "delete" || sub == "test"
	switch {
	case sub != "list" && !needName:
		fmt.Fprintf(stderr, "gatehouse keys: unknown subcommand %q\n\n%s", sub, keysUsage)
		return 2
	case needName && len(pos) != 1, !needName && len(pos) != 0:
		fmt.Fprint(stderr, keysUsage)
		return 2
	}
	dataDir, err := cf.dataDir()
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse keys: %v\n", err)
		return 1
	}
	cfg, err := cf.loadConfig(dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse keys: %v\n", err)
		return 1
	}
	if sub == "list" {
		return keysList(cfg, *asJSON, stdout, stderr)
	}
	p, ok := cfg.Provider(pos[0])
	if !ok {
		fmt.Fprintf(stderr, "gatehouse keys: no provider %q (see `gatehouse providers`)\n", pos[0])
		return 1
	}
	switch sub {
	case "set":
		return keysSet(dataDir, p, *field, stdin, stdout, stderr)
	case "delete":
		return keysDelete(dataDir, p, *field, stdout, stderr)
	}
	return keysTest(p, stdout, stderr)
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("keys set NAME --field F") and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func keysSet(dataDir string, p *config.Provider, field string, stdin io.Reader, stdout, stderr io.Writer) int {
	if p.NoKey && field == "" {
		fmt.Fprintf(stderr, "gatehouse keys: %s is a local server that needs no key\n", p.Name)
		return 1
	}
	secret, err := readSecret(stdin, stderr, store.Account(p.Name, field))
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse keys set: %v\n", err)
		return 1
	}
	keys := store.NewKeys()
	if err := keys.Set(p.Name, field, secret); err != nil {
		fmt.Fprintf(stderr, "gatehouse keys set: %v\n", err)
		if errors.Is(err, store.ErrKeychainUnavailable) {
			fmt.Fprintln(stderr, "nothing was stored: Gatehouse keeps keys only in the OS keychain")
		}
		return 1
	}
	what := "key"
	if field != "" {
		what = field
	}
	fmt.Fprintf(stdout, "stored the %s of %s in the keychain (%s)\n", what, p.Name, store.Mask(secret))
	tellRunning(dataDir, p.Name, field, stdout, stderr)
	return 0
}

func keysDelete(dataDir string, p *config.Provider, field string, stdout, stderr io.Writer) int {
	fields := []string{field}
	if field == "" {
		// A provider's every part goes, including fields of a scheme it used before.
		fields = []string{"", "secret", "password"}
	}
	keys := store.NewKeys()
	var deleted []string
	for _, f := range fields {
		found, err := keys.Delete(p.Name, f)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse keys delete: %v\n", err)
			return 1
		}
		if found {
			deleted = append(deleted, store.Account(p.Name, f))
		}
	}
	if len(deleted) == 0 {
		fmt.Fprintf(stdout, "no key of %s was in the keychain\n", p.Name)
		return 0
	}
	fmt.Fprintf(stdout, "deleted %s from the keychain\n", strings.Join(deleted, ", "))
	tellRunning(dataDir, p.Name, field, stdout, stderr)
	return 0
}

// tellRunning makes a running instance re-read the provider's keys, so that its
// cache never serves a stale key.
func tellRunning(dataDir, provider, field string, stdout, stderr io.Writer) {
	c, ok := findRunning(dataDir)
	if !ok {
		return
	}
	q := url.Values{"provider": {provider}}
	if field != "" {
		q.Set("field", field)
	}
	status, body, err := c.do("POST", "keys/reload?"+q.Encode(), nil)
	if err != nil || status != 200 {
		msg := gjson.GetBytes(body, "error").String()
		if err != nil {
			msg = err.Error()
		}
		fmt.Fprintf(stderr, "gatehouse keys: the running Gatehouse could not reload the key (%s); restart it to use the change\n", msg)
		return
	}
	fmt.Fprintln(stdout, "the running Gatehouse uses the change now")
}

// readSecret reads a secret from stdin: without echo from a terminal, otherwise
// the first line.
func readSecret(stdin io.Reader, stderr io.Writer, account string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "Secret for %s (input hidden): ", account)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read secret from the terminal: %w", err)
		}
		return validSecret(string(b))
	}
	r := bufio.NewReaderSize(io.LimitReader(stdin, store.MaxSecretBytes*2+2), 4096)
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read secret from stdin: %w", err)
	}
	return validSecret(line)
}

func validSecret(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("no secret on stdin (pipe it in, e.g. `printenv OPENAI_API_KEY | gatehouse keys set openai`)")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errors.New("the secret contains control characters")
	}
	return s, nil
}

func keysList(cfg *config.Config, asJSON bool, stdout, stderr io.Writer) int {
	keys := openKeysForCommand(cfg, stderr)
	var rows []keyStatus
	for i := range cfg.Providers {
		rows = append(rows, keyStatusOf(keys, &cfg.Providers[i]))
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				fmt.Fprintf(stderr, "gatehouse keys list: %v\n", err)
				return 1
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tSOURCE\tKEY")
	for i, r := range rows {
		mask := r.Mask
		if cfg.Providers[i].NoKey && r.Source == "none" {
			mask = "(no key needed)"
		} else if r.Source == "env" {
			mask += " (" + cfg.Providers[i].KeyEnv + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Provider, r.Source, mask)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "gatehouse keys list: %v\n", err)
		return 1
	}
	return 0
}

// openKeysForCommand reads cfg's keys for a listing. Without a keychain it says
// why on stderr and returns the cache anyway (env keys still show).
func openKeysForCommand(cfg *config.Config, stderr io.Writer) *store.Keys {
	keys := store.NewKeys()
	if err := keys.Load(keyAccounts(cfg)); err != nil {
		fmt.Fprintf(stderr, "gatehouse: keychain unavailable, showing key_env variables only: %v\n", err)
	}
	return keys
}

// keyCheckTimeout bounds `keys test`.
const keyCheckTimeout = 20 * time.Second

// keysTest makes one cheap authenticated call to p and reports the outcome.
func keysTest(p *config.Provider, stdout, stderr io.Writer) int {
	keys := store.NewKeys()
	if err := keys.Load(providerAccounts(p, "")); err != nil {
		fmt.Fprintf(stderr, "gatehouse keys test: keychain unavailable, trying key_env only: %v\n", err)
	}
	st := keyStatusOf(keys, p)
	key, _ := keys.Secret(p.Name, "")
	if st.Source == "env" {
		key = os.Getenv(p.KeyEnv)
	}
	if key == "" && !p.NoKey && p.DefaultAuth() != "none" {
		msg := fmt.Sprintf("%s: no key: run `gatehouse keys set %s`", p.Name, p.Name)
		if p.KeyEnv != "" {
			msg += " or set " + p.KeyEnv
		}
		fmt.Fprintln(stderr, msg)
		return 1
	}
	fields := proxy.FieldLookup(keys, p)
	status, msg, err := checkKey(p, key, fields)
	// Providers sometimes echo what they were sent; never print a secret.
	secrets := []string{key}
	for _, f := range proxy.SecretFields(p) {
		if v, ok := fields(f); ok {
			secrets = append(secrets, v)
		}
	}
	redact := func(s string) string {
		for _, v := range secrets {
			if v != "" {
				s = strings.ReplaceAll(s, v, store.Mask(v))
			}
		}
		return s
	}
	if err != nil {
		fmt.Fprintln(stderr, redact(fmt.Sprintf("%s: %v", p.Name, err)))
		return 1
	}
	if status >= 200 && status < 300 {
		fmt.Fprintf(stdout, "ok: %s accepted the key from %s %s\n", p.Name, st.Source, st.Mask)
		return 0
	}
	fmt.Fprintln(stderr, redact(fmt.Sprintf("%s: %d %s: %s", p.Name, status, statusMeaning(status), msg)))
	return 1
}

// checkKey sends p's key check (GET KeyCheckURL) and returns the status and the
// provider's error message.
func checkKey(p *config.Provider, key string, field func(string) (string, bool)) (int, string, error) {
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
