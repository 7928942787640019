package store

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testKey    = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	testGemini = "AIzaSyTESTgeminiKEY0123456789abcdef"
)

func TestSensitiveHeader(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"Authorization", true}, {"x-api-key", true}, {"X-Goog-Api-Key", true}, {"api-key", true},
		{"Cookie", true}, {"Set-Cookie", true}, {"X-Amz-Security-Token", true}, {"X-Signature", true},
		{"Proxy-Authorization", true}, {"X-Client-Secret", true}, {"X-Credential", true}, {"X-Db-Password", true},
		{"Content-Type", false}, {"User-Agent", false}, {"Anthropic-Version", false}, {"X-Request-Id", false},
	} {
		if got := sensitiveHeader(tt.name); got != tt.want {
			t.Errorf("sensitiveHeader(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	r := newRedactor([]string{testKey})
	for _, tt := range []struct{ in, want string }{
		{"/v1beta/models/gemini-2.5-flash:generateContent?key=abc123", "/v1beta/models/gemini-2.5-flash:generateContent?key=[REDACTED]"},
		{"/x?alt=sse&key=abc&api_key=zz", "/x?alt=sse&key=[REDACTED]&api_key=[REDACTED]"},
		{"/v1/chat/completions", "/v1/chat/completions"},
		{"https://up.example/v1/" + testKey + "/x", "https://up.example/v1/[REDACTED]/x"},
	} {
		if got := r.url(tt.in); got != tt.want {
			t.Errorf("url(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestNoSecretReachesTheFile records calls carrying secrets in every place a
// call can hold them and greps the data folder's bytes for them.
func TestNoSecretReachesTheFile(t *testing.T) {
	dir := t.TempDir()
	h, err := OpenHistory(dir, Options{Secrets: func() []string { return []string{testKey, testGemini, "short"} }})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	for i := range 50 {
		c := callAt(base.Add(time.Duration(i)*time.Millisecond), OutcomeError, "openai")
		c.Path = "/v1beta/models/m:generateContent?key=" + testGemini
		c.Error = "upstream rejected key " + testKey
		c.ClientUA = "tool/" + testKey
		c.Attempts[0].URL = "https://generativelanguage.googleapis.com/v1beta/models/m?key=" + testGemini
		c.Attempts[0].Error = "401: invalid key " + testKey
		// A large body (compressed on disk) and a small one, both quoting the key.
		big := strings.Repeat(`{"echo":"`+testKey+`"},`, 2000)
		b := &Bodies{
			Request: RawMessage{
				Headers: []Header{{"Authorization", "Bearer " + testKey}, {"x-goog-api-key", testGemini}, {"X-Trace", "t=" + testKey}},
				Body:    []byte(`{"messages":[{"role":"user","content":"my key is ` + testKey + `"}]}`),
			},
			Response: RawMessage{Headers: []Header{{"Set-Cookie", "s=1"}}, Body: []byte(big)},
			Events:   []byte("data: {\"k\":\"" + testGemini + "\"}\n\n"),
		}
		h.Record(c, b)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoSecretsIn(t, dir, testKey, testGemini)

	// The calls are still there, with the secrets replaced.
	h, err = OpenHistory(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p, _ := h.List(Query{Limit: 1})
	c, err := h.Get(p.Calls[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Request.Headers[0].Value != Redacted || c.Request.Headers[1].Value != Redacted || c.Request.Headers[2].Value != "t="+Redacted {
		t.Errorf("request headers = %+v", c.Request.Headers)
	}
	if !strings.Contains(c.Request.Body, "my key is "+Redacted) {
		t.Errorf("request body = %q, want the key replaced by %s", c.Request.Body, Redacted)
	}
	if c.Path != "/v1beta/models/m:generateContent?key="+Redacted || c.Error != "upstream rejected key "+Redacted {
		t.Errorf("path %q, error %q", c.Path, c.Error)
	}
}

// assertNoSecretsIn fails if any file under dir holds any of the secrets.
func assertNoSecretsIn(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the secret %q", p, s[:8]+"…")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files in %s", dir)
	}
}

func TestBodiesCappedAndMarkedTruncated(t *testing.T) {
	h := openTest(t, Options{BodyCap: 1000, Secrets: func() []string { return []string{testKey} }})
	c := callAt(time.Now(), OutcomeOK, "openai")
	id := c.ID
	// The key straddles the cap: its first bytes must not survive the cut.
	body := strings.Repeat("a", 990) + testKey + strings.Repeat("b", 500)
	h.Record(c, &Bodies{
		Request:  RawMessage{Body: []byte(strings.Repeat("r", 999))},
		Response: RawMessage{Body: []byte(body)},
		Events:   []byte(strings.Repeat("e", 5000)),
	})
	h.Flush()
	got, err := h.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Request.Truncated || len(got.Request.Body) != 999 {
		t.Errorf("request: %d bytes truncated=%v, want 999 bytes untruncated", len(got.Request.Body), got.Request.Truncated)
	}
	if !got.Response.Truncated || len(got.Response.Body) > 1000+len(Redacted) {
		t.Errorf("response: %d bytes truncated=%v, want ≤ cap and truncated", len(got.Response.Body), got.Response.Truncated)
	}
	if strings.Contains(got.Response.Body, testKey[:8]) {
		t.Errorf("response body keeps the start of the key: ...%q", got.Response.Body[980:])
	}
	if !got.EventsTruncated || len(got.Events) != 1000 {
		t.Errorf("events: %d bytes truncated=%v, want 1000 and truncated", len(got.Events), got.EventsTruncated)
	}
}

func TestCutSecretAtCapIsRedacted(t *testing.T) {
	r := newRedactor([]string{testKey})
	body := []byte(strings.Repeat("a", 990) + testKey)
	// Cut by the proxy's capture cap in the middle of the key.
	m := prepareMessage(RawMessage{Body: body[:1000], Truncated: true}, r, 1000)
	if strings.Contains(m.Body, testKey[:10]) || !strings.HasSuffix(m.Body, Redacted) {
		t.Errorf("truncated body ends %q, want the cut key replaced by %s", m.Body[980:], Redacted)
	}
}

func TestLargeBodiesCompressed(t *testing.T) {
	r := newRedactor(nil)
	big := &Bodies{Response: RawMessage{Body: []byte(strings.Repeat(`{"text":"hello world"},`, 5000))}}
	v, err := encodeBodies(big, r, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != bodyS2 || len(v) > len(big.Response.Body)/5 {
		t.Errorf("large body: flag %d, %d bytes stored for %d, want S2 and < 1/5", v[0], len(v), len(big.Response.Body))
	}
	sb, err := decodeBodies(v)
	if err != nil || sb.Response.Body != string(big.Response.Body) {
		t.Errorf("decoded large body differs (err %v)", err)
	}
	small, _ := encodeBodies(&Bodies{Response: RawMessage{Body: []byte(`{"ok":true}`)}}, r, 1<<20)
	if small[0] != bodyPlain {
		t.Errorf("small body flag = %d, want plain", small[0])
	}
}

// A secret's anchored search finds exactly what bytes.Contains finds: at the
// start, at the end, behind a partial match, with its tail repeated.
func TestSecretSearchMatchesContains(t *testing.T) {
	keys := []string{"sk-proj-Zq81xAb3cdEF", "AIzaSyD-0123456789ab", "sk-ant-api03-QwErTy", "aaaaaaaa", "ssssssssss-Q"}
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("sk-proj-aeiouQZ0123 \"{}:,AIzaSyD")
	for _, k := range keys {
		s := newSecret(k)
		cases := [][]byte{
			[]byte(k), []byte("x" + k), []byte(k + "x"), []byte(`{"messages":"assistant` + k[:len(k)-1] + `"}`),
			[]byte(k[:s.anchor] + "!" + k[s.anchor:] + "..." + k), []byte(k[1:]), nil,
		}
		for range 2000 {
			b := make([]byte, rnd.IntN(64))
			for i := range b {
				b[i] = alphabet[rnd.IntN(len(alphabet))]
			}
			if rnd.IntN(4) == 0 {
				at := rnd.IntN(len(b) + 1)
				b = append(b[:at:at], append([]byte(k), b[at:]...)...)
			}
			cases = append(cases, b)
		}
		for _, b := range cases {
			if got, want := s.in(b), bytes.Contains(b, []byte(k)); got != want {
				t.Fatalf("secret %q (anchor %d) in %q = %v; want %v", k, s.anchor, b, got, want)
			}
		}
	}
	if s := newSecret("sk-proj-Zq81xAb3cdEF"); s.anchor == 0 {
		t.Fatal("the search starts at the s of sk-: the commonest letter of a JSON body")
	}
}

// BenchmarkRedactBodies is the secret scan of one small chat call (request and
// response bodies, no secret in them) with a user's three provider keys.
func BenchmarkRedactBodies(b *testing.B) {
	r := newRedactor([]string{"sk-proj-Zq81xAb3cdEFgh45IJkl", "sk-ant-api03-QwErTy0123456789", "AIzaSyD-0123456789abcdefgh"})
	req := []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a concise assistant. Answer in one sentence."},{"role":"user","content":"What is the capital of Australia? Please answer with its name and a short description of its history, its museums and its parks."}],"max_completion_tokens":128,"temperature":0.2,"stream":false}`)
	resp := []byte(`{"id":"chatcmpl-CZt4mQ0pJw7bYx3hV1nLk8sRfTgAe","object":"chat.completion","created":1767268800,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of Australia is Canberra, a planned city whose museums and parks sit around a lake.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":27,"completion_tokens":8,"total_tokens":35},"service_tier":"default","system_fingerprint":"fp_e6c46296c9"}`)
	b.SetBytes(int64(len(req) + len(resp)))
	for b.Loop() {
		if r.contains(req) || r.contains(resp) {
			b.Fatal("a secret found where there is none")
		}
	}
}

// Redacting a call's summary allocates nothing when it holds no secret: it runs
// for every recorded call.
func TestRedactSummaryAllocatesNothing(t *testing.T) {
	r := newRedactor([]string{"sk-proj-Zq81xAb3cdEFgh45IJkl0123456789abcdef", "sk-ant-api03-QwErTy0123456789abcdefghijkl"})
	c := &Call{Path: "/v1/chat/completions", ClientUA: "OpenAI/Python 1.99.0", Attempts: []Attempt{{URL: "https://api.openai.com/v1/chat/completions"}}}
	if n := testing.AllocsPerRun(100, func() { r.summary(c) }); n != 0 {
		t.Fatalf("%.0f allocations per summary; want 0", n)
	}
}
