package ui

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/oklog/ulid/v2"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// uiQueue stands in for the UI thread in tests: background goroutines queue
// their UI updates, and pump runs them on the test goroutine.
var uiQueue = make(chan func(), 4096)

func init() { runOnUI = func(f func()) { uiQueue <- f } }

// pump runs queued UI updates until cond holds, failing after 5 s.
func pump(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case f := <-uiQueue:
			f()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// drain runs the UI updates queued so far.
func drain() {
	for {
		select {
		case f := <-uiQueue:
			f()
		default:
			return
		}
	}
}

// add records c in the env's history file the way the proxy's recorder does,
// and waits until it is committed.
func (e *testEnv) add(c *proxy.Call) {
	sc, b := cli.StoreCall(c)
	e.hist.Record(sc, b)
	e.hist.Flush()
}

// memKeys is an in-memory keychain.
type memKeys struct {
	mu    sync.Mutex
	keys  map[string]string
	err   error // Available's answer
	tests map[string]error
}

func (k *memKeys) Available() error { return k.err }

func (k *memKeys) Status(p string) KeyStatus {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v, ok := k.keys[p]; ok {
		return KeyStatus{Source: KeyKeychain, Mask: v[:3] + "…" + v[len(v)-4:]}
	}
	return KeyStatus{Source: KeyNone}
}

func (k *memKeys) Set(p, secret string) error {
	if k.err != nil {
		return k.err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[string]string{}
	}
	k.keys[p] = secret
	return nil
}

func (k *memKeys) Delete(p string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, p)
	return nil
}

func (k *memKeys) Test(_ context.Context, p string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tests[p]
}

// memConfig is an in-memory config file: providers, and settings edited in
// the file's text (src) with the app's real editor.
type memConfig struct {
	mu  sync.Mutex
	cfg *config.Config
	src []byte
}

func newMemConfig() *memConfig {
	c := config.Default()
	c.Path = "/tmp/gatehouse-test/config.toml"
	return &memConfig{cfg: c}
}

func (m *memConfig) List() []config.Provider {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := append([]config.Provider(nil), m.cfg.Providers...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

func (m *memConfig) Save(p config.Provider) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p.InFile = true
	for i := range m.cfg.Providers {
		if m.cfg.Providers[i].Name == p.Name {
			m.cfg.Providers[i] = p
			return nil
		}
	}
	m.cfg.Providers = append(m.cfg.Providers, p)
	return nil
}

func (m *memConfig) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, p := range m.cfg.Providers {
		if p.Name == name {
			m.cfg.Providers = append(m.cfg.Providers[:i], m.cfg.Providers[i+1:]...)
			return nil
		}
	}
	return errors.New("no provider " + name)
}

func (m *memConfig) Current() *config.Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *m.cfg
	return &c
}

// SaveSettings edits the config file's text as ConfigFile does.
func (m *memConfig) SaveSettings(updated *config.Config) ([]config.Field, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out, changed, err := EditSettings(m.src, m.cfg, updated)
	if err != nil {
		return nil, err
	}
	c, err := config.Parse(out, m.cfg.Path)
	if err != nil {
		return nil, err
	}
	c.Path, c.Providers = m.cfg.Path, m.cfg.Providers
	m.src, m.cfg = out, c
	return changed, nil
}

// fakeProxy is a Proxy that listens nowhere.
type fakeProxy struct {
	mu     sync.Mutex
	addr   string
	paused bool
}

func (p *fakeProxy) Addr() string { return p.addr }
func (p *fakeProxy) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}
func (p *fakeProxy) SetPaused(v bool) {
	p.mu.Lock()
	p.paused = v
	p.mu.Unlock()
}

// fakeDesktop records what the app puts in the system tray.
type fakeDesktop struct {
	menu  *fyne.Menu
	menus int // how often the menu was pushed
	icon  fyne.Resource
}

// trayTip is the last tray tooltip set.
var trayTip string

func init() {
	setTrayTooltip = func(s string) { trayTip = s }
	notifierCheck = func() error { return nil } // TestNotificationsMissingSaidOnce picks its own
}

func (d *fakeDesktop) SetSystemTrayMenu(m *fyne.Menu)    { d.menu, d.menus = m, d.menus+1 }
func (d *fakeDesktop) SetSystemTrayIcon(r fyne.Resource) { d.icon = r }
func (d *fakeDesktop) SetSystemTrayWindow(w fyne.Window) {}

// testEnv is an app on a real history file and in-memory other parts.
type testEnv struct {
	hist  *store.History
	keys  *memKeys
	conf  *memConfig
	proxy *fakeProxy
	b     *Backend
}

func newTestEnv(t testing.TB) *testEnv {
	e := &testEnv{hist: openStore(t), keys: &memKeys{}, conf: newMemConfig(), proxy: &fakeProxy{addr: "127.0.0.1:8765"}}
	e.b = &Backend{Proxy: e.proxy, History: StoreHistory{H: e.hist}, Keys: e.keys, Providers: e.conf, Settings: e.conf}
	return e
}

// sampleCalls are n calls over the last hour, every 7th failed with three 502s.
// Their IDs carry their start times, as the store keys calls by them.
// at moves c to t, with an ID of that time.
func at(c *proxy.Call, t time.Time) *proxy.Call {
	c.Start, c.ID = t, ulid.MustNew(ulid.Timestamp(t), ulid.DefaultEntropy()).String()
	return c
}

func sampleCalls(n int, now time.Time) []*proxy.Call {
	var out []*proxy.Call
	for i := 0; i < n; i++ {
		start := now.Add(-time.Hour + time.Duration(i)*time.Hour/time.Duration(n+1))
		c := &proxy.Call{
			ID: ulid.MustNew(ulid.Timestamp(start), ulid.DefaultEntropy()).String(), Start: start, Method: "POST", Path: "/v1/chat/completions",
			InboundFormat: "openai", Model: "gpt-4o", Provider: "openai", UpstreamModel: "gpt-4o",
			Outcome: proxy.OutcomeOK, Status: 200, Duration: 800 * time.Millisecond, TTFB: 300 * time.Millisecond,
			ClientUA: "openai-python/1.50",
			Usage:    proxy.Usage{InputTokens: 12, OutputTokens: 30},
			Attempts: []proxy.Attempt{{Provider: "openai", Model: "gpt-4o", URL: "https://api.openai.com/v1/chat/completions", Status: 200, Duration: 780 * time.Millisecond}},
			Request: proxy.Message{
				HeaderBlock: []byte("Content-Type: application/json\nAuthorization: [REDACTED]\n"),
				Body:        []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hello ` + strings.Repeat("x", i%5) + `"}]}`),
			},
			Response: proxy.Message{Body: []byte(`{"choices":[{"message":{"role":"assistant","content":"Hi there"}}],"usage":{"prompt_tokens":12,"completion_tokens":30}}`)},
		}
		if i%7 == 3 {
			c.Outcome, c.Status, c.Error = proxy.OutcomeError, 502, "upstream answered 502 Bad Gateway"
			c.Usage = proxy.Usage{InputTokens: -1, OutputTokens: -1}
			c.Attempts = nil
			for k := 0; k < 3; k++ {
				c.Attempts = append(c.Attempts, proxy.Attempt{Provider: "openai", Model: "gpt-4o", Status: 502,
					Class: proxy.ClassUpstream5xx, Error: "502 Bad Gateway", Duration: 120 * time.Millisecond,
					Delay: time.Duration(k) * 250 * time.Millisecond})
			}
			c.Response = proxy.Message{Body: []byte(`{"error":{"message":"Bad Gateway","type":"server_error"}}`)}
		}
		out = append(out, c)
	}
	return out
}
