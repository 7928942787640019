package store

import (
	"bytes"
	"net/url"
	"strings"
)

// secretHeaders are redacted by exact name (issue 3); sensitiveHeaderParts
// catch the rest by substring.
var (
	secretHeaders        = []string{"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "set-cookie", "proxy-authorization"}
	sensitiveHeaderParts = []string{"auth", "key", "token", "secret", "cookie", "signature", "credential", "password"}
)

// minSecretLen keeps a too-short "secret" from redacting ordinary text.
const minSecretLen = 8

// sensitiveHeader reports whether a header's value must never be stored.
func sensitiveHeader[T string | []byte](name T) bool {
	// Lower-case ASCII into a stack buffer: the writer checks every header of
	// every call, and strings.ToLower allocates for each "Content-Type".
	var buf [64]byte
	var n string
	if len(name) <= len(buf) {
		for i := 0; i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		n = string(buf[:len(name)]) // does not escape: no allocation
	} else {
		n = strings.ToLower(string(name))
	}
	for _, h := range secretHeaders {
		if n == h {
			return true
		}
	}
	for _, p := range sensitiveHeaderParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// redactor removes secrets from what is about to be written. The writer owns
// it: it is not safe for concurrent use.
type redactor struct {
	secrets []secret
	// names caches sensitiveHeader's verdict by header name as written: the
	// same few dozen names come with every call (issue 12).
	names map[string]bool
}

// maxCachedNames bounds names against a client that invents header names.
const maxCachedNames = 512

func newRedactor(secrets []string) *redactor {
	r := &redactor{names: make(map[string]bool)}
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			r.secrets = append(r.secrets, newSecret(s))
		}
	}
	return r
}

// sensitive is sensitiveHeader through the cache.
func (r *redactor) sensitive(name []byte) bool {
	if v, ok := r.names[string(name)]; ok {
		return v
	}
	v := sensitiveHeader(name)
	if len(r.names) < maxCachedNames {
		r.names[string(name)] = v
	}
	return v
}

// contains reports whether b holds any literal secret.
func (r *redactor) contains(b []byte) bool {
	for _, s := range r.secrets {
		if s.in(b) {
			return true
		}
	}
	return false
}

// bytes replaces every literal secret in b; it returns b itself when there is none.
func (r *redactor) bytes(b []byte) []byte {
	for _, s := range r.secrets {
		if s.in(b) {
			b = bytes.ReplaceAll(b, s.b, []byte(Redacted))
		}
	}
	return b
}

// string replaces every literal secret in s.
func (r *redactor) string(s string) string {
	for _, sec := range r.secrets {
		if strings.Contains(s, sec.s) {
			s = strings.ReplaceAll(s, sec.s, Redacted)
		}
	}
	return s
}

// url redacts the values of secret-looking query parameters (?key=) and
// literal secrets.
func (r *redactor) url(raw string) string {
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		params := strings.Split(raw[i+1:], "&")
		for j, p := range params {
			name, _, _ := strings.Cut(p, "=")
			if n, err := url.QueryUnescape(name); err == nil && sensitiveHeader(n) || err != nil {
				params[j] = name + "=" + Redacted
			}
		}
		raw = raw[:i+1] + strings.Join(params, "&")
	}
	return r.string(raw)
}

// tail redacts a cut-off secret at the end of a truncated body: a cap may have
// cut a key in the middle, leaving its first bytes.
func (r *redactor) tail(b []byte) []byte {
	for _, sec := range r.secrets {
		s := sec.b
		for n := len(s) - 1; n >= 4; n-- {
			if bytes.HasSuffix(b, s[:n]) {
				return append(b[:len(b)-n:len(b)-n], Redacted...)
			}
		}
	}
	return b
}

// summary redacts every text field of a call's summary.
func (r *redactor) summary(c *Call) {
	c.Path = r.url(c.Path)
	c.Error = r.string(c.Error)
	c.ClientUA = r.string(c.ClientUA)
	for i := range c.Attempts {
		a := &c.Attempts[i]
		a.URL = r.url(a.URL)
		a.Error = r.string(a.Error)
	}
}
