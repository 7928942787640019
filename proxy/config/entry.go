package config

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is a bad value in one field of a provider entry.
type FieldError struct {
	Key   string // the TOML key: name, format, base_url
	Value string
	Err   error
}

func (e *FieldError) Error() string {
	if e.Key == "base_url" {
		return fmt.Sprintf("%s %v", e.Key, e.Err)
	}
	return fmt.Sprintf("%s %q %v", e.Key, e.Value, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// EntryError lists every problem of a provider entry (CheckEntry).
type EntryError []*FieldError

func (e EntryError) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Error()
	}
	return strings.Join(parts, "; ")
}

// CheckEntry checks what the command line and the providers screen let a user
// write as a [[provider]] entry: a valid name, format and base URL. It returns
// nil or an EntryError holding every problem, so one answer can list them all.
func (p *Provider) CheckEntry() error {
	var errs EntryError
	if !ValidName(p.Name) {
		errs = append(errs, &FieldError{Key: "name", Value: p.Name, Err: errors.New("must match [a-z0-9-]+ (lowercase letters, digits and dashes)")})
	}
	if !p.Format.Valid() {
		errs = append(errs, &FieldError{Key: "format", Value: string(p.Format), Err: errors.New("must be openai, anthropic or gemini")})
	}
	if err := ValidBaseURL(p.BaseURL); err != nil {
		errs = append(errs, &FieldError{Key: "base_url", Value: p.BaseURL, Err: err})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}
