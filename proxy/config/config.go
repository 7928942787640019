// Package config is Gatehouse's configuration: the typed form of config.toml, its
// built-in defaults and provider presets, loading with errors that name the file,
// line and field, and validation.
//
// A missing file means the built-in defaults. A file that fails to parse or
// validate is rejected whole: nothing of it is applied.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Format is a wire format: how requests, responses and streams are shaped.
type Format string

// The wire formats Gatehouse speaks, inbound and outbound.
const (
	FormatOpenAI    Format = "openai"    // OpenAI Chat Completions and every OpenAI-compatible server
	FormatAnthropic Format = "anthropic" // Anthropic Messages
	FormatGemini    Format = "gemini"    // Gemini generateContent
	// FormatResponses is the OpenAI Responses API (/v1/responses). It is not a
	// provider format: an openai-format provider serves it when its Responses
	// field or api = "responses" says so (see Provider.WireFormat).
	FormatResponses Format = "responses"
)

// Valid reports whether f is one of the provider formats (openai, anthropic,
// gemini).
func (f Format) Valid() bool {
	return f == FormatOpenAI || f == FormatAnthropic || f == FormatGemini
}

// MaxBodyCeiling is the largest max_body_bytes: the proxy's hard limit on a
// request body, fixed when it starts, so that a reload may raise the setting
// up to it.
const MaxBodyCeiling = 256 << 20

// DefaultListen is the address Gatehouse listens on when nothing else is set.
const DefaultListen = "127.0.0.1:8765"

// Duration is a time.Duration written in TOML as a Go duration string ("250ms", "8s").
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. \"250ms\", \"8s\", \"720h\")", string(b))
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Config is the whole configuration.
type Config struct {
	// Listen is the address the proxy binds. Default 127.0.0.1:8765. A non-loopback
	// address is refused unless AllowRemote is set.
	Listen string `toml:"listen"`
	// AllowRemote permits a non-loopback Listen address. Default false.
	AllowRemote bool `toml:"allow_remote"`
	// AllowOrigins lists browser origins (e.g. "http://localhost:3000") allowed to call
	// the proxy. Requests without an Origin header are always allowed. Default none.
	AllowOrigins []string `toml:"allow_origins"`
	// MaxBodyBytes caps a request body; larger ones get 413. Default 32 MiB.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// DefaultMaxTokens is sent as max_tokens to targets that require it (Anthropic)
	// when the client set none. Default 4096.
	DefaultMaxTokens int `toml:"default_max_tokens"`
	// ProxyURL is how upstream calls reach the network: "env" (the default)
	// follows HTTPS_PROXY, HTTP_PROXY and NO_PROXY; "none" connects directly; an
	// http:// or https:// URL (http://user:password@host:3128 for Basic
	// credentials) is used for every upstream, except loopback hosts and the
	// hosts NO_PROXY names. A provider's proxy_url wins over this one.
	ProxyURL string `toml:"proxy_url"`
	// CAFile is a PEM file whose certificates are trusted on top of the system
	// roots, for networks whose proxy inspects TLS. A relative path is taken from
	// the config file's folder. A provider's ca_file is trusted in addition.
	CAFile string `toml:"ca_file"`

	Retry   Retry   `toml:"retry"`
	History History `toml:"history"`
	App     App     `toml:"app"`

	// Providers are the upstreams. Presets are always present; an entry with a
	// preset's name overrides the fields it sets.
	Providers []Provider `toml:"provider"`
	// Routes are model aliases with ordered fallback targets.
	Routes []Route `toml:"route"`

	// Client tokens, sharing and prompt endpoints (issue 13).
	//
	// RequireClientToken makes every request, loopback included, carry a client
	// token (`gatehouse clients add`). Default false: local tools work without
	// one. Requests from other machines (AllowRemote) always need one.
	RequireClientToken bool `toml:"require_client_token"`
	// AllowHosts are Host header names (no port) accepted besides loopback and
	// this machine's own addresses and host name: the DNS-rebinding check
	// refuses every other Host. Default none.
	AllowHosts []string `toml:"allow_hosts"`
	// TLSCert and TLSKey are PEM files (relative to the config file's folder);
	// with both set the listener speaks HTTPS only. Default: plain HTTP. A
	// change needs a restart.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// Prompts are prompt endpoints: the model "prompt/NAME" and
	// POST /v1/prompts/NAME (prompt.go).
	Prompts []Prompt `toml:"prompt"`

	// Usage and export (issue 14; usage.go): per-model price overrides, the
	// Prometheus endpoint and OpenTelemetry tracing.
	Prices  []Price `toml:"price"`
	Metrics Metrics `toml:"metrics"`
	Tracing Tracing `toml:"tracing"`

	// Path is the file this configuration was read from ("" for pure defaults).
	Path string `toml:"-"`
	// source is the file content it was parsed from (nil: no file).
	source []byte
}

// Retry is the retry, timeout and circuit-breaker policy.
type Retry struct {
	// Attempts is the number of tries per target, the first included. Default 3.
	Attempts int `toml:"attempts"`
	// BaseDelay and MaxDelay bound the full-jitter backoff
	// rand(0, min(MaxDelay, BaseDelay·2^n)). Defaults 250ms and 8s. A Retry-After
	// longer than MaxDelay skips to the next target instead of waiting.
	BaseDelay Duration `toml:"base_delay"`
	MaxDelay  Duration `toml:"max_delay"`
	// OnStatus lists upstream statuses that are retried.
	// Default 408, 429, 500, 502, 503, 504, 529.
	OnStatus []int `toml:"on_status"`
	// FirstByteTimeout bounds request sent → first response byte of a stream
	// (the first event). Default 60s; "0s" turns it off.
	FirstByteTimeout Duration `toml:"first_byte_timeout"`
	// ResponseTimeout bounds a whole non-streaming call (request sent → last
	// body byte): reasoning models legitimately take minutes before the first
	// byte. Default 10m; "0s" turns it off.
	ResponseTimeout Duration `toml:"response_timeout"`
	// IdleTimeout bounds the silence between two reads of a response body, streams
	// included; streams have no total limit. Default 120s; "0s" turns it off.
	IdleTimeout Duration `toml:"idle_timeout"`
	// RetryTimeouts re-sends a call that timed out after its request was
	// written (the model may be working on it, and each try is billed). Default
	// false: such a call is answered 504 at once. Failures before the request
	// was written (refused, DNS, TLS, dial timeouts) are always retried.
	RetryTimeouts bool `toml:"retry_timeouts"`
	// CircuitFailures consecutive retryable failures open a provider's circuit for
	// CircuitCooldown, after which one probe is let through. Defaults 5 and 30s;
	// circuit_failures = 0 turns the breaker off.
	CircuitFailures int      `toml:"circuit_failures"`
	CircuitCooldown Duration `toml:"circuit_cooldown"`
}

// History is the call-history policy.
type History struct {
	// Enabled turns call recording on. Default true.
	Enabled *bool `toml:"enabled"`
	// MaxAge drops calls older than this. Default 720h (30 days).
	MaxAge Duration `toml:"max_age"`
	// MaxSizeMB caps the history file. Default 512.
	MaxSizeMB int64 `toml:"max_size_mb"`
	// BodyCapBytes caps each stored request or response body; longer ones are
	// truncated and marked so. Default 1 MiB.
	BodyCapBytes int `toml:"body_cap_bytes"`
}

// RecordingEnabled reports whether calls are recorded (default true).
func (h History) RecordingEnabled() bool { return h.Enabled == nil || *h.Enabled }

// App holds desktop-app settings; the headless proxy ignores them.
type App struct {
	// Notifications turns provider failure/recovery notifications on. Default true.
	Notifications *bool `toml:"notifications"`
	// StartAtLogin installs an autostart entry. Default false.
	StartAtLogin bool `toml:"start_at_login"`
}

// NotificationsEnabled reports whether desktop notifications are on (default true).
func (a App) NotificationsEnabled() bool { return a.Notifications == nil || *a.Notifications }

// Provider is one upstream API.
type Provider struct {
	// Name identifies the provider: [a-z0-9-]+. Clients address it as "name/model".
	Name string `toml:"name"`
	// Format is the provider's wire format.
	Format Format `toml:"format"`
	// BaseURL includes the API version segment; the proxy appends the endpoint path
	// ("/chat/completions", "/messages", "/models/{model}:generateContent").
	BaseURL string `toml:"base_url"`
	// Models are globs routed here when the model has no prefix: '*' matches any
	// run of characters (slashes included), '?' one; see ValidGlob.
	Models []string `toml:"models"`
	// KeyEnv names the environment variable used when the keychain has no key.
	KeyEnv string `toml:"key_env"`
	// NoKey marks a local server that needs no key (ollama, lmstudio).
	NoKey bool `toml:"no_key"`
	// ClientKeys lets a client's own key through to this provider when it has
	// none of its own and the key came in this format's auth header (Bearer:
	// openai, x-api-key: anthropic, x-goog-api-key or ?key=: gemini). Default
	// true for the openai, anthropic and gemini presets, false for every other
	// provider: an OpenAI key sent to an OpenAI-compatible third party is a leak.
	ClientKeys *bool `toml:"client_keys"`
	// Auth is how the key is sent: bearer, x-api-key, x-goog-api-key, api-key,
	// header, basic, jwt or aksk. Default: from the format (see DefaultAuth).
	Auth string `toml:"auth"`
	// AuthOptions tunes the auth schemes that take parameters.
	AuthOptions AuthOptions `toml:"auth_options"`
	// Headers are extra headers sent upstream on every request.
	Headers map[string]string `toml:"headers"`
	// KeyCheck is the path, relative to BaseURL, of a cheap authenticated GET that
	// "keys test" uses to check a key. Default "/models".
	KeyCheck string `toml:"key_check"`
	// Azure deployments: the URL is built from these when set.
	Resource   string `toml:"resource"`
	Deployment string `toml:"deployment"`
	APIVersion string `toml:"api_version"`
	// API is the endpoint model calls use on an openai-format provider: "chat"
	// (Chat Completions, the default) or "responses" (the Responses API, for
	// models that exist only there); Chat, Messages and Gemini clients are then
	// translated to the Responses API. "responses" implies Responses.
	API string `toml:"api"`
	// Responses says the provider serves the Responses API (/responses) itself:
	// Responses clients are passed through to it. When false they are translated
	// to the provider's format. Default true for the openai preset, else false.
	Responses *bool `toml:"responses"`
	// ProxyURL overrides the global proxy_url for this provider ("env", "none"
	// or a proxy URL). Default: the global setting.
	ProxyURL string `toml:"proxy_url"`
	// CAFile is a PEM file trusted for this provider, on top of the system roots
	// and the global ca_file.
	CAFile string `toml:"ca_file"`
	// InsecureSkipVerify turns TLS certificate checks off for this provider: anyone
	// on the network path can then read and change its traffic. Never the default;
	// the app and the log warn while it is on.
	InsecureSkipVerify bool `toml:"insecure_skip_verify"`

	// Network is the network settings in force: the fields above combined with
	// the global ones. Load fills it.
	Network Network `toml:"-"`
	// Preset is true when the provider comes from the built-in presets (possibly
	// overridden by the file).
	Preset bool `toml:"-"`
	// InFile is true when the config file has an entry for this provider.
	InFile bool `toml:"-"`
	// fileIndex is the entry's position among the file's [[provider]] tables.
	fileIndex int
}

// AuthOptions are the parameters of the auth schemes that need them. Secrets never
// live here: they are in the keychain (or KeyEnv).
type AuthOptions struct {
	// Header is the header name for auth = "header".
	Header string `toml:"header"`
	// Prefix is put before the key in that header (e.g. "Token "). Default none.
	Prefix string `toml:"prefix"`
	// User is the user name for auth = "basic" (the password is the key).
	User string `toml:"user"`
	// JWT: issuer, subject, audience, lifetime (default 5m) and algorithm
	// (HS256, HS384, HS512; default HS256). The signing secret is the key.
	Issuer    string   `toml:"issuer"`
	Subject   string   `toml:"subject"`
	Audience  string   `toml:"audience"`
	Lifetime  Duration `toml:"lifetime"`
	Algorithm string   `toml:"algorithm"`
	// AK/SK: header names for the access key, timestamp, signature and signed
	// header list, and the headers covered by the signature. The access key is the
	// key; the secret is the keychain field "secret".
	AccessKeyHeader     string   `toml:"access_key_header"`
	TimestampHeader     string   `toml:"timestamp_header"`
	SignatureHeader     string   `toml:"signature_header"`
	SignedHeadersHeader string   `toml:"signed_headers_header"`
	SignedHeaders       []string `toml:"signed_headers"`
}

// AcceptsClientKeys reports whether a client's own key may be sent to p (see
// ClientKeys).
func (p *Provider) AcceptsClientKeys() bool { return p.ClientKeys != nil && *p.ClientKeys }

// DefaultAuth is the auth scheme a provider uses when it names none.
func (p *Provider) DefaultAuth() string {
	if p.Auth != "" {
		return p.Auth
	}
	switch p.Format {
	case FormatAnthropic:
		return "x-api-key"
	case FormatGemini:
		return "x-goog-api-key"
	}
	if p.Resource != "" || p.Deployment != "" {
		return "api-key"
	}
	return "bearer"
}

// ServesResponses reports whether p serves the Responses API itself.
func (p *Provider) ServesResponses() bool {
	return p.Format == FormatOpenAI && (p.API == "responses" || (p.Responses != nil && *p.Responses))
}

// WireFormat is the format a model call from a client speaking f is sent to p
// in: the Responses API when p serves it and the client speaks it or p's api
// is "responses", else p's format.
func (p *Provider) WireFormat(f Format) Format {
	if p.Format == FormatOpenAI && (p.API == "responses" || (f == FormatResponses && p.ServesResponses())) {
		return FormatResponses
	}
	return p.Format
}

// Route is a model alias with fallback targets.
type Route struct {
	// Model is the alias clients ask for.
	Model string `toml:"model"`
	// Targets are "provider/model" strings, tried in order.
	Targets []string `toml:"targets"`
}

// Default returns the built-in configuration: defaults and every preset.
func Default() *Config {
	c := &Config{}
	c.applyDefaults(nil)
	c.Providers = Presets()
	c.resolveNetwork()
	return c
}

// applyDefaults fills the settings the file leaves out. A value the file sets
// is kept as written, zero included, and checked by validate (issue 19.9: a
// present "0" used to become the default silently). set nil: nothing is set.
func (c *Config) applyDefaults(set func(key ...string) bool) {
	unset := func(key ...string) bool { return set == nil || !set(key...) }
	if unset("listen") {
		c.Listen = DefaultListen
	}
	if unset("max_body_bytes") {
		c.MaxBodyBytes = 32 << 20
	}
	if unset("default_max_tokens") {
		c.DefaultMaxTokens = 4096
	}
	r := &c.Retry
	dur := func(d *Duration, key string, v time.Duration) {
		if unset("retry", key) {
			d.Duration = v
		}
	}
	if unset("retry", "attempts") {
		r.Attempts = 3
	}
	dur(&r.BaseDelay, "base_delay", 250*time.Millisecond)
	dur(&r.MaxDelay, "max_delay", 8*time.Second)
	if unset("retry", "on_status") {
		r.OnStatus = []int{408, 429, 500, 502, 503, 504, 529}
	}
	dur(&r.FirstByteTimeout, "first_byte_timeout", 60*time.Second)
	dur(&r.ResponseTimeout, "response_timeout", 10*time.Minute)
	dur(&r.IdleTimeout, "idle_timeout", 120*time.Second)
	if unset("retry", "circuit_failures") {
		r.CircuitFailures = 5
	}
	dur(&r.CircuitCooldown, "circuit_cooldown", 30*time.Second)
	h := &c.History
	if unset("history", "max_age") {
		h.MaxAge.Duration = 30 * 24 * time.Hour
	}
	if unset("history", "max_size_mb") {
		h.MaxSizeMB = 512
	}
	if unset("history", "body_cap_bytes") {
		h.BodyCapBytes = 1 << 20
	}
}

// Load reads the file at path. A missing file gives Default() with Path set, so
// that later edits know where to write. Errors name the file, line and field.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		c := Default()
		c.Path = path
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(src, path)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Parse decodes and validates TOML source; name is used in error messages.
func Parse(src []byte, name string) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(src), &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			field := pe.LastKey
			msg := pe.Message
			if msg == "" {
				msg = pe.Error()
			}
			if field != "" {
				return nil, &Error{File: name, Line: pe.Position.Line, Field: field, Msg: msg}
			}
			return nil, &Error{File: name, Line: pe.Position.Line, Msg: msg}
		}
		if m := decodeErrRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: name, Line: line, Field: m[2], Msg: m[3]}
		}
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	if und := md.Undecoded(); len(und) > 0 {
		key := und[0]
		return nil, &Error{File: name, Line: locate(src, key), Field: key.String(), Msg: "unknown field"}
	}
	for i := range c.Providers {
		c.Providers[i].InFile = true
		c.Providers[i].fileIndex = i
	}
	c.Providers = mergePresets(c.Providers)
	c.applyDefaults(md.IsDefined)
	c.Path = name
	c.source = src
	if err := c.validate(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			idx := fe.index
			if fe.table != "provider" && fe.table != "route" && fe.table != "prompt" && fe.table != "price" {
				idx = -1
			}
			return nil, &Error{File: name, Line: locateField(src, fe.table, idx, fe.key), Field: fe.path(), Msg: fe.msg}
		}
		return nil, &Error{File: name, Msg: err.Error()}
	}
	c.resolveNetwork()
	return &c, nil
}

// Error is a configuration error with its place in the file.
type Error struct {
	File  string
	Line  int // 0 when unknown
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// mergePresets returns the presets, each overridden by the file's entry of the same
// name, followed by the file's own providers in file order.
func mergePresets(file []Provider) []Provider {
	out := Presets()
	byName := make(map[string]int, len(out))
	for i, p := range out {
		byName[p.Name] = i
	}
	for _, f := range file {
		i, ok := byName[f.Name]
		if !ok {
			out = append(out, f)
			byName[f.Name] = len(out) - 1
			continue
		}
		out[i] = overlay(out[i], f)
	}
	return out
}

// overlay copies every field f sets onto base.
func overlay(base, f Provider) Provider {
	if f.Format != "" {
		base.Format = f.Format
	}
	if f.BaseURL != "" {
		base.BaseURL = f.BaseURL
	}
	if f.Models != nil {
		base.Models = f.Models
	}
	if f.KeyEnv != "" {
		base.KeyEnv = f.KeyEnv
	}
	if f.NoKey {
		base.NoKey = true
	}
	if f.ClientKeys != nil {
		base.ClientKeys = f.ClientKeys
	}
	if f.Auth != "" {
		base.Auth = f.Auth
	}
	if !reflect.DeepEqual(f.AuthOptions, AuthOptions{}) {
		base.AuthOptions = f.AuthOptions
	}
	if f.Headers != nil {
		base.Headers = f.Headers
	}
	if f.KeyCheck != "" {
		base.KeyCheck = f.KeyCheck
	}
	if f.Resource != "" {
		base.Resource = f.Resource
	}
	if f.Deployment != "" {
		base.Deployment = f.Deployment
	}
	if f.APIVersion != "" {
		base.APIVersion = f.APIVersion
	}
	if f.API != "" {
		base.API = f.API
	}
	if f.Responses != nil {
		base.Responses = f.Responses
	}
	if f.ProxyURL != "" {
		base.ProxyURL = f.ProxyURL
	}
	if f.CAFile != "" {
		base.CAFile = f.CAFile
	}
	if f.InsecureSkipVerify {
		base.InsecureSkipVerify = true
	}
	base.InFile = true
	base.fileIndex = f.fileIndex
	return base
}

// fieldError is a validation error located by table, index and key.
type fieldError struct {
	table string // "", "retry", "provider", "route", ...
	index int    // position within an array of tables
	key   string
	msg   string
}

func (e *fieldError) Error() string { return e.path() + ": " + e.msg }

func (e *fieldError) path() string {
	switch {
	case e.table == "":
		return e.key
	case e.table == "provider" || e.table == "route" || e.table == "prompt" || e.table == "price":
		return fmt.Sprintf("%s[%d].%s", e.table, e.index, e.key)
	default:
		return e.table + "." + e.key
	}
}

// decodeErrRE reads the position out of BurntSushi/toml's type errors, which are
// plain errors rather than toml.ParseError.
var decodeErrRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]+)"\): (.*)$`)

var nameRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// ValidName reports whether s is a valid provider name.
func ValidName(s string) bool { return nameRE.MatchString(s) }

var validAuth = map[string]bool{
	"bearer": true, "x-api-key": true, "x-goog-api-key": true, "api-key": true,
	"header": true, "basic": true, "jwt": true, "aksk": true, "none": true,
}

// Validate checks the configuration as a whole.
func (c *Config) Validate() error { return c.validate() }

func (c *Config) validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return &fieldError{key: "listen", msg: fmt.Sprintf("%q is not host:port", c.Listen)}
	}
	if c.MaxBodyBytes <= 0 || c.MaxBodyBytes > MaxBodyCeiling {
		return &fieldError{key: "max_body_bytes", msg: fmt.Sprintf("must be between 1 and %d", int64(MaxBodyCeiling))}
	}
	if c.DefaultMaxTokens <= 0 {
		return &fieldError{key: "default_max_tokens", msg: "must be positive"}
	}
	r := c.Retry
	if r.Attempts < 1 || r.Attempts > 20 {
		return &fieldError{table: "retry", key: "attempts", msg: "must be between 1 and 20 (1: no retries)"}
	}
	if r.BaseDelay.Duration < 0 {
		return &fieldError{table: "retry", key: "base_delay", msg: "must not be negative"}
	}
	if r.MaxDelay.Duration < r.BaseDelay.Duration {
		return &fieldError{table: "retry", key: "max_delay", msg: "must be at least base_delay"}
	}
	for _, s := range r.OnStatus {
		if s < 100 || s > 599 {
			return &fieldError{table: "retry", key: "on_status", msg: fmt.Sprintf("%d is not an HTTP status", s)}
		}
	}
	for key, d := range map[string]time.Duration{
		"first_byte_timeout": r.FirstByteTimeout.Duration, "response_timeout": r.ResponseTimeout.Duration,
		"idle_timeout": r.IdleTimeout.Duration,
	} {
		if d < 0 {
			return &fieldError{table: "retry", key: key, msg: `must not be negative ("0s" turns it off)`}
		}
	}
	if r.CircuitFailures < 0 {
		return &fieldError{table: "retry", key: "circuit_failures", msg: "must not be negative (0 turns the breaker off)"}
	}
	if r.CircuitFailures > 0 && r.CircuitCooldown.Duration <= 0 {
		return &fieldError{table: "retry", key: "circuit_cooldown", msg: "must be positive (circuit_failures = 0 turns the breaker off)"}
	}
	h := c.History
	if h.MaxAge.Duration <= 0 {
		return &fieldError{table: "history", key: "max_age", msg: "must be positive"}
	}
	if h.MaxSizeMB <= 0 {
		return &fieldError{table: "history", key: "max_size_mb", msg: "must be positive"}
	}
	if h.BodyCapBytes <= 0 {
		return &fieldError{table: "history", key: "body_cap_bytes", msg: "must be positive"}
	}
	if err := c.validateNetwork(); err != nil {
		return err
	}
	if err := c.validateSharing(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range c.Providers {
		idx := p.fileIndex
		if !ValidName(p.Name) {
			return &fieldError{table: "provider", index: idx, key: "name", msg: fmt.Sprintf("%q must match [a-z0-9-]+", p.Name)}
		}
		if seen[p.Name] {
			return &fieldError{table: "provider", index: idx, key: "name", msg: fmt.Sprintf("provider %q is defined twice", p.Name)}
		}
		seen[p.Name] = true
		if !p.Format.Valid() {
			return &fieldError{table: "provider", index: idx, key: "format", msg: fmt.Sprintf("%q is not one of openai, anthropic, gemini", p.Format)}
		}
		if err := ValidBaseURL(p.BaseURL); err != nil {
			return &fieldError{table: "provider", index: idx, key: "base_url", msg: err.Error()}
		}
		if p.Auth != "" && !validAuth[p.Auth] {
			return &fieldError{table: "provider", index: idx, key: "auth", msg: fmt.Sprintf("%q is not one of bearer, x-api-key, x-goog-api-key, api-key, header, basic, jwt, aksk, none", p.Auth)}
		}
		if p.API != "" && p.API != "chat" && p.API != "responses" {
			return &fieldError{table: "provider", index: idx, key: "api", msg: fmt.Sprintf("%q is not one of chat, responses", p.API)}
		}
		if p.API == "responses" && p.Format != FormatOpenAI {
			return &fieldError{table: "provider", index: idx, key: "api", msg: fmt.Sprintf(`api = "responses" needs format = "openai" (this provider is %s)`, p.Format)}
		}
		if p.Auth == "header" && p.AuthOptions.Header == "" {
			return &fieldError{table: "provider", index: idx, key: "auth_options", msg: `auth = "header" needs auth_options.header`}
		}
		for _, g := range p.Models {
			if err := ValidGlob(g); err != nil {
				return &fieldError{table: "provider", index: idx, key: "models", msg: err.Error()}
			}
		}
	}
	aliases := map[string]bool{}
	for i, rt := range c.Routes {
		if rt.Model == "" {
			return &fieldError{table: "route", index: i, key: "model", msg: "must not be empty"}
		}
		if aliases[rt.Model] {
			return &fieldError{table: "route", index: i, key: "model", msg: fmt.Sprintf("alias %q is defined twice", rt.Model)}
		}
		aliases[rt.Model] = true
		if len(rt.Targets) == 0 {
			return &fieldError{table: "route", index: i, key: "targets", msg: "needs at least one provider/model target"}
		}
		for _, t := range rt.Targets {
			prov, model, ok := strings.Cut(t, "/")
			if !ok || model == "" {
				return &fieldError{table: "route", index: i, key: "targets", msg: fmt.Sprintf("%q is not provider/model", t)}
			}
			if !seen[prov] {
				return &fieldError{table: "route", index: i, key: "targets", msg: fmt.Sprintf("%q names unknown provider %q", t, prov)}
			}
		}
	}
	if err := c.validatePrompts(); err != nil {
		return err
	}
	return c.validateUsage()
}

// ValidGlob checks a model glob: '*' matches any run of characters (slashes
// included) and '?' one; character classes ("[...]") are not supported, so a
// glob holding '[' or ']' is refused rather than never matching (issue 19.9).
func ValidGlob(g string) error {
	if strings.ContainsAny(g, "[]\\") {
		return fmt.Errorf("model glob %q: only * and ? are wildcards; [...] classes and \\ escapes are not supported", g)
	}
	return nil
}

// ValidBaseURL checks that u is an absolute http(s) URL.
func ValidBaseURL(u string) error {
	if u == "" {
		return errors.New("must not be empty")
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("%q must start with http:// or https://", u)
	}
	rest := u[strings.Index(u, "//")+2:]
	if rest == "" || rest[0] == '/' {
		return fmt.Errorf("%q has no host", u)
	}
	return nil
}

// Provider returns the provider named name.
func (c *Config) Provider(name string) (*Provider, bool) {
	for i := range c.Providers {
		if c.Providers[i].Name == name {
			return &c.Providers[i], true
		}
	}
	return nil, false
}

// Route returns the route whose alias is model.
func (c *Config) Route(model string) (*Route, bool) {
	for i := range c.Routes {
		if c.Routes[i].Model == model {
			return &c.Routes[i], true
		}
	}
	return nil, false
}

// DefaultDataDir is the OS user config dir + /gatehouse.
func DefaultDataDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find user config dir: %w", err)
	}
	return filepath.Join(d, "gatehouse"), nil
}

// locate finds the line of a decoded key path such as retry.attempts.
func locate(src []byte, key toml.Key) int {
	if len(key) == 0 {
		return 0
	}
	table := strings.Join(key[:len(key)-1], ".")
	return locateField(src, table, -1, key[len(key)-1])
}

// locateField returns the 1-based line of key inside table (the index-th of an
// array of tables when index ≥ 0), or of the table header if the key is absent,
// or 0. It scans lines: good enough for the hand-written files it reports on.
func locateField(src []byte, table string, index int, key string) int {
	lines := strings.Split(string(src), "\n")
	cur := ""
	count := map[string]int{}
	curIndex := -1
	headerLine := 0
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "[[") {
			name := strings.TrimSpace(strings.Trim(strings.SplitN(line, "#", 2)[0], "[] \t"))
			cur = name
			curIndex = count[name]
			count[name]++
			if cur == table && (index < 0 || curIndex == index) {
				headerLine = i + 1
			}
			continue
		}
		if strings.HasPrefix(line, "[") {
			cur = strings.TrimSpace(strings.Trim(strings.SplitN(line, "#", 2)[0], "[] \t"))
			curIndex = -1
			if cur == table {
				headerLine = i + 1
			}
			continue
		}
		if cur != table || (index >= 0 && curIndex != index) {
			continue
		}
		k, _, ok := strings.Cut(line, "=")
		if ok && strings.Trim(strings.TrimSpace(k), `"'`) == key {
			return i + 1
		}
	}
	return headerLine
}
