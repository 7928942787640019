package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// userFile is a hand-written config with the comments, odd spacing, multi-line
// arrays and subtables that an edit must leave alone.
const userFile = `# My Gatehouse config.
listen = "127.0.0.1:8765"   # keep this port

[retry]
attempts = 3 # tries
on_status = [
  429,  # rate limits
  503,
]

# Work gateway, signs every call.
[[provider]]
name = "corp"          # internal
format = "openai"
base_url = "https://llm.corp.example/v1"
auth = "aksk"

[provider.auth_options]
access_key_header = "X-Ca-Key"

# A local box.
[[provider]]
name = 'box'
format = "openai"
base_url = "http://127.0.0.1:9000/v1"
models = ["box-*",
  "tiny-*"]   # both

[[route]]
model = "fast"
targets = ["box/tiny-1"]
`

func TestAddProvider(t *testing.T) {
	out, err := AddProvider([]byte(userFile), Provider{
		Name: "mygw", Format: FormatAnthropic, BaseURL: "https://gw.example/v1",
		Models: []string{"claude-*"}, KeyEnv: "MYGW_KEY", Auth: "basic",
		AuthOptions: AuthOptions{User: "alice", Lifetime: Duration{2 * time.Minute}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := userFile + `
[[provider]]
name = "mygw"
format = "anthropic"
base_url = "https://gw.example/v1"
models = ["claude-*"]
key_env = "MYGW_KEY"
auth = "basic"

[provider.auth_options]
user = "alice"
lifetime = "2m0s"
`
	if string(out) != want {
		t.Fatalf("AddProvider got:\n%s\nwant:\n%s", out, want)
	}
	c, err := Parse(out, "config.toml")
	if err != nil {
		t.Fatalf("the result does not parse: %v", err)
	}
	p, ok := c.Provider("mygw")
	if !ok || p.AuthOptions.User != "alice" || p.AuthOptions.Lifetime.Duration != 2*time.Minute || p.Format != FormatAnthropic {
		t.Fatalf("parsed provider %+v", p)
	}
	if _, err := AddProvider(out, Provider{Name: "mygw"}); err == nil {
		t.Fatal("adding a provider twice succeeded")
	}
	if _, err := AddProvider(out, Provider{Name: "Bad Name"}); err == nil {
		t.Fatal("a bad name was accepted")
	}
	empty, err := AddProvider(nil, Provider{Name: "x", Format: FormatOpenAI, BaseURL: "http://127.0.0.1:1/v1"})
	if err != nil || string(empty) != "[[provider]]\nname = \"x\"\nformat = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\n" {
		t.Fatalf("AddProvider(empty file) = %q, %v", empty, err)
	}
}

func TestRemoveProvider(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"corp", strings.Replace(userFile, `# Work gateway, signs every call.
[[provider]]
name = "corp"          # internal
format = "openai"
base_url = "https://llm.corp.example/v1"
auth = "aksk"

[provider.auth_options]
access_key_header = "X-Ca-Key"

`, "", 1)},
		{"box", strings.Replace(userFile, `# A local box.
[[provider]]
name = 'box'
format = "openai"
base_url = "http://127.0.0.1:9000/v1"
models = ["box-*",
  "tiny-*"]   # both

`, "", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := RemoveProvider([]byte(userFile), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Fatalf("RemoveProvider(%s) got:\n%s\nwant:\n%s", tt.name, out, tt.want)
			}
		})
	}
	if _, err := RemoveProvider([]byte(userFile), "openai"); !errors.Is(err, ErrNotInFile) {
		t.Fatalf("removing a provider not in the file: %v, want ErrNotInFile", err)
	}
	// Last table of the file: no trailing blank line is left behind.
	src := "listen = \"127.0.0.1:1\"\n\n[[provider]]\nname = \"x\"\nformat = \"openai\"\nbase_url = \"http://127.0.0.1:2/v1\"\n"
	out, err := RemoveProvider([]byte(src), "x")
	if err != nil || string(out) != "listen = \"127.0.0.1:1\"\n" {
		t.Fatalf("RemoveProvider(last) = %q, %v", out, err)
	}
}

func TestSetValue(t *testing.T) {
	tests := []struct {
		name    string
		section Section
		key     string
		value   any
		old     string // the text replaced in userFile
		new     string
	}{
		{"replace keeps comment", Section{Table: "retry"}, "attempts", 5,
			"attempts = 3 # tries", "attempts = 5 # tries"},
		{"replace multi-line array", Section{Table: "retry"}, "on_status", []int{500},
			"on_status = [\n  429,  # rate limits\n  503,\n]", "on_status = [500]"},
		{"add to table after last key", Section{Table: "retry"}, "base_delay", Duration{time.Second},
			"  503,\n]\n", "  503,\n]\nbase_delay = \"1s\"\n"},
		{"top level replace", Section{}, "listen", "127.0.0.1:9999",
			`listen = "127.0.0.1:8765"   # keep`, `listen = "127.0.0.1:9999"   # keep`},
		{"top level add", Section{}, "allow_remote", true,
			"# keep this port\n", "# keep this port\nallow_remote = true\n"},
		{"provider key replace, literal-string name", Section{Provider: "box"}, "base_url", "http://127.0.0.1:9001/v1",
			`base_url = "http://127.0.0.1:9000/v1"`, `base_url = "http://127.0.0.1:9001/v1"`},
		{"provider key add after multi-line value", Section{Provider: "box"}, "key_env", "BOX_KEY",
			"  \"tiny-*\"]   # both\n", "  \"tiny-*\"]   # both\nkey_env = \"BOX_KEY\"\n"},
		{"provider subtable", Section{Provider: "corp", Table: "auth_options"}, "timestamp_header", "X-Ca-Time",
			"access_key_header = \"X-Ca-Key\"\n", "access_key_header = \"X-Ca-Key\"\ntimestamp_header = \"X-Ca-Time\"\n"},
		{"new subtable", Section{Provider: "box", Table: "auth_options"}, "header", "X-Box",
			"  \"tiny-*\"]   # both\n", "  \"tiny-*\"]   # both\n\n[provider.auth_options]\nheader = \"X-Box\"\n"},
		{"remove key", Section{Provider: "corp"}, "auth", nil,
			"auth = \"aksk\"\n", ""},
		{"string with # and quotes", Section{Provider: "corp"}, "key_check", `/models?x="#"`,
			"auth = \"aksk\"\n", "auth = \"aksk\"\nkey_check = \"/models?x=\\\"#\\\"\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(userFile, tt.old) {
				t.Fatalf("bad test: %q not in userFile", tt.old)
			}
			out, err := SetValue([]byte(userFile), tt.section, tt.key, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Replace(userFile, tt.old, tt.new, 1)
			if string(out) != want {
				t.Fatalf("SetValue got:\n%s\nwant:\n%s", out, want)
			}
			if _, err := Parse(out, "config.toml"); err != nil {
				t.Fatalf("the result does not parse: %v", err)
			}
		})
	}
}

func TestSetValueMissingTables(t *testing.T) {
	out, err := SetValue([]byte("# only a comment\n"), Section{Table: "history"}, "max_size_mb", 64)
	if err != nil || string(out) != "# only a comment\n\n[history]\nmax_size_mb = 64\n" {
		t.Fatalf("new table: %q, %v", out, err)
	}
	// Overriding a preset that the file does not mention.
	out, err = SetValue(nil, Section{Provider: "openai"}, "base_url", "https://proxy.example/v1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(out, "config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Provider("openai"); p.BaseURL != "https://proxy.example/v1" || p.KeyEnv != "OPENAI_API_KEY" {
		t.Fatalf("override: %+v", p)
	}
	out, err = SetValue([]byte("# top comment\n\n# retry policy\n[retry]\nattempts = 2\n"), Section{}, "listen", "127.0.0.1:1")
	if err != nil || string(out) != "# top comment\n\nlisten = \"127.0.0.1:1\"\n\n# retry policy\n[retry]\nattempts = 2\n" {
		t.Fatalf("top-level key before first table: %q, %v", out, err)
	}
	if _, err := SetValue(nil, Section{}, "a.b", 1); err == nil {
		t.Fatal("dotted key accepted")
	}
}

func TestEditFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(userFile), 0o640); err != nil {
		t.Fatal(err)
	}
	err := EditFile(path, func(src []byte) ([]byte, error) { return RemoveProvider(src, "box") })
	if err == nil || !strings.Contains(err.Error(), "box") {
		// The route "fast" still targets box: the edit must be refused whole.
		t.Fatalf("removing a provider a route uses: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != userFile {
		t.Fatal("a refused edit changed the file")
	}
	if err := EditFile(path, func(src []byte) ([]byte, error) { return SetValue(src, Section{Table: "retry"}, "attempts", 4) }); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil || c.Retry.Attempts != 4 {
		t.Fatalf("after edit: %v, attempts %d", err, c.Retry.Attempts)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode changed to %v", fi.Mode().Perm())
	}
	fresh := filepath.Join(t.TempDir(), "sub", "config.toml")
	if err := EditFile(fresh, func(src []byte) ([]byte, error) {
		return AddProvider(src, Provider{Name: "x", Format: FormatOpenAI, BaseURL: "http://127.0.0.1:1/v1"})
	}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v", err)
	}
}

func FuzzSetValue(f *testing.F) {
	f.Add([]byte(userFile), "retry", "attempts")
	f.Add([]byte("a = \"\"\"\n[x]\n\"\"\"\n"), "", "b")
	f.Add([]byte("x = [\n'[y]',\n]\n[t]\n"), "t", "k")
	f.Fuzz(func(t *testing.T, src []byte, table, key string) {
		if _, err := Parse(src, "f.toml"); err != nil {
			return
		}
		out, err := SetValue(src, Section{Table: table}, key, 7)
		if err != nil {
			return
		}
		// Whatever the file looked like, a valid file stays valid TOML.
		if _, err := Parse(out, "f.toml"); err != nil && !strings.Contains(err.Error(), "unknown field") && !strings.Contains(err.Error(), "attempts") {
			t.Fatalf("SetValue(%q, %q) broke the file:\n%s\n%v", table, key, out, err)
		}
	})
}

// TestAddProviderWritesOptionalBools: a provider that sets api and responses
// (a *bool) is written and read back as set.
func TestAddProviderWritesOptionalBools(t *testing.T) {
	no := false
	out, err := AddProvider(nil, Provider{Name: "oairesp", Format: FormatOpenAI, BaseURL: "https://api.openai.com/v1", API: "responses", Responses: &no})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(out, "config.toml")
	if err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	p, _ := c.Provider("oairesp")
	if p.API != "responses" || p.Responses == nil || *p.Responses || !strings.Contains(string(out), "responses = false") {
		t.Errorf("read back api %q responses %v from:\n%s", p.API, p.Responses, out)
	}
}
