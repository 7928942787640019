package config

import "fmt"

// AddPrompt appends a [[prompt]] table for p at the end of src, with the
// fields p sets. A prompt of that name already in src is an error.
func AddPrompt(src []byte, p Prompt) ([]byte, error) {
	if !ValidName(p.Name) {
		return nil, fmt.Errorf("prompt name %q must match [a-z0-9-]+", p.Name)
	}
	d := scan(src)
	if _, ok := d.entry("prompt", p.Name); ok {
		return nil, fmt.Errorf("prompt %q is already in the config file", p.Name)
	}
	out := []string{"[[prompt]]"}
	for _, kv := range PromptValues(p) {
		if kv.Value == nil {
			continue
		}
		v, err := encodeValue(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("prompt %s: %s: %w", p.Name, kv.Key, err)
		}
		out = append(out, kv.Key+" = "+v)
	}
	return d.appendBlock(out), nil
}

// KeyValue is one key of a table and its value; a nil Value removes the key.
type KeyValue struct {
	Key   string
	Value any
}

// PromptValues lists p's keys in file order, unset ones as nil: AddPrompt
// writes the set ones, and an edit sets each with SetValue (a cleared field
// leaves the file).
func PromptValues(p Prompt) []KeyValue {
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var temp, maxTok any
	if p.Temperature != nil {
		temp = *p.Temperature
	}
	if p.MaxTokens > 0 {
		maxTok = p.MaxTokens
	}
	return []KeyValue{
		{"name", p.Name}, {"model", p.Model}, {"system", orNil(p.System)}, {"template", p.Template},
		{"temperature", temp}, {"max_tokens", maxTok},
		{"response_format", orNil(p.ResponseFormat)}, {"json_schema", orNil(p.JSONSchema)},
	}
}

// RemovePrompt removes the [[prompt]] table named name and the comment lines
// directly above it.
func RemovePrompt(src []byte, name string) ([]byte, error) {
	d := scan(src)
	sec, ok := d.entry("prompt", name)
	if !ok {
		return nil, fmt.Errorf("prompt %q: %w", name, ErrNotInFile)
	}
	return d.remove(sec), nil
}
