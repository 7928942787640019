package ui

import (
	"bytes"
	"fmt"
	"image/color"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse/gatehouse/assets"
	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

func att(provider string, status int, class proxy.ErrorClass) store.Attempt {
	return store.Attempt{Provider: provider, Model: "m", Status: status, ErrorClass: string(class), URL: "https://api.example.com/v1/chat"}
}

func TestDiagnose(t *testing.T) {
	keychain := func(string) KeySource { return KeyKeychain }
	tests := []struct {
		name string
		call store.Call
		keys func(string) KeySource
		want string // "" means no diagnosis
	}{
		{"clean", store.Call{Outcome: store.OutcomeOK, Attempts: []store.Attempt{att("openai", 200, "")}}, nil, ""},
		{"502 thrice then fallback", store.Call{Outcome: store.OutcomeOK, Attempts: []store.Attempt{
			att("openai", 502, proxy.ClassUpstream5xx), att("openai", 502, proxy.ClassUpstream5xx),
			att("openai", 502, proxy.ClassUpstream5xx), att("anthropic", 200, "")}}, nil,
			"openai's gateway answered 502 3 times: its service is degraded; the fallback (anthropic/m) answered."},
		{"ollama down", store.Call{Outcome: store.OutcomeError, Attempts: []store.Attempt{
			{Provider: "ollama", ErrorClass: string(proxy.ClassRefused), URL: "http://127.0.0.1:11434/v1/chat/completions"}}}, nil,
			"connection refused at http://127.0.0.1:11434: is Ollama running?"},
		{"keychain key rejected", store.Call{Outcome: store.OutcomeError, Attempts: []store.Attempt{att("anthropic", 401, proxy.ClassAuth)}}, keychain,
			"401: the key in the keychain for anthropic was rejected: replace it."},
		{"no key", store.Call{Outcome: store.OutcomeError, Attempts: []store.Attempt{att("anthropic", 401, proxy.ClassAuth)}}, nil,
			"401: anthropic rejected the request's key: add a key for anthropic in Providers."},
		{"slow", store.Call{Outcome: store.OutcomeError, Attempts: []store.Attempt{att("openai", 0, proxy.ClassFirstByteTimeout)}}, nil,
			"no first byte within the first_byte_timeout: raise first_byte_timeout or pick a faster model."},
		{"retry worked", store.Call{Outcome: store.OutcomeOK, Attempts: []store.Attempt{att("openai", 429, proxy.ClassRateLimited), att("openai", 200, "")}}, nil,
			"openai rate-limited the key (429) once: slow down, raise your plan's limit or add a fallback; a retry succeeded."},
		{"client left", store.Call{Outcome: store.OutcomeClientCancelled, Attempts: []store.Attempt{att("openai", 200, "")}}, nil,
			"the client hung up before the answer was complete: nothing went wrong upstream."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diagnose(&tt.call, tt.keys); got != tt.want {
				t.Errorf("Diagnose got\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
	// Every error class gets words of its own, never the raw class name alone.
	for _, class := range proxy.ErrorClasses {
		c := store.Call{Outcome: store.OutcomeError, Attempts: []store.Attempt{att("p", 500, class)}}
		if got := Diagnose(&c, nil); got == "" || got == "p answered 500 once." {
			t.Errorf("class %s: generic diagnosis %q", class, got)
		}
	}
}

func TestCurlCommand(t *testing.T) {
	c := &store.Call{Method: "POST", Path: "/v1/messages", InboundFormat: "anthropic", Stream: true,
		Request: &store.Message{
			Headers: []store.Header{{Name: "x-api-key", Value: "sk-ant-123"}, {Name: "anthropic-version", Value: "2023-06-01"},
				{Name: "Content-Length", Value: "42"}, {Name: "X-Session-Secret", Value: "[REDACTED]"},
				{Name: "Authorization", Value: "[REDACTED]"}, {Name: "X-Odd$Token`", Value: "[REDACTED]"}},
			Body: `{"model":"claude","messages":[{"role":"user","content":"it's"}]}`,
		}}
	got := curlCommand(c, "127.0.0.1:8765", "linux")
	// Every header is kept; each value history redacted is a variable.
	want := `curl 'http://127.0.0.1:8765/v1/messages' \
  -H "x-api-key: $ANTHROPIC_API_KEY" \
  -H 'anthropic-version: 2023-06-01' \
  -H "X-Session-Secret: $X_SESSION_SECRET" \
  -H "Authorization: $AUTHORIZATION" \
  -H "X-Odd\$Token\` + "`" + `: $X_ODD_TOKEN_" \
  --data-binary '{"model":"claude","messages":[{"role":"user","content":"it'\''s"}]}' \
  --no-buffer`
	if got != want {
		t.Errorf("CurlCommand got\n%s\nwant\n%s", got, want)
	}
}

// Today's figures come from the chart's buckets (one scan for both).
func TestSumBucketsAndChart(t *testing.T) {
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got := []Bucket{
		{Start: since, Calls: 2, Failed: 1, InputTokens: 10, OutputTokens: 5},
		{Start: since.Add(5 * time.Minute), Calls: 1, InputTokens: 3, OutputTokens: 1},
		{Start: since.Add(10 * time.Minute)},
	}
	if s := sumBuckets(got, since.Add(5*time.Minute)); s != (Stats{Calls: 1, InputTokens: 3, OutputTokens: 1}) {
		t.Errorf("sum from the second bucket %+v, want 1 call, 3/1 tokens", s)
	}
	if s := sumBuckets(got, since); s != (Stats{Calls: 3, Failed: 1, InputTokens: 13, OutputTokens: 6}) {
		t.Errorf("sum of all buckets %+v, want 3 calls, 1 failed, 13/6 tokens", s)
	}
	img := drawActivity(got, 30, 20, color.White, color.Black, color.White)
	if img.Bounds().Dx() != 30 {
		t.Errorf("chart width %d", img.Bounds().Dx())
	}
}

func TestStatusLine(t *testing.T) {
	got := statusLine("127.0.0.1:8765", false, Stats{Calls: 1204, Failed: 3})
	if want := "Listening on 127.0.0.1:8765 · 1,204 calls today · 3 failed"; got != want {
		t.Errorf("statusLine got %q, want %q", got, want)
	}
	if got := statusLine("127.0.0.1:8765", true, Stats{Calls: 1}); got != "Paused on 127.0.0.1:8765 · 1 call today · 0 failed" {
		t.Errorf("paused statusLine got %q", got)
	}
	for _, tt := range []struct {
		paused, failed bool
		want           assets.TrayState
	}{{false, false, assets.TrayRunning}, {false, true, assets.TrayFailures}, {true, true, assets.TrayPaused}} {
		if got := trayState(tt.paused, tt.failed); got != tt.want {
			t.Errorf("trayState(%v, %v) got %v, want %v", tt.paused, tt.failed, got, tt.want)
		}
	}
}

func TestHealthNotifications(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var sent []string
	enabled := true
	h := newHealthWatch(func() time.Time { return now }, func() bool { return enabled }, func(title, _ string) {
		mu.Lock()
		sent = append(sent, title)
		mu.Unlock()
	})
	fail := &store.Call{Outcome: store.OutcomeError, Attempts: []store.Attempt{att("openai", 502, proxy.ClassUpstream5xx)}}
	ok := &store.Call{Outcome: store.OutcomeOK, Attempts: []store.Attempt{att("openai", 200, "")}}
	// One call with three failed attempts is one failed call, not three.
	h.observe(&store.Call{Outcome: store.OutcomeError, Attempts: []store.Attempt{
		att("openai", 502, proxy.ClassUpstream5xx), att("openai", 502, proxy.ClassUpstream5xx), att("openai", 502, proxy.ClassUpstream5xx)}})
	if len(sent) != 0 {
		t.Fatalf("one call with three failed attempts sent %v", sent)
	}
	h.observe(ok)

	h.observe(fail)
	h.observe(fail)
	if len(sent) != 0 || !h.failedRecently() {
		t.Fatalf("after 2 failures: sent %v, failedRecently %v", sent, h.failedRecently())
	}
	h.observe(fail)
	h.observe(fail)
	if fmt.Sprint(sent) != "[openai is failing]" {
		t.Fatalf("after 4 failures sent %v, want one failing notice", sent)
	}
	now = now.Add(time.Minute)
	h.observe(ok) // recovered, but notified a minute ago: quiet
	h.circuit("openai", true)
	if len(sent) != 1 {
		t.Fatalf("within 5 minutes sent %v", sent)
	}
	now = now.Add(5 * time.Minute)
	h.circuit("openai", false)
	if fmt.Sprint(sent) != "[openai is failing openai recovered]" {
		t.Fatalf("after 6 minutes sent %v", sent)
	}
	if h.failedRecently() {
		t.Error("a failure 6 minutes ago still counts as recent")
	}
	enabled = false
	now = now.Add(time.Hour)
	h.circuit("anthropic", true)
	if len(sent) != 2 {
		t.Errorf("notifications off, yet sent %v", sent)
	}
}

func TestBodyLinesLargeBody(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"messages":[`)
	for b.Len() < 6<<20 {
		b.WriteString(`{"role":"user","content":"` + strings.Repeat("lorem ipsum ", 20) + `"},`)
	}
	b.WriteString(`{"role":"user","content":"end"}]}`)
	start := time.Now()
	lines, note := bodyLines(b.Bytes(), true)
	if !strings.Contains(note, "truncated") || !strings.Contains(note, "showing the first 2.0 MiB") {
		t.Errorf("note %q, want it to say what was cut", note)
	}
	if lines[0] != "{" || !strings.HasPrefix(lines[2], "    {") {
		t.Errorf("not pretty-printed: %q", lines[:3])
	}
	total := 0
	for _, l := range lines {
		total += len(l)
	}
	if total > maxShownBytes {
		t.Errorf("shows %d bytes, more than the %d cap", total, maxShownBytes)
	}
	t.Logf("6 MiB body prepared in %v", time.Since(start))
	long, _ := bodyLines([]byte(strings.Repeat("é", maxLineRunes+100)), false)
	if n := len([]rune(long[0])); n != maxLineRunes+2 {
		t.Errorf("a long line shows %d runes, want %d", n, maxLineRunes+2)
	}
}

func TestResponseText(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{`{"choices":[{"message":{"content":"Hi"}}]}`, "Hi"},
		{`{"content":[{"type":"text","text":"Hello"},{"type":"tool_use","name":"x"}]}`, "Hello"},
		{`{"candidates":[{"content":{"parts":[{"text":"A"},{"text":"B"}]}}]}`, "A\nB"},
		{`not json`, ""},
	} {
		if got := responseText([]byte(tt.body)); got != tt.want {
			t.Errorf("responseText(%s) got %q, want %q", tt.body, got, tt.want)
		}
	}
}

// TestReplay sends a recorded call to a real fasthttp server standing in for
// the proxy: same method, path and body, no credential header, and the new
// call's ID comes back.
func TestReplay(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		method, path, body, auth, apiKey, version string
	}
	got := make(chan seen, 1)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		got <- seen{string(ctx.Method()), string(ctx.Path()), string(ctx.PostBody()),
			string(ctx.Request.Header.Peek("Authorization")), string(ctx.Request.Header.Peek("x-api-key")),
			string(ctx.Request.Header.Peek("anthropic-version"))}
		ctx.Response.Header.Set(callIDHeader, "01NEWCALL")
		ctx.SetBodyString(`{"ok":true}`)
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { _ = srv.Shutdown() })

	c := &store.Call{Method: "POST", Path: "/v1/messages", ClientUA: "claude-cli/1.0", Request: &store.Message{
		Headers: []store.Header{{Name: "Authorization", Value: "[REDACTED]"}, {Name: "x-api-key", Value: "[REDACTED]"}, {Name: "anthropic-version", Value: "2023-06-01"}},
		Body:    `{"model":"claude"}`,
	}}
	id, err := Replay(t.Context(), ln.Addr().String(), c, false)
	if err != nil || id != "01NEWCALL" {
		t.Fatalf("Replay got %q, %v; want 01NEWCALL", id, err)
	}
	s := <-got
	if s.method != "POST" || s.path != "/v1/messages" || s.body != `{"model":"claude"}` || s.version != "2023-06-01" {
		t.Errorf("proxy saw %+v", s)
	}
	if s.auth != "" || s.apiKey != "" {
		t.Errorf("replay sent credential headers: %q %q", s.auth, s.apiKey)
	}
}

func TestCompact(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0"}, {1204, "1,204"}, {99_999, "99,999"}, {100_000, "100.0k"}, {999_949, "999.9k"}, {1_234_567, "1.23M"}, {987_654_321, "987.7M"}, {2_500_000_000, "2.5G"}} {
		if got := compact(tt.n); got != tt.want {
			t.Errorf("compact(%d) got %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{time.Minute, "1m"}, {30 * 24 * time.Hour, "30 days"}, {24 * time.Hour, "1 day"}, {250 * time.Millisecond, "250ms"},
		{90 * time.Second, "90s"}, {2 * time.Hour, "2h"}, {0, "0s"}, {1500 * time.Millisecond, "1.5s"}} {
		got := humanDuration(tt.d)
		if got != tt.want {
			t.Errorf("humanDuration(%v) got %q, want %q", tt.d, got, tt.want)
		}
		if back, err := parseHumanDuration(got); err != nil || back != tt.d {
			t.Errorf("parseHumanDuration(%q) got %v, %v; want %v", got, back, err, tt.d)
		}
	}
	for _, in := range []string{"2 weeks", "30d", "1m30s"} {
		if _, err := parseHumanDuration(in); err != nil {
			t.Errorf("parseHumanDuration(%q): %v", in, err)
		}
	}
	if _, err := parseHumanDuration("soon"); err == nil {
		t.Error(`parseHumanDuration("soon") gave no error`)
	}
}
