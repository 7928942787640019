package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/store"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// startAnthropicUpstream is an Anthropic-format provider on 127.0.0.1: a
// request whose body holds "flaky" gets a 502 the first two times, one with
// "always-down" always; every answer quotes the x-api-key it got, as a
// careless upstream might.
func startAnthropicUpstream(t testing.TB) string {
	t.Helper()
	var flaky atomic.Int64
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		key := string(ctx.Request.Header.Peek("x-api-key"))
		ctx.SetContentType("application/json")
		if bytes.Contains(ctx.PostBody(), []byte("always-down")) || bytes.Contains(ctx.PostBody(), []byte("flaky")) {
			if n := flaky.Add(1); n <= 2 || bytes.Contains(ctx.PostBody(), []byte("always-down")) {
				ctx.Response.Header.Set("request-id", fmt.Sprintf("req_flaky_%d", n))
				ctx.SetStatusCode(502)
				fmt.Fprintf(ctx, `{"type":"error","error":{"type":"api_error","message":"upstream hiccup %d"}}`, n)
				return
			}
		}
		ctx.Response.Header.Set("request-id", "req_ok")
		ctx.Response.Header.Set("anthropic-ratelimit-requests-remaining", "99")
		fmt.Fprintf(ctx, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5",`+
			`"content":[{"type":"text","text":"Canberra (your key was %s)"}],"stop_reason":"end_turn","stop_sequence":null,`+
			`"usage":{"input_tokens":12,"output_tokens":6}}`, key)
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// writeAnthropicConfig is writeUpstreamConfig plus provider "ant" (claude-*)
// at the Anthropic-format upstream antAddr, three attempts per target with
// quick retries, a circuit that opens after circuitFailures failures in a row
// for a minute, and extra TOML appended.
func writeAnthropicConfig(t testing.TB, dir, upAddr, antAddr string, circuitFailures int, extra string) {
	t.Helper()
	writeUpstreamConfig(t, dir, upAddr, fmt.Sprintf(`
[retry]
attempts = 3
base_delay = "1ms"
max_delay = "5ms"
circuit_failures = %d
circuit_cooldown = "1m"

[[provider]]
name = "ant"
format = "anthropic"
base_url = "http://%s/v1"
models = ["claude-*"]
key_env = "GATEHOUSE_TEST_KEY"
`, circuitFailures, antAddr)+extra)
}

// TestHistoryShowsAttemptsAsSentOverTheWire: an OpenAI client calls a Claude
// model (translated to an Anthropic upstream) that fails 502, 502, then
// answers; `history show` prints three wire records with the Anthropic body as
// sent, the upstream's statuses, request ids and bodies, and the key only as
// its source and mask. A same-format call stores its body once. The provider
// key is nowhere in the data folder.
func TestHistoryShowsAttemptsAsSentOverTheWire(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t, "")
	ant := startAnthropicUpstream(t)
	writeAnthropicConfig(t, dir, up.addr, ant, 1000000, "")
	t.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	st, base := startTestStack(t, dir)

	body := `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"a flaky question"}]}`
	resp, err := testHTTP.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Gatehouse-Call")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Gatehouse-Attempts") != "3" {
		t.Fatalf("status %d, X-Gatehouse-Attempts %q: want 200 after 3 attempts", resp.StatusCode, resp.Header.Get("X-Gatehouse-Attempts"))
	}
	same, status := chat(t, base, "a same-format question", "")
	if status != http.StatusOK {
		t.Fatalf("same-format call: status %d", status)
	}
	st.history.Flush()

	// While it runs, the CLI reads the record through the admin API.
	code, out, errOut := gatehouse(t, "", "history", "show", id, "--data", dir)
	if code != 0 {
		t.Fatalf("history show: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Attempts (3, 3 sent upstream)",
		"→ POST http://" + ant + "/v1/messages",
		"x-api-key: [REDACTED]",
		"key env GATEHOUSE_TEST_KEY sk-…a8e0",
		"← 502", "request-id: req_flaky_1", "upstream hiccup 2", "← 200", "request-id: req_ok",
		`"max_tokens"`, // the Anthropic request as sent, not the client's
	} {
		if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
			t.Errorf("history show lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "→ POST"); n != 3 {
		t.Errorf("history show prints %d requests sent, want 3:\n%s", n, out)
	}

	code, out, _ = gatehouse(t, "", "history", "show", id, "--data", dir, "--json")
	if code != 0 {
		t.Fatalf("history show --json: exit %d", code)
	}
	atts := gjson.Get(out, "attempts").Array()
	if len(atts) != 3 {
		t.Fatalf("--json: %d attempts, want 3", len(atts))
	}
	sent := atts[2].Get("wire.request.body").String()
	if gjson.Get(sent, "max_tokens").Int() == 0 || gjson.Get(sent, "messages.0.content").String() == "" || atts[2].Get("wire.request_same_as_client").Bool() {
		t.Errorf("the translated attempt's body as sent = %s: want the Anthropic request", sent)
	}
	if got := atts[2].Get("wire.response.body").String(); gjson.Get(got, "type").String() != "message" || !strings.Contains(got, store.Redacted) {
		t.Errorf("the upstream's answer as received = %s: want the Anthropic message with the quoted key redacted", got)
	}
	for i, a := range atts {
		if a.Get("key_source").String() != "env GATEHOUSE_TEST_KEY" || a.Get("method").String() != "POST" || a.Get("first_byte_ms").Exists() && a.Get("first_byte_ms").Int() < 0 {
			t.Errorf("attempt %d: %s", i, a.Raw)
		}
	}

	code, out, _ = gatehouse(t, "", "history", "show", same, "--data", dir, "--json")
	w := gjson.Get(out, "attempts.0.wire")
	if code != 0 || !w.Get("request_same_as_client").Bool() || !w.Get("response_same_as_client").Bool() ||
		w.Get("request.body").String() != gjson.Get(out, "request.body").String() {
		t.Errorf("same-format call: wire %s: want both bodies the client's, stored once", w.Raw)
	}

	st.stop()
	assertNotInDir(t, dir, testProviderKey)
	assertNotInDir(t, dir, testProviderKey[:16])
	// Stopped, the same command reads the file itself.
	code, out, _ = gatehouse(t, "", "history", "show", id, "--data", dir)
	if code != 0 || strings.Count(out, "→ POST") != 3 {
		t.Errorf("history show from the file: exit %d:\n%s", code, out)
	}
}

// TestHistoryShowsCircuitEvents: a route's first target fails until its
// circuit opens and the fallback answers; the next call skips it. `history
// show` prints both events, and its tries count is the X-Gatehouse-Attempts
// the client got.
func TestHistoryShowsCircuitEvents(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t, "")
	ant := startAnthropicUpstream(t)
	writeAnthropicConfig(t, dir, up.addr, ant, 3, `
[[route]]
model = "smart"
targets = ["ant/claude-sonnet-4-5", "up/gpt-4o"]
`)
	t.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	st, base := startTestStack(t, dir)
	call := func() (id, attempts string) {
		resp, err := testHTTP.Post(base+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"smart","messages":[{"role":"user","content":"always-down"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want the fallback's answer", resp.StatusCode)
		}
		return resp.Header.Get("X-Gatehouse-Call"), resp.Header.Get("X-Gatehouse-Attempts")
	}
	opened, n1 := call()
	skipped, n2 := call()
	st.history.Flush()
	for _, tc := range []struct {
		id, header string
		want       []string
	}{
		{opened, n1, []string{"Attempts (4, 4 sent upstream)", "circuit opened: ant skipped until "}},
		{skipped, n2, []string{"Attempts (2, 1 sent upstream)", "Attempt 1 · ant claude-sonnet-4-5 · skipped", "circuit open: ant skipped until "}},
	} {
		code, out, errOut := gatehouse(t, "", "history", "show", tc.id, "--data", dir)
		if code != 0 {
			t.Fatalf("history show: exit %d: %s", code, errOut)
		}
		for _, want := range tc.want {
			if !strings.Contains(out, want) {
				t.Errorf("history show %s lacks %q:\n%s", tc.id, want, out)
			}
		}
		if !strings.Contains(out, ", "+tc.header+" sent upstream)") {
			t.Errorf("X-Gatehouse-Attempts %s disagrees with history show:\n%s", tc.header, out)
		}
	}
}
