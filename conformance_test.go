package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The conformance suite (issue 10 §5): the real clients people point at a local
// proxy, installed from npm, run against the real `gatehouse serve` and fake
// upstreams of every format: each client × {its own format passed through, every
// other format translated} × {text, stream, tool round trip}, plus an upstream
// that fails twice before it answers.

var updateCaptured = flag.Bool("update-captured", false,
	"rewrite testdata/conformance/captured/ from the requests the real clients send")

// targets are the upstreams a case can be routed to, with the model that reaches each.
var targetModel = map[upstreamKind]string{
	upAnthropic: "claude-sonnet-4-5",
	upOpenAI:    "gpt-4.1",
	upGemini:    "gemini-2.5-flash",
	upChatOnly:  "ollama/llama3.2",
	// A provider configured with api = "responses" (issue 10 §2, outbound).
	upResponsesOnly: "oairesp/gpt-5-pro",
}

var allTargets = []upstreamKind{upAnthropic, upOpenAI, upGemini, upChatOnly, upResponsesOnly}

// confClient is one real client and the cases it runs.
type confClient struct {
	name string
	// native is the upstream that speaks the client's own format (pass-through).
	native upstreamKind
	// responses: the client speaks the Responses API, so a Responses-only
	// upstream is passed through too.
	responses bool
	// modes: Claude Code and Codex always stream, so their "text" is a streamed answer.
	modes []string
	// perMode: one process per mode (the CLIs); else one process runs every mode.
	perMode bool
}

var confClients = []confClient{
	{"claude", upAnthropic, false, []string{"text", "tool"}, true},
	{"codex", upOpenAI, true, []string{"text", "tool"}, true},
	{"openai-chat", upOpenAI, false, []string{"text", "stream", "tool"}, false},
	{"openai-responses", upOpenAI, true, []string{"text", "stream", "tool"}, false},
	{"anthropic", upAnthropic, false, []string{"text", "stream", "tool"}, false},
	{"genai", upGemini, false, []string{"text", "stream", "tool"}, false},
	{"ai-openai", upOpenAI, true, []string{"text", "stream", "tool"}, false},
	{"ai-openai-chat", upOpenAI, false, []string{"text", "stream", "tool"}, false},
	{"ai-anthropic", upAnthropic, false, []string{"text", "stream", "tool"}, false},
}

// confCase is one cell of the matrix.
type confCase struct {
	client confClient
	mode   string
	target upstreamKind
}

func (c confCase) name() string { return c.route() + "/" + c.mode }

// passthrough says whether the target speaks the client's format.
func (c confCase) passthrough() bool {
	return c.target == c.client.native || c.client.responses && c.target == upResponsesOnly
}

// route is "client/passthrough-TARGET" or "client/translated-TARGET".
func (c confCase) route() string {
	route := "translated"
	if c.passthrough() {
		route = "passthrough"
	}
	return c.client.name + "/" + route + "-" + string(c.target)
}

// knownFailures are the cases that fail through Gatehouse today, by the work
// that fixes them: reason → cases(...). They still run: a failure is reported as
// a skip naming the reason, a pass is logged so the entry can be removed. Every
// case passes since the Responses API translation (issue 10 §2).
var knownFailures = known(map[string][]string{})

// cases names client × target × mode cells of the matrix.
func cases(clients []string, targets []upstreamKind, modes ...string) []string {
	var out []string
	for _, cl := range clients {
		for _, c := range confClients {
			if c.name != cl {
				continue
			}
			for _, t := range targets {
				for _, m := range modes {
					if slices.Contains(c.modes, m) {
						out = append(out, confCase{client: c, mode: m, target: t}.name())
					}
				}
			}
		}
	}
	return out
}

// known maps each listed case to its reason.
func known(lists map[string][]string) map[string]string {
	out := map[string]string{}
	for reason, names := range lists {
		for _, n := range names {
			out[n] = reason
		}
	}
	return out
}

func TestConformance(t *testing.T) {
	dir := realClients(t)
	testBinary(t) // build once, before the parallel cases
	sem := make(chan struct{}, conformanceParallel())
	start := time.Now()
	t.Cleanup(func() { t.Logf("conformance matrix took %v", time.Since(start).Round(time.Millisecond)) })
	for _, cl := range confClients {
		for _, target := range allTargets {
			g := confCase{client: cl, target: target}
			t.Run(g.route(), func(t *testing.T) {
				t.Parallel()
				if !cl.perMode {
					// One SDK process runs all the modes: Node's start-up is the cost.
					sem <- struct{}{}
					defer func() { <-sem }()
					runConfGroup(t, dir, g, cl.modes, false)
					return
				}
				for _, mode := range cl.modes {
					t.Run(mode, func(t *testing.T) {
						t.Parallel()
						sem <- struct{}{}
						defer func() { <-sem }()
						runConfGroup(t, dir, g, []string{mode}, true)
					})
				}
			})
		}
	}
}

// conformanceParallel is how many clients run at once: the clients and Gatehouse
// mostly wait on each other, so a few per core.
func conformanceParallel() int {
	return 4
}

// confStack is one Gatehouse with its four fake upstreams and the recording tap.
type confStack struct {
	ups  map[upstreamKind]*confUpstream
	gh   *serveProcess
	tap  *tap
	data string
}

func startConfStack(t *testing.T) *confStack {
	t.Helper()
	s := &confStack{ups: map[upstreamKind]*confUpstream{}, data: t.TempDir()}
	for _, k := range allTargets {
		s.ups[k] = startConfUpstream(t, k)
	}
	cfg := `
[retry]
attempts = 3
base_delay = "1ms"
max_delay = "5ms"

[[provider]]
name = "openai"
base_url = "http://` + s.ups[upOpenAI].addr + `/v1"
key_env = "GATEHOUSE_CONFORMANCE_KEY"

[[provider]]
name = "anthropic"
base_url = "http://` + s.ups[upAnthropic].addr + `/v1"
key_env = "GATEHOUSE_CONFORMANCE_KEY"

[[provider]]
name = "gemini"
base_url = "http://` + s.ups[upGemini].addr + `/v1beta"
key_env = "GATEHOUSE_CONFORMANCE_KEY"

[[provider]]
name = "ollama"
base_url = "http://` + s.ups[upChatOnly].addr + `/v1"
no_key = false
key_env = "GATEHOUSE_CONFORMANCE_KEY"

[[provider]]
name = "oairesp"
format = "openai"
api = "responses"
base_url = "http://` + s.ups[upResponsesOnly].addr + `/v1"
key_env = "GATEHOUSE_CONFORMANCE_KEY"
`
	if err := os.WriteFile(filepath.Join(s.data, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.gh = startServe(t, s.data, "GATEHOUSE_CONFORMANCE_KEY="+upstreamKey)
	s.tap = startTap(t, "http://"+s.gh.addr)
	return s
}

// historyCall is the part of `gatehouse history export` the suite checks.
type historyCall struct {
	Path     string `json:"path"`
	Outcome  string `json:"outcome"`
	Status   int    `json:"status"`
	Provider string `json:"provider"`
	Error    string `json:"error"`
	Attempts []struct {
		Status int `json:"status"`
	} `json:"attempts"`
	Request struct {
		Headers []struct{ Name, Value string } `json:"headers"`
	} `json:"request"`
}

// mode is the x-conformance-mode header sdk.mjs put on the call ("" if none).
func (c historyCall) mode() string {
	for _, h := range c.Request.Headers {
		if strings.EqualFold(h.Name, "x-conformance-mode") {
			return h.Value
		}
	}
	return ""
}

// history stops Gatehouse (so every call is written) and reads its history as a
// user would, with `gatehouse history export` (JSON Lines, headers included).
func (s *confStack) history(t *testing.T) []historyCall {
	t.Helper()
	if err := s.gh.stop(t); err != nil {
		t.Fatalf("gatehouse serve exit: %v\n%s", err, s.gh.stderr)
	}
	out, err := exec.Command(testBinary(t), "history", "export", "--data", s.data).Output()
	if err != nil {
		t.Fatalf("gatehouse history export: %v", err)
	}
	var calls []historyCall
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var c historyCall
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("history line: %v in %s", err, out)
		}
		calls = append(calls, c)
	}
	return calls
}

// modeResult is one mode's outcome in a client run.
type modeResult struct {
	text string
	err  error
}

// runClient runs the client once for modes (Claude Code and Codex: one mode) and
// returns each mode's final text or error.
func runClient(t *testing.T, dir string, c confCase, modes []string, base string) (map[string]modeResult, clientResult) {
	t.Helper()
	model := targetModel[c.target]
	out := map[string]modeResult{}
	var res clientResult
	switch c.client.name {
	case "claude", "codex":
		prompt := "What is the capital of Australia?"
		if modes[0] == "tool" {
			prompt = toolPhrase + ": run `echo gatehouse-$((6*7))` with your shell tool and tell me what it printed."
		}
		var r modeResult
		if c.client.name == "claude" {
			res = claudeCmd(t, dir, base, model, prompt).run(90 * time.Second)
			r.text, r.err = claudeText(res.stdout)
		} else {
			cmd, last := codexCmd(t, dir, base, model, prompt)
			res = cmd.run(90 * time.Second)
			b, err := os.ReadFile(last)
			r.text, r.err = strings.TrimSpace(string(b)), err
		}
		if res.err != nil {
			r.err = res.err
		}
		out[modes[0]] = r
		return out, res
	}
	res = sdkCmd(t, dir, c.client.name, base, model, modes).run(90 * time.Second)
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	for dec.More() {
		var line struct{ Mode, Text, Error string }
		if err := dec.Decode(&line); err != nil {
			break
		}
		r := modeResult{text: line.Text}
		if line.Error != "" {
			r.err = errors.New(line.Error)
		}
		out[line.Mode] = r
	}
	for _, m := range modes {
		if _, ok := out[m]; !ok {
			out[m] = modeResult{err: fmt.Errorf("sdk.mjs gave no result (process: %v)", res.err)}
		}
	}
	return out, res
}

// runConfGroup runs one client process on one route and checks each of its
// modes: in t itself when inPlace (t is the mode's test), else in a subtest each.
func runConfGroup(t *testing.T, dir string, g confCase, modes []string, inPlace bool) {
	s := startConfStack(t)
	results, res := runClient(t, dir, g, modes, s.tap.url)
	up := s.ups[g.target]
	// Problems per mode; "" holds those no single mode can be blamed for.
	problems := map[string][]string{}
	var scenarios []string
	for _, r := range up.requests() {
		scenarios = append(scenarios, r.Scenario)
	}
	if slices.Contains(modes, "tool") && !slices.Contains(scenarios, "after_tool") {
		problems["tool"] = append(problems["tool"], "the tool's result never reached the upstream (upstream scenarios: "+strings.Join(scenarios, ", ")+")")
	}
	for k, other := range s.ups {
		if k != g.target && len(other.requests()) > 0 {
			problems[""] = append(problems[""], "requests reached the "+string(k)+" upstream, not only the "+string(g.target)+" one")
		}
	}
	calls := s.history(t)
	if len(calls) == 0 {
		problems[""] = append(problems[""], "history recorded no call")
	}
	for _, call := range calls {
		if call.Outcome == "ok" && call.Status < 400 {
			continue
		}
		m := call.mode()
		if len(modes) == 1 {
			m = modes[0]
		}
		problems[m] = append(problems[m], "history: "+call.Path+" "+call.Outcome+" "+strconv.Itoa(call.Status)+": "+call.Error)
	}
	t.Logf("%s: client ran %v, %d client requests, %d upstream requests", g.route(), res.took.Round(time.Millisecond), len(s.tap.requests()), len(up.requests()))
	for _, mode := range modes {
		c := g
		c.mode = mode
		if *updateCaptured && capturedRoute(c) {
			writeCaptured(t, c, s.tap.forMode(mode, len(modes) == 1))
		}
		check := func(t *testing.T) {
			r := results[mode]
			ps := append(problems[""], problems[mode]...)
			if r.err != nil {
				ps = append(ps, "client failed: "+r.err.Error())
			}
			if r.text != fixtureText {
				ps = append(ps, "client's answer "+strconv.Quote(r.text)+", want "+strconv.Quote(fixtureText))
			}
			report(t, c.name(), ps, s, res)
		}
		if inPlace {
			check(t)
		} else {
			t.Run(mode, check)
		}
	}
}

// TestConformanceRetry: an upstream that answers 502 twice, then 200. The client
// sees one success; the history shows one call with three attempts.
func TestConformanceRetry(t *testing.T) {
	dir := realClients(t)
	testBinary(t)
	byName := map[string]confClient{}
	for _, c := range confClients {
		byName[c.name] = c
	}
	for _, c := range []confCase{
		{client: byName["openai-chat"], mode: "text", target: upOpenAI},
		{client: byName["anthropic"], mode: "stream", target: upAnthropic},
		{client: byName["genai"], mode: "text", target: upOpenAI}, // translated
		{client: byName["claude"], mode: "text", target: upAnthropic},
	} {
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			s := startConfStack(t)
			s.ups[c.target].failNext.Store(2)
			results, res := runClient(t, dir, c, []string{c.mode}, s.tap.url)
			var problems []string
			if r := results[c.mode]; r.err != nil || r.text != fixtureText {
				problems = append(problems, fmt.Sprintf("client: %v, answer %q", r.err, r.text))
			}
			if n := len(s.tap.requests()); n != 1 {
				problems = append(problems, fmt.Sprintf("the client sent %d requests, want 1", n))
			}
			var statuses []int
			for _, r := range s.ups[c.target].requests() {
				statuses = append(statuses, r.Status)
			}
			if !slices.Equal(statuses, []int{502, 502, 200}) {
				problems = append(problems, fmt.Sprintf("upstream answered %v, want [502 502 200]", statuses))
			}
			calls := s.history(t)
			if len(calls) != 1 {
				problems = append(problems, fmt.Sprintf("history has %d calls, want 1: %+v", len(calls), calls))
			}
			for _, call := range calls {
				var got []int
				for _, a := range call.Attempts {
					got = append(got, a.Status)
				}
				if call.Outcome != "ok" || !slices.Equal(got, []int{502, 502, 200}) {
					problems = append(problems, fmt.Sprintf("history: outcome %s, attempts %v; want ok with attempts [502 502 200]", call.Outcome, got))
				}
			}
			report(t, "retry/"+c.name(), problems, s, res)
		})
	}
}

// report fails t with problems, or skips it if name is a known failure.
func report(t *testing.T, name string, problems []string, s *confStack, res clientResult) {
	t.Helper()
	reason, isKnown := knownFailures[name]
	switch {
	case len(problems) > 0 && isKnown:
		t.Skipf("known failure (%s):\n%s", reason, strings.Join(problems, "\n"))
	case len(problems) > 0:
		t.Errorf("%s\nclient requests:\n%s\nclient stderr:\n%s\nclient stdout:\n%s\ngatehouse log:\n%s",
			strings.Join(problems, "\n"), s.tap.endpoints(), tail(res.stderr, 3000), tail(res.stdout, 3000), tail(s.gh.stderr.String(), 3000))
	case isKnown:
		t.Logf("listed as a known failure (%s) but passes now: remove it from its list", reason)
	}
}

// tail is the end of s, at most n bytes: client logs can be long.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// clientPackages are the npm packages behind each client name.
var clientPackages = map[string][]string{
	"claude":           {"@anthropic-ai/claude-code"},
	"codex":            {"@openai/codex"},
	"openai-chat":      {"openai"},
	"openai-responses": {"openai"},
	"anthropic":        {"@anthropic-ai/sdk"},
	"genai":            {"@google/genai"},
	"ai-openai":        {"ai", "@ai-sdk/openai"},
	"ai-openai-chat":   {"ai", "@ai-sdk/openai"},
	"ai-anthropic":     {"ai", "@ai-sdk/anthropic"},
}

// clientCapture is one file of testdata/conformance/captured/.
type clientCapture struct {
	Client   string            `json:"client"`
	Packages []string          `json:"packages"`
	Mode     string            `json:"mode"`
	Model    string            `json:"model"`
	Requests []capturedRequest `json:"requests"`
}

// capturedRoute says whether a case's requests are saved: every pass-through case,
// and for the CLIs also one translated target, since what they send depends on
// the model (Claude Code puts role "system" items in messages for a model it does
// not know).
func capturedRoute(c confCase) bool {
	return c.target == c.client.native ||
		c.client.name == "claude" && c.target == upOpenAI ||
		c.client.name == "codex" && c.target == upAnthropic
}

// writeCaptured saves the requests a client sent in a case: captured/CLIENT_MODE.json
// when passed through, CLIENT_MODE_model-MODEL.json otherwise.
func writeCaptured(t *testing.T, c confCase, reqs []capturedRequest) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(conformanceDir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	cp := clientCapture{Client: c.client.name, Mode: c.mode, Model: targetModel[c.target], Requests: reqs}
	for _, p := range clientPackages[c.client.name] {
		cp.Packages = append(cp.Packages, p+"@"+pkg.Dependencies[p])
	}
	out, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(conformanceDir, "captured")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := c.client.name + "_" + c.mode
	if c.target != c.client.native {
		name += "_model-" + targetModel[c.target]
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConformanceKnownFailuresExist keeps the known-failure lists honest: each
// entry must name a case the matrix runs (a typo would silence nothing).
func TestConformanceKnownFailuresExist(t *testing.T) {
	all := map[string]bool{}
	for _, cl := range confClients {
		for _, target := range allTargets {
			for _, m := range cl.modes {
				all[confCase{client: cl, mode: m, target: target}.name()] = true
			}
		}
	}
	for name := range knownFailures {
		if !all[name] && !strings.HasPrefix(name, "retry/") {
			t.Errorf("known failure %q is not a case of the matrix", name)
		}
	}
}
