package ui

import (
	"strings"

	"github.com/gatehouse/gatehouse/proxy"
)

// keyHeaders are request headers that carry a credential: they are replaced by
// a placeholder, never copied (history has redacted them anyway).
var keyHeaders = map[string]bool{
	"authorization": true, "x-api-key": true, "x-goog-api-key": true, "api-key": true,
	"proxy-authorization": true, "cookie": true,
}

// skipHeaders are set by curl itself or only make sense on the original connection.
var skipHeaders = map[string]bool{
	"host": true, "content-length": true, "connection": true, "keep-alive": true,
	"transfer-encoding": true, "accept-encoding": true, "te": true, "upgrade": true,
	"proxy-connection": true, "trailer": true,
}

// secretish reports whether a header name suggests a secret.
func secretish(name string) bool {
	n := strings.ToLower(name)
	if keyHeaders[n] {
		return true
	}
	for _, w := range []string{"auth", "key", "token", "secret", "cookie", "signature", "credential", "password"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// authPlaceholder is the header a client of format would send its key in, with
// an environment variable in place of the key.
func authPlaceholder(format string) string {
	switch format {
	case "anthropic":
		return "x-api-key: $ANTHROPIC_API_KEY"
	case "gemini":
		return "x-goog-api-key: $GEMINI_API_KEY"
	}
	return "Authorization: Bearer $OPENAI_API_KEY"
}

// CurlCommand rebuilds c's request as a curl command against the proxy at addr
// (host:port). Credentials become `$OPENAI_API_KEY`-style placeholders (the proxy
// injects the real key anyway); no header that may hold a secret is copied.
func CurlCommand(c *proxy.Call, addr string) string {
	var b strings.Builder
	b.WriteString("curl")
	if c.Method != "" && c.Method != "POST" && c.Method != "GET" {
		b.WriteString(" -X " + c.Method)
	}
	b.WriteString(" " + shellQuote("http://"+addr+c.Path))
	b.WriteString(" \\\n  -H \"" + authPlaceholder(c.InboundFormat) + "\"")
	for _, h := range c.Request.Headers {
		n := strings.ToLower(h.Name)
		if skipHeaders[n] || secretish(h.Name) {
			continue
		}
		b.WriteString(" \\\n  -H " + shellQuote(h.Name+": "+h.Value))
	}
	if len(c.Request.Body) > 0 {
		b.WriteString(" \\\n  --data-binary " + shellQuote(string(c.Request.Body)))
	}
	if c.Stream {
		b.WriteString(" \\\n  --no-buffer")
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell: 'it'\”s'.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
