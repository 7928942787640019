package ui

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/doctor"
	"github.com/gatehouse/gatehouse/store"
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

// Circuits is an optional Proxy capability (*proxy.Server has it): each
// provider's circuit breaker, and a Reset. The Providers screen shows them when
// the proxy has it.
type Circuits interface {
	// Circuits returns the breakers of the providers called so far; a provider
	// not listed is healthy.
	Circuits() []proxy.CircuitState
	// ResetCircuit closes a provider's circuit; it reports whether it was open.
	ResetCircuit(provider string) bool
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

// History is the recorded calls, in the store's own shape (store.Call): the
// screens show what `gatehouse history show --json` prints.
type History interface {
	// Page returns calls matching q, newest first: summaries without bodies.
	Page(ctx context.Context, q store.Query) (store.Page, error)
	// Call returns one call in full (headers, bodies, events), or an error
	// wrapping store.ErrNotFound.
	Call(ctx context.Context, id string) (*store.Call, error)
	// Stats sums the calls that started in [since, until).
	Stats(ctx context.Context, since, until time.Time) (Stats, error)
	// Activity counts calls, failures and tokens per step over [since, until),
	// oldest bucket first.
	Activity(ctx context.Context, since, until time.Time, step time.Duration) ([]Bucket, error)
	// Subscribe calls fn with the summary of each new call until cancel is called.
	// fn runs on a background goroutine and must not block.
	Subscribe(fn func(c *store.Call)) (cancel func())
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
	// SaveSettings writes the settings of updated (config.AppFields and the
	// routes) that differ from Current into the config file, keeping
	// everything else in it, and returns what it wrote.
	SaveSettings(updated *config.Config) ([]config.Field, error)
}
