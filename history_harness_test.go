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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ui/cli"
	"github.com/valyala/fasthttp"
)

// testProviderKey is the provider key of the tests' fake upstream (key_env
// GATEHOUSE_TEST_KEY). It must never reach the data folder.
const testProviderKey = "sk-gh-test-4c1f9a7e2b8d6053a9e1f7c2d4b6a8e0"

// fakeUpstream is an OpenAI-format provider on 127.0.0.1, the one the root's
// tests use. It answers with the recorded response fixture; a request
// containing "please-fail" gets a 502. Both quote the Authorization header they
// got (unless want is set), as a careless upstream might: the history must
// redact it anyway. A
// request with "stream":true gets the recorded SSE stream fixture. With want set
// it accepts only "Authorization: Bearer <want>" (401 otherwise, as OpenAI
// words it), and GET /v1/models answers the key check. It records the keys it
// saw (lastKey).
type fakeUpstream struct {
	addr  string // host:port
	URL   string // http://host:port
	calls atomic.Int64

	want string
	mu   sync.Mutex
	seen []string
	body []byte // the last request's body
}

func startUpstream(t testing.TB, want string) *fakeUpstream {
	t.Helper()
	resp, err := os.ReadFile(filepath.Join("testdata", "history", "response_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := os.ReadFile(filepath.Join("testdata", "history", "stream_text.sse"))
	if err != nil {
		t.Fatal(err)
	}
	up := &fakeUpstream{want: want}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		up.calls.Add(1)
		auth := string(ctx.Request.Header.Peek("Authorization"))
		up.mu.Lock()
		up.seen = append(up.seen, auth)
		up.body = append(up.body[:0], ctx.PostBody()...)
		want := up.want
		up.mu.Unlock()
		ctx.SetContentType("application/json")
		if want != "" && auth != "Bearer "+want {
			ctx.SetStatusCode(401)
			ctx.SetBodyString(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		if string(ctx.Path()) == "/v1/models" {
			ctx.SetBodyString(`{"object":"list","data":[{"id":"m1","object":"model"}]}`)
			return
		}
		if bytes.Contains(ctx.PostBody(), []byte(`"stream":true`)) {
			ctx.SetContentType("text/event-stream")
			ctx.SetBody(stream)
			return
		}
		if bytes.Contains(ctx.PostBody(), []byte("please-fail")) {
			ctx.SetStatusCode(502)
			fmt.Fprintf(ctx, `{"error":{"message":"bad gateway for %s","type":"server_error"}}`, auth)
			return
		}
		if want != "" {
			ctx.SetBody(resp) // the keys tests check the data folder for the key itself
			return
		}
		ctx.SetBody(bytes.Replace(resp, []byte(`"default"`), []byte(`"`+auth+`"`), 1))
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	up.addr = ln.Addr().String()
	up.URL = "http://" + up.addr
	return up
}

// setWant makes want the one key accepted from now on.
func (u *fakeUpstream) setWant(want string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.want = want
}

// lastBody is the body of the last request.
func (u *fakeUpstream) lastBody() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return string(u.body)
}

// lastKey is the key of the last request, without "Bearer ".
func (u *fakeUpstream) lastKey() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		return ""
	}
	return strings.TrimPrefix(u.seen[len(u.seen)-1], "Bearer ")
}

// writeTestConfig writes DATA/config.toml routing gpt-* to the fake upstream,
// with quick retries and the circuit breaker out of the way.
func writeTestConfig(t testing.TB, dataDir string, up *fakeUpstream) {
	t.Helper()
	writeUpstreamConfig(t, dataDir, up.addr, `
[retry]
attempts = 2
base_delay = "1ms"
max_delay = "5ms"
circuit_failures = 1000000
`)
}

// writeUpstreamConfig writes DATA/config.toml routing gpt-* to the
// OpenAI-format upstream at addr (key from GATEHOUSE_TEST_KEY), with the
// presets' own models cleared and extra TOML tables appended.
func writeUpstreamConfig(tb testing.TB, dataDir, addr, extra string) {
	tb.Helper()
	src := `
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
base_url = "http://` + addr + `/v1"
models = ["gpt-*"]
key_env = "GATEHOUSE_TEST_KEY"
` + extra
	if err := os.WriteFile(filepath.Join(dataDir, "config.toml"), []byte(src), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// startTestStack runs the whole proxy stack in this process on 127.0.0.1:0 with
// dataDir, and returns its base URL.
func startTestStack(t testing.TB, dataDir string) (*stack, string) {
	t.Helper()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("instance log:\n%s", logs.String())
		}
	})
	st, err := startStack(cli.Flags{Data: dataDir, Listen: "127.0.0.1:0"}, false, log)
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
