package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ui/cli"
	"github.com/valyala/fasthttp"
)

// testProviderKey is the provider key of the tests' fake upstream (key_env
// GATEHOUSE_TEST_KEY). It must never reach the data folder.
const testProviderKey = "sk-gh-test-4c1f9a7e2b8d6053a9e1f7c2d4b6a8e0"

// fakeUpstream is an OpenAI-format upstream on 127.0.0.1. It answers with the
// recorded response fixture; a request containing "please-fail" gets a 502. Both
// quote the Authorization header they got, as a careless upstream might: the
// history must redact it anyway. A request with "stream":true gets the recorded
// SSE stream fixture.
type fakeUpstream struct {
	addr  string
	calls atomic.Int64
}

func startUpstream(t testing.TB) *fakeUpstream {
	t.Helper()
	resp, err := os.ReadFile(filepath.Join("testdata", "history", "response_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := os.ReadFile(filepath.Join("testdata", "history", "stream_text.sse"))
	if err != nil {
		t.Fatal(err)
	}
	up := &fakeUpstream{}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		up.calls.Add(1)
		auth := string(ctx.Request.Header.Peek("Authorization"))
		if bytes.Contains(ctx.PostBody(), []byte(`"stream":true`)) {
			ctx.SetContentType("text/event-stream")
			ctx.SetBody(stream)
			return
		}
		ctx.SetContentType("application/json")
		if bytes.Contains(ctx.PostBody(), []byte("please-fail")) {
			ctx.SetStatusCode(502)
			fmt.Fprintf(ctx, `{"error":{"message":"bad gateway for %s","type":"server_error"}}`, auth)
			return
		}
		ctx.SetBody(bytes.Replace(resp, []byte(`"default"`), []byte(`"`+auth+`"`), 1))
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { _ = srv.Shutdown() })
	up.addr = ln.Addr().String()
	return up
}

// writeTestConfig writes DATA/config.toml routing gpt-* to the fake upstream.
func writeTestConfig(t testing.TB, dataDir string, up *fakeUpstream) {
	t.Helper()
	src := `
[retry]
attempts = 2
base_delay = "1ms"
max_delay = "5ms"
circuit_failures = 1000000

[[provider]]
name = "openai"
models = []
[[provider]]
name = "anthropic"
models = []
[[provider]]
name = "gemini"
models = []

[[provider]]
name = "up"
format = "openai"
base_url = "http://` + up.addr + `/v1"
models = ["gpt-*"]
key_env = "GATEHOUSE_TEST_KEY"
`
	if err := os.WriteFile(filepath.Join(dataDir, "config.toml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTestStack runs the whole proxy stack in this process on 127.0.0.1:0 with
// dataDir, and returns its base URL.
func startTestStack(t testing.TB, dataDir string) (*stack, string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := startStack(cli.Flags{Data: dataDir, Listen: "127.0.0.1:0"}, false, false, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.stop) // stop is idempotent: its closers run once
	info, err := cli.ReadInstance(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	return st, "http://" + info.Addr
}

var testHTTP = &http.Client{Timeout: 10 * time.Second}

// chat sends one chat completion through the proxy and returns the call id the
// proxy reported in X-Gatehouse-Call and the status.
func chat(t testing.TB, base, content string, clientAuth string) (string, int) {
	t.Helper()
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":` + jsonQuote(content) + `}]}`
	req, err := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "history-test/1.0")
	if clientAuth != "" {
		req.Header.Set("Authorization", clientAuth)
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("X-Gatehouse-Call"), resp.StatusCode
}

// jsonLines decodes JSON Lines into maps.
func jsonLines(t testing.TB, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decode JSON line: %v in %q", err, s)
		}
		out = append(out, m)
	}
	return out
}

// jsonQuote is s as a JSON string.
func jsonQuote(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}
