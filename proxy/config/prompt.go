package config

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// PromptModelPrefix is what a model name starts with to call a prompt
// endpoint from any client format: "prompt/NAME".
const PromptModelPrefix = "prompt/"

// InputVariable is the variable a client's last user message fills when a
// prompt is called as the model "prompt/NAME".
const InputVariable = "input"

// Prompt is a prompt endpoint: a model, a system prompt and a template whose
// {{variable}} placeholders callers fill, with optional parameters.
type Prompt struct {
	// Name is [a-z0-9-]+: the model "prompt/NAME" and POST /v1/prompts/NAME.
	Name string `toml:"name"`
	// Model is any model or route the proxy routes ("gpt-4.1-mini", "smart").
	Model string `toml:"model"`
	// System is the system prompt; it may hold placeholders too. Default none.
	System string `toml:"system"`
	// Template is the user message, with {{variable}} placeholders.
	Template string `toml:"template"`
	// Temperature and MaxTokens are sent when set (nil / 0: the model's default).
	Temperature *float64 `toml:"temperature"`
	MaxTokens   int      `toml:"max_tokens"`
	// ResponseFormat is "" (text), "json_object" or "json_schema" (with
	// JSONSchema, a JSON Schema as JSON text).
	ResponseFormat string `toml:"response_format"`
	JSONSchema     string `toml:"json_schema"`

	// fileIndex is the entry's position among the file's [[prompt]] tables.
	fileIndex int
}

// placeholder matches {{name}}, spaces inside the braces allowed.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}`)

// Variables lists the placeholders of the system prompt and the template,
// each once, in order of appearance.
func (p *Prompt) Variables() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(p.System+"\n"+p.Template, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// Missing lists the variables vars does not give, in order.
func (p *Prompt) Missing(vars map[string]string) []string {
	var out []string
	for _, v := range p.Variables() {
		if _, ok := vars[v]; !ok {
			out = append(out, v)
		}
	}
	return out
}

// Render fills the placeholders of the system prompt and the template from
// vars; a variable vars lacks becomes "" (check Missing first).
func (p *Prompt) Render(vars map[string]string) (system, user string) {
	fill := func(s string) string {
		return placeholder.ReplaceAllStringFunc(s, func(m string) string {
			return vars[placeholder.FindStringSubmatch(m)[1]]
		})
	}
	return fill(p.System), fill(p.Template)
}

// Prompt returns the prompt named name.
func (c *Config) Prompt(name string) (*Prompt, bool) {
	for i := range c.Prompts {
		if c.Prompts[i].Name == name {
			return &c.Prompts[i], true
		}
	}
	return nil, false
}

// CheckPrompt checks one prompt as the prompts screen lets a user write it.
func (p *Prompt) CheckPrompt() error {
	_, err := p.check()
	return err
}

// check returns the key of the first bad field and why.
func (p *Prompt) check() (string, error) {
	switch {
	case !ValidName(p.Name):
		return "name", fmt.Errorf("%q must match [a-z0-9-]+", p.Name)
	case strings.TrimSpace(p.Model) == "":
		return "model", fmt.Errorf("must name a model or route")
	case strings.HasPrefix(p.Model, PromptModelPrefix):
		return "model", fmt.Errorf("%q: a prompt cannot call another prompt", p.Model)
	case strings.TrimSpace(p.Template) == "":
		return "template", fmt.Errorf("must not be empty (use {{input}} for the caller's text)")
	case p.Temperature != nil && (*p.Temperature < 0 || *p.Temperature > 2):
		return "temperature", fmt.Errorf("must be between 0 and 2")
	case p.MaxTokens < 0:
		return "max_tokens", fmt.Errorf("must not be negative")
	}
	switch p.ResponseFormat {
	case "", "text", "json_object":
		if p.JSONSchema != "" {
			return "json_schema", fmt.Errorf(`needs response_format = "json_schema"`)
		}
	case "json_schema":
		var v map[string]any
		if err := json.Unmarshal([]byte(p.JSONSchema), &v); err != nil {
			return "json_schema", fmt.Errorf("must be a JSON object (a JSON Schema): %v", err)
		}
	default:
		return "response_format", fmt.Errorf("%q is not one of text, json_object, json_schema", p.ResponseFormat)
	}
	return "", nil
}

func (c *Config) validatePrompts() error {
	seen := map[string]bool{}
	for i := range c.Prompts {
		p := &c.Prompts[i]
		p.fileIndex = i
		if key, err := p.check(); err != nil {
			return &fieldError{table: "prompt", index: i, key: key, msg: err.Error()}
		}
		if seen[p.Name] {
			return &fieldError{table: "prompt", index: i, key: "name", msg: fmt.Sprintf("prompt %q is defined twice", p.Name)}
		}
		seen[p.Name] = true
	}
	return nil
}
