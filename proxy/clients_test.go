package proxy

import (
	"crypto/sha256"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testToken  = "gh_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	otherToken = "gh_ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjih"
)

// tokenClient is a Client of testToken.
func tokenClient(name string) Client {
	return Client{Name: name, Hash: sha256.Sum256([]byte(testToken))}
}

// TestClientTokenInEveryKeyPlace: a tool sends its token where it would send an
// API key; the call is recorded under the client's name, the provider's own key
// goes upstream and the token never does.
func TestClientTokenInEveryKeyPlace(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	p.SetClients([]Client{tokenClient("ci-bot")})
	for _, tc := range []struct {
		name, path, body string
		headers          []string
	}{
		{"bearer", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, []string{"Authorization", "Bearer " + testToken}},
		{"x-api-key", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, []string{"x-api-key", testToken}},
		{"x-goog-api-key", "/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, []string{"x-goog-api-key", testToken}},
		{"query key", "/v1beta/models/gemini-2.5-flash:generateContent?key=" + url.QueryEscape(testToken), `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := p.do(t, "POST", tc.path, []byte(tc.body), tc.headers...)
			if resp.StatusCode() != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode(), body)
			}
			if c := p.rec.next(t); c.Client != "ci-bot" {
				t.Errorf("recorded client %q, want ci-bot", c.Client)
			}
			r := up.last()
			for k, v := range r.headers {
				if strings.Contains(v, "gh_") {
					t.Errorf("the token went upstream in %s: %s", k, v)
				}
			}
			if strings.Contains(r.query, "gh_") {
				t.Errorf("the token went upstream in the query %s", r.query)
			}
		})
	}
	// A call without a token is local.
	if resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4o","messages":[]}`)); resp.StatusCode() != 200 {
		t.Fatalf("local call: %d %s", resp.StatusCode(), body)
	}
	if c := p.rec.next(t); c.Client != LocalClient {
		t.Errorf("call without a token recorded as %q, want %q", c.Client, LocalClient)
	}
	if u := p.ClientUsage()["ci-bot"]; u.Tokens <= 0 || u.LastUsed.IsZero() {
		t.Errorf("usage of ci-bot after 4 calls: %+v", u)
	}
}

// TestClientTokenRefusals: unknown, expired and missing tokens get 401 in the
// client's format, scopes 403 naming the scope.
func TestClientTokenRefusals(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "[[route]]\nmodel = \"smart\"\ntargets = [\"ant/claude-sonnet-4-5\", \"oai/gpt-4o\"]\n")
	cfg.RequireClientToken = true
	p := newTestProxy(t, cfg, nil)
	scoped := tokenClient("scoped")
	scoped.Models = []string{"gpt-4o*", "smart", "ant/*"}
	scoped.Providers = []string{"oai"}
	expired := Client{Name: "old", Hash: sha256.Sum256([]byte(otherToken)), Expires: time.Now().Add(-time.Hour)}
	p.SetClients([]Client{scoped, expired})
	msgs := func(model string) []byte {
		return []byte(`{"model":"` + model + `","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
	}
	for _, tc := range []struct {
		name, path string
		body       []byte
		headers    []string
		status     int
		want       string
	}{
		{"no token with require_client_token", "/v1/messages", msgs("gpt-4o"), nil, 401, "require_client_token"},
		{"unknown token", "/v1/messages", msgs("gpt-4o"), []string{"x-api-key", "gh_unknown"}, 401, "not known"},
		{"expired token", "/v1/messages", msgs("gpt-4o"), []string{"x-api-key", otherToken}, 401, "expired"},
		{"model out of scope", "/v1/messages", msgs("gpt-4.1"), []string{"x-api-key", testToken}, 403, "models scope is gpt-4o*, smart, ant/*"},
		{"model and provider in scope", "/v1/messages", msgs("gpt-4o-mini"), []string{"x-api-key", testToken}, 200, ""},
		{"route narrowed to the scope", "/v1/messages", msgs("smart"), []string{"x-api-key", testToken}, 200, ""},
		{"only other providers", "/v1/chat/completions", msgs("ant/gpt-4o"), []string{"Authorization", "Bearer " + testToken}, 403, "providers scope is oai"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := p.do(t, "POST", tc.path, tc.body, tc.headers...)
			if resp.StatusCode() != tc.status || !strings.Contains(string(body), tc.want) {
				t.Fatalf("status %d %s, want %d containing %q", resp.StatusCode(), body, tc.status, tc.want)
			}
			if tc.status != 200 && tc.path == "/v1/messages" && jsonField(t, body, "type") != "error" {
				t.Errorf("not in the Anthropic error format: %s", body)
			}
		})
	}
	if r := up.last(); r.path != "/v1/chat/completions" {
		t.Errorf("the route went to %s, want oai's /v1/chat/completions (ant is out of scope)", r.path)
	}
}

// TestBudgetHoldsUnder64ConcurrentCalls: 64 calls at once with a budget of
// ten calls' tokens. Each call reserves its estimate before it is sent, so
// the calls admitted cannot together spend more than the budget plus one
// call, and the rest get 429 with Retry-After naming the budget.
func TestBudgetHoldsUnder64ConcurrentCalls(t *testing.T) {
	up := newFakeUpstream(t)
	for range 64 {
		up.then(step{hang: 100 * time.Millisecond, body: readFixture(t, "openai/chat/response_text.json")})
	}
	p := newTestProxy(t, testConfig(up, ""), nil)
	const perCall, budget = 35, 350 // the fixture's usage: 27 + 8 tokens
	c := tokenClient("team")
	c.DailyTokens = budget
	p.SetClients([]Client{c})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	start := make(chan struct{})
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4o","max_tokens":10,"messages":[{"role":"user","content":"What is the capital of Australia?"}]}`), "Authorization", "Bearer "+testToken)
			mu.Lock()
			defer mu.Unlock()
			statuses[resp.StatusCode()]++
			if resp.StatusCode() == 429 && (string(resp.Header.Peek("Retry-After")) == "" || !strings.Contains(string(body), "daily budget of 350 tokens")) {
				t.Errorf("429 without Retry-After or budget name: %s", body)
			}
		}()
	}
	close(start)
	wg.Wait()
	ok, refused := statuses[200], statuses[429]
	spent := p.ClientUsage()["team"].Tokens
	t.Logf("64 concurrent calls: %d answered, %d refused, %d tokens spent of %d", ok, refused, spent, budget)
	if ok+refused != 64 || ok == 0 || refused == 0 {
		t.Fatalf("statuses %v, want 200s and 429s only, some of each", statuses)
	}
	if spent != int64(ok*perCall) || spent > budget+perCall {
		t.Errorf("spent %d tokens in %d calls, want %d·%d and at most the budget %d plus one call", spent, ok, ok, perCall, budget)
	}
	if u := p.ClientUsage()["team"]; u.InFlight != 0 {
		t.Errorf("%d calls still hold reservations", u.InFlight)
	}
}

// TestAllowHosts: a Host this machine does not answer to is refused (DNS
// rebinding) until allow_hosts names it.
func TestAllowHosts(t *testing.T) {
	up := newFakeUpstream(t)
	body := []byte(`{"model":"gpt-4o","messages":[]}`)
	p := newTestProxy(t, testConfig(up, ""), nil)
	if resp, b := p.do(t, "POST", "/v1/chat/completions", body, "Host", "gatehouse.lan:8765"); resp.StatusCode() != 403 || !strings.Contains(string(b), "allow_hosts") {
		t.Errorf("unknown Host: %d %s, want 403 naming allow_hosts", resp.StatusCode(), b)
	}
	cfg := testConfig(up, "")
	cfg.AllowHosts = []string{"gatehouse.lan"}
	p.Reload(cfg)
	if resp, b := p.do(t, "POST", "/v1/chat/completions", body, "Host", "gatehouse.lan:8765"); resp.StatusCode() != 200 {
		t.Errorf("Host in allow_hosts: %d %s, want 200", resp.StatusCode(), b)
	}
	for name := range MachineNames() {
		if resp, b := p.do(t, "POST", "/v1/chat/completions", body, "Host", "["+name+"]"); strings.Contains(name, ":") && resp.StatusCode() != 200 {
			t.Errorf("this machine's address %s: %d %s", name, resp.StatusCode(), b)
		}
	}
}

// TestDailyUSDBudget: spend comes from the price table; once the day's
// dollars are spent, calls get 429 naming the budget.
func TestDailyUSDBudget(t *testing.T) {
	up := newFakeUpstream(t)
	// $1 a token: each call (27 + 8 tokens) costs $35.
	p := newTestProxy(t, testConfig(up, "[[price]]\nmodel = \"gpt-4o\"\ninput = 1000000.0\noutput = 1000000.0\n"), nil)
	c := tokenClient("spender")
	c.DailyUSD = 100
	p.SetClients([]Client{c})
	body := []byte(`{"model":"gpt-4o","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
	for i := range 4 {
		resp, b := p.do(t, "POST", "/v1/chat/completions", body, "Authorization", "Bearer "+testToken)
		want := 200
		if i == 3 {
			want = 429
		}
		if resp.StatusCode() != want || (want == 429 && !strings.Contains(string(b), "daily budget of $100.00")) {
			t.Fatalf("call %d: %d %s, want %d", i+1, resp.StatusCode(), b, want)
		}
	}
	if u := p.ClientUsage()["spender"]; u.USD != 105 || u.Tokens != 105 {
		t.Errorf("usage %+v, want $105 and 105 tokens", u)
	}
}
