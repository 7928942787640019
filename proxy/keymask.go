package proxy

import "strings"

// MaskKey shows enough of a secret to recognise it and never enough to use it: the
// prefix up to its first "-" (at most 7 bytes, e.g. "sk-") and the last 4
// characters, as in "sk-…abcd". Secrets under 12 bytes show only "…" and the last 2.
func MaskKey(secret string) string {
	if secret == "" {
		return ""
	}
	if len(secret) < 12 {
		if len(secret) < 6 {
			return "…"
		}
		return "…" + secret[len(secret)-2:]
	}
	prefix := ""
	if i := strings.IndexByte(secret, '-'); i > 0 && i < 7 {
		prefix = secret[:i+1]
	}
	return prefix + "…" + secret[len(secret)-4:]
}
