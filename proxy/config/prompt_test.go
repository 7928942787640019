package config

import (
	"errors"
	"strings"
	"testing"
)

func TestPromptParseAndRender(t *testing.T) {
	c, err := Parse([]byte(`
[[prompt]]
name = "greet"
model = "gpt-4o"
system = "Answer in {{ lang }}."
template = "Greet {{name}} in {{lang}}."
`), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Prompt("greet")
	if !ok {
		t.Fatal("no prompt greet")
	}
	if got := strings.Join(p.Variables(), ","); got != "lang,name" {
		t.Errorf("Variables() = %s, want lang,name", got)
	}
	if got := p.Missing(map[string]string{"name": "Ada"}); len(got) != 1 || got[0] != "lang" {
		t.Errorf("Missing = %v, want [lang]", got)
	}
	sys, user := p.Render(map[string]string{"name": "Ada", "lang": "French"})
	if sys != "Answer in French." || user != "Greet Ada in French." {
		t.Errorf("Render = %q, %q", sys, user)
	}
}

func TestPromptErrorsAreLocated(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"[[prompt]]\nname = \"a\"\nmodel = \"m\"\n", "c.toml:1: prompt[0].template: must not be empty"},
		{"[[prompt]]\nname = \"a\"\nmodel = \"m\"\ntemplate = \"x\"\nresponse_format = \"yaml\"\n", "c.toml:5: prompt[0].response_format"},
		{"[[prompt]]\nname = \"a\"\nmodel = \"m\"\ntemplate = \"x\"\n[[prompt]]\nname = \"a\"\nmodel = \"m\"\ntemplate = \"y\"\n", "c.toml:6: prompt[1].name: prompt \"a\" is defined twice"},
		{"[[prompt]]\nname = \"a\"\nmodel = \"prompt/b\"\ntemplate = \"x\"\n", "prompt[0].model"},
		{"tls_cert = \"x.pem\"\n", "tls_key"},
		{"allow_hosts = [\"host:80\"]\n", "allow_hosts"},
	} {
		_, err := Parse([]byte(tc.src), "c.toml")
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
}

// TestPromptEditsKeepComments: the prompts screen adds, changes and removes
// [[prompt]] tables in place.
func TestPromptEditsKeepComments(t *testing.T) {
	src := []byte("# my config\nlisten = \"127.0.0.1:8765\"\n\n# the greeter\n[[prompt]]\nname = \"greet\" # keep me\nmodel = \"gpt-4o\"\ntemplate = \"Hi {{input}}\"\n")
	temp := 0.5
	out, err := AddPrompt(src, Prompt{Name: "sum", Model: "smart", Template: "Sum up:\n{{input}}", Temperature: &temp})
	if err != nil {
		t.Fatal(err)
	}
	out, err = SetValue(out, Section{Prompt: "greet"}, "model", "claude-sonnet-4-5")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(out, "c.toml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if p, _ := c.Prompt("greet"); p.Model != "claude-sonnet-4-5" {
		t.Errorf("greet model %q", p.Model)
	}
	if p, ok := c.Prompt("sum"); !ok || p.Template != "Sum up:\n{{input}}" || *p.Temperature != 0.5 {
		t.Errorf("sum = %+v", p)
	}
	if !strings.Contains(string(out), "# my config") || !strings.Contains(string(out), `name = "greet" # keep me`) {
		t.Errorf("comments lost:\n%s", out)
	}
	out, err = RemovePrompt(out, "greet")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "greet") || !strings.Contains(string(out), "# my config") || !strings.Contains(string(out), `name = "sum"`) {
		t.Errorf("after RemovePrompt:\n%s", out)
	}
	if _, err := RemovePrompt(out, "greet"); !errors.Is(err, ErrNotInFile) {
		t.Errorf("removing it again: %v", err)
	}
}
