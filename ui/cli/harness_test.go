package cli

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/oklog/ulid/v2"
	"github.com/valyala/fasthttp"
)

// gatehouse runs a command line in this process.
func gatehouse(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(args, strings.NewReader(stdin), &out, &errb, "test")
	return code, out.String(), errb.String()
}

// upstream is a real fasthttp server on 127.0.0.1 standing in for a provider. It
// accepts only "Authorization: Bearer <want>" and records the keys it saw.
type upstream struct {
	URL  string
	mu   sync.Mutex
	want string
	seen []string
}

func newUpstream(t *testing.T, want string) *upstream {
	t.Helper()
	u := &upstream{want: want}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		got := string(ctx.Request.Header.Peek("Authorization"))
		u.mu.Lock()
		u.seen = append(u.seen, got)
		ok := got == "Bearer "+u.want
		u.mu.Unlock()
		ctx.SetContentType("application/json")
		if !ok {
			ctx.SetStatusCode(401)
			ctx.SetBodyString(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		if string(ctx.Path()) == "/v1/models" {
			ctx.SetBodyString(`{"object":"list","data":[{"id":"m1","object":"model"}]}`)
			return
		}
		ctx.SetBodyString(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m1","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	u.URL = "http://" + ln.Addr().String()
	return u
}

func (u *upstream) lastKey() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		return ""
	}
	return strings.TrimPrefix(u.seen[len(u.seen)-1], "Bearer ")
}

// dataWithProvider returns a data folder whose config has provider "local"
// pointing at base.
func dataWithProvider(t *testing.T, base string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := "# test config\n[[provider]]\nname = \"local\"\nformat = \"openai\"\nbase_url = \"" + base + "/v1\"\nkey_env = \"LOCAL_TEST_KEY\"\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// assertNotInDir fails if secret's bytes appear in any file under dir.
func assertNotInDir(t *testing.T, dir, secret string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the secret is in %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func keyRows(t *testing.T, out string) map[string]KeyStatus {
	t.Helper()
	rows := map[string]KeyStatus{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r KeyStatus
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("keys list --json line %q: %v", line, err)
		}
		rows[r.Provider] = r
	}
	return rows
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

// seedHistory writes calls straight into DATA/history.db: five ok calls with
// openai in the last minutes, two failed ones with anthropic, and one ok call
// two days old. It returns the ids, newest first.
func seedHistory(t *testing.T, dataDir string) []string {
	t.Helper()
	h, err := store.OpenHistory(dataDir, store.Options{MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ids []string
	add := func(at time.Time, outcome, provider string, status int, content string) {
		c := &store.Call{
			ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), Time: at,
			Method: "POST", Path: "/v1/chat/completions", ClientUA: "cli-test/1", InboundFormat: "openai",
			Model: "gpt-4o", Provider: provider, UpstreamModel: "gpt-4o-up", Outcome: outcome, Status: status,
			DurationMS: 250, TTFBMS: 90,
			Attempts:    []store.Attempt{{Provider: provider, Model: "gpt-4o-up", Status: status, ErrorClass: "", DurationMS: 200}},
			InputTokens: store.Tokens(27), OutputTokens: store.Tokens(-1),
		}
		if outcome != store.OutcomeOK {
			c.Error = "upstream answered 502"
			c.Attempts[0].Error, c.Attempts[0].ErrorClass = "bad gateway", "upstream_5xx"
		}
		ids = append([]string{c.ID}, ids...)
		h.Record(c, &store.Bodies{
			Request:  store.RawMessage{Headers: []store.Header{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(`{"messages":[{"content":"` + content + `"}]}`)},
			Response: store.RawMessage{Headers: []store.Header{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(`{"answer":"Canberra"}`)},
		})
	}
	add(now.Add(-48*time.Hour), store.OutcomeOK, "openai", 200, "old question")
	for i := range 5 {
		add(now.Add(time.Duration(i-10)*time.Minute), store.OutcomeOK, "openai", 200, "question "+string(rune('a'+i)))
	}
	add(now.Add(-3*time.Minute), store.OutcomeError, "anthropic", 502, "failing question one")
	add(now.Add(-2*time.Minute), store.OutcomeError, "anthropic", 502, "failing question two")
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	return ids
}
