package ui

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
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
// failure opens its circuit for a minute.
func deadProviderConfig(t testing.TB) *config.Config {
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
`), "test.toml")
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
	cfg := deadProviderConfig(t)
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
