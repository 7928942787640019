package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
)

// startProxy serves a real proxy for cfg on 127.0.0.1 until the test ends.
func startProxy(t testing.TB, cfg *config.Config, rec proxy.Recorder) *proxy.Server {
	t.Helper()
	s, err := proxy.New(cfg, proxy.Options{Recorder: rec, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln) //nolint:errcheck
	for i := 0; i < 500 && s.Addr() == ""; i++ {
		time.Sleep(time.Millisecond) // Serve stores the listener
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// deadProviderConfig routes every model to "down", where nothing listens; one
// failure opens its circuit for a minute. extra is TOML appended.
func deadProviderConfig(t testing.TB, extra string) *config.Config {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	cfg, err := config.Parse([]byte(`
[retry]
attempts = 1
circuit_failures = 1
circuit_cooldown = "1m"

[[provider]]
name = "down"
format = "openai"
base_url = "http://`+dead+`/v1"
models = ["*"]
no_key = true
`+extra), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func post(t testing.TB, addr, body string) *http.Response {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestProvidersShowCircuitAndReset: a provider whose circuit opened shows
// "cooling down" with its countdown on the Providers screen; Reset closes it
// and the next call is sent again (issue 16 §2).
func TestProvidersShowCircuitAndReset(t *testing.T) {
	cfg := deadProviderConfig(t, "")
	e := newTestEnv(t)
	srv := startProxy(t, cfg, nil)
	e.b.Proxy = srv
	down, _ := cfg.Provider("down")
	if err := e.conf.Save(*down); err != nil {
		t.Fatal(err)
	}
	post(t, srv.Addr(), `{"model":"m","messages":[]}`)

	a := newTestApp(t, e)
	a.ShowTab(TabProviders)
	p := a.providers
	row := func() *providerRow {
		for i, pr := range p.providers {
			if pr.Name == "down" {
				o := p.list.CreateItem()
				p.updateRow(i, o)
				return o.(*providerRow)
			}
		}
		return nil
	}
	pump(t, "circuit shown", func() bool {
		r := row()
		return r != nil && strings.HasPrefix(r.circuit.Text, "circuit: cooling down")
	})
	r := row()
	if !strings.Contains(r.circuit.Text, " s") || !r.reset.Visible() {
		t.Errorf("circuit %q, reset visible %v; want a countdown and Reset", r.circuit.Text, r.reset.Visible())
	}
	test.Tap(r.reset)
	if r := row(); r.circuit.Text != "circuit: healthy" || r.reset.Visible() {
		t.Errorf("after Reset: %q, reset visible %v", r.circuit.Text, r.reset.Visible())
	}
	if got := srv.Circuits(); len(got) != 1 || got[0].Health != proxy.CircuitHealthy {
		t.Errorf("proxy circuits after Reset: %+v", got)
	}
}

// Test on a provider without /models (the key check answered 404) falls back
// to a one-token completion through the real proxy (issue 16 §5).
func TestProviderTestFallsBackToACompletion(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	addr := openAIUpstream(t, func(path, body string) {
		mu.Lock()
		seen = append(seen, path+" "+body)
		mu.Unlock()
	})
	cfg, err := config.Parse([]byte(`
[[provider]]
name = "local"
format = "openai"
base_url = "http://`+addr+`/v1"
models = ["local-*", "local-7b"]
no_key = true
`), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t)
	e.b.Proxy = startProxy(t, cfg, nil)
	local, _ := cfg.Provider("local")
	if err := e.conf.Save(*local); err != nil {
		t.Fatal(err)
	}
	// What cli.CheckKey answers when GET /models is a 404.
	e.keys.tests = map[string]error{"local": errors.New("404 key check endpoint not found (check base_url and key_check): 404 page not found")}
	a := newTestApp(t, e)
	p := a.providers
	p.test("local")
	pump(t, "test result", func() bool { r := p.results["local"]; return r != "" && !strings.HasPrefix(r, "testing") })
	if r := p.results["local"]; !strings.HasPrefix(r, "✓ the key works") || !strings.Contains(r, "one-token completion") {
		t.Errorf("result %q, want success through a completion", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "/v1/chat/completions ") || !strings.Contains(seen[0], `"local-7b"`) {
		t.Errorf("upstream saw %q, want one completion for local-7b", seen)
	}
}
