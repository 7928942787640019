package ui

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// overlayButton finds the button labelled text in w's dialogs.
func overlayButton(w fyne.Window, text string) *widget.Button {
	for _, o := range w.Canvas().Overlays().List() {
		for _, c := range test.LaidOutObjects(o) {
			if b, ok := c.(*widget.Button); ok && b.Text == text {
				return b
			}
		}
	}
	return nil
}

// overlayLabels are the label texts of w's dialogs.
func overlayLabels(w fyne.Window) string {
	var out []string
	for _, o := range w.Canvas().Overlays().List() {
		for _, c := range test.LaidOutObjects(o) {
			if l, ok := c.(*widget.Label); ok {
				out = append(out, l.Text)
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestClientsScreen: a new client's token is shown once with Copy and only
// its hash is stored; the list shows usage against the budget; Revoke
// removes it after a confirmation.
func TestClientsScreen(t *testing.T) {
	e := newTestEnv(t)
	dir := t.TempDir()
	var applied []store.Client
	var mu sync.Mutex
	book := &cli.ClientBook{DataDir: dir, Apply: func(l []store.Client) { mu.Lock(); applied = l; mu.Unlock() }}
	e.b.Clients = ClientTokens{Book: book, Usage: func() map[string]proxy.ClientUsage {
		return map[string]proxy.ClientUsage{"ci-bot": {Tokens: 1200}}
	}}
	a := newTestApp(t, e)
	a.ShowTab(TabClients)
	s := a.clients

	spec, err := clientSpecOf("ci-bot", "gpt-4o*, claude-*", "", "100000", "", "30")
	if err != nil {
		t.Fatal(err)
	}
	s.create(spec)
	w := a.Window()
	pump(t, "the token dialog", func() bool { return overlayButton(w, "Copy") != nil })
	test.Tap(overlayButton(w, "Copy"))
	tok := a.fy.Clipboard().Content()
	if !strings.HasPrefix(tok, "gh_") || len(tok) != 46 || !strings.Contains(overlayLabels(w), tok) {
		t.Fatalf("copied %q; dialog shows %q", tok, overlayLabels(w))
	}
	b, _ := os.ReadFile(filepath.Join(dir, store.ClientsFile))
	if strings.Contains(string(b), tok) || !strings.Contains(string(b), store.HashToken(tok)) {
		t.Errorf("clients file holds the token or lacks its hash:\n%s", b)
	}
	mu.Lock()
	if len(applied) != 1 {
		t.Errorf("the proxy got %d clients, want 1", len(applied))
	}
	mu.Unlock()
	test.Tap(overlayButton(w, "Done"))
	pump(t, "the row", func() bool { return len(s.rowsOf) == 1 && len(s.rows.Objects) == 1 })
	row := strings.Join(labels(s.rows.Objects[0].(*widget.Card).Content), " | ")
	for _, want := range []string{"ci-bot", "models gpt-4o*, claude-*", "today 1200 / 100000 tokens", "never used", "expires"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}

	var revoke *widget.Button
	for _, o := range test.LaidOutObjects(s.rows) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Revoke" {
			revoke = b
		}
	}
	test.Tap(revoke)
	pump(t, "the confirmation", func() bool { return overlayButton(w, "Yes") != nil })
	test.Tap(overlayButton(w, "Yes"))
	pump(t, "the revoked list", func() bool { return len(s.rowsOf) == 0 && strings.Contains(s.status.Text, "No client tokens") })
	if list, _ := store.LoadClients(dir); len(list) != 0 {
		t.Errorf("after Revoke the file still holds %v", list)
	}
}

func TestClientSpecOfRefusesBadInput(t *testing.T) {
	for _, tc := range []struct{ name, tokens, usd, days, want string }{
		{"local", "", "", "", "name"},
		{"ok", "many", "", "", "daily tokens"},
		{"ok", "", "2,50", "", "daily USD"},
		{"ok", "", "", "-1", "expires"},
	} {
		if _, err := clientSpecOf(tc.name, "", "", tc.tokens, tc.usd, tc.days); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("clientSpecOf(%+v) = %v, want an error about %s", tc, err, tc.want)
		}
	}
}

// fakeRunner records the prompt runs.
type fakeRunner struct {
	mu   sync.Mutex
	vars map[string]string
}

func (f *fakeRunner) RunPrompt(name string, vars map[string]string) (proxy.PromptResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vars = vars
	in, out := int64(12), int64(5)
	return proxy.PromptResult{Output: "Bonjour Ada", CallID: "01KTESTCALL", Usage: proxy.PromptUsage{InputTokens: &in, OutputTokens: &out}}, nil
}

// TestPromptsScreen: a prompt made in the screen lands in config.toml with
// its comments kept, gets an entry per variable, and runs.
func TestPromptsScreen(t *testing.T) {
	e := newTestEnv(t)
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("# my own notes\nlisten = \"127.0.0.1:8765\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	cf := ConfigFile{Path: path, Config: func() *config.Config { mu.Lock(); defer mu.Unlock(); return cfg },
		Apply: func(c *config.Config) { mu.Lock(); cfg = c; mu.Unlock() }}
	run := &fakeRunner{}
	e.b.Prompts = PromptFile{ConfigFile: cf, Runner: run}
	a := newTestApp(t, e)
	a.ShowTab(TabPrompts)
	s := a.prompts

	s.name.SetText("greet")
	s.model.SetText("gpt-4o")
	s.system.SetText("Answer in {{lang}}.")
	s.template.SetText("Greet {{name}}.")
	s.temperature.SetText("0.3")
	if len(s.varEntries) != 2 || s.varEntries["lang"] == nil || s.varEntries["name"] == nil {
		t.Fatalf("variable entries %v, want lang and name", s.varEntries)
	}
	test.Tap(buttonIn(t, s.content, "Save"))
	pump(t, "saved", func() bool { return strings.HasPrefix(s.status.Text, "Saved") })
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "# my own notes") || !strings.Contains(string(b), "[[prompt]]") || !strings.Contains(string(b), `template = "Greet {{name}}."`) {
		t.Errorf("config after Save:\n%s", b)
	}
	if len(s.prompts) != 1 || s.prompts[0].Temperature == nil || *s.prompts[0].Temperature != 0.3 {
		t.Errorf("prompts in force %+v", s.prompts)
	}
	s.varEntries["name"].SetText("Ada")
	s.varEntries["lang"].SetText("French")
	test.Tap(s.run)
	pump(t, "the output", func() bool { return s.output.Text == "Bonjour Ada" })
	run.mu.Lock()
	if run.vars["name"] != "Ada" || run.vars["lang"] != "French" {
		t.Errorf("ran with %v", run.vars)
	}
	run.mu.Unlock()
	if !strings.Contains(s.usage.Text, "12 tokens in, 5 out") || s.showCall.Disabled() {
		t.Errorf("usage %q, Show in History disabled %v", s.usage.Text, s.showCall.Disabled())
	}
}

// buttonIn finds the button labelled text under o.
func buttonIn(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, c := range test.LaidOutObjects(o) {
		if b, ok := c.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q", text)
	return nil
}

func TestLANURLs(t *testing.T) {
	if got := lanURLs("127.0.0.1:8765", false); got != nil {
		t.Errorf("loopback listener: %v, want none", got)
	}
	if got := lanURLs("10.1.2.3:8765", true); len(got) != 1 || got[0] != "https://10.1.2.3:8765" {
		t.Errorf("one address with TLS: %v", got)
	}
	for _, u := range lanURLs("0.0.0.0:8765", false) {
		if !strings.HasPrefix(u, "http://") || strings.Contains(u, "127.0.0.1") || strings.Contains(u, "[") {
			t.Errorf("every IPv4 interface: %s", u)
		}
	}
}

// TestSharingSwitch: "Share on the local network" moves listen to every
// interface with allow_remote, and back; while shared without TLS the URLs
// to give out come with a warning.
func TestSharingSwitch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("# mine\nlisten = \"127.0.0.1:9999\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cf := ConfigFile{Path: path, Config: func() *config.Config { return cfg }, Apply: func(c *config.Config) { cfg = c }}
	if err := cf.SetSharing(true); err != nil {
		t.Fatal(err)
	}
	if !cfg.AllowRemote || cfg.Listen != "0.0.0.0:9999" {
		t.Errorf("sharing on: listen %s, allow_remote %v", cfg.Listen, cfg.AllowRemote)
	}
	if err := cf.SetSharing(false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if cfg.AllowRemote || cfg.Listen != "127.0.0.1:9999" || !strings.Contains(string(b), "# mine") {
		t.Errorf("sharing off: listen %s, allow_remote %v\n%s", cfg.Listen, cfg.AllowRemote, b)
	}

	e := newTestEnv(t)
	e.proxy.addr = "10.1.2.3:8765"
	a := newTestApp(t, e)
	info := strings.Join(labels(newLANInfo(a)), "\n")
	if !strings.Contains(info, "http://10.1.2.3:8765/v1") || !strings.Contains(info, "Without TLS") {
		t.Errorf("LAN info %q, want the URL and the TLS warning", info)
	}
	if got := a.openAIBase(); got != "http://10.1.2.3:8765/v1" {
		t.Errorf("local base %s", got)
	}
}
