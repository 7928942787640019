package ui

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/doctor"
)

// Backend is everything the screens work on. main adapts the proxy, the history
// store, the keychain and the config file to these interfaces; tests plug in
// in-memory ones. Every method may be slow (disk, network): the screens call them
// from background goroutines only, so implementations need not care about the
// UI thread but must be safe for concurrent use.
type Backend struct {
	Proxy     Proxy
	History   History
	Keys      Keys
	Providers Providers
	Settings  Settings
	// Clients and Prompts are the client tokens and prompt endpoints
	// (issue 13). Nil: their screens say they are unavailable.
	Clients Clients
	Prompts Prompts
	// Doctor runs `gatehouse doctor`'s checks for what ("provider" or
	// "provider/model") with the proxy's keys. Nil: "Check now" does nothing.
	Doctor func(ctx context.Context, what string) ([]doctor.Report, error)
	// Version is the build's version and commit ("0.1.0+32a75a17bc48"), shown
	// in Settings.
	Version string
	// Log receives the app's own logs. Nil: slog.Default().
	Log *slog.Logger
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
}

func (b *Backend) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Backend) log() *slog.Logger {
	if b.Log != nil {
		return b.Log
	}
	return slog.Default()
}

// Proxy is the running proxy; *proxy.Server implements it.
type Proxy interface {
	// Addr is the address the proxy listens on, e.g. "127.0.0.1:8765".
	Addr() string
	Paused() bool
	SetPaused(paused bool)
}

// Query selects calls from history. The zero value selects every call.
type Query struct {
	FailedOnly bool          // anything but outcome ok
	Outcome    proxy.Outcome // "" for any
	Provider   string        // "" for any
	Model      string        // requested or upstream model; "" for any
	Search     string        // text in request or response bodies; "" for none
	// Client is a client token's name ("local": calls without one) or text of
	// the User-Agent; "" for any (issue 13: the History filter's hook).
	Client string
	// Before is the cursor: Page.Next of the previous page. "" starts at the
	// newest call.
	Before string
	// Limit is the page size; 0 means 100.
	Limit int
}

// Page is one page of call summaries, newest first. Summaries carry no bodies,
// headers or events.
type Page struct {
	Calls []*proxy.Call
	// Next is the cursor of the following page (Query.Before); "" when no older
	// call matches. It may lie past the last call when the store stopped scanning.
	Next string
}

// Stats sums the calls of a time range.
type Stats struct {
	Calls, Failed             int64
	InputTokens, OutputTokens int64
	// CostUSD is what the priced calls cost; Unpriced counts the calls
	// without a price (issue 14, from the usage rollups when History has them).
	CostUSD  float64
	Unpriced int64
}

// Bucket is one slot of the activity chart.
type Bucket struct {
	Start                     time.Time
	Calls, Failed             int
	InputTokens, OutputTokens int64
}

// ErrNotFound is returned by History.Call for an unknown call ID.
var ErrNotFound = errors.New("no such call")

// History is the recorded calls.
type History interface {
	// Page returns calls matching q, newest first.
	Page(ctx context.Context, q Query) (Page, error)
	// Call returns one call in full (headers, bodies, events), or ErrNotFound.
	Call(ctx context.Context, id string) (*proxy.Call, error)
	// Stats sums the calls that started in [since, until).
	Stats(ctx context.Context, since, until time.Time) (Stats, error)
	// Activity counts calls, failures and tokens per step over [since, until),
	// oldest bucket first.
	Activity(ctx context.Context, since, until time.Time, step time.Duration) ([]Bucket, error)
	// Subscribe calls fn with the summary of each new call until cancel is called.
	// fn runs on a background goroutine and must not block.
	Subscribe(fn func(c *proxy.Call)) (cancel func())
}

// RecordJSON is an optional History capability: a call's stored record exactly
// as `gatehouse history show --json` prints it (Copy JSON uses it when present).
type RecordJSON interface {
	RecordJSON(ctx context.Context, id string) ([]byte, error)
}

// KeySource says where a provider's key comes from.
type KeySource string

// The key sources, in the order the proxy consults them.
const (
	KeyKeychain KeySource = "keychain"
	KeyEnv      KeySource = "env"
	KeyNone     KeySource = "none"
	KeyNotNeed  KeySource = "not needed" // a local server (no_key)
)

// KeyStatus is what the app may show about a provider's key: never the key.
type KeyStatus struct {
	Source KeySource
	Mask   string // e.g. "sk-…abcd"; "" when there is no key
}

// Keys is the keychain, as the providers screen uses it.
type Keys interface {
	// Available returns nil when the keychain works, or an error that says in
	// plain words what is missing and how to fix it.
	Available() error
	Status(provider string) KeyStatus
	// Set stores secret in the keychain (never anywhere else).
	Set(provider, secret string) error
	Delete(provider string) error
	// Test makes one cheap authenticated call; nil means the key works.
	Test(ctx context.Context, provider string) error
}

// Providers is the provider list of the config file.
type Providers interface {
	// List returns every provider: presets and custom ones, sorted by name.
	List() []config.Provider
	// Save adds p, or replaces the provider with the same name, in the config file.
	Save(p config.Provider) error
	// Remove deletes a custom provider (or a preset's override) from the config file.
	Remove(name string) error
}

// Settings is the config file's non-provider settings.
type Settings interface {
	// Current returns the configuration in force.
	Current() *config.Config
	// SaveSettings writes s to the config file, keeping everything else in it.
	SaveSettings(s AppSettings) error
}

// AppSettings are the fields the settings screen edits.
type AppSettings struct {
	Listen           string
	Attempts         int
	BaseDelay        time.Duration
	MaxDelay         time.Duration
	FirstByteTimeout time.Duration
	IdleTimeout      time.Duration
	MaxAge           time.Duration
	MaxSizeMB        int64
	BodyCapBytes     int
	AllowOrigins     []string
	ProxyURL         string // "" (env), "env", "none" or a proxy URL
	CAFile           string
	StartAtLogin     bool
	Notifications    bool
}

// SettingsOf extracts the editable settings of cfg.
func SettingsOf(cfg *config.Config) AppSettings {
	return AppSettings{
		Listen:           cfg.Listen,
		Attempts:         cfg.Retry.Attempts,
		BaseDelay:        cfg.Retry.BaseDelay.Duration,
		MaxDelay:         cfg.Retry.MaxDelay.Duration,
		FirstByteTimeout: cfg.Retry.FirstByteTimeout.Duration,
		IdleTimeout:      cfg.Retry.IdleTimeout.Duration,
		MaxAge:           cfg.History.MaxAge.Duration,
		MaxSizeMB:        cfg.History.MaxSizeMB,
		BodyCapBytes:     cfg.History.BodyCapBytes,
		AllowOrigins:     append([]string(nil), cfg.AllowOrigins...),
		ProxyURL:         cfg.ProxyURL,
		CAFile:           cfg.CAFile,
		StartAtLogin:     cfg.App.StartAtLogin,
		Notifications:    cfg.App.NotificationsEnabled(),
	}
}
