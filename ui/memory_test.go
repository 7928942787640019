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

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
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

// memHistory is an in-memory History, newest call last in calls.
type memHistory struct {
	mu    sync.Mutex
	calls []*proxy.Call
	subs  map[int]func(*proxy.Call)
	next  int
}

func (h *memHistory) add(c *proxy.Call) {
	h.mu.Lock()
	h.calls = append(h.calls, c)
	var subs []func(*proxy.Call)
	for _, f := range h.subs {
		subs = append(subs, f)
	}
	h.mu.Unlock()
	for _, f := range subs {
		f(summary(c))
	}
}

func summary(c *proxy.Call) *proxy.Call {
	s := *c
	s.Request, s.Response, s.Events = proxy.Message{}, proxy.Message{}, nil
	return &s
}

func (h *memHistory) Page(_ context.Context, q Query) (Page, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var p Page
	for i := len(h.calls) - 1; i >= 0; i-- {
		c := h.calls[i]
		if q.Before != "" && c.ID >= q.Before {
			continue
		}
		if !q.Matches(c) {
			continue
		}
		if len(p.Calls) == q.limit() {
			p.Next = p.Calls[len(p.Calls)-1].ID
			break
		}
		p.Calls = append(p.Calls, summary(c))
	}
	return p, nil
}

func (h *memHistory) Call(_ context.Context, id string) (*proxy.Call, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.calls {
		if c.ID == id {
			cc := *c
			return &cc, nil
		}
	}
	return nil, ErrNotFound
}

func (h *memHistory) Stats(_ context.Context, since, until time.Time) (Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var s Stats
	for _, c := range h.calls {
		if c.Start.Before(since) || !c.Start.Before(until) {
			continue
		}
		s.Calls++
		if Failed(c) {
			s.Failed++
		}
		s.InputTokens += max(c.Usage.InputTokens, 0)
		s.OutputTokens += max(c.Usage.OutputTokens, 0)
	}
	return s, nil
}

func (h *memHistory) Activity(_ context.Context, since, until time.Time, step time.Duration) ([]Bucket, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Bucket, int(until.Sub(since)/step))
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * step)
	}
	for _, c := range h.calls {
		k := int(c.Start.Sub(since) / step)
		if c.Start.Before(since) || k >= len(out) {
			continue
		}
		out[k].Calls++
		if Failed(c) {
			out[k].Failed++
		}
		out[k].InputTokens += max(c.Usage.InputTokens, 0)
		out[k].OutputTokens += max(c.Usage.OutputTokens, 0)
	}
	return out, nil
}

func (h *memHistory) Subscribe(fn func(*proxy.Call)) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[int]func(*proxy.Call){}
	}
	h.next++
	id := h.next
	h.subs[id] = fn
	return func() {
		h.mu.Lock()
		delete(h.subs, id)
		h.mu.Unlock()
	}
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

// memConfig is an in-memory config file: providers and settings.
type memConfig struct {
	mu  sync.Mutex
	cfg *config.Config
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

func (m *memConfig) SaveSettings(s AppSettings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *m.cfg
	c.Listen = s.Listen
	c.Retry.Attempts = s.Attempts
	c.Retry.FirstByteTimeout.Duration = s.FirstByteTimeout
	c.History.MaxAge.Duration = s.MaxAge
	c.AllowOrigins = s.AllowOrigins
	n := s.Notifications
	c.App.Notifications = &n
	c.App.StartAtLogin = s.StartAtLogin
	m.cfg = &c
	return nil
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
	menu *fyne.Menu
	icon fyne.Resource
}

func (d *fakeDesktop) SetSystemTrayMenu(m *fyne.Menu)    { d.menu = m }
func (d *fakeDesktop) SetSystemTrayIcon(r fyne.Resource) { d.icon = r }
func (d *fakeDesktop) SetSystemTrayWindow(w fyne.Window) {}

// testEnv is an app on in-memory parts.
type testEnv struct {
	hist  *memHistory
	keys  *memKeys
	conf  *memConfig
	proxy *fakeProxy
	b     *Backend
}

func newTestEnv() *testEnv {
	e := &testEnv{hist: &memHistory{}, keys: &memKeys{}, conf: newMemConfig(), proxy: &fakeProxy{addr: "127.0.0.1:8765"}}
	e.b = &Backend{Proxy: e.proxy, History: e.hist, Keys: e.keys, Providers: e.conf, Settings: e.conf}
	return e
}

// sampleCalls are n calls over the last hour, every 7th failed with three 502s.
func sampleCalls(n int, now time.Time) []*proxy.Call {
	var out []*proxy.Call
	for i := 0; i < n; i++ {
		start := now.Add(-time.Hour + time.Duration(i)*time.Hour/time.Duration(n+1))
		c := &proxy.Call{
			ID: proxy.NewCallID(), Start: start, Method: "POST", Path: "/v1/chat/completions",
			InboundFormat: "openai", Model: "gpt-4o", Provider: "openai", UpstreamModel: "gpt-4o",
			Outcome: proxy.OutcomeOK, Status: 200, Duration: 800 * time.Millisecond, TTFB: 300 * time.Millisecond,
			ClientUA: "openai-python/1.50",
			Usage:    proxy.Usage{InputTokens: 12, OutputTokens: 30},
			Attempts: []proxy.Attempt{{Provider: "openai", Model: "gpt-4o", URL: "https://api.openai.com/v1/chat/completions", Status: 200, Duration: 780 * time.Millisecond}},
			Request: proxy.Message{
				Headers: []proxy.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "Authorization", Value: "[REDACTED]"}},
				Body:    []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hello ` + strings.Repeat("x", i%5) + `"}]}`),
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
